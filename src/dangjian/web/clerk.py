"""The clerk's day on the home page: what falls due this week and what came back (退回) and why.

Both lists hold the 填报任务 of the account's own units (own_units) and the 清单 items those units own, ordered by
urgency (the nearest deadline first; the latest return first). Each entry carries the link to where it is done.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Prefetch, Subquery
from django.urls import reverse
from django.utils import timezone

from dangjian.lists import workflow
from dangjian.orgs import access
from dangjian.records.models import Record, Transition
from dangjian.tasks.collection import OPEN_STATUSES
from dangjian.tasks.models import TargetStatus, TaskEvent, TaskTarget
from dangjian.text import days_left, person

WEEK = 7  # "this week": deadlines from today up to seven days on
LIMIT = 20  # entries shown per list; the count says how many there are


@dataclass(frozen=True)
class Due:
    kind: str  # 填报任务 / the list's ledger label
    title: str
    url: str
    unit: str
    deadline: dt.date
    when: str  # 还剩 3 天 …
    overdue: bool
    state: str


@dataclass(frozen=True)
class Returned:
    kind: str
    title: str
    url: str
    unit: str
    reason: str
    by: str
    at: dt.datetime | None


def own_units(scope: access.Scope) -> list[int]:
    """The units whose work is the account's own: those where it is itself a 填报员, 审核员 or 管理员 (as the daily
    reminders are addressed, web/reminders.py). A district's administrator is not handed every community's to-dos;
    units below are watched on the task and overdue pages."""
    return [m.org.pk for m in scope.memberships if m.role in access.WRITE_ROLES and m.org.is_active]


def _backward_steps(wf: workflow.Workflow) -> list[str]:
    """The steps that send an item back (退回): their target state comes before every state they start from."""
    order = {state: i for i, state in enumerate(wf.states)}
    return [
        s.code
        for s in wf.steps
        if s.target in order and s.sources and all(order.get(src, -1) > order[s.target] for src in s.sources)
    ]


def due_this_week(scope: access.Scope, today: dt.date | None = None) -> tuple[int, list[Due]]:
    """Open 填报任务 of the account's units due within the week (or already past their deadline) and their open
    清单 items due within the week, nearest deadline first: (how many, the first LIMIT)."""
    day = today or timezone.localdate()
    end = day + dt.timedelta(days=WEEK)
    items: list[Due] = []
    targets = (
        TaskTarget.objects.filter(org__in=own_units(scope), status__in=OPEN_STATUSES, task__deadline__lte=end)
        .select_related("task", "org")
        .order_by("task__deadline", "org__path")
    )
    for t in targets[: LIMIT + 1]:
        items.append(
            Due(
                kind="填报任务",
                title=t.task.title,
                url=reverse("ledgers:task", args=[t.task.pk]),
                unit=t.org.display_name,
                deadline=t.task.deadline,
                when=days_left(t.task.deadline, day),
                overdue=t.task.deadline < day,
                state=t.get_status_display(),
            )
        )
    count = targets.count() if len(items) > LIMIT else len(items)
    for lt, wf in workflow.workflow_ledgers():
        qs = scope.records(lt, Record.objects.select_related("org")).filter(org__in=own_units(scope))
        acting = {state for step in wf.steps if "owner" in step.who for state in step.sources}
        qs = (
            qs.filter(status__in=acting)  # the unit must act next (not an item awaiting the level above)
            .exclude(status__in=wf.closed)
            .where_value(wf.deadline_field, ">=", day.isoformat())
            .where_value(wf.deadline_field, "<=", end.isoformat())
        )
        count += qs.count()
        for record in qs.order_by_value(wf.deadline_field, then=("org__path", "id"))[:LIMIT]:
            record.ledger_type = lt
            deadline = dt.date.fromisoformat(record.values[wf.deadline_field])
            items.append(
                Due(
                    kind=lt.label,
                    title=workflow.display_title(record, wf),
                    url=reverse("ledgers:record", args=[lt.code, record.pk]),
                    unit=record.org.display_name,
                    deadline=deadline,
                    when=days_left(deadline, day),
                    overdue=False,
                    state=record.status,
                )
            )
    items.sort(key=lambda d: (d.deadline, d.kind != "填报任务", d.unit))
    return count, items[:LIMIT]


def returned(scope: access.Scope) -> tuple[int, list[Returned]]:
    """What was sent back to the account's units and is still to be put right: 退回 报送 (the target still 已退回)
    and 清单 items whose last step was a 退回; with the reason, who and when, the latest first."""
    items: list[Returned] = []
    back_events = Prefetch(
        "events",
        queryset=TaskEvent.objects.filter(to_status=TargetStatus.RETURNED)
        .select_related("by")
        .order_by("-at", "-id"),
        to_attr="returns",
    )
    last_return = TaskEvent.objects.filter(target=OuterRef("pk"), to_status=TargetStatus.RETURNED).order_by(
        "-at", "-id"
    )
    me = getattr(scope.user, "pk", None)
    targets = (
        TaskTarget.objects.filter(org__in=own_units(scope), status=TargetStatus.RETURNED)
        .annotate(returned_by=Subquery(last_return.values("by")[:1]))
        .exclude(returned_by=me)  # what one returned oneself (a reviewer above the unit) is not one's to fix
        .select_related("task", "org")
        .prefetch_related(back_events)
        .order_by("-id")
    )
    count = targets.count()
    for t in targets[:LIMIT]:
        event = t.returns[0] if t.returns else None
        items.append(
            Returned(
                kind="填报任务",
                title=t.task.title,
                url=reverse("ledgers:task", args=[t.task.pk]),
                unit=t.org.display_name,
                reason=t.return_reason,
                by=person(event.by) if event else "",
                at=event.at if event else None,
            )
        )
    last = Transition.objects.filter(record=OuterRef("pk")).order_by("-at", "-id")
    for lt, wf in workflow.workflow_ledgers():
        codes = _backward_steps(wf)
        if not codes:
            continue
        qs = (
            scope.records(lt, Record.objects.select_related("org"))
            .filter(org__in=own_units(scope))
            .exclude(status__in=wf.closed)
            .annotate(last_step=Subquery(last.values("code")[:1]), last_by=Subquery(last.values("by")[:1]))
            .filter(last_step__in=codes)
            .exclude(last_by=me)
        )
        count += qs.count()
        for record in qs.order_by("-id")[:LIMIT]:
            record.ledger_type = lt
            step: Any = record.transitions.select_related("by").order_by("-at", "-id").first()
            items.append(
                Returned(
                    kind=lt.label,
                    title=workflow.display_title(record, wf),
                    url=reverse("ledgers:record", args=[lt.code, record.pk]),
                    unit=record.org.display_name,
                    reason=step.comment if step else "",
                    by=person(step.by) if step else "",
                    at=step.at if step else None,
                )
            )
    oldest = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    items.sort(key=lambda r: r.at or oldest, reverse=True)
    return count, items[:LIMIT]


def day(scope: access.Scope, today: dt.date | None = None) -> dict[str, Any]:
    """The home page's context for the clerk's day."""
    due_count, due = due_this_week(scope, today)
    returned_count, back = returned(scope)
    return {"due_count": due_count, "due": due, "returned_count": returned_count, "returned": back}
