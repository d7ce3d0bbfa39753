"""Plain text and JSON: the machine twins of the report (JSON shape fixed by DESIGN.md)."""

from __future__ import annotations

import json
from typing import Any

from .schemas import report_out
from .slots import INCOMPUTABLE, display_value, jsonable
from .templating import Rendered

__all__ = ["check_row", "jsonable", "render_dict", "render_json", "render_txt", "used_values"]


def check_row(check: Any) -> dict[str, Any]:
    return {"rule": check.rule, "level": check.level, "ok": bool(check.ok), "message": check.message}


def render_txt(rendered: Rendered) -> str:
    return rendered.text


def render_dict(rendered: Rendered) -> dict[str, Any]:
    """The report as `schemas.ReportOut` (the API's, and a finalised run's `.json`)."""
    checks = [check_row(c) for c in rendered.checks]
    return report_out(
        rendered.template.key, rendered.org, rendered.period, rendered.text, rendered.slots, checks
    )


def render_json(rendered: Rendered) -> str:
    return json.dumps(render_dict(rendered), ensure_ascii=False, indent=2)


def used_values(rendered: Rendered) -> dict[str, dict[str, Any]]:
    """Each indicator the report prints, once, with its full value: what a comparison is made on."""
    result: dict[str, dict[str, Any]] = {}
    for slot in rendered.slots:
        if slot.key in result:
            continue
        info = rendered.values.get(slot.key)
        value = getattr(info, "value", None)
        result[slot.key] = {
            "label": slot.indicator.label,
            "value": jsonable(value),
            "display": INCOMPUTABLE
            if value is None and getattr(info, "incomputable", False)
            else display_value(value),
            "records": slot.evidence.records,
        }
    return result
