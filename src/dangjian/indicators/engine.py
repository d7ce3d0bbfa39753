"""Evaluating indicators for (org, period), the records behind a value, and consistency checks.

This is the API the reports stage calls: Period, Value, evaluate, evidence_records, evidence_url, CheckResult,
run_checks. Ledger aggregates are computed per ledger in one query (see compiler.py); formulas then run in
dependency order over the values, for the period and — for `上年.<key>` — the period before.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse

from dangjian.ledgers.models import Record
from dangjian.orgs.models import Organization

from . import compiler, formulas
from .formulas import PREVIOUS
from .models import Check, Indicator, Kind

PREFIX = PREVIOUS + "."


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))

    @property
    def is_year(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31) and (
            self.start.year == self.end.year
        )

    def previous(self) -> Period:
        """The same span one year earlier (29 February becomes 28 February)."""
        return Period(compiler.years_before(self.start, 1), compiler.years_before(self.end, 1))

    @property
    def label(self) -> str:
        if self.is_year:
            return f"{self.start.year}年度"
        return f"{_cn_date(self.start)}至{_cn_date(self.end)}"


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass
class Value:
    key: str
    label: str
    unit: str
    aggregate: str  # count|count_distinct|sum|avg|min|max|avg_age|share|list|formula|attribute
    value: int | Decimal | str | list[str] | dt.date | None
    note: str = ""  # why empty, in Chinese
    evidence_count: int | None = None  # records behind the value (None for formula/attribute)
    ledger: str = ""  # ledger code for ledger aggregates


@dataclass
class CheckResult:
    code: str
    rule: str
    level: str
    ok: bool
    message: str
    label: str = ""


class UnknownIndicator(KeyError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"指标“{key}”不存在")

    def __str__(self) -> str:
        return str(self.args[0])


# --- definitions -------------------------------------------------------------------------------------------------


def definitions() -> dict[str, Indicator]:
    """Every indicator, with its ledger and the ledger's fields, in two queries."""
    return {
        ind.key: ind
        for ind in Indicator.objects.select_related("ledger")
        .prefetch_related("ledger__fields")
        .order_by("key")
    }


def formula_names(ind: Indicator) -> list[str]:
    return formulas.parse(ind.formula)[1] if ind.kind == Kind.FORMULA else []


def _closure(defs: Mapping[str, Indicator], keys: Iterable[str]) -> set[str]:
    """The keys plus every indicator their formulas need (same period)."""
    needed: set[str] = set()
    todo = list(keys)
    while todo:
        key = todo.pop()
        if key in needed:
            continue
        if key not in defs:
            raise UnknownIndicator(key)
        needed.add(key)
        for name in formula_names(defs[key]):
            previous, ref = formulas.split(name)
            if not previous:
                todo.append(ref)
    return needed


def _previous_refs(defs: Mapping[str, Indicator], keys: Iterable[str]) -> set[str]:
    refs = set()
    for key in keys:
        for name in formula_names(defs[key]):
            previous, ref = formulas.split(name)
            if previous:
                if ref not in defs:
                    raise UnknownIndicator(ref)
                refs.add(ref)
    return refs


# --- evaluation --------------------------------------------------------------------------------------------------


def evaluate(
    org: Organization, period: Period, keys: Iterable[str] | None = None, *, previous: bool = True
) -> dict[str, Value]:
    """Values for the org's subtree in the period: all indicators, or `keys` plus what their formulas need.
    With previous=True the same keys of the period before appear as `上年.<key>`."""
    return _evaluate(org, period, keys, previous=previous, batched=True)


def evaluate_per_indicator(
    org: Organization, period: Period, keys: Iterable[str] | None = None, *, previous: bool = True
) -> dict[str, Value]:
    """The same values, one query per indicator: the naive way, kept for the benchmark and as a test oracle."""
    return _evaluate(org, period, keys, previous=previous, batched=False)


