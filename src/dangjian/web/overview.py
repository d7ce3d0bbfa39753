"""概览: the figures of the overview pages, each chart as its rows of cells.

One `Chart` feeds the page's table (visible, and all there is when scripts are off), the chart drawn from it by
overview.js, the JSON twin and the xlsx: the same cells, each number with the link it opens (a task's progress,
the overdue list of a unit, the items closed in a month, an indicator's evidence page).

What the account may see is the Scope's and the stages' own: tasks through `Scope.tasks`/`targets`, list items
through `Scope.records` (a confidential ledger's items are counted only for those who may see its rows), ledger
entries only of the ledger types whose rows it sees, indicator values through the engine for the request's viewer
(保密规则: a confidential figure as `figure_access` allows, else withheld with its reason).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Max, Q
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from dangjian.indicators import engine
from dangjian.indicators.periods import Period
from dangjian.lists import workflow
from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.records.models import LedgerType, Record
from dangjian.tasks.models import CollectionTask, TargetStatus, TaskTarget
from dangjian.text import cn_date, cn_month, number_text

from .models import Dashboard

TASKS_SHOWN = 12  # the year's most recent tasks on the district overview
ITEMS_SHOWN = 20  # overdue items listed on a unit's page (the full list is one click away)
NO_SOURCE = "（未填来源）"


# --- charts as rows of cells ---------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One cell: its text, its number (None for a name or a withheld figure), and where a click leads."""

    text: str
    value: int | float | None = None
    url: str = ""
    note: str = ""  # why a figure is withheld, or what it counts

    def dump(self) -> dict[str, Any]:
        return {"text": self.text, "value": self.value, "url": self.url, "note": self.note}


def number(n: int | float | Decimal | None, url: str = "", note: str = "") -> Cell:
    if n is None:
        return Cell("—", None, url, note)
    value: int | float = int(n) if n == int(n) else float(n)
    return Cell(number_text(n), value, url, note)


def share(part: int, whole: int) -> Cell:
    """A percentage with one decimal, "—" when nothing to divide by."""
    if not whole:
        return Cell("—", None)
    pct = round(part * 100 / whole, 1)
    return Cell(f"{pct:g}%", pct)


@dataclass
class Chart:
    """A chart and its table. `kind`: bar (columns), hbar (horizontal bars, ranked), stack (stacked horizontal
    bars, parts of a whole). `series`: the columns drawn as bars; `lines`: percentage columns drawn as lines on
    a second axis (both as indexes into `columns`, the first column being the category)."""

    key: str
    title: str
    kind: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    series: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    caption: str = ""
    empty: str = "暂无数据"

    def spec(self) -> dict[str, Any]:
        """What overview.js draws: the categories, the series with their values and links."""
        series = self.series or [i for i in range(1, len(self.columns)) if i not in self.lines]
        return {
            "kind": self.kind,
            "title": self.title,
            "categories": [row[0].text for row in self.rows],
            "category_urls": [row[0].url for row in self.rows],
            "series": [self._series(i, "bar") for i in series]
            + [self._series(i, "line") for i in self.lines],
        }

    def _series(self, i: int, how: str) -> dict[str, Any]:
        return {
            "name": self.columns[i],
            "type": how,
            "data": [row[i].value for row in self.rows],
            "urls": [row[i].url for row in self.rows],
        }

    def dump(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "caption": self.caption,
            "columns": self.columns,
            "rows": [[c.dump() for c in row] for row in self.rows],
        }

    def sheet_rows(self) -> list[dict[str, Any]]:
        """Rows for `spreadsheets.xlsx.table` under `Column(title, str(index))`: numbers as numbers."""
        return [
            {str(i): (c.value if c.value is not None else c.text) for i, c in enumerate(row)}
            for row in self.rows
        ]


@dataclass
class Tile:
    """A 驾驶舱 figure: this period's value against the last, each opening its evidence."""

    label: str
    unit: str
    now: Cell
    before: Cell
    change: str
    trend: str  # up, down, same, "" (not comparable)


