"""Evaluating indicators for (org, period), the records behind a value, and consistency checks.

This is the API the reports stage calls: Period, Value, evaluate, evidence_records, evidence_url, CheckResult,
run_checks. Ledger aggregates are computed per ledger in one query (see compiler.py); formulas then run in
dependency order over the values, for the period and — for `上年.<key>` — the period before.

Values are evaluated for a viewer: the user passed as `viewer`, or else the one set by `viewing_as()` (the web
sets it to the request's user for every request, see middleware.py). A viewer gets from a confidential ledger only
what `access.figure_access` allows (保密规则); every other figure is withheld with the reason in `Value.refused`.
Without a viewer (the command line, tests) every figure is computed: whoever runs those holds the database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.records.models import Record

from . import compiler, crossledger, formulas, grouped
from .formulas import LAST_PERIOD, PREVIOUS
from .grouped_values import Grouped
from .links import evidence_url as evidence_url  # re-exported: the one builder of the link lives in links.py
from .models import Check, Indicator, Kind
from .periods import Period as Period  # re-exported: the period type and its one parser live in periods.py

PREFIX = PREVIOUS + "."  # 上年. : 上年同期, the same span a year earlier
LAST_PREFIX = LAST_PERIOD + "."  # 上期. : the period of the same kind just before


def comparison_span(prefix: str, period: Period) -> Period:
    """The period a comparison's values are computed for: 上年 → same_last_year(), 上期 → previous()."""
    return period.previous() if prefix == LAST_PERIOD else period.same_last_year()


@dataclass
class Value:
    key: str
    label: str
    unit: str
    aggregate: str  # count|count_distinct|sum|avg|min|max|avg_age|share|list|formula|attribute|parameter
    # a grouped indicator's value is a Grouped (grouped_values.py): its parts, and its total in arithmetic
    value: int | Decimal | str | list[str] | dt.date | Grouped | None
    note: str = ""  # why empty, in Chinese
    evidence_count: int | None = None  # records behind the value (None for formula/attribute)
    ledger: str = ""  # ledger code for ledger aggregates
    refused: str = ""  # withheld from this viewer by the confidentiality rules (保密规则): why, in Chinese
    incomputable: bool = False  # cannot be computed (a ratio's zero denominator): printed 无法计算


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


def definitions(keys: Iterable[str] | None = None) -> dict[str, Indicator]:
    """Every indicator, with its ledger and the ledger's fields, in two queries; with `keys`, only those and what
    their formulas read (two queries per level of formulas), for a page that shows a few. Either way with the
    in-memory parts of people counts and ratios (crossledger.py)."""
    qs = (
        Indicator.objects.select_related("ledger", "parameter")
        .prefetch_related("ledger__fields")
        .order_by("key")
    )
    if keys is None:
        return crossledger.with_parts({ind.key: ind for ind in qs})
    found: dict[str, Indicator] = {}
    asked: set[str] = set()
    todo = {formulas.split(k)[1] for k in keys}
    while todo:
        asked |= todo
        batch = {ind.key: ind for ind in qs.filter(key__in=sorted(todo))}
        found.update(batch)
        todo = {formulas.split(n)[1] for ind in batch.values() for n in formula_names(ind)} - asked
    return crossledger.with_parts(dict(sorted(found.items())))


def formula_names(ind: Indicator) -> list[str]:
    """The indicators a formula reads (and the parts a people count or a ratio is made of)."""
    if crossledger.is_combined(ind):
        return crossledger.part_keys(ind)
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


def _comparison_refs(defs: Mapping[str, Indicator], keys: Iterable[str]) -> dict[str, set[str]]:
    """The indicators the formulas of `keys` read for another period: {"上年": {...}, "上期": {...}}."""
    refs: dict[str, set[str]] = {prefix: set() for prefix in formulas.COMPARISONS}
    for key in keys:
        for name in formula_names(defs[key]):
            previous, ref = formulas.split(name)
            if previous:
                if ref not in defs:
                    raise UnknownIndicator(ref)
                refs[previous].add(ref)
    return refs


