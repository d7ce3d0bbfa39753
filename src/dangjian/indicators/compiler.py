"""Indicator definitions → SQL: every ledger-aggregate indicator of one ledger becomes a conditional aggregate in
ONE query (`aggregate(alias=Count("pk", filter=Q(...)), …)`), so cost grows with ledgers and records, not with
indicators. The same conditions drive evidence, so the records shown behind a value are exactly those counted.

Record values live in a JSONField; every condition and expression on them (text, numbers cast to DECIMAL, ISO
dates compared as text, multi-choice "has") comes from records/conditions.py, the one dialect the records
filters and the list workflows use too.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet, FieldError, FullResultSet
from django.db import connection, transaction
from django.db.models import (
    Avg,
    Case,
    Count,
    Expression,
    F,
    FloatField,
    ForeignKey,
    IntegerField,
    Lookup,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, ExtractDay, ExtractMonth, ExtractYear, Substr
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual, LessThanOrEqual
from django.db.models.sql import Query
from django.utils.hashable import make_hashable

from dangjian.orgs.models import Organization, OrgKind
from dangjian.records.conditions import NUMERIC, is_empty, number, read_once, text, value_q
from dangjian.records.fields import parse_date, parse_decimal
from dangjian.records.models import LedgerField, LedgerType, Record
from dangjian.text import cn_date

from . import formulas, grouped
from .models import Aggregate, Kind, PeriodMode, Scope

OPS = ("=", "!=", "in", "not_in", "contains", ">=", "<=", "between", "empty", "not_empty", "age<=", "age>=")
AGE_OPS = ("age<=", "age>=")  # 周岁 on the period's reference day (see age_day), from a birth-date field
AGE_AT = ("start", "end", "record")  # avg_age's age_at; a condition's `at` may only say "record"
TEXTUAL = {"text", "longtext", "person", "org", "choice"}
FIELD_AGGREGATES = {"count_distinct", "sum", "avg", "min", "max", "avg_age", "list"}
NUMERIC_AGGREGATES = {"sum", "avg"}
ATTRIBUTES = (
    "org.name", "org.short_name", "org.place_name", "org.code", "period.year", "period.start", "period.end", "period.label",
    "org.units",
)  # fmt: skip
UNITS_ATTRIBUTE = (
    "org.units"  # the units in the org's subtree (itself included), of the indicator's org_kinds
)
# The look-past-the-period options (统计窗口, see the block "windows" below).
WINDOW_OPTIONS = ("window_start_months", "window_end_months", "about_field")
MAX_WINDOW_MONTHS = 12
ABOUT_FIELD_TYPES = ("integer", "date")
OPTION_KEYS = {"share_where", "age_at", "order", "limit", "decimals", "disclose", *WINDOW_OPTIONS}
OPTION_KEYS |= {"group_by", "order_by"}  # a grouped indicator (grouped.py); a list ordered by another field
# A list's order; org_tree: by the org tree's order of the records' orgs.
LIST_ORDERS = ("count", "first", "value", "org_tree")
DEFAULT_DECIMALS = 1
# PostgreSQL allows 1664 result columns; stay well below it (a ledger with more aggregates is split).
MAX_AGGREGATES_PER_QUERY = 600
# Read once (see `_planned_reading`): on by default; the benchmark turns it off to compare. The fence is the LIMIT of the
# subquery that reads the fields: more records than any ledger will hold.
READ_ONCE = True
READ_ONCE_FENCE = 2**62
# Uses per field read, on average, from which fields are read once (`_planned_reading`): measured at scale P, where
# only the ledger whose conditions use each field 28 times (问题清单) gained; at 4–13 the lost parallel aggregation
# cost more than the reads saved (docs/benchmarks.md).
READ_ONCE_MIN_USES = 20
# The record's own columns an aggregate may test (its period, unit, state; `id` for counting), which the subquery
# passes on beside the fields it reads. Not `values`, the accounts or the times: nothing asks of them.
READ_ONCE_COLUMNS = ("id", "org_id", "date", "end_date", "status")
# Roll up (PostgreSQL, `_Plan._run_rolled_up`): a ledger's records are first grouped by the answers to the distinct
# conditions of its aggregates, which then run over those few groups. Off only to compare (the benchmark).
ROLL_UP = True
# PostgreSQL allows 1664 columns in a select list: a ledger whose grouped query would have more is not rolled up.
ROLL_UP_MAX_COLUMNS = 1200
# The statements around a rolled-up query (its savepoint and planner setting), which ask the database nothing.
AROUND_ROLL_UP = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "SET LOCAL enable_sort")


def questions(captured: Sequence[dict[str, Any]]) -> list[str]:
    """The SQL of the captured queries (`CaptureQueriesContext`) that ask the database something: not the
    statements around a rolled-up query. For counting queries in tests and benchmarks."""
    return [q["sql"] for q in captured if not q["sql"].startswith(AROUND_ROLL_UP)]


class DefinitionError(ValueError):
    pass


# --- validation (shared by pack loading and admin pages) ----------------------------------------------------


def _fields(ledger: LedgerType) -> dict[str, LedgerField]:
    return {f.code: f for f in ledger.fields.all()}


def _condition_errors(name: str, where: Any, fields: dict[str, LedgerField], ledger: LedgerType) -> list[str]:
    if not isinstance(where, list):
        return [f"{name}应为条件列表"]
    errors = []
    for cond in where:
        if not isinstance(cond, dict) or "field" not in cond or "op" not in cond:
            errors.append(f"{name}中的“{cond}”应写作 {{ field = …, op = …, value = … }}")
            continue
        extra = set(cond) - {"field", "op", "value", "at"}
        if extra:
            errors.append(f"{name}含有未知属性：{'、'.join(sorted(extra))}")
        spec = fields.get(cond["field"])
        if spec is None:
            errors.append(f"{name}中的字段“{cond['field']}”不是台账 {ledger.code}（{ledger.label}）的字段")
            continue
        op = cond["op"]
        if op not in OPS:
            errors.append(f"{name}中的运算符“{op}”不存在，可用：{' '.join(OPS)}")
            continue
        if "at" in cond and (op not in AGE_OPS or cond["at"] != "record"):
            errors.append(
                f"{name}中字段【{spec.label}】（{spec.code}）的 at 只能用于 age<= / age>=，"
                f"且只能为 record（按记录日期计算年龄），而不是“{cond['at']}”"
            )
        try:
            _check_operand(spec, op, cond.get("value"))
        except DefinitionError as exc:
            errors.append(f"{name}中字段【{spec.label}】（{spec.code}）：{exc}")
    return errors


def _scalar(spec: LedgerField, value: Any) -> Any:
    """A condition's value as stored in Record.values (or the Decimal to compare a number with)."""
    if value is None or isinstance(value, list | dict):
        raise DefinitionError(f"值“{value}”不是单个值")
    if spec.type in NUMERIC:
        try:
            return parse_decimal(value)
        except ValueError:
            raise DefinitionError(f"“{value}”不是数字") from None
    if spec.type == "date":
        try:
            return parse_date(value).isoformat()
        except (ValueError, OverflowError):
            raise DefinitionError(f"“{value}”不是日期") from None
    if spec.type == "bool":
        if not isinstance(value, bool):
            raise DefinitionError(f"应为 true 或 false，而不是“{value}”")
        return value
    text = str(value)
    if spec.type in ("choice", "multichoice") and spec.choices and text not in spec.choices:
        raise DefinitionError(f"“{text}”不是可选项，可选：{'、'.join(spec.choices)}")
    return text


