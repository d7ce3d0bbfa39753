"""What stages right of tasks add to a 填报任务, without the tasks app naming them.

A task asks units for ledgers; a stage to the right may let it ask for more — the indicators stage adds 报告参数
(figures from outside the ledgers, `dangjian.indicators.task_parameters`). As with the record page's panels
(`records/panels.py`), the dependency is turned round: the stage registers an extra here in its
`AppConfig.ready()`, and the task pages ask every registered extra for
- `form_fields(user)`: more fields for the 新建填报任务 form (their names must not clash with the form's own);
- `asks(data)`: whether the form's cleaned data asks for something of the extra (then no ledger is required);
- `created(user, task, data)`: store what was asked, in the transaction that creates the task;
- `panel(request, task, target)`: HTML for the task's page (target None) or a unit's page (its target), or "";
- `missing(target)`: what the unit has still to enter (names, in Chinese): 报送 is refused until it is none.
"""

from __future__ import annotations

from typing import Any, Protocol

from django import forms
from django.http import HttpRequest
from django.utils.safestring import SafeString

from .models import CollectionTask, TaskTarget


class TaskExtra(Protocol):
    def form_fields(self, user: Any) -> dict[str, forms.Field]: ...

    def asks(self, data: dict[str, Any]) -> bool: ...

    def created(self, user: Any, task: CollectionTask, data: dict[str, Any]) -> None: ...

    def panel(self, request: HttpRequest, task: CollectionTask, target: TaskTarget | None) -> str: ...

    def missing(self, target: TaskTarget) -> list[str]: ...


_extras: list[TaskExtra] = []


def register(extra: TaskExtra) -> None:
    """Called once by the stage that owns the extra (e.g. `dangjian.indicators.apps.IndicatorsConfig.ready`)."""
    if extra not in _extras:
        _extras.append(extra)


def registered() -> list[TaskExtra]:
    return list(_extras)


def panels(request: HttpRequest, task: CollectionTask, target: TaskTarget | None) -> list[SafeString]:
    """The HTML of every extra that has something to show (trusted: a template's output)."""
    return [SafeString(html) for extra in _extras if (html := extra.panel(request, task, target))]
