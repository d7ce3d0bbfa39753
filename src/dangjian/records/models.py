"""Ledger types defined as data, their records, attachments and history."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from dangjian.orgs.models import Organization

from . import conditions

# The records that carry an external key: the condition of the partial index `record_key`, repeated by every query
# that looks records up by key so that the planner may use that index.
KEY_SET = ~models.Q(key="")


class FieldType(models.TextChoices):
    TEXT = "text", "文本"
    LONGTEXT = "longtext", "长文本"
    INTEGER = "integer", "整数"
    DECIMAL = "decimal", "小数"
    MONEY = "money", "金额"
    DATE = "date", "日期"
    CHOICE = "choice", "单选"
    MULTICHOICE = "multichoice", "多选"
    BOOL = "bool", "是/否"
    PERSON = "person", "人员"
    ORG = "org", "组织"
    FILE = "file", "附件"


class LedgerType(models.Model):
    """A 台账: its fields are rows of LedgerField, so new ledgers are data, never code."""

    code = models.SlugField("代码", max_length=60, unique=True)
    label = models.CharField("名称", max_length=100)
    category = models.CharField("类别", max_length=60, default="其他")
    description = models.TextField("说明", blank=True)
    date_field = models.CharField("日期字段", max_length=60, help_text="记录日期所在字段的代码")
    end_date_field = models.CharField(
        "截止日期字段", max_length=60, blank=True, help_text="任期类台账的结束日期字段"
    )
    confidential = models.BooleanField(
        "涉密", default=False, help_text="仅指定组织的成员可见明细，其他人只见汇总"
    )
    confidential_orgs: models.ManyToManyField[Organization, Any] = models.ManyToManyField(
        Organization, verbose_name="可见明细的组织", blank=True, related_name="confidential_ledgers"
    )
    confidential_kinds = models.ManyToManyField(
        "orgs.OrgKind", verbose_name="可见明细的组织类别", blank=True, related_name="confidential_ledgers"
    )
    order = models.IntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)
    pack = models.CharField("来源数据包", max_length=60, blank=True)
    workflow = models.JSONField(
        "清单流程",
        default=dict,
        blank=True,
        help_text="状态、流转、时限字段（见 ledgers/workflow.py），空表示无流程",
    )
    kept_by = models.JSONField(
        "适用组织类别",
        default=list,
        blank=True,
        help_text='哪些类别的组织记这本台账（组织类别代码，如 ["district", "department"]）；空表示所有组织',
    )
    rules = models.JSONField(
        "核对规则",
        default=list,
        blank=True,
        help_text='字段之间的规则（见 records/rules.py），如 [{"field": "present", "op": "<=", "than": "attendance"}]',
    )
    extensions = models.JSONField(
        "扩展",
        default=dict,
        blank=True,
        editable=False,
        help_text='其他数据包对本台账的扩展：{"数据包": {"fields": [字段代码], "choices": {字段代码: [可选项]}}}',
    )

    class Meta:
        ordering = ["category", "order", "code"]
        verbose_name = "台账类型"
        verbose_name_plural = "台账类型"

    def __str__(self) -> str:
        return self.label

    def active_fields(self) -> list[LedgerField]:
        return [f for f in self.fields.all() if not f.is_archived]

    def archived_fields(self) -> list[LedgerField]:
        return [f for f in self.fields.all() if f.is_archived]

    def field(self, code: str) -> LedgerField | None:
        return next((f for f in self.fields.all() if f.code == code), None)


class LedgerField(models.Model):
    """One column of a ledger. Removing a field archives it: stored values stay and are shown as archived."""

    ledger_type = models.ForeignKey(LedgerType, on_delete=models.CASCADE, related_name="fields")
    code = models.SlugField("代码", max_length=60, allow_unicode=True)
    label = models.CharField("标签", max_length=60)
    type = models.CharField("类型", max_length=20, choices=FieldType.choices)
    required = models.BooleanField("必填", default=False)
    choices = models.JSONField(
        "选项", default=list, blank=True, help_text='单选/多选的选项，如 ["党纪处分", "政务处分"]'
    )
    min_value = models.DecimalField("最小值", max_digits=18, decimal_places=4, null=True, blank=True)
    max_value = models.DecimalField("最大值", max_digits=18, decimal_places=4, null=True, blank=True)
    unit = models.CharField("单位", max_length=20, blank=True)
    help_text = models.CharField("填写说明", max_length=200, blank=True)
    sensitive = models.BooleanField("敏感", default=False, help_text="导出和列表中对无权限者打码")
    is_key = models.BooleanField("查重关键字段", default=False)
    overlaps = models.JSONField(
        "重叠类别",
        default=dict,
        blank=True,
        help_text='单选、多选字段：某个选项同时属于另外几个选项，如 {"双重处分": ["党纪处分", "政务处分"]}；'
        "按“党纪处分”计数时也计入“双重处分”的记录",
    )
    order = models.IntegerField("排序", default=0)
    is_archived = models.BooleanField("已归档", default=False, help_text="归档后不再填写，已存数据保留")
    from_pack = models.BooleanField(
        "来自数据包",
        default=False,
        editable=False,
        help_text="数据包定义的字段；在系统管理中添加的字段不受数据包重新载入影响",
    )

    class Meta:
        ordering = ["order", "id"]
        unique_together = [("ledger_type", "code")]
        verbose_name = "台账字段"
        verbose_name_plural = "台账字段"

    def __str__(self) -> str:
        return self.label


class RecordQuerySet(models.QuerySet):
    """Records, with the one way to put conditions and an order on their fields (see records/conditions.py)."""

    def alive(self) -> RecordQuerySet:
        return self.filter(is_deleted=False)

    def with_keys(self, keys: Iterable[str]) -> RecordQuerySet:
        """Records whose external key is one of `keys`. The condition repeats the partial index's own (`key <> ''`):
        without it SQLite does not use `record_key` and scans the whole table for every batch of keys."""
        wanted = [k for k in keys if k]
        return self.filter(KEY_SET, key__in=wanted)

    def where_value(self, field: conditions.Field, op: str, value: Any = None) -> RecordQuerySet:
        """Records whose value of `field` (a LedgerField, or a bare code for text and dates) meets `op value`:
        `.where_value(deadline, "<", "2019-06-30")`, `.where_value(kinds, "=", "党纪处分")`, `.where_value(f, "empty")`."""
        return self.filter(conditions.value_q(field, op, value))

    def order_by_value(
        self, field: conditions.Field, *, desc: bool = False, then: tuple[str, ...] | None = None
    ) -> RecordQuerySet:
        """Ordered by a field's value (numbers as numbers, records without it last), then by `then` (by default
        the id, in the same direction)."""
        tie = ("-id" if desc else "id",) if then is None else then
        return self.order_by(conditions.value_order(field, desc=desc), *tie)


def _account() -> Any:
    """Who did something to a record: kept as null when the account is deleted, and not indexed — records are never
    searched by it (deleting an account, which is deactivated instead in practice, then scans)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )


