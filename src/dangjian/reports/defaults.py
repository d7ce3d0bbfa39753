"""What the report form starts from, and what the preview warns about.

A clerk opening 报告 should see a report worth reading at once: their own reporting org (the highest org they hold a
role in), the templates meant for its kind, and the last completed year that has data in the org's subtree — not
the current, half-empty year. A period the data does not reach (no records at all, not begun, not finished) is
named on the preview page in Chinese instead of printing a report of zeros without a word."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from dangjian.orgs.models import Organization
from dangjian.records.models import Record
from dangjian.text import cn_date

from .models import ReportTemplate

# A completed year "has data" when it holds at least this share of the records of the org's busiest completed year:
# a year of activity, not a handful of entries dated after its end (述职评议 held in January for the year before).
BUSY_SHARE = 10


def home_org(orgs: Iterable[Organization]) -> Organization | None:
    """The account's reporting org: the highest of its orgs (the first by tree order among the shallowest)."""
    orgs = list(orgs)
    if not orgs:
        return None
    return min(orgs, key=lambda o: (o.depth, o.path))


def ordered_templates(templates: Iterable[ReportTemplate], org: Organization | None) -> list[ReportTemplate]:
    """Templates naming the org's kind first (they are meant for it), then those for every org; order kept."""
    templates = list(templates)
    if org is None:
        return templates
    return sorted(templates, key=lambda t: 0 if t.org_kinds and t.fits(org) else 1)


def _year_counts(orgs: list[Organization], before: dt.date) -> dict[str, dict[int, int]]:
    """Records per completed year for each org's subtree (by path), from one grouped query over the orgs given."""
    roots: list[str] = []  # the subtrees the orgs make up: a prefix match each, not a list of every org
    for path in sorted(o.path for o in orgs):
        if not any(path.startswith(r) for r in roots):
            roots.append(path)
    if not roots:
        return {}
    within = Q()
    for root in roots:
        within |= Q(org__path__startswith=root)
    rows = (
        Record.objects.alive()
        .filter(within, date__lt=before)
        .values("org__path", "date__year")
        .annotate(n=Count("id"))
        .order_by()
    )
    paths = {o.path for o in orgs}
    counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        path, year, n = row["org__path"], row["date__year"], row["n"]
        # roll each org's count up to every listed ancestor (treebeard paths: a fixed number of characters a level)
        for end in range(Organization.steplen, len(path) + 1, Organization.steplen):
            if path[:end] in paths:
                counts[path[:end]][year] += n
    return counts


def _data_year(per_year: dict[int, int]) -> int | None:
    if not per_year:
        return None
    busiest = max(per_year.values())
    return max(y for y, n in per_year.items() if n * BUSY_SHARE >= busiest)


def last_years(orgs: list[Organization]) -> dict[str, int]:
    """org code → the year a report on it starts from: the latest completed year with data in its subtree, else
    last year."""
    today = timezone.localdate()
    counts = _year_counts(orgs, dt.date(today.year, 1, 1))
    fallback = today.year - 1
    return {o.code: _data_year(counts.get(o.path, {})) or fallback for o in orgs}


def period_warnings(template: ReportTemplate, org: Organization, period: Any) -> list[str]:
    """What the preview says before a report the data cannot fill: a template not meant for the org, no records in
    the period, a period not begun or not finished. Empty when the report stands on data."""
    warnings = []
    if not template.fits(org):
        warnings.append(
            f"报告模板“{template.label}”适用于{template.kind_labels()}，不适用于“{org.name}”，"
            "报告中的许多数字可能没有意义。"
        )
    today = timezone.localdate()
    if period.start > today:
        warnings.append(f"报告期{period.label}尚未开始（今天是{cn_date(today)}），还没有任何数据。")
    elif (
        not Record.objects.alive()
        .filter(org__path__startswith=org.path, date__gte=period.start, date__lte=period.end)
        .exists()
    ):
        warnings.append(
            f"“{org.name}”及其下级组织在{period.label}（{cn_date(period.start)}至{cn_date(period.end)}）"
            "没有任何台账记录，报告中的数字将为 0 或“（无数据）”。请确认组织和报告期是否选对。"
        )
    elif period.end >= today:
        warnings.append(
            f"报告期{period.label}尚未结束，报告中的数字截至今天（{cn_date(today)}），不是全期数据。"
        )
    return warnings


def suggested_year(org: Organization) -> int:
    """The year the report form would start from for this org."""
    return last_years(list(org.subtree()))[org.code]
