"""Indicators over more than one ledger (or more than one figure): distinct people across ledgers and ratios.

- `aggregate = "count_people"` with `people = [{ ledger, person, where }, …]`: how many distinct people appear in
  any of the ledgers (参加培训的党员共N人: one person in the training ledger and the study ledger counts once).
  `person` names the field(s) that identify a person in that ledger (e.g. ["name", "id_no"], or a key field),
  matched position by position across ledgers, trimmed and in upper case (an ID number's x and X agree).
- `aggregate = "ratio"` with `numerator` and `denominator`: each the key of another indicator or an inline spec
  (`{ ledger = …, aggregate = …, where = … }`), giving numerator ÷ denominator with `decimals` places (人均参加次数,
  每个支部平均开展…). A zero denominator gives no value, noted “无法计算：…” and printed 无法计算.

Both are made of parts: each ledger of a people count, and each inline side of a ratio, is an ordinary count
(or aggregate) indicator kept in memory under the key `<key>：<part>` (a full-width colon: never in a real key, see
formulas.key_error). The parts
join their ledger's ONE batched aggregate query like any indicator (they give the records behind the value, and
each has its own evidence page); a people count adds one query, the UNION of the people of its parts. The parent
is computed after its parts, in the formula pass, and its evidence page lists the parts with their links.

Confidentiality (保密规则): a part of a confidential ledger follows the figure rules like any indicator. A people
count is refused to anyone who may not see the rows of one of its ledgers: with the allowed count of the other
ledgers (or of a hand-made one-person filter), “how many people in A or B” tells whether a given person is in B.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Trim, Upper

from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.records.conditions import text
from dangjian.records.models import LedgerType, Record

from . import compiler
from .models import Aggregate, Indicator, Kind

PEOPLE = Aggregate.COUNT_PEOPLE.value
RATIO = Aggregate.RATIO.value
COMBINED = (PEOPLE, RATIO)
PART = "："  # a part's key is <key>：<name>: never a real key (keys are names joined by dots, see formulas.key_error)
SIDES = {"numerator": "分子", "denominator": "分母"}
PERSON_TYPES = ("text", "person", "integer", "choice")
PEOPLE_PART_KEYS = {"ledger", "person", "where", "status"}
SIDE_KEYS = {
    "ledger", "aggregate", "field", "where", "status", "org_kinds", "scope", "period", "share_where", "age_at",
    *compiler.WINDOW_OPTIONS,
}  # fmt: skip
SIDE_OPTIONS = ("share_where", "age_at", *compiler.WINDOW_OPTIONS)
OPTION_KEYS = ("people", "numerator", "denominator")  # kept in Indicator.options
INCOMPUTABLE = "无法计算"
CHECK_KEYS = ("total", "parts", "overlap")  # a check “total = parts ± overlap” (see overlap_rule)


def is_combined(ind: Any) -> bool:
    return getattr(ind, "kind", "") == Kind.AGGREGATE and getattr(ind, "aggregate", "") in COMBINED


# --- parts -------------------------------------------------------------------------------------------------------


def _people(ind: Any) -> list[dict[str, Any]]:
    people = (ind.options or {}).get("people")
    return people if isinstance(people, list) else []


def _person_codes(part: dict[str, Any]) -> list[str]:
    person = part.get("person")
    return [person] if isinstance(person, str) else list(person or [])


def _side(ind: Any, side: str) -> Any:
    return (ind.options or {}).get(side)


def part_keys(ind: Any) -> list[str]:
    """The keys a combined indicator reads (its parts, or a ratio's referenced indicators), in order."""
    if ind.aggregate == PEOPLE:
        return [f"{ind.key}{PART}台账{n}" for n in range(1, len(_people(ind)) + 1)]
    keys = []
    for side, word in SIDES.items():
        spec = _side(ind, side)
        keys.append(spec if isinstance(spec, str) else f"{ind.key}{PART}{word}")
    return keys


def references(ind: Any) -> list[str]:
    """The other real indicators a ratio names (its sides given as keys)."""
    if ind.aggregate != RATIO:
        return []
    return [s for s in (_side(ind, side) for side in SIDES) if isinstance(s, str)]


def _part(parent: Any, key: str, label: str, ledger: LedgerType, **kw: Any) -> Indicator:
    part = Indicator(
        key=key,
        label=label,
        unit=kw.pop("unit", ""),
        pack=parent.pack,
        kind=Kind.AGGREGATE,
        ledger=ledger,
        aggregate=kw.pop("aggregate", "count"),
        field=kw.pop("field", ""),
        where=kw.pop("where", []),
        status=kw.pop("status", parent.status),
        org_kinds=kw.pop("org_kinds", parent.org_kinds),
        scope=kw.pop("scope", parent.scope),
        period=kw.pop("period", parent.period),
        options=kw.pop("options", {}),
    )
    assert not kw, kw
    return part


def parts(ind: Any, ledgers: Mapping[str, LedgerType]) -> dict[str, Indicator]:
    """The in-memory part indicators of a combined indicator (those whose ledger is known)."""
    out: dict[str, Indicator] = {}
    if ind.aggregate == PEOPLE:
        for key, spec in zip(part_keys(ind), _people(ind), strict=True):
            ledger = ledgers.get(str(spec.get("ledger")))
            if ledger is None:
                continue
            filled = [{"field": code, "op": "not_empty"} for code in _person_codes(spec)]
            out[key] = _part(
                ind,
                key,
                f"{ind.label}（{ledger.label}）",
                ledger,
                unit="条",
                where=[*(spec.get("where") or []), *filled],
                status=spec.get("status", ind.status),
            )
        return out
    for (side, word), key in zip(SIDES.items(), part_keys(ind), strict=True):
        spec = _side(ind, side)
        if not isinstance(spec, dict) or ledgers.get(str(spec.get("ledger"))) is None:
            continue
        out[key] = _part(
            ind,
            key,
            f"{ind.label}（{word}）",
            ledgers[str(spec["ledger"])],
            aggregate=spec.get("aggregate", "count"),
            field=spec.get("field", ""),
            where=spec.get("where", []),
            status=spec.get("status", ind.status),
            org_kinds=spec.get("org_kinds", ind.org_kinds),
            scope=spec.get("scope", ind.scope),
            period=spec.get("period", ind.period),
            options={k: spec[k] for k in SIDE_OPTIONS if k in spec},
        )
    return out


def _ledger_codes(ind: Any) -> set[str]:
    if ind.aggregate == PEOPLE:
        return {str(p.get("ledger")) for p in _people(ind) if isinstance(p, dict)}
    return {str(s.get("ledger")) for s in (_side(ind, side) for side in SIDES) if isinstance(s, dict)}


def with_parts(defs: dict[str, Indicator]) -> dict[str, Indicator]:
    """The definitions with the parts of every combined indicator added (one query for ledgers no other
    indicator uses: the rest come with the definitions)."""
    combined = [ind for ind in defs.values() if is_combined(ind)]
    if not combined:
        return defs
    ledgers = {ind.ledger.code: ind.ledger for ind in defs.values() if ind.ledger is not None}
    missing = set().union(*(_ledger_codes(ind) for ind in combined)) - set(ledgers)
    if missing:
        ledgers.update(
            {lt.code: lt for lt in LedgerType.objects.filter(code__in=missing).prefetch_related("fields")}
        )
    for ind in combined:
        defs.update(parts(ind, ledgers))
    return defs


# --- validation --------------------------------------------------------------------------------------------------


def definition_errors(ind: Any, known_keys: set[str] | None = None) -> list[str]:
    """Every problem with a people count or a ratio, in Chinese, naming the indicator (and the part)."""
    name = f"指标“{ind.key}”"
    errors: list[str] = []
    if ind.ledger is not None or ind.field:
        errors.append(
            f"{name}的汇总方式 {ind.aggregate} 在 people 或 numerator/denominator 中写台账，不能有 ledger、field"
        )
    options = ind.options or {}
    allowed = {"decimals"} | ({"people"} if ind.aggregate == PEOPLE else {"numerator", "denominator"})
    extra = set(options) - allowed
    if extra:
        errors.append(f"{name}（{ind.aggregate}）不能有：{'、'.join(sorted(extra))}")
    if "decimals" in options and (
        not isinstance(options["decimals"], int)
        or isinstance(options["decimals"], bool)
        or options["decimals"] < 0
    ):
        errors.append(f"{name}的 decimals 应为非负整数")
    if ind.aggregate == PEOPLE and ind.where:
        errors.append(f"{name}：跨台账人数的筛选条件写在 people 的各台账中（where），不能写在指标上")
    ledgers = {
        lt.code: lt
        for lt in LedgerType.objects.filter(code__in=_ledger_codes(ind)).prefetch_related("fields")
    }
    if ind.aggregate == PEOPLE:
        errors += _people_errors(ind, name, ledgers)
    else:
        errors += _ratio_errors(ind, name, ledgers, known_keys)
    if errors:
        return errors
    for key, part in parts(ind, ledgers).items():
        where = key.rsplit(PART, 1)[1]
        part.key = ind.key  # checked under the indicator's own key, named in the messages with the part
        for problem in compiler.definition_errors(part):
            errors.append(problem.replace(name, f"{name}的{where}", 1))
    return errors


def _people_errors(ind: Any, name: str, ledgers: Mapping[str, LedgerType]) -> list[str]:
    people = (ind.options or {}).get("people")
    if not isinstance(people, list) or not people or not all(isinstance(p, dict) for p in people):
        return [
            f"{name}：跨台账人数（count_people）需要 people = [{{ ledger = …, person = …, where = … }}, …]"
        ]
    errors: list[str] = []
    widths = set()
    for n, spec in enumerate(people, 1):
        where = f"{name}的 people 第 {n} 项"
        extra = set(spec) - PEOPLE_PART_KEYS
        if extra:
            errors.append(f"{where}含有未知属性：{'、'.join(sorted(extra))}")
        ledger = ledgers.get(str(spec.get("ledger")))
        if ledger is None:
            errors.append(f"{where}的台账“{spec.get('ledger', '')}”不存在")
            continue
        codes = _person_codes(spec)
        if not codes or not all(isinstance(c, str) for c in codes):
            errors.append(
                f'{where}（台账 {ledger.code}）缺少 person：识别人员的字段，如 person = ["name", "id_no"]'
            )
            continue
        widths.add(len(codes))
        fields = {f.code: f for f in ledger.fields.all()}
        for code in codes:
            spec_field = fields.get(code)
            if spec_field is None:
                errors.append(f"{where}的 person 字段“{code}”不是台账 {ledger.code}（{ledger.label}）的字段")
            elif spec_field.type not in PERSON_TYPES:
                errors.append(
                    f"{where}的 person 字段【{spec_field.label}】是{spec_field.get_type_display()}字段，"
                    "应为文本、人员、整数或单选字段"
                )
        if "where" in spec and not isinstance(spec["where"], list):
            errors.append(f"{where}的 where 应为条件列表")
    if len(widths) > 1:
        errors.append(f"{name}：各台账的 person 字段个数应相同（按位置对应，如都写 [姓名, 身份证号]）")
    return errors


def _ratio_errors(
    ind: Any, name: str, ledgers: Mapping[str, LedgerType], known_keys: set[str] | None
) -> list[str]:
    errors: list[str] = []
    if ind.where or ind.status:
        errors.append(f"{name}：比值的筛选条件写在 numerator、denominator 中，不能写在指标上")
    for side, word in SIDES.items():
        spec = _side(ind, side)
        where = f"{name}的{word}（{side}）"
        if isinstance(spec, str):
            if spec == ind.key:
                errors.append(f"{where}引用了它自己")
            elif known_keys is not None and spec not in known_keys:
                errors.append(f"{where}引用了不存在的指标：{spec}")
            continue
        if not isinstance(spec, dict):
            errors.append(f"{where}应为指标键，或 {{ ledger = …, aggregate = …, where = … }}")
            continue
        extra = set(spec) - SIDE_KEYS
        if extra:
            errors.append(f"{where}含有未知属性：{'、'.join(sorted(extra))}")
        if spec.get("aggregate", "count") in (*COMBINED, "list"):
            errors.append(f"{where}的汇总方式不能为 {spec.get('aggregate')}")
        if ledgers.get(str(spec.get("ledger"))) is None:
            errors.append(f"{where}的台账“{spec.get('ledger', '')}”不存在")
    return errors


def reference_errors(ind: Any, known: set[str]) -> list[str]:
    """A ratio's sides given as keys must name known indicators (checked once the whole catalogue is known)."""
    name = f"指标“{ind.key}”"
    return [
        f"{name}的{SIDES[side]}（{side}）引用了不存在的指标：{spec}"
        for side in SIDES
        if isinstance(spec := _side(ind, side), str) and spec not in known
    ]


# --- values ------------------------------------------------------------------------------------------------------


def refusal(ind: Any, defs: Mapping[str, Indicator], viewer: Any) -> str:
    """Why `viewer` may not have this people count at all ("" when he may): one of its ledgers is confidential
    and the viewer may not see its rows (see the module docstring)."""
    if viewer is None or ind.aggregate != PEOPLE:
        return ""
    for key in part_keys(ind):
        part = defs.get(key)
        if part is not None and part.ledger is not None and access.outsider(viewer, part.ledger) is not None:
            return (
                f"“{part.ledger.label}”为涉密台账，跨台账的不重复人数只提供给能查看其明细的人员"
                "（与其他台账的人数相减可以推算出某人是否在该台账中）"
            )
    return ""


def people_queryset(
    ind: Any, defs: Mapping[str, Indicator], org: Organization, start: dt.date, end: dt.date
) -> Any:
    """The distinct people of every part, as one UNION of (person fields…) rows."""
    union: Any = None
    for key, spec in zip(part_keys(ind), _people(ind), strict=True):
        part = defs[key]
        assert part.ledger is not None
        fields = {f.code: f for f in part.ledger.fields.all()}
        names = {f"p{i}": Upper(Trim(text(code))) for i, code in enumerate(_person_codes(spec))}
        rows = (
            compiler.base_records(part.ledger, org)
            .filter(compiler.evidence_q(part, org, start, end, fields))
            .annotate(**names)
            .values_list(*names)
            .order_by()
        )
        union = rows if union is None else union.union(rows)
    return union.distinct() if len(part_keys(ind)) == 1 else union


def value(
    ind: Indicator,
    tag: str,
    values: Mapping[str, Any],
    defs: Mapping[str, Indicator],
    org: Organization,
    start: dt.date,
    end: dt.date,
    viewer: Any,
) -> Any:
    """The engine's Value of a combined indicator, its parts already in `values` (with the same prefix)."""
    from .engine import Value

    prefix = tag[: len(tag) - len(ind.key)]
    got = [values.get(prefix + key) for key in part_keys(ind)]

    def empty(note: str, *, refused: str = "", incomputable: bool = False) -> Value:
        return Value(
            tag, ind.label, ind.unit, ind.aggregate, None, note, refused=refused, incomputable=incomputable
        )

    withheld = refusal(ind, defs, viewer) or next((g.refused for g in got if g is not None and g.refused), "")
    if withheld:
        return empty(withheld, refused=withheld)
    counts = [g.evidence_count for g in got if g is not None]
    evidence = sum(c or 0 for c in counts) if any(c is not None for c in counts) else None
    if ind.aggregate == PEOPLE:
        people = people_queryset(ind, defs, org, start, end).count()
        note = "" if people else "没有符合条件的记录"
        return Value(tag, ind.label, ind.unit, PEOPLE, people, note, evidence)
    (num, den), (num_key, den_key) = got, part_keys(ind)
    for side, key, have in (("分子", num_key, num), ("分母", den_key, den)):
        if have is None or have.value is None:
            why = have.note if have is not None and have.note else "没有值"
            label = have.label if have is not None else key
            return empty(f"{INCOMPUTABLE}：{side}“{label}”{why}", incomputable=True)
    assert num is not None and den is not None
    try:
        top, bottom = Decimal(str(num.value)), Decimal(str(den.value))
    except (InvalidOperation, ValueError):
        return empty(f"{INCOMPUTABLE}：分子或分母不是数字", incomputable=True)
    if bottom == 0:
        return empty(f"{INCOMPUTABLE}：分母“{den.label}”为 0", incomputable=True)
    places = (ind.options or {}).get("decimals", compiler.DEFAULT_DECIMALS)
    return Value(tag, ind.label, ind.unit, RATIO, compiler.quantize(top / bottom, places), "", evidence)


def evidence_records(
    ind: Any, defs: Mapping[str, Indicator], org: Organization, start: dt.date, end: dt.date
) -> QuerySet[Record]:
    """The records behind a combined value: those of every part (both sides of a ratio), across ledgers."""
    q = Q(pk__in=[])
    for key in part_keys(ind):
        part = defs.get(key)
        if part is not None and part.kind == Kind.AGGREGATE and part.ledger is not None:
            q |= Q(pk__in=compiler.evidence_queryset(part, org, start, end).values("pk"))
    return Record.objects.filter(q)


# --- checks over overlapping categories (重叠类别) -------------------------------------------------------------------


def overlap_rule(total: str, parts: Any, overlap: str, defs: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The rule “total = parts ± overlap” as the pack's declaration says it: `overlap` counts one option of a choice
    field (双重处分); when the field declares that option part of others (overlaps), each part counting one of
    those already holds it, so it is taken off once for every such part but one (处分 = 党纪 + 政务 − 双重); when
    it does not, the option is a third kind and is added (处分 = 党纪 + 政务 + 双重). Returns (rule, problems)."""
    if not isinstance(parts, list) or not parts or not all(isinstance(p, str) for p in parts):
        return "", ['parts 应为指标键列表，如 ["纪律.党纪处分", "纪律.政务处分"]']
    missing = [k for k in (total, *parts, overlap) if k not in defs]
    if missing:
        return "", [f"引用了不存在的指标：{'、'.join(missing)}"]
    ov = defs[overlap]
    option = _counted_option(ov)
    if option is None:
        return "", [
            f"overlap 指标“{overlap}”应为按单选或多选字段某一选项计数的台账指标"
            '（如 where = [{ field = "kind", op = "=", value = "双重处分" }]）'
        ]
    field, value = option
    targets = (field.overlaps or {}).get(value, [])
    holding = 0
    for key in parts:
        part = defs[key]
        if part.ledger_id != ov.ledger_id or not targets:
            continue
        for cond in part.where or []:
            asked = cond.get("value") if isinstance(cond.get("value"), list) else [cond.get("value")]
            if (
                cond.get("field") == field.code
                and cond.get("op") in ("=", "in")
                and set(asked) & set(targets)
            ):
                holding += 1
                break
    rule = f"{total} == {' + '.join(parts)}"
    if not holding:
        rule += f" + {overlap}"
    elif holding == 2:
        rule += f" - {overlap}"
    elif holding > 2:
        rule += f" - {holding - 1} * {overlap}"
    return rule, []


def _counted_option(ind: Any) -> tuple[Any, str] | None:
    """(field, option) when `ind` counts the records of one option of a choice field."""
    if getattr(ind, "kind", "") != Kind.AGGREGATE or ind.ledger is None or ind.aggregate != "count":
        return None
    fields = {f.code: f for f in ind.ledger.fields.all()}
    for cond in ind.where or []:
        spec = fields.get(cond.get("field"))
        value = cond.get("value")
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if (
            spec is not None
            and spec.type in ("choice", "multichoice")
            and cond.get("op") in ("=", "in")
            and isinstance(value, str)
        ):
            return spec, value
    return None
