"""The records behind a value, as rows for a page, an xlsx download and JSON — with confidentiality applied.

Who may see what: anyone who may run a report for the org may see the value and the number of records behind it;
the rows themselves only when the user may see the ledger's rows (confidential ledgers: members of the named
orgs). From a confidential ledger, others get only the figures the confidentiality rules allow (保密规则,
`access.figure_access`): any other value — and a formula reading one — is refused with the reason, before a
record is read. Sensitive fields are masked as the user's `access.scope()` shows them (as on the record pages).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.records.fields import display_value
from dangjian.records.models import FieldType, LedgerField, Record
from dangjian.spreadsheets.xlsx import neutralise, table  # the one cell neutraliser, shared with exports
from dangjian.text import cn_date, number_text

from . import compiler, crossledger, formulas, grouped, parameters, schemas
from .engine import Period, UnknownIndicator, Value, comparison_span, definitions, evaluate, formula_names
from .grouped_values import Grouped, Part
from .links import evidence_url
from .models import Indicator, Kind, ParameterValue


class Refused(Exception):
    """The value is withheld from this user by the confidentiality rules; the message says why, in Chinese."""


class UnknownGroup(LookupError):
    """The link names a group the indicator does not have (not grouped, or no such group for this org)."""


def display(value: Any, unit: str = "") -> str:
    if isinstance(value, Grouped):
        value = value.total
    if value is None:
        return "—"
    if isinstance(value, list):
        return "、".join(map(str, value)) or "—"
    if isinstance(value, dt.date):
        return cn_date(value)
    if isinstance(value, Decimal | float):
        return f"{number_text(value)}{unit}"
    return f"{value}{unit}"


@dataclass
class Operand:
    key: str
    label: str
    value: Value | None
    url: str

    @property
    def text(self) -> str:
        return "—" if self.value is None else display(self.value.value, self.value.unit)


@dataclass
class Evidence:
    indicator: Indicator
    org: Organization
    period: Period
    key: str
    value: Value
    count: int
    rows_visible: bool
    columns: list[LedgerField] = field(default_factory=list)
    records: QuerySet[Record] | None = None
    # A share (占比): how many of the records meet its condition, the condition in words, and which (if visible).
    matched: int | None = None
    condition: str = ""
    matched_ids: frozenset[int] = frozenset()
    share_sensitive: bool = False  # the condition reads a sensitive field (e.g. 出生日期)
    # A formula: the indicators it reads, each with its value and the link to its own evidence.
    operands: list[Operand] = field(default_factory=list)
    # A list of names: how they were picked from the records (e.g. 按日期先后取前 3 个，共 4 个不同名称).
    list_rule: str = ""
    # An indicator looking past its period (统计窗口): which record dates, or which field, it counts by.
    window_rule: str = ""
    # A 报告参数: the entries behind the value (who entered what, when, from what source, with which file).
    entries: list[ParameterValue] | None = None
    superseded: list[ParameterValue] = field(
        default_factory=list
    )  # earlier entries the current ones replaced
    # A grouped indicator (grouped.py): the one group asked for (its part's records only), else every part.
    group: Part | None = None
    parts: list[tuple[Part, str]] = field(default_factory=list)  # (part, link to its evidence) of the whole

    @property
    def shown_value(self) -> Any:
        """The figure the page states: the group's, the total of a grouped value, or the value."""
        if self.group is not None:
            return self.group.value
        value = self.value.value
        return value.total if isinstance(value, Grouped) else value

    @property
    def ledger(self) -> Any:
        return self.indicator.ledger

    def masked(self, user: Any, record: Record) -> bool:
        return access.scope(user).masks(record)

    def cells(self, user: Any, record: Record) -> list[str]:
        scope = access.scope(user)
        return [scope.shown(spec, record, display_value) for spec in self.columns]

    def in_share(self, user: Any, record: Record) -> bool | None:
        """Whether a row counts in the share; None when not a share, or when the condition reads a sensitive
        field masked for this user on this row (“age ≤ 40” would tell what the mask hides)."""
        if self.matched is None or (self.share_sensitive and self.masked(user, record)):
            return None
        return record.pk in self.matched_ids

    def record_url(self, record: Record) -> str:
        return f"/ledgers/{record.ledger_type.code}/{record.pk}/"


