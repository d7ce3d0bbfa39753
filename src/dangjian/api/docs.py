"""/api/docs: the API described in Chinese, rendered on the server from the OpenAPI schema itself.

No Swagger UI: its page loads scripts from a CDN (no internet on an intranet), runs inline scripts (our CSP
forbids them) and speaks English. This page is plain HTML built from the same schema as /api/openapi.json, so it
can never disagree with it. Like the schema, it shows no data and needs no login.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from .main import api

METHOD_ORDER = ["get", "post", "patch", "put", "delete"]
TYPE_WORDS = {
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "是否（true/false）",
    "object": "对象",
    "array": "列表",
}
WHERE = {"query": "网址参数", "path": "路径", "header": "请求头", "cookie": "Cookie"}
STATUS_WORDS = {
    "200": "成功",
    "201": "已创建",
    "204": "已删除（无内容）",
    "400": "输入有误（中文说明指明行、字段），未作任何修改",
    "401": "未提供令牌，或令牌无效、已过期、已吊销，或账号已停用",
    "403": "无权进行该操作",
    "404": "没有该对象，或无权查看",
    "409": "与记录当前状态冲突（如已删除、已报送锁定）",
    "422": "报告模板无法使用",
}


@dataclass
class Param:
    name: str
    where: str
    required: bool
    type: str
    description: str


@dataclass
class Prop:
    name: str
    type: str
    required: bool
    description: str


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    anchor: str
    params: list[Param] = field(default_factory=list)
    body: str = ""  # schema name of the request body
    responses: list[tuple[str, str, str]] = field(default_factory=list)  # (status, words, schema name)


def _ref_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else ""


def _type(schema: dict[str, Any]) -> str:
    """A schema's type in Chinese words: 文本, 整数列表, Org 对象, 文本或空 …"""
    if "$ref" in schema:
        return _ref_name(schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            kinds = [_type(s) for s in schema[key] if s.get("type") != "null"]
            nullable = any(s.get("type") == "null" for s in schema[key])
            return "或".join(kinds) + ("（可为空）" if nullable else "")
    kind = schema.get("type", "")
    if kind == "array":
        return f"{_type(schema.get('items', {}))}列表"
    if kind == "string" and schema.get("format") in ("date", "date-time"):
        return "日期" if schema["format"] == "date" else "日期时间"
    if kind == "object" and "additionalProperties" in schema:
        return "对象（键值）"
    return TYPE_WORDS.get(kind, "任意值")


def _props(schema: dict[str, Any]) -> list[Prop]:
    required = set(schema.get("required", []))
    return [
        Prop(name, _type(spec), name in required, spec.get("description", "") or spec.get("title", ""))
        for name, spec in schema.get("properties", {}).items()
    ]


def _operations(schema: dict[str, Any]) -> list[tuple[str, list[Operation]]]:
    """Operations grouped by tag, in the order the routers declare them."""
    groups: dict[str, list[Operation]] = {}
    for path, methods in schema["paths"].items():
        for method in sorted(methods, key=lambda m: METHOD_ORDER.index(m) if m in METHOD_ORDER else 9):
            op = methods[method]
            item = Operation(
                method=method.upper(),
                path=path,
                summary=op.get("summary", ""),
                description=op.get("description", ""),
                anchor=op.get("operationId", f"{method}{path}"),
            )
            for p in op.get("parameters", []):
                spec = p.get("schema", {})
                item.params.append(
                    Param(
                        p["name"],
                        WHERE.get(p["in"], p["in"]),
                        bool(p.get("required")),
                        _type(spec),
                        p.get("description") or spec.get("description", ""),
                    )
                )
            content = op.get("requestBody", {}).get("content", {})
            if content:
                item.body = _ref_name(next(iter(content.values())).get("schema", {}))
            for status, answer in op.get("responses", {}).items():
                body = answer.get("content", {})
                name = _ref_name(next(iter(body.values())).get("schema", {})) if body else ""
                item.responses.append(
                    (str(status), STATUS_WORDS.get(str(status), answer.get("description", "")), name)
                )
            for tag in op.get("tags", ["其他"]):
                groups.setdefault(tag, []).append(item)
    return list(groups.items())


def index(request: HttpRequest) -> HttpResponse:
    """/api/ itself: the doc page."""
    return redirect("api:docs")


def page(request: HttpRequest) -> HttpResponse:
    schema = api.get_openapi_schema(path_prefix=reverse("api:index"))
    components = schema.get("components", {}).get("schemas", {})
    context = {
        "info": schema["info"],
        "groups": _operations(schema),
        "schemas": sorted((name, _props(spec)) for name, spec in components.items()),
        "base": request.build_absolute_uri(reverse("api:index")),
        "example_error": json.dumps(
            {
                "detail": "数据有误，未写入任何记录：第 2 行：【主题】为必填项",
                "errors": [
                    {"row": 2, "field": "title", "label": "主题", "message": "第 2 行：【主题】为必填项"}
                ],
            },
            ensure_ascii=False,
            indent=2,
        ),
    }
    return render(request, "api/docs.html", context)
