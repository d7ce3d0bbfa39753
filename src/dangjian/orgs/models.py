"""The organisation tree (materialised path) and who holds which role where."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
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