def _check_operand(spec: LedgerField, op: str, value: Any) -> Any:
    """Validate (and normalise) the value of one condition for the field's type."""
    if op in ("empty", "not_empty"):
        return None
    if spec.type == "file":
        raise DefinitionError("附件字段只能用 empty / not_empty")
    if op in AGE_OPS:
        if spec.type != "date":
            raise DefinitionError(f"运算符 {op}（周岁）只能用于出生日期这样的日期字段")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 150:
            raise DefinitionError(f"运算符 {op} 的值应为 0 到 150 之间的整数周岁，而不是“{value}”")
        return value
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise DefinitionError(f"运算符 {op} 的值应为非空列表")
        return [_scalar(spec, v) for v in value]
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise DefinitionError("运算符 between 的值应为 [下限, 上限]")
        if spec.type not in NUMERIC | {"date"}:
            raise DefinitionError("between 只能用于数字和日期字段")
        return [_scalar(spec, v) for v in value]
    if op in (">=", "<="):
        if spec.type not in NUMERIC | {"date", "text", "person"}:
            raise DefinitionError(f"运算符 {op} 只能用于数字、日期和文本字段")
        return _scalar(spec, value)
    if op == "contains":
        if spec.type not in TEXTUAL | {"multichoice"}:
            raise DefinitionError("contains 只能用于文本和多选字段")
        return _scalar(spec, value)
    if spec.type == "multichoice" and op in ("=", "!="):
        return _scalar(spec, value)  # a list "equals" an item when it has it: same as contains
    return _scalar(spec, value)


def definition_errors(ind: Any, known_keys: set[str] | None = None) -> list[str]:
    """Every problem with one indicator definition, in Chinese, each naming the indicator."""
    name = f"指标“{ind.key}”"
    errors: list[str] = []
    problem = formulas.key_error(ind.key)
    if problem:
        errors.append(problem)
    if ind.kind == Kind.FORMULA:
        if not ind.formula:
            return [*errors, f"{name}缺少公式"]
        try:
            _, names = formulas.parse(ind.formula)
        except formulas.FormulaError as exc:
            return [*errors, f"{name}的公式：{exc}"]
        if known_keys is not None:
            unknown = [n for n in names if formulas.split(n)[1] not in known_keys]
            if unknown:
                errors.append(f"{name}的公式引用了不存在的指标：{'、'.join(unknown)}")
            if ind.key in {formulas.split(n)[1] for n in names if not formulas.split(n)[0]}:
                errors.append(f"{name}的公式引用了它自己")
        return errors
    if ind.kind == Kind.ATTRIBUTE:
        if ind.attribute not in ATTRIBUTES:
            errors.append(f"{name}的属性“{ind.attribute}”不存在，可用：{'、'.join(ATTRIBUTES)}")
        if ind.org_kinds and ind.attribute != UNITS_ATTRIBUTE:
            errors.append(f"{name}：org_kinds 只能用于属性 {UNITS_ATTRIBUTE}（单位数）")
        return errors + _org_kinds_errors(name, ind.org_kinds)
    if ind.kind == Kind.PARAMETER:  # 报告参数: its definition is checked by parameters.definition_errors
        if getattr(ind, "parameter", None) is None:
            errors.append(f"{name}是报告参数，请在“报告参数”页面或数据包的 [[parameters]] 中定义")
        return errors
    if ind.kind != Kind.AGGREGATE:
        return [*errors, f"{name}的定义方式“{ind.kind}”不存在"]
    if ind.aggregate in (Aggregate.COUNT_PEOPLE, Aggregate.RATIO):  # people across ledgers, ratios
        from . import crossledger

        return errors + crossledger.definition_errors(ind, known_keys)
    ledger = ind.ledger
    if ledger is None:
        return [*errors, f"{name}缺少台账（ledger）、公式（formula）或属性（attribute）"]
    fields = _fields(ledger)
    if ind.aggregate not in Aggregate.values:
        errors.append(f"{name}的汇总方式“{ind.aggregate}”不存在，可用：{' '.join(Aggregate.values)}")
    if ind.aggregate in FIELD_AGGREGATES:
        spec = fields.get(ind.field)
        if not ind.field:
            errors.append(f"{name}的汇总方式 {ind.aggregate} 需要指定字段（field）")
        elif spec is None:
            errors.append(f"{name}的字段“{ind.field}”不是台账 {ledger.code}（{ledger.label}）的字段")
        elif ind.aggregate in NUMERIC_AGGREGATES and spec.type not in NUMERIC:
            errors.append(
                f"{name}：{ind.aggregate} 只能用于数字字段，【{spec.label}】是{spec.get_type_display()}字段"
            )
        elif ind.aggregate in ("min", "max") and spec.type not in NUMERIC | {
            "date",
            "text",
            "choice",
            "person",
        }:
            errors.append(f"{name}：{ind.aggregate} 不能用于{spec.get_type_display()}字段【{spec.label}】")
        elif ind.aggregate == "avg_age" and spec.type != "date":
            errors.append(f"{name}：平均年龄需要出生日期字段，【{spec.label}】不是日期字段")
    elif ind.field and ind.field not in fields:
        errors.append(f"{name}的字段“{ind.field}”不是台账 {ledger.code}（{ledger.label}）的字段")
    errors += _condition_errors(f"{name}的筛选条件", ind.where, fields, ledger)
    options = ind.options or {}
    extra = set(options) - OPTION_KEYS
    if extra:
        errors.append(f"{name}含有未知选项：{'、'.join(sorted(extra))}")
    if ind.aggregate == "share":
        if not options.get("share_where"):
            errors.append(f"{name}：占比（share）需要 share_where 条件")
        else:
            errors += _condition_errors(f"{name}的占比条件", options["share_where"], fields, ledger)
    if options.get("age_at", "end") not in AGE_AT:
        errors.append(f"{name}的 age_at 应为 start、end 或 record，而不是“{options['age_at']}”")
    if "group_by" in options:
        errors += grouped.errors(ind, fields)
    elif options.get("order", "count") not in LIST_ORDERS:
        errors.append(f"{name}的 order 应为 count、first、value 或 org_tree")
    if "order_by" in options:
        by = options["order_by"]
        spec = fields.get(by) if isinstance(by, str) else None
        if ind.aggregate != "list":
            errors.append(f"{name}：order_by（按另一字段排列）只能用于取值列表（list）")
        elif spec is None or spec.type in ("file", "multichoice"):
            errors.append(
                f"{name}的 order_by“{by}”应为台账 {ledger.code}（{ledger.label}）中的数字、日期或文本字段"
            )
    for key in ("limit", "decimals"):
        if key in options and (
            not isinstance(options[key], int) or isinstance(options[key], bool) or options[key] < 0
        ):
            errors.append(f"{name}的 {key} 应为非负整数")
    if "disclose" in options:
        # Names from a confidential ledger the annual report may publish (保密规则): a bounded list only.
        if not isinstance(options["disclose"], bool):
            errors.append(f"{name}的 disclose 应为 true 或 false")
        elif options["disclose"] and (ind.aggregate != "list" or not options.get("limit")):
            errors.append(f"{name}：disclose（公开名称）只能用于设置了 limit 的取值列表（list）")
    errors += window_errors(ind, fields)
    if not isinstance(ind.status, list) or not all(isinstance(s, str) for s in ind.status):
        errors.append(f"{name}的 status 应为状态名称列表")
    errors += _org_kinds_errors(name, ind.org_kinds)
    if ind.scope not in Scope.values:
        errors.append(f"{name}的 scope 应为 subtree 或 self")
    if ind.period not in PeriodMode.values:
        errors.append(f"{name}的 period 应为 within、cumulative、start 或 end")
    return errors


