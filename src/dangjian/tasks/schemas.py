"""The task resource's schemas (填报任务 and its progress): one shape for the API (`api.work`) and the task page's
JSON twin (`/tasks/<pk>.json`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from dangjian.orgs.schemas import OrgRef, org_ref
from dangjian.records.models import CollectionTask
from dangjian.records.schemas import PeriodOut

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
    return_reason: str


class TaskDetail(Schema):
    task: TaskOut
    counts: dict[str, int] = Field(..., description="各状态的单位数")
    overdue: int
    full: bool = Field(..., description="true：全部填报单位；false：只含本账号所在单位")
    targets: list[TargetOut]


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
                "return_reason": r.target.return_reason,
            }
            for r in prog.rows
        ],
    }