# --- viewer ------------------------------------------------------------------------------------------------------

_VIEWER: ContextVar[Any] = ContextVar("dangjian_indicator_viewer", default=None)


@contextmanager
def viewing_as(user: Any) -> Iterator[None]:
    """Evaluate for `user` inside the block, wherever the evaluation is called from (reports, checks, evidence)."""
    token = _VIEWER.set(user)
    try:
        yield
    finally:
        _VIEWER.reset(token)


def current_viewer(viewer: Any = None) -> Any:
    """The viewer given, else the one set by viewing_as(); None means no restriction (command line, tests)."""
    return viewer if viewer is not None else _VIEWER.get()


# --- evaluation --------------------------------------------------------------------------------------------------


def evaluate(
    org: Organization,
    period: Period,
    keys: Iterable[str] | None = None,
    *,
    previous: bool = True,
    viewer: Any = None,
    defs: Mapping[str, Indicator] | None = None,
) -> dict[str, Value]:
    """Values for the org's subtree in the period: all indicators, or `keys` plus what their formulas need.
    With previous=True the same keys of the same span a year earlier appear as `上年.<key>`. A key asked as
    `上年.<key>` or `上期.<key>` (the period just before) is computed for that period. Confidential figures
    follow the viewer's rights (see the module docstring). `defs`: the definitions() a caller already holds."""
    return _evaluate(
        org, period, keys, previous=previous, batched=True, viewer=current_viewer(viewer), defs=defs
    )


def evaluate_per_indicator(
    org: Organization, period: Period, keys: Iterable[str] | None = None, *, previous: bool = True
) -> dict[str, Value]:
    """The same values, one query per indicator: the naive way, kept for the benchmark and as a test oracle."""
    return _evaluate(org, period, keys, previous=previous, batched=False, viewer=None)


def _evaluate(
    org: Organization,
    period: Period,
    keys: Iterable[str] | None,
    *,
    previous: bool,
    batched: bool,
    viewer: Any,
    defs: Mapping[str, Indicator] | None = None,
) -> dict[str, Value]:
    if defs is None:
        defs = definitions()
    asked: dict[str, set[str]] = {"": set(), **{prefix: set() for prefix in formulas.COMPARISONS}}
    for key in defs if keys is None else keys:
        prefix, bare = formulas.split(key)
        asked[prefix].add(bare)
    current = _closure(defs, asked[""])
    refs = _comparison_refs(defs, current)
    wanted: list[tuple[str, Period, set[str]]] = [("", period, current)]
    for prefix in formulas.COMPARISONS:
        also = current if previous and prefix == PREVIOUS else set()
        needed = _closure(defs, asked[prefix] | refs[prefix] | also)
        if needed:
            wanted.append((prefix + ".", comparison_span(prefix, period), needed))

    values: dict[str, Value] = {}
    by_ledger: dict[int, list[compiler.Item]] = defaultdict(list)
    checks: dict[str, _SmallCheck] = {}
    outsiders: dict[int, access.Outsider | None] = {}  # per ledger: the viewer may not see its rows
    for prefix, span, needed in wanted:
        for key in sorted(needed):
            ind = defs[key]
            if ind.kind == Kind.AGGREGATE and ind.ledger is not None:
                item = compiler.Item(prefix + key, ind, span.start, span.end)
                if viewer is None:
                    by_ledger[ind.ledger.pk].append(item)
                    continue
                rule = _figure_access(viewer, ind, org, span, outsiders)
                if not rule.refused and rule is not access.OPEN:
                    rule = grouped.figure_rule(ind, span, rule)
                if rule.refused:
                    values[item.tag] = _withheld(ind, item.tag, rule.refused)
                    continue
                by_ledger[ind.ledger.pk].append(item)
                if rule.small_check or rule.sum_check:
                    checks[item.tag] = _SmallCheck(ind, rule)
                    for n, (start, end) in enumerate(rule.small_check):
                        by_ledger[ind.ledger.pk].append(
                            compiler.Item(_quarter_tag(n, item.tag), ind, start, end)
                        )
            elif ind.kind == Kind.ATTRIBUTE:
                values[prefix + key] = _attribute(ind, prefix, org, span)
            elif ind.kind == Kind.PARAMETER:
                values[prefix + key] = _parameter(ind, prefix, org, span)

    results: dict[str, compiler.Result] = {}
    for items in by_ledger.values():
        ledger = items[0].ind.ledger
        groups = [items] if batched else [[item] for item in items]
        for group in groups:
            results.update(compiler.compute(ledger, org, group))
    for tag, result in results.items():
        if tag.startswith(_QUARTER):
            continue
        ind = defs[formulas.split(tag)[1]]
        check = checks.get(tag)
        refused = check.refusal(tag, result, results) if check else ""
        values[tag] = _withheld(ind, tag, refused) if refused else _aggregated(tag, ind, result)

    dependencies = {key: [formulas.split(n)[1] for n in formula_names(defs[key])] for key in defs}
    for key in formulas.order(dependencies):
        ind = defs[key]
        if crossledger.is_combined(ind):
            for prefix, span, needed in wanted:
                if key in needed:
                    tag = prefix + key
                    values[tag] = crossledger.value(ind, tag, values, defs, org, span.start, span.end, viewer)
            continue
        if ind.kind != Kind.FORMULA:
            continue
        for prefix, _, needed in wanted:
            if key in needed:
                values[prefix + key] = _formula(ind, prefix, values)
    if (
        keys is None
    ):  # every indicator: not the parts of people counts and ratios (asked by name, they are given)
        return {tag: value for tag, value in values.items() if crossledger.PART not in tag}
    return values


