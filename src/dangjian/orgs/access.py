"""The one place that decides who may see or change what.

Every query for ledger records goes through `records()`. Rules:
- A membership (user, org, role) applies to the org's whole subtree.
- Any role may see records reported by orgs in its subtrees; 填报员, 审核员 and 管理员 may also enter and change them;
  审核员 and 管理员 review.
- A confidential ledger type names orgs (e.g. 区纪委监委), directly or by kind (纪检监察机关): only users holding a
  membership at one of those orgs (or below) see its rows. Everyone else who may run a report sees only its aggregates.
- The system administrator (superuser) manages accounts and backups; superuser status grants no ledger access,
  so without a membership he sees no records at all (separation of duties).

This module knows ledger types and records only by duck typing (`.confidential`, `.confidential_orgs`, `.org`),
so the orgs stage never imports the stages to its right.
"""

from __future__ import annotations

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
    if not has_any_role(user):
        return False
    if not ledger_type.confidential:
        return True
    named = [o.path for o in confidential_orgs(ledger_type)]
    return any(path.startswith(n) for path, _ in _memberships(user) for n in named)


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
    qs = queryset.filter(ledger_type=ledger_type).filter(_path_q(scope_paths(user, roles), "org__path"))
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
