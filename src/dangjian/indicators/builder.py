"""The indicator builder (指标构建器): indicators made and changed by form, never by JSON, by the people who write the
report (`Scope.may_write_reports`); a live preview; versions with 内置原文 and restore; pack TOML export.

The form becomes a pack's [[indicators]] table (`form_item`) and is read exactly as a pack's is
(`packs.handlers_indicators.parse_indicator`, then `Indicator.clean()` for the catalogue rules), so the builder
accepts what a pack accepts and nothing else. The preview evaluates the unsaved definition through the engine
with the request's user as viewer (the confidentiality rules of every figure apply), and shows the first records
behind it only when the user may see the ledger's rows, as the evidence page does.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dangjian.orgs import access
from dangjian.orgs.models import Organization, OrgKind
from dangjian.packs.handlers_indicators import FIELDS, parse_indicator
from dangjian.records.conditions import NUMERIC
from dangjian.records.models import LedgerType
from dangjian.text import cn_datetime, diff_rows

from . import compiler, crossledger, versions
from . import evidence as ev
from .engine import definitions
from .links import evidence_url
from .models import Aggregate, DefinitionVersion, Indicator, Kind, PeriodMode, Scope
from .periods import Period, PeriodError

MAX_ROWS = 20  # condition rows per list (筛选条件, 占比条件)
MAX_TEXT = 200  # a label, a value, a note
MAX_VALUES = 50  # values of one "in" condition
PREVIEW_ROWS = 10

OP_LABELS = {
    "=": "等于", "!=": "不等于", "in": "属于其中之一", "not_in": "不属于其中任何一个", "contains": "包含",
    ">=": "不小于", "<=": "不大于", "between": "介于", "empty": "为空", "not_empty": "不为空",
    "age<=": "年龄不超过（周岁）", "age>=": "年龄不小于（周岁）",
}  # fmt: skip
LIST_OPS = ("in", "not_in")
NO_VALUE_OPS = ("empty", "not_empty")


def ops_for(field_type: str) -> list[str]:
    """The operators offered for a field of this type: those compiler._check_operand accepts for it (the
    compiler still validates whatever is posted)."""
    if field_type == "file":
        return list(NO_VALUE_OPS)
    ops = ["=", "!=", "in", "not_in"]
    if field_type in NUMERIC | {"date", "text", "person"}:
        ops += [">=", "<="]
    if field_type in NUMERIC | {"date"}:
        ops.append("between")
    if field_type in compiler.TEXTUAL | {"multichoice"}:
        ops.append("contains")
    if field_type == "date":
        ops += list(compiler.AGE_OPS)
    return [*ops, *NO_VALUE_OPS]


def aggregate_fields(aggregate: str) -> list[str] | None:
    """The field types an aggregate may use (None: it uses no field; [] any)."""
    if aggregate not in compiler.FIELD_AGGREGATES:
        return None
    if aggregate in compiler.NUMERIC_AGGREGATES:
        return sorted(NUMERIC)
    if aggregate in ("min", "max"):
        return sorted(NUMERIC | {"date", "text", "choice", "person"})
    if aggregate == "avg_age":
        return ["date"]
    return []


def _ledgers() -> list[LedgerType]:
    return list(
        LedgerType.objects.filter(is_active=True).prefetch_related("fields").order_by("order", "code")
    )


def catalogue(ledgers: list[LedgerType]) -> dict[str, Any]:
    """What the form's script needs to offer fitting choices: each ledger's fields and states, the operators per
    field type, the field types per aggregate."""
    types = sorted({f.type for lt in ledgers for f in lt.fields.all()} | {"date"})
    return {
        "ledgers": {
            lt.code: {
                "fields": [
                    {"code": f.code, "label": f.label, "type": f.type, "choices": list(f.choices or [])}
                    for f in lt.fields.all()
                    if not f.is_archived
                ],
                "states": list((lt.workflow or {}).get("states", [])),
            }
            for lt in ledgers
        },
        "ops": {t: ops_for(t) for t in types},
        "op_labels": OP_LABELS,
        "aggregates": {a: aggregate_fields(a) for a in Aggregate.values},
    }


# --- the form as a pack table -------------------------------------------------------------------------------


def _typed(value: str, field_type: str, op: str) -> Any:
    """A posted text as a pack would write it: whole numbers as numbers, 是/否 as true/false, the rest as text."""
    text = value.strip()
    if field_type == "bool" and op not in compiler.AGE_OPS:
        return {"true": True, "false": False}.get(text, text)
    if (field_type in NUMERIC or op in compiler.AGE_OPS) and text.lstrip("-").isdigit() and len(text) < 16:
        return int(text)
    return text


def _rows(
    data: Any, prefix: str, fields: dict[str, Any], what: str, errors: list[str]
) -> list[dict[str, Any]]:
    """Condition rows c0-…, c1-… (or s0-… for a share's) as pack conditions; empty rows are skipped."""
    rows: list[dict[str, Any]] = []
    indices: set[int] = set()
    for name in data:
        number, _, rest = name[len(prefix) :].partition("-")
        if name.startswith(prefix) and rest == "field" and number.isdigit() and len(number) < 4:
            indices.add(int(number))
    for n, i in enumerate(sorted(indices), start=1):
        code = data.get(f"{prefix}{i}-field", "").strip()
        if not code:
            continue
        if len(rows) >= MAX_ROWS:
            errors.append(f"{what}最多 {MAX_ROWS} 条")
            break
        op = data.get(f"{prefix}{i}-op", "=").strip()
        spec = fields.get(code)
        kind = spec.type if spec is not None else "text"
        cond: dict[str, Any] = {"field": code[:60], "op": op[:20]}
        raw = [v for v in data.getlist(f"{prefix}{i}-value") if v.strip()]
        if any(len(v) > MAX_TEXT for v in raw) or len(raw) > MAX_VALUES:
            errors.append(
                f"{what}第 {n} 条的值过长或过多（每个值不超过 {MAX_TEXT} 字，至多 {MAX_VALUES} 个）"
            )
            continue
        choices = list(spec.choices or []) if spec is not None else []
        if op in LIST_OPS + ("between",) and len(raw) == 1 and raw[0] not in choices:
            # typed into one box (a choice list comes as a multi-select): 甲、乙 / 甲，乙 / 甲,乙
            raw = [v.strip() for v in raw[0].replace("、", ",").replace("，", ",").split(",") if v.strip()]
        if op in NO_VALUE_OPS:
            pass
        elif op in LIST_OPS + ("between",):
            cond["value"] = [_typed(v, kind, op) for v in raw]
        elif not raw:
            label = f"【{spec.label}】" if spec is not None else f"“{code}”"
            errors.append(f"{what}第 {n} 条（字段{label}）缺少值")
            continue
        else:
            cond["value"] = _typed(raw[0], kind, op)
        rows.append(cond)
    return rows


def _int_option(data: Any, name: str, label: str, errors: list[str]) -> int | None:
    text = data.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 4:
        errors.append(f"{label}应为 0 到 9999 的整数，而不是“{text[:20]}”")
        return None
    return int(text)


def form_item(data: Any) -> tuple[dict[str, Any], list[str]]:
    """The posted form as a pack's [[indicators]] table, and the problems only the form can have (too many rows,
    a value missing or too long); the definition itself is checked by parse_indicator."""
    errors: list[str] = []
    text = {
        name: data.get(name, "").strip()
        for name in ("key", "label", "unit", "description", "ledger", "aggregate", "field", "formula")
    }
    limits = {"key": 120, "label": MAX_TEXT, "unit": 20, "description": 2000, "formula": 2000}
    names = {"key": "指标键", "label": "名称", "unit": "单位", "description": "说明", "formula": "公式"}
    for name, limit in limits.items():
        if len(text[name]) > limit:
            errors.append(f"{names[name]}不能超过 {limit} 字")
            text[name] = text[name][:limit]
    item: dict[str, Any] = {"key": text["key"], "label": text["label"]}
    if text["unit"]:
        item["unit"] = text["unit"]
    if text["description"]:
        item["description"] = text["description"]
    if data.get("kind") == Kind.FORMULA:
        item["formula"] = text["formula"]
        decimals = _int_option(data, "decimals", "小数位数", errors)
        if decimals is not None:
            item["decimals"] = decimals
        return item, errors

    ledger = LedgerType.objects.filter(code=text["ledger"][:60]).prefetch_related("fields").first()
    fields = {f.code: f for f in ledger.fields.all()} if ledger else {}
    item["ledger"] = text["ledger"][:60]
    item["aggregate"] = text["aggregate"][:20] or "count"
    if text["field"] and aggregate_fields(item["aggregate"]) is not None:
        item["field"] = text["field"][:60]
    where = _rows(data, "c", fields, "筛选条件", errors)
    if where:
        item["where"] = where
    states = [s[:30] for s in data.getlist("status")[:MAX_ROWS] if s.strip()]
    if states:
        item["status"] = states
    kinds = [k[:40] for k in data.getlist("org_kinds")[:MAX_ROWS] if k.strip()]
    if kinds:
        item["org_kinds"] = kinds
    for name, default in (("scope", Scope.SUBTREE), ("period", PeriodMode.WITHIN)):
        value = data.get(name, "").strip()[:20]
        if value and value != default:
            item[name] = value
    if item["aggregate"] == "share":
        item["share_where"] = _rows(data, "s", fields, "占比条件", errors)
    for name, label in (("decimals", "小数位数"), ("limit", "列表最多取值个数")):
        number = _int_option(data, name, label, errors)
        if number is not None:
            item[name] = number
    if item["aggregate"] == "list" and data.get("order", "").strip():
        item["order"] = data.get("order", "").strip()[:10]
    if data.get("age_at", "").strip() in ("start", "record"):
        item["age_at"] = data["age_at"].strip()
    if data.get("disclose") == "true":
        item["disclose"] = True
    return item, errors


FORM_OPTIONS = frozenset({"share_where", "age_at", "order", "limit", "decimals", "disclose"})


def checked(item: dict[str, Any], existing: Indicator | None) -> tuple[Indicator | None, list[str]]:
    """The definition validated as a pack's, plus the catalogue rules (formula names, cycles, key clashes).
    Options of an existing indicator that the form does not show (a pack may know more) are kept as they are."""
    if existing is not None and existing.kind == Kind.AGGREGATE and "ledger" in item:
        shown = FORM_OPTIONS
        if (existing.options or {}).get("group_by") and item.get("aggregate") != "list":
            shown = FORM_OPTIONS - {"order"}  # the form's order is a list's: a grouped one's is kept
        item.update({k: v for k, v in (existing.options or {}).items() if k not in shown and k not in item})
    ind, errors = parse_indicator(item)
    if ind is None or errors:
        return None, errors or ["定义不完整"]
    if existing is not None:
        ind.pk, ind.pack = existing.pk, existing.pack
    try:
        ind.clean()
    except ValidationError as exc:
        return None, [m for m in exc.messages]
    return ind, []


# --- opened from another page, pre-filled (从 Word 生成模板's 新建指标) -------------------------------------------

PREFILL_NOTE = 120  # characters of the note saying where the figure stands


def bounded(value: str | None, limit: int) -> str:
    """A query parameter as a form value: control characters out, at most `limit` characters."""
    return "".join(ch for ch in (value or "") if ch >= " ")[:limit].strip()


def prefill(query: Any) -> tuple[dict[str, Any], str]:
    """A new indicator's form filled from query parameters (key, label, unit, description, ledger, aggregate,
    decimals, where_field + where_value) and the note of where they come from (`from`). The parameters are
    anyone's link: each is bounded, a ledger, aggregate, field or choice that does not exist is left out, and
    what remains is only the form's starting point (saving checks it as every definition is checked)."""
    item: dict[str, Any] = {"aggregate": "count"}
    for name, limit in (("key", 120), ("label", MAX_TEXT), ("unit", 20), ("description", 2000)):
        value = bounded(query.get(name), limit)
        if value:
            item[name] = value
    aggregate = bounded(query.get("aggregate"), 20)
    if aggregate in Aggregate.values:
        item["aggregate"] = aggregate
    decimals = bounded(query.get("decimals"), 2)
    if decimals.isdigit() and int(decimals) <= 6:
        item["decimals"] = int(decimals)
    ledger = LedgerType.objects.filter(code=bounded(query.get("ledger"), 60), is_active=True).first()
    if ledger is not None:
        item["ledger"] = ledger.code
        spec = ledger.fields.filter(code=bounded(query.get("where_field"), 60), is_archived=False).first()
        value = bounded(query.get("where_value"), MAX_TEXT)
        if spec is not None and value and value in [str(c) for c in spec.choices or []]:
            item["where"] = [{"field": spec.code, "op": "=", "value": value}]
    return item, bounded(query.get("from"), PREFILL_NOTE)


def back_to(data: Any) -> str:
    """Where the form was opened from, to go back to after saving (`next`): a path on this site, else ""."""
    from dangjian.web.responses import local_path

    return local_path(bounded(data.get("next"), 500))


# --- pages --------------------------------------------------------------------------------------------------


def writer(request: HttpRequest) -> access.Scope:
    scope = access.scope(request.user)
    if not scope.may_write_reports():
        raise PermissionDenied("只有报告单位的管理员、审核员可以构建和修改指标")
    return scope


def _preview_orgs(scope: access.Scope) -> list[Organization]:
    return list(scope.orgs().filter(depth__lte=2).order_by("path")[:200])


def _indicator(key: str) -> Indicator:
    found = Indicator.objects.select_related("ledger").filter(key=key).first()
    if found is None:
        raise Http404(f"指标“{key}”不存在")
    return found


@login_required
def index(request: HttpRequest) -> HttpResponse:
    writer(request)
    q = request.GET.get("q", "").strip()[:60]
    found = Indicator.objects.select_related("ledger").order_by("key")
    if q:
        found = found.filter(Q(key__icontains=q) | Q(label__icontains=q))
    shown = list(found[:500])
    edited = versions.web_edited(i.key for i in shown)
    context = {"indicators": shown, "edited": edited, "q": q, "more": found.count() > len(shown)}
    return render(request, "indicators/builder_index.html", context)


def _shown_rows(where: Any) -> list[dict[str, Any]]:
    """Condition rows for the form: the script builds each value's input from `json` (a choice list, a date …)."""
    rows = []
    for cond in (where if isinstance(where, list) else [])[:MAX_ROWS]:
        if not isinstance(cond, dict):
            continue
        value = cond.get("value", "")
        text = "，".join(map(str, value)) if isinstance(value, list) else str(value)
        rows.append(
            {
                "field": cond.get("field", ""),
                "op": cond.get("op", "="),
                "json": json.dumps(value, ensure_ascii=False),
                "text": text,
            }
        )
    return rows


def _form_context(
    request: HttpRequest, scope: access.Scope, item: dict[str, Any], existing: Indicator | None
) -> dict[str, Any]:
    ledgers = _ledgers()
    last_full_year = dt.date.today().year - 1
    reporting = scope.reporting_org()
    options = {k: item.get(k) for k in ("decimals", "limit", "order", "age_at", "disclose")}
    return {
        "item": item,
        "existing": existing,
        "kind": Kind.FORMULA if "formula" in item else Kind.AGGREGATE,
        "where": _shown_rows(item.get("where")),
        "share_where": _shown_rows(item.get("share_where")),
        "status_json": json.dumps(item.get("status") or [], ensure_ascii=False),
        "options": options,
        "ledgers": ledgers,
        "catalogue": catalogue(ledgers),
        "aggregates": Aggregate.choices,
        "scopes": Scope.choices,
        "periods": PeriodMode.choices,
        "org_kinds": OrgKind.objects.all(),
        "op_labels": OP_LABELS,
        "max_rows": MAX_ROWS,
        "preview_orgs": _preview_orgs(scope),
        "preview_org": bounded(request.POST.get("preview_org") or request.GET.get("preview_org"), 60)
        or (reporting.code if reporting else ""),
        "preview_period": bounded(request.POST.get("preview_period") or request.GET.get("preview_period"), 40)
        or str(last_full_year),
        # opened from another page (从 Word 生成模板): where to go back after saving, and what the figure was
        "next": back_to(request.POST if request.method == "POST" else request.GET),
        "from_note": bounded(
            (request.POST if request.method == "POST" else request.GET).get("from"), PREFILL_NOTE
        ),
        "state": versions.state(existing.key) if existing else None,
    }


@login_required
def edit(request: HttpRequest, key: str | None = None) -> HttpResponse:
    """New (key None) or an existing indicator: the form; saving appends a web version owned by the writer's org."""
    scope = writer(request)
    existing = _indicator(key) if key is not None else None
    if existing is not None and crossledger.is_combined(existing):  # its form has no people / numerator rows
        context = _form_context(request, scope, versions.to_item(existing), existing)
        context["errors"] = [
            f"指标“{existing.key}”的汇总方式是{existing.get_aggregate_display()}，请在数据包的 TOML 中修改"
            "（指标构建器的表单还不能编辑各台账、分子和分母），修改前的定义可点“导出 TOML”取得"
        ]
        return render(
            request, "indicators/builder.html", context, status=400 if request.method == "POST" else 200
        )
    if request.method != "POST":
        item = versions.to_item(existing) if existing else prefill(request.GET)[0]
        return render(request, "indicators/builder.html", _form_context(request, scope, item, existing))

    item, errors = form_item(request.POST)
    if existing is not None:
        item["key"] = existing.key  # a key is its name in templates: renaming is making another indicator
    elif Indicator.objects.filter(key=item["key"]).exists():
        errors.append(f"指标键“{item['key']}”已存在，请换一个名称，或打开该指标修改")
    for name, label in (("key", "指标键"), ("label", "名称")):
        if not item.get(name):
            errors.append(f"{label}不能为空")
    ind = None
    if not errors:
        ind, errors = checked(item, existing)
    if errors or ind is None:
        context = {**_form_context(request, scope, item, existing), "errors": errors}
        return render(request, "indicators/builder.html", context, status=400)
    item = versions.to_item(ind)
    if existing is not None and versions.to_item(existing) == item:
        messages.info(request, "定义没有改变，未产生新版本。")
        return redirect("indicators:builder_edit", key=ind.key)
    note = request.POST.get("note", "").strip()[:MAX_TEXT]
    with transaction.atomic():
        ind.pack = existing.pack if existing else ""
        if existing is not None:
            versions.remember_original(existing)
            for name in FIELDS:
                setattr(existing, name, getattr(ind, name))
            ind = existing
        ind.save()
        versions.save_web(
            ind, item, request.user, scope.reporting_org(), note or ("新建" if key is None else "修改")
        )
    messages.success(request, f"已保存指标“{ind.label}”，这是它的新版本。")
    back = back_to(request.POST)
    if back:  # opened from another page: back there, saying what was made
        from dangjian.web.responses import with_query

        return redirect(with_query(back, made=ind.key))
    return redirect("indicators:builder_edit", key=ind.key)


@login_required
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The value of the unsaved definition for the chosen org and period, as the user may see it."""
    scope = writer(request)
    item, errors = form_item(request.POST)
    item["key"] = item.get("key") or "预览.未命名指标"
    item["label"] = item.get("label") or "未命名指标"
    context: dict[str, Any] = {"errors": errors}
    missing = "formula" if "formula" in item else "ledger"
    if not item.get(missing):
        context["waiting"] = "请写公式。" if missing == "formula" else "请先选择台账。"
        return render(request, "indicators/builder_preview.html", context)
    org = Organization.objects.filter(code=request.POST.get("preview_org", "")[:60]).first()
    if org is None or not scope.may_run_report(org):
        context["errors"] = [*errors, "请选择您有权查看报告的单位"]
        return render(request, "indicators/builder_preview.html", context)
    try:
        period = Period.parse(request.POST.get("preview_period", "").strip()[:40])
    except PeriodError as exc:
        context["errors"] = [*errors, str(exc)]
        return render(request, "indicators/builder_preview.html", context)
    ind = None
    if not errors:
        existing = Indicator.objects.filter(key=item["key"]).first()
        ind, context["errors"] = checked(item, existing)
    if ind is None:
        return render(request, "indicators/builder_preview.html", context)
    defs = crossledger.with_parts({**definitions(), ind.key: ind})  # an unsaved people count's parts too
    try:
        found = ev.collect(request.user, ev.Resolved(ind.key, ind, period, period, defs), org)
    except ev.Refused as exc:
        context.update(refused=str(exc), org=org, period=period)
        return render(request, "indicators/builder_preview.html", context)
    saved = Indicator.objects.select_related("ledger").filter(key=ind.key).first()
    same = saved is not None and versions.to_item(saved) == versions.to_item(ind)
    rows = []
    # A few telling columns: the record's date is shown already, so its date field is left out.
    shown = [n for n, f in enumerate(found.columns) if f.code != getattr(ind.ledger, "date_field", "")][:3]
    if found.records is not None:
        for r in found.records[:PREVIEW_ROWS]:
            cells = found.cells(request.user, r)
            rows.append((r, [cells[n] for n in shown]))
    context.update(
        ev=found,
        org=org,
        period=period,
        value_text=ev.display(found.value.value, ind.unit),
        rows=rows,
        columns=[found.columns[n] for n in shown],
        evidence_link=evidence_url(ind.key, org, period) if same else "",
        saved=saved is not None,
    )
    return render(request, "indicators/builder_preview.html", context)


@login_required
def export(request: HttpRequest, key: str) -> HttpResponse:
    """Any indicator (from a pack or the web) as the [[indicators]] table a pack file holds."""
    writer(request)
    ind = _indicator(key)
    response = HttpResponse(
        versions.as_toml([versions.to_item(ind)]), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(key + '.toml')}"
    return response


def _toml(definition: dict[str, Any], section: str = "indicators") -> str:
    return versions.as_toml([definition], section) if definition else ""


def history_page(
    request: HttpRequest,
    *,
    kind: str,
    key: str,
    current: dict[str, Any],
    title: str,
    pack: str,
    urls: dict[str, str],
) -> HttpResponse:
    """版本历史 of an indicator or a check: every version, the 内置原文 compared with the 当前版本, any version
    compared with the current; `urls`: edit, export, adopt, and restore (with 0 in place of the version)."""
    section = "checks" if kind == versions.CHECK else "indicators"
    all_versions = versions.history(key, kind)
    state = versions.state(key, kind)
    builtin_rows = None
    if state.builtin is not None:
        builtin_rows = diff_rows(_toml(state.builtin.definition, section), _toml(current, section))
    chosen = None
    chosen_rows = None
    if request.GET.get("v", "").isdigit():
        chosen = next((v for v in all_versions if v.pk == int(request.GET["v"])), None)
        if chosen is not None:
            chosen_rows = diff_rows(_toml(chosen.definition, section), _toml(current, section))
    restore = urls["restore"].rstrip("/").rsplit("/", 1)[0]
    context = {
        "title": title,
        "key": key,
        "pack": pack,
        "urls": urls,
        "rows": [(v, f"{restore}/{v.pk}/") for v in all_versions],
        "state": state,
        "builtin_rows": builtin_rows,
        "chosen": chosen,
        "chosen_rows": chosen_rows,
        "current_toml": _toml(current, section),
        "what": "核对规则" if kind == versions.CHECK else "指标",
    }
    return render(request, "indicators/builder_history.html", context)


@login_required
def history(request: HttpRequest, key: str) -> HttpResponse:
    writer(request)
    ind = _indicator(key)
    urls = {
        "index": reverse("indicators:builder"),
        "edit": reverse("indicators:builder_edit", args=[key]),
        "export": reverse("indicators:builder_export", args=[key]),
        "adopt": reverse("indicators:builder_adopt", args=[key]),
        "restore": reverse("indicators:builder_restore", args=[key, 0]),
    }
    return history_page(
        request, kind=versions.INDICATOR, key=key, current=versions.to_item(ind), title=ind.label, pack=ind.pack,
        urls=urls,
    )  # fmt: skip


def _save_version(
    request: HttpRequest, scope: access.Scope, ind: Indicator, item: dict[str, Any], note: str
) -> HttpResponse:
    """Adopting the built-in, keeping one's own, restoring: each is a new web version, validated as a pack's."""
    item = {**item, "key": ind.key}
    checked_ind, errors = checked(item, ind)
    if errors or checked_ind is None:
        messages.error(request, "不能采用该版本：" + "；".join(errors))
        return redirect("indicators:builder_history", key=ind.key)
    with transaction.atomic():
        versions.remember_original(ind)
        for name in FIELDS:
            setattr(ind, name, getattr(checked_ind, name))
        ind.save()
        versions.save_web(ind, versions.to_item(ind), request.user, scope.reporting_org(), note)
    messages.success(request, f"已{note}。")
    return redirect("indicators:builder_history", key=ind.key)


@login_required
@require_POST
def adopt(request: HttpRequest, key: str) -> HttpResponse:
    """采用内置新版 (or, with keep=1, 保留当前版本: the current definition, now based on the new original)."""
    scope = writer(request)
    ind = _indicator(key)
    state = versions.state(key)
    if state.builtin is None:
        raise Http404("该指标没有内置原文")
    if request.POST.get("keep") == "1":
        # The staff version stays; a new version records that it is now based on the changed original.
        with transaction.atomic():
            versions.save_web(ind, versions.to_item(ind), request.user, scope.reporting_org(), "保留当前版本")
        messages.success(request, "已保留当前版本。")
        return redirect("indicators:builder_history", key=key)
    return _save_version(request, scope, ind, state.builtin.definition, "采用内置新版")


@login_required
@require_POST
def restore(request: HttpRequest, key: str, version: int) -> HttpResponse:
    """恢复 an earlier version: it becomes a new version (history is never rewritten)."""
    scope = writer(request)
    ind = _indicator(key)
    found = get_object_or_404(DefinitionVersion, pk=version, kind=versions.INDICATOR, key=key)
    when = cn_datetime(found.created_at)
    return _save_version(request, scope, ind, found.definition, f"恢复{when}的{found.get_source_display()}")
