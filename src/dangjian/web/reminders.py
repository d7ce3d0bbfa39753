"""提醒: the daily digest per unit, `dangjian remind [--days N] [--date YYYY-MM-DD]` for cron.

For each unit (org) and day: its 清单 items whose deadline is within N days or past and whose next step is the
unit's own (a step from the item's state that the `owner` may take), and its 填报任务 targets not yet submitted
whose task's deadline is within N days or past. Each member of the unit with a role that may act there (填报员,
审核员, 管理员 at the unit itself) gets one in-app message (`Reminder`) per unit and day with the items his Scope lets
him act on — `holds(record, "owner")`, `may_submit(target)`, so no confidential item reaches anyone outside its
ledger — and, when email is configured (`DANGJIAN_EMAIL_HOST`) and the account has an address, the same text by
email. A second run the same day finds the messages already there and sends nothing new. Every run is one event
in the audit log (who got what, which emails failed).

This lives in the portal (web) because a digest joins two stages that do not import each other (tasks, lists).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from dangjian.audit import log as audit
from dangjian.lists import workflow
from dangjian.orgs import access
from dangjian.orgs.models import Membership, Organization
from dangjian.records.models import Record
from dangjian.tasks.collection import OPEN_STATUSES
from dangjian.tasks.models import TaskTarget
from dangjian.text import cn_date

from .models import Reminder

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 7
MAX_DAYS = 90
MAX_LINES = 200  # items listed in one message; the rest are counted


@dataclass
class Due:
    """One line of a digest: a 清单 item or a 填报任务 target."""

    kind: str  # "item" | "target"
    obj: Any
    title: str
    deadline: dt.date
    status: str

    def days_left(self, day: dt.date) -> int:
        return (self.deadline - day).days

    def line(self, day: dt.date) -> str:
        left = self.days_left(day)
        when = f"已逾期 {-left} 天" if left < 0 else ("今天到期" if left == 0 else f"还有 {left} 天")
        return f"{self.title}（{self.status}；时限 {cn_date(self.deadline)}，{when}）"

    def as_json(self, day: dt.date) -> dict[str, Any]:
        """What the message keeps of the line, with what its link needs (the ledger's code, the task)."""
        link = {"ledger": self.obj.ledger_type.code} if self.kind == "item" else {"task": self.obj.task_id}
        return link | {
            "kind": self.kind,
            "id": self.obj.pk,
            "title": self.title,
            "deadline": self.deadline.isoformat(),
            "days_left": self.days_left(day),
            "status": self.status,
        }


@dataclass
class Outcome:
    day: dt.date
    days: int
    units: set[int] = field(default_factory=set)
    messages: int = 0
    emails: int = 0
    email_failures: list[str] = field(default_factory=list)
    already: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{cn_date(self.day)}提醒（{self.days} 天内到期及已逾期）：{len(self.units)} 个单位，"
            f"新发站内消息 {self.messages} 条，邮件 {self.emails} 封"
        )
        if self.already:
            text += f"；今日已发过 {self.already} 条，未重复发送"
        if self.email_failures:
            text += f"；邮件发送失败 {len(self.email_failures)} 封：{'、'.join(self.email_failures)}"
        return text


def email_configured() -> bool:
    return bool(getattr(settings, "EMAIL_HOST", ""))


# --- what is due ---------------------------------------------------------------------------------------------


def due_items(day: dt.date, days: int) -> dict[int, list[Due]]:
    """Open 清单 items by org id, due by `day + days` (or overdue), whose next step is the owning unit's."""
    horizon = (day + dt.timedelta(days=days)).isoformat()
    out: dict[int, list[Due]] = defaultdict(list)
    for lt, wf in workflow.workflow_ledgers():
        owners = {state for step in wf.steps if "owner" in step.who for state in step.sources}
        qs = (
            Record.objects.filter(ledger_type=lt, is_deleted=False, status__in=owners, org__is_active=True)
            .exclude(status__in=wf.closed)
            .where_value(wf.deadline_field, "not_empty")
            .where_value(wf.deadline_field, "<=", horizon)
            .select_related("org")
            .order_by("org__path", "id")
        )
        for record in qs:
            record.ledger_type = lt
            title = f"{lt.label}：{workflow.display_title(record, wf)}"
            deadline = dt.date.fromisoformat(record.values[wf.deadline_field])
            out[record.org_id].append(Due("item", record, title, deadline, record.status))
    return out


def due_targets(day: dt.date, days: int) -> dict[int, list[Due]]:
    """填报任务 targets not submitted, by org id, whose task is due by `day + days` (or overdue)."""
    horizon = day + dt.timedelta(days=days)
    out: dict[int, list[Due]] = defaultdict(list)
    qs = (
        TaskTarget.objects.filter(status__in=OPEN_STATUSES, task__deadline__lte=horizon, org__is_active=True)
        .select_related("task", "org")
        .order_by("task__deadline", "pk")
    )
    for target in qs:
        status = target.get_status_display()
        out[target.org_id].append(
            Due("target", target, f"填报任务：{target.task.title}", target.task.deadline, status)
        )
    return out


