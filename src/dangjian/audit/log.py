"""`record()`: the one way to add an audit event, from a view (pass `request`) or a command (pass `user`)."""

from __future__ import annotations

from typing import Any

from .models import Action, AuditEvent

__all__ = ["Action", "client_address", "record"]


COMMAND_LINE = "命令行"  # who the log names for what the command line does without an account (--as)


def client_address(request: Any) -> str | None:
    """The address the request came from (REMOTE_ADDR: behind nginx, configure it to pass the client's)."""
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR") or None
    return address


def record(
    action: str,
    *,
    request: Any = None,
    user: Any = None,
    username: str = "",
    target: str = "",
    **detail: Any,
) -> AuditEvent:
    """Append one event. `user` defaults to the request's user; anonymous users are logged by `username`."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    actor = user if user is not None and getattr(user, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=actor,
        username=(actor.get_username() if actor is not None else username)[:150],
        address=client_address(request),
        action=action,
        target=str(target)[:300],
        detail=detail,
    )
