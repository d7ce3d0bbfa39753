"""Ledger pages and their JSON twins.

Every view starts from one of two access helpers: `get_ledger_for_user` (404 for a ledger whose rows the user
may not see) and `get_record_for_user` (404 for a record outside the user's scope). Records are only ever read
through the request's `access.scope()`, which also decides how each is shown (masked fields, deleted rows), so no
view can show a row or a value the access rules do not allow.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dangjian.audit import log as audit
from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.text import person
from dangjian.web.responses import json_response, wants_json

from . import counts as kept_counts
from . import panels, schemas, services
from .fields import cell_class, display_value
from .forms import ORG_FIELD, RecordFilter, RecordForm
from .models import Attachment, FieldType, LedgerField, LedgerType, Record
from .workflow_definition import workflow_of

PAGE_SIZE = 50


# --- access helpers ----------------------------------------------------------------------------------------


def get_ledger_for_user(user: Any, code: str) -> LedgerType:
    visible = access.scope(user).ledger_types(LedgerType.objects.filter(is_active=True))
    return get_object_or_404(visible.prefetch_related("fields"), code=code)


def get_record_for_user(user: Any, ledger_type: LedgerType, pk: int) -> Record:
    """A record the user may open (deleted records only for those who may restore them)."""
    qs = access.scope(user).openable(
        ledger_type, Record.objects.select_related("org", "created_by", "updated_by")
    )
    record = get_object_or_404(qs, pk=pk)
    record.ledger_type = ledger_type  # reuse the prefetched fields
    return record


def listed_records(user: Any, lt: LedgerType, filters: RecordFilter) -> QuerySet[Record]:
    """The records table's rows (HTML, JSON and xlsx alike): the live records the user may see, or with the
    已删除 filter the deleted ones he may restore; then the filters, search and order."""
    qs = access.scope(user).records(lt, Record.objects.select_related("org"), deleted=filters.deleted)
    return filters.apply(qs)


def _audit_read(request: HttpRequest, lt: LedgerType, target: str, **detail: Any) -> None:
    """Rows of a confidential ledger were shown (only members of its named orgs get this far): log who read what."""
    if lt.confidential:
        audit.record(audit.Action.CONFIDENTIAL_READ, request=request, target=target, ledger=lt.code, **detail)


# --- presentation ------------------------------------------------------------------------------------------


def _cell(
    scope: access.Scope, spec: LedgerField, record: Record, org_names: dict[str, str] | None = None
) -> str:
    """A field of a record as the table and the record page show it (masked where the scope hides it)."""

    def text(spec: LedgerField, value: Any) -> str:
        if spec.type == FieldType.ORG and org_names is not None and value in org_names:
            return org_names[value]  # the short name, as in the 填报单位 column
        return display_value(spec, value)

    return scope.shown(spec, record, text)


def _org_names(columns: list[LedgerField], records: list[Record]) -> dict[str, str]:
    """Short names of the orgs that org-typed cells on this page name: one query for the page."""
    values = (r.values.get(f.code) for f in columns if f.type == FieldType.ORG for r in records)
    codes = {v for v in values if isinstance(v, str) and v}
    return {o.code: o.display_name for o in Organization.objects.filter(code__in=codes)}


def _record_json(user: Any, record: Record, sensitive: set[str]) -> dict[str, Any]:
    """One record as the API's `RecordOut` shows it (same schema; `json_response` encodes it as the API does)."""
    return schemas.RecordOut.model_validate(schemas.record_out(user, record, sensitive)).model_dump(
        mode="json"
    )


# --- ledgers -----------------------------------------------------------------------------------------------


@login_required
def index(request: HttpRequest) -> HttpResponse:
    scope = access.scope(request.user)
    ledgers = list(scope.ledger_types(LedgerType.objects.filter(is_active=True)))
    # counted as the API's ledger list counts them (kept between requests where records.counts may)
    counts = {lt.pk: kept_counts.count(scope.records(lt, Record.objects.all())) for lt in ledgers}
    if request.GET.get("format") == "json":
        rows = [schemas.ledger_summary_out(lt, counts[lt.pk]) for lt in ledgers]
        return json_response(schemas.LedgerIndexOut.model_validate({"ledgers": rows}).model_dump())
    # The ledgers kept by the kinds of org within the account's subtrees (a ledger's `kept_by`, from its pack);
    # 全部台账 is one click away. The JSON twin lists them all, as the API does.
    show_all = request.GET.get("all") == "1"
    applying = scope.kept_ledgers(ledgers)
    shown = ledgers if show_all else applying
    groups = [
        (cat, [(lt, counts[lt.pk]) for lt in items])
        for cat, items in groupby(shown, key=lambda lt: lt.category)
    ]
    may_enter = scope.entry_orgs().exists()
    context = {
        "groups": groups,
        "may_enter": may_enter,
        "show_all": show_all,
        "hidden": len(ledgers) - len(applying),
        "total": len(ledgers),
    }
    return render(request, "ledgers/index.html", context)