def _evaluate(
    org: Organization, period: Period, keys: Iterable[str] | None, *, previous: bool, batched: bool
) -> dict[str, Value]:
    defs = definitions()
    current = _closure(defs, defs if keys is None else list(keys))
    before = _closure(defs, (current if previous else set()) | _previous_refs(defs, current))
    wanted: list[tuple[str, Period, set[str]]] = [("", period, current)]
    if before:
        wanted.append((PREFIX, period.previous(), before))

    values: dict[str, Value] = {}
    by_ledger: dict[int, list[compiler.Item]] = defaultdict(list)
    for prefix, span, needed in wanted:
        for key in sorted(needed):
            ind = defs[key]
            if ind.kind == Kind.AGGREGATE and ind.ledger is not None:
                by_ledger[ind.ledger.pk].append(compiler.Item(prefix + key, ind, span.start, span.end))
            elif ind.kind == Kind.ATTRIBUTE:
                values[prefix + key] = _attribute(ind, prefix, org, span)

    for items in by_ledger.values():
        ledger = items[0].ind.ledger
        groups = [items] if batched else [[item] for item in items]
        for group in groups:
            for tag, result in compiler.compute(ledger, org, group).items():
                ind = defs[tag.removeprefix(PREFIX)]
                values[tag] = Value(
                    tag,
                    ind.label,
                    ind.unit,
                    ind.aggregate,
                    result.value,
                    result.note,
                    result.evidence_count,
                    ledger.code,
                )

    dependencies = {key: [formulas.split(n)[1] for n in formula_names(defs[key])] for key in defs}
    for key in formulas.order(dependencies):
        ind = defs[key]
        if ind.kind != Kind.FORMULA:
            continue
        for prefix, _, needed in wanted:
            if key in needed:
                values[prefix + key] = _formula(ind, prefix, values)
    return values


def _attribute(ind: Indicator, prefix: str, org: Organization, period: Period) -> Value:
    value: Any = {
        "org.name": org.name,
        "org.short_name": org.short_name or org.name,
        "org.place_name": place_name(org),
        "org.code": org.code,
        "period.year": period.start.year,
        "period.start": period.start,
        "period.end": period.end,
        "period.label": period.label,
    }.get(ind.attribute)
    return Value(
        prefix + ind.key, ind.label, ind.unit, "attribute", value, "" if value is not None else "属性不存在"
    )


PLACE_SUFFIXES = ("街道", "区", "县", "市", "旗", "镇", "乡")


def place_name(org: Organization) -> str:
    """The place an org is named after: its short name without the administrative suffix (示范区 → 示范)."""
    name = org.short_name or org.name
    for suffix in PLACE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name.removesuffix(suffix)
    return name


def _formula(ind: Indicator, prefix: str, values: Mapping[str, Value]) -> Value:
    def empty(note: str) -> Value:
        return Value(prefix + ind.key, ind.label, ind.unit, "formula", None, note)

    tree, names = formulas.parse(ind.formula)
    inputs: dict[str, Any] = {}
    for name in names:
        previous, ref = formulas.split(name)
        if previous and prefix:
            return empty(f"缺少{name}的值：上一期的公式不能再引用更早一期")
        tag = (PREFIX if previous else prefix) + ref
        got = values.get(tag)
        if got is None or got.value is None:
            why = got.note if got is not None and got.note else "没有值"
            return empty(f"缺少{tag}（{got.label if got else ref}）的值：{why}")
        inputs[name] = got.value
    try:
        result = formulas.evaluate(tree, inputs)
    except formulas.DivisionByZero as exc:
        return empty(f"除数为零：公式“{ind.formula}”中的除数“{exc.divisor}”为 0")
    except formulas.FormulaError as exc:
        return empty(str(exc))
    return Value(prefix + ind.key, ind.label, ind.unit, "formula", _normalise(result, ind))


def _normalise(result: Any, ind: Indicator) -> Any:
    if isinstance(result, float):
        result = Decimal(repr(result))
    if isinstance(result, Decimal):
        return compiler.quantize(result, (ind.options or {}).get("decimals", compiler.DEFAULT_DECIMALS))
    if isinstance(result, tuple):
        return list(result)
    return result


# --- evidence ----------------------------------------------------------------------------------------------------


