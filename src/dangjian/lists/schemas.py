"""The list-item resource's schemas (清单事项 with its steps and timeline): one shape for the API (`api.work`), the
overdue overview's JSON twin (`/ledgers/overdue.json`), its xlsx (`ITEM_COLUMNS`) and `dangjian overdue --format
json`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Field, Schema

from dangjian.orgs.schemas import OrgRef, org_ref
from dangjian.records.models import LedgerType, Record
from dangjian.spreadsheets.xlsx import Column
from dangjian.text import person

from . import workflow


class ItemOut(Schema):
    ledger: str
    ledger_label: str
    id: int
    org: OrgRef
    title: str
    source: str = Field(..., description="来源（如 巡察反馈）")
    status: str = Field(..., description="当前状态，如 待整改、已销号")
    deadline: str = Field(..., description="整改时限（ISO 日期，未填为空）")
    overdue: bool
    days_overdue: int = Field(
        ..., description="逾期天数（未逾期为 0）：从下一步办理单位的时限算起，待上级销号的从核查期满之日算起"
    )
    acting: str = Field(
        ...,
        description="下一步由谁办理：owner（本单位）/ supervisor（上级单位核查销号，即“待上级销号”）；已办结为空",
    )
    acting_label: str = Field(..., description="下一步办理单位：本单位 / 上级单位；已办结为空")


ACTING_LABELS = {"owner": "本单位", "supervisor": "上级单位"}
# 待上级销号: the overdue page's mark of an item late for the level above, the workbook's 说明.
WAITING = workflow.WAITING.strip("（）")

# The overdue workbook's item sheet: ItemOut's rows under Chinese titles (the twin's values, column by column).
ITEM_COLUMNS = (
    Column("台账", "ledger_label"),
    Column("编号", "id"),
    Column("填报单位", "org.name"),
    Column("事项", "title"),
    Column("来源", "source"),
    Column("状态", "status"),
    Column("时限", "deadline"),
    Column("逾期天数", "days_overdue"),
    Column("说明", lambda row: WAITING if row["acting"] == "supervisor" else None),
)


class OverdueOut(Schema):
    """The overdue overview as its twin gives it: every overdue item the account may see, longest overdue first."""

    date: dt.date = Field(..., description="计算逾期的日期")
    items: list[ItemOut]
    by_unit: list[tuple[str, int]] = Field(..., description="各单位的逾期事项数，多的在前")
    by_source: list[tuple[str, int]] = Field(..., description="各来源的逾期事项数，多的在前")


class StepOut(Schema):
    code: str = Field(..., description="办理操作代码，如 close")
    label: str = Field(..., description="办理操作，如 销号")
    target: str = Field(..., description="办理后的状态")
    fields: list[str] = Field(..., description="办理时须填写的字段代码")
    comment_required: bool = Field(..., description="是否必须填写理由")


class TransitionOut(Schema):
    label: str
    from_state: str
    to_state: str
    comment: str
    at: dt.datetime
    by: str


class ItemDetail(ItemOut):
    steps: list[StepOut] = Field(..., description="本账号现在可以办理的操作")
    timeline: list[TransitionOut] = Field(..., description="办理记录，先后顺序")


def item_out(record: Record, lt: LedgerType, wf: workflow.Workflow, today: dt.date) -> dict[str, Any]:
    deadline = str(record.values.get(wf.deadline_field) or "") if wf.deadline_field else ""
    late = workflow.is_overdue(record, today)
    acting = "" if record.status in wf.closed else wf.acting(record)
    return {
        "ledger": lt.code,
        "ledger_label": lt.label,
        "id": record.pk,
        "org": org_ref(record.org),
        "title": workflow.display_title(record, wf),
        "source": str(record.values.get(wf.source_field) or "") if wf.source_field else "",
        "status": record.status,
        "deadline": deadline,
        "overdue": late,
        # Counted from the acting unit's own deadline (`Workflow.due`), as the overdue page counts them.
        "days_overdue": (today - dt.date.fromisoformat(wf.due(record))).days if late else 0,
        "acting": acting,
        "acting_label": ACTING_LABELS.get(acting, ""),
    }


def overdue_item_out(item: workflow.OverdueItem, today: dt.date) -> dict[str, Any]:
    wf = workflow.workflow_of(item.ledger)
    assert wf is not None  # overdue items come from workflow ledgers only
    return item_out(item.record, item.ledger, wf, today)


def overdue_rows(
    items: list[workflow.OverdueItem], today: dt.date, mode: str = "python"
) -> list[dict[str, Any]]:
    """The items as `ItemOut` dumps them (`mode="json"` for `json.dumps`): the twin's, the xlsx's and the CLI's."""
    return [ItemOut.model_validate(overdue_item_out(i, today)).model_dump(mode=mode) for i in items]


def overdue_out(items: list[workflow.OverdueItem], today: dt.date) -> dict[str, Any]:
    """The overview's twin: the items and their counts by unit and by source (`workflow.summary`)."""
    data = {"date": today, "items": overdue_rows(items, today), **workflow.summary(items)}
    return OverdueOut.model_validate(data).model_dump()


def item_detail(user: Any, record: Record, lt: LedgerType, wf: workflow.Workflow) -> dict[str, Any]:
    return {
        **item_out(record, lt, wf, timezone.localdate()),
        "steps": [
            {
                "code": step.code,
                "label": step.label,
                "target": step.target,
                "fields": list(step.fields),
                "comment_required": step.comment_required,
            }
            for step in workflow.available(user, record)
        ],
        "timeline": [
            {
                "label": t.label,
                "from_state": t.from_state,
                "to_state": t.to_state,
                "comment": t.comment,
                "at": t.at,
                "by": person(t.by),
            }
            for t in workflow.timeline(record)
        ],
    }