@login_required
def records(request: HttpRequest, code: str, fmt: str = "") -> HttpResponse:
    scope = access.scope(request.user)
    lt = get_ledger_for_user(request.user, code)
    filters = RecordFilter.from_request(lt, request.user, request.GET)
    page = _page(listed_records(request.user, lt, filters), request.GET.get("page"))
    for record in page.object_list:
        record.ledger_type = lt
    _audit_read(
        request,
        lt,
        f"台账 {lt.code} 记录列表",
        page=page.number,
        rows=len(page.object_list),
        query=request.GET.urlencode()[:300],
    )
    if wants_json(request, fmt):
        sensitive = schemas.sensitive_codes(lt)
        results = [_record_json(request.user, r, sensitive) for r in page.object_list]
        return json_response(
            {
                "ledger": schemas.LedgerRef.model_validate(schemas.ledger_ref(lt)).model_dump(),
                "count": page.paginator.count,
                "page": page.number,
                "pages": page.paginator.num_pages,
                "results": results,
            }
        )
    columns = [f for f in lt.active_fields() if f.type not in (FieldType.FILE, FieldType.LONGTEXT)]
    ids = [r.pk for r in page.object_list]
    attachments = Counter(
        dict(Attachment.objects.filter(record_id__in=ids).values_list("record").annotate(n=Count("id")))
    )
    org_names = _org_names(columns, list(page.object_list))
    wf = workflow_of(lt)
    rows = [
        {
            "record": r,
            "overdue": wf is not None and wf.is_overdue(r),
            "cells": [(_cell(scope, f, r, org_names), cell_class(f)) for f in columns],
            "attachments": attachments[r.pk],
            "may_change": scope.may_change(r),
        }
        for r in page.object_list
    ]
    context = {
        "lt": lt,
        "filters": filters,
        "headers": _headers(lt, columns, filters),
        "query": filters.query(),
        "rows": rows,
        "page": page,
        "may_enter": scope.entry_orgs(lt).exists(),
    }
    return render(request, "ledgers/records.html", context)


def _page(qs: QuerySet[Record], number: str | None) -> Page:
    """One page of records: the count (kept until the next write), the page's ids (read from the record_list index
    alone, however deep the page), then those records with their orgs, in the same order."""
    keys = qs.values_list("pk", flat=True)
    paginator = Paginator(keys, PAGE_SIZE)
    paginator.count = kept_counts.count(keys)  # kept until the next write (records/counts.py)
    page = paginator.get_page(number)
    ids = list(page.object_list)
    by_id = qs.model.objects.select_related("org").in_bulk(ids)
    page.object_list = [by_id[pk] for pk in ids]
    return page


def _headers(lt: LedgerType, columns: list[LedgerField], filters: RecordFilter) -> list[dict[str, str]]:
    """Column headings; a sortable one links to the opposite order of the current one."""
    keys = filters.sort_keys()
    out = []
    status = [("状态", "status", "")] if filters.states() else []
    for label, key, unit in [("填报单位", "org", ""), *status] + [
        (f.label, "date" if f.code == lt.date_field else f.code, f.unit) for f in columns
    ]:
        current = filters.sort.lstrip("-") == key
        arrow = ("↓" if filters.sort.startswith("-") else "↑") if current else ""
        new = f"-{key}" if filters.sort == key else key
        out.append(
            {
                "label": label,
                "unit": unit,
                "arrow": arrow,
                "href": filters.query(sort=new) if key in keys else "",
            }
        )
    return out


# --- one record --------------------------------------------------------------------------------------------


@login_required
def record_detail(request: HttpRequest, code: str, pk: int, fmt: str = "") -> HttpResponse:
    lt = get_ledger_for_user(request.user, code)
    record = get_record_for_user(request.user, lt, pk)
    _audit_read(request, lt, f"台账 {lt.code} 记录 {record.pk}")
    if wants_json(request, fmt):  # its attachments are read once, by the schema's `record_detail`
        detail = schemas.record_detail(
            request.user, lt, record, lambda a: reverse("ledgers:attachment", args=[a])
        )
        data = schemas.RecordDetail.model_validate(detail).model_dump()
        return json_response(data)
    scope = access.scope(request.user)
    attachments = list(record.attachments.all())
    context = {
        "lt": lt,
        "record": record,
        "values": [(f, _cell(scope, f, record)) for f in lt.active_fields() if f.type != FieldType.FILE],
        "archived": [(f, _cell(scope, f, record)) for f in lt.archived_fields() if f.code in record.values],
        "attachments": attachments,
        "may_change": scope.may_change(record),
        "created_by": person(record.created_by),
        "updated_by": person(record.updated_by),
        "panels": panels.render(request, record),  # e.g. the lists stage's 清单流程 panel (see panels.py)
    }
    return render(request, "ledgers/record.html", context)


