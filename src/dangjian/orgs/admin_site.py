"""The admin site, closed to the security auditor: he reads the audit log (/audit/) and nothing else.

Named in INSTALLED_APPS before the apps are loaded, so this module imports no models at import time.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig


class DutyAdminSite(AdminSite):
    def has_permission(self, request: Any) -> bool:
        from .duties import is_auditor

        return super().has_permission(request) and not is_auditor(request.user)


class DutyAdminConfig(AdminConfig):
    """`django.contrib.admin` with DutyAdminSite as `admin.site` (named in INSTALLED_APPS instead of it)."""

    default_site = "dangjian.orgs.admin_site.DutyAdminSite"