def _org_kinds_errors(name: str, org_kinds: Any) -> list[str]:
    if not isinstance(org_kinds, list) or not all(isinstance(k, str) for k in org_kinds):
        return [f"{name}的 org_kinds 应为组织类别代码列表"]
    kinds = set(OrgKind.objects.filter(code__in=org_kinds).values_list("code", flat=True))
    missing = sorted(set(org_kinds) - kinds)
    return [f"{name}的组织类别不存在：{'、'.join(missing)}"] if missing else []


def units_total(org: Organization, org_kinds: Sequence[str]) -> int:
    """The active units in `org`'s subtree (itself included), only those of `org_kinds` when given: the “12个街道”
    of “12个街道中有11个完成” (the 11 is a `count_units` indicator with the same org_kinds)."""
    units = Organization.objects.filter(path__startswith=org.path, is_active=True)
    if org_kinds:
        units = units.filter(pk__in=Organization.objects.filter(kinds__code__in=list(org_kinds)).values("pk"))
    return units.count()


# --- SQL building blocks ---------------------------------------------------------------------------------------


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day `years` earlier; 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_day(mode: str, start: dt.date, end: dt.date) -> dt.date:
    """The day on which age conditions are reckoned: the period's end, or for "as of its start" the day before
    it begins (the end of the previous period), so that 上年末 and this year's start agree. avg_age with
    age_at = "start" uses the same day (see avg_age_day): one rule for every age "as of the start"."""
    return start - dt.timedelta(days=1) if mode == PeriodMode.START else end


def avg_age_day(ind: Any, start: dt.date, end: dt.date) -> dt.date | None:
    """The day avg_age reckons ages on: the period's end, the day before its start (age_at = "start", the same
    rule as the age conditions), or None for each record's own date (age_at = "record")."""
    at = (ind.options or {}).get("age_at", "end")
    if at == "record":
        return None
    return age_day(PeriodMode.START if at == "start" else PeriodMode.END, start, end)


def _age_q(spec: LedgerField, op: str, years: int, day: dt.date) -> Q:
    """周岁 on `day` as a comparison of the ISO birth date, which the date index and both databases handle:
    age ≥ N  ⇔  born on or before the day N years earlier;
    age ≤ N  ⇔  born after the day N+1 years earlier."""
    if op == "age>=":
        q = value_q(spec.code, "<=", years_before(day, years).isoformat())
    else:
        q = value_q(spec.code, ">", years_before(day, years + 1).isoformat())
    return q & ~is_empty(spec.code)


def _age_at_record_q(spec: LedgerField, op: str, years: int) -> Q:
    """周岁 on each record's own date (`at = "record"`: e.g. 35岁及以下 when joining the party)."""
    age = age_expression(spec.code, None)
    compare = GreaterThanOrEqual if op == "age>=" else LessThanOrEqual
    return Q(compare(age, Value(years))) & ~is_empty(spec.code)


def condition_q(
    where: Sequence[dict[str, Any]], fields: dict[str, LedgerField], day: dt.date | None = None
) -> Q:
    """The records meeting every condition; `day` is the reference day of age conditions (age<= / age>=)."""
    q = Q()
    for cond in where:
        spec = fields[cond["field"]]
        op = cond["op"]
        value = _check_operand(spec, op, cond.get("value"))
        op, value = with_overlaps(spec, op, value)
        if op in AGE_OPS and cond.get("at") == "record":
            q &= _age_at_record_q(spec, op, value)
        elif op in AGE_OPS:
            if day is None:
                raise DefinitionError(f"运算符 {op} 需要计算年龄的日期")
            q &= _age_q(spec, op, value, day)
        else:
            q &= value_q(spec, op, value)
    return q


# --- overlapping categories (重叠类别) ------------------------------------------------------------------------------
#
# A choice field may declare that an option belongs to other options as well: `overlaps = {"双重处分" = ["党纪处分",
# "政务处分"]}` says a 双重处分 is both a 党纪处分 and a 政务处分. Every condition of an indicator follows it: "= 党纪处分"
# also matches 双重处分, "!= 党纪处分" excludes it; "= 双重处分" is only itself. Without the declaration the option is
# a third kind of its own. Record pages filter on the value as entered: this is how figures count.


def overlapping(spec: LedgerField, option: Any) -> list[str]:
    """The options counted as `option` too, by the field's declaration (双重处分 for 党纪处分)."""
    overlaps = getattr(spec, "overlaps", None) or {}
    return [key for key, targets in overlaps.items() if option in targets]


def with_overlaps(spec: LedgerField, op: str, value: Any) -> tuple[str, Any]:
    """An "=", "in", "!=" or "not_in" condition on a choice field, widened by the field's overlaps."""
    if not getattr(spec, "overlaps", None) or op not in ("=", "in", "!=", "not_in"):
        return op, value
    asked = value if isinstance(value, list) else [value]
    wider = [*asked, *(o for v in asked for o in overlapping(spec, v) if o not in asked)]
    if len(wider) == len(asked):
        return op, value
    return ("in" if op in ("=", "in") else "not_in"), wider


def overlap_errors(where: str, overlaps: Any, choices: list[str], field_type: str) -> list[str]:
    """Problems with a field's `overlaps` declaration, in Chinese, naming the field (`where`)."""
    if overlaps in (None, {}):
        return []
    if field_type not in ("choice", "multichoice"):
        return [f"{where}：overlaps（重叠类别）只能用于单选或多选字段"]
    if not isinstance(overlaps, dict):
        return [f'{where}：overlaps 应写作 {{ "双重处分" = ["党纪处分", "政务处分"] }}']
    errors = []
    for key, targets in overlaps.items():
        if key not in choices:
            errors.append(f"{where}的 overlaps：“{key}”不是该字段的可选项，可选：{'、'.join(choices)}")
        if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
            errors.append(f"{where}的 overlaps：“{key}”应对应可选项列表")
            continue
        for target in targets:
            if target == key:
                errors.append(f"{where}的 overlaps：“{key}”不能属于它自己")
            elif target not in choices:
                errors.append(f"{where}的 overlaps：“{target}”不是该字段的可选项，可选：{'、'.join(choices)}")
            elif target in overlaps:
                errors.append(f"{where}的 overlaps：“{target}”本身也是重叠类别，不能再包含别的类别")
    return errors


def period_q(mode: str, ledger: LedgerType, start: dt.date, end: dt.date) -> Q:
    tenure = bool(ledger.end_date_field)
    if mode == PeriodMode.WITHIN:
        return Q(date__gte=start, date__lte=end)
    if mode == PeriodMode.CUMULATIVE:
        return Q(date__lte=end)
    day = start if mode == PeriodMode.START else end
    if tenure:
        # In office on that day: begun by then and not ended before it.
        return Q(date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gte=day))
    return Q(date__lt=start) if mode == PeriodMode.START else Q(date__lte=end)


def period_bounds(mode: str, start: dt.date, end: dt.date) -> tuple[dt.date | None, dt.date]:
    """The widest (lower, upper) record dates an indicator can look at: lets the base query use the date index."""
    if mode == PeriodMode.WITHIN:
        return start, end
    if mode == PeriodMode.START:
        return None, start
    return None, end


def indicator_q(
    ind: Any, org: Organization, start: dt.date, end: dt.date, fields: dict[str, LedgerField]
) -> Q:
    """Everything an indicator asks of a record, except the ledger/org-subtree/not-deleted base filter.
    `start`/`end` are the period's; the indicator's window options (统计窗口) move them here, and only here."""
    q = window_q(ind, start, end, fields)
    if ind.scope == Scope.SELF:
        q &= Q(org_id=org.pk)
    if ind.status:
        q &= Q(status__in=list(ind.status))
    if ind.org_kinds:
        # A subquery, not a join on the m2m table: a join would repeat records with several matching kinds.
        q &= Q(org_id__in=Organization.objects.filter(kinds__code__in=list(ind.org_kinds)).values("pk"))
    return q & condition_q(ind.where or [], fields, age_day(ind.period, start, end))


