from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dangjian.audit"
    label = "audit"
    verbose_name = "审计日志"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - logins, failed logins and logouts
