"""A list ledger's workflow definition (清单流程): states, steps and who may take them, parsed from
`LedgerType.workflow` (data from a pack, see dangjian/lists/workflow.py for the format).

It sits apart from the workflow's actions so that both the write service (a new item's initial state, the fields
only a step writes, what entering a closed state stamps) and the workflow (who may take a step, overdue lists) can
import it: the service never reads the raw dict, and the workflow calls only the service's public functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from .models import FieldType, LedgerType, Record

ROLES = {"owner": "本单位的填报员、审核员或管理员", "supervisor": "上级单位的审核员或管理员"}
WORKFLOW_KEYS = {
    "states", "initial", "closed", "deadline_field", "source_field", "title_field", "closed_on_field",
    "on_time_field", "transitions", "review_days",
}  # fmt: skip
STEP_KEYS = {"code", "label", "from", "to", "who", "fields", "comment_required"}


class WorkflowError(ValueError):
    """A workflow definition is malformed; the message is Chinese and names the place."""


@dataclass(frozen=True)
class Step:
    code: str
    label: str
    sources: tuple[str, ...]
    target: str
    who: tuple[str, ...]
    fields: tuple[str, ...]
    comment_required: bool


@dataclass(frozen=True)
class Workflow:
    states: tuple[str, ...]
    initial: str
    closed: tuple[str, ...]
    deadline_field: str
    source_field: str
    title_field: str
    closed_on_field: str
    on_time_field: str
    steps: tuple[Step, ...]
    review_days: int = 0

    def step(self, code: str) -> Step | None:
        return next((s for s in self.steps if s.code == code), None)

    @property
    def managed_fields(self) -> tuple[str, ...]:
        """Fields only the workflow writes (an edit form or an import keeps their stored values)."""
        return tuple(f for f in (self.closed_on_field, self.on_time_field) if f)

    def awaits_supervisor(self, status: str) -> bool:
        """Is the next move on an item in this state the supervising unit's alone (e.g. 已整改: the owner has
        finished its part, only 销号 or 退回 by the level above remain)?"""
        roles = {w for s in self.steps if status in s.sources for w in s.who}
        return status not in self.closed and roles == {"supervisor"}

    @property
    def supervisor_states(self) -> tuple[str, ...]:
        return tuple(s for s in self.states if self.awaits_supervisor(s))

    def acting(self, record: Record) -> str:
        """Who must act next on an open item: "supervisor" (the level above reviews and closes) or "owner"."""
        return "supervisor" if self.awaits_supervisor(record.status) else "owner"

    def due(self, record: Record) -> str:
        """The acting unit's deadline as ISO text ("" without a deadline): the item's deadline for the owner; that
        deadline plus `review_days` for the supervisor, so an item the owner finished in time is not late for it,
        and becomes late for the level above only once the review time is also past."""
        deadline = record.values.get(self.deadline_field) or ""
        if deadline and self.acting(record) == "supervisor" and self.review_days:
            return (dt.date.fromisoformat(deadline) + dt.timedelta(days=self.review_days)).isoformat()
        return deadline

    def is_overdue(self, record: Record, today: dt.date | None = None) -> bool:
        """Past the acting unit's deadline (`due`) and not closed (ISO dates compare as text): the rule the overdue
        lists (`dangjian.lists.workflow.overdue_records`) query by, for one record already read."""
        if record.is_deleted or record.status in self.closed:
            return False
        due = self.due(record)
        return bool(due) and due < (today or timezone.localdate()).isoformat()

    def closing_values(self, values: dict[str, Any], target: str, day: dt.date) -> None:
        """Entering a closed state stamps the day and whether it met the deadline; leaving one clears both."""
        if target not in self.closed:
            for code in self.managed_fields:
                values.pop(code, None)
            return
        deadline = values.get(self.deadline_field)
        if self.closed_on_field:
            values[self.closed_on_field] = day.isoformat()
        if self.on_time_field:
            values[self.on_time_field] = deadline is None or day.isoformat() <= deadline


# --- definitions -------------------------------------------------------------------------------------------


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise WorkflowError(f"{where} 应为名称列表")
    return tuple(value)


def parse(data: dict[str, Any], fields: dict[str, str]) -> Workflow:
    """Check a definition against the ledger's fields ({code: type}); raise WorkflowError in Chinese."""
    extra = set(data) - WORKFLOW_KEYS
    if extra:
        raise WorkflowError(f"含有未知属性：{'、'.join(sorted(extra))}")
    states = _strings(data.get("states", []), "states（状态）")
    if len(states) < 2 or len(set(states)) != len(states):
        raise WorkflowError("states（状态）至少两个且不能重复")
    initial = data.get("initial", states[0])
    closed = _strings(data.get("closed", [states[-1]]), "closed（销号状态）")
    for name in (initial, *closed):
        if name not in states:
            raise WorkflowError(f"状态“{name}”不在 states 中")
    names = {}
    for key, kind in (
        ("deadline_field", FieldType.DATE),
        ("source_field", None),
        ("title_field", None),
        ("closed_on_field", FieldType.DATE),
        ("on_time_field", FieldType.BOOL),
    ):
        code = data.get(key, "")
        if code and code not in fields:
            raise WorkflowError(f"{key} “{code}”不是本台账的字段")
        if code and kind and fields[code] != kind:
            raise WorkflowError(f"{key} “{code}”应为{FieldType(kind).label}型字段")
        names[key] = code
    if not names["deadline_field"]:
        raise WorkflowError("缺少 deadline_field（整改时限字段）")
    review_days = data.get("review_days", 0)
    if not isinstance(review_days, int) or isinstance(review_days, bool) or not 0 <= review_days <= 365:
        raise WorkflowError("review_days（上级核查销号的天数）应为 0 至 365 的整数")
    steps = tuple(_parse_step(i, s, states, fields) for i, s in enumerate(data.get("transitions", [])))
    if not steps:
        raise WorkflowError("至少要有一个 transitions（流转）")
    codes = [s.code for s in steps]
    if len(set(codes)) != len(codes):
        raise WorkflowError("流转代码重复")
    return Workflow(states, initial, closed, steps=steps, review_days=review_days, **names)


