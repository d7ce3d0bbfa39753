"""Audit events. Rows are only ever added: saving an existing row or deleting one is refused."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class Action(models.TextChoices):
    LOGIN = "login", "登录成功"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOGOUT = "logout", "退出登录"
    PASSWORD_CHANGE = "password_change", "修改密码"
    ACCOUNT_CHANGE = "account_change", "账号变更"
    ROLE_CHANGE = "role_change", "三员角色变更"
    MEMBERSHIP_CHANGE = "membership_change", "单位角色变更"
    APPROVAL = "approval", "审批"
    CONFIDENTIAL_SETTING = "confidential_setting", "涉密设置变更"
    CONFIDENTIAL_READ = "confidential_read", "查阅涉密数据"
    EXPORT = "export", "导出"
    EVIDENCE_DOWNLOAD = "evidence_download", "下载佐证"
    IMPORT = "import", "导入"
    FINALISE = "finalise", "定稿"
    BACKUP = "backup", "备份"
    RESTORE = "restore", "恢复"
    TEMPLATE_CHANGE = "template_change", "模板变更"
    PACK_CHANGE = "pack_change", "数据包变更"
    REFUSED = "refused", "拒绝访问"
    API_TOKEN = "api_token", "API 令牌"
    API_WRITE = "api_write", "接口写入"
    REMIND = "remind", "发送提醒"


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk changes through the ORM are refused as well (the database refuses them too: migration 0002)."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("审计日志只能追加，不能修改。")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError("审计日志只能追加，不能修改。")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("审计日志只能追加，不能删除。")


class AuditEvent(models.Model):
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField("用户名", max_length=150, blank=True)  # kept when the account is deleted
    address = models.GenericIPAddressField("地址", null=True, blank=True)
    action = models.CharField("事件", max_length=40, choices=Action.choices, db_index=True)
    target = models.CharField("对象", max_length=300, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计日志"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '系统'} {self.get_action_display()} {self.target}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("审计日志只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("审计日志只能追加，不能删除。")
