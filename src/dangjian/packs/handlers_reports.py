"""Section handler for report templates: `[[templates]] key, label, file` and optional `org_kinds`.

A load writes the pack's text of the main file (`source`, the built-in original); files edited in the web are
versions of their own (TemplateFileVersion) and are never touched here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils import timezone

from dangjian.reports.models import PACKS_DIR, ReportTemplate
from dangjian.reports.templating import TemplateRefused, validate

from .handlers import owned_elsewhere
from .loader import Pack, PackError, section

TEMPLATE_KEYS = {"key", "label", "file", "org_kinds"}
REQUIRED_KEYS = {"key", "label", "file"}


def _stored_path(path: Path) -> str:
    """Built-in packs are stored relative to the packs folder, so the database survives a reinstall elsewhere."""
    try:
        return str(path.resolve().relative_to(PACKS_DIR.resolve()))
    except ValueError:
        return str(path.resolve())


def _org_kinds(item: dict[str, Any], pack: Pack) -> list[str]:
    """`org_kinds = ["district", …]`: codes of known org kinds (an empty list: every org)."""
    from dangjian.orgs.models import OrgKind

    kinds = item.get("org_kinds", [])
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise PackError(f'数据包 {pack.name} 模板 {item["key"]} 的 org_kinds 应写成 ["district", …]')
    unknown = sorted(set(kinds) - set(OrgKind.objects.values_list("code", flat=True)))
    if unknown:
        known = "、".join(OrgKind.objects.values_list("code", flat=True))
        raise PackError(
            f"数据包 {pack.name} 模板 {item['key']} 的 org_kinds 含有未知的组织类别：{'、'.join(unknown)}（可用：{known}）"
        )
    return list(dict.fromkeys(kinds))


@section("templates", order=50)
def load_templates(items: list[dict[str, Any]], pack: Pack) -> int:
    for item in items:
        extra = set(item) - TEMPLATE_KEYS
        if extra:
            raise PackError(
                f"数据包 {pack.name} 模板 {item.get('key')} 含有未知属性：{'、'.join(sorted(extra))}"
            )
        missing = REQUIRED_KEYS - set(item)
        if missing:
            raise PackError(f"数据包 {pack.name} 的模板缺少：{'、'.join(sorted(missing))}")
        path = pack.file(item["file"])
        if not path.is_file():
            raise PackError(f"数据包 {pack.name} 模板 {item['key']} 的文件 {item['file']} 不存在")
        owner = ReportTemplate.objects.filter(key=item["key"]).values_list("pack", flat=True).first()
        if owner is not None and owner != pack.name:
            raise PackError(owned_elsewhere("报告模板", item["key"], owner, pack))
        template, _ = ReportTemplate.objects.get_or_create(key=item["key"], defaults={"label": item["label"]})
        template.label = item["label"]
        template.pack = pack.name
        template.source = path.read_text(encoding="utf-8")
        template.file_path = _stored_path(path)
        template.org_kinds = _org_kinds(item, pack)
        template.updated_at = timezone.now()
        try:
            # Indicators load before templates (order 30–40 < 50): a template naming an unknown one is refused now.
            validate(template, builtin=True)
        except TemplateRefused as exc:
            raise PackError(f"数据包 {pack.name} 的报告模板 {item['key']} 有误：{exc}") from None
        template.save()
    return len(items)