class Record(models.Model):
    """One row of a ledger. The reporting org is fixed when entered; values are validated per field type."""

    ledger_type = models.ForeignKey(
        LedgerType,
        on_delete=models.PROTECT,
        related_name="records",
        verbose_name="台账",
        db_index=False,  # the record_list index begins with it
    )
    org = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="records", verbose_name="填报单位"
    )
    date = models.DateField("日期", db_index=True)
    end_date = models.DateField("结束日期", null=True, blank=True)
    values = models.JSONField("内容", default=dict)
    status = models.CharField("状态", max_length=30, blank=True, default="")
    key = models.CharField("外部键", max_length=120, blank=True, default="")  # indexed where set (record_key)
    is_deleted = models.BooleanField("已删除", default=False)
    deleted_at = models.DateTimeField("删除时间", null=True, blank=True)
    deleted_by = _account()
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    created_by = _account()
    updated_at = models.DateTimeField("修改时间", default=timezone.now)
    updated_by = _account()

    # History is read by record (`id`) and by time; the other columns' indexes, copied from the record's own, only
    # slowed every write (a 100,000-row import spent 0.7 s of its write keeping eight of them).
    history = HistoricalRecords(
        excluded_fields=["updated_at"],
        no_db_index=["date", "key", "created_by", "deleted_by", "updated_by", "org", "ledger_type"],
    )
    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        # Serves the compiled conditions (ledger, alive, date range) and the records list: its order (date, id) and
        # the scope test on org come from the index alone, so a deep page skips index entries, not rows.
        # Every other index costs each write: none on the accounts (see `_account`), the external key only where set.
        indexes = [
            models.Index(fields=["ledger_type", "date", "id", "is_deleted", "org"], name="record_list"),
            models.Index(fields=["key"], condition=KEY_SET, name="record_key"),
        ]
        verbose_name = "台账记录"
        verbose_name_plural = "台账记录"

    def __str__(self) -> str:
        return f"{self.ledger_type.label} #{self.pk}"


def attachment_path(instance: Attachment, filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{instance.record_id}-{timezone.now():%H%M%S%f}{suffix}"


class Attachment(models.Model):
    """佐证材料: an image, PDF or office file kept under the data dir, served only through an access check."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="attachments")
    field_code = models.CharField("字段", max_length=60, blank=True)
    file = models.FileField("文件", upload_to=attachment_path)
    name = models.CharField("文件名", max_length=200)
    size = models.PositiveIntegerField("大小", default=0)
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"

    def __str__(self) -> str:
        return self.name


# --- list workflows (清单: states, deadlines, 销号) --------------------------------------------------------------


class Transition(models.Model):
    """One step of a listed item's workflow: who, when, from which state to which, why, with which files.

    The log is what the record page shows as its timeline. Records whose status was set without a workflow
    step (demo data, imports from before the workflow existed) simply have no entries: the log is a history,
    never a precondition.
    """

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="transitions")
    code = models.CharField("操作代码", max_length=60)
    label = models.CharField("操作", max_length=60)
    from_state = models.CharField("原状态", max_length=30, blank=True)
    to_state = models.CharField("新状态", max_length=30)
    comment = models.TextField("说明", blank=True)
    attachments = models.ManyToManyField(Attachment, verbose_name="佐证材料", blank=True, related_name="+")
    at = models.DateTimeField("时间", default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "清单流转记录"
        verbose_name_plural = "清单流转记录"

    def __str__(self) -> str:
        return f"{self.record}: {self.from_state} → {self.to_state}"
