"""The organisation tree (materialised path) and who holds which role where."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from treebeard.mp_tree import MP_Node


class OrgKind(models.Model):
    """A configurable kind of organisation (街道, 社区, 区直单位, 两新组织, 学校 …), loaded from packs."""

    code = models.SlugField("代码", max_length=40, unique=True)
    label = models.CharField("名称", max_length=40)
    order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = "组织类别"
        verbose_name_plural = "组织类别"

    def __str__(self) -> str:
        return self.label


class Organization(MP_Node):
    """A party organisation. `path` makes subtree queries a single indexed prefix match."""

    code: models.CharField[str, str] = models.CharField("组织代码", max_length=60, unique=True)
    name: models.CharField[str, str] = models.CharField("名称", max_length=120)
    short_name: models.CharField[str, str] = models.CharField("简称", max_length=60, blank=True)
    kinds: models.ManyToManyField[OrgKind, Any] = models.ManyToManyField(
        OrgKind, verbose_name="组织类别", blank=True, related_name="orgs"
    )
    is_active: models.BooleanField[bool, bool] = models.BooleanField("启用", default=True)
    sort_order: models.IntegerField[int, int] = models.IntegerField("排序", default=0)

    node_order_by = ["sort_order", "code"]

    class Meta:
        verbose_name = "组织"
        verbose_name_plural = "组织"

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def subtree(self) -> models.QuerySet[Organization]:
        return Organization.objects.filter(path__startswith=self.path)

    def is_within(self, other: Organization) -> bool:
        """True when self is other or one of its descendants."""
        return self.path.startswith(other.path)


class Role(models.TextChoices):
    ADMIN = "admin", "管理员"
    REVIEWER = "reviewer", "审核员"
    CLERK = "clerk", "填报员"
    VIEWER = "viewer", "查看者"


class Membership(models.Model):
    """A user's role in an organisation; it applies to the organisation's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name="用户"
    )
    org = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships", verbose_name="组织"
    )
    role = models.CharField("角色", max_length=20, choices=Role.choices)

    class Meta:
        unique_together = [("user", "org", "role")]
        verbose_name = "成员角色"
        verbose_name_plural = "成员角色"

    def __str__(self) -> str:
        return f"{self.user} · {self.org} · {self.get_role_display()}"


# --- 三员分立 (separation of the three administrator duties) -------------------------------------------------


class Duty(models.TextChoices):
    """The three administrator duties. One account holds at most one of them (AdminDuty.user is unique)."""

    SYSTEM = "system", "系统管理员"
    SECURITY = "security", "安全管理员"
    AUDITOR = "auditor", "安全审计员"


class AdminDuty(models.Model):
    """Which of the three administrator duties an account holds. Superuser status alone grants none of them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="admin_duty",
        verbose_name="账号",
        error_messages={"unique": "该账号已担任三员角色，一个账号只能担任三员中的一种。"},
    )
    duty = models.CharField("三员角色", max_length=20, choices=Duty.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="授予人",
    )
    granted_at = models.DateTimeField("授予时间", default=timezone.now)

    class Meta:
        verbose_name = "三员角色"
        verbose_name_plural = "三员角色"

    def __str__(self) -> str:
        return f"{self.user} · {self.get_duty_display()}"


class ChangeKind(models.TextChoices):
    MEMBERSHIP = "membership", "授予涉密单位角色"
    CONFIDENTIAL = "confidential", "涉密设置变更"
    PASSWORD = "password", "重置涉密单位成员密码"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"


class PendingChange(models.Model):
    """A change that takes effect only when a second administrator (another 安全管理员) approves it.

    `payload` holds what to apply (ids, never names, so a rename in between does not matter); `summary` says it in
    words for the list. See dangjian.orgs.approvals for who may ask, approve and reject.
    """

    kind = models.CharField("类型", max_length=20, choices=ChangeKind.choices)
    summary = models.CharField("申请内容", max_length=300)
    payload = models.JSONField("变更数据", default=dict)
    status = models.CharField(
        "状态", max_length=20, choices=ChangeStatus.choices, default=ChangeStatus.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="申请人",
    )
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审批人",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    reason = models.TextField("驳回理由", blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = "待审批变更"
        verbose_name_plural = "待审批变更"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.summary}"