def _lookup(key: str, period: Period) -> tuple[Indicator, Period]:
    span = period
    if key.startswith(PREFIX):
        key, span = key.removeprefix(PREFIX), period.previous()
    ind = (
        Indicator.objects.select_related("ledger").prefetch_related("ledger__fields").filter(key=key).first()
    )
    if ind is None:
        raise UnknownIndicator(key)
    return ind, span


def evidence_records(key: str, org: Organization, period: Period) -> QuerySet[Record]:
    """The records behind a value (not user-scoped: callers check access). None for formulas and attributes.
    `上年.<key>` gives the records behind the previous period's value."""
    ind, span = _lookup(key, period)
    if ind.kind != Kind.AGGREGATE or ind.ledger is None:
        return Record.objects.none()
    return compiler.evidence_queryset(ind, org, span.start, span.end).select_related("org", "ledger_type")


def share_matches(key: str, org: Organization, period: Period) -> tuple[QuerySet[Record], str] | None:
    """For a share: the evidence records that meet its condition (the numerator), and that condition in words.
    None for every other indicator."""
    ind, span = _lookup(key, period)
    if ind.kind != Kind.AGGREGATE or ind.ledger is None or ind.aggregate != "share":
        return None
    day = compiler.age_day(ind.period, span.start, span.end)
    words = compiler.describe((ind.options or {}).get("share_where") or [], ind.ledger, day)
    return compiler.share_queryset(ind, org, span.start, span.end), words


def evidence_url(key: str, org: Organization, period: Period) -> str:
    params: dict[str, Any] = {"key": key, "org": org.code}
    if period.is_year:
        params["year"] = period.start.year
    else:
        params.update(start=period.start.isoformat(), end=period.end.isoformat())
    return f"{reverse('indicators:evidence')}?{urlencode(params)}"


# --- checks ------------------------------------------------------------------------------------------------------


def _display(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(map(str, value))
    return str(value)


def run_checks(
    org: Organization, period: Period, values: dict[str, Value] | None = None, *, pack: str | None = None
) -> list[CheckResult]:
    """Run every check (or a pack's) over the values (evaluated here when not given or incomplete)."""
    checks = list(Check.objects.all() if pack is None else Check.objects.filter(pack=pack))
    parsed: dict[str, tuple[Any, list[str]] | str] = {}
    for check in checks:
        try:
            parsed[check.code] = formulas.parse(check.rule)
        except formulas.FormulaError as exc:
            parsed[check.code] = str(exc)
    names = {n for p in parsed.values() if not isinstance(p, str) for n in p[1]}
    have = dict(values or {})
    missing = [n for n in names if n not in have]
    if missing:
        known = set(Indicator.objects.values_list("key", flat=True))
        current = {formulas.split(n)[1] for n in missing if formulas.split(n)[1] in known}
        wants_previous = any(formulas.split(n)[0] for n in missing)
        if current:
            for tag, value in evaluate(org, period, current, previous=wants_previous).items():
                have.setdefault(tag, value)

    results = []
    for check in checks:
        level = check.level
        p = parsed[check.code]
        if isinstance(p, str):
            results.append(
                CheckResult(check.code, check.rule, level, False, f"规则无法计算：{p}", check.label)
            )
            continue
        tree, refs = p
        absent = [n for n in refs if n not in have or have[n].value is None]
        if absent:
            detail = "；".join(
                f"{n}（{have[n].label}）{have[n].note or '没有值'}" if n in have else f"{n}：指标不存在"
                for n in absent
            )
            results.append(
                CheckResult(
                    check.code, check.rule, level, False, f"无法核对，缺少数值：{detail}", check.label
                )
            )
            continue
        try:
            ok = bool(formulas.evaluate(tree, {n: have[n].value for n in refs}))
            message = check.message
        except formulas.DivisionByZero as exc:
            ok, message = False, f"无法核对：除数“{exc.divisor}”为 0"
        except formulas.FormulaError as exc:
            ok, message = False, f"规则无法计算：{exc}"
        if ok:  # the check's message explains a failure; a pass is stated by the rule's label
            message = f"{check.label or check.rule}：通过"
        elif message == check.message:
            message += "（" + "，".join(f"{n} = {_display(have[n].value)}" for n in refs) + "）"
        results.append(CheckResult(check.code, check.rule, level, ok, message, check.label))
    return results
