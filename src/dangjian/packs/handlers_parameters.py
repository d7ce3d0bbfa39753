"""Section handler for 报告参数: `[[parameters]]` (order 25, before the indicators that may read them in formulas).

Loading is idempotent (by key). A parameter the pack no longer lists is removed with its entered values only when
none was entered; otherwise loading is refused (values people typed in are never dropped silently). Parameters
made in the web (no pack) are kept. A key owned by another pack — as a parameter or as an indicator — is refused,
naming both packs. Every problem is reported at once, in Chinese, naming the parameter.
"""

from __future__ import annotations

from typing import Any

from dangjian.indicators import parameters
from dangjian.indicators.models import Indicator, Kind, Parameter, ParameterValue

from .handlers import owned_elsewhere
from .loader import Pack, PackError, section

PARAMETER_KEYS = {
    "key", "label", "unit", "type", "role", "total", "max_digits", "decimals", "max_length", "description",
}  # fmt: skip
DEFAULTS: dict[str, Any] = {
    "unit": "",
    "type": "integer",
    "role": "clerk",
    "total": "self",
    "max_digits": 12,
    "decimals": 2,
    "max_length": 200,
    "description": "",
}


def _fail(pack: Pack, errors: list[str]) -> PackError:
    shown = errors[:30]
    more = f"\n……另有 {len(errors) - len(shown)} 处" if len(errors) > len(shown) else ""
    return PackError(
        f"数据包 {pack.name} 的报告参数有 {len(errors)} 处错误：\n- " + "\n- ".join(shown) + more
    )


def _spec(item: dict[str, Any], errors: list[str]) -> dict[str, Any] | None:
    key = item.get("key", "")
    if not isinstance(key, str) or not key or not isinstance(item.get("label"), str):
        errors.append(f"报告参数 {item} 缺少 key 或 label")
        return None
    extra = set(item) - PARAMETER_KEYS
    if extra:
        errors.append(f"报告参数“{key}”含有未知属性：{'、'.join(sorted(extra))}")
    spec = {**DEFAULTS, **{k: v for k, v in item.items() if k in PARAMETER_KEYS}}
    for text in ("label", "unit", "type", "role", "total", "description"):
        if not isinstance(spec[text], str):
            errors.append(f"报告参数“{key}”的 {text} 应为文本")
            return None
    problems = parameters.definition_errors(**spec)
    errors += list(problems.values())
    return None if problems else spec


@section("parameters", order=25)
def load_parameters(items: list[dict[str, Any]], pack: Pack) -> int:
    errors: list[str] = []
    specs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in items:
        key = item.get("key", "")
        if key in seen:
            errors.append(f"报告参数“{key}”重复定义")
            continue
        seen.add(key)
        spec = _spec(item, errors)
        if spec is not None:
            specs.append(spec)
    for key, owner, kind in Indicator.objects.filter(key__in=seen).values_list("key", "pack", "kind"):
        if owner != pack.name:
            errors.append(owned_elsewhere("指标" if kind != Kind.PARAMETER else "报告参数", key, owner, pack))
        elif kind != Kind.PARAMETER:
            errors.append(f"报告参数“{key}”与本数据包的指标同名")
    gone = list(
        Parameter.objects.filter(indicator__pack=pack.name)
        .exclude(indicator__key__in=seen)
        .select_related("indicator")
    )
    kept = set(
        ParameterValue.objects.filter(parameter__in=gone).values_list("parameter__indicator__key", flat=True)
    )
    errors += [
        f"报告参数“{key}”已有填报值，数据包 {pack.name} 不再定义它：请保留其定义（填报值不会被删除）"
        for key in sorted(kept)
    ]
    if errors:
        raise _fail(pack, errors)
    for spec in specs:
        try:
            parameters.define(**spec, pack=pack.name)
        except parameters.ParameterInvalid as exc:
            errors += list(exc.errors.values())
    if errors:
        raise _fail(pack, errors)
    parameters.remove(gone)
    return len(specs)
