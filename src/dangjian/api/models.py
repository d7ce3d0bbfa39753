"""API tokens: one account's key to the HTTP API, stored only as a SHA-256 digest of its secret."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A bearer token of one account. The secret is shown once when created; only its digest is kept, so a copy
    of the database (a backup) gives nobody a working token. A token acts exactly as its account does."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name="账号"
    )
    name = models.CharField("用途", max_length=100, help_text="如“智慧社区平台推送活动记录”")
    digest = models.CharField("摘要", max_length=64, unique=True, editable=False)  # sha256 hex of the secret
    prefix = models.CharField("开头", max_length=12, editable=False)  # to tell tokens apart in the list
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    expires_at = models.DateTimeField("过期时间", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.user} · {self.name}（{self.prefix}…）"

    def state(self, now: dt.datetime | None = None) -> str:
        """有效 / 已过期 / 已吊销, for the list page."""
        if self.revoked_at is not None:
            return "已吊销"
        if self.expires_at is not None and self.expires_at <= (now or timezone.now()):
            return "已过期"
        return "有效"
