"""Section handlers for the indicators stage: `indicators` (order 30) and `checks` (order 40).

Loading is idempotent (update_or_create by key / code). A definition the pack no longer lists is removed, so the
pack stays the one source of truth for its definitions; definitions made in the admin pages (no pack) are kept.
Every problem is reported at once, in Chinese, naming the indicator or rule.
"""

from __future__ import annotations

from typing import Any

from dangjian.indicators import crossledger, formulas, versions
from dangjian.indicators.compiler import WINDOW_OPTIONS, definition_errors
from dangjian.indicators.models import Check, Indicator, Kind, Level
from dangjian.records.models import LedgerType

from .handlers import owned_elsewhere
from .loader import Pack, PackError, section

INDICATOR_KEYS = {
    "key", "label", "unit", "description", "ledger", "aggregate", "field", "where", "status", "org_kinds", "scope",
    "period", "share_where", "age_at", "order", "limit", "decimals", "disclose", "formula", "attribute",
    *WINDOW_OPTIONS, "group_by", "order_by", *crossledger.OPTION_KEYS,
}  # fmt: skip
OPTION_KEYS = (
    "share_where", "age_at", "order", "limit", "decimals", "disclose", *WINDOW_OPTIONS, "group_by", "order_by",
    *crossledger.OPTION_KEYS,
)  # fmt: skip
CHECK_KEYS = {"code", "label", "rule", "level", "message", *crossledger.CHECK_KEYS}


def _fail(pack: Pack, what: str, errors: list[str]) -> PackError:
    shown = errors[:30]
    more = f"\n……另有 {len(errors) - len(shown)} 处" if len(errors) > len(shown) else ""
    return PackError(f"数据包 {pack.name} 的{what}有 {len(errors)} 处错误：\n- " + "\n- ".join(shown) + more)


def _indicator(item: dict[str, Any], ledgers: dict[str, LedgerType], errors: list[str]) -> Indicator | None:
    key = item.get("key", "")
    name = f"指标“{key}”"
    if not key or "label" not in item:
        errors.append(f"指标 {item} 缺少 key 或 label")
        return None
    extra = set(item) - INDICATOR_KEYS
    if extra:
        errors.append(f"{name}含有未知属性：{'、'.join(sorted(extra))}")
    ways: list[str] = [w for w in ("ledger", "formula", "attribute") if w in item]
    if item.get("aggregate") in crossledger.COMBINED:  # its ledgers are in people / numerator / denominator
        ways = [*ways, "aggregate"]
        if ways != ["aggregate"]:
            errors.append(f"{name}的汇总方式 {item['aggregate']} 不能有 {'、'.join(ways[:-1])}")
            return None
    if len(ways) != 1:
        errors.append(f"{name}应当且只能有 ledger、formula、attribute 三者之一")
        return None
    ind = Indicator(
        key=key,
        label=item["label"],
        unit=item.get("unit", ""),
        description=item.get("description", ""),
        where=item.get("where", []),
        status=item.get("status", []),
        org_kinds=item.get("org_kinds", []),
        scope=item.get("scope", "subtree"),
        period=item.get("period", "within"),
        options={k: item[k] for k in OPTION_KEYS if k in item},
        formula=item.get("formula", ""),
        attribute=item.get("attribute", ""),
    )
    if ways == ["aggregate"]:
        ind.kind, ind.aggregate = Kind.AGGREGATE, item["aggregate"]
        ind.field = item.get("field", "")
    elif ways == ["ledger"]:
        ind.kind = Kind.AGGREGATE
        ind.ledger = ledgers.get(item["ledger"])
        if ind.ledger is None:
            errors.append(f"{name}的台账“{item['ledger']}”不存在")
            return None
        ind.aggregate = item.get("aggregate", "count")
        ind.field = item.get("field", "")
    else:
        ind.kind = Kind.FORMULA if ways == ["formula"] else Kind.ATTRIBUTE
        for key_ in ("aggregate", "field", "where", "status", "org_kinds", "scope", "period", *OPTION_KEYS):
            # org_kinds: the attribute org.units counts the units of those kinds (definition_errors checks it)
            allowed = ("decimals", "org_kinds") if ind.kind == Kind.ATTRIBUTE else ("decimals",)
            if key_ in item and key_ not in allowed:
                errors.append(f"{name}是{ind.get_kind_display()}，不能有 {key_}")
    # Formulas are checked once every indicator of the pack is known (they may name later ones).
    if ind.kind != Kind.FORMULA:
        errors += definition_errors(ind)
    else:
        try:
            formulas.parse(ind.formula)
        except formulas.FormulaError as exc:
            errors.append(f"{name}的公式：{exc}")
        problem = formulas.key_error(key)
        if problem:
            errors.append(problem)
    return ind


