"""List workflows (清单管理、对账销号): states, transitions and who may take them, deadlines, overdue items.

A ledger type's workflow is data (`LedgerType.workflow`, loaded from a pack):

    {"states": ["待整改", "整改中", "已整改", "已销号"], "initial": "待整改", "closed": ["已销号"],
     "deadline_field": "deadline", "source_field": "source", "title_field": "title",
     "closed_on_field": "closed_on", "on_time_field": "on_time",
     "transitions": [{"code": "close", "label": "销号", "from": ["已整改"], "to": "已销号",
                      "who": ["supervisor"], "fields": ["evidence"], "comment_required": false}, ...]}

The state lives in `Record.status`, so indicators count by state with their `status` filter. When an item
enters a closed state the service writes the day into `closed_on_field` and whether that day was no later
than the deadline into `on_time_field` (both ordinary fields): "closed on time" is then a plain field filter
that compiles into the same one-query-per-ledger aggregate as every other indicator.

Who may take a transition:
- `owner`: the owning unit — a 填报员, 审核员 or 管理员 whose subtree covers the record's org;
- `supervisor`: the supervising unit — a 审核员 or 管理员 of an org strictly above the record's org.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Substr
from django.utils import timezone

from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.records import conditions, services
from dangjian.records.conditions import text, value_q
from dangjian.records.fields import display_value
from dangjian.records.models import LedgerType, Record, RecordQuerySet, Transition
from dangjian.records.workflow_definition import (  # noqa: F401  (the definition's names, as callers know them from here)
    ROLES,
    STEP_KEYS,
    WORKFLOW_KEYS,
    Step,
    Workflow,
    WorkflowError,
    parse,
    workflow_of,
)
from dangjian.text import cn_date


class TransitionRefused(PermissionDenied):
    """The user may not take this transition now; the message says why (403 on the web)."""


# --- who may do what ---------------------------------------------------------------------------------------


def holds(user: Any, record: Record, role: str) -> bool:
    return access.scope(user).holds(record, role)


def refusal(user: Any, record: Record, step: Step) -> str:
    """Why the user may not take the step now ("" when he may)."""
    if record.is_deleted:
        return "该记录已删除，不能办理"
    if record.status not in step.sources:
        current = record.status or "（无状态）"
        return (
            f"当前状态为“{current}”，不能{step.label}：只有“{'、'.join(step.sources)}”的事项才能{step.label}"
        )
    if not any(holds(user, record, role) for role in step.who):
        return f"只有{'或'.join(ROLES[r] for r in step.who)}才能{step.label}"
    return ""


def available(user: Any, record: Record) -> list[Step]:
    wf = workflow_of(record.ledger_type)
    return [s for s in wf.steps if not refusal(user, record, s)] if wf else []


# --- taking a transition -----------------------------------------------------------------------------------


def _step_of(record: Record, code: str) -> Step:
    lt = record.ledger_type
    wf = workflow_of(lt)
    step = wf.step(code) if wf else None
    if step is None:
        raise TransitionRefused(f"台账“{lt.label}”没有“{code}”这一流转")
    return step


def take(
    user: Any,
    record: Record,
    code: str,
    raw: dict[str, Any] | None = None,
    *,
    comment: str = "",
    uploads: dict[str, list[UploadedFile]] | None = None,
    today: dt.date | None = None,
) -> Transition:
    """Take transition `code`: check who and when here, then the write service validates the step's fields, writes
    them and the state with their history, and logs the step.

    Raises TransitionRefused (who/when) or services.RecordInvalid (fields, comment, 报送 lock); nothing changes then.
    Uploads map a file field's code (or "" for files that only document the step) to new files.
    """
    step = _step_of(record, code)
    reason = refusal(user, record, step)
    if reason:
        raise TransitionRefused(reason)
    (log,) = services.transition_records(
        user, [record], step, raw, comment=comment, uploads=uploads, today=today
    )
    return log


@transaction.atomic
def take_many(
    user: Any, records: list[Record], code: str, *, comment: str = "", today: dt.date | None = None
) -> dict[int, str]:
    """Bulk action (e.g. 销号 after checking the evidence): every item is checked by the rules of a single
    step; all or nothing, like an import. Returns {record id: reason} for the refused ones (then nothing
    changed), or {} when every item was done."""
    problems: dict[int, str] = {}
    allowed: list[Record] = []
    step: Step | None = None
    for record in records:
        try:
            step = _step_of(record, code)
        except TransitionRefused as exc:
            problems[record.pk] = str(exc)
            continue
        reason = refusal(user, record, step)
        if reason:
            problems[record.pk] = reason
        else:
            allowed.append(record)
    if allowed and step is not None:
        try:
            services.transition_records(user, allowed, step, comment=comment, today=today)
        except services.RecordInvalid as exc:
            for p in exc.problems:
                if p.record is not None:
                    problems[p.record] = (
                        f"{problems[p.record]}；{p.message}" if p.record in problems else p.message
                    )
    if problems:
        transaction.set_rollback(True)
    return problems


# --- timeline and overdue ----------------------------------------------------------------------------------


def timeline(record: Record) -> list[Transition]:
    return list(record.transitions.select_related("by").prefetch_related("attachments"))


def is_overdue(record: Record, today: dt.date | None = None) -> bool:
    wf = workflow_of(record.ledger_type)
    return wf is not None and wf.is_overdue(record, today)


def overdue_records(
    qs: RecordQuerySet, wf: Workflow, today: dt.date | None = None, *, units: list[str] | None = None
) -> RecordQuerySet:
    """Records overdue for the unit that must act next (ISO dates compare as text on every database):
    - an item the owning unit is still working on (待整改, 整改中) once past its deadline;
    - an item that waits for the level above alone (已整改: only 销号 or 退回 remain) once past its deadline plus
      the workflow's `review_days` — it is late for the supervising unit, not for the owner who finished in time.
    `units`: the paths of the units whose view this is (an org's subtree, an account's subtrees). An item that waits
    for the level above then counts only where that level is in view: records strictly below one of the paths,
    so a community's own list shows no item that waits for its street, while the street's list does."""
    day = today or timezone.localdate()
    waiting = wf.supervisor_states
    deadline = wf.deadline_field
    owner_q = conditions.value_q(deadline, "<", day.isoformat()) & ~Q(status__in=waiting)
    review_day = (day - dt.timedelta(days=wf.review_days)).isoformat()
    supervisor_q = conditions.value_q(deadline, "<", review_day) & Q(status__in=waiting)
    if units is not None:
        supervisor_q &= ~Q(org__path__in=units)
    return (
        qs.filter(is_deleted=False)
        .where_value(deadline, "not_empty")
        .exclude(status__in=wf.closed)
        .filter(owner_q | supervisor_q)
    )


@dataclass
class OverdueItem:
    record: Record
    ledger: LedgerType
    title: str
    source: str
    deadline: str
    days: int
    acting: str = "owner"  # who must act next: "owner" (the unit itself) or "supervisor" (the level above)


def workflow_ledgers() -> list[tuple[LedgerType, Workflow]]:
    out = []
    for lt in LedgerType.objects.filter(is_active=True).exclude(workflow={}).prefetch_related("fields"):
        wf = workflow_of(lt)
        if wf is not None:
            out.append((lt, wf))
    return out


def overdue_items(
    *, user: Any = None, org: Organization | None = None, today: dt.date | None = None
) -> list[OverdueItem]:
    """Overdue items the user may see, under an org's subtree if given. The daily reminder job acts as a named
    account or as `access.SYSTEM` (the default), which lists no confidential ledger: names of confidential items
    stay with those who may see them."""
    day = today or timezone.localdate()
    scope = access.scope(access.SYSTEM if user is None else user)
    items: list[OverdueItem] = []
    for lt, wf in workflow_ledgers():
        qs = scope.records(lt, Record.objects.select_related("org"), under=org)
        units = [org.path] if org is not None else scope.paths()
        for record in overdue_records(qs, wf, day, units=units).order_by("org__path", "id"):
            record.ledger_type = lt
            items.append(_item(record, lt, wf, day))
    items.sort(key=_longest_overdue_first)
    return items


def _longest_overdue_first(item: OverdueItem) -> tuple[int, str, int]:
    """The order of every overdue list (overview, home page, reminder job): most days overdue first."""
    return -item.days, item.record.org.path, item.record.pk


def overdue_preview(
    user: Any, limit: int = 10, today: dt.date | None = None
) -> tuple[int, list[OverdueItem]]:
    """For the home page: how many items the user may see are overdue, and the `limit` longest overdue.
    One count and one bounded fetch per workflow ledger, whatever the number of items."""
    day = today or timezone.localdate()
    total = 0
    items: list[OverdueItem] = []
    units = access.scope(user).paths()
    for lt, wf in workflow_ledgers():
        qs = access.records(user, lt, Record.objects.select_related("org"))
        qs = overdue_records(qs, wf, day, units=units)
        total += qs.count()
        for record in qs.order_by_value(wf.deadline_field, then=("org__path", "id"))[:limit]:
            record.ledger_type = lt
            items.append(_item(record, lt, wf, day))
    items.sort(key=_longest_overdue_first)
    return total, items[:limit]


@dataclass(frozen=True)
class OverdueCount:
    """How many overdue items one unit holds from one source (the overview's charts)."""

    org_path: str  # the unit's path, or with `depth` the path of its ancestor (or itself) at that depth
    source: str  # "" when the ledger has no source field or the item none
    count: int


def overdue_counts(
    user: Any, *, org: Organization | None = None, today: dt.date | None = None, depth: int | None = None
) -> list[OverdueCount]:
    """The overdue items the user may see (under `org`), counted by unit and source without reading them: one
    grouped query per workflow ledger over `overdue_records`, the rule the lists use. With `depth`, each unit's
    items count for its ancestor at that depth (a unit above it counts as itself). A confidential ledger's items
    are counted only for those who may see its rows (the scope gives the others none)."""
    day = today or timezone.localdate()
    scope = access.scope(user)
    unit: Any = F("org__path") if depth is None else Substr("org__path", 1, depth * Organization.steplen)
    counts: Counter[tuple[str, str]] = Counter()
    for lt, wf in workflow_ledgers():
        qs = overdue_records(scope.records(lt, Record.objects.all(), under=org), wf, day)
        qs = qs.annotate(unit=unit, src=text(wf.source_field) if wf.source_field else Value(""))
        for row in qs.values("unit", "src").annotate(n=Count("pk")).order_by():
            counts[(row["unit"], str(row["src"] or ""))] += row["n"]
    return [OverdueCount(p, s, n) for (p, s), n in sorted(counts.items())]


@dataclass
class MonthClosure:
    """One month of a year for the list items the user may see: how many fell due and how many of those are
    closed, how many were closed (销号) in the month and how many of those by their deadline."""

    month: int
    due: int = 0
    due_closed: int = 0
    closed: int = 0
    on_time: int = 0


def closure_by_month(user: Any, year: int, *, org: Organization | None = None) -> list[MonthClosure]:
    """The twelve months of `year`: one grouped query per workflow ledger, by the month of the deadline and the
    month of the day the workflow stamped when the item was closed (`closed_on_field`, `on_time_field`, see the
    module docstring)."""
    months = [MonthClosure(m) for m in range(1, 13)]
    first, last = f"{year:04d}-01-01", f"{year:04d}-12-31"
    prefix = f"{year:04d}-"
    scope = access.scope(user)
    for lt, wf in workflow_ledgers():
        closed = Q(status__in=wf.closed)
        due_q = value_q(wf.deadline_field, ">=", first) & value_q(wf.deadline_field, "<=", last)
        month_of = {"due_m": Substr(text(wf.deadline_field), 1, 7)}
        counts: dict[str, Any] = {"n": Count("pk"), "c": Count("pk", filter=closed)}
        wanted = due_q
        if wf.closed_on_field:
            closed_q = (
                closed & value_q(wf.closed_on_field, ">=", first) & value_q(wf.closed_on_field, "<=", last)
            )
            spec = lt.field(wf.on_time_field) if wf.on_time_field else None
            on_time = value_q(spec, "=", True) if spec is not None else Q(pk__in=[])
            month_of["closed_m"] = Substr(text(wf.closed_on_field), 1, 7)
            counts["t"] = Count("pk", filter=closed & on_time)
            wanted = due_q | closed_q
        rows = (
            scope.records(lt, Record.objects.all(), under=org)
            .filter(wanted)
            .annotate(**month_of)
            .values(*month_of)
            .annotate(**counts)
            .order_by()
        )
        for row in rows:
            due_m, closed_m = str(row["due_m"] or ""), str(row.get("closed_m") or "")
            if due_m.startswith(prefix) and due_m[5:].isdigit() and 1 <= int(due_m[5:]) <= 12:
                months[int(due_m[5:]) - 1].due += row["n"]
                months[int(due_m[5:]) - 1].due_closed += row["c"]
            if closed_m.startswith(prefix) and closed_m[5:].isdigit() and 1 <= int(closed_m[5:]) <= 12:
                months[int(closed_m[5:]) - 1].closed += row["c"]
                months[int(closed_m[5:]) - 1].on_time += row["t"]
    return months


def closed_items(
    user: Any, start: dt.date, end: dt.date, *, org: Organization | None = None, limit: int = 500
) -> list[Record]:
    """Items the user may see closed (销号) between start and end, the records behind a month of
    `closure_by_month` (with `ledger_type` set, oldest closing first)."""
    scope = access.scope(user)
    found: list[tuple[str, int, Record]] = []
    for lt, wf in workflow_ledgers():
        if not wf.closed_on_field:
            continue
        qs = (
            scope.records(lt, Record.objects.select_related("org"), under=org)
            .filter(status__in=wf.closed)
            .where_value(wf.closed_on_field, ">=", start.isoformat())
            .where_value(wf.closed_on_field, "<=", end.isoformat())
        )
        for record in qs.order_by_value(wf.closed_on_field, then=("org__path", "id"))[:limit]:
            record.ledger_type = lt
            found.append((str(record.values.get(wf.closed_on_field, "")), record.pk, record))
    found.sort(key=lambda row: row[:2])
    return [record for _, _, record in found[:limit]]


def display_title(record: Record, wf: Workflow) -> str:
    field = record.ledger_type.field(wf.title_field) if wf.title_field else None
    return display_value(field, record.values.get(wf.title_field)) or f"第 {record.pk} 号"


def _item(record: Record, lt: LedgerType, wf: Workflow, day: dt.date) -> OverdueItem:
    deadline = record.values.get(wf.deadline_field, "")
    due = wf.due(record)  # the acting unit's own deadline: the days overdue count from it
    return OverdueItem(
        record=record,
        ledger=lt,
        title=display_title(record, wf),
        source=str(record.values.get(wf.source_field) or "") if wf.source_field else "",
        deadline=deadline,
        days=(day - dt.date.fromisoformat(due)).days,
        acting=wf.acting(record),
    )


def summary(items: list[OverdueItem]) -> dict[str, list[tuple[str, int]]]:
    """Counts by unit and by source, largest first."""
    by_unit = Counter(i.record.org.name for i in items)
    by_source = Counter(i.source or "（未填来源）" for i in items)
    return {"by_unit": by_unit.most_common(), "by_source": by_source.most_common()}


WAITING = "（待上级销号）"  # an item late for the level above, not for its own unit


def overdue_command(
    org_code: str, fmt: str = "text", today: dt.date | None = None, actor: Any = None
) -> tuple[int, str]:
    """`dangjian overdue --org CODE [--format json] [--as USERNAME]`: (exit code, output) for a daily reminder job,
    as `actor` (default `access.SYSTEM`). Exit 0 whether or not anything is overdue (a reminder is not a failure);
    2 when the org does not exist or lies outside the actor's scope."""
    import json

    from .schemas import overdue_rows  # the list-item schema (ItemOut) imports this module

    scope = access.scope(actor or access.SYSTEM)
    org = scope.orgs().filter(code=org_code).first()
    if org is None:
        return 2, f"找不到组织“{org_code}”（或不在该账号的查看范围内）"
    day = today or timezone.localdate()
    items = overdue_items(user=scope.user, org=org, today=day)
    if fmt == "json":
        data: dict[str, Any] = {"org": {"code": org.code, "name": org.name}, "date": day.isoformat()}
        data |= {"count": len(items), "items": overdue_rows(items, day, mode="json")}
        return 0, json.dumps(data, ensure_ascii=False, indent=2)
    lines = [f"{org.name}：截至 {cn_date(day)} 逾期未销号 {len(items)} 项"]
    lines += [
        f"{i.record.org.name}\t{i.ledger.label}#{i.record.pk}\t{i.title}\t{i.record.status}{WAITING if i.acting == 'supervisor' else ''}\t时限 {cn_date(dt.date.fromisoformat(i.deadline))}\t逾期 {i.days} 天"
        for i in items
    ]
    return 0, "\n".join(lines)
