from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "dangjian.indicators"
    label = "indicators"
    verbose_name = "指标"

    def ready(self) -> None:
        # 填报任务 (tasks, left of indicators in the pipeline) may ask units for 报告参数 without importing this
        # stage: the parameters are registered as a tasks extra (see dangjian/tasks/extras.py) — imported on first
        # use, not at start-up (they bring in the task rules and the schema layer).
        from dangjian.tasks import extras

        extras.register(_TaskParameters())


class _TaskParameters:
    """`dangjian.indicators.task_parameters.task_parameters`, imported when a task page first asks."""

    def __getattr__(self, name: str) -> Any:
        from .task_parameters import task_parameters

        return getattr(task_parameters, name)
