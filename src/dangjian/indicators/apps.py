from __future__ import annotations

from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "dangjian.indicators"
    label = "indicators"
    verbose_name = "指标"
