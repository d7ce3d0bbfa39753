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