def digest_for(user: Any, org: Organization, items: list[Due], targets: list[Due]) -> list[Due]:
    """What of a unit's due list this account may act on (its Scope decides), soonest deadline first."""
    scope = access.scope(user)
    mine = [d for d in items if scope.holds(d.obj, "owner")]
    mine += [d for d in targets if scope.may_submit(d.obj)]
    mine.sort(key=lambda d: (d.deadline, d.kind, d.obj.pk))
    return mine


def compose(org: Organization, day: dt.date, days: int, dues: list[Due]) -> tuple[str, str]:
    overdue = sum(d.days_left(day) < 0 for d in dues)
    parts = [
        f"{n} 项{what}" for n, what in ((overdue, "已逾期"), (len(dues) - overdue, f" {days} 天内到期")) if n
    ]
    subject = f"【党建台账提醒】{org.display_name}：{'，'.join(parts)}"
    lines = [f"{org.name}，截至{cn_date(day)}：", ""]
    for heading, group in (
        ("已逾期", [d for d in dues if d.days_left(day) < 0]),
        (f"{days} 天内到期", [d for d in dues if d.days_left(day) >= 0]),
    ):
        if group:
            lines.append(f"{heading}（{len(group)} 项）：")
            lines += [f"  {n}. {d.line(day)}" for n, d in enumerate(group[:MAX_LINES], 1)]
            if len(group) > MAX_LINES:
                lines.append(f"  …… 另有 {len(group) - MAX_LINES} 项")
            lines.append("")
    lines.append("请登录党建台账系统办理。本提醒每日一次，由系统自动发送。")
    return subject[:200], "\n".join(lines)


# --- sending -------------------------------------------------------------------------------------------------


def recipients(org: Organization) -> list[Any]:
    """Active accounts with a role at the unit itself that may act there (填报员, 审核员, 管理员)."""
    ids = Membership.objects.filter(org=org, role__in=access.WRITE_ROLES).values("user_id")
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def remind(day: dt.date | None = None, days: int = DEFAULT_DAYS) -> Outcome:
    """Write (and email) today's digests; nothing new for a unit and account already reminded that day."""
    day = day or timezone.localdate()
    outcome = Outcome(day=day, days=days)
    items, targets = due_items(day, days), due_targets(day, days)
    org_ids = sorted(set(items) | set(targets))
    done = set(Reminder.objects.filter(day=day, org_id__in=org_ids).values_list("recipient_id", "org_id"))
    for org in Organization.objects.filter(pk__in=org_ids).order_by("path"):
        for user in recipients(org):
            dues = digest_for(user, org, items.get(org.pk, []), targets.get(org.pk, []))
            if not dues:
                continue
            outcome.units.add(org.pk)
            if (user.pk, org.pk) in done:
                outcome.already += 1
                continue
            subject, body = compose(org, day, days, dues)
            try:
                with transaction.atomic():
                    reminder = Reminder.objects.create(
                        recipient=user,
                        org=org,
                        day=day,
                        subject=subject,
                        body=body,
                        items=[d.as_json(day) for d in dues],
                    )
            except IntegrityError:  # another run got there first
                outcome.already += 1
                continue
            outcome.messages += 1
            sent = {"user": user.get_username(), "org": org.code, "items": len(dues), "email": False}
            if email_configured() and user.email:
                try:
                    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
                except Exception as exc:  # one bad address or a down server must not stop the others
                    logger.warning("reminder email to %s failed: %s", user.get_username(), exc)
                    outcome.email_failures.append(user.get_username())
                else:
                    outcome.emails += 1
                    sent["email"] = True
                    Reminder.objects.filter(pk=reminder.pk).update(emailed=True)
            outcome.sent.append(sent)
    audit.record(
        audit.Action.REMIND,
        username=audit.COMMAND_LINE,
        target=day.isoformat(),
        days=days,
        units=len(outcome.units),
        messages=outcome.messages,
        emails=outcome.emails,
        email_failures=outcome.email_failures,
        sent=outcome.sent[:500],
    )
    return outcome


def remind_command(date: str | None, days: int | None) -> tuple[int, str]:
    """`dangjian remind`: (exit code, Chinese output). Bad input: exit 2 and a message naming the option."""
    if days is None:
        days = DEFAULT_DAYS
    if not 0 <= days <= MAX_DAYS:
        return 2, f"错误：--days 应为 0 到 {MAX_DAYS} 之间的整数（收到 {days}）"
    day = None
    if date:
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            return 2, f"错误：--date 应为 YYYY-MM-DD 格式的日期（收到“{date[:40]}”）"
    return 0, remind(day, days).summary()


# --- the web: one's own messages -----------------------------------------------------------------------------


def unread(user: Any) -> Any:
    return Reminder.objects.filter(recipient=user, read_at__isnull=True)


def mark_read(user: Any, pk: int) -> bool:
    """Mark one of the user's own messages read; False when it is not his (or does not exist)."""
    return bool(
        Reminder.objects.filter(recipient=user, pk=pk, read_at__isnull=True).update(read_at=timezone.now())
        or Reminder.objects.filter(recipient=user, pk=pk).exists()
    )
