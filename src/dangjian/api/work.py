"""填报任务 and 清单事项: who sees which task and item is decided by the same public calls as the web pages
(`collection.visible_tasks`, `collection.progress`, the account's `access.scope` on each list ledger)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from dangjian.audit.log import Action, record
from dangjian.lists import schemas as list_schemas
from dangjian.lists import workflow
from dangjian.lists.schemas import ItemDetail, ItemOut
from dangjian.orgs import access
from dangjian.records import services
from dangjian.records.models import LedgerType, Record
from dangjian.tasks import collection
from dangjian.tasks import schemas as task_schemas
from dangjian.tasks.schemas import TaskDetail, TaskOut
from dangjian.text import NOTE_LIMIT, note

from . import schemas as s
from .auth import account
from .errors import Problem, item
from .paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, numbers, page_of
from .records import ledger_for, record_for, service_problems

router = Router(tags=["填报任务与清单"])
ERRORS = {400: s.ErrorOut, 401: s.ErrorOut, 403: s.ErrorOut, 404: s.ErrorOut}
PageNo = Query(1, ge=1, description="页码，从 1 起")
PageSize = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"每页条数，最多 {MAX_PAGE_SIZE}")


class TaskPage(s.Page):
    results: list[TaskOut]


class ItemPage(s.Page):
    results: list[ItemOut]


class StepIn(Schema):
    values: dict[str, Any] = Field(
        default_factory=dict, description='该操作要求填写的字段，如 {"rectified_on": "2019-08-01"}'
    )
    comment: str = Field("", max_length=NOTE_LIMIT, description="说明；退回等操作必须填写理由")


@router.get("/tasks", response={200: TaskPage, **ERRORS}, url_name="tasks", summary="填报任务列表")
def list_tasks(request: HttpRequest, page: int = PageNo, page_size: int = PageSize) -> Any:
    """本账号能看到进度的任务，以及向本账号所在单位布置的任务，新建的在前。"""
    tasks = (
        collection.visible_tasks(account(request))
        .select_related("creator_org")
        .prefetch_related("ledger_types")
        .order_by("-created_at", "-id")
    )
    rows, numbers = page_of(tasks, page, page_size)
    return {**numbers, "results": [task_schemas.task_out(t) for t in rows]}


@router.get("/tasks/{int:pk}", response={200: TaskDetail, **ERRORS}, url_name="task", summary="填报任务进度")
def get_task(request: HttpRequest, pk: int) -> Any:
    """各填报单位的状态和记录数（与网页任务页的 JSON 相同）；只被布置任务的单位只看到自己的一行。"""
    user = account(request)
    task = get_object_or_404(collection.visible_tasks(user).select_related("creator_org"), pk=pk)
    prog = collection.progress(user, task)
    if not prog.rows and not prog.full:
        raise Http404
    return task_schemas.task_detail(prog)


# --- 清单事项 ------------------------------------------------------------------------------------------------------


def _list_item(user: Any, code: str, pk: int) -> tuple[Record, LedgerType, workflow.Workflow]:
    lt = ledger_for(user, code)
    wf = workflow.workflow_of(lt)
    if wf is None:
        raise Problem(404, f"“{lt.label}”没有清单流程")
    return record_for(user, lt, pk), lt, wf


@router.get(
    "/lists/items/{slug:code}/{int:pk}", response={200: ItemDetail, **ERRORS}, url_name="list_item",
    summary="一个清单事项",
)  # fmt: skip
def get_list_item(request: HttpRequest, code: str, pk: int) -> Any:
    """事项的状态、时限、本账号现在可以办理的操作和办理记录。"""
    user = account(request)
    found, lt, wf = _list_item(user, code, pk)
    return list_schemas.item_detail(user, found, lt, wf)


@router.post(
    "/lists/items/{slug:code}/{int:pk}/steps/{slug:step}",
    response={200: ItemDetail, 409: s.ErrorOut, **ERRORS},
    url_name="list_step",
    summary="办理清单事项（如 销号、退回）",
)
def take_step(request: HttpRequest, code: str, pk: int, step: str, payload: StepIn) -> Any:
    """与网页“办理”相同：谁可以办理（本单位或上级单位）、须填写的字段、理由都由清单流程决定；
    不能办理时返回 403 和原因，填写有误时返回 400 并指明字段，已报送锁定时返回 409。"""
    user = account(request)
    found, lt, wf = _list_item(user, code, pk)
    chosen = wf.step(step)
    if chosen is None:
        raise Problem(
            404, f"“{lt.label}”没有“{step[:60]}”这一办理操作，可用：{'、'.join(t.code for t in wf.steps)}"
        )
    extra = [c for c in payload.values if c not in chosen.fields]
    if extra:
        problems = [
            item(
                f"【{c}】不是“{chosen.label}”要填写的字段（可填：{'、'.join(chosen.fields) or '无'}）",
                field=c,
            )
            for c in extra
        ]
        raise Problem(400, "数据有误，未作办理：" + problems[0]["message"], problems)
    try:
        workflow.take(user, found, chosen.code, payload.values, comment=note(payload.comment))
    except services.RecordLocked as exc:
        raise Problem(409, str(exc), service_problems(lt, exc)) from None
    except services.RecordInvalid as exc:
        problems = service_problems(lt, exc)
        raise Problem(
            400, "数据有误，未作办理：" + "；".join(p["message"] for p in problems), problems
        ) from None
    record(
        Action.API_WRITE,
        request=request,
        target=f"台账 {lt.code} 记录 {found.pk}",
        change=chosen.label,
        state=found.status,
    )
    return list_schemas.item_detail(user, record_for(user, lt, pk), lt, wf)


@router.get("/lists/items", response={200: ItemPage, **ERRORS}, url_name="list_items", summary="清单事项")
def list_items(
    request: HttpRequest,
    ledger: str = Query("", description="只看该清单台账（代码），如 rectification_task"),
    org: str = Query("", description="只看该组织（代码）及其下级"),
    state: str = Query("", description="只看该状态，如 待整改"),
    overdue: bool = Query(False, description="true：只看逾期未销号的事项"),
    page: int = PageNo,
    page_size: int = PageSize,
) -> Any:
    """带清单流程的台账中的事项（问题清单、整改任务等），按台账、单位顺序；涉密台账只对成员列出。"""
    user = account(request)
    today = timezone.localdate()
    ledgers = [(lt, wf) for lt, wf in workflow.workflow_ledgers() if not ledger or lt.code == ledger]
    scope = access.scope(user)
    visible = [(lt, wf) for lt, wf in ledgers if scope.sees_rows(lt)]
    if ledger and not visible:
        raise Problem(404, f"没有代码为“{ledger[:60]}”的清单台账，或您无权查看其事项")
    top = None
    if org:
        top = scope.orgs().filter(code=org).first()
        if top is None:
            raise Problem(400, f"【org】组织“{org[:60]}”不在您的查看范围内")
    if state and not any(state in wf.states for _, wf in visible):
        raise Problem(400, f"【state】没有“{state[:30]}”这个状态")
    # One query per list ledger (a handful), each already limited to the page's reach.
    querysets = []
    for lt, wf in visible:
        qs = scope.records(lt, Record.objects.select_related("org"), under=top)
        if state:
            qs = qs.filter(status=state)
        if overdue:
            units = [top.path] if top is not None else scope.paths()
            qs = workflow.overdue_records(qs, wf, today, units=units)
        querysets.append((lt, wf, qs.order_by("org__path", "id")))
    counts = [qs.count() for _, _, qs in querysets]
    total = sum(counts)
    start, rows = (page - 1) * page_size, list[dict[str, Any]]()
    for (lt, wf, qs), n in zip(querysets, counts, strict=True):
        if start >= n:
            start -= n
            continue
        for r in qs[start : start + page_size - len(rows)]:
            r.ledger_type = lt
            rows.append(list_schemas.item_out(r, lt, wf, today))
        start = 0
        if len(rows) >= page_size:
            break
    return {**numbers(total, page, page_size), "results": rows}