@dataclass(frozen=True)
class Resolved:
    """An indicator looked up once for the evidence page: its definition (with its ledger and the ledger's
    fields), the key as asked (`上年.` for the period before), the period asked and the span the value covers.
    Everything after — the value, the records, a share's numerator, a formula's operands — is read from here."""

    key: str
    indicator: Indicator
    period: Period
    span: Period
    definitions: dict[str, Indicator]

    @property
    def previous(self) -> str:
        """The comparison the key was asked as ("上年" or "上期"), or "" for the period itself."""
        return formulas.split(self.key)[0]


def resolve(key: str, period: Period) -> Resolved:
    """Raises engine.UnknownIndicator. One look-up: the definitions every evaluation needs (formulas read others)."""
    defs = definitions()
    prefix, bare = formulas.split(key)
    if bare not in defs:
        raise UnknownIndicator(bare)
    span = comparison_span(prefix, period) if prefix else period
    return Resolved(key, defs[bare], period, span, defs)


def gather(user: Any, key: str, org: Organization, period: Period, group: str = "") -> Evidence:
    """The evidence of `key` for (org, period) (one `group` of a grouped indicator): resolve, then collect."""
    return collect(user, resolve(key, period), org, group)


def collect(user: Any, resolved: Resolved, org: Organization, group: str = "") -> Evidence:
    """The value as `user` may have it, and the records behind it. Raises Refused for a value withheld from the
    user; callers check may_run_report first. The value is computed once (one aggregate query on its ledger);
    the number of records behind it is the one that query counted, never counted again. `group`: one group of a
    grouped indicator (raises UnknownGroup when it has no such group)."""
    ind, key, span = resolved.indicator, resolved.key, resolved.span
    values = evaluate(
        org,
        resolved.period,
        [key],
        previous=False,
        viewer=user,
        defs=resolved.definitions,
    )
    value = values[key]
    if value.refused:
        raise Refused(value.refused)
    part, in_group = None, Q()
    if group:
        part = value.value.part(group) if isinstance(value.value, Grouped) else None
        found_group = grouped.group_q(ind, org, group) if part is not None else None
        if part is None or found_group is None:
            raise UnknownGroup(f"指标“{key}”没有分组“{group}”")
        in_group = found_group[1]
    if ind.kind == Kind.FORMULA:
        found = Evidence(ind, org, span, key, value, 0, False)
        found.operands = _operands(resolved, org, values)
        return found
    if crossledger.is_combined(ind):  # people across ledgers, a ratio: each part with its own records
        found = Evidence(ind, org, span, key, value, value.evidence_count or 0, False)
        found.operands = _operands(resolved, org, values)
        return found
    if ind.kind == Kind.PARAMETER and getattr(ind, "parameter", None) is not None:
        rows = list(parameters.entries(ind.parameter, org, span.start, span.end))
        found = Evidence(ind, org, span, key, value, len(rows), True, entries=rows)
        found.superseded = parameters.superseded(rows)
        return found
    if ind.kind != Kind.AGGREGATE or ind.ledger is None:
        return Evidence(ind, org, span, key, value, 0, False)
    records = compiler.evidence_queryset(ind, org, span.start, span.end)
    records = records.filter(in_group)
    records = records.select_related("org", "ledger_type").order_by("date", "pk")
    visible = access.may_see_rows(user, ind.ledger)
    fields = list(ind.ledger.fields.all())  # prefetched with the definitions
    columns = [f for f in fields if not f.is_archived and f.type != FieldType.FILE]
    count = (part.records if part is not None else value.evidence_count) or 0
    found = Evidence(ind, org, span, key, value, count, visible, columns, records if visible else None)
    found.group = part
    if part is None and isinstance(value.value, Grouped):
        found.parts = [(p, evidence_url(key, org, resolved.period, p.name)) for p in value.value.parts]
    found.window_rule = compiler.window_rule(ind, span.start, span.end)
    if ind.aggregate == "list" and ind.field:
        found.list_rule = _list_rule(ind, records)
    if ind.aggregate == "share":
        share_where = (ind.options or {}).get("share_where") or []
        day = compiler.age_day(ind.period, span.start, span.end)
        found.condition = compiler.describe(share_where, ind.ledger, day)
        matched = compiler.share_queryset(ind, org, span.start, span.end)
        matched = matched.filter(in_group)
        ids = frozenset(matched.values_list("pk", flat=True))
        found.matched = len(ids)
        found.matched_ids = ids if visible else frozenset()
        by_code = {f.code: f for f in fields}
        found.share_sensitive = any(
            getattr(by_code.get(c.get("field")), "sensitive", False) for c in share_where
        )
    return found