def _aggregated(tag: str, ind: Indicator, result: compiler.Result) -> Value:
    """The value of a ledger aggregate as the compiler computed it (for one org, or one unit of a ranking)."""
    return Value(
        tag,
        ind.label,
        ind.unit,
        ind.aggregate,
        result.value,
        result.note,
        result.evidence_count,
        ind.ledger.code if ind.ledger else "",
    )


def evaluate_units(
    parent: Organization,
    units: list[Organization],
    period: Period,
    keys: Iterable[str],
    *,
    viewer: Any = None,
    defs: Mapping[str, Indicator] | None = None,
) -> dict[int, dict[str, Value]]:
    """The values of `keys` for each of `units` (the parent's children, one depth), as `evaluate(unit, period,
    keys, previous=False)` gives them, in one grouped query per ledger instead of one per unit and ledger (a
    ranking of units). Indicators that cannot be grouped (formulas, attributes, parameters, lists, self-scoped
    ones, confidential figures that need a small-count check) are evaluated per unit, as `evaluate` does."""
    viewer = current_viewer(viewer)
    if defs is None:
        defs = definitions()
    keys = list(dict.fromkeys(keys))
    for key in keys:
        if key not in defs:
            raise UnknownIndicator(key)
    out: dict[int, dict[str, Value]] = {u.pk: {} for u in units}
    batched: dict[int, list[compiler.Item]] = defaultdict(list)
    alone: dict[int, list[str]] = defaultdict(list)  # unit pk -> keys evaluated for it alone
    outsiders: dict[int, access.Outsider | None] = {}
    for key in keys:
        ind = defs[key]
        if ind.kind != Kind.AGGREGATE or ind.ledger is None or not compiler.groupable(ind):
            for unit in units:
                alone[unit.pk].append(key)
            continue
        batched[ind.ledger.pk].append(compiler.Item(key, ind, period.start, period.end))
        if viewer is None:
            continue
        for unit in units:
            rule = _figure_access(viewer, ind, unit, period, outsiders)
            if rule.refused:
                out[unit.pk][key] = _withheld(ind, key, rule.refused)
            elif rule.small_check or rule.sum_check:
                alone[unit.pk].append(key)
    for items in batched.values():
        ledger = items[0].ind.ledger
        for unit_pk, results in compiler.compute_units(ledger, parent, units, items).items():
            for tag, result in results.items():
                if tag in out[unit_pk] or tag in alone.get(unit_pk, ()):
                    continue
                out[unit_pk][tag] = _aggregated(tag, defs[tag], result)
    for unit in units:
        if alone.get(unit.pk):
            values = evaluate(unit, period, alone[unit.pk], previous=False, viewer=viewer, defs=defs)
            out[unit.pk].update({k: values[k] for k in alone[unit.pk]})
    return out


