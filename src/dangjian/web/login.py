"""Login protection: django-axes counts failures per (username, address) and, with a higher limit, per address.

Counting per username alone let anyone lock `admin` out for half an hour with five wrong passwords, while a
password spray over many usernames from one address was never slowed. Now:
- AXES_FAILURE_LIMIT failures for one username from one address lock that username out *at that address*
  (AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]): the right password from another address still works;
- LOGIN_ADDRESS_FAILURE_LIMIT failures from one address, whatever the usernames, lock that address out.
django-axes has one failure limit for all its lockout parameters, so the second limit is this handler's.
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

ADDRESS_LOCKED = "login_address_locked"  # request attribute: the lockout page says the address is locked


def address_failures(request: Any) -> int:
    """Failed logins from the request's address within the cool-off time, for any usernames."""
    attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
    if get_cool_off(request) is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


class LoginThrottle(AxesDatabaseHandler):
    """django-axes' database handler with the per-address limit on top of the per-(username, address) one."""

    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        if address_failures(request) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            # Reported as reaching the per-username limit, so that axes refuses and shows the lockout page.
            setattr(request, ADDRESS_LOCKED, True)
            return max(failures, get_failure_limit(request, credentials))
        return failures
