"""概览 pages: the district's overview (leaders and district staff), a unit's own, the items closed in a month.

Each page has its JSON twin (`data.json`, `<code>.json`) and xlsx (every chart a sheet, or `?chart=KEY` for one).
Who may see what is the Scope's: the district overview for an account holding a role at a root of the tree
(`Scope.district`), a unit's page for any account covering the unit (404 outside, as every page about an org).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from dangjian.indicators.periods import FIRST_YEAR, Period, last_year
from dangjian.lists import workflow
from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.spreadsheets.xlsx import XLSX_MIME, Column, sheet_title, table

from . import overview
from .responses import content_disposition, download_name, json_response

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _year(request: HttpRequest) -> tuple[int, str]:
    """The year asked (`?year=`), else the latest with records; a year that cannot be read: the default and a
    message naming it."""
    text = request.GET.get("year", "").strip()
    if not text:
        return overview.default_year(), ""
    if text.isdigit() and FIRST_YEAR <= int(text) <= last_year():
        return int(text), ""
    return (
        overview.default_year(),
        f"年度“{text[:20]}”无效，应为 {FIRST_YEAR}—{last_year()} 之间的年份，已显示默认年度。",
    )


def _month(request: HttpRequest) -> tuple[dt.date, str]:
    text = request.GET.get("month", "").strip()
    today = timezone.localdate().replace(day=1)
    if not text:
        return today, ""
    found = MONTH.match(text)
    if found and 1 <= int(found.group(2)) <= 12 and FIRST_YEAR <= int(found.group(1)) <= last_year():
        return dt.date(int(found.group(1)), int(found.group(2)), 1), ""
    return today, f"月份“{text[:20]}”无效，应写作 2019-03，已显示本月。"


def _respond(
    request: HttpRequest, data: overview.Overview, fmt: str, template: str, stem: str, problem: str = ""
) -> HttpResponse:
    if fmt == "json" or request.GET.get("format") == "json":
        return json_response(data.dump())
    if fmt == "xlsx" or request.GET.get("format") == "xlsx":
        key = request.GET.get("chart", "")
        charts = data.charts
        if key:
            one = data.chart(key)
            if one is None:
                raise Http404("没有这个图表")
            charts = [one]
        response = HttpResponse(workbook(charts), content_type=XLSX_MIME)
        what = charts[0].title if key else "概览"
        response["Content-Disposition"] = content_disposition(
            download_name(f"{stem}{what}（{data.period.label}）", "xlsx")
        )
        return response
    context = {"o": data, "problem": problem, "query": request.GET.urlencode()}
    return render(request, template, context, status=400 if problem else 200)


def workbook(charts: list[overview.Chart]) -> bytes:
    """Each chart's table as a sheet (its rows as the page and the twin show them; text cells neutralised)."""
    from openpyxl import Workbook

    book = Workbook()
    first: Any = book.active
    book.remove(first)
    used: set[str] = set()
    for chart in charts:
        title = sheet_title(chart.title)
        while title in used:
            title = sheet_title(f"{title[:28]}_{len(used)}")
        used.add(title)
        sheet = book.create_sheet(title)
        columns = [Column(name, str(i)) for i, name in enumerate(chart.columns)]
        for cells in table(columns, chart.sheet_rows()):
            sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@login_required
def index(request: HttpRequest, fmt: str = "") -> HttpResponse:
    """The district overview; an account without a role at the district is sent to its own unit's page."""
    scope = access.scope(request.user)
    org = scope.district()
    if org is None:
        if scope.memberships and not fmt:
            return redirect("overview:unit", scope.memberships[0].org.code)
        raise PermissionDenied("全区概览只对在区级单位有角色的账号开放")
    year, problem = _year(request)
    data = overview.district(request.user, org, year, request.GET.get("rank", ""))
    return _respond(request, data, fmt, "web/overview.html", org.display_name, problem)


def _org(request: HttpRequest, code: str) -> Organization:
    return get_object_or_404(access.scope(request.user).orgs(), code=code, is_active=True)


@login_required
def unit(request: HttpRequest, org: str, fmt: str = "") -> HttpResponse:
    """A unit's own page: its tasks, overdue items and this month's ledger entries against the same month last
    year."""
    found = _org(request, org)
    month, problem = _month(request)
    data = overview.unit(request.user, found, month)
    return _respond(request, data, fmt, "web/overview_unit.html", found.display_name, problem)


@login_required
def closed(request: HttpRequest) -> HttpResponse:
    """The list items closed (销号) in a month within an org: what a month of the closure chart counts."""
    code = request.GET.get("org", "")
    scope = access.scope(request.user)
    org = _org(request, code) if code else scope.district()
    if org is None and scope.memberships:  # the account's own (first) unit
        org = scope.memberships[0].org
    if org is None:
        raise Http404("请选择单位")
    month, problem = _month(request)
    period = Period.month(month.year, month.month)
    span = (period.start, period.end)
    records = workflow.closed_items(request.user, *span, org=org)
    rows = []
    for r in records:
        wf = workflow.workflow_of(r.ledger_type)
        assert wf is not None
        rows.append(
            {
                "record": r,
                "title": workflow.display_title(r, wf),
                "deadline": r.values.get(wf.deadline_field, ""),
                "closed_on": r.values.get(wf.closed_on_field, ""),
                "on_time": r.values.get(wf.on_time_field) if wf.on_time_field else None,
            }
        )
    context = {"org": org, "period": period, "rows": rows, "problem": problem}
    return render(request, "web/overview_closed.html", context)
