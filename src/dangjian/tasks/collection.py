"""填报任务 (collection tasks): a report writer asks units for ledgers of a period; units 报送, reviewers 退回.

Rules (also in docs/guide.md):
- Creating a task needs 管理员 or 审核员 at the 发起单位; the 填报范围 lies within it. The target units are the
  active orgs below the scope root (not the root itself) of the chosen kinds (all kinds when none is chosen),
  resolved once at creation.
- A target moves 未填报 → 暂存 when the unit enters a record the task covers, → 已报送 when the unit submits, and
  → 已退回 (with a reason, required) when a reviewer above returns it; a returned unit submits again.
- 报送 may be done by anyone who may enter records for the unit (its 填报员, 审核员, 管理员, or those above).
- 退回 may be done by a 审核员/管理员 of an org strictly above the unit, or of the 发起单位 (so a task that
  targets the creating org itself can still be returned). The unit's own reviewer cannot undo its 报送.
- While 已报送, the unit's records of the task's ledgers dated within the period cannot be added, changed,
  deleted or restored — except by those who may return it (reviewers above correct figures without a round
  trip). The lock covers the target org's own records, not its sub-units'.
- Progress is visible to every role covering the 发起单位; a unit sees only its own rows. Its record counts are
  of the task's ledgers whose rows the viewer may see (a confidential ledger's per-unit count is not an aggregate
  the 保密规则 give).
Who may do what is decided by the request's `access.scope()` (`may_create_task`, `tasks`, `targets`,
`may_submit`, `may_return`); the functions below only apply it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dangjian.orgs import access
from dangjian.orgs.models import Organization, OrgKind
from dangjian.records.models import LedgerType, Record
from dangjian.spreadsheets.xlsx import neutralise, table  # the one cell cleaner of every xlsx written
from dangjian.text import NOTE_LIMIT, cn_date, note

from . import (
    extras,  # what later stages add to a task (报告参数), see extras.py
    schemas,  # the task resource's schemas (they name Progress for type checking only)
)
from .models import CollectionTask, TargetStatus, TaskEvent, TaskTarget

OPEN_STATUSES = (TargetStatus.PENDING, TargetStatus.DRAFT, TargetStatus.RETURNED)


class TaskError(Exception):
    """A request the rules refuse; the message is Chinese and shown to the user as is."""


# --- creating ------------------------------------------------------------------------------------------------


def target_orgs(scope_root: Organization, kinds: Iterable[OrgKind] = ()) -> QuerySet[Organization]:
    """The units a task asks: active orgs below the scope root, of the given kinds (any kind if none)."""
    qs = scope_root.subtree().exclude(pk=scope_root.pk).filter(is_active=True)
    kinds = list(kinds)
    if kinds:
        qs = qs.filter(kinds__in=kinds).distinct()
    return qs.order_by("path")


def may_create(user: Any, org: Organization) -> bool:
    return access.scope(user).may_create_task(org)


@transaction.atomic
def create_task(
    user: Any,
    *,
    title: str,
    creator_org: Organization,
    ledger_types: Iterable[LedgerType],
    period_start: dt.date,
    period_end: dt.date,
    scope_root: Organization,
    kinds: Iterable[OrgKind] = (),
    deadline: dt.date,
    instructions: str = "",
    others: bool = False,
) -> CollectionTask:
    """`others`: the task also asks for something a later stage adds (报告参数, see extras.py), so it may ask
    for no ledger."""
    if not may_create(user, creator_org):
        raise PermissionDenied("只有发起单位的管理员或审核员可以创建填报任务")
    ledger_types, kinds = list(ledger_types), list(kinds)
    if not ledger_types and not others:
        raise TaskError("请至少选择一个台账或报告参数")
    if period_end < period_start:
        raise TaskError("统计期止不能早于统计期起")
    if not scope_root.is_within(creator_org):
        raise TaskError(f"填报范围“{scope_root.name}”不在发起单位“{creator_org.name}”之内")
    orgs = list(target_orgs(scope_root, kinds))
    if not orgs:
        raise TaskError("填报范围内没有符合所选类别的单位，请调整范围或类别")
    task = CollectionTask.objects.create(
        title=title,
        creator_org=creator_org,
        period_start=period_start,
        period_end=period_end,
        scope_root=scope_root,
        deadline=deadline,
        instructions=instructions,
        created_by=_actor(user),
    )
    task.ledger_types.set(ledger_types)
    task.target_kinds.set(kinds)
    started = set(_record_counts(task, [o.pk for o in orgs]))
    targets = TaskTarget.objects.bulk_create(
        TaskTarget(
            task=task,
            org=o,
            status=TargetStatus.DRAFT if o.pk in started else TargetStatus.PENDING,
        )
        for o in orgs
    )
    TaskEvent.objects.bulk_create(
        TaskEvent(target=t, from_status="", to_status=t.status, reason="创建任务", by=_actor(user))
        for t in targets
    )
    return task


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


# --- who may do what -----------------------------------------------------------------------------------------


def may_see_progress(user: Any, task: CollectionTask) -> bool:
    return access.scope(user).may_see_progress(task)


def visible_targets(user: Any, task: CollectionTask) -> QuerySet[TaskTarget]:
    """All targets for those covering the creating org; otherwise only the user's own units."""
    qs = task.targets.select_related("org", "submitted_by").order_by("org__path")
    return access.scope(user).targets(task, qs)