FIELDS = (
    "label", "unit", "description", "kind", "ledger", "aggregate", "field", "where", "status", "org_kinds", "scope",
    "period", "options", "formula", "attribute",
)  # fmt: skip


@section("indicators", order=30)
def load_indicators(items: list[dict[str, Any]], pack: Pack) -> int:
    ledgers = {lt.code: lt for lt in LedgerType.objects.prefetch_related("fields")}
    errors: list[str] = []
    seen: set[str] = set()
    parsed: list[Indicator] = []
    for item in items:
        if item.get("key") in seen:
            errors.append(f"指标“{item['key']}”重复定义")
            continue
        seen.add(item.get("key", ""))
        ind = _indicator(item, ledgers, errors)
        if ind is not None:
            parsed.append(ind)
    owners = dict(Indicator.objects.filter(key__in=seen).exclude(pack=pack.name).values_list("key", "pack"))
    errors += [owned_elsewhere("指标", key, owner, pack) for key, owner in sorted(owners.items())]
    # 报告参数 share the catalogue of keys (see indicators/parameters.py): a pack's parameter is not its indicator.
    same = Indicator.objects.filter(key__in=seen, pack=pack.name, kind=Kind.PARAMETER)
    errors += [f"指标“{key}”与本数据包的报告参数同名" for key in same.values_list("key", flat=True)]
    if errors:
        raise _fail(pack, "指标", errors)

    kept = _staff_versions_kept(parsed, pack)
    for ind in parsed:
        if ind.key in kept:
            continue
        Indicator.objects.update_or_create(
            key=ind.key, defaults={"pack": pack.name, **{f: getattr(ind, f) for f in FIELDS}}
        )
    Indicator.objects.filter(pack=pack.name).exclude(key__in=seen | kept).exclude(
        kind=Kind.PARAMETER
    ).delete()

    # Whole-catalogue checks: names resolve, no key is another's namespace, no formula cycle.
    catalogue = list(Indicator.objects.all())
    known = {i.key for i in catalogue}
    errors += formulas.key_conflicts(known)
    for ind in catalogue:
        if ind.kind == Kind.FORMULA:
            errors += [e for e in definition_errors(ind, known_keys=known) if "公式" in e]
        elif crossledger.is_combined(ind):  # a ratio's sides given as keys
            errors += crossledger.reference_errors(ind, known)
    if not errors:
        try:
            order = {
                i.key: [
                    formulas.split(n)[1] for n in formulas.parse(i.formula)[1] if not formulas.split(n)[0]
                ]
                for i in catalogue
                if i.kind == Kind.FORMULA
            }
            order.update({i.key: crossledger.references(i) for i in catalogue if crossledger.is_combined(i)})
            formulas.order(order)
        except formulas.FormulaError as exc:
            errors.append(str(exc))
    if errors:
        raise _fail(pack, "指标", errors)
    return len(parsed)


# --- indicator builder: staff's web versions survive pack loading, and the builder validates as a pack does -------


def _staff_versions_kept(parsed: list[Indicator], pack: Pack) -> set[str]:
    """Keys of this pack whose definition staff changed in the web: their row keeps the staff version (neither
    overwritten nor removed); the pack's definition is remembered as the 内置原文 the page offers to adopt."""
    return versions.keep_web_edits(pack.name, parsed)


def parse_indicator(item: dict[str, Any]) -> tuple[Indicator | None, list[str]]:
    """One [[indicators]] table read exactly as a pack's is (the builder's save and preview use this): the unsaved
    Indicator, and every problem in Chinese. The catalogue checks (formula names, cycles) are Indicator.clean()."""
    errors: list[str] = []
    ledgers = {lt.code: lt for lt in LedgerType.objects.prefetch_related("fields")}
    ind = _indicator(item, ledgers, errors)
    return ind, errors