def evidence_q(
    ind: Any, org: Organization, start: dt.date, end: dt.date, fields: dict[str, LedgerField]
) -> Q:
    """The records behind a value: those matched, and for field aggregates only those with the field filled."""
    q = indicator_q(ind, org, start, end, fields)
    if ind.aggregate in FIELD_AGGREGATES:
        q &= ~is_empty(ind.field)
    return q


def base_records(ledger: LedgerType, org: Organization) -> QuerySet[Record]:
    return Record.objects.filter(subtree_q(org), ledger_type=ledger, is_deleted=False)


SUBTREE_IDS = "subtree_ids"  # where subtree_q keeps an org's subtree on the org object


def subtree_q(org: Organization) -> Q:
    """Records of `org` and the units under it.

    SQLite: a join to the org table on its path, which its planner handles well. PostgreSQL: the subtree's ids are
    asked for first (one small query on the path index) and the records filtered with `org_id = ANY(ids)`. Joined,
    and with statistics that are stale after a bulk load (before ANALYZE or autovacuum has run), its planner
    expects a couple of orgs and loops over them, rescanning the ledger's index each time: 27 s instead of 1.5 s
    for the seed report at a city (issue 14, tests/indicators/test_query_shape.py). One array parameter, not an
    IN list: a province's subtree may hold more ids than a statement may have parameters."""
    if connection.vendor != "postgresql":
        return Q(org__path__startswith=org.path)
    # Asked once per org object: an evaluation passes the same one to every ledger's query.
    cached = org.__dict__.get(SUBTREE_IDS)
    if cached is None or cached[0] != org.path:
        # With the number of all orgs, in the same query: the whole tree (a province's own report) needs no
        # condition at all. With one, 55,000 ids, the planner ANDs the ledger's index with a scan of the whole
        # org_id index.
        everyone = RawSQL(
            f"SELECT COUNT(*) FROM {connection.ops.quote_name(Organization._meta.db_table)}", []
        )
        rows = list(
            Organization.objects.filter(path__startswith=org.path)
            .annotate(everyone=everyone)
            .values_list("pk", "everyone")
        )
        ids = [pk for pk, _ in rows]
        whole = bool(rows) and len(rows) == rows[0][1]
        cached = org.__dict__[SUBTREE_IDS] = (org.path, None if whole else ids)
    return Q() if cached[1] is None else Q(org_id__any=cached[1])


@ForeignKey.register_lookup
class AnyOf(Lookup):
    """`org_id__any=[…]`: `org_id = ANY(%s)`, the ids as one array parameter (PostgreSQL only)."""

    lookup_name = "any"

    def get_prep_lookup(self) -> Any:
        return [int(v) for v in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, self.rhs]