@dataclass
class Overview:
    org: Organization
    period: Period
    charts: list[Chart]
    tiles: list[Tile] = field(default_factory=list)
    dashboards: list[Dashboard] = field(default_factory=list)
    rank_keys: list[tuple[str, str]] = field(
        default_factory=list
    )  # (indicator key, label) units may be ranked by
    rank_key: str = ""
    items: list[workflow.OverdueItem] = field(default_factory=list)  # a unit's overdue items (its page)
    overdue_total: int = 0
    month: dt.date | None = None  # a unit's page: the month compared with the same month last year

    def chart(self, key: str) -> Chart | None:
        return next((c for c in self.charts if c.key == key), None)

    def dump(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "org": {"code": self.org.code, "name": self.org.name},
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "charts": [c.dump() for c in self.charts],
        }
        if self.month is not None:
            data["month"] = self.month.isoformat()[:7]
        return data


# --- periods -------------------------------------------------------------------------------------------------------


def default_year(today: dt.date | None = None) -> int:
    """The latest year up to today that holds ledger records (the current year once it has any)."""
    day = today or timezone.localdate()
    latest = Record.objects.filter(is_deleted=False, date__lte=day).aggregate(m=Max("date"))["m"]
    return latest.year if latest else day.year


# --- links ---------------------------------------------------------------------------------------------------------


def unit_url(org: Organization, **query: Any) -> str:
    url = reverse("overview:unit", args=[org.code])
    return f"{url}?{urlencode(query)}" if query else url


def overdue_url(org: Organization | None) -> str:
    url = reverse("ledgers:overdue")
    return f"{url}?{urlencode({'org': org.code})}" if org is not None else url


def closed_url(org: Organization, month: dt.date) -> str:
    return f"{reverse('overview:closed')}?{urlencode({'org': org.code, 'month': month.isoformat()[:7]})}"


def records_url(lt: LedgerType, org: Organization, start: dt.date, end: dt.date) -> str:
    query = {"org": org.code, "from": start.isoformat(), "to": end.isoformat()}
    return f"{reverse('ledgers:records', args=[lt.code])}?{urlencode(query)}"


# --- the parts -----------------------------------------------------------------------------------------------------


def _children(org: Organization) -> list[Organization]:
    children = Organization.objects.filter(path__startswith=org.path, depth=org.depth + 1, is_active=True)
    return list(children.order_by("path"))


def _targets(user: Any, org: Organization, tasks: list[CollectionTask], *group: Any) -> list[tuple[Any, ...]]:
    """The targets of `tasks` within `org`'s subtree the account sees, counted by (`group`…, status): one query
    for the tasks whose whole progress it sees and one for the others (only its own units' targets)."""
    scope = access.scope(user)
    full = [t.pk for t in tasks if scope.may_see_progress(t)]
    part = [t.pk for t in tasks if t.pk not in full]
    base = TaskTarget.objects.filter(org__path__startswith=org.path)
    keys = {f"g{i}": expr for i, expr in enumerate(group)}
    rows: list[tuple[Any, ...]] = []
    for qs in (
        base.filter(task__in=full) if full else None,
        base.filter(task__in=part, org__in=scope.orgs().values("pk")) if part else None,
    ):
        if qs is not None:
            grouped = qs.annotate(**keys).values_list(*keys, "status").annotate(n=Count("pk")).order_by()
            rows += list(grouped)
    return rows


def _tasks(user: Any, org: Organization, year: int) -> list[CollectionTask]:
    """The year's tasks whose whole progress the account sees, launched within `org`'s subtree (newest first)."""
    scope = access.scope(user)
    in_year = Q(period_start__year=year) | Q(period_end__year=year) | Q(deadline__year=year)
    qs = scope.tasks(CollectionTask.objects.filter(in_year, creator_org__path__startswith=org.path))
    return [t for t in qs.select_related("creator_org").order_by("-deadline", "-id")[:TASKS_SHOWN * 2]
            if scope.may_see_progress(t)][:TASKS_SHOWN]  # fmt: skip


def _not_submitted(statuses: dict[str, int]) -> int:
    return sum(n for s, n in statuses.items() if s != TargetStatus.SUBMITTED)