# --- confidential figures (the rule is access.figure_access; this applies it) -------------------------------------

_QUARTER = "\x00"  # tags of the per-quarter items a small-count check adds: never an indicator key


def _quarter_tag(n: int, tag: str) -> str:
    return f"{_QUARTER}{n}{tag}"


def _figure_access(
    viewer: Any, ind: Indicator, org: Organization, span: Period, outsiders: dict[int, access.Outsider | None]
) -> access.FigureAccess:
    """access.figure_access, asking about the viewer's rows once per ledger."""
    ledger = ind.ledger
    assert ledger is not None
    if ledger.pk not in outsiders:
        outsiders[ledger.pk] = access.outsider(viewer, ledger)
    who = outsiders[ledger.pk]
    if who is None:
        return access.OPEN
    return access.figure_rule(
        who,
        org,
        span.start,
        span.end,
        aggregate=ind.aggregate,
        disclosed=bool((ind.options or {}).get("disclose")),
        period_mode=ind.period,
    )


def _counts(ind: Indicator, result: compiler.Result) -> list[int]:
    """The record counts a figure rests on: the records behind it, a share's numerator, a distinct count."""
    counts = [result.evidence_count or 0]
    if result.matched is not None:
        counts.append(result.matched)
    if ind.aggregate == "count_distinct" and isinstance(result.value, int):
        counts.append(result.value)
    return counts


@dataclass
class _SmallCheck:
    ind: Indicator
    rule: access.FigureAccess

    def refusal(self, tag: str, result: compiler.Result, results: Mapping[str, compiler.Result]) -> str:
        ledger = self.ind.ledger
        quarterly = [
            n
            for q in range(len(self.rule.small_check))
            for n in _counts(self.ind, results[_quarter_tag(q, tag)])
        ]
        why = access.small_count_refusal(ledger, quarterly, quarterly=True)
        if not why and self.rule.sum_check:
            # a grouped sum: each group's sum rests on its own records
            counts = [result.evidence_count or 0, *grouped.part_counts(result.value)]
            why = access.small_count_refusal(ledger, counts, quarterly=False)
        return why


def _withheld(ind: Indicator, tag: str, why: str) -> Value:
    code = ind.ledger.code if ind.ledger else ""
    return Value(tag, ind.label, ind.unit, ind.aggregate, None, why, None, code, refused=why)


def figure_refusal(key: str, org: Organization, period: Period, viewer: Any = None) -> str:
    """Why `viewer` may not have this indicator's value for (org, period) — "" when he may. For the evidence page,
    which refuses before it reads a record; formulas answer for the indicators they read."""
    viewer = current_viewer(viewer)
    if viewer is None:
        return ""
    return evaluate(org, period, [key], previous=False, viewer=viewer)[key].refused


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
    if ind.attribute == compiler.UNITS_ATTRIBUTE:
        value = compiler.units_total(org, ind.org_kinds or [])
    return Value(
        prefix + ind.key, ind.label, ind.unit, "attribute", value, "" if value is not None else "属性不存在"
    )