LIST_ORDER_WORDS = {
    "count": "按出现次数从多到少",
    "first": "按日期先后",
    "value": "按名称排序",
    "org_tree": "按填报单位在组织树中的顺序",
}


def _list_rule(ind: Indicator, records: QuerySet[Record]) -> str:
    """How a list indicator picked its names, so that a name in the records but not in the report is explained."""
    options = ind.options or {}
    distinct = {str(v) for v in records.values_list(f"values__{ind.field}", flat=True) if v not in (None, "")}
    limit = options.get("limit")
    order = LIST_ORDER_WORDS.get(options.get("order", "count"), "")
    if options.get("order_by"):
        spec = ind.ledger.field(options["order_by"]) if ind.ledger else None
        order = f"按【{spec.label if spec else options['order_by']}】从小到大"
    picked = f"{order}取前 {limit} 个" if limit else f"{order}全部列出"
    return f"{picked}（记录中共有 {len(distinct)} 个不同的{_field_label(ind)}）"


def _field_label(ind: Indicator) -> str:
    spec = ind.ledger.field(ind.field) if ind.ledger else None
    return f"“{spec.label}”" if spec else "取值"


def _operands(resolved: Resolved, org: Organization, values: dict[str, Value]) -> list[Operand]:
    """The indicators a formula reads, in order. Read for another period (上年.<formula>, 上期.<formula>), its
    plain names are that period's values; a 上年 or 上期 inside it would be further back, shown without a value."""
    ind, previous, defs = resolved.indicator, resolved.previous, resolved.definitions
    out, seen = [], set()
    for name in formula_names(ind):
        back, bare = formulas.split(name)
        if name in seen or bare not in defs:
            continue
        seen.add(name)
        label = defs[bare].label
        if previous and back:
            out.append(Operand(name, label, None, ""))
            continue
        full = f"{previous or back}.{bare}" if previous or back else bare
        out.append(Operand(full, label, values.get(full), evidence_url(full, org, resolved.period)))
    return out


PARAMETER_COLUMNS = {  # heading → key of schemas.ParameterEntryOut: the evidence workbook of a 报告参数
    "填报单位": "org_name",
    "统计期": "period_label",
    "数值": "value",
    "来源说明": "source",
    "填报人": "entered_by",
    "填报时间": "entered_at_text",
    "填报任务": "task",
    "佐证材料": "file_name",
}


def as_xlsx(user: Any, ev: Evidence) -> bytes:
    """The value, its org and period, a share's condition, then the records as the twin gives them
    (`schemas.EvidenceRecordOut`) under `schemas.evidence_columns`, numbered. Every text cell is neutralised."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "佐证记录"
    sheet.append(
        [
            neutralise(f"{ev.indicator.label}（{ev.key}）"),
            neutralise(display(ev.shown_value, ev.indicator.unit)),
        ]
    )
    sheet.append([neutralise(f"{ev.org.name} · {ev.period.label}"), f"记录 {ev.count} 条"])
    if ev.group is not None:
        sheet.append([neutralise(f"分组：{ev.group.label}"), ""])
    if ev.matched is not None:
        sheet.append([neutralise(f"其中符合条件：{ev.condition}"), f"{ev.matched} 条"])
    dumped = schemas.dumped_evidence(user, ev)
    rows = dumped["records"]
    if ev.entries is not None:
        sheet.append([])
        sheet.append(["序号", *PARAMETER_COLUMNS])
        for i, entry in enumerate(dumped["entries"] or [], 1):
            sheet.append([i, *(neutralise(str(entry[k] or "")) for k in PARAMETER_COLUMNS.values())])
    elif rows is None:
        sheet.append(
            [
                "明细不可见：该台账为涉密台账，仅显示记录条数。"
                if ev.ledger
                else "该指标不是台账汇总，没有明细记录。"
            ]
        )
    else:
        sheet.append([])
        for i, cells in enumerate(table(schemas.evidence_columns(ev), rows)):
            sheet.append([i or "序号", *cells])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
