"""List workflow pages: take a step on one item, bulk steps for reviewers, the overdue overview (+ .json/.xlsx).

Access is the record pages' own (`records.views.get_ledger_for_user`, `get_record_for_user`: 404 outside the
user's scope); the workflow service then refuses a step the user may not take with its reason (403).
"""

from __future__ import annotations

import io
from typing import Any

from django import forms as djforms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone

from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.records import services
from dangjian.records.forms import MultipleFileInput, form_field, initial_value
from dangjian.records.models import FieldType, LedgerType, Record
from dangjian.records.views import get_ledger_for_user, get_record_for_user
from dangjian.spreadsheets.xlsx import XLSX_MIME, Column, table
from dangjian.text import NOTE_LIMIT, cn_date, note
from dangjian.web.responses import content_disposition, download_name, json_response, wants_json

from . import schemas, workflow

BULK_LIMIT = 200
OVERDUE_PAGE = 200  # rows of the overview's detail table per page (its xlsx and JSON hold every item)


def record_panel(request: HttpRequest, record: Record) -> str:
    """The 清单流程 panel on the record page: the state, the steps the user may take now and the timeline ("" for
    a ledger without a workflow). Registered with `records.panels` by `ListsConfig.ready`, so that the records app
    shows it without naming this stage."""
    wf = workflow.workflow_of(record.ledger_type)
    if wf is None:
        return ""
    context = {
        "wf": wf,
        "record": record,
        "deadline": record.values.get(wf.deadline_field),
        "overdue": workflow.is_overdue(record),
        "steps": workflow.available(request.user, record),
        "timeline": workflow.timeline(record),
    }
    return render_to_string("lists/_workflow.html", context, request=request)


def _step_form(lt: LedgerType, record: Record, step: workflow.Step, request: HttpRequest) -> djforms.Form:
    data = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = djforms.Form(*data)
    for code in step.fields:
        spec = lt.field(code)
        assert spec is not None
        form.fields[code] = form_field(spec, request.user, record.values.get(code))
        form.fields[code].label = f"{spec.label}（必填）"
        if code in record.values:
            form.initial[code] = initial_value(spec, record.values[code])
    label = f"{step.label}理由（必填）" if step.comment_required else "说明"
    form.fields["comment"] = djforms.CharField(
        label=label, required=False, max_length=NOTE_LIMIT, widget=djforms.Textarea({"rows": 3})
    )
    form.fields["attachments"] = djforms.Field(
        label="其他材料", required=False, widget=MultipleFileInput(), help_text="可选：随本次办理上传的材料"
    )
    return form


@login_required
def take_step(request: HttpRequest, code: str, pk: int, step_code: str) -> HttpResponse:
    lt = get_ledger_for_user(request.user, code)
    record = get_record_for_user(request.user, lt, pk)
    wf = workflow.workflow_of(lt)
    step = wf.step(step_code) if wf else None
    if step is None:
        raise Http404
    reason = workflow.refusal(request.user, record, step)
    if reason:  # 403 with the reason: the generic 403 page does not say why
        context = {"lt": lt, "record": record, "step": step, "reason": reason}
        return render(request, "lists/workflow_refused.html", context, status=403)
    form = _step_form(lt, record, step, request)
    if request.method == "POST" and form.is_valid():
        specs = {c: lt.field(c) for c in step.fields}
        raw = {c: form.cleaned_data.get(c) for c, s in specs.items() if s and s.type != FieldType.FILE}
        uploads = {c: request.FILES.getlist(c) for c, s in specs.items() if s and s.type == FieldType.FILE}
        uploads[""] = request.FILES.getlist("attachments")
        try:
            workflow.take(
                request.user,
                record,
                step.code,
                raw,
                comment=note(form.cleaned_data["comment"]),
                uploads=uploads,
            )
        except services.RecordInvalid as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, f"已{step.label}：{record.status}。")
            return redirect("ledgers:record", lt.code, record.pk)
    context = {"lt": lt, "record": record, "step": step, "form": form}
    return render(request, "lists/workflow_step.html", context, status=400 if form.errors else 200)


