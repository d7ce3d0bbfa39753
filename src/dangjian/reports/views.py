"""Report pages: choose template/org/period (any period the one parser reads), preview with evidence links, download, finalise (定稿), compare.

Every page is refused with 404 unless `access.may_run_report(user, org)`: a report is an aggregate of the org's
subtree, so anyone with a role in that subtree may run it (confidential ledgers show as counts only). 定稿 is for
审核员 and 管理员 covering the org (`access.may_review`); others get 403. Downloads and 定稿 are audited."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from dangjian.audit.log import Action, record
from dangjian.orgs import access
from dangjian.orgs.models import Organization

from . import defaults, editing
from . import values as sources
from .models import ReportRun, ReportTemplate, report_file_stem
from .render_docx import render_docx
from .render_html import render_html, report_body, site_url
from .render_json import check_row, render_json, render_txt
from .runs import FINALISE_REFUSED, FinaliseBlocked, FinaliseRefused, compare, finalise
from .schemas import report_out
from .slots import SlotValue
from .templating import Rendered, TemplateRefused
from .templating import render as render_report

FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}
FORMAT_LABELS = {"docx": "Word", "html": "HTML", "json": "JSON", "txt": "文本"}
# what the 下载 box offers people; the JSON sits in the page's 数据接口 corner (_api_corner.html)
PEOPLE_FORMATS = {k: v for k, v in FORMAT_LABELS.items() if k != "json"}


def _org(request: HttpRequest, code: str) -> Organization:
    org = Organization.objects.filter(code=code, is_active=True).first()
    if org is None or not access.may_run_report(request.user, org):
        raise Http404("没有该组织，或无权查看其报告")
    return org


def _run(request: HttpRequest, pk: int) -> ReportRun:
    run = get_object_or_404(ReportRun.objects.select_related("org", "template", "created_by"), pk=pk)
    if not access.may_run_report(request.user, run.org):
        raise Http404("没有该定稿报告，或无权查看")
    return run


def _attachment(content: bytes | str, fmt: str, filename: str, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type=FORMATS[fmt])
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename)}"
    return response


def _notice(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return render(request, "reports/notice.html", {"title": title, "message": message}, status=status)


RECENT_YEARS = 10  # the year list reaches at least this far back, and further only to the earliest record


def _years() -> list[int]:
    """Next year down to the earliest year with records (at least RECENT_YEARS back), never before 1949."""
    from django.db.models import Min

    from dangjian.records.models import Record

    this_year = timezone.localdate().year
    first = this_year - RECENT_YEARS
    earliest = Record.objects.aggregate(first=Min("date"))["first"]
    if earliest is not None:
        first = min(first, earliest.year)
    return list(range(sources.last_year(), max(first, sources.FIRST_YEAR) - 1, -1))


# The report form's period: the year list, then which part of it (a whole year, a half, a quarter, a month) or a
# range of dates; or a period typed as staff write it (2019年第一季度). All of it goes through the one parser.
SPANS = [
    ("year", "全年", [("", "全年")]),
    ("half", "半年", [("H1", "上半年"), ("H2", "下半年")]),
    ("quarter", "季度", [(f"Q{n}", label) for n, label in sources.QUARTERS.items()]),
    ("month", "月份", [(f"-{m:02d}", f"{m}月") for m in range(1, 13)]),
    ("range", "自定义", [("range", "自定义起止日期")]),
]


def _asked_period(query) -> str | None:
    """The period text the report form asks for, or None when the form asks for nothing yet."""
    typed = (query.get("period") or "").strip()
    if typed:
        return typed
    span = query.get("span") or ""
    if span == "range":
        start, end = (query.get("start") or "").strip(), (query.get("end") or "").strip()
        return f"{start}..{end}" if start and end else "自定义起止日期"
    year = (query.get("year") or "").strip()
    if not year:
        return None
    return f"{year}{span}" if span in {v for _, _, options in SPANS for v, _ in options} else year


MAX_FORM_ORGS = 2000  # the form's org list; a district has a few hundred


def _fitting(
    templates: list[ReportTemplate], orgs: Any, key: str | None, code: str | None
) -> tuple[list[ReportTemplate], list[Organization], str]:
    """(templates fitting the chosen org, orgs fitting the chosen template, the problem when the two don't fit)."""
    org_list = list(orgs.prefetch_related("kinds")[:MAX_FORM_ORGS])
    template = next((t for t in templates if t.key == key), None)
    org = next((o for o in org_list if o.code == code), None)
    if template is not None:
        org_list = [o for o in org_list if template.fits(o)]
    if org is not None:
        templates = [t for t in templates if t.fits(org)]
    problem = ""
    if template is not None and org is not None and not template.fits(org):
        problem = f"报告模板“{template.label}”不适用于“{org.name}”（适用于：{template.kind_labels()}）"
    return templates, org_list, problem


@login_required
def index(request: HttpRequest) -> HttpResponse:
    all_orgs = access.orgs(request.user).filter(is_active=True).order_by("path")
    key, code = request.GET.get("template"), request.GET.get("org")
    all_templates = list(ReportTemplate.objects.all())
    # Unasked, the form starts from the account's own reporting org (among those the asked template is for), a
    # template meant for it and its last year with data (defaults.py).
    home, unfit = None, ""
    if not code:
        wanted = next((t for t in all_templates if t.key == key), None)
        candidates = list(all_orgs.prefetch_related("kinds")[:MAX_FORM_ORGS])
        home = defaults.home_org(o for o in candidates if wanted is None or wanted.fits(o))
        if home is None and wanted is not None and candidates:  # a template for none of the account's orgs
            unfit = f"报告模板“{wanted.label}”适用于{wanted.kind_labels()}，您可选的组织中没有这类组织，请另选模板。"
            key, home = None, defaults.home_org(candidates)
    # Each template names the org kinds it is for: the form offers the templates fitting the chosen org and the
    # orgs fitting the chosen template (a template naming no kinds fits all).
    templates, orgs, problem = _fitting(all_templates, all_orgs, key, code or (home.code if home else None))
    problem = problem or unfit
    chosen_org = code or (home.code if home else "")
    templates = defaults.ordered_templates(templates, next((o for o in orgs if o.code == chosen_org), None))
    last_years = defaults.last_years(orgs)
    asked = _asked_period(request.GET)
    if key and code and asked is not None and not problem:
        try:
            period = sources.parse_period(asked)
        except sources.PeriodError as exc:
            problem = str(exc)
            if asked == "自定义起止日期":
                problem = "报告期无效：选择“自定义起止日期”时，请填写起始日期和截止日期"
        else:
            return redirect("reports:preview", key=key, org=code, period=period.code)
    runs = ReportRun.objects.filter(org__in=all_orgs).select_related("org", "created_by")[:50]
    context = {
        "templates": templates,
        "orgs": orgs,
        # what report-form.js reads on each option of the org picker: the org's kinds (the templates fitting it)
        # and the year the form moves to when the org is chosen
        "org_attrs": {
            o.code: {
                "data-kinds": " ".join(k.code for k in o.kinds.all()),
                "data-year": str(last_years[o.code]),
            }
            for o in orgs
        },
        "years": _years(),
        "spans": SPANS,
        "chosen": {
            "template": key or (templates[0].key if templates else ""),
            "org": chosen_org,
            "year": request.GET.get("year") or str(last_years.get(chosen_org, timezone.localdate().year - 1)),
            "span": request.GET.get("span") or "",
            "start": request.GET.get("start") or "",
            "end": request.GET.get("end") or "",
            "period": request.GET.get("period") or "",
        },
        "problem": problem,
        "runs": runs,
        "may_write_reports": access.scope(request.user).may_write_reports(),
    }
    return render(request, "reports/index.html", context, status=400 if problem else 200)


def _period_of(period: str | None, year: int | None) -> Any:
    """The period a report URL names (its period segment, or the year of the year-only form). Raises PeriodError."""
    return sources.parse_period(str(year) if period is None else period)


def _render_or_error(
    request: HttpRequest, key: str, code: str, period: str | None, year: int | None = None
) -> tuple[Rendered | None, HttpResponse | None]:
    org = _org(request, code)
    template = get_object_or_404(ReportTemplate, key=key)
    try:
        span = _period_of(period, year)
    except sources.PeriodError as exc:
        return None, _notice(request, "报告期无效", str(exc), status=400)
    try:
        return render_report(template, org, span), None
    except TemplateRefused as exc:
        context = {"template": template, "org": org, "period": span, "problems": exc.problems}
        return None, render(request, "reports/refused.html", context, status=422)


@login_required
def preview(
    request: HttpRequest, key: str, org: str, period: str | None = None, year: int | None = None
) -> HttpResponse:
    rendered, error = _render_or_error(request, key, org, period, year)
    if rendered is None:
        return error  # type: ignore[return-value]
    span = rendered.period
    context = {
        "rendered": rendered,
        "template": rendered.template,
        "org": rendered.org,
        "period": span,
        "year": span.start.year,
        "body": report_body(rendered.marked, rendered.slots, back=request.get_full_path()),
        "slot_count": len(rendered.slots),
        "checks": [check_row(c) for c in rendered.checks],
        "failed": [check_row(c) for c in rendered.failed_checks()],
        "blocking": [check_row(c) for c in rendered.blocking_checks()],
        "formats": PEOPLE_FORMATS,
        "may_finalise": access.may_review(request.user, rendered.org),
        "runs": ReportRun.objects.filter(
            template=rendered.template, org=rendered.org, period_start=span.start, period_end=span.end
        ),
        "comparisons": [("上期", span.previous()), ("上年同期", span.same_last_year())],
        "warnings": defaults.period_warnings(rendered.template, rendered.org, span),
    }
    if context["warnings"]:
        year = defaults.suggested_year(rendered.org)
        if year != span.start.year or not span.is_year:
            context["suggested"] = sources.period_for_year(year)
    context["pending"] = editing.pending(rendered.template)  # 待定 block 定稿 (issue 11, 从 Word 生成模板)
    if context["pending"] and access.scope(request.user).may_write_reports():  # each one a link to its line
        context["edit_url"] = editing.editor_url(rendered.template, rendered.org.code, span.code)
    return render(request, "reports/preview.html", context)


@login_required
def download(
    request: HttpRequest, key: str, org: str, fmt: str, period: str | None = None, year: int | None = None
) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404("不支持的格式")
    rendered, error = _render_or_error(request, key, org, period, year)
    if rendered is None:
        return error  # type: ignore[return-value]
    span = rendered.period
    name = f"{report_file_stem(rendered.org.display_name, span.label, rendered.template.label)}.{fmt}"
    record(Action.EXPORT, request=request, target=f"报告 {key} {org} {span.code}", format=fmt)
    if fmt == "docx":
        return _attachment(render_docx(rendered), fmt, name)
    if fmt == "html":
        return _attachment(render_html(rendered, site_url(request)), fmt, name)
    if fmt == "json":
        return _attachment(render_json(rendered), fmt, name, inline=True)
    return _attachment(render_txt(rendered), fmt, name, inline=True)


FINALISE_UNCONFIRMED = "未定稿：定稿后不可修改或撤销，请先勾选“我已核对，确认定稿”再点“定稿”。"


@login_required
@require_POST
def finalise_view(
    request: HttpRequest, key: str, org: str, period: str | None = None, year: int | None = None
) -> HttpResponse:
    shown = period if period is not None else str(year)
    target = f"报告 {key} {org} {shown}"
    if not access.may_review(
        request.user, _org(request, org)
    ):  # 404 first for those who may not see it at all
        record(Action.REFUSED, request=request, target=target, attempted="定稿")
        return _notice(request, "无权定稿", FINALISE_REFUSED, status=403)
    rendered, error = _render_or_error(request, key, org, period, year)
    if rendered is None:
        return error  # type: ignore[return-value]
    if request.POST.get("confirm") != "1":  # 定稿 cannot be undone: the page names what becomes permanent
        messages.error(request, FINALISE_UNCONFIRMED)
        return redirect("reports:preview", key=key, org=org, period=rendered.period.code)
    reason = request.POST.get("override_reason", "")
    try:
        run = finalise(rendered.template, rendered.org, rendered.period, request.user, reason)
    except FinaliseRefused:
        return _notice(request, "无权定稿", FINALISE_REFUSED, status=403)
    except FinaliseBlocked as exc:
        messages.error(request, str(exc))
        return redirect("reports:preview", key=key, org=org, period=rendered.period.code)
    record(Action.FINALISE, request=request, target=target, run=run.pk, overridden=bool(run.override_reason))
    messages.success(request, "已定稿。定稿报告不可修改，可随时与当前数据比对。")
    return redirect("reports:run", pk=run.pk)


def stored_slots(run: ReportRun) -> list[SlotValue]:
    """A finalised run's slots, read back as typed values for the run's org and period."""
    period = sources.period_from_dates(run.period_start, run.period_end)
    return [SlotValue.from_stored(row, run.org, period) for row in run.slots]


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    context = {
        "run": run,
        "body": report_body(run.marked, stored_slots(run), back=request.path),
        "failed": run.failed_checks,
        "formats": {k: v for k, v in PEOPLE_FORMATS.items() if k != "html"},
        "year": run.period_start.year,
        "period": sources.period_from_dates(run.period_start, run.period_end),
    }
    return render(request, "reports/run.html", context)


def run_dict(run: ReportRun) -> dict:
    """The DESIGN.md JSON shape (`schemas.ReportOut`, as a fresh render's), from what was stored at 定稿."""
    period = sources.period_from_dates(run.period_start, run.period_end)
    return report_out(run.template.key, run.org, period, run.text, stored_slots(run), run.checks)


@login_required
def run_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    run = _run(request, pk)
    if fmt in ("docx", "json", "txt"):
        record(
            Action.EXPORT,
            request=request,
            target=f"定稿报告 {run.pk}（{run.org.code} {run.period_label}）",
            format=fmt,
        )
    if fmt == "docx":
        return _attachment(bytes(run.docx), fmt, run.filename(fmt))
    if fmt == "json":
        return _attachment(
            json.dumps(run_dict(run), ensure_ascii=False, indent=2), fmt, run.filename(fmt), inline=True
        )
    if fmt == "txt":
        return _attachment(run.text, fmt, run.filename(fmt), inline=True)
    raise Http404("不支持的格式")


@login_required
def compare_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    try:
        changes, fresh = compare(run)
    except TemplateRefused as exc:
        context = {
            "template": run.template,
            "org": run.org,
            "period": sources.period_from_dates(run.period_start, run.period_end),
            "problems": exc.problems,
        }
        return render(request, "reports/refused.html", context, status=422)
    period = sources.period_from_dates(run.period_start, run.period_end)
    context = {
        "run": run,
        # Each changed number opens today's records behind it: the change is one click from its cause.
        # … and leads back here (from=), as a figure opened from the report does.
        "changes": [
            (
                c,
                sources.with_back(
                    sources.evidence_url(c.indicator, run.org, period), request.get_full_path()
                ),
            )
            for c in changes
        ],
        "text_changed": fresh.text != run.text,
        "preview_url": reverse(
            "reports:preview", kwargs={"key": run.template.key, "org": run.org.code, "period": period.code}
        ),
    }
    return render(request, "reports/compare.html", context)