def tasks_chart(user: Any, org: Organization, tasks: list[CollectionTask], *, own: bool = False) -> Chart:
    """填报任务 completion: per task, the units asked (within `org`) that have submitted and those that have not."""
    chart = Chart(
        "tasks",
        "填报任务完成情况",
        "stack",
        ["填报任务", "已报送", "未报送", "截止日期", "情况"],
        series=[1, 2],
        caption="点击任务查看各单位的报送情况。" if not own else "点击任务查看本单位的填报和报送。",
        empty="本年度没有填报任务。",
    )
    by_task: dict[int, dict[str, int]] = defaultdict(dict)
    for task_id, status, n in _targets(user, org, tasks, F("task_id")):
        by_task[task_id][status] = by_task[task_id].get(status, 0) + n
    for task in tasks:
        statuses = by_task.get(task.pk, {})
        total = sum(statuses.values())
        if not total:
            continue
        late = _not_submitted(statuses)
        url = reverse("ledgers:task", args=[task.pk])
        chart.rows.append(
            [
                Cell(task.title, None, url),
                number(statuses.get(TargetStatus.SUBMITTED, 0), url),
                number(late, url),
                Cell(cn_date(task.deadline)),
                Cell(f"{total}个单位中{late}个未报送" if late else f"{total}个单位全部报送"),
            ]
        )
    return chart


def task_units_chart(user: Any, org: Organization, tasks: list[CollectionTask]) -> Chart:
    """The same tasks by the district's direct units: how many of each one's units have submitted."""
    chart = Chart(
        "task_units",
        "各单位报送情况",
        "stack",
        ["单位", "已报送", "未报送"],
        caption="统计上表各任务中该单位及其下级单位的报送；点击单位查看其概览。",
        empty="没有需要报送的单位。",
    )
    children = _children(org)
    by_path = {child.path: child for child in children}
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    width = (org.depth + 1) * Organization.steplen
    for path, status, n in _targets(user, org, tasks, Substr("org__path", 1, width)):
        if path in by_path:
            counts[by_path[path].pk][status] += n
    for child in children:
        got = counts.get(child.pk)
        if not got:
            continue
        url = unit_url(child)
        chart.rows.append(
            [Cell(child.display_name, None, url), number(got[TargetStatus.SUBMITTED], url), number(_not_submitted(got), url)]
        )  # fmt: skip
    chart.rows.sort(key=lambda r: (-(r[2].value or 0), r[0].text))
    return chart


def overdue_charts(user: Any, org: Organization) -> tuple[Chart, Chart, int]:
    """Overdue list items by the org's direct units and by source (the overdue list's rule, counted in SQL)."""
    counts = workflow.overdue_counts(user, org=org, depth=org.depth + 1)
    children = _children(org)
    by_unit: Counter[int] = Counter()
    own = 0
    by_source: Counter[str] = Counter()
    by_path = {child.path: child for child in children}
    for c in counts:
        child = by_path.get(c.org_path)
        if child is None:
            own += c.count
        else:
            by_unit[child.pk] += c.count
        by_source[c.source or NO_SOURCE] += c.count
    units = Chart(
        "overdue_units",
        "逾期事项（按单位）",
        "hbar",
        ["单位", "逾期事项"],
        caption="已过整改时限仍未销号的清单事项，含下级单位；点击查看该单位的逾期事项。",
        empty="没有逾期事项。",
    )
    for child in children:
        if by_unit[child.pk]:
            units.rows.append(
                [
                    Cell(child.display_name, None, unit_url(child)),
                    number(by_unit[child.pk], overdue_url(child)),
                ]
            )
    if own:
        units.rows.append([Cell(f"{org.display_name}本级"), number(own, overdue_url(org))])
    units.rows.sort(key=lambda r: (-(r[1].value or 0), r[0].text))
    sources = Chart(
        "overdue_sources",
        "逾期事项（按来源）",
        "hbar",
        ["来源", "逾期事项"],
        caption="点击查看全部逾期事项。",
        empty="没有逾期事项。",
    )
    for name, n in by_source.most_common():
        sources.rows.append([Cell(name, None, overdue_url(org)), number(n, overdue_url(org))])
    return units, sources, sum(c.count for c in counts)