def check_problems(item: dict[str, Any], known: set[str], position: int = 1) -> list[str]:
    """Every problem with one [[checks]] table, in Chinese, naming the rule: for the pack loader and the web's
    check form alike. `known`: the indicator keys a rule may name."""
    name = f"核对规则“{item.get('code') or item.get('label') or position}”"
    missing = [k for k in ("code", "label", "rule", "message") if not item.get(k)]
    if missing:
        return [f"{name}缺少 {'、'.join(missing)}"]
    errors = []
    extra = set(item) - CHECK_KEYS
    if extra:
        errors.append(f"{name}含有未知属性：{'、'.join(sorted(extra))}")
    level = item.get("level", "error")
    if level not in Level.values:
        errors.append(f"{name}的级别“{level}”不存在，可用：error、warning")
    errors += [f"{name}：{e}" for e in formulas.rule_errors(item["rule"], known)]
    return errors


def _staff_check_versions_kept(items: list[dict[str, Any]], pack: Pack) -> set[str]:
    """Codes of this pack's checks whose staff version stays (see _staff_versions_kept)."""
    checks = [
        Check(
            code=i["code"],
            label=i["label"],
            rule=i["rule"],
            level=i.get("level", "error"),
            message=i["message"],
        )
        for i in items
    ]
    return versions.keep_web_check_edits(pack.name, checks)


def _overlap_rules(items: list[dict[str, Any]], errors: list[str]) -> list[dict[str, Any]]:
    """Checks written as total / parts / overlap (重叠类别) get their rule from the declaration of the overlapping
    option (crossledger.overlap_rule): + overlap for a third kind, − overlap when the parts already hold it."""
    if not any("overlap" in item or "parts" in item or "total" in item for item in items):
        return items
    from dangjian.indicators.engine import definitions

    defs = definitions()
    out = []
    for i, item in enumerate(items):
        given = [k for k in crossledger.CHECK_KEYS if k in item]
        if not given:
            out.append(item)
            continue
        name = f"核对规则“{item.get('code') or i + 1}”"
        if "rule" in item or len(given) != len(crossledger.CHECK_KEYS):
            errors.append(
                f"{name}：total、parts、overlap 三者都要写，且不能再写 rule（规则按重叠类别的声明生成）"
            )
            continue
        rule, problems = crossledger.overlap_rule(
            str(item["total"]), item["parts"], str(item["overlap"]), defs
        )
        errors += [f"{name}：{p}" for p in problems]
        if rule:
            out.append({k: v for k, v in item.items() if k not in crossledger.CHECK_KEYS} | {"rule": rule})
    return out


@section("checks", order=40)
def load_checks(items: list[dict[str, Any]], pack: Pack) -> int:
    known = set(Indicator.objects.values_list("key", flat=True))
    errors: list[str] = []
    items = _overlap_rules(items, errors)
    if errors:
        raise _fail(pack, "核对规则", errors)
    codes: list[str] = []
    for i, item in enumerate(items):
        code = item.get("code", "")
        problems = check_problems(item, known, i + 1)
        if problems and not all(k in item for k in ("code", "label", "rule", "message")):
            errors += problems
            continue
        if code in codes:
            errors.append(f"核对规则“{code}”重复定义")
            continue
        codes.append(code)
        errors += problems
    owners = dict(Check.objects.filter(code__in=codes).exclude(pack=pack.name).values_list("code", "pack"))
    errors += [owned_elsewhere("核对规则", code, owner, pack) for code, owner in sorted(owners.items())]
    if errors:
        raise _fail(pack, "核对规则", errors)
    kept = _staff_check_versions_kept(items, pack)
    for i, item in enumerate(items):
        if item["code"] in kept:
            continue
        Check.objects.update_or_create(
            code=item["code"],
            defaults={
                "label": item["label"],
                "rule": item["rule"],
                "level": item.get("level", "error"),
                "message": item["message"],
                "pack": pack.name,
                "order": i,
            },
        )
    Check.objects.filter(pack=pack.name).exclude(code__in=set(codes) | kept).delete()
    return len(items)
