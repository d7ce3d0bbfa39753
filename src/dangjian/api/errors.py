"""Errors as JSON with Chinese messages: `{"detail": "…", "errors": [{"row", "field", "label", "message"}]}`.

`detail` says what went wrong as a whole; `errors` (for bad input) names each place: the row of a batch (from 1),
the field's code and label. Pydantic's own messages (a missing key, text where a number belongs) are put into the
same Chinese shape, so a caller reads one kind of error whatever refused the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Labels for the request's own keys (a ledger's fields bring their own labels).
PARAM_LABELS = {
    "org": "组织代码",
    "values": "内容",
    "key": "外部键",
    "records": "记录",
    "page": "页码",
    "page_size": "每页条数",
    "year": "年度",
    "start": "起始日期",
    "end": "截止日期",
    "keys": "指标键",
}
LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file"}


@dataclass
class Problem(Exception):
    """An answer other than 2xx, raised anywhere in an endpoint."""

    status: int
    detail: str
    errors: list[dict[str, Any]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"detail": self.detail}
        if self.errors:
            data["errors"] = self.errors
        return data


def place(row: int | None, label: str | None) -> str:
    where = f"第 {row} 行" if row is not None else ""
    return f"{where}【{label}】" if label else (f"{where}：" if where else "")


def item(message: str, *, row: int | None = None, field: str | None = None, label: str | None = None) -> dict:
    return {"row": row, "field": field, "label": label, "message": message}


def _pydantic_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "为必填项"
    if kind == "json_invalid":
        return "请求体不是有效的 JSON"
    if kind.startswith("int_"):
        return "应为整数"
    if kind.startswith(("float_", "decimal_")):
        return "应为数字"
    if kind.startswith("bool_"):
        return "应为 true 或 false"
    if kind.startswith("string_too_long") or kind == "too_long":
        return f"过长：最多 {ctx.get('max_length', '')} 个"
    if kind.startswith("string_"):
        return "应为文本"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return "应为 JSON 对象（{…}）"
    if kind in {"list_type", "tuple_type"}:
        return "应为列表（[…]）"
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}"
    if kind == "extra_forbidden":
        return "是不认识的项"
    return "格式不正确"


def from_validation(errors: list[dict[str, Any]]) -> Problem:
    """A Problem (400) from django-ninja's validation errors, each naming its row (batches) and field."""
    items = []
    for error in errors:
        loc = [p for p in error.get("loc", ()) if p not in LOCATIONS and p != "payload"]
        row = None
        name: str | None = None
        for i, part in enumerate(loc):
            if isinstance(part, int) and i > 0 and loc[i - 1] == "records":
                row = part + 1
            elif isinstance(part, str):
                name = part
        label = PARAM_LABELS.get(name or "", name)
        message = f"{place(row, label)}{_pydantic_message(error)}"
        items.append(item(message, row=row, field=name, label=label))
    detail = "；".join(i["message"] for i in items[:5]) or "请求格式不正确"
    return Problem(400, f"请求有误，未作任何修改：{detail}", items)
