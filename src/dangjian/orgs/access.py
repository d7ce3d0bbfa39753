"""The one place that decides who may see or change what: a per-request `Scope`.

`scope(user)` gives the account's Scope, built once per request (it is kept on the user object, which Django makes
afresh for every request, and on the API's token account the same way); the Scope reads the account's memberships
once and answers every question of the request from them without another query per row:

- orgs: which orgs it sees (`orgs`), covers with a role (`covers`), is strictly above (`strictly_above`);
- ledger types whose rows it may see (`ledger_types`, `sees_rows`);
- records: which it may see (`records`, with `deleted=True` the deleted ones it may restore; `openable` for one
  record's pages), enter, change and restore, and how each is shown (`masks`, `shown`, `shown_values`);
- 填报任务: tasks and targets it sees (`tasks`, `targets`), may submit or return (`may_submit`, `may_return`);
- 清单 items: the workflow roles it holds on an item (`holds`: owner, supervisor);
- reports: which orgs it may report on (`may_run_report`), and what it may have of a confidential ledger's figures
  (`figure`, aggregates only — the 保密规则 below).

Rules:
- A membership (user, org, role) applies to the org's whole subtree.
- Any role may see records reported by orgs in its subtrees; 填报员, 审核员 and 管理员 may also enter and change them
  (and see and restore deleted ones); 审核员 and 管理员 review. Sensitive fields are shown only to those who may
  change the record (not to 查看者).
- "Strictly above" (the supervising unit of a 清单 item, the reviewer who may return a 报送): a 审核员 or 管理员 of an
  org above the unit, never the unit's own.
- A confidential ledger type names orgs (e.g. 区纪委监委), directly or by kind (纪检监察机关): only users holding a
  membership at one of those orgs (or below) see its rows. Everyone else who may run a report sees only its aggregates.
- The system administrator (superuser) manages accounts and backups; superuser status grants no ledger access,
  so without a membership he sees no records at all (separation of duties).
- The command line acts as a named account (`--as USERNAME`) or as `SYSTEM`, the installation's operator: it sees
  and may enter the rows of every org, but never a confidential ledger's rows (only their aggregates, like any
  outsider) and always sees sensitive fields masked.
- What others may get from a confidential ledger (保密规则, docs/guide.md) is decided by `figure_access()`:
  only counts and sums, only for whole calendar years, halves and quarters, only for whole subtrees, never names,
  and never a figure that small counts could be recovered from by subtracting one allowed figure from another.

This module knows ledger types, records, tasks and targets only by duck typing (`.confidential`,
`.confidential_orgs`, `.org`, `.values`, `.creator_org` …), so the orgs stage never imports the stages to its right.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Q, QuerySet

from .models import Membership, Organization, OrgKind, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

ALL_ROLES = frozenset(Role.values)
WRITE_ROLES = frozenset({Role.ADMIN, Role.REVIEWER, Role.CLERK})
REVIEW_ROLES = frozenset({Role.ADMIN, Role.REVIEWER})

MASK = "＊＊"  # a sensitive value as shown to those who may not see it
# A records query keeps its own class through the scope (RecordQuerySet and its where_value / order_by_value).
_QS = TypeVar("_QS", bound=QuerySet)

_CACHE_ATTR = "_dangjian_scope"


class SystemActor:
    """The command line's actor when no `--as USERNAME` is given: the installation's operator (see the rules)."""

    is_authenticated = False  # writes record no user as their author (the history says 命令行 instead)
    is_active = True
    is_superuser = False
    pk = None
    id = None
    username = "（系统）"

    def get_full_name(self) -> str:
        return "系统（命令行）"

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = SystemActor()


def mask(value: Any) -> Any:
    """A sensitive value as shown to one who may not see it: MASK, or the empty value as it is."""
    return MASK if value not in (None, "") else value


def _roots(paths: Iterable[str]) -> list[str]:
    """Keep only paths that are not inside another one: the smallest set of subtrees covering them all."""
    roots: list[str] = []
    for path in sorted(set(paths)):
        if not any(path.startswith(r) for r in roots):
            roots.append(path)
    return roots


def _path_q(paths: list[str], field: str = "path") -> Q:
    if not paths:
        return Q(pk__in=[])
    q = Q()
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


def confidential_orgs(ledger_type: Any) -> QuerySet[Organization]:
    """The orgs whose members may see a confidential ledger's rows: named directly or by kind."""
    return Organization.objects.filter(
        Q(pk__in=ledger_type.confidential_orgs.all()) | Q(kinds__in=ledger_type.confidential_kinds.all())
    ).distinct()


