"""Section handlers for the foundation: org kinds and ledger types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dangjian.ledgers.models import FieldType, LedgerField, LedgerType
from dangjian.orgs.models import Organization, OrgKind

from .loader import Pack, PackError, section


@section("org_kinds", order=10)
def load_org_kinds(items: list[dict[str, Any]], pack: Pack) -> int:
    for i, item in enumerate(items):
        OrgKind.objects.update_or_create(code=item["code"], defaults={"label": item["label"], "order": item.get("order", i)})
    return len(items)


@section("ledger_types", order=20)
def load_ledger_types(items: list[dict[str, Any]], pack: Pack) -> int:
    for i, item in enumerate(items):
        load_ledger_type(item, pack, i)
    return len(items)


FIELD_KEYS = {"code", "label", "type", "required", "choices", "min", "max", "unit", "help", "sensitive", "key"}


def load_ledger_type(item: dict[str, Any], pack: Pack, order: int) -> LedgerType:
    code = item["code"]
    fields = item.get("fields", [])
    codes = [f["code"] for f in fields]
    for key in ("date_field", "end_date_field"):
        if item.get(key) and item[key] not in codes:
            raise PackError(f"台账 {code} 的 {key}“{item[key]}”不是它的字段")
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
        },
    )
    ledger_type.confidential_kinds.set(OrgKind.objects.filter(code__in=item.get("confidential_kinds", [])))
    ledger_type.confidential_orgs.set(Organization.objects.filter(code__in=item.get("confidential_orgs", [])))
    for i, spec in enumerate(fields):
        extra = set(spec) - FIELD_KEYS
        if extra:
            raise PackError(f"台账 {code} 字段 {spec.get('code')} 含有未知属性：{'、'.join(sorted(extra))}")
        if spec["type"] not in FieldType.values:
            raise PackError(f"台账 {code} 字段 {spec['code']} 的类型“{spec['type']}”不存在")
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
            },
        )
    # A field dropped from the pack is archived, never deleted: stored values stay readable.
    ledger_type.fields.exclude(code__in=codes).update(is_archived=True)
    return ledger_type