@login_required
def bulk(request: HttpRequest, code: str) -> HttpResponse:
    """Reviewers' bulk steps (e.g. 销号 after checking each item's evidence): all or nothing."""
    lt = get_ledger_for_user(request.user, code)
    wf = workflow.workflow_of(lt)
    if wf is None:
        raise Http404
    state = request.GET.get("state") or request.POST.get("state") or wf.states[-2]
    scope = access.scope(request.user)
    qs = scope.records(lt, Record.objects.select_related("org")).filter(status=state)
    problems: dict[int, str] = {}
    if request.method == "POST":
        step = wf.step(request.POST.get("step", ""))
        ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()][:BULK_LIMIT]
        chosen = list(scope.records(lt, Record.objects.select_related("org")).filter(pk__in=ids))
        comment = note(request.POST.get("comment"))
        if step is None or not chosen:
            messages.error(request, "请选择要办理的事项和操作。")
        elif len(comment) > NOTE_LIMIT:
            messages.error(request, f"说明不能超过 {NOTE_LIMIT} 字（现为 {len(comment)} 字），全部未办理。")
        else:
            for r in chosen:
                r.ledger_type = lt
            problems = workflow.take_many(request.user, chosen, step.code, comment=comment)
            if not problems:
                messages.success(request, f"已{step.label} {len(chosen)} 项。")
                return redirect(f"{request.path}?state={state}")
            messages.error(request, f"有 {len(problems)} 项不能{step.label}，全部未办理，请处理后重试。")
    rows = list(qs.order_by("org__path", "id")[:BULK_LIMIT])
    for r in rows:
        r.ledger_type = lt
    context = {
        "lt": lt,
        "wf": wf,
        "state": state,
        "steps": [s for s in wf.steps if state in s.sources],
        "rows": [(r, workflow.display_title(r, wf), problems.get(r.pk, "")) for r in rows],
    }
    return render(request, "lists/workflow_bulk.html", context, status=400 if problems else 200)


def _scope_org(request: HttpRequest) -> Organization | None:
    code = request.GET.get("org")
    if not code:
        return None
    return get_object_or_404(access.scope(request.user).orgs(), code=code)


@login_required
def overdue(request: HttpRequest, fmt: str = "") -> HttpResponse:
    org = _scope_org(request)
    items = workflow.overdue_items(user=request.user, org=org)
    summary = workflow.summary(items)
    if wants_json(request, fmt):  # the API's ItemOut rows (lists.schemas), as the xlsx below
        return json_response(schemas.overdue_out(items, timezone.localdate()))
    if fmt == "xlsx" or request.GET.get("format") == "xlsx":
        rows = schemas.overdue_rows(items, timezone.localdate())
        response = HttpResponse(overdue_xlsx(rows, summary), content_type=XLSX_MIME)
        where = org.display_name if org is not None else "全部"
        name = download_name(f"逾期事项（{where}，截至{cn_date(timezone.localdate())}）", "xlsx")
        response["Content-Disposition"] = content_disposition(name)
        return response
    codes = {i.record.org.name: i.record.org.code for i in items}  # each unit's row opens its own overview
    page = Paginator(items, OVERDUE_PAGE).get_page(request.GET.get("page"))  # the summaries count them all
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "items": items,
        "page": page,
        "page_query": query.urlencode(),
        "org": org,
        **summary,
        "units": [(name, codes.get(name, ""), n) for name, n in summary["by_unit"]],
        "query": request.GET.urlencode(),
    }
    return render(request, "lists/overdue.html", context)


def overdue_xlsx(rows: list[dict[str, Any]], summary: dict[str, list[tuple[str, int]]]) -> bytes:
    """Three sheets: the items (`ItemOut` rows under `ITEM_COLUMNS`, as the twin gives them), counts by unit and by
    source. Every text cell is neutralised."""
    from openpyxl import Workbook

    book = Workbook()
    sheet: Any = book.active
    sheet.title = "逾期事项"
    for cells in table(schemas.ITEM_COLUMNS, rows):
        sheet.append(cells)
    for title, key, head in (("按单位", "by_unit", "单位"), ("按来源", "by_source", "来源")):
        part = book.create_sheet(title)
        for cells in table((Column(head, "name"), Column("逾期事项数", "count")), _counted(summary[key])):
            part.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _counted(pairs: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [{"name": name, "count": count} for name, count in pairs]
