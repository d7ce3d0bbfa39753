from __future__ import annotations

from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "dangjian.indicators"
    label = "indicators"
    verbose_name = "指标"

    def ready(self) -> None:
        # 填报任务 (tasks, left of indicators in the pipeline) may ask units for 报告参数 without importing this
        # stage: the parameters are registered as a tasks extra (see dangjian/tasks/extras.py).
        from dangjian.tasks import extras

        from .task_parameters import task_parameters

        extras.register(task_parameters)
