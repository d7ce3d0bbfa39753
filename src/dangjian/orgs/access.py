"""The one place that decides who may see or change what.

Every query for ledger records goes through `records()`. Rules:
- A membership (user, org, role) applies to the org's whole subtree.
- Any role may see records reported by orgs in its subtrees; 填报员, 审核员 and 管理员 may also enter and change them;
  审核员 and 管理员 review.
- A confidential ledger type names orgs (e.g. 区纪委监委), directly or by kind (纪检监察机关): only users holding a
  membership at one of those orgs (or below) see its rows. Everyone else who may run a report sees only its aggregates.
- The system administrator (superuser) manages accounts and backups; superuser status grants no ledger access,
  so without a membership he sees no records at all (separation of duties).
- What those others may get from a confidential ledger (保密规则, docs/guide.md) is decided by `figure_access()`:
  only counts and sums, only for whole calendar years, halves and quarters, only for whole subtrees, never names,
  and never a figure that small counts could be recovered from by subtracting one allowed figure from another.

This module knows ledger types and records only by duck typing (`.confidential`, `.confidential_orgs`, `.org`),
so the orgs stage never imports the stages to its right.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from .models import Membership, Organization, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

ALL_ROLES = frozenset(Role.values)
WRITE_ROLES = frozenset({Role.ADMIN, Role.REVIEWER, Role.CLERK})
REVIEW_ROLES = frozenset({Role.ADMIN, Role.REVIEWER})

_CACHE_ATTR = "_dangjian_memberships"


def _memberships(user: Any) -> list[tuple[str, str]]:
    """(org path, role) for each membership of an active org, cached on the user object for one request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user, org__is_active=True).values_list("org__path", "role")
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget(user: Any) -> None:
    """Drop the cached memberships (after they change)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _roots(paths: set[str]) -> list[str]:
    """Keep only paths that are not inside another one: the smallest set of subtrees covering them all."""
    roots: list[str] = []
    for path in sorted(paths):
        if not any(path.startswith(r) for r in roots):
            roots.append(path)
    return roots


def scope_paths(user: Any, roles: frozenset[str] = ALL_ROLES) -> list[str]:
    return _roots({path for path, role in _memberships(user) if role in roles})


def _path_q(paths: list[str], field: str) -> Q:
    if not paths:
        return Q(pk__in=[])
    q = Q()
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


def orgs(user: Any, roles: frozenset[str] = ALL_ROLES) -> QuerySet[Organization]:
    """Organisations within the user's subtrees for the given roles."""
    return Organization.objects.filter(_path_q(scope_paths(user, roles), "path"))


def covers(user: Any, org: Organization, roles: frozenset[str] = ALL_ROLES) -> bool:
    return any(org.path.startswith(p) for p in scope_paths(user, roles))


def has_any_role(user: Any) -> bool:
    return bool(_memberships(user))


# --- ledger types -----------------------------------------------------------------------------------------


def confidential_orgs(ledger_type: Any) -> QuerySet[Organization]:
    """The orgs whose members may see a confidential ledger's rows: named directly or by kind."""
    return Organization.objects.filter(
        Q(pk__in=ledger_type.confidential_orgs.all()) | Q(kinds__in=ledger_type.confidential_kinds.all())
    ).distinct()


def may_see_rows(user: Any, ledger_type: Any) -> bool:
    """May this user see individual records of this ledger type (somewhere)?"""
    return has_any_role(user) and outsider(user, ledger_type) is None


def ledger_types(user: Any, queryset: QuerySet) -> QuerySet:
    """Ledger types whose rows the user may see (confidential ones only for members of the named orgs)."""
    if not has_any_role(user):
        return queryset.none()
    visible = [lt.pk for lt in queryset.filter(confidential=True) if may_see_rows(user, lt)]
    return queryset.filter(Q(confidential=False) | Q(pk__in=visible))


# --- records ------------------------------------------------------------------------------------------------


def records(
    user: Any,
    ledger_type: Any,
    queryset: QuerySet,
    *,
    roles: frozenset[str] = ALL_ROLES,
    include_deleted: bool = False,
) -> QuerySet:
    """The records of `ledger_type` in `queryset` that the user may see (or, with roles, act upon)."""
    if not may_see_rows(user, ledger_type):
        return queryset.none()
    # The scope as a subquery on org ids: both databases semi-join it once instead of joining every record's org.
    in_scope = Organization.objects.filter(_path_q(scope_paths(user, roles), "path")).values("pk")
    qs = queryset.filter(ledger_type=ledger_type, org__in=in_scope)
    return qs if include_deleted else qs.filter(is_deleted=False)