def visible_tasks(user: Any) -> QuerySet[CollectionTask]:
    """Tasks whose progress the user sees, or that ask one of the user's units."""
    return access.scope(user).tasks(CollectionTask.objects.all())


def may_submit(user: Any, target: TaskTarget) -> bool:
    return access.scope(user).may_submit(target)


def may_return(user: Any, target: TaskTarget) -> bool:
    """A reviewer/admin strictly above the unit, or of the creating org; never the unit's own reviewer."""
    return access.scope(user).may_return(target)


# --- status changes ------------------------------------------------------------------------------------------


def _change(target: TaskTarget, user: Any, to: str, reason: str = "") -> None:
    TaskEvent.objects.create(
        target=target, from_status=target.status, to_status=to, reason=reason, by=_actor(user)
    )
    target.status = to


@transaction.atomic
def submit(user: Any, target: TaskTarget) -> TaskTarget:
    target = TaskTarget.objects.select_for_update().select_related("task", "org").get(pk=target.pk)
    if not may_submit(user, target):
        raise PermissionDenied(f"无权为“{target.org.name}”报送")
    if target.status == TargetStatus.SUBMITTED:
        raise TaskError(f"“{target.org.name}”已于{cn_date(target.submitted_at)}报送，无需重复报送")
    missing = [name for extra in extras.registered() for name in extra.missing(target)]
    if missing:  # e.g. 报告参数 the task asks for and the unit has not entered (see extras.py)
        raise TaskError(f"“{target.org.name}”尚未填报：{'、'.join(missing)}，请填报后再报送")
    _change(target, user, TargetStatus.SUBMITTED)
    target.submitted_at, target.submitted_by = timezone.now(), _actor(user)
    target.return_reason = ""  # a resubmitted target is no longer returned: the reason stays in its events
    target.save()
    return target


@transaction.atomic
def return_target(user: Any, target: TaskTarget, reason: str) -> TaskTarget:
    target = TaskTarget.objects.select_for_update().select_related("task", "org").get(pk=target.pk)
    if not may_return(user, target):
        raise PermissionDenied(f"无权退回“{target.org.name}”的报送")
    reason = note(reason)
    if not reason:
        raise TaskError("请填写退回原因")
    if len(reason) > NOTE_LIMIT:
        raise TaskError(f"退回原因不能超过 {NOTE_LIMIT} 字（现为 {len(reason)} 字）")
    if target.status != TargetStatus.SUBMITTED:
        raise TaskError(f"“{target.org.name}”尚未报送，不能退回")
    _change(target, user, TargetStatus.RETURNED, reason)
    target.return_reason = reason
    target.save()
    return target


# --- the 报送 lock, called by services for every record change ------------------------------------------------


def _covering(ledger_type: LedgerType, org: Organization, dates: Iterable[dt.date | None]) -> QuerySet:
    """Targets of this unit whose task covers this ledger at one of these dates."""
    days = [d for d in dates if d is not None]
    if not days:
        return TaskTarget.objects.none()
    in_period = Q()
    for day in days:
        in_period |= Q(task__period_start__lte=day, task__period_end__gte=day)
    return TaskTarget.objects.filter(in_period, org=org, task__ledger_types=ledger_type)


def locking_target(
    user: Any, ledger_type: LedgerType, org: Organization, dates: Iterable[dt.date | None]
) -> TaskTarget | None:
    """The submitted target that forbids this user to change such a record, or None."""
    for target in (
        _covering(ledger_type, org, dates).filter(status=TargetStatus.SUBMITTED).select_related("task", "org")
    ):
        if not may_return(user, target):
            return target
    return None


def lock_message(target: TaskTarget) -> str:
    return (
        f"“{target.org.name}”已于{cn_date(target.submitted_at)}报送“{target.task.title}”，"
        "如需修改请联系上级审核员退回"
    )


def note_started(user: Any, ledger_type: LedgerType, org: Organization, day: dt.date) -> None:
    """A record was entered: each 未填报 target it belongs to becomes 暂存."""
    for target in _covering(ledger_type, org, [day]).filter(status=TargetStatus.PENDING):
        _change(target, user, TargetStatus.DRAFT, "已填报记录")
        target.save(update_fields=["status"])


def note_entered(user: Any, task: CollectionTask, org: Organization, reason: str) -> None:
    """Something a task asks beyond its ledgers (a 报告参数) was entered for the unit: 未填报 → 暂存."""
    for target in task.targets.filter(org=org, status=TargetStatus.PENDING):
        _change(target, user, TargetStatus.DRAFT, reason)
        target.save(update_fields=["status"])


# --- the same rules for bulk paths (imports), checked in memory rather than one query per row ---------------


