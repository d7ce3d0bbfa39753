"""The indicator resources' schemas: an indicator's definition, a value with the way to its evidence, the evidence
(the records behind a value), and a consistency check. One shape for the API (`api.figures`) and the evidence
page's JSON twin (`/indicators/evidence/?…&format=json`); the evidence xlsx (`evidence.as_xlsx`) writes the same
rows (`evidence_columns`).

Each `*_out` function turns the engine's objects into the dict its schema describes; what the account may see is
decided before (`evidence.collect`: refused values, rows of confidential ledgers) and, row by row, by the account's
`access.Scope` (masked sensitive values, a share's mark hidden where it would tell a masked value).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ninja import Field, Schema

from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.orgs.schemas import OrgRef, org_ref
from dangjian.records.fields import display_value
from dangjian.records.models import Record
from dangjian.records.schemas import PeriodOut
from dangjian.spreadsheets.xlsx import Column
from dangjian.text import cn_datetime, number_text, person

from .grouped_values import Grouped, Part
from .links import evidence_url
from .models import Indicator, Kind

if TYPE_CHECKING:  # evidence builds its xlsx from these schemas
    from .engine import CheckResult, Period, Value
    from .evidence import Evidence, Operand


def plain(value: Any) -> Any:
    """An evidence value for JSON: dates as ISO text, decimals as text (exact), lists as they are; a grouped
    value as its total (its parts are `groups`)."""
    if isinstance(value, Grouped):
        value = value.total
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- definitions ---------------------------------------------------------------------------------------------------


class IndicatorOut(Schema):
    key: str = Field(..., description="指标键，如 理论学习.中心组集体学习次数")
    label: str
    unit: str
    kind: str = Field(..., description="aggregate（台账汇总）/ formula（公式）/ attribute（组织或期间属性）")
    aggregate: str
    ledger: str = Field(..., description="所汇总台账的代码（公式、属性为空）")
    pack: str


def indicator_out(ind: Indicator) -> dict[str, Any]:
    return {
        "key": ind.key,
        "label": ind.label,
        "unit": ind.unit,
        "kind": ind.kind,
        "aggregate": ind.aggregate if ind.kind == Kind.AGGREGATE else ind.kind,
        "ledger": ind.ledger.code if ind.ledger else "",
        "pack": ind.pack,
    }


# --- a value and the way to its evidence ---------------------------------------------------------------------------


class EvidenceLink(Schema):
    records: int | None = Field(..., description="数值所依据的记录条数（公式、属性为 null）")
    url: str | None = Field(..., description="网页上的佐证页")
    api: str | None = Field(..., description="本接口的佐证（记录明细）")


class GroupOut(Schema):
    """One group of a grouped indicator (group_by): its figure, its wording and the records behind it."""

    name: str = Field(..., description="分组代码：单选项、组织类别代码、单位的组织代码，或 ~其他 / ~本级")
    label: str = Field(..., description="分组名称")
    value: Any
    display: str = Field(..., description="数值的文字")
    evidence: EvidenceLink


class ValueOut(Schema):
    key: str
    label: str
    unit: str
    aggregate: str
    value: Any = Field(..., description="数值、文字、日期（ISO）或名称列表；不提供时为 null；分组指标为合计")
    note: str = Field(..., description="为何没有数值（中文）")
    refused: str = Field(..., description="按保密规则不向本账号提供时的原因（中文），否则为空")
    evidence: EvidenceLink
    groups: list[GroupOut] | None = Field(
        None, description="分组指标（group_by）按顺序的各组；其他指标为 null"
    )


class ValuesOut(Schema):
    org: OrgRef
    period: PeriodOut
    values: list[ValueOut]


def value_out(
    key: str,
    v: Value,
    org: Organization,
    period: Period,
    api_url: Callable[[str, Organization, Period], str],
    encode: Callable[[Any], Any] = plain,
) -> dict[str, Any]:
    """The value `key` with its evidence: how many records stand behind it and the links to them (the evidence page's one
    link form, `links.evidence_url`, and the API's own, `api_url`); none for a refused value. `encode` writes the
    value for JSON."""
    linked = v.evidence_count is not None and not v.refused
    groups = None
    if isinstance(v.value, Grouped) and not v.refused:
        api = api_url(key, org, period)
        groups = [
            group_out(p, evidence_url(key, org, period, p.name), f"{api}&group={quote(p.name)}", encode)
            for p in v.value.parts
        ]
    return {
        "key": v.key,
        "label": v.label,
        "unit": v.unit,
        "aggregate": v.aggregate,
        "value": encode(v.value),
        "note": v.note,
        "refused": v.refused,
        "evidence": {
            "records": None if v.refused else v.evidence_count,
            "url": evidence_url(key, org, period) if linked else None,
            "api": api_url(key, org, period) if linked else None,
        },
        "groups": groups,
    }


def group_out(part: Part, url: str, api: str | None, encode: Callable[[Any], Any] = plain) -> dict[str, Any]:
    """One group of a grouped value as `GroupOut`: its figure, wording, records and links."""
    return {
        "name": part.name,
        "label": part.label,
        "value": encode(part.value),
        "display": part_text(part.value),
        "evidence": {"records": part.records, "url": url, "api": api},
    }


def part_text(value: Any) -> str:
    """A group's figure in words (as the evidence page writes a value)."""
    if value is None:
        return "—"
    if isinstance(value, Decimal | float):
        return number_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def values_out(org: Organization, period: Period, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"org": org_ref(org), "period": {"start": period.start, "end": period.end}, "values": rows}


# --- the evidence: the records behind a value ----------------------------------------------------------------------


class EvidenceIndicator(Schema):
    key: str = Field(..., description="指标键（上年的值为 上年.指标键）")
    label: str
    unit: str
    aggregate: str
    ledger: str = Field(..., description="所汇总台账的代码（公式、属性为空）")


class OperandOut(Schema):
    key: str = Field(..., description="公式读取的指标键")
    label: str
    value: Any = Field(..., description="该指标的数值（无法取得时为 null）")
    url: str = Field(..., description="该指标的佐证页（无法取得时为空）")


class ShareOut(Schema):
    matched: int = Field(..., description="符合条件的记录数")
    of: int = Field(..., description="记录总数")
    condition: str = Field(..., description="条件（中文）")


class EvidenceRecordOut(Schema):
    id: int
    org: OrgRef = Field(..., description="填报单位")
    date: dt.date
    end_date: dt.date | None
    status: str
    values: dict[str, Any] = Field(..., description="按字段代码；敏感字段对无修改权限者为“＊＊”")
    url: str = Field(..., description="记录页")
    in_share: bool | None = Field(
        None, description="占比指标：该记录是否符合条件（条件涉及对本账号打码的字段时为 null）"
    )


class ParameterEntryOut(Schema):
    """One entry of a 报告参数 behind a value: what, for whom, who entered it, when, from what source."""

    id: int
    org: OrgRef = Field(..., description="填报单位")
    org_name: str
    period_start: dt.date
    period_end: dt.date
    period_label: str
    value: str
    source: str = Field(..., description="来源说明")
    entered_by: str
    entered_at: dt.datetime
    entered_at_text: str
    task: str = Field("", description="经由的填报任务")
    file_name: str = Field("", description="佐证材料文件名（无则为空）")
    file_url: str | None = Field(None, description="佐证材料下载地址")


class EvidenceDetail(Schema):
    """A value and the records behind it, as the evidence page's twin gives it (every record); the API pages the
    records (`api.figures.EvidenceOut`)."""

    indicator: EvidenceIndicator
    org: OrgRef
    period: PeriodOut
    value: Any
    note: str
    count: int = Field(..., description="依据的记录总数")
    rows_visible: bool = Field(..., description="能否看到记录明细（涉密台账只对成员为 true）")
    group: str | None = Field(None, description="分组指标的某一组：分组名称（佐证只列该组的记录）")
    groups: list[GroupOut] | None = Field(
        None, description="分组指标（未指定某一组时）：按顺序的各组及其佐证"
    )
    formula: str | None = None
    operands: list[OperandOut] | None = None
    list_rule: str | None = None
    share: ShareOut | None = None
    records: list[EvidenceRecordOut] | None = Field(
        None, description="依据的记录（rows_visible 为 false 时为 null）"
    )
    entries: list[ParameterEntryOut] | None = Field(None, description="报告参数：依据的填报值")


def operand_out(operand: Operand) -> dict[str, Any]:
    value = None if operand.value is None else plain(operand.value.value)
    return {"key": operand.key, "label": operand.label, "value": value, "url": operand.url}


def evidence_record_out(user: Any, ev: Evidence, record: Record) -> dict[str, Any]:
    scope = access.scope(user)
    return {
        "id": record.pk,
        "org": org_ref(record.org),
        "date": record.date,
        "end_date": record.end_date,
        "status": record.status,
        "values": {f.code: scope.shown(f, record) for f in ev.columns},
        "url": ev.record_url(record),
        "in_share": ev.in_share(user, record),
    }


def evidence_out(user: Any, ev: Evidence) -> dict[str, Any]:
    """The evidence as `EvidenceDetail`: `records` are those of `ev.records` (all of them, or the page the caller
    put there), None when the account may not see the rows."""
    formula = ev.indicator.kind == Kind.FORMULA
    return {
        "indicator": {
            "key": ev.key,
            "label": ev.indicator.label,
            "unit": ev.indicator.unit,
            "aggregate": ev.value.aggregate,
            "ledger": ev.ledger.code if ev.ledger else "",
        },
        "org": org_ref(ev.org),
        "period": {"start": ev.period.start, "end": ev.period.end},
        "value": plain(ev.shown_value),
        "note": ev.value.note,
        "group": ev.group.label if ev.group is not None else None,
        "groups": [group_out(p, url, None) for p, url in ev.parts] or None,
        "count": ev.count,
        "rows_visible": ev.rows_visible,
        "formula": ev.indicator.formula if formula else None,
        "operands": [operand_out(o) for o in ev.operands] if formula or ev.operands else None,
        "list_rule": ev.list_rule or None,
        "share": None
        if ev.matched is None
        else {"matched": ev.matched, "of": ev.count, "condition": ev.condition},
        "records": None if ev.records is None else [evidence_record_out(user, ev, r) for r in ev.records],
        "entries": None if ev.entries is None else [parameter_entry_out(e) for e in ev.entries],
    }


def parameter_entry_out(entry: Any) -> dict[str, Any]:
    from django.urls import reverse

    from .periods import Period

    return {
        "id": entry.pk,
        "org": org_ref(entry.org),
        "org_name": entry.org.name,
        "period_start": entry.period_start,
        "period_end": entry.period_end,
        "period_label": Period(entry.period_start, entry.period_end).label,
        "value": entry.value,
        "source": entry.source,
        "entered_by": person(entry.entered_by) if entry.entered_by else "—",
        "entered_at": entry.entered_at,
        "entered_at_text": cn_datetime(entry.entered_at),
        "task": entry.task.title if entry.task else "",
        "file_name": entry.file_name,
        "file_url": reverse("indicators:parameter_file", args=[entry.pk]) if entry.file else None,
    }


def dumped_evidence(user: Any, ev: Evidence) -> dict[str, Any]:
    """The evidence as `EvidenceDetail` dumps it: the twin's answer and the rows of the xlsx."""
    return EvidenceDetail.model_validate(evidence_out(user, ev)).model_dump()


SHARE_MARK = {True: "是", False: "否", None: "—"}


def evidence_columns(ev: Evidence) -> list[Column]:
    """The evidence workbook's columns over `EvidenceRecordOut` rows: unit, date, a share's mark, then each field
    in words as the page shows it (a masked value stays “＊＊”)."""

    def cell(spec: Any) -> Callable[[dict[str, Any]], Any]:
        def value(row: dict[str, Any]) -> Any:
            shown = row["values"].get(spec.code)
            return shown if spec.sensitive and shown == access.MASK else display_value(spec, shown)

        return value

    share = [] if ev.matched is None else [Column("符合条件", lambda row: SHARE_MARK[row["in_share"]])]
    return [
        Column("填报单位", "org.name"),
        Column("日期", "date"),
        *share,
        *[Column(f.label, cell(f)) for f in ev.columns],
    ]


# --- checks --------------------------------------------------------------------------------------------------------


class CheckOut(Schema):
    code: str
    label: str
    rule: str
    level: str = Field(..., description="error（错误）/ warning（警告）")
    ok: bool
    message: str


class ChecksOut(Schema):
    org: OrgRef
    period: PeriodOut
    checks: list[CheckOut]


def check_out(c: CheckResult) -> dict[str, Any]:
    return {
        "code": c.code,
        "label": c.label,
        "rule": c.rule,
        "level": c.level,
        "ok": c.ok,
        "message": c.message,
    }


def checks_out(org: Organization, period: Period, results: list[CheckResult]) -> dict[str, Any]:
    return {
        "org": org_ref(org),
        "period": {"start": period.start, "end": period.end},
        "checks": [check_out(c) for c in results],
    }
