"""`dangjian manage duty USERNAME system|security|auditor|none`: grant or take away an administrator duty.

The first administrators of an installation (and the accounts of administrators, which no administrator changes in
the web) are kept here, on the server. Every change is written to the audit log as done from the command line.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dangjian.orgs.approvals import ApprovalRefused, set_duty
from dangjian.orgs.models import AdminDuty, Duty

NONE = "none"


class Command(BaseCommand):
    help = "授予或撤销三员角色：system（系统管理员）、security（安全管理员）、auditor（安全审计员）、none（撤销）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", help="账号（用户名）；不填则列出现有三员")
        parser.add_argument("duty", nargs="?", choices=[*Duty.values, NONE], help="三员角色")

    def handle(
        self, *args: Any, username: str | None = None, duty: str | None = None, **options: Any
    ) -> None:
        if username is None:
            for held in AdminDuty.objects.select_related("user").order_by("duty", "user__username"):
                self.stdout.write(f"{held.user.get_username():<16} {held.get_duty_display()}")
            return
        if duty is None:
            raise CommandError("请指定三员角色：system、security、auditor 或 none")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"账号“{username}”不存在")
        try:
            set_duty(None, user, None if duty == NONE else duty, source="（命令行）")
        except ApprovalRefused as exc:
            raise CommandError(exc.message) from None
        label = "无" if duty == NONE else Duty(duty).label
        self.stdout.write(f"账号“{username}”的三员角色：{label}")