def may_view_record(user: Any, record: Any) -> bool:
    return may_see_rows(user, record.ledger_type) and covers(user, record.org)


def may_enter(user: Any, ledger_type: Any, org: Organization) -> bool:
    """May the user add records of this ledger type for this org?"""
    return org.is_active and may_see_rows(user, ledger_type) and covers(user, org, WRITE_ROLES)


def may_change_record(user: Any, record: Any) -> bool:
    """May the user edit, delete or restore this record? (Locks by 报送 are checked by the ledgers stage.)"""
    return may_see_rows(user, record.ledger_type) and covers(user, record.org, WRITE_ROLES)


def may_review(user: Any, org: Organization) -> bool:
    return covers(user, org, REVIEW_ROLES)


def entry_orgs(user: Any, ledger_type: Any | None = None) -> QuerySet[Organization]:
    """Active orgs for which the user may enter records."""
    if ledger_type is not None and not may_see_rows(user, ledger_type):
        return Organization.objects.none()
    return orgs(user, WRITE_ROLES).filter(is_active=True)


def may_run_report(user: Any, org: Organization) -> bool:
    """Reports (aggregates only for confidential ledgers) for any org within the user's subtrees."""
    return covers(user, org)


# --- confidential figures (保密规则) ---------------------------------------------------------------------------
#
# Whoever may run a report for an org may have figures from a confidential ledger without being a member of the
# orgs it names, but only figures that cannot be pieced together into single cases:
# 1. counts and sums (count, count_distinct, sum, and share, a ratio of two counts); never avg/min/max/avg_age,
#    which give one record's value (the earliest 立案日期, one person's 涉案金额), and never lists of names, except
#    a list its pack marks `disclose` (names the annual report publishes), for whole years only;
# 2. whole calendar years, halves and quarters only: no month, day or arbitrary window to slide;
# 3. whole subtrees only: an org below a named org (without being named itself) would let one subtract inside it;
# 4. small counts: a year's figure is what that org's annual report prints and is given as it is; halves and
#    quarters only for a root org (the district: no other subtree to subtract from), and only when no quarter of
#    that year holds 1 or 2 records behind the figure, so that year − other quarters never reveals a small count;
#    a sum over 1 or 2 records (one person's money) is not given for any period.

SMALL_COUNT = 3  # 1 and 2 are "small": a figure resting on them is withheld where it could single a case out
OPEN_AGGREGATES = frozenset({"count", "count_distinct", "sum", "share"})
YEAR, HALF, QUARTER = "year", "half", "quarter"
PERIOD_WORDS = {YEAR: "整年", HALF: "半年", QUARTER: "季度"}


def whole_period(start: dt.date, end: dt.date) -> str | None:
    """YEAR, HALF or QUARTER when start..end is a whole calendar year, half-year or quarter; None otherwise."""
    after = end + dt.timedelta(days=1)
    if start.day != 1 or after.day != 1 or start.year != end.year:
        return None
    months = (after.year - start.year) * 12 + after.month - start.month
    if months == 12 and start.month == 1:
        return YEAR
    if months == 6 and start.month in (1, 7):
        return HALF
    if months == 3 and start.month in (1, 4, 7, 10):
        return QUARTER
    return None


def quarters(year: int) -> list[tuple[dt.date, dt.date]]:
    """The four quarters of a year, as (first day, last day)."""
    starts = [dt.date(year, m, 1) for m in (1, 4, 7, 10)] + [dt.date(year + 1, 1, 1)]
    return [(a, b - dt.timedelta(days=1)) for a, b in zip(starts, starts[1:], strict=False)]


@dataclass(frozen=True)
class FigureAccess:
    """What a user may have of one figure (indicator value) from a ledger.

    rows: may see the records behind it. refused: why the figure is withheld (Chinese), "" when it is given.
    small_check: the (start, end) quarters whose record counts must each be 0 or at least SMALL_COUNT for the
    figure to be given (the caller counts them: this stage does not compute figures); see small_count_refusal.
    sum_check: the figure is a sum, given only when the records behind it are 0 or at least SMALL_COUNT."""

    rows: bool
    refused: str = ""
    small_check: tuple[tuple[dt.date, dt.date], ...] = ()
    sum_check: bool = False


