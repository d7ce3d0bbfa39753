"""django-axes (login throttling) under a Chinese name in the admin: the package ships no zh_Hans translation,
so its model and field names come from src/dangjian/locale and the app's own name from here."""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig


class AxesConfig(AxesAppConfig):
    verbose_name = "登录保护"