def age_expression(code: str, day: dt.date | None) -> Expression:
    """Completed years (周岁) on `day` — or, for None, on each record's own date — from an ISO birth date, in
    portable SQL: year difference, minus one when the birthday (month, day) falls after the day."""
    born = text(code)
    if day is None:
        year: Expression = ExtractYear("date")
        month_day: Expression = ExtractMonth("date") * Value(100) + ExtractDay("date")
    else:
        year, month_day = Value(day.year), Value(day.month * 100 + day.day)
    born_month_day = Cast(Substr(born, 6, 2), IntegerField()) * Value(100) + Cast(
        Substr(born, 9, 2), IntegerField()
    )
    years = year - Cast(Substr(born, 1, 4), IntegerField())
    before_birthday = Case(
        When(GreaterThan(born_month_day, month_day), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return years - before_birthday


# --- windows (统计窗口): an indicator that looks past its period ---------------------------------------------------
#
# Some work about a period is done after it ends: the 述职评议 about a year is held in January–February of the
# next. An indicator of the `within` mode may say so in two ways, both kept in `options`:
# - `window_start_months` / `window_end_months` (−12…12): the window of record dates starts / ends that many
#   months after the period's start / end (a month's first day stays a first day, a last day a last day);
#   both 2 moves the whole window two months later (2019 → 2019-03-01..2020-02-29), only the end extends it;
# - `about_field`: an integer (a year) or date field naming what the record is about; the record counts by that
#   instead of its own date (a year counts as its 31 December: the annual report of that year, its H2, Q4 and
#   December). A record without the value counts by its own date.
# Both act in indicator_q, so the value, its evidence and its 上期/上年同期 (the same options on the earlier
# span) always agree.


def window_options(ind: Any) -> dict[str, Any]:
    options = ind.options or {}
    return {k: options[k] for k in WINDOW_OPTIONS if k in options}


def _months_later(day: dt.date, months: int, *, last: bool) -> dt.date:
    """`day` moved by `months` (negative: earlier); a month's last day (last=True) stays one, else the day of the
    month is kept (clamped to the month's length)."""
    if not months:
        return day
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    first_next = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    length = (first_next - dt.timedelta(days=1)).day
    month_end = (day + dt.timedelta(days=1)).day == 1
    return dt.date(year, month + 1, length if last and month_end else min(day.day, length))


def window(ind: Any, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day an indicator looks at for the period start..end (the period itself by default)."""
    options = ind.options or {}
    return (
        _months_later(start, options.get("window_start_months", 0), last=False),
        _months_later(end, options.get("window_end_months", 0), last=True),
    )


def _about_q(spec: LedgerField, start: dt.date, end: dt.date) -> Q:
    """The records whose `about` value falls in start..end (an integer year as its 31 December)."""
    if spec.type == "date":
        return value_q(spec, "between", [start.isoformat(), end.isoformat()])
    last_year = end.year if (end.month, end.day) == (12, 31) else end.year - 1
    if last_year < start.year:
        return Q(pk__in=[])
    return value_q(spec, "between", [Decimal(start.year), Decimal(last_year)])


def window_q(ind: Any, start: dt.date, end: dt.date, fields: dict[str, LedgerField]) -> Q:
    """The period condition of an indicator, its window options applied."""
    first, last = window(ind, start, end)
    about = (ind.options or {}).get("about_field")
    own = period_q(ind.period, ind.ledger, first, last)
    if not about:
        return own
    return (~is_empty(about) & _about_q(fields[about], first, last)) | (is_empty(about) & own)


def look_bounds(ind: Any, start: dt.date, end: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The widest record dates an indicator can look at (None: unbounded, as with `about_field`)."""
    if (ind.options or {}).get("about_field"):
        return None, None
    return period_bounds(ind.period, *window(ind, start, end))


def window_rule(ind: Any, start: dt.date, end: dt.date) -> str:
    """The window in words, for the evidence page ("" for an indicator without window options)."""
    options = window_options(ind)
    if not options:
        return ""
    first, last = window(ind, start, end)
    dates = f"记录日期在{cn_date(first)}至{cn_date(last)}之间"
    about = options.get("about_field")
    if not about:
        return dates
    spec = ind.ledger.field(about) if ind.ledger else None
    label = spec.label if spec else about
    named = "所填年度（按该年12月31日）" if spec is not None and spec.type == "integer" else "所填日期"
    return f"按【{label}】{named}在{cn_date(first)}至{cn_date(last)}之间计入；【{label}】未填写的，{dates}"


def window_errors(ind: Any, fields: dict[str, LedgerField]) -> list[str]:
    """Problems with an indicator's window options, each naming the indicator."""
    options = ind.options or {}
    used = [k for k in WINDOW_OPTIONS if k in options]
    if not used:
        return []
    name = f"指标“{ind.key}”"
    errors = []
    if ind.period != PeriodMode.WITHIN:
        errors.append(
            f'{name}的 {"、".join(used)}（统计窗口）只能用于期内（period = "within"）的指标，'
            f"不能用于“{ind.period}”"
        )
    months = {}
    for key in ("window_start_months", "window_end_months"):
        value = options.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_WINDOW_MONTHS:
            errors.append(
                f"{name}的 {key} 应为 -{MAX_WINDOW_MONTHS} 到 {MAX_WINDOW_MONTHS} 之间的整数（月数），而不是“{value}”"
            )
        else:
            months[key] = value
    if len(months) == 2 and months["window_start_months"] > months["window_end_months"]:
        errors.append(f"{name}的 window_start_months 不能大于 window_end_months（窗口的起点不能晚于终点）")
    if "about_field" in options:
        about = options["about_field"]
        spec = fields.get(about) if isinstance(about, str) else None
        if spec is None:
            errors.append(
                f"{name}的 about_field“{about}”不是台账 {ind.ledger.code}（{ind.ledger.label}）的字段"
            )
        elif spec.type not in ABOUT_FIELD_TYPES:
            errors.append(
                f"{name}的 about_field【{spec.label}】是{spec.get_type_display()}字段，"
                "应为整数（年度）或日期字段"
            )
    return errors


# --- results -----------------------------------------------------------------------------------------------------


@dataclass
class Item:
    """One (indicator, period) to compute."""

    tag: str
    ind: Any
    start: dt.date
    end: dt.date
    extra: Q | None = None  # a group's condition (grouped.expand): one part of a grouped indicator
    group: tuple[str, str] | None = None  # that group's (name, label)


@dataclass
class Result:
    value: Any
    note: str = ""
    evidence_count: int | None = None
    matched: int | None = None  # a share's numerator: the records that meet its condition


def quantize(value: Any, places: int) -> Decimal:
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def plain_decimal(value: Any, field_type: str) -> int | Decimal:
    """A number from the database as the field keeps it: int for integer fields, cents for money."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if field_type == "integer":
        return int(number)
    if field_type == "money":
        return quantize(number, 2)
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


@dataclass
class _Plan:
    """The aggregates of one ledger query, deduplicated: equal expressions share one alias.

    On PostgreSQL the records are first grouped by the answers to the distinct conditions (`_run_rolled_up`). Not
    on SQLite: computing each distinct condition once per record as a column was tried there and was slower, since
    a FILTER clause stops at its first false term, usually the cheap date test, while a column is always computed.
    """

    aggregates: dict[str, Any] = field(default_factory=dict)
    by_signature: dict[str, str] = field(default_factory=dict)
    # Read once: {alias: a JSON read} (conditions.read_once, set by _planned_reading where it pays)
    reads: dict[str, Any] = field(default_factory=dict)

    def add(self, signature: str, aggregate: Any) -> str:
        alias = self.by_signature.get(signature)
        if alias is None:
            alias = self.by_signature[signature] = f"a{len(self.aggregates)}"
            self.aggregates[alias] = aggregate
        return alias

    def run(self, base: QuerySet[Record]) -> dict[str, Any]:
        return self._rows(base, None).get(None, {})

    def run_grouped(self, base: QuerySet[Record], key: Any) -> dict[Any, dict[str, Any]]:
        """The same aggregates for each value of `key` (an expression on the record): {key value: row}."""
        return self._rows(base, key)

    def _rows(self, base: QuerySet[Record], key: Any) -> dict[Any, dict[str, Any]]:
        """{group key (None ungrouped): {alias: value}}: rolled up on PostgreSQL (`_run_rolled_up`); else each
        aggregate over the records, over the fields read once (`_run_each_aggregate`) or by Django."""
        base = base.order_by()
        if ROLL_UP and connection.vendor == "postgresql":
            rolled = self._run_rolled_up(base, key)
            if rolled is not None:
                return rolled
        if self.reads:
            return self._run_each_aggregate(base, key)
        rows: dict[Any, dict[str, Any]] = {}
        for chunk in self._chunks():
            if key is None:
                rows.setdefault(None, {}).update(base.aggregate(**chunk))
                continue
            for row in base.annotate(group_key=key).values("group_key").annotate(**chunk):
                rows.setdefault(row.pop("group_key"), {}).update(row)
        return rows

    def _inner_sql(self, base: QuerySet[Record], key: Any) -> tuple[str, tuple[Any, ...]]:
        """The records the aggregates test, named as the records table (and the group key): with their fields read
        once, fenced (see `_run_each_aggregate`); else with their values, for conditions that read them where used
        (PostgreSQL folds that subquery into the query, which may then be aggregated in parallel)."""
        inner = base.annotate(**self.reads)
        if key is not None:
            inner = inner.annotate(group_key=key)
        if self.reads:
            columns = [*READ_ONCE_COLUMNS, *self.reads]
        else:  # every column: the subquery is folded into the query, so what is not used costs nothing
            columns = [f.attname for f in Record._meta.concrete_fields]
        inner = inner.values(*columns, *(["group_key"] if key is not None else []))
        if self.reads:
            inner = inner[:READ_ONCE_FENCE]
        sql, params = inner.query.sql_with_params()
        return sql, tuple(params)

    def _run_rolled_up(self, base: QuerySet[Record], key: Any) -> dict[Any, dict[str, Any]] | None:
        """Roll up: the cost of one more indicator is one more condition tested per record, not one more aggregate
        kept per record (issue 14: flat in the number of indicators).

        Each distinct condition of every aggregate's filter (a leaf of its Q, as Django compiles it, negation and
        NULL guard included) is answered once per record, as a boolean column; the records are grouped by those
        answers (and by the values a COUNT(DISTINCT) needs, and the group key), each group keeping its count and
        the SUM/COUNT/MIN/MAX of each value an aggregate takes. The aggregates then run over the groups — a few
        hundred rows, not the period's records — with their filters rewritten over the boolean columns:
        COUNT → SUM of counts, SUM → SUM of sums, AVG → sum of sums over sum of counts, MIN/MAX of the groups'.
        None where an aggregate is of another kind, a condition needs a join or the columns would be too many: then
        each aggregate runs over the records (`_rows`)."""
        table, quote = Record._meta.db_table, connection.ops.quote_name
        query = Query(Record)
        compiler = query.get_compiler(connection=connection)
        # Each column once, named by its SQL and the repr of its parameters (which may hold lists): {…: (name, params)}.
        atoms: dict[tuple[str, str], tuple[str, tuple[Any, ...]]] = {}
        keys: dict[tuple[str, str], tuple[str, tuple[Any, ...]]] = {}
        values: dict[tuple[str, str, str], tuple[str, tuple[Any, ...]]] = {}

        def compiled(expression: Any) -> tuple[str, tuple[Any, ...]]:
            # No joins: every condition is on the record's own columns (see `_run_each_aggregate`); one that is
            # not raises FieldError, and the aggregates then run over the records.
            sql, params = compiler.compile(expression.resolve_expression(query, allow_joins=False))
            return sql, tuple(params)

        def column(
            found: dict[Any, tuple[str, tuple[Any, ...]]], identity: Any, prefix: str, params: Any
        ) -> str:
            if identity not in found:
                found[identity] = (f"{prefix}{len(found)}", params)
            return found[identity][0]

        known: dict[Any, str] = {}  # (negated, leaf) → its column: many aggregates repeat a condition

        def atom(leaf: Any, negated: bool) -> str:
            try:
                # A lookup's value with its type (True == 1 in Python); an expression by Django's own identity.
                same = (
                    negated,
                    (leaf[0], type(leaf[1]), make_hashable(leaf[1])) if isinstance(leaf, tuple) else leaf,
                )
                hash(same)
            except TypeError:  # a value Django cannot hash: compiled each time
                same = None
            if same is None or same not in known:
                name = answer(leaf, negated)
                if same is None:
                    return name
                known[same] = name
            return known[same]

        def answer(leaf: Any, negated: bool) -> str:
            # The leaf as Django compiles it where it stands: under an odd number of negations a lookup on a
            # nullable column carries its IS NOT NULL guard, which NOT (NOT …) keeps.
            where = ~Q(leaf) if negated else Q(leaf)
            try:
                sql, params = compiled(where)
            except EmptyResultSet:
                sql, params = "FALSE", ()
            except FullResultSet:
                sql, params = "TRUE", ()
            if negated:
                sql = f"NOT ({sql})"
            return column(atoms, (sql, repr(params)), "t", params)

        def condition(q: Q, negated: bool = False) -> str:
            if q.connector not in (Q.AND, Q.OR):
                raise FieldError(f"{q.connector} is not rolled up")  # XOR: Django writes it its own way
            inside = negated ^ q.negated
            parts = [
                condition(child, inside) if isinstance(child, Q) else quote(atom(child, inside))
                for child in q.children
            ]
            sql = f"({f' {q.connector} '.join(parts)})" if parts else "TRUE"
            return f"(NOT {sql})" if q.negated else sql

        def rolled(function: str, expression: Any) -> str:
            sql, params = compiled(expression)
            return column(values, (function, sql, repr(params)), "v", params)

        selected: dict[str, str] = {}
        try:
            for alias, aggregate in self.aggregates.items():
                kind = type(aggregate)
                source, where = aggregate.get_source_expressions()[0], aggregate.filter
                if kind not in (Count, Sum, Avg, Min, Max) or (
                    where is not None and not isinstance(where, Q)
                ):
                    return None
                test = f" FILTER (WHERE {condition(where)})" if where is not None else ""
                if kind is Count and aggregate.distinct:
                    sql, params = compiled(source)
                    distinct = column(keys, (sql, repr(params)), "k", params)
                    selected[alias] = f"COUNT(DISTINCT {quote(distinct)}){test}"
                elif kind is Count:
                    selected[alias] = f"COALESCE(SUM({quote(rolled('COUNT', source))}){test}, 0)::bigint"
                elif kind is Sum:
                    selected[alias] = f"SUM({quote(rolled('SUM', source))}){test}"
                elif kind is Avg:
                    total, count = quote(rolled("SUM", source)), quote(rolled("COUNT", source))
                    selected[alias] = f"(SUM({total}){test} / NULLIF(SUM({count}){test}, 0))"
                else:
                    function = "MIN" if kind is Min else "MAX"
                    selected[alias] = f"{function}({quote(rolled(function, source))}){test}"
        except FieldError:  # a condition that needs a join, or an XOR
            return None
        if (
            len(atoms) + len(keys) + len(values) + 1 > ROLL_UP_MAX_COLUMNS
            or len(selected) > ROLL_UP_MAX_COLUMNS
        ):
            return None

        grouped_by = [(sql, params, name) for (sql, _), (name, params) in (*atoms.items(), *keys.items())]
        if key is not None:
            grouped_by.append((quote("group_key"), (), "group_key"))
        columns = [f"{sql} AS {quote(name)}" for sql, _, name in grouped_by]
        columns += [f"{function}({sql}) AS {quote(name)}" for (function, sql, _), (name, _) in values.items()]
        arguments = [p for _, ps, _ in grouped_by for p in ps] + [p for _, ps in values.values() for p in ps]
        inner_sql, inner_params = self._inner_sql(base, key)
        positions = ", ".join(str(n + 1) for n in range(len(grouped_by)))
        groups = f"SELECT {', '.join(columns)} FROM ({inner_sql}) {quote(table)}" + (
            f" GROUP BY {positions}" if grouped_by else ""
        )
        outer = [f"{sql} AS {quote(alias)}" for alias, sql in selected.items()]
        if key is not None:
            outer.insert(0, quote("group_key"))
        sql = f"SELECT {', '.join(outer)} FROM ({groups}) {quote('groups')}" + (
            f" GROUP BY {quote('group_key')}" if key is not None else ""
        )
        with transaction.atomic(), connection.cursor() as cursor:
            # Hash the groups: the planner cannot know that the answers fall into a few hundred groups (it guesses
            # as many as the records) and would sort all the records instead, on disk at a province. The setting
            # is undone by rolling back (nothing was written): SET LOCAL lasts to the end of the outermost
            # transaction, and releasing a savepoint would not undo it.
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(sql, (*arguments, *inner_params))
            found = cursor.fetchall()
            transaction.set_rollback(True)
        # The values as Django's own aggregation gives them (its converters, for each aggregate's output field; the
        # filters play no part in those, and resolving them again would cost as much as compiling them).
        resolved = [
            _unfiltered(a).resolve_expression(query, allow_joins=False) for a in self.aggregates.values()
        ]
        shift = 1 if key is not None else 0
        converters = compiler.get_converters([None] * shift + resolved)
        rows: dict[Any, dict[str, Any]] = {}
        for row in compiler.apply_converters(found, converters):
            rows.setdefault(row[0] if key is not None else None, {}).update(
                zip(self.aggregates, row[shift:], strict=True)
            )
        return rows

    def _run_each_aggregate(self, base: QuerySet[Record], key: Any) -> dict[Any, dict[str, Any]]:
        """Read once: the records, each with its fields read from the JSON once (and the group key), in a subquery
        named as the records table, and the aggregates — which test `ReadColumn`s — over it, in SQL assembled here:
        Django's own aggregation over a subquery rewrites every aggregate to point at the subquery's columns, which
        costs more Python than the query (and grows faster than the number of aggregates).
        The slice (a LIMIT no ledger reaches) keeps PostgreSQL from folding the subquery back into the outer query,
        which would put the reads back into every aggregate. {group key (None ungrouped): row}."""
        inner_sql, inner_params = self._inner_sql(base, key)
        table, quote = Record._meta.db_table, connection.ops.quote_name
        query = Query(Record)
        compiler = query.get_compiler(connection=connection)
        rows: dict[Any, dict[str, Any]] = {}
        for chunk in self._chunks():
            selected, params, resolved = [], [], []
            for alias, aggregate in chunk.items():
                # No joins: on PostgreSQL every condition is on the record's own columns (the subtree and the org
                # kinds are id lists and subqueries), and the outer query reads only the subquery.
                expression = aggregate.resolve_expression(query, allow_joins=False)
                sql, sql_params = compiler.compile(expression)
                selected.append(f"{sql} AS {quote(alias)}")
                params.extend(sql_params)
                resolved.append((alias, expression))
            grouping = ""
            if key is not None:
                selected.insert(0, quote("group_key"))
                grouping = f" GROUP BY {quote('group_key')}"
            sql = f"SELECT {', '.join(selected)} FROM ({inner_sql}) {quote(table)}{grouping}"
            with connection.cursor() as cursor:
                cursor.execute(sql, (*params, *inner_params))
                found = cursor.fetchall()
            # The values as Django's own aggregation gives them (its converters, found once per query).
            shift = 1 if key is not None else 0
            converters = compiler.get_converters([None] * shift + [e for _, e in resolved])
            for values in compiler.apply_converters(found, converters):
                row = rows.setdefault(values[0] if key is not None else None, {})
                row.update(zip((alias for alias, _ in resolved), values[shift:], strict=True))
        return rows

    def _chunks(self) -> list[dict[str, Any]]:
        names = list(self.aggregates)
        return [
            {a: self.aggregates[a] for a in names[i : i + MAX_AGGREGATES_PER_QUERY]}
            for i in range(0, len(names), MAX_AGGREGATES_PER_QUERY)
        ]


def _unfiltered(aggregate: Any) -> Any:
    bare = aggregate.copy()
    bare.filter = None
    return bare


def _planned_reading(
    org: Organization, items: Sequence[Item], fields: dict[str, LedgerField], *, expand: bool = True
) -> tuple[list[Item], _Plan, dict[str, dict[str, str]], dict[str, list[Item]]]:
    """`_planned` (after `grouped.expand`, unless `expand` is off), reading each field once per record where that
    pays: on PostgreSQL (unless READ_ONCE is off), when the conditions use each field READ_ONCE_MIN_USES times or
    more on average. Each aggregate then tests a column read once per record instead of reading the JSON again, so
    one more indicator costs one more test, not one more read (issue 14; `python -m bench province`). Below that it
    does not pay: the fenced subquery cannot be aggregated in parallel workers, and a FILTER that reads where it is
    used stops at its first false term (usually the date) before reading. Never on SQLite, for the second reason."""

    def plan() -> tuple[list[Item], _Plan, dict[str, dict[str, str]], dict[str, list[Item]]]:
        expanded = grouped.expand(items, org, fields) if expand else list(items)
        return (expanded, *_planned(org, expanded, fields))

    if not (READ_ONCE and connection.vendor == "postgresql"):
        return plan()
    with read_once() as reads:
        planned = plan()
    if not reads.columns or reads.uses < READ_ONCE_MIN_USES * len(reads.columns):
        return plan()  # planned again, each field read where it is used
    planned[1].reads = reads.columns
    return planned


def _signature(*parts: Any) -> str:
    return json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)


def compute(ledger: LedgerType, org: Organization, items: Sequence[Item]) -> dict[str, Result]:
    """Compute every item (all on this ledger) with one aggregate query, plus one grouped query per list field."""
    fields = _fields(ledger)
    if not items:
        return {}
    items, plan, wanted, lists = _planned_reading(org, items, fields)
    base = _bounded(base_records(ledger, org), items)
    row = plan.run(base)
    listed: dict[str, list[str]] = {}
    for code, list_items in lists.items():
        listed.update(_lists(base, org, fields, code, list_items))

    results: dict[str, Result] = {}
    for item in items:
        aliases = wanted[item.tag]
        count = int(row[aliases["n"]] or 0)
        results[item.tag] = _result(
            item, fields, count, row.get(aliases.get("v", ""), None), row, aliases, listed
        )
    return grouped.assemble(items, results)


def groupable(ind: Any) -> bool:
    """May the indicator be computed for several units in one grouped query (`compute_units`)? Not a list (its
    own grouped query per org), nor one counting only the reporting unit's own records (scope self), nor a grouped
    one (its groups are the unit's own: `compute` expands them)."""
    return ind.aggregate != "list" and ind.scope != Scope.SELF and not grouped.group_by(ind)


def compute_units(
    ledger: LedgerType, parent: Organization, units: Sequence[Organization], items: Sequence[Item]
) -> dict[int, dict[str, Result]]:
    """The items for each of `units` (children of `parent`, all at one depth) in ONE query over the parent's
    subtree, grouped by each record's ancestor at the units' depth: the same aggregates `compute` gives each unit,
    without one query per unit. Every item must be `groupable`."""
    fields = _fields(ledger)
    if not items or not units:
        return {}
    assert all(groupable(i.ind) for i in items), "list or self-scoped indicators are computed per unit"
    width = units[0].depth * Organization.steplen
    assert all(len(u.path) == width for u in units), "units at one depth"
    base = _bounded(base_records(ledger, parent), items)
    _, plan, wanted, _ = _planned_reading(parent, items, fields, expand=False)
    rows = plan.run_grouped(base, Substr("org__path", 1, width))
    results: dict[int, dict[str, Result]] = {}
    for unit in units:
        row = rows.get(unit.path, {})
        results[unit.pk] = {
            item.tag: _result(
                item,
                fields,
                int(row.get(wanted[item.tag]["n"]) or 0),
                row.get(wanted[item.tag].get("v", ""), None),
                row,
                wanted[item.tag],
                {},
            )
            for item in items
        }
    return results


def _bounded(base: QuerySet[Record], items: Sequence[Item]) -> QuerySet[Record]:
    """The base limited to the widest dates the items look at, so the query can use the date index."""
    bounds = [look_bounds(i.ind, i.start, i.end) for i in items]
    lower, upper = [lo for lo, _ in bounds], [up for _, up in bounds]
    if all(up is not None for up in upper):
        base = base.filter(date__lte=max(up for up in upper if up is not None))
    if all(lo is not None for lo in lower):
        base = base.filter(date__gte=min(lo for lo in lower if lo is not None))
    return base


def _planned(
    org: Organization, items: Sequence[Item], fields: dict[str, LedgerField]
) -> tuple[_Plan, dict[str, dict[str, str]], dict[str, list[Item]]]:
    """The conditional aggregates of the items (shared where equal), each item's aliases, and the list items by
    field (computed by `_lists`)."""
    plan = _Plan()
    wanted: dict[str, dict[str, str]] = {}
    lists: dict[str, list[Item]] = {}
    for item in items:
        ind = item.ind
        agg, code = ind.aggregate, ind.field
        cond = _signature(
            ind.where,
            ind.status,
            ind.org_kinds,
            ind.scope,
            ind.period,
            item.start,
            item.end,
            window_options(ind),
            item.group,
        )
        q = indicator_q(ind, org, item.start, item.end, fields)
        if item.extra is not None:
            q &= item.extra
        aliases: dict[str, str] = {}
        if agg in FIELD_AGGREGATES:
            qe = q & ~is_empty(code)
            aliases["n"] = plan.add(_signature("n", cond, code), Count("pk", filter=qe))
        else:
            aliases["n"] = plan.add(_signature("n", cond), Count("pk", filter=q))
        if agg == "count_units":
            # The reporting units among the matched records (org_kinds, as ever, limits which units count).
            aliases["v"] = plan.add(_signature("units", cond), Count("org_id", distinct=True, filter=q))
        elif agg == "count_distinct":
            aliases["v"] = plan.add(
                _signature("distinct", cond, code), Count(text(code), distinct=True, filter=q)
            )
        elif agg in ("sum", "avg", "min", "max"):
            fn = {"sum": Sum, "avg": Avg, "min": Min, "max": Max}[agg]
            expr = number(code) if fields[code].type in NUMERIC else text(code)
            aliases["v"] = plan.add(_signature(agg, cond, code), fn(expr, filter=q))
        elif agg == "avg_age":
            day = avg_age_day(ind, item.start, item.end)
            aliases["v"] = plan.add(
                _signature("age", cond, code, day or "record"),
                Avg(age_expression(code, day), filter=q & ~is_empty(code), output_field=FloatField()),
            )
        elif agg == "share":
            share_where = ind.options["share_where"]
            aliases["s"] = plan.add(
                _signature("share", cond, share_where),
                Count(
                    "pk",
                    filter=q & condition_q(share_where, fields, age_day(ind.period, item.start, item.end)),
                ),
            )
        elif agg == "list":
            lists.setdefault(code, []).append(item)
        wanted[item.tag] = aliases
    return plan, wanted, lists


def _result(
    item: Item,
    fields: dict[str, LedgerField],
    count: int,
    raw: Any,
    row: dict[str, Any],
    aliases: dict[str, str],
    listed: dict[str, list[str]],
) -> Result:
    ind = item.ind
    agg = ind.aggregate
    places = (ind.options or {}).get("decimals", DEFAULT_DECIMALS)
    empty_note = "没有符合条件的记录"
    if agg == "count":
        return Result(count, "" if count else empty_note, count)
    if agg in ("count_distinct", "count_units"):
        return Result(int(raw or 0), "" if count else empty_note, count)
    if agg == "list":
        values = listed.get(item.tag, [])
        return Result(values, "" if values else empty_note, count)
    if agg == "share":
        if count == 0:
            return Result(None, "除数为零：没有符合条件的记录，无法计算占比", 0, 0)
        matched = int(row[aliases["s"]] or 0)
        return Result(quantize(Decimal(100) * matched / count, places), "", count, matched)
    spec = fields[ind.field]
    if agg == "sum":
        return Result(plain_decimal(raw or 0, spec.type), "" if count else empty_note, count)
    if count == 0 or raw is None:
        return Result(None, empty_note, count)
    if agg in ("avg", "avg_age"):
        return Result(quantize(raw, places), "", count)
    # min / max keep the field's kind: numbers as numbers, dates as dates, text as text.
    if spec.type in NUMERIC:
        return Result(plain_decimal(raw, spec.type), "", count)
    if spec.type == "date":
        try:
            return Result(dt.date.fromisoformat(str(raw)), "", count)
        except ValueError:
            return Result(str(raw), "", count)
    return Result(str(raw), "", count)


def _lists(
    base: QuerySet[Record], org: Organization, fields: dict[str, LedgerField], code: str, items: list[Item]
) -> dict[str, list[str]]:
    """Distinct values of one field for each list item, in one grouped query (or one row fetch for lists).
    Ties (same count, same first date) keep the order of entry — the first record's id — never the characters."""
    conditions = {item.tag: evidence_q(item.ind, org, item.start, item.end, fields) for item in items}
    any_q = Q(*conditions.values(), _connector=Q.OR)
    # value -> [count, first date, first entered (lowest id), smallest sort key (org path or order_by field)]
    stats: dict[str, dict[str, list[Any]]] = {tag: {} for tag in conditions}
    flags = {
        f"m{i}": Case(When(q, then=Value(True)), default=Value(False))
        for i, q in enumerate(conditions.values())
    }
    tags = list(conditions)
    keys = {item.tag: _list_sort_key(item.ind, fields) for item in items}
    if fields[code].type == "multichoice":
        sorts = {f"k{i}": keys[tag] for i, tag in enumerate(tags) if keys[tag] is not None}
        rows = (
            base.filter(any_q)
            .annotate(**flags, **sorts)
            .values_list("values", "date", "pk", *flags, *sorts)
            .order_by()
        )
        names = list(sorts)
        for values, day, pk, *rest in rows:
            hits, sort_values = rest[: len(flags)], dict(zip(names, rest[len(flags) :], strict=True))
            for i, (tag, hit) in enumerate(zip(tags, hits, strict=True)):
                if hit:
                    key = sort_values.get(f"k{i}")
                    for v in values.get(code) or []:
                        s = stats[tag].setdefault(str(v), [0, day, pk, key])
                        s[0] += 1
                        s[1] = min(s[1], day)
                        s[2] = min(s[2], pk)
                        s[3] = _smaller(s[3], key)
    else:
        # Per value of the field, for each item: its records, the first date, the first entered, the smallest sort
        # key — one grouped plan (rolled up on PostgreSQL, as the ledger's own aggregates are).
        plan = _Plan()
        for i, (tag, q) in enumerate(conditions.items()):
            plan.add(f"n{i}", Count("pk", filter=q))
            plan.add(f"d{i}", Min("date", filter=q))
            plan.add(f"p{i}", Min("pk", filter=q))
            if keys[tag] is not None:
                plan.add(f"k{i}", Min(keys[tag], filter=q))
        alias = plan.by_signature
        for value, found in plan.run_grouped(base.filter(any_q), text(code)).items():
            for i, tag in enumerate(tags):
                if found[alias[f"n{i}"]]:
                    stats[tag][str(value)] = [
                        found[alias[f"n{i}"]], found[alias[f"d{i}"]], found[alias[f"p{i}"]],
                        found.get(alias.get(f"k{i}", "")),
                    ]  # fmt: skip
    out: dict[str, list[str]] = {}
    for item in items:
        options = item.ind.options or {}
        entries = stats[item.tag]
        order = options.get("order", "count")
        if options.get("order_by") or order == "org_tree":
            # by the smallest order_by value or org path (the tree's order); no value last; ties: order of entry
            ranked = sorted(entries, key=lambda v: (entries[v][3] is None, entries[v][3] or 0, entries[v][2]))
        elif order == "count":
            ranked = sorted(entries, key=lambda v: (-entries[v][0], entries[v][1], entries[v][2]))
        elif order == "first":
            ranked = sorted(entries, key=lambda v: (entries[v][1], entries[v][2]))
        else:
            ranked = sorted(entries)
        limit = options.get("limit")
        out[item.tag] = ranked[:limit] if limit else ranked
    return out


def _list_sort_key(ind: Any, fields: dict[str, LedgerField]) -> Any:
    """What a list's values are placed by besides their counts: the org path for `order = "org_tree"`, the
    `order_by` field (a number as a number), else None."""
    options = ind.options or {}
    by = options.get("order_by")
    if by:
        return number(by) if fields[by].type in NUMERIC else text(by)
    if options.get("order") == "org_tree":
        return F("org__path")
    return None


def _smaller(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def evidence_queryset(ind: Any, org: Organization, start: dt.date, end: dt.date) -> QuerySet[Record]:
    fields = _fields(ind.ledger)
    return base_records(ind.ledger, org).filter(evidence_q(ind, org, start, end, fields))


def share_queryset(ind: Any, org: Organization, start: dt.date, end: dt.date) -> QuerySet[Record]:
    """For a share: the records behind it that also meet its condition (the numerator)."""
    fields = _fields(ind.ledger)
    share_where = (ind.options or {}).get("share_where") or []
    matched = condition_q(share_where, fields, age_day(ind.period, start, end))
    return evidence_queryset(ind, org, start, end).filter(matched)


OP_WORDS = {
    "=": "为", "!=": "不为", "in": "为以下之一：", "not_in": "不为以下任何一项：", "contains": "包含",
    ">=": "不小于", "<=": "不大于", "between": "介于", "empty": "未填写", "not_empty": "已填写",
    "age<=": "周岁不超过", "age>=": "周岁不小于",
}  # fmt: skip


def describe(where: Sequence[dict[str, Any]], ledger: LedgerType, day: dt.date | None = None) -> str:
    """Conditions in words, for the evidence page: 【出生日期】周岁不超过 40（按2019年12月31日计算）。"""
    fields = _fields(ledger)
    parts = []
    for cond in where:
        spec = fields.get(cond["field"])
        label = spec.label if spec else cond["field"]
        op, value = cond["op"], cond.get("value")
        if op in ("empty", "not_empty"):
            parts.append(f"【{label}】{OP_WORDS[op]}")
            continue
        if isinstance(value, bool):
            value = "是" if value else "否"
        elif op == "between" and isinstance(value, list) and len(value) == 2:
            value = f"{value[0]} 至 {value[1]}"
        elif isinstance(value, list):
            value = "、".join(map(str, value))
        text = f"【{label}】{OP_WORDS.get(op, op)} {value}"
        if spec is not None and op in ("=", "in", "!=", "not_in"):
            given = cond.get("value")
            asked: list[Any] = given if isinstance(given, list) else [given]
            wider = [o for v in asked for o in overlapping(spec, v) if o not in asked]
            if wider:
                text += f"（按重叠类别，含{'、'.join(dict.fromkeys(wider))}）"
        if op in AGE_OPS and cond.get("at") == "record":
            date_spec = fields.get(ledger.date_field)
            text += f"（按各记录的【{date_spec.label if date_spec else '记录日期'}】计算）"
        elif op in AGE_OPS and day is not None:
            text += f"（按{cn_date(day)}计算）"
        parts.append(text)
    return "，且".join(parts)
