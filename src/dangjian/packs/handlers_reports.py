"""Section handler for report templates: `[[templates]] key, label, file`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils import timezone

from dangjian.reports.models import PACKS_DIR, ReportTemplate
from dangjian.reports.templating import TemplateRefused, validate

from .handlers import owned_elsewhere
from .loader import Pack, PackError, section

TEMPLATE_KEYS = {"key", "label", "file"}


def _stored_path(path: Path) -> str:
    """Built-in packs are stored relative to the packs folder, so the database survives a reinstall elsewhere."""
    try:
        return str(path.resolve().relative_to(PACKS_DIR.resolve()))
    except ValueError:
        return str(path.resolve())


@section("templates", order=50)
def load_templates(items: list[dict[str, Any]], pack: Pack) -> int:
    for item in items:
        extra = set(item) - TEMPLATE_KEYS
        if extra:
            raise PackError(
                f"数据包 {pack.name} 模板 {item.get('key')} 含有未知属性：{'、'.join(sorted(extra))}"
            )
        missing = TEMPLATE_KEYS - set(item)
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
        template.updated_at = timezone.now()
        try:
            # Indicators load before templates (order 30–40 < 50): a template naming an unknown one is refused now.
            validate(template)
        except TemplateRefused as exc:
            raise PackError(f"数据包 {pack.name} 的报告模板 {item['key']} 有误：{exc}") from None
        template.save()
    return len(items)