@dataclass(frozen=True)
class Outsider:
    """A user who may not see a confidential ledger's rows, and what the rules need to know about the ledger."""

    ledger_label: str
    named: tuple[str, ...]  # paths of the orgs whose members see the rows


class Scope:
    """What one account may see and do. Build it with `scope(user)` (once per request); every answer comes from the
    memberships read when it was built, and each ledger type's confidentiality is asked once."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.system = user is SYSTEM
        active = (
            user is not None
            and not self.system
            and getattr(user, "is_authenticated", False)
            and getattr(user, "is_active", False)
        )
        self.memberships: list[Membership] = (
            list(
                Membership.objects.filter(user=user, org__is_active=True)
                .select_related("org")
                .order_by("org__path", "role")
            )
            if active
            else []
        )
        self._held = [(m.org.path, m.role) for m in self.memberships]
        self._paths: dict[frozenset[str], list[str]] = {}
        self._outsiders: dict[Any, Outsider | None] = {}
        self._everything: dict[Any, bool] = {}

    def __repr__(self) -> str:
        return f"Scope({self.user!r}, {len(self.memberships)} memberships)"

    # --- orgs ---------------------------------------------------------------------------------------------------

    def paths(self, roles: frozenset[str] = ALL_ROLES) -> list[str]:
        """The roots of the subtrees where the account holds one of `roles` ("" for SYSTEM: the whole tree)."""
        if self.system:
            return [""]
        if roles not in self._paths:
            self._paths[roles] = _roots(path for path, role in self._held if role in roles)
        return self._paths[roles]

    @property
    def has_role(self) -> bool:
        return self.system or bool(self._held)

    def orgs(self, roles: frozenset[str] = ALL_ROLES) -> QuerySet[Organization]:
        """Organisations within the account's subtrees for the given roles."""
        if self.system:
            return Organization.objects.all()
        return Organization.objects.filter(_path_q(self.paths(roles)))

    def covers(self, org: Organization, roles: frozenset[str] = ALL_ROLES) -> bool:
        return any(org.path.startswith(p) for p in self.paths(roles))

    def strictly_above(self, org: Organization, roles: frozenset[str] = REVIEW_ROLES) -> bool:
        """Does the account hold one of `roles` at an org above `org` (not at `org` itself)? The supervising unit of
        a 清单 item, the reviewer above a unit who may return its 报送. SYSTEM is above no one."""
        if self.system:
            return False
        return any(org.path.startswith(p) and org.path != p for p in self.paths(roles))

    def may_review(self, org: Organization) -> bool:
        return not self.system and self.covers(org, REVIEW_ROLES)

    def may_manage_backups(self) -> bool:
        """Backups (list, make, download: the whole database and every attachment) are the 系统管理员's alone (三员分立):
        not a unit role, not the other two administrators, not SYSTEM, not superuser status by itself."""
        from .duties import is_system_admin

        return not self.system and is_system_admin(self.user)

    def may_manage_packs(self) -> bool:
        """数据包 (ledgers, indicators, checks and templates for the whole installation) are installed in the web by
        a 管理员 of the reporting org, a root of the tree; not by the system administrator, nor by SYSTEM."""
        return not self.system and any(m.role == Role.ADMIN and m.org.depth == 1 for m in self.memberships)

    def may_write_reports(self) -> bool:
        """Report templates, indicators, checks and 报告参数 definitions are written in the web (editor, builder,
        versions, restore, adopting a changed built-in original) by a 管理员 or 审核员 of the reporting org, a root
        of the tree: the people who write the report. Not the system administrator, nor SYSTEM."""
        return self.reporting_org() is not None

    def reporting_org(self) -> Organization | None:
        """The reporting org (a root of the tree) whose reports the account writes, as its 管理员 or 审核员: the
        owner of the template, indicator, check and 报告参数 versions it saves. None for anyone else."""
        if self.system:
            return None
        return next((m.org for m in self.memberships if m.role in REVIEW_ROLES and m.org.depth == 1), None)

    def district(self) -> Organization | None:
        """The district (a root of the tree) whose overview (概览) the account may see: leaders and district
        staff, any role there (a role applies to the whole subtree). None for units' own accounts and SYSTEM."""
        if self.system:
            return None
        return next((m.org for m in self.memberships if m.org.depth == 1), None)

    def may_run_report(self, org: Organization) -> bool:
        """Reports (aggregates only for confidential ledgers) for any org within the account's subtrees."""
        return self.covers(org)

    def entry_orgs(self, ledger_type: Any | None = None) -> QuerySet[Organization]:
        """Active orgs for which the account may enter records (of this ledger type)."""
        if ledger_type is not None and not self.sees_rows(ledger_type):
            return Organization.objects.none()
        return self.orgs(WRITE_ROLES).filter(is_active=True)

    # --- ledger types -------------------------------------------------------------------------------------------

    def outsider(self, ledger_type: Any) -> Outsider | None:
        """None when the ledger is not confidential or the account is a member of an org it names; else the
        Outsider to pass to figure_rule. Asked once per ledger type and scope."""
        if not ledger_type.confidential:
            return None
        key = ledger_type.pk
        if key not in self._outsiders:
            named = tuple(o.path for o in confidential_orgs(ledger_type))
            member = any(path.startswith(n) for path, _ in self._held for n in named)
            self._outsiders[key] = None if member else Outsider(ledger_type.label, named)
        return self._outsiders[key]

    def sees_rows(self, ledger_type: Any) -> bool:
        """May the account see individual records of this ledger type (somewhere)?"""
        return self.has_role and self.outsider(ledger_type) is None

    def ledger_types(self, queryset: QuerySet) -> QuerySet:
        """Ledger types whose rows the account may see (confidential ones only for members of the named orgs)."""
        if not self.has_role:
            return queryset.none()
        if self.system:
            return queryset.filter(confidential=False)
        visible = [lt.pk for lt in queryset.filter(confidential=True) if self.sees_rows(lt)]
        return queryset.filter(Q(confidential=False) | Q(pk__in=visible))

    def kept_ledgers(self, ledgers: Iterable[Any]) -> list[Any]:
        """The ledgers that apply to the account: those a kind of org within its subtrees keeps (a ledger's
        `kept_by`, from its pack; a ledger naming no kinds is kept by all). The ledger page and the home page list
        these, 全部台账 one click away."""
        ledgers = list(ledgers)
        if not any(lt.kept_by for lt in ledgers):
            return ledgers
        kinds = set(OrgKind.objects.filter(orgs__in=self.orgs()).values_list("code", flat=True))
        return [lt for lt in ledgers if not lt.kept_by or kinds.intersection(lt.kept_by)]

    # --- records ------------------------------------------------------------------------------------------------

    def _in(self, roles: frozenset[str]) -> Q:
        """Records whose org lies in the account's subtrees for `roles`: the scope as a subquery on org ids, which
        both databases semi-join once instead of joining every record's org — or no condition at all when the
        subtrees hold every org (the district's own staff), so a deep page is read from the index alone."""
        if self.system or self._covers_all(roles):
            return Q()
        return Q(org__in=Organization.objects.filter(_path_q(self.paths(roles))).values("pk"))

    def _covers_all(self, roles: frozenset[str]) -> bool:
        key = ("all", roles)
        if key not in self._everything:
            paths = self.paths(roles)
            self._everything[key] = bool(paths) and not Organization.objects.exclude(_path_q(paths)).exists()
        return self._everything[key]

    def records(
        self,
        ledger_type: Any,
        queryset: _QS,
        *,
        roles: frozenset[str] = ALL_ROLES,
        deleted: bool = False,
        under: Organization | None = None,
    ) -> _QS:
        """The records of `ledger_type` in `queryset` the account may see (or, with roles, act upon); with
        `deleted`, only the deleted ones it may see — those it may restore. `under`: only that org's subtree."""
        if not self.sees_rows(ledger_type):
            return queryset.none()
        qs = queryset.filter(self._in(WRITE_ROLES if deleted else roles), ledger_type=ledger_type)
        if under is not None:
            qs = qs.filter(org__path__startswith=under.path)
        return qs.filter(is_deleted=deleted)

    def openable(self, ledger_type: Any, queryset: _QS) -> _QS:
        """Records one may open (its page, history, attachments): the live ones in scope, and the deleted ones
        only where one may restore them."""
        if not self.sees_rows(ledger_type):
            return queryset.none()
        live = Q(is_deleted=False) & self._in(ALL_ROLES)
        gone = Q(is_deleted=True) & self._in(WRITE_ROLES)
        return queryset.filter(live | gone, ledger_type=ledger_type)

    def may_view(self, record: Any) -> bool:
        if record.is_deleted:
            return self.may_change(record)
        return self.sees_rows(record.ledger_type) and self.covers(record.org)

    def may_enter(self, ledger_type: Any, org: Organization) -> bool:
        """May the account add records of this ledger type for this org?"""
        return org.is_active and self.sees_rows(ledger_type) and self.covers(org, WRITE_ROLES)

    def may_change(self, record: Any) -> bool:
        """May the account edit, delete or restore this record? (Locks by 报送 are checked by the write service.)"""
        return self.sees_rows(record.ledger_type) and self.covers(record.org, WRITE_ROLES)

    def may_restore_in(self, ledger_type: Any) -> bool:
        """May the account see (and restore) deleted records of this ledger type anywhere?"""
        return self.sees_rows(ledger_type) and bool(self.paths(WRITE_ROLES))

    # --- how a record is shown ------------------------------------------------------------------------------------

    def masks(self, record: Any) -> bool:
        """Are the record's sensitive values hidden from the account? (From all but those who may change it.)"""
        return self.system or not self.covers(record.org, WRITE_ROLES)

    def shown(self, spec: Any, record: Any, render: Callable[[Any, Any], Any] | None = None) -> Any:
        """Field `spec`'s value of `record` as the account may have it: MASK for a hidden sensitive value, else the
        stored value (passed through `render(spec, value)` when given)."""
        value = record.values.get(spec.code)
        if spec.sensitive and value not in (None, "") and self.masks(record):
            return MASK
        return render(spec, value) if render is not None else value

    def shown_values(self, record: Any, sensitive: set[str] | frozenset[str]) -> dict[str, Any]:
        """All stored values of the record by field code, sensitive ones (codes in `sensitive`) masked if hidden."""
        hide = self.masks(record)
        return {k: (mask(v) if hide and k in sensitive else v) for k, v in record.values.items()}

    def may_search(self, spec: Any) -> Q:
        """Rows where a text search may look into this field: all rows, but for a sensitive field only the rows
        whose values the account sees unmasked (a masked value must not be findable)."""
        if not spec.sensitive:
            return Q()
        if self.system:
            return Q(pk__in=[])
        return _path_q(self.paths(WRITE_ROLES), "org__path")

    # --- 填报任务 (collection tasks) ---------------------------------------------------------------------------------

    def may_create_task(self, org: Organization) -> bool:
        return self.may_review(org)

    def may_see_progress(self, task: Any) -> bool:
        """The whole progress of a task: every role covering its 发起单位."""
        return self.covers(task.creator_org)

    def tasks(self, queryset: QuerySet) -> QuerySet:
        """Tasks whose progress the account sees, or that ask one of its units."""
        if self.system:
            return queryset
        mine = self.orgs().values("pk")
        asked = queryset.filter(targets__org__in=mine).values("pk")
        return queryset.filter(Q(creator_org__in=mine) | Q(pk__in=asked))

    def targets(self, task: Any, queryset: QuerySet) -> QuerySet:
        """A task's targets the account sees: all for those covering the 发起单位, else only its own units'."""
        if self.may_see_progress(task):
            return queryset
        return queryset.filter(org__in=self.orgs().values("pk"))

    def may_submit(self, target: Any) -> bool:
        return self.covers(target.org, WRITE_ROLES)

    def may_return(self, target: Any) -> bool:
        """A reviewer/admin strictly above the unit, or of the 发起单位; never the unit's own reviewer."""
        return self.strictly_above(target.org) or self.may_review(target.task.creator_org)

    # --- 报告参数 (report parameters) -------------------------------------------------------------------------------

    def may_enter_parameter(self, parameter: Any, org: Organization) -> bool:
        """May the account enter a value of this 报告参数 for this org? Its role or a higher one (填报员 < 审核员 <
        管理员) covering the org, which must be active. Not SYSTEM, nor the system administrator without a role."""
        roles = _entering_roles(parameter.role)
        return not self.system and org.is_active and bool(roles) and self.covers(org, roles)

    def parameter_orgs(self, parameter: Any) -> QuerySet[Organization]:
        """Active orgs for which the account may enter this parameter (the entry form's choices)."""
        if self.system:
            return Organization.objects.none()
        roles = _entering_roles(parameter.role)
        return self.orgs(roles).filter(is_active=True) if roles else Organization.objects.none()

    def counted_ledgers(self, queryset: QuerySet) -> QuerySet:
        """Ledger types whose records may be counted for the account per unit (a task's progress): those whose
        rows it sees — a per-unit count of a confidential ledger is not an aggregate the 保密规则 allow."""
        return self.ledger_types(queryset)

    # --- 清单 items ------------------------------------------------------------------------------------------------

    def holds(self, record: Any, role: str) -> bool:
        """Does the account hold a workflow role on the item: `owner` (who may change it) or `supervisor` (a
        审核员/管理员 strictly above its unit)?"""
        if not self.sees_rows(record.ledger_type):
            return False
        if role == "owner":
            return self.covers(record.org, WRITE_ROLES)
        return role == "supervisor" and self.strictly_above(record.org)

    # --- figures (保密规则) -----------------------------------------------------------------------------------------

    def figure(
        self,
        ledger_type: Any,
        org: Organization,
        start: dt.date,
        end: dt.date,
        *,
        aggregate: str,
        disclosed: bool = False,
        period_mode: str = "within",
    ) -> FigureAccess:
        """What the account may have of the figure `aggregate` of `ledger_type` for the org's subtree from start to
        end (callers have checked `may_run_report`). The rules are listed above `SMALL_COUNT`."""
        who = self.outsider(ledger_type)
        if who is None:
            return OPEN
        return figure_rule(
            who, org, start, end, aggregate=aggregate, disclosed=disclosed, period_mode=period_mode
        )