@login_required
def record_new(request: HttpRequest, code: str) -> HttpResponse:
    lt = get_ledger_for_user(request.user, code)
    if not access.scope(request.user).entry_orgs(lt).exists():
        raise PermissionDenied("无权填报该台账")
    form = RecordForm(lt, request.user, *_post(request))
    if request.method == "POST" and form.is_valid():
        try:
            record = services.save_record(
                request.user, lt, form.raw_values(), org=form.cleaned_data[ORG_FIELD], uploads=form.uploads()
            )
        except services.RecordInvalid as exc:
            form.add_errors(exc.errors)
        else:
            messages.success(request, "记录已保存。")
            return redirect("ledgers:record", lt.code, record.pk)
    return render(request, "ledgers/form.html", {"lt": lt, "form": form, "record": None})


@login_required
def record_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    lt = get_ledger_for_user(request.user, code)
    record = get_record_for_user(request.user, lt, pk)
    if not access.scope(request.user).may_change(record):
        raise PermissionDenied("无权修改该记录")
    if record.is_deleted:
        raise Http404  # restore first: a deleted record is not edited in place
    if request.method != "POST":
        _audit_read(request, lt, f"台账 {lt.code} 记录 {record.pk} 修改页")
    form = RecordForm(lt, request.user, *_post(request), record=record)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_record(request.user, lt, form.raw_values(), record=record, uploads=form.uploads())
        except services.RecordInvalid as exc:
            form.add_errors(exc.errors)
        else:
            messages.success(request, "修改已保存。")
            return redirect("ledgers:record", lt.code, record.pk)
    attachments = list(record.attachments.all())
    return render(
        request, "ledgers/form.html", {"lt": lt, "form": form, "record": record, "attachments": attachments}
    )


def _post(request: HttpRequest) -> tuple[Any, Any]:
    return (request.POST, request.FILES) if request.method == "POST" else (None, None)


@login_required
@require_POST
def record_delete(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    lt = get_ledger_for_user(request.user, code)
    record = get_record_for_user(request.user, lt, pk)
    try:
        services.delete_record(request.user, record)  # PermissionDenied (403) for 查看者
    except services.RecordLocked as exc:  # 报送 lock: say why, change nothing
        messages.error(request, str(exc))
        return redirect("ledgers:record", lt.code, record.pk)
    messages.success(request, "记录已删除。如需恢复，可在“已删除记录”中找到它。")
    return redirect("ledgers:records", lt.code)


@login_required
@require_POST
def record_restore(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    lt = get_ledger_for_user(request.user, code)
    record = get_record_for_user(request.user, lt, pk)
    try:
        services.restore_record(request.user, record)
    except services.RecordLocked as exc:
        messages.error(request, str(exc))
        return redirect("ledgers:records", lt.code)
    messages.success(request, "记录已恢复。")
    return redirect("ledgers:record", lt.code, record.pk)


@login_required
def record_history(request: HttpRequest, code: str, pk: int, fmt: str = "") -> HttpResponse:
    lt = get_ledger_for_user(request.user, code)
    record = get_record_for_user(request.user, lt, pk)
    _audit_read(request, lt, f"台账 {lt.code} 记录 {record.pk} 修改历史")
    data = schemas.record_history(request.user, lt, record)  # sensitive values masked as the Scope shows them
    if wants_json(request, fmt):
        return json_response(schemas.RecordHistoryOut.model_validate(data).model_dump())
    entries = data["history"]
    return render(request, "ledgers/history.html", {"lt": lt, "record": record, "entries": entries})


@login_required
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    att = get_object_or_404(Attachment.objects.select_related("record__org", "record__ledger_type"), pk=pk)
    record = att.record
    if not access.scope(request.user).may_view(record):  # deleted records: only for who may restore them
        raise Http404
    try:
        handle = att.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    _audit_read(
        request, record.ledger_type, f"台账 {record.ledger_type.code} 记录 {record.pk} 附件 {att.name}"
    )
    return FileResponse(handle, as_attachment=True, filename=att.name)
