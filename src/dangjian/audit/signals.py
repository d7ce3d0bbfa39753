"""Logins in the audit log, from Django's auth signals: every way of signing in (the login page, the admin's)
sends them, and so does a refusal by the login protection (django-axes denies through authenticate())."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .log import Action, record


@receiver(user_logged_in, dispatch_uid="dangjian_audit_login")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(Action.LOGIN, request=request, user=user)


@receiver(user_login_failed, dispatch_uid="dangjian_audit_login_failed")
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # The attempted username as typed (credentials carry no password: Django masks it); NUL cannot be stored in
    # PostgreSQL, so it is dropped.
    attempted = str(credentials.get("username") or "").replace("\x00", "")[:150]
    record(
        Action.LOGIN_FAILED,
        request=request,
        user=AnonymousUser(),  # the attempt is nobody's: not the account signed in in this browser, if any
        username=attempted,
        target=f"账号 {attempted}" if attempted else "",
        locked_out=bool(getattr(request, "axes_locked_out", False)),
    )


@receiver(user_logged_out, dispatch_uid="dangjian_audit_logout")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:  # logging out without being signed in is nothing to record
        record(Action.LOGOUT, request=request, user=user)
