"""Plain text and JSON: the machine twins of the report (JSON shape fixed by DESIGN.md)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from .slots import Slot, display_value
from .templating import Rendered


def jsonable(value: Any) -> Any:
    """Decimal → number, date → ISO text, lists item by item."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def slot_label(key: str, info: Any) -> str:
    label = getattr(info, "label", "") or key
    if key.startswith("上年.") and not label.startswith("上年"):
        label = f"上年{label}"
    return label


def slot_row(slot: Slot, rendered: Rendered) -> dict[str, Any]:
    info = slot._info
    return {
        "indicator": slot._key,
        "aggregate": getattr(info, "aggregate", ""),
        "value": jsonable(slot._value),
        "display": slot._text,
        "evidence": {"records": getattr(info, "evidence_count", None), "url": rendered.url(slot._key)},
    }


def check_row(check: Any) -> dict[str, Any]:
    return {"rule": check.rule, "level": check.level, "ok": bool(check.ok), "message": check.message}


def render_txt(rendered: Rendered) -> str:
    return rendered.text


def render_dict(rendered: Rendered) -> dict[str, Any]:
    period = rendered.period
    return {
        "template": rendered.template.key,
        "org": {"code": rendered.org.code, "name": rendered.org.name},
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "text": rendered.text,
        "slots": [slot_row(s, rendered) for s in rendered.slots],
        "checks": [check_row(c) for c in rendered.checks],
    }


def render_json(rendered: Rendered) -> str:
    return json.dumps(render_dict(rendered), ensure_ascii=False, indent=2)


def used_values(rendered: Rendered) -> dict[str, dict[str, Any]]:
    """Each indicator the report prints, once, with its full value: what a comparison is made on."""
    result: dict[str, dict[str, Any]] = {}
    for slot in rendered.slots:
        if slot._key in result:
            continue
        info = slot._info
        value = getattr(info, "value", None)
        result[slot._key] = {
            "label": slot_label(slot._key, info),
            "value": jsonable(value),
            "display": display_value(value),
            "records": getattr(info, "evidence_count", None),
        }
    return result