OPEN = FigureAccess(rows=True)


@dataclass(frozen=True)
class Outsider:
    """A user who may not see a confidential ledger's rows, and what the rules need to know about the ledger."""

    ledger_label: str
    named: tuple[str, ...]  # paths of the orgs whose members see the rows


def outsider(user: Any, ledger_type: Any) -> Outsider | None:
    """None when the ledger is not confidential or the user is a member of an org it names; else the Outsider to
    pass to figure_rule (ask once per ledger, then once per figure without a query)."""
    if not ledger_type.confidential:
        return None
    named = tuple(o.path for o in confidential_orgs(ledger_type))
    if any(path.startswith(n) for path, _ in _memberships(user) for n in named):
        return None
    return Outsider(ledger_type.label, named)


def figure_access(
    user: Any,
    ledger_type: Any,
    org: Organization,
    start: dt.date,
    end: dt.date,
    *,
    aggregate: str,
    disclosed: bool = False,
    period_mode: str = "within",
) -> FigureAccess:
    """May `user` have the figure `aggregate` of `ledger_type` for the org's subtree from start to end?
    (Callers have checked `may_run_report` for the org.) The rules are listed above `SMALL_COUNT`."""
    who = outsider(user, ledger_type)
    if who is None:
        return OPEN
    return figure_rule(
        who, org, start, end, aggregate=aggregate, disclosed=disclosed, period_mode=period_mode
    )


def figure_rule(
    who: Outsider,
    org: Organization,
    start: dt.date,
    end: dt.date,
    *,
    aggregate: str,
    disclosed: bool = False,
    period_mode: str = "within",
) -> FigureAccess:
    """figure_access for an outsider (see there)."""
    what = f"“{who.ledger_label}”为涉密台账"
    kind = whole_period(start, end)
    if kind is None:
        return FigureAccess(
            False,
            f"{what}，其汇总数只按整年、半年或季度提供，"
            f"不能按{start.isoformat()}至{end.isoformat()}这样的起止日期查询",
        )
    if period_mode != "within" and kind != YEAR:
        return FigureAccess(False, f"{what}，累计数和期初、期末数只按整年提供")
    if org.path not in who.named and any(org.path.startswith(n) for n in who.named):
        # Below a named org without being one: with the named org's own figure it would allow subtracting.
        return FigureAccess(False, f"{what}，不单独提供“{org.display_name}”这样的涉密单位内设单位的汇总数")
    if aggregate == "list":
        if not disclosed:
            return FigureAccess(False, f"{what}，不提供名称列表（只有计数和求和）")
        if kind != YEAR:
            return FigureAccess(False, f"{what}，其公开的名称只按整年提供")
        return FigureAccess(False)
    if aggregate not in OPEN_AGGREGATES:
        return FigureAccess(
            False, f"{what}，只提供计数和求和，不提供平均值、最大值、最小值等可能指向单条记录的数"
        )
    small: tuple[tuple[dt.date, dt.date], ...] = ()
    if kind != YEAR:
        if org.depth != 1:
            return FigureAccess(
                False, f"{what}，半年和季度的汇总数只对最上级单位提供，“{org.display_name}”请查看全年数"
            )
        small = tuple(quarters(start.year))
    return FigureAccess(False, small_check=small, sum_check=aggregate == "sum")


def small_count_refusal(ledger_type: Any, counts: list[int], *, quarterly: bool) -> str:
    """Why a figure is withheld when one of these record counts is 1 or 2 ("" when none is): the counts of each
    quarter of the year (quarterly, for a half or quarter figure) or of the records behind a sum."""
    if not any(0 < n < SMALL_COUNT for n in counts):
        return ""
    if quarterly:
        return (
            f"“{ledger_type.label}”为涉密台账，该年有季度的相关记录少于{SMALL_COUNT}条，"
            f"半年和季度数不单独显示（以免推算出具体案件），请查看全年数"
        )
    return f"“{ledger_type.label}”为涉密台账，该求和数所依据的记录少于{SMALL_COUNT}条，不单独显示"
