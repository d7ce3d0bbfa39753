from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "dangjian.web"
    label = "web"
    verbose_name = "门户"

    def ready(self) -> None:
        from . import passwords  # noqa: F401 - connects the receivers that keep PasswordState
