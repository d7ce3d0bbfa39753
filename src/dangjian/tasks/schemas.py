"""The task resource's schemas (填报任务 and its progress): one shape for the API (`api.work`), the task page's
JSON twin (`/tasks/<pk>.json`) and its xlsx (`TARGET_COLUMNS`, written by `collection.export_xlsx`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ninja import Field, Schema

from dangjian.orgs.schemas import OrgRef, org_ref
from dangjian.records.schemas import PeriodOut
from dangjian.spreadsheets.xlsx import Column
from dangjian.text import cn_date, person

from .models import CollectionTask, TargetStatus

if TYPE_CHECKING:  # collection writes the xlsx from these schemas
    from .collection import Progress


class TaskOut(Schema):
    id: int
    title: str
    creator_org: OrgRef = Field(..., description="发起单位")
    period: PeriodOut = Field(..., description="统计期")
    deadline: dt.date
    ledgers: list[str] = Field(..., description="所填台账的代码")
    instructions: str


class TargetOut(Schema):
    org: OrgRef
    status: str = Field(
        ..., description="pending（未填报）/ draft（暂存）/ submitted（已报送）/ returned（已退回）"
    )
    status_label: str
    records: int = Field(..., description="该单位在统计期内所填记录数")
    overdue: bool
    submitted_at: dt.datetime | None
    submitted_by: str = Field(..., description="最近一次报送的报送人（从未报送为空）")
    return_reason: str


class TaskDetail(Schema):
    task: TaskOut
    counts: dict[str, int] = Field(..., description="各状态的单位数")
    overdue: int
    full: bool = Field(..., description="true：全部填报单位；false：只含本账号所在单位")
    targets: list[TargetOut]


def _when(status: str) -> Any:
    """A column shown only for targets in `status` (报送时间 and 报送人 of submitted ones, 退回原因 of returned)."""

    def column(source: Any) -> Any:
        return lambda row: source(row) if row["status"] == status else ""

    return column


_submitted, _returned = _when(TargetStatus.SUBMITTED), _when(TargetStatus.RETURNED)

# The progress workbook's columns: TargetOut's rows under Chinese titles, in words.
TARGET_COLUMNS = (
    Column("填报单位", "org.name"),
    Column("单位代码", "org.code"),
    Column("状态", "status_label"),
    Column("记录数", "records"),
    Column("报送时间", _submitted(lambda row: cn_date(row["submitted_at"]))),
    Column("报送人", _submitted(lambda row: row["submitted_by"])),
    Column("退回原因", _returned(lambda row: row["return_reason"])),
    Column("是否逾期", lambda row: "是" if row["overdue"] else ""),
)


def task_out(task: CollectionTask) -> dict[str, Any]:
    return {
        "id": task.pk,
        "title": task.title,
        "creator_org": org_ref(task.creator_org),
        "period": {"start": task.period_start, "end": task.period_end},
        "deadline": task.deadline,
        "ledgers": [lt.code for lt in task.ledger_types.all()],
        "instructions": task.instructions,
    }


def task_detail(prog: Progress) -> dict[str, Any]:
    """The task with each target unit's status and record count (only the account's own row when not `full`)."""
    return {
        "task": task_out(prog.task),
        "counts": {code: n for code, _, n in prog.counts},
        "overdue": prog.overdue,
        "full": prog.full,
        "targets": [
            {
                "org": org_ref(r.target.org),
                "status": r.target.status,
                "status_label": r.target.get_status_display(),
                "records": r.records,
                "overdue": r.overdue,
                "submitted_at": r.target.submitted_at,
                "submitted_by": person(r.target.submitted_by),
                "return_reason": r.target.return_reason,
            }
            for r in prog.rows
        ],
    }


def dumped_detail(prog: Progress) -> dict[str, Any]:
    """The progress as `TaskDetail` dumps it: the twin's answer and the rows of the xlsx."""
    return TaskDetail.model_validate(task_detail(prog)).model_dump()