def closure_chart(user: Any, org: Organization, year: int) -> Chart:
    """销号 and on-time rates by month of the year (list items the account may see, within `org`)."""
    chart = Chart(
        "closure",
        "清单事项销号情况（按月）",
        "bar",
        ["月份", "到期事项", "到期已销号", "销号事项", "按时销号", "销号率", "按时销号率"],
        series=[1, 2, 3],
        lines=[5, 6],
        caption="到期事项：整改时限在该月；销号率＝到期已销号÷到期事项；按时销号率＝按时销号÷该月销号事项。点击月份查看该月销号的事项。",
    )
    for m in workflow.closure_by_month(user, year, org=org):
        month = dt.date(year, m.month, 1)
        url = closed_url(org, month)
        chart.rows.append(
            [
                Cell(cn_month(month), None, url),
                number(m.due),
                number(m.due_closed),
                number(m.closed, url),
                number(m.on_time, url),
                share(m.due_closed, m.due),
                share(m.on_time, m.closed),
            ]
        )
    if not any(row[1].value or row[3].value for row in chart.rows):
        chart.rows = []
        chart.empty = "本年度没有到期或销号的清单事项。"
    return chart


def _value_cell(value: engine.Value | None, url: str) -> Cell:
    if value is None:
        return Cell("—")
    if value.refused:
        return Cell("不提供", None, "", value.refused)
    raw = value.value
    if isinstance(raw, (int, Decimal)) and not isinstance(raw, bool):
        return number(raw, url, value.note)
    if raw in (None, ""):
        return Cell("—", None, url, value.note)
    return Cell(str(raw), None, url, value.note)


def _trend(now: Cell, before: Cell) -> tuple[str, str]:
    if now.value is None or before.value is None:
        return "", ""
    diff = now.value - before.value
    if diff == 0:
        return "持平", "same"
    shown = number_text(Decimal(str(abs(diff))))
    return (f"增加 {shown}", "up") if diff > 0 else (f"减少 {shown}", "down")


def cockpit(
    org: Organization, period: Period, dashboards: list[Dashboard], defs: Any
) -> tuple[list[Tile], Chart]:
    """驾驶舱: the key indicators the packs name, this period against the last (上年同期 for a year), computed by
    the engine for the request's viewer, each value opening its evidence page."""
    keys = list(dict.fromkeys(k for d in dashboards for k in d.cockpit if k in defs))
    chart = Chart(
        "cockpit",
        "重点指标（本期与上期）",
        "table",
        ["指标", "单位", period.label, period.same_last_year().label, "变化"],
        caption="点击数字查看其依据的记录（佐证）。",
        empty="数据包没有指定重点指标（驾驶舱）。",
    )
    if not keys:
        return [], chart
    values = engine.evaluate(org, period, keys, previous=True, defs=defs)
    tiles: list[Tile] = []
    for key in keys:
        ind = defs[key]
        now = _value_cell(values.get(key), engine.evidence_url(key, org, period))
        before = _value_cell(
            values.get(f"{engine.PREFIX}{key}"), engine.evidence_url(f"{engine.PREFIX}{key}", org, period)
        )
        change, trend = _trend(now, before)
        tiles.append(Tile(ind.label, ind.unit, now, before, change, trend))
        chart.rows.append([Cell(ind.label), Cell(ind.unit), now, before, Cell(change or "—")])
    return tiles, chart


def ranking_chart(org: Organization, period: Period, key: str, defs: Any) -> Chart:
    """Units (the org's direct children) ranked by one indicator: the engine's grouped evaluation (one query for
    all units on a ledger indicator), for the request's viewer (保密规则 per unit)."""
    ind = defs[key]
    chart = Chart(
        "ranking",
        f"单位排名：{ind.label}",
        "hbar",
        ["单位", f"{ind.label}（{ind.unit}）" if ind.unit else ind.label],
        caption="点击数字查看该单位的佐证记录。",
        empty="没有下级单位。",
    )
    children = _children(org)
    values = engine.evaluate_units(org, children, period, [key], defs=defs)
    for child in children:
        value = values[child.pk].get(key)
        url = engine.evidence_url(key, child, period)
        chart.rows.append([Cell(child.display_name, None, unit_url(child)), _value_cell(value, url)])
    chart.rows.sort(key=lambda r: (r[1].value is None, -(r[1].value or 0), r[0].text))
    return chart


