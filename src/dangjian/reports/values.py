"""Where a report's figures come from: the indicators stage, behind four small functions.

Every call the reports stage makes into `dangjian.indicators` goes through here, so that the rest of the stage
reads as "values in, text out" and tests can swap in a fake source without touching the renderers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dangjian.indicators.links import with_back as with_back  # an evidence link that leads back (from=)
from dangjian.indicators.periods import FIRST_YEAR as FIRST_YEAR  # re-exported: bounds live with the parser
from dangjian.indicators.periods import QUARTERS as QUARTERS
from dangjian.indicators.periods import Period, parse_choice
from dangjian.indicators.periods import PeriodError as PeriodError
from dangjian.indicators.periods import last_year as last_year

PREVIOUS = "上年"  # 上年.<key>: 上年同期, the same span a year earlier
LAST_PERIOD = "上期"  # 上期.<key>: the period of the same kind just before
COMPARISONS = (PREVIOUS, LAST_PERIOD)


def year_problem(year: int) -> str | None:
    """Why a report year cannot be used (a Chinese sentence), or None when it can."""
    try:
        Period.parse(str(year))
    except PeriodError as exc:
        return str(exc)
    return None


def period_for_year(year: int) -> Any:
    return Period.year(year)


def parse_period(text: str) -> Any:
    """The period `text` names (2019, 2019H1, 2019Q1, 2019-03, 2019-01-01..2019-06-30, or their Chinese forms).
    Raises PeriodError with the Chinese reason."""
    return Period.parse(text)


def choose_period(year: Any, period: Any) -> Any:
    """`year` (a shorthand) or `period`, exactly one of them, through the one parser. Raises PeriodError."""
    return parse_choice(year, period)


def period_from_dates(start: dt.date, end: dt.date) -> Any:
    return Period(start, end)


def known_keys() -> set[str] | None:
    """Every indicator key a template may name (with its `上年.` and `上期.` twins), or None when indicators are
    unavailable."""
    try:
        from dangjian.indicators.models import Indicator
    except ImportError:  # pragma: no cover - only while the indicators stage is absent
        return None
    keys = set(Indicator.objects.values_list("key", flat=True))
    return keys | {f"{prefix}.{k}" for prefix in COMPARISONS for k in keys}


def evaluate(org: Any, period: Any, keys: set[str] | None = None) -> dict[str, Any]:
    """Indicator values for (org subtree, period) — those named (with what their formulas need), or all —
    the same span a year earlier's under `上年.<key>`, and those named `上期.<key>` for the period just before."""
    from dangjian.indicators.engine import evaluate as engine_evaluate

    return engine_evaluate(org, period, keys=keys, previous=True)


def evidence_url(key: str, org: Any, period: Any, aggregate: str = "", group: str = "") -> str | None:
    """The page listing the records behind the value `key` of the report for (org, period), in the one link form
    (indicators/links.py; a `上年.` or `上期.` key links to its key for that period). An org or period attribute has
    no records behind it, hence no link."""
    from django.urls import NoReverseMatch

    from dangjian.indicators.links import evidence_url as link

    if aggregate == "attribute":
        return None
    try:
        return link(key, org, period, group)
    except NoReverseMatch:  # the evidence page is not installed: the report still renders, without links
        return None


def computed_for(key: str, period: Any) -> Any:
    """The period the value `key` of a report for `period` was computed for: the same span a year earlier for
    `上年.` keys, the period just before for `上期.` keys."""
    from dangjian.indicators.links import computed_for as span

    return span(key, period)[1]


def run_checks(org: Any, period: Any, values: dict[str, Any], pack: str | None) -> list[Any]:
    from dangjian.indicators.engine import run_checks as engine_run_checks

    return engine_run_checks(org, period, values=values, pack=pack or None)
