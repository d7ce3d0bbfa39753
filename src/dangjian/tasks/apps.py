from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class TasksConfig(AppConfig):
    """填报任务: collection from units, progress, 报送 and 退回, and the 报送 locks on records.

    Its models (`tasks/models.py`) keep the table names they had in the `ledgers` label (see migration 0001).
    """

    name = "dangjian.tasks"
    label = "tasks"
    verbose_name = "填报任务"

    def ready(self) -> None:
        # The write service (records, left of tasks in the pipeline) applies the 报送 locks without importing this
        # stage: the task rules are registered as its lock provider (see dangjian/records/locks.py).
        # The task rules are imported when the first record is written, not here: `collection` pulls in the xlsx
        # and schema layers (pydantic), a fifth of a command's start-up that most commands never use.
        from dangjian.records import locks

        locks.register(_TaskLocks())


class _TaskLocks:
    """`dangjian.tasks.collection` as the lock provider, imported on first use."""

    def __getattr__(self, name: str) -> Any:
        from . import collection

        return getattr(collection, name)