_RANKS: list[str] = [
    Role.CLERK,
    Role.REVIEWER,
    Role.ADMIN,
]  # 报告参数: a parameter's role enters, and every higher one


def _entering_roles(role: str) -> frozenset[str]:
    return frozenset(_RANKS[_RANKS.index(role) :]) if role in _RANKS else frozenset()


def scope(user: Any) -> Scope:
    """The account's Scope for this request (kept on the user object; `forget` drops it)."""
    if user is None or user is SYSTEM:  # nothing to read for these; SYSTEM lives as long as the process
        return Scope(user)
    found = getattr(user, _CACHE_ATTR, None)
    if found is None:
        found = Scope(user)
        setattr(user, _CACHE_ATTR, found)
    return found


def forget(user: Any) -> None:
    """Drop the cached Scope (after the account's memberships or a ledger's confidentiality change)."""
    if user is not None and hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


# --- the same questions as functions of the user (thin wrappers over the Scope, for callers holding a user) ---------


def orgs(user: Any, roles: frozenset[str] = ALL_ROLES) -> QuerySet[Organization]:
    return scope(user).orgs(roles)


def covers(user: Any, org: Organization, roles: frozenset[str] = ALL_ROLES) -> bool:
    return scope(user).covers(org, roles)


def has_any_role(user: Any) -> bool:
    return scope(user).has_role


