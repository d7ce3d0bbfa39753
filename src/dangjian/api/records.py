"""Orgs, ledger types and records: read through `access` exactly as the web pages read them, written through the
record service (`records.services`) exactly as the web form writes them."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status

from dangjian.audit.log import Action, record
from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.records import counts, services
from dangjian.records.forms import RecordFilter
from dangjian.records.models import Attachment, LedgerType, Record
from dangjian.records.views import listed_records

from . import schemas as s
from .auth import account
from .errors import Problem, item, place
from .paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_of, page_of_records

router = Router(tags=["组织与台账"])
MAX_BATCH = 1000
ERRORS = {400: s.ErrorOut, 401: s.ErrorOut, 403: s.ErrorOut, 404: s.ErrorOut}

PageNo = Query(1, ge=1, description="页码，从 1 起")
PageSize = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"每页条数，最多 {MAX_PAGE_SIZE}")


# --- access helpers (the same calls as records/views.py makes) ----------------------------------------------------


def ledger_for(user: Any, code: str) -> LedgerType:
    """A ledger whose rows the account may see; 404 for others (confidential ones for non-members). The same
    answer as `Scope.ledger_types`, asked of this one ledger only (no question about every confidential one)."""
    lt = get_object_or_404(LedgerType.objects.filter(is_active=True).prefetch_related("fields"), code=code)
    if not access.scope(user).sees_rows(lt):
        raise Http404
    return lt


def record_for(user: Any, lt: LedgerType, pk: int) -> Record:
    """A record the account may open: a deleted one only for those who may restore it (the web's rule)."""
    qs = access.scope(user).openable(lt, Record.objects.select_related("org", "created_by", "updated_by"))
    found = get_object_or_404(qs, pk=pk)
    found.ledger_type = lt  # reuse the prefetched fields
    return found


def _audit_read(request: HttpRequest, lt: LedgerType, target: str, **detail: Any) -> None:
    """Rows of a confidential ledger were read (only members of its named orgs get this far)."""
    if lt.confidential:
        record(Action.CONFIDENTIAL_READ, request=request, target=target, ledger=lt.code, via="api", **detail)


# --- orgs --------------------------------------------------------------------------------------------------------


@router.get("/orgs", response={200: s.OrgPage, **ERRORS}, url_name="orgs", summary="组织列表")
def list_orgs(
    request: HttpRequest,
    q: str = Query("", description="按名称、简称或代码查找", max_length=60),
    kind: str = Query("", description="组织类别代码，如 community"),
    under: str = Query("", description="只列该组织（代码）及其下级"),
    page: int = PageNo,
    page_size: int = PageSize,
) -> Any:
    """本账号各角色所在单位及其下级单位，按组织树顺序。"""
    orgs = access.scope(account(request)).orgs().order_by("path").prefetch_related("kinds")
    if q:
        orgs = orgs.filter(Q(name__icontains=q) | Q(short_name__icontains=q) | Q(code__icontains=q))
    if kind:
        orgs = orgs.filter(kinds__code=kind)
    if under:
        top = access.scope(account(request)).orgs().filter(code=under).first()
        if top is None:
            raise Problem(400, f"【under】组织“{under[:60]}”不在您的查看范围内")
        orgs = orgs.filter(path__startswith=top.path)
    rows, numbers = page_of(orgs.distinct(), page, page_size)
    step = Organization.steplen
    parents = dict(
        Organization.objects.filter(path__in={o.path[:-step] for o in rows if o.depth > 1}).values_list(
            "path", "code"
        )
    )
    return {**numbers, "results": [s.org_out(o, parents) for o in rows]}


# --- ledger types --------------------------------------------------------------------------------------------------


@router.get("/ledgers", response={200: s.LedgerPage, **ERRORS}, url_name="ledgers", summary="台账列表")
def list_ledgers(
    request: HttpRequest,
    category: str = Query("", description="类别，如 思想建设"),
    page: int = PageNo,
    page_size: int = PageSize,
) -> Any:
    """本账号能看到明细的台账（涉密台账只对指定单位的成员列出），含字段定义和可见记录数。"""
    scope = access.scope(account(request))
    ledgers = scope.ledger_types(LedgerType.objects.filter(is_active=True))
    if category:
        ledgers = ledgers.filter(category=category)
    rows, numbers = page_of(ledgers.prefetch_related("fields"), page, page_size)
    results = [s.ledger_out(lt, counts.count(scope.records(lt, Record.objects.all()))) for lt in rows]
    return {**numbers, "results": results}


@router.get(
    "/ledgers/{slug:code}", response={200: s.LedgerOut, **ERRORS}, url_name="ledger", summary="台账定义"
)
def get_ledger(request: HttpRequest, code: str) -> Any:
    """一个台账的字段（代码、名称、类型、是否必填、可选项、上下限、单位、是否敏感）和清单流程状态。"""
    lt = ledger_for(account(request), code)
    return s.ledger_out(lt, counts.count(access.scope(account(request)).records(lt, Record.objects.all())))


# --- records -------------------------------------------------------------------------------------------------------


@router.get(
    "/ledgers/{slug:code}/records",
    response={200: s.RecordPage, **ERRORS},
    url_name="records",
    summary="记录列表",
)
def list_records(
    request: HttpRequest,
    code: str,
    org: str = Query("", description="只看该组织（代码）及其下级"),
    date_from: str = Query("", alias="from", description="起始日期，如 2019-01-01"),
    date_to: str = Query("", alias="to", description="截止日期，如 2019-12-31"),
    q: str = Query("", description="在文本、人员字段中查找（敏感字段只对有修改权限者可查）"),
    state: str = Query("", description="清单流程状态，如 待整改"),
    sort: str = Query("-date", description="排序：date、org、status 或字段代码，前加 - 为倒序"),
    deleted: str = Query("", description="1：只看已删除的记录（填报员、审核员、管理员）"),
    page: int = PageNo,
    page_size: int = PageSize,
) -> Any:
    """与网页记录列表相同的筛选：此外可用“字段代码=取值”按单选、多选、是否字段筛选（敏感字段除外）。
    敏感字段对无修改权限者显示为“＊＊”。"""
    user = account(request)
    lt = ledger_for(user, code)
    filters = RecordFilter.from_request(lt, user, request.GET)
    if filters.errors:
        raise Problem(400, "筛选条件有误：" + "；".join(filters.errors), [item(e) for e in filters.errors])
    rows, numbers = page_of_records(listed_records(user, lt, filters), page, page_size)
    _audit_read(
        request,
        lt,
        f"台账 {lt.code} 记录列表",
        page=page,
        rows=len(rows),
        query=request.GET.urlencode()[:300],
    )
    sensitive = s.sensitive_codes(lt)
    return {
        **numbers,
        "ledger": {"code": lt.code, "label": lt.label},
        "results": [s.record_out(user, r, sensitive) for r in rows],
    }


@router.get(
    "/ledgers/{slug:code}/records/{int:pk}",
    response={200: s.RecordDetail, **ERRORS},
    url_name="record",
    summary="一条记录",
)
def get_record(request: HttpRequest, code: str, pk: int) -> Any:
    lt = ledger_for(account(request), code)
    found = record_for(account(request), lt, pk)
    _audit_read(request, lt, f"台账 {lt.code} 记录 {found.pk}")
    return s.record_detail(account(request), lt, found)


def unknown_fields(lt: LedgerType, values: dict[str, Any], row: int | None) -> list[dict[str, Any]]:
    known = {f.code for f in lt.active_fields()}
    return [
        item(
            f"{place(row, code)}不是“{lt.label}”的字段，可用字段：{'、'.join(sorted(known))}",
            row=row,
            field=code,
            label=None,
        )
        for code in values
        if code not in known
    ]


OTHER_LABELS = {"comment": "说明"}  # what a workflow step asks besides the ledger's fields


def service_problems(lt: LedgerType, exc: services.RecordInvalid) -> list[dict[str, Any]]:
    """The write service's problems, each with its row (batches) and field."""
    out = []
    for p in exc.problems:
        spec = lt.field(p.field) if p.field else None
        where = f"第 {p.row} 行：" if p.row is not None else ""
        label = spec.label if spec else OTHER_LABELS.get(p.field)
        out.append(item(f"{where}{p.message}", row=p.row, field=p.field or None, label=label))
    if exc.count > len(exc.problems):
        out.append(item(f"另有 {exc.count - len(exc.problems)} 个问题未列出"))
    return out


def _create(request: HttpRequest, lt: LedgerType, rows: list[s.RecordIn], *, batch: bool) -> list[int]:
    """All rows or none, through the write service (`services.create_records`): every row is checked (its org,
    its fields, the 报送 locks) before anything is written, and every problem is reported with its row and field."""
    user = account(request)

    def number(i: int) -> int | None:
        return i if batch else None

    codes = {r.org for r in rows}
    orgs = {o.code: o for o in access.scope(user).entry_orgs(lt).filter(code__in=codes)}
    refused = [
        item(f"{place(number(i), '填报单位')}您无权为“{r.org[:60]}”填报“{lt.label}”（组织代码不存在或不在您的填报范围内）",
             row=number(i), field="org", label="填报单位")
        for i, r in enumerate(rows, 1)
        if r.org not in orgs
    ]  # fmt: skip
    if refused:
        raise Problem(403, "无权填报，未写入任何记录：" + refused[0]["message"], refused)
    unknown = [p for i, r in enumerate(rows, 1) for p in unknown_fields(lt, r.values, number(i))]
    if unknown:
        raise Problem(400, "数据有误，未写入任何记录：" + unknown[0]["message"], unknown)
    items = [
        services.NewRecord(orgs[r.org], r.values, key=r.key, row=number(i)) for i, r in enumerate(rows, 1)
    ]
    try:
        ids = services.create_records(user, lt, items)
    except services.RecordInvalid as exc:
        problems = service_problems(lt, exc)
        raise Problem(
            400, "数据有误，未写入任何记录：" + "；".join(p["message"] for p in problems[:5]), problems
        ) from None
    record(
        Action.API_WRITE,
        request=request,
        target=f"台账 {lt.code}（{lt.label}）",
        change="新增",
        rows=len(ids),
        ids=ids[:100],
    )
    return ids


@router.post(
    "/ledgers/{slug:code}/records",
    response={201: s.RecordDetail, **ERRORS},
    url_name="records",
    summary="新增一条记录",
)
def create_record(request: HttpRequest, code: str, payload: s.RecordIn) -> Any:
    """校验与网页表单相同（字段类型、必填、上下限、报送锁定等）。出错时返回 400，`errors` 逐项指明字段，不写入。"""
    lt = ledger_for(account(request), code)
    (pk,) = _create(request, lt, [payload], batch=False)
    return Status(201, s.record_detail(account(request), lt, record_for(account(request), lt, pk)))


@router.post(
    "/ledgers/{slug:code}/records/batch",
    response={201: s.BatchOut, **ERRORS},
    url_name="records_batch",
    summary="批量新增记录",
)
def create_records(request: HttpRequest, code: str, payload: s.RecordBatchIn) -> Any:
    """最多 1000 条，全部成功或全部不写入；出错时 `errors` 逐项指明行（从 1 起）和字段。"""
    lt = ledger_for(account(request), code)
    if not payload.records:
        raise Problem(400, "【记录】为必填项：请至少提供一条记录")
    if len(payload.records) > MAX_BATCH:
        raise Problem(400, f"【记录】一次最多 {MAX_BATCH} 条，本次 {len(payload.records)} 条，请分批提交")
    ids = _create(request, lt, payload.records, batch=True)
    return Status(201, {"created": len(ids), "ids": ids})


@router.patch(
    "/ledgers/{slug:code}/records/{int:pk}",
    response={200: s.RecordDetail, 409: s.ErrorOut, **ERRORS},
    url_name="record",
    summary="修改记录",
)
def update_record(request: HttpRequest, code: str, pk: int, payload: s.RecordPatch) -> Any:
    """只需给出要改的字段；其余字段保持原值。与网页修改相同的权限和校验。"""
    user = account(request)
    lt = ledger_for(user, code)
    found = record_for(user, lt, pk)
    if found.is_deleted:
        raise Problem(409, "该记录已删除，请先在网页上恢复后再修改")
    if not access.scope(user).may_change(found):
        raise Problem(403, "您无权修改该记录")
    unknown = unknown_fields(lt, payload.values, None)
    if unknown:
        raise Problem(400, "数据有误，未作修改：" + unknown[0]["message"], unknown)
    before = dict(found.values)
    try:
        services.save_record(user, lt, {**found.values, **payload.values}, record=found)
    except services.RecordLocked as exc:  # 报送: a reviewer above must return the unit's figures first
        raise Problem(409, str(exc), service_problems(lt, exc)) from None
    except services.RecordInvalid as exc:
        problems = service_problems(lt, exc)
        raise Problem(
            400, "数据有误，未作修改：" + "；".join(p["message"] for p in problems), problems
        ) from None
    changed = sorted(k for k in set(before) | set(found.values) if before.get(k) != found.values.get(k))
    record(
        Action.API_WRITE,
        request=request,
        target=f"台账 {lt.code} 记录 {found.pk}",
        change="修改",
        fields=changed,
    )
    return s.record_detail(user, lt, record_for(user, lt, pk))


@router.delete(
    "/ledgers/{slug:code}/records/{int:pk}", response={204: None, 409: s.ErrorOut, **ERRORS}, url_name="record",
    summary="删除记录",
)  # fmt: skip
def delete_record(request: HttpRequest, code: str, pk: int) -> Any:
    """软删除：记录进入“已删除记录”，可在网页上恢复。"""
    user = account(request)
    lt = ledger_for(user, code)
    found = record_for(user, lt, pk)
    if found.is_deleted:
        raise Problem(409, "该记录已删除")
    try:
        services.delete_record(user, found)  # PermissionDenied (403) for 查看者
    except services.RecordInvalid as exc:  # 报送 lock
        raise Problem(409, str(exc), service_problems(lt, exc)) from None
    record(Action.API_WRITE, request=request, target=f"台账 {lt.code} 记录 {found.pk}", change="删除")
    return Status(204, None)


@router.post(
    "/ledgers/{slug:code}/records/{int:pk}/restore",
    response={200: s.RecordDetail, 409: s.ErrorOut, **ERRORS},
    url_name="record_restore",
    summary="恢复已删除的记录",
)
def restore_record(request: HttpRequest, code: str, pk: int) -> Any:
    """已删除的记录只对能修改它的人可见，也只有他们能恢复。"""
    user = account(request)
    lt = ledger_for(user, code)
    found = record_for(user, lt, pk)
    if not found.is_deleted:
        raise Problem(409, "该记录未被删除")
    try:
        services.restore_record(user, found)
    except services.RecordInvalid as exc:  # 报送 lock
        raise Problem(409, str(exc), service_problems(lt, exc)) from None
    record(Action.API_WRITE, request=request, target=f"台账 {lt.code} 记录 {found.pk}", change="恢复")
    return s.record_detail(user, lt, record_for(user, lt, pk))


# --- attachments ---------------------------------------------------------------------------------------------------


@router.get(
    "/attachments/{int:pk}", response={200: None, **ERRORS}, url_name="attachment", summary="下载佐证材料"
)
def get_attachment(request: HttpRequest, pk: int) -> Any:
    """与网页相同的权限：能看到记录才能下载；已删除记录的附件只给能恢复它的人。"""
    user = account(request)
    att = get_object_or_404(Attachment.objects.select_related("record__org", "record__ledger_type"), pk=pk)
    rec = att.record
    if not access.scope(user).may_view(rec):  # a deleted record's files only for those who may restore it
        raise Http404
    try:
        handle = att.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    _audit_read(request, rec.ledger_type, f"台账 {rec.ledger_type.code} 记录 {rec.pk} 附件 {att.name}")
    return FileResponse(handle, as_attachment=True, filename=att.name)
