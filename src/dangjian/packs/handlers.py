"""Section handlers for the foundation: org kinds and ledger types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dangjian.orgs.models import Organization, OrgKind
from dangjian.records import rules, workflow_definition
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


FIELD_KEYS = {
    "code", "label", "type", "required", "choices", "min", "max", "unit", "help", "sensitive", "key", "overlaps",
}  # fmt: skip
LEDGER_KEYS = {
    "code", "label", "category", "description", "date_field", "end_date_field", "confidential_kinds",
    "confidential_orgs", "order", "fields", "workflow", "rules", "kept_by",
}  # fmt: skip


def _check_field_spec(spec: dict[str, Any], where: str) -> None:
    """A field as a pack declares it (in its own ledger or in an extension): its keys and an existing type."""
    _require(spec, ("code", "label", "type"), where)
    _no_extra(spec, FIELD_KEYS, where)
    if spec["type"] not in FieldType.values:
        raise PackError(f"{where} 的类型“{spec['type']}”不存在，可用：{'、'.join(FieldType.values)}")
    from dangjian.indicators.compiler import overlap_errors  # 重叠类别: how indicators count an option

    problems = overlap_errors(where, spec.get("overlaps"), list(spec.get("choices", [])), spec["type"])
    if problems:
        raise PackError("；".join(problems))


def load_ledger_type(item: dict[str, Any], pack: Pack, order: int) -> LedgerType:
    _require(item, ("code", "label", "date_field"), f"数据包 {pack.name} 的第 {order + 1} 个台账")
    code = item["code"]
    _no_extra(item, LEDGER_KEYS, f"台账 {code}")
    fields = item.get("fields", [])
    for i, spec in enumerate(fields):
        _check_field_spec(spec, f"台账 {code} 字段 {spec.get('code', f'第 {i + 1} 个')}")
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
    kept_by = item.get("kept_by", [])
    known_kinds = set(OrgKind.objects.values_list("code", flat=True))
    if not isinstance(kept_by, list) or any(k not in known_kinds for k in kept_by):
        raise PackError(
            f"台账 {code} 的 kept_by 应为组织类别代码的列表，可用：{'、'.join(sorted(known_kinds))}"
        )
    try:
        rules.parse(item.get("rules", []), types, f"台账 {code} ")
    except rules.RuleError as exc:
        raise PackError(str(exc)) from None
    owner = LedgerType.objects.filter(code=code).values_list("pack", flat=True).first()
    if owner is not None and owner != pack.name:
        raise PackError(owned_elsewhere("台账", code, owner, pack))
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
            "rules": item.get("rules", []),
            "kept_by": kept_by,
        },
    )
    ledger_type.confidential_kinds.set(OrgKind.objects.filter(code__in=item.get("confidential_kinds", [])))
    ledger_type.confidential_orgs.set(Organization.objects.filter(code__in=item.get("confidential_orgs", [])))
    # What other packs added by [[extends]] stays: their fields are theirs, their choices follow the owner's.
    extended = ledger_type.extensions or {}
    added_choices: dict[str, list[str]] = {}
    for ext in extended.values():
        for field_code, values in ext.get("choices", {}).items():
            added_choices.setdefault(field_code, []).extend(values)
    for i, spec in enumerate(fields):
        own = list(spec.get("choices", []))
        LedgerField.objects.update_or_create(
            ledger_type=ledger_type,
            code=spec["code"],
            defaults={
                "label": spec["label"],
                "type": spec["type"],
                "required": spec.get("required", False),
                "choices": own + [c for c in added_choices.get(spec["code"], []) if c not in own],
                "min_value": Decimal(str(spec["min"])) if "min" in spec else None,
                "max_value": Decimal(str(spec["max"])) if "max" in spec else None,
                "unit": spec.get("unit", ""),
                "help_text": spec.get("help", ""),
                "sensitive": spec.get("sensitive", False),
                "is_key": spec.get("key", False),
                "overlaps": spec.get("overlaps", {}),
                "order": i,
                "is_archived": False,
                "from_pack": True,
            },
        )
    # A field dropped from the pack is archived, never deleted: stored values stay readable. Fields that an
    # administrator added by hand are not the pack's to archive.
    theirs = [c for ext in extended.values() for c in ext.get("fields", [])]
    ledger_type.fields.filter(from_pack=True).exclude(code__in=codes + theirs).update(is_archived=True)
    return ledger_type


def owned_elsewhere(what: str, key: str, owner: str, pack: Pack) -> str:
    """“台账“x”已由数据包 core（core/pack.toml）定义，数据包 mine 不能重新定义” — both packs and files named."""
    from .loader import find_definition

    if not owner:
        return f"{what}“{key}”已在网页或系统管理中建立，不属于任何数据包，数据包 {pack.name} 不能重新定义"
    where = find_definition(owner, key)
    mine = find_definition(pack.name, key, pack)
    return (
        f"{what}“{key}”已由数据包 {owner}{f'（{where}）' if where else ''}定义，"
        f"数据包 {pack.name}{f'（{mine}）' if mine else ''}不能重新定义"
    )


EXTENSION_FIELD_ORDER = 1000  # an extension's fields come after the owner's


@section("extends", order=25)
def load_extensions(items: list[dict[str, Any]], pack: Pack) -> int:
    """[[extends]] ledger = "core:study_activity": new fields and new choices for another pack's ledger, recorded
    on the ledger (LedgerType.extensions) so that its owner's reload keeps them and the pack list shows them."""
    from .validate import head_key, reserved_labels

    done = set()
    for i, item in enumerate(items):
        where = f"数据包 {pack.name} 的第 {i + 1} 个扩展"
        _require(item, ("ledger",), where)
        _no_extra(item, {"ledger", "choices", "fields"}, where)
        owner, _, code = str(item["ledger"]).partition(":")
        lt = LedgerType.objects.filter(code=code).prefetch_related("fields").first()
        if lt is None or lt.pack != owner or owner == pack.name:
            raise PackError(f"{where}：数据包 {owner} 没有台账“{code}”")
        done.add(lt.pk)
        extensions = dict(lt.extensions or {})
        before = extensions.get(pack.name, {"fields": [], "choices": {}})
        others = {name: ext for name, ext in extensions.items() if name != pack.name}
        taken = {c for ext in others.values() for c in ext.get("fields", [])}
        existing = {f.code: f for f in lt.fields.all()}
        new_fields = item.get("fields", [])
        reserved = reserved_labels(bool(lt.workflow))
        for j, spec in enumerate(new_fields):
            fwhere = f"{where}的字段 {spec.get('code', j + 1)}"
            _check_field_spec(spec, fwhere)
            if spec.get("required") or spec.get("key"):
                raise PackError(f"{fwhere}：扩展别的数据包的台账时不能增加必填或查重关键字段")
            if head_key(spec["label"]) in reserved:
                raise PackError(f"{fwhere}：字段名称“{spec['label']}”是保留的表头")
            field = existing.get(spec["code"])
            if spec["code"] in taken or (field is not None and spec["code"] not in before.get("fields", [])):
                raise PackError(
                    f"{fwhere}：台账“{code}”已有字段“{spec['code']}”，扩展不能修改、改类型或删除别的数据包的字段"
                )
            LedgerField.objects.update_or_create(
                ledger_type=lt,
                code=spec["code"],
                defaults={
                    "label": spec["label"],
                    "type": spec["type"],
                    "required": False,
                    "choices": spec.get("choices", []),
                    "min_value": Decimal(str(spec["min"])) if "min" in spec else None,
                    "max_value": Decimal(str(spec["max"])) if "max" in spec else None,
                    "unit": spec.get("unit", ""),
                    "help_text": spec.get("help", ""),
                    "sensitive": spec.get("sensitive", False),
                    "is_key": False,
                    "overlaps": spec.get("overlaps", {}),
                    "order": EXTENSION_FIELD_ORDER + j,
                    "is_archived": False,
                    "from_pack": True,
                },
            )
        codes = [spec["code"] for spec in new_fields]
        dropped = [c for c in before.get("fields", []) if c not in codes]
        lt.fields.filter(code__in=dropped, from_pack=True).update(is_archived=True)
        choices = item.get("choices", {})
        old_choices = before.get("choices", {})
        for field_code in set(choices) | set(old_choices):
            field = existing.get(field_code)
            if field is None:
                if field_code in choices:
                    raise PackError(f"{where}：台账“{code}”没有字段“{field_code}”")
                continue
            if field_code in choices and field.type not in (FieldType.CHOICE, FieldType.MULTICHOICE):
                raise PackError(f"{where}：字段“{field_code}”不是单选或多选字段，不能增加可选项")
            wanted = list(choices.get(field_code, []))
            gone = set(old_choices.get(field_code, [])) - set(wanted)
            kept = [c for c in field.choices if c not in gone]
            field.choices = kept + [c for c in wanted if c not in kept]
            field.save(update_fields=["choices"])
        extensions[pack.name] = {"fields": codes, "choices": {k: list(v) for k, v in choices.items()}}
        lt.extensions = extensions
        lt.save(update_fields=["extensions"])
    # An extension the pack no longer declares is withdrawn: its fields archived, its choices removed.
    for lt in LedgerType.objects.filter(extensions__has_key=pack.name).exclude(pk__in=done):
        ext = lt.extensions.pop(pack.name)
        lt.fields.filter(code__in=ext.get("fields", []), from_pack=True).update(is_archived=True)
        for field_code, values in ext.get("choices", {}).items():
            field = lt.fields.filter(code=field_code).first()
            if field is not None:
                field.choices = [c for c in field.choices if c not in values]
                field.save(update_fields=["choices"])
        lt.save(update_fields=["extensions"])
    return len(items)