def _parse_step(i: int, item: Any, states: tuple[str, ...], fields: dict[str, str]) -> Step:
    where = f"第 {i + 1} 个流转"
    if not isinstance(item, dict):
        raise WorkflowError(f"{where} 应为表")
    missing = [k for k in ("code", "label", "from", "to", "who") if k not in item]
    if missing:
        raise WorkflowError(f"{where} 缺少：{'、'.join(missing)}")
    where = f"流转 {item['code']}"
    extra = set(item) - STEP_KEYS
    if extra:
        raise WorkflowError(f"{where} 含有未知属性：{'、'.join(sorted(extra))}")
    sources = _strings(item["from"], f"{where} 的 from")
    for name in (*sources, item["to"]):
        if name not in states:
            raise WorkflowError(f"{where} 的状态“{name}”不在 states 中")
    who = _strings(item["who"], f"{where} 的 who")
    unknown = [w for w in who if w not in ROLES]
    if unknown:
        raise WorkflowError(
            f"{where} 的 who “{'、'.join(unknown)}”无效，可用：owner（本单位）、supervisor（上级单位）"
        )
    step_fields = _strings(item.get("fields", []), f"{where} 的 fields")
    for code in step_fields:
        if code not in fields:
            raise WorkflowError(f"{where} 的字段“{code}”不是本台账的字段")
    return Step(
        code=item["code"],
        label=item["label"],
        sources=sources,
        target=item["to"],
        who=who,
        fields=step_fields,
        comment_required=bool(item.get("comment_required", False)),
    )


def workflow_of(ledger_type: LedgerType) -> Workflow | None:
    if not ledger_type.workflow:
        return None
    cached = getattr(ledger_type, "_parsed_workflow", None)
    if cached is None:
        fields = {f.code: f.type for f in ledger_type.fields.all()}
        cached = parse(ledger_type.workflow, fields)
        ledger_type._parsed_workflow = cached  # type: ignore[attr-defined]
    return cached
