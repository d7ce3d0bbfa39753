"""The one way to a value's evidence: the link to the evidence page, built here and read back here.

One form only: `/indicators/evidence/?key=<指标键>&org=<组织代码>&start=<起始日期>&end=<截止日期>` — the indicator,
the org whose subtree was summed, and the exact period the value was computed for. A report's `上年.<key>` is the
key computed for the period before, so its link names the key and that period (上年.学习.次数 in the 2019 report →
key=学习.次数, 2018-01-01 to 2018-12-31). Links of the older forms (`year=2019`, a `上年.` key) still open: the page
answers them with a permanent redirect to the one form (see `canonical_query`).

A leaf of the indicators stage (it imports no model), so the engine, the evidence page, the API and the reports
stage all take the link from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from django.urls import reverse

from . import formulas

PERIOD_HELP = "请用 start=2019-01-01&end=2019-12-31（或 period=2019Q1，或旧链接的 year=2019）"


PREVIOUS = formulas.PREVIOUS + "."  # 上年.
LAST_PERIOD = formulas.LAST_PERIOD + "."  # 上期.


class _Span(Protocol):
    """A period (engine.Period): its first and last day, and the same span a year earlier."""

    @property
    def start(self) -> dt.date: ...

    @property
    def end(self) -> dt.date: ...

    def same_last_year(self) -> Any: ...

    def previous(self) -> Any: ...


class BadLink(ValueError):
    """The link cannot be read; the message says which part, in Chinese."""


@dataclass(frozen=True)
class EvidenceLink:
    """What the evidence page is asked: one indicator key, for one org's subtree, for one period."""

    key: str
    org: str  # the org's code
    start: dt.date
    end: dt.date
    group: str = ""  # one group of a grouped indicator (grouped.py): its part's records only

    @property
    def url(self) -> str:
        params = {
            "key": self.key,
            "org": self.org,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }
        if self.group:
            params["group"] = self.group
        return f"{reverse('indicators:evidence')}?{urlencode(params)}"

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> EvidenceLink:
        """Read the one form back (raises BadLink naming the parameter that is wrong)."""
        key, org = str(query.get("key") or "").strip(), str(query.get("org") or "").strip()
        try:
            start = dt.date.fromisoformat(str(query.get("start") or ""))
            end = dt.date.fromisoformat(str(query.get("end") or ""))
        except ValueError:
            raise BadLink(f"期间参数不正确：{PERIOD_HELP}") from None
        if end < start:
            raise BadLink("期间的截止日期不能早于起始日期")
        return cls(key, org, start, end, str(query.get("group") or "").strip())


def computed_for(key: str, period: _Span) -> tuple[str, Any]:
    """The indicator and the period behind the value `key` of an evaluation for `period`: itself, or for
    `上年.<key>` the key and the same span a year earlier, for `上期.<key>` the key and the period just before."""
    if key.startswith(PREVIOUS):
        return key.removeprefix(PREVIOUS), period.same_last_year()
    if key.startswith(LAST_PERIOD):
        return key.removeprefix(LAST_PERIOD), period.previous()
    return key, period


def link_for(key: str, org_code: str, period: _Span, group: str = "") -> EvidenceLink:
    """What to ask the evidence page about the value `key` of an evaluation for (the org, `period`)."""
    key, span = computed_for(key, period)
    return EvidenceLink(key, org_code, span.start, span.end, group)


def evidence_url(key: str, org: Any, period: _Span, group: str = "") -> str:
    """The link to the records behind the value `key` of an evaluation for (`org`, `period`): the one builder of
    that link, for the report, a formula's operands, the comparison with a finalised run and the API. `group`: one
    group of a grouped indicator (its part's records)."""
    return link_for(key, org.code, period, group).url


def with_back(url: str | None, back: str) -> str | None:
    """An evidence link that leads back: the page it is opened from (a report, a finalised run, a comparison) rides
    along as `from=`, which the evidence page offers as 返回报告 when it is a path on this site."""
    if not url or not back:
        return url
    return url + ("&" if "?" in url else "?") + urlencode({"from": back})


def canonical_query(query: Any) -> str | None:
    """For a link of an older or shorter form (`year=2019`, `period=2019Q1`, or a `上年.` key), the query string of the one form, every other
    parameter kept (format, page); None when the link is already in the one form. `query` is a request's
    QueryDict. Raises BadLink when the old link's period cannot be read."""
    key = str(query.get("key") or "").strip()
    if "year" not in query and "period" not in query and not key.startswith((PREVIOUS, LAST_PERIOD)):
        return None
    from .periods import Period, PeriodError

    try:
        if "period" in query:
            try:
                period = Period.parse(str(query["period"]))
            except PeriodError as exc:
                raise BadLink(str(exc)) from None
        elif "year" in query:
            period = Period.year(int(query["year"]))
        else:
            asked = EvidenceLink.from_query(query)
            period = Period(asked.start, asked.end)
        link = link_for(key, str(query.get("org") or "").strip(), period)
    except BadLink:
        raise
    except (ValueError, OverflowError):  # a year out of range, or no year before it
        raise BadLink(f"期间参数不正确：{PERIOD_HELP}") from None
    rest = query.copy()
    for name in ("key", "org", "year", "period", "start", "end"):
        rest.pop(name, None)
    tail = rest.urlencode()
    return link.url.partition("?")[2] + (f"&{tail}" if tail else "")