def may_see_rows(user: Any, ledger_type: Any) -> bool:
    return scope(user).sees_rows(ledger_type)


def ledger_types(user: Any, queryset: QuerySet) -> QuerySet:
    return scope(user).ledger_types(queryset)


def records(
    user: Any,
    ledger_type: Any,
    queryset: _QS,
    *,
    roles: frozenset[str] = ALL_ROLES,
    include_deleted: bool = False,
) -> _QS:
    """The records of `ledger_type` the user may see (with roles, act upon); `include_deleted`: the live ones and
    the deleted ones he may restore (`Scope.openable`)."""
    s = scope(user)
    if not include_deleted:
        return s.records(ledger_type, queryset, roles=roles)
    if roles <= WRITE_ROLES and s.sees_rows(ledger_type):  # every deleted row there is one he may restore
        return queryset.filter(s._in(roles), ledger_type=ledger_type)
    return s.openable(ledger_type, queryset)


def may_view_record(user: Any, record: Any) -> bool:
    return scope(user).may_view(record)


def may_enter(user: Any, ledger_type: Any, org: Organization) -> bool:
    return scope(user).may_enter(ledger_type, org)


def may_change_record(user: Any, record: Any) -> bool:
    return scope(user).may_change(record)


def may_review(user: Any, org: Organization) -> bool:
    return scope(user).may_review(org)


def entry_orgs(user: Any, ledger_type: Any | None = None) -> QuerySet[Organization]:
    return scope(user).entry_orgs(ledger_type)


def may_run_report(user: Any, org: Organization) -> bool:
    return scope(user).may_run_report(org)


def outsider(user: Any, ledger_type: Any) -> Outsider | None:
    return scope(user).outsider(ledger_type)


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
    """`Scope.figure` for a user."""
    return scope(user).figure(
        ledger_type, org, start, end, aggregate=aggregate, disclosed=disclosed, period_mode=period_mode
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
