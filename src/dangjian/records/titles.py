"""How a record is named on its pages: by its key fields (查重关键字段, the fields that tell one entry from another),
as the viewer may see them — "焦裕禄 · 舞台剧（2019年4月1日）" instead of "第 16910 号记录"."""

from __future__ import annotations

from typing import Any

from dangjian.orgs import access

from .fields import display_value
from .models import FieldType, Record

TITLE_LIMIT = 60  # characters: a title fits a heading and a crumb


def record_title(user: Any, record: Record) -> str:
    """The record's key fields (masked where the account's Scope hides them), dates last in brackets; "第 N 号记录"
    when the ledger names no key field or they are all empty."""
    scope = access.scope(user)
    named: list[str] = []
    dated: list[str] = []
    for spec in record.ledger_type.active_fields():
        if not spec.is_key or spec.type == FieldType.FILE:
            continue
        text = str(scope.shown(spec, record, display_value) or "").strip()
        if text:
            (dated if spec.type == FieldType.DATE else named).append(text)
    if not named:
        named, dated = dated, []
    if not named:
        return f"第 {record.pk} 号记录"
    title = " · ".join(named) + (f"（{'，'.join(dated)}）" if dated else "")
    return title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1] + "…"
