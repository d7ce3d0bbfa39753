"""Section handlers for the foundation: org kinds and ledger types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dangjian.orgs.models import Organization, OrgKind
from dangjian.records import workflow_definition
from dangjian.records.models import FieldType, LedgerField, LedgerType

from .loader import Pack, PackError, section


def _require(item: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if k not in item]
    if missing:
        raise PackError(f"{where} 缺少：{'、'.join(missing)}")


def _no_extra(item: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = set(item) - allowed
    if extra:
        raise PackError(f"{where} 含有未知属性：{'、'.join(sorted(extra))}")


@section("org_kinds", order=10)
def load_org_kinds(items: list[dict[str, Any]], pack: Pack) -> int:
    for i, item in enumerate(items):
        where = f"数据包 {pack.name} 的第 {i + 1} 个组织类别"
        _require(item, ("code", "label"), where)
        _no_extra(item, {"code", "label", "order"}, where)
        OrgKind.objects.update_or_create(
            code=item["code"], defaults={"label": item["label"], "order": item.get("order", i)}
        )
    return len(items)


@section("ledger_types", order=20)
def load_ledger_types(items: list[dict[str, Any]], pack: Pack) -> int:
    for i, item in enumerate(items):
        load_ledger_type(item, pack, i)
    return len(items)


FIELD_KEYS = {"code", "label", "type", "required", "choices", "min", "max", "unit", "help", "sensitive", "key"}  # fmt: skip
LEDGER_KEYS = {
    "code", "label", "category", "description", "date_field", "end_date_field", "confidential_kinds",
    "confidential_orgs", "order", "fields", "workflow",
}  # fmt: skip


def load_ledger_type(item: dict[str, Any], pack: Pack, order: int) -> LedgerType:
    _require(item, ("code", "label", "date_field"), f"数据包 {pack.name} 的第 {order + 1} 个台账")
    code = item["code"]
    _no_extra(item, LEDGER_KEYS, f"台账 {code}")
    fields = item.get("fields", [])
    for i, spec in enumerate(fields):
        where = f"台账 {code} 字段 {spec.get('code', f'第 {i + 1} 个')}"
        _require(spec, ("code", "label", "type"), where)
        _no_extra(spec, FIELD_KEYS, where)
        if spec["type"] not in FieldType.values:
            raise PackError(f"{where} 的类型“{spec['type']}”不存在，可用：{'、'.join(FieldType.values)}")
    codes = [f["code"] for f in fields]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise PackError(f"台账 {code} 的字段代码重复：{'、'.join(duplicates)}")
    types = {f["code"]: f["type"] for f in fields}
    for key, label in (("date_field", "日期字段"), ("end_date_field", "截止日期字段")):
        if item.get(key) and item[key] not in codes:
            raise PackError(f"台账 {code} 的{label}“{item[key]}”不是它的字段")
        if item.get(key) and types[item[key]] != FieldType.DATE:
            raise PackError(f"台账 {code} 的{label}“{item[key]}”不是日期型字段")
    flow = item.get("workflow", {})
    if not isinstance(flow, dict):
        raise PackError(f"台账 {code} 的 workflow 应为表")
    if flow:
        try:
            workflow_definition.parse(flow, types)
        except workflow_definition.WorkflowError as exc:
            raise PackError(f"台账 {code} 的清单流程（workflow）：{exc}") from None
    ledger_type, _ = LedgerType.objects.update_or_create(
        code=code,
        defaults={
            "label": item["label"],
            "category": item.get("category", "其他"),
            "description": item.get("description", ""),
            "date_field": item["date_field"],
            "end_date_field": item.get("end_date_field", ""),
            "confidential": bool(item.get("confidential_kinds") or item.get("confidential_orgs")),
            "order": item.get("order", order),
            "pack": pack.name,
            "workflow": flow,
        },
    )
    ledger_type.confidential_kinds.set(OrgKind.objects.filter(code__in=item.get("confidential_kinds", [])))
    ledger_type.confidential_orgs.set(Organization.objects.filter(code__in=item.get("confidential_orgs", [])))
    for i, spec in enumerate(fields):
        LedgerField.objects.update_or_create(
            ledger_type=ledger_type,
            code=spec["code"],
            defaults={
                "label": spec["label"],
                "type": spec["type"],
                "required": spec.get("required", False),
                "choices": spec.get("choices", []),
                "min_value": Decimal(str(spec["min"])) if "min" in spec else None,
                "max_value": Decimal(str(spec["max"])) if "max" in spec else None,
                "unit": spec.get("unit", ""),
                "help_text": spec.get("help", ""),
                "sensitive": spec.get("sensitive", False),
                "is_key": spec.get("key", False),
                "order": i,
                "is_archived": False,
                "from_pack": True,
            },
        )
    # A field dropped from the pack is archived, never deleted: stored values stay readable. Fields that an
    # administrator added by hand are not the pack's to archive.
    ledger_type.fields.filter(from_pack=True).exclude(code__in=codes).update(is_archived=True)
    return ledger_type
