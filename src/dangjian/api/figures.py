"""Indicator values (with the way back to their records), evidence, checks, and reports — every figure computed
as the token's account sees it (保密规则: `viewing_as`, the same rule the web applies to `request.user`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Query, Router

from dangjian.audit.log import Action, record
from dangjian.indicators import evidence as ev
from dangjian.indicators import schemas as figures
from dangjian.indicators.engine import (
    Period,
    UnknownIndicator,
    evaluate,
    run_checks,
    viewing_as,
)
from dangjian.indicators.models import Indicator
from dangjian.indicators.periods import PeriodError
from dangjian.indicators.schemas import (
    ChecksOut,
    EvidenceDetail,
    EvidenceRecordOut,
    IndicatorOut,
    ValuesOut,
)
from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.reports import values as report_values
from dangjian.reports.models import ReportRun, ReportTemplate
from dangjian.reports.render_json import jsonable, render_dict
from dangjian.reports.schemas import ReportOut, RunBrief, RunOut, run_brief
from dangjian.reports.templating import TemplateRefused
from dangjian.reports.templating import render as render_report
from dangjian.reports.views import run_dict

from . import schemas as s
from .auth import account
from .errors import Problem, item
from .paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_of

router = Router(tags=["指标与报告"])
ERRORS = {400: s.ErrorOut, 401: s.ErrorOut, 403: s.ErrorOut, 404: s.ErrorOut}
PageNo = Query(1, ge=1, description="页码，从 1 起")
PageSize = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"每页条数，最多 {MAX_PAGE_SIZE}")
OrgCode = Query(..., description="组织代码：该组织及其下级的汇总", max_length=60)
Year = Query(None, ge=1900, le=2100, description="年度，如 2019（或用 period，或 start 和 end）")
Per = Query(
    None,
    alias="period",
    max_length=40,
    description="报告期：2019、2019H1、2019Q1、2019-03 或 2019-01-01..2019-06-30（也可写 2019年第一季度）",
)
Start = Query(None, description="起始日期，如 2019-01-01")
End = Query(None, description="截止日期，如 2019-06-30")


# --- schemas -----------------------------------------------------------------------------------------------------


class IndicatorPage(s.Page):
    results: list[IndicatorOut]


class EvidenceOut(EvidenceDetail):  # the evidence with its records paged (the page's twin gives them all)
    page: int
    pages: int
    page_size: int
    records: list[EvidenceRecordOut] | None = Field(
        None, description="本页的记录（rows_visible 为 false 时为 null）"
    )


class RunPage(s.Page):
    results: list[RunBrief]


# --- helpers -----------------------------------------------------------------------------------------------------


def _org(user: Any, code: str) -> Organization:
    """An org the account may run reports for (its subtree's aggregates); 404 otherwise."""
    org = Organization.objects.filter(code=code).first()
    if org is None or not access.scope(user).may_run_report(org):
        raise Problem(404, f"没有代码为“{code[:60]}”的组织，或您无权查看其指标", [item("", field="org")])
    return org


def _period(year: int | None, start: str | None, end: str | None, period: str | None = None) -> Period:
    """The period asked for, in one of three ways, each read by the one parser (`Period.parse`: the same bounds and
    Chinese reasons as the command line and the web)."""
    if period is not None:
        if year is not None or start or end:
            raise Problem(400, "报告期（period）与 year、start、end 只能用一种", [item("", field="period")])
        field, text = "period", period
    elif year is not None and not (start or end):
        field, text = "year", str(year)
    elif start and end:
        field, text = "start", f"{start}..{end}"
    else:
        raise Problem(
            400, "期间参数不正确：请用 period=2019Q1、year=2019，或 start=2019-01-01&end=2019-12-31"
        )
    try:
        return Period.parse(text)
    except PeriodError as exc:
        raise Problem(400, str(exc), [item(str(exc), field=field, label="报告期")]) from None


def api_evidence_url(key: str, org: Organization, period: Period) -> str:
    """The API twin of the evidence page's one link form: key, org, and the exact period (start, end)."""
    query = {"key": key, "org": org.code, "start": period.start.isoformat(), "end": period.end.isoformat()}
    return f"{reverse('api:evidence')}?{urlencode(query)}"


# --- indicators --------------------------------------------------------------------------------------------------


@router.get("/indicators", response={200: IndicatorPage, **ERRORS}, url_name="indicators", summary="指标定义")
def list_indicators(
    request: HttpRequest,
    q: str = Query("", description="按指标键或名称查找", max_length=60),
    ledger: str = Query("", description="只列汇总该台账（代码）的指标"),
    page: int = PageNo,
    page_size: int = PageSize,
) -> Any:
    """指标的定义（键、名称、单位、汇总方式、台账）。数值用 /indicators/values 按组织和期间取。"""
    qs = Indicator.objects.select_related("ledger").order_by("key")
    if q:
        qs = qs.filter(Q(key__icontains=q) | Q(label__icontains=q))
    if ledger:
        qs = qs.filter(ledger__code=ledger)
    rows, numbers = page_of(qs, page, page_size)
    results = [figures.indicator_out(i) for i in rows]
    return {**numbers, "results": results}


@router.get("/indicators/values", response={200: ValuesOut, **ERRORS}, url_name="values", summary="指标数值")
def indicator_values(
    request: HttpRequest,
    org: str = OrgCode,
    year: int | None = Year,
    asked: str | None = Per,
    start: str | None = Start,
    end: str | None = End,
    wanted: str = Query("", alias="keys", description="指标键，多个用英文逗号分隔；不填为全部指标"),
) -> Any:
    """按本账号的权限计算：涉密台账的数对非成员只按保密规则提供汇总数，其余以 refused 说明原因。
    每个数值带回其佐证（依据的记录条数和链接）。"""
    user = account(request)
    where = _org(user, org)
    period = _period(year, start, end, asked)
    chosen = [k.strip() for k in wanted.split(",") if k.strip()]
    try:
        values = evaluate(where, period, chosen or None, previous=False, viewer=user)
    except UnknownIndicator as exc:
        raise Problem(400, f"【keys】{exc}", [item(str(exc), field="keys", label="指标键")]) from None
    chosen = chosen or sorted(values)
    rows = [figures.value_out(key, values[key], where, period, api_evidence_url, jsonable) for key in chosen]
    return figures.values_out(where, period, rows)


@router.get(
    "/indicators/evidence", response={200: EvidenceOut, **ERRORS}, url_name="evidence", summary="指标佐证"
)
def indicator_evidence(
    request: HttpRequest,
    key: str = Query(..., description="指标键（上年的值用 上年.指标键）"),
    org: str = OrgCode,
    year: int | None = Year,
    asked: str | None = Per,
    start: str | None = Start,
    end: str | None = End,
    page: int = PageNo,
    page_size: int = PageSize,
    group: str = Query(
        "", description="分组指标的某一组（groups 中的 name）：只列该组的记录", max_length=120
    ),
) -> Any:
    """一个数值所依据的记录（与网页佐证页相同）：涉密台账只对成员给出明细，敏感字段对无修改权限者打码；
    按保密规则不提供的数返回 403 和原因。"""
    user = account(request)
    where = _org(user, org)
    period = _period(year, start, end, asked)
    try:
        found = ev.gather(user, key, where, period, group)
    except (UnknownIndicator, ev.UnknownGroup) as exc:
        raise Problem(404, str(exc)) from None
    except ev.Refused as exc:
        record(
            Action.REFUSED,
            request=request,
            target=f"指标佐证 {key}（{where.code}）",
            reason=str(exc),
            via="api",
        )
        raise Problem(403, str(exc)) from None
    target = f"指标佐证 {found.key}（{where.code}，{found.period.label}）"
    record(Action.EVIDENCE_DOWNLOAD, request=request, target=target, format="api", rows=found.count)
    numbers = {"page": page, "pages": 1, "page_size": page_size}
    if found.records is not None:
        rows, numbers = page_of(found.records, page, page_size)
        found.records = rows  # type: ignore[assignment]  # evidence_out reads only this page
        if found.ledger is not None and found.ledger.confidential:
            record(
                Action.CONFIDENTIAL_READ,
                request=request,
                target=target,
                ledger=found.ledger.code,
                rows=len(rows),
            )
    numbers.pop("count", None)
    return {**figures.evidence_out(user, found), **numbers}


@router.get("/checks", response={200: ChecksOut, **ERRORS}, url_name="checks", summary="核对规则结果")
def checks(
    request: HttpRequest,
    org: str = OrgCode,
    year: int | None = Year,
    asked: str | None = Per,
    start: str | None = Start,
    end: str | None = End,
    pack: str = Query("", description="只运行该数据包的规则"),
) -> Any:
    """一致性核对（如 处分 = 党纪 + 政务 + 双重），按本账号能得到的数值核对。"""
    user = account(request)
    where = _org(user, org)
    period = _period(year, start, end, asked)
    results = run_checks(where, period, pack=pack or None, viewer=user)
    return figures.checks_out(where, period, results)


# --- reports -----------------------------------------------------------------------------------------------------


@router.get(
    "/reports/{slug:key}/{str:org}/{str:period}", response={200: ReportOut, **ERRORS, 422: s.ErrorOut},
    url_name="report", summary="生成报告（JSON）",
)  # fmt: skip
def report(request: HttpRequest, key: str, org: str, period: str) -> Any:
    """与 `dangjian report --format json` 相同的结构：全文、每个空位的指标、数值、文字和佐证，以及核对结果。
    期间写在路径末段：年度 2019，或 2019H1、2019Q1、2019-03、2019-01-01..2019-06-30。"""
    user = account(request)
    where = Organization.objects.filter(code=org, is_active=True).first()
    if where is None or not access.scope(user).may_run_report(where):
        raise Http404
    template = get_object_or_404(ReportTemplate, key=key)
    try:
        span = report_values.parse_period(period)
    except PeriodError as exc:
        raise Problem(400, str(exc), [item(str(exc), field="period", label="报告期")]) from None
    try:
        with viewing_as(user):
            rendered = render_report(template, where, span)
    except TemplateRefused as exc:
        raise Problem(422, f"模板无法使用：{exc}", [item(str(p)) for p in exc.problems]) from None
    record(Action.EXPORT, request=request, target=f"报告 {key} {org} {span.code}", format="api")
    return render_dict(rendered)


def _visible_runs(user: Any) -> Any:
    return ReportRun.objects.filter(org__in=access.scope(user).orgs()).select_related(
        "org", "template", "created_by"
    )


@router.get("/reports/runs", response={200: RunPage, **ERRORS}, url_name="runs", summary="定稿报告列表")
def list_runs(
    request: HttpRequest,
    org: str = Query("", description="只列该组织（代码）的定稿"),
    page: int = PageNo,
    page_size: int = PageSize,
) -> Any:
    runs = _visible_runs(account(request))
    if org:
        runs = runs.filter(org__code=org)
    rows, numbers = page_of(runs, page, page_size)
    return {**numbers, "results": [run_brief(r) for r in rows]}


@router.get(
    "/reports/runs/{int:pk}", response={200: RunOut, **ERRORS}, url_name="run", summary="一份定稿报告"
)
def get_run(request: HttpRequest, pk: int) -> Any:
    """定稿时保存的全文、空位和核对结果（定稿后不再变化）。"""
    run = get_object_or_404(_visible_runs(account(request)), pk=pk)
    record(
        Action.EXPORT,
        request=request,
        target=f"定稿报告 {run.pk}（{run.org.code} {run.period_label}）",
        format="api",
    )
    return {**run_dict(run), **run_brief(run)}