def locks_for(user: Any, ledger_type: LedgerType) -> dict[int, list[TaskTarget]]:
    """Submitted targets that lock this ledger against this user, by org id (see `lock_at`)."""
    locks: dict[int, list[TaskTarget]] = defaultdict(list)
    qs = TaskTarget.objects.filter(status=TargetStatus.SUBMITTED, task__ledger_types=ledger_type)
    for target in qs.select_related("task", "org"):
        if not may_return(user, target):
            locks[target.org_id].append(target)
    return locks


def lock_at(locks: dict[int, list[TaskTarget]], org_id: int, day: dt.date) -> TaskTarget | None:
    """The lock (from `locks_for`) that forbids a record of this org at this date, or None."""
    return next((t for t in locks.get(org_id, ()) if t.task.period_start <= day <= t.task.period_end), None)


def note_started_many(user: Any, ledger_type: LedgerType, rows: Iterable[tuple[int, dt.date]]) -> None:
    """After a bulk entry of (org id, date) rows: each 未填报 target they belong to becomes 暂存."""
    days: dict[int, list[dt.date]] = defaultdict(list)
    for org_id, day in rows:
        days[org_id].append(day)
    pending = TaskTarget.objects.filter(
        org_id__in=list(days), status=TargetStatus.PENDING, task__ledger_types=ledger_type
    ).select_related("task")
    for target in pending:
        if any(target.task.period_start <= d <= target.task.period_end for d in days[target.org_id]):
            _change(target, user, TargetStatus.DRAFT, "已导入记录")
            target.save(update_fields=["status"])


# --- progress ------------------------------------------------------------------------------------------------


def _record_counts(
    task: CollectionTask, org_ids: list[int], ledgers: QuerySet[LedgerType] | None = None
) -> dict[int, int]:
    """Live records per unit of the task's ledgers (or of `ledgers`, some of them) in its period."""
    rows = (
        Record.objects.filter(
            org_id__in=org_ids,
            ledger_type__in=task.ledger_types.all() if ledgers is None else ledgers,
            date__gte=task.period_start,
            date__lte=task.period_end,
            is_deleted=False,
        )
        .values_list("org_id")
        .annotate(n=Count("id"))
    )
    return dict(rows)  # type: ignore[arg-type]


def is_overdue(task: CollectionTask, target: TaskTarget, today: dt.date | None = None) -> bool:
    return target.status != TargetStatus.SUBMITTED and (today or timezone.localdate()) > task.deadline


@dataclass
class Row:
    target: TaskTarget
    records: int
    overdue: bool
    may_submit: bool
    may_return: bool


@dataclass
class Progress:
    task: CollectionTask
    rows: list[Row]
    counts: list[tuple[str, str, int]]  # (status code, label, count), every status in order
    overdue: int
    full: bool  # the whole task, or only the user's own units


def progress(user: Any, task: CollectionTask) -> Progress:
    scope = access.scope(user)
    targets = list(visible_targets(user, task))
    records = _record_counts(
        task, [t.org_id for t in targets], scope.counted_ledgers(task.ledger_types.all())
    )
    today = timezone.localdate()
    rows = [
        Row(
            target=t,
            records=records.get(t.org_id, 0),
            overdue=is_overdue(task, t, today),
            may_submit=t.status != TargetStatus.SUBMITTED and scope.may_submit(t),
            may_return=t.status == TargetStatus.SUBMITTED and scope.may_return(t),
        )
        for t in targets
    ]
    counts = [(s.value, s.label, sum(r.target.status == s for r in rows)) for s in TargetStatus]
    return Progress(task, rows, counts, sum(r.overdue for r in rows), scope.may_see_progress(task))


def open_targets(user: Any) -> QuerySet[TaskTarget]:
    """The home page's to-do list: targets within the user's write scope not yet submitted."""
    return (
        TaskTarget.objects.filter(org__in=access.scope(user).entry_orgs(), status__in=OPEN_STATUSES)
        .select_related("task", "org")
        .order_by("task__deadline", "org__path")
    )


# --- xlsx export ---------------------------------------------------------------------------------------------


def export_xlsx(prog: Progress) -> bytes:
    """The task's progress: a caption, then each target as the twin's `TargetOut` row under `TARGET_COLUMNS`."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    detail = schemas.dumped_detail(prog)
    task, period = detail["task"], detail["task"]["period"]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "填报进度"
    ws.append([neutralise(task["title"])])
    ws.append(
        [
            f"统计期：{cn_date(period['start'])}至{cn_date(period['end'])}；截止日期：{cn_date(task['deadline'])}"
        ]
    )
    ws.append(["；".join(f"{label} {n}" for _, label, n in prog.counts) + f"；逾期 {detail['overdue']}"])
    late = PatternFill("solid", fgColor="FDE2E1")
    for i, cells in enumerate(table(schemas.TARGET_COLUMNS, detail["targets"])):
        ws.append(cells)
        if i == 0:
            for cell in ws[ws.max_row]:
                cell.font = Font(bold=True)
        elif detail["targets"][i - 1]["overdue"]:
            for cell in ws[ws.max_row]:
                cell.fill = late
    for letter, width in zip("ABCDEFGH", (36, 14, 10, 8, 16, 12, 30, 10), strict=True):
        ws.column_dimensions[letter].width = width
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
