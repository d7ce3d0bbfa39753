"""三员分立: which administrator duty an account holds, and the rules that keep the three apart.

- 系统管理员 (SYSTEM): accounts (create, deactivate, reset passwords) and backups.
- 安全管理员 (SECURITY): the organisation tree, memberships, the three duties, confidential settings of ledger types.
- 安全审计员 (AUDITOR): reads the audit log, nothing else (no ledgers, no admin).

An account holds at most one duty (AdminDuty.user is unique) and a duty holder holds no membership, so no
administrator also works in the ledgers. Superuser status alone grants none of the three: the admin pages for
accounts, orgs, memberships and confidential settings ask for the duty, not for Django permissions.
"""

from __future__ import annotations

from typing import Any

from .models import AdminDuty, Duty

__all__ = ["Duty", "duty_of", "has_duty", "is_auditor", "is_security_admin", "is_system_admin"]


def duty_of(user: Any) -> str | None:
    """The duty of an active, logged-in account, or None (the related row is cached on the user object)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    try:
        return str(user.admin_duty.duty)
    except AdminDuty.DoesNotExist:
        return None


def has_duty(user: Any, duty: str) -> bool:
    return duty_of(user) == duty


def is_system_admin(user: Any) -> bool:
    return has_duty(user, Duty.SYSTEM)


def is_security_admin(user: Any) -> bool:
    return has_duty(user, Duty.SECURITY)


def is_auditor(user: Any) -> bool:
    return has_duty(user, Duty.AUDITOR)
