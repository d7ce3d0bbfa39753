"""填报任务: a task asks units for their ledgers of a period by a deadline; each unit's target and its status changes.

The tables keep the names they had when these models lived in the `ledgers` label (`ledgers_collectiontask` …): the
move (migrations tasks.0001 and ledgers.0008) changed no table, only which app owns them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from dangjian.orgs.models import Organization
from dangjian.records.models import LedgerType


class CollectionTask(models.Model):
    """A 填报任务: which ledgers, for which period, from which units, by when.

    The target units are resolved once, when the task is created (TaskTarget rows), so moving or adding units
    later never changes whom a running task asks.
    """

    title = models.CharField("任务名称", max_length=120)
    creator_org = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="created_tasks", verbose_name="发起单位"
    )
    ledger_types = models.ManyToManyField(LedgerType, verbose_name="台账", related_name="collection_tasks")
    period_start = models.DateField("统计期起")
    period_end = models.DateField("统计期止")
    scope_root = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="scoped_tasks", verbose_name="填报范围"
    )
    target_kinds = models.ManyToManyField(
        "orgs.OrgKind", verbose_name="单位类别", blank=True, related_name="collection_tasks"
    )
    deadline = models.DateField("截止日期")
    instructions = models.TextField("填报说明", blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "ledgers_collectiontask"
        ordering = ["-created_at", "-id"]
        verbose_name = "填报任务"
        verbose_name_plural = "填报任务"

    def __str__(self) -> str:
        return self.title


class TargetStatus(models.TextChoices):
    PENDING = "pending", "未填报"
    DRAFT = "draft", "暂存"
    SUBMITTED = "submitted", "已报送"
    RETURNED = "returned", "已退回"


class TaskTarget(models.Model):
    """One unit asked by a task, and where it stands. 已报送 locks the unit's records the task covers."""

    task = models.ForeignKey(CollectionTask, on_delete=models.CASCADE, related_name="targets")
    org = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="task_targets", verbose_name="填报单位"
    )
    status = models.CharField(
        "状态", max_length=20, choices=TargetStatus.choices, default=TargetStatus.PENDING, db_index=True
    )
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    return_reason = models.TextField("退回原因", blank=True)

    class Meta:
        db_table = "ledgers_tasktarget"
        ordering = ["task", "org__path"]
        unique_together = [("task", "org")]
        verbose_name = "任务填报单位"
        verbose_name_plural = "任务填报单位"

    def __str__(self) -> str:
        return f"{self.task} · {self.org}"


class TaskEvent(models.Model):
    """Every status change of a target: who, when, from, to, and why."""

    target = models.ForeignKey(TaskTarget, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField("原状态", max_length=20, choices=TargetStatus.choices, blank=True)
    to_status = models.CharField("新状态", max_length=20, choices=TargetStatus.choices)
    reason = models.TextField("原因", blank=True)
    at = models.DateTimeField("时间", default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "ledgers_taskevent"
        ordering = ["at", "id"]
        verbose_name = "任务状态变更"
        verbose_name_plural = "任务状态变更"

    def __str__(self) -> str:
        return f"{self.target}: {self.from_status} → {self.to_status}"
