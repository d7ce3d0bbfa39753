"""The report resource's schemas (a report as JSON, and a finalised run): one shape, DESIGN.md's, for the API
(`api.figures`), the report's `.json` download and `dangjian report --format json` (`render_json.render_dict`), and
a finalised run's `.json` (`views.run_dict`). A fresh render and a run read back from what was stored at 定稿 both
go through `report_out`, so they cannot drift apart.

Each blank of the report is a `SlotValue` (slots.py), whose JSON row (`SlotValue.as_json`) is `SlotOut`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ninja import Field, Schema

from dangjian.orgs.schemas import OrgRef, org_ref
from dangjian.records.schemas import PeriodOut
from dangjian.text import person

if TYPE_CHECKING:
    from .models import ReportRun
    from .slots import SlotValue


class SlotEvidence(Schema):
    records: int | None = Field(..., description="数值所依据的记录条数（单位、期间属性为 null）")
    url: str | None = Field(..., description="网页上的佐证页：指标、单位和该数值的计算期间")


class SlotOut(Schema):
    indicator: str
    aggregate: str
    value: Any
    display: str
    evidence: SlotEvidence


class ReportCheck(Schema):
    rule: str
    level: str
    ok: bool
    message: str


class ReportOut(Schema):
    template: str
    org: OrgRef
    period: PeriodOut
    text: str = Field(..., description="报告全文，每段一行")
    slots: list[SlotOut] = Field(..., description="按出现顺序的每个数字、名称及其佐证")
    checks: list[ReportCheck]


class RunBrief(Schema):
    id: int
    template: str
    org: OrgRef
    period: PeriodOut
    created_at: dt.datetime
    created_by: str


class RunOut(ReportOut):
    id: int
    created_at: dt.datetime
    created_by: str


def report_out(
    template: str,
    org: Any,
    period: Any,
    text: str,
    slots: Iterable[SlotValue],
    checks: list[dict[str, Any]],
) -> dict[str, Any]:
    """The report as DESIGN.md's JSON (plain JSON types: `json.dumps` writes it as it is). `checks`: rows as
    `render_json.check_row` writes them (a run stores them so)."""
    data = {
        "template": template,
        "org": org_ref(org),
        "period": {"start": period.start, "end": period.end},
        "text": text,
        "slots": [slot.as_json() for slot in slots],
        "checks": checks,
    }
    return ReportOut.model_validate(data).model_dump(mode="json")


def run_brief(run: ReportRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "template": run.template.key,
        "org": org_ref(run.org),
        "period": {"start": run.period_start, "end": run.period_end},
        "created_at": run.created_at,
        "created_by": person(run.created_by),
    }
