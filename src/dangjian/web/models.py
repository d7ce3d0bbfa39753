"""The portal's own tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PasswordState(models.Model):
    """Whether an account's password was issued by someone else and must be changed at the next login.

    Set when another signed-in user (an administrator creating the account or resetting its password) sets the
    password; cleared when the owner changes it. Accounts made from the command line (the demo's, `createsuperuser`)
    have no row: their passwords were chosen or published on purpose.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_state", verbose_name="账号"
    )
    must_change = models.BooleanField("下次登录须修改密码", default=False)
    changed_at = models.DateTimeField("密码设置时间", auto_now=True)

    class Meta:
        verbose_name = "密码状态"
        verbose_name_plural = "密码状态"

    def __str__(self) -> str:
        return f"{self.user}：{'须修改密码' if self.must_change else '已自行设置密码'}"


class Reminder(models.Model):
    """A daily digest (提醒) for one account about one unit: its 清单 items and 填报任务 due soon or overdue, written by
    `dangjian remind` (dangjian.web.reminders). One per (recipient, unit, day): a second run that day sends nothing."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders", verbose_name="收件人"
    )
    org = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="+", verbose_name="单位", db_index=False
    )
    day = models.DateField("日期")
    subject = models.CharField("标题", max_length=200)
    body = models.TextField("正文")
    items = models.JSONField("事项", default=list)
    emailed = models.BooleanField("已发邮件", default=False)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "提醒"
        verbose_name_plural = "提醒"
        ordering = ["-day", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "org", "day"], name="one_reminder_per_unit_and_day")
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="reminder_unread")]

    def __str__(self) -> str:
        return self.subject


class Dashboard(models.Model):
    """驾驶舱: what a pack names for the overview page (`[[dashboards]]` in pack.toml, docs/packs.md) — the key
    indicators shown this period against the last (`cockpit`) and those units may be ranked by (`ranking`).
    Loaded like every other pack definition (packs/handlers_dashboards.py); owned by one pack."""

    key = models.CharField("代码", max_length=100, unique=True)
    label = models.CharField("名称", max_length=200)
    pack = models.CharField("数据包", max_length=60, blank=True)
    order = models.IntegerField("顺序", default=0)
    cockpit = models.JSONField("重点指标", default=list)
    ranking = models.JSONField("排名指标", default=list)

    class Meta:
        verbose_name = "驾驶舱"
        verbose_name_plural = "驾驶舱"
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.label
