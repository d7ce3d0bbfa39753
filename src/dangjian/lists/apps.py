from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.http import HttpRequest


class ListsConfig(AppConfig):
    """清单 workflows: who may take which transition, batch 办理, overdue items and the reminder command.

    No models of its own yet: Transition stays in the `ledgers` app label (`dangjian.records.models`) so that its
    table and migrations are untouched; the workflow definition is `dangjian.records.workflow_definition`, where the
    write service can read it.
    """

    name = "dangjian.lists"
    label = "lists"
    verbose_name = "清单管理"

    def ready(self) -> None:
        # The record page (records, left of lists in the pipeline) shows the 清单流程 panel without naming this
        # stage: the panel is registered with it (see dangjian/records/panels.py).
        from dangjian.records import panels

        panels.register(record_panel)


def record_panel(request: HttpRequest, record: Any) -> str:
    """The 清单流程 panel (`lists.views.record_panel`), its views imported when a record page first asks for it."""
    from .views import record_panel as panel

    return panel(request, record)