def _parameter(ind: Indicator, prefix: str, org: Organization, period: Period) -> Value:
    """A 报告参数: the value entered for exactly (org, period) — or the sum of the subtree's entries — else none,
    noted 未填报 (see parameters.py). Anyone who may run the report may have it: it is no ledger's rows."""
    from . import parameters

    param = getattr(ind, "parameter", None)
    if param is None:  # a kind set by hand in the admin pages, without a definition
        return Value(prefix + ind.key, ind.label, ind.unit, "parameter", None, "报告参数没有定义")
    rows = list(parameters.entries(param, org, period.start, period.end))
    value, note = parameters.report_value(param, rows)
    return Value(prefix + ind.key, ind.label, ind.unit, "parameter", value, note, len(rows))


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
            return empty(f"缺少{name}的值：上年、上期的公式不能再引用另一期")
        tag = (previous + "." if previous else prefix) + ref
        got = values.get(tag)
        if got is not None and got.refused:  # withheld from this viewer: so is any figure made from it
            result = empty(f"缺少{tag}（{got.label}）的值：{got.refused}")
            result.refused = got.refused
            return result
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
    """A formula's result as the report prints it: a whole number is an int (14900, never "14900.0"), others are
    rounded half up to the indicator's decimals. A grouped value (a formula naming just one) gives its total."""
    if isinstance(result, Grouped):
        result = result.total
    if isinstance(result, float):
        result = Decimal(repr(result))
    if isinstance(result, Decimal):
        if result.is_finite() and result == result.to_integral_value():
            return int(result)
        return compiler.quantize(result, (ind.options or {}).get("decimals", compiler.DEFAULT_DECIMALS))
    if isinstance(result, tuple):
        return list(result)
    return result


# --- evidence ----------------------------------------------------------------------------------------------------


def _lookup(key: str, period: Period) -> tuple[Indicator, Period]:
    span = period
    prefix, key = formulas.split(key)
    if prefix:
        span = comparison_span(prefix, period)
    ind = (
        Indicator.objects.select_related("ledger").prefetch_related("ledger__fields").filter(key=key).first()
    )
    if ind is None and crossledger.PART in key:  # a part of a people count or a ratio
        ind = definitions().get(key)
    if ind is None:
        raise UnknownIndicator(key)
    return ind, span


def evidence_records(key: str, org: Organization, period: Period) -> QuerySet[Record]:
    """The records behind a value (not user-scoped: callers check access). None for formulas and attributes.
    `上年.<key>` gives the records behind the previous period's value."""
    ind, span = _lookup(key, period)
    if crossledger.is_combined(ind):
        records = crossledger.evidence_records(ind, definitions(), org, span.start, span.end)
        return records.select_related("org", "ledger_type")
    if ind.kind != Kind.AGGREGATE or ind.ledger is None:
        return Record.objects.none()
    return compiler.evidence_queryset(ind, org, span.start, span.end).select_related("org", "ledger_type")


# --- checks ------------------------------------------------------------------------------------------------------


def _display(value: Any) -> str:
    if isinstance(value, Grouped):  # the total and its parts: a failed “parts add up” check shows both
        parts = "、".join(f"{p.label} {_display(p.value)}" for p in value.parts)
        return f"{_display(value.total)}（{parts}）"
    if isinstance(value, list):
        value = "、".join(map(str, value))
    return str(value) if value != "" else "（无）"  # an empty list of names reads as such, not as "= ，"


def run_checks(
    org: Organization,
    period: Period,
    values: dict[str, Value] | None = None,
    *,
    pack: str | None = None,
    viewer: Any = None,
) -> list[CheckResult]:
    """Run every check (or a pack's, with the checks staff made in the web: those belong to no pack and apply to
    every report) over the values (evaluated here, for the viewer, when not given or incomplete)."""
    checks = list(Check.objects.all() if pack is None else Check.objects.filter(pack__in=[pack, ""]))
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
        asked = {n for n in missing if formulas.split(n)[1] in known}
        if asked:
            for tag, value in evaluate(org, period, asked, previous=False, viewer=viewer).items():
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