# --- the two pages -------------------------------------------------------------------------------------------------


def district(user: Any, org: Organization, year: int, rank_key: str = "") -> Overview:
    """The overview for leaders and district staff."""
    period = Period.year(year)
    tasks = _tasks(user, org, year)
    units, sources, total = overdue_charts(user, org)
    dashboards = list(Dashboard.objects.all())
    defs = engine.definitions(k for d in dashboards for k in [*d.cockpit, *d.ranking])
    tiles, cockpit_table = cockpit(org, period, dashboards, defs)
    rank_keys = [
        (k, defs[k].label) for k in dict.fromkeys(k for d in dashboards for k in d.ranking) if k in defs
    ]
    chosen = rank_key if rank_key in dict(rank_keys) else (rank_keys[0][0] if rank_keys else "")
    charts = [
        tasks_chart(user, org, tasks),
        task_units_chart(user, org, tasks),
        units,
        sources,
        closure_chart(user, org, year),
        cockpit_table,
    ]
    if chosen:
        charts.append(ranking_chart(org, period, chosen, defs))
    return Overview(org, period, charts, tiles, dashboards, rank_keys, chosen, overdue_total=total)


def unit(user: Any, org: Organization, month: dt.date) -> Overview:
    """A unit's own page: its tasks, its overdue items, its ledger entries this month against last year's."""
    period = Period.year(month.year)
    scope = access.scope(user)
    in_year = Q(period_start__year=month.year) | Q(period_end__year=month.year) | Q(deadline__year=month.year)
    tasks = list(
        scope.tasks(
            CollectionTask.objects.filter(in_year, targets__org__path__startswith=org.path).distinct()
        ).order_by("-deadline", "-id")[:TASKS_SHOWN]
    )
    items = workflow.overdue_items(user=user, org=org)
    sources = Chart(
        "overdue_sources",
        "逾期事项（按来源）",
        "hbar",
        ["来源", "逾期事项"],
        caption="点击查看该单位的全部逾期事项。",
        empty="没有逾期事项。",
    )
    for name, n in workflow.summary(items)["by_source"]:
        sources.rows.append([Cell(name, None, overdue_url(org)), number(n, overdue_url(org))])
    charts = [tasks_chart(user, org, tasks, own=True), sources, entries_chart(user, org, month)]
    return Overview(org, period, charts, items=items[:ITEMS_SHOWN], overdue_total=len(items), month=month)


def entries_chart(user: Any, org: Organization, month: dt.date) -> Chart:
    """Ledger entries of the unit (and its sub-units) dated in the month and in the same month last year, per ledger
    type whose rows the account sees (a confidential ledger's count only for its members): one grouped query."""
    this = Period.month(month.year, month.month)
    last = this.same_last_year()
    now, before = (this.start, this.end), (last.start, last.end)
    chart = Chart(
        "entries",
        "台账记录（本月与上年同月）",
        "hbar",
        ["台账", this.label, last.label],
        caption="按记录日期统计本单位及下级单位的记录；点击数字查看这些记录。",
        empty="本月和上年同月都没有记录。",
    )
    scope = access.scope(user)
    ledgers = {lt.pk: lt for lt in scope.ledger_types(LedgerType.objects.filter(is_active=True))}
    rows = (
        Record.objects.filter(
            Q(date__gte=now[0], date__lte=now[1]) | Q(date__gte=before[0], date__lte=before[1]),
            org__path__startswith=org.path,
            ledger_type__in=list(ledgers),
            is_deleted=False,
        )
        .values_list("ledger_type_id", "date__year")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    for lt_id, year, n in rows:
        counts[lt_id][year] = n
    for lt in sorted((ledgers[i] for i in counts), key=lambda lt: (lt.order, lt.code)):
        got = counts[lt.pk]
        chart.rows.append(
            [
                Cell(lt.label, None, records_url(lt, org, *now)),
                number(got.get(month.year, 0), records_url(lt, org, *now)),
                number(got.get(month.year - 1, 0), records_url(lt, org, *before)),
            ]
        )
    return chart
