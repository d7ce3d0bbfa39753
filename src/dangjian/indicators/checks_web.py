"""Checks (核对规则) changed in the web by the people who write the report: a form validated exactly as a pack's
[[checks]] table is (`packs.handlers_indicators.check_problems`), versions with 内置原文, restore, TOML export.
The pages share the indicator builder's history page and rules (builder.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dangjian.packs.handlers_indicators import check_problems
from dangjian.text import cn_datetime

from . import versions
from .builder import MAX_TEXT, history_page, writer
from .models import Check, DefinitionVersion, Indicator, Level

MAX_RULE = 2000


def _check(code: str) -> Check:
    found = Check.objects.filter(code=code).first()
    if found is None:
        raise Http404(f"核对规则“{code}”不存在")
    return found


def form_item(data: Any) -> tuple[dict[str, Any], list[str]]:
    """The posted form as a pack's [[checks]] table, and what only the form can get wrong (lengths)."""
    errors = []
    limits = {"code": 60, "label": MAX_TEXT, "rule": MAX_RULE, "message": 300}
    names = {"code": "代码", "label": "名称", "rule": "规则", "message": "说明"}
    item: dict[str, Any] = {}
    for name, limit in limits.items():
        value = data.get(name, "").strip()
        if len(value) > limit:
            errors.append(f"{names[name]}不能超过 {limit} 字")
        item[name] = value[:limit]
    level = data.get("level", Level.ERROR).strip()[:10]
    if level != Level.ERROR:
        item["level"] = level
    return {k: item[k] for k in ("code", "label", "rule", "level", "message") if k in item}, errors


def _problems(item: dict[str, Any]) -> list[str]:
    return check_problems(item, set(Indicator.objects.values_list("key", flat=True)))


def _apply(check: Check, item: dict[str, Any]) -> None:
    check.label, check.rule, check.message = item["label"], item["rule"], item["message"]
    check.level = item.get("level", Level.ERROR)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    writer(request)
    checks = list(Check.objects.all()[:500])
    edited = versions.web_edited((c.code for c in checks), versions.CHECK)
    return render(request, "indicators/checks_index.html", {"checks": checks, "edited": edited})


@login_required
def edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    scope = writer(request)
    existing = _check(code) if code is not None else None
    item: dict[str, Any] = versions.check_item(existing) if existing else {"level": str(Level.ERROR)}
    errors: list[str] = []
    if request.method == "POST":
        item, errors = form_item(request.POST)
        if existing is not None:
            item["code"] = existing.code
        elif Check.objects.filter(code=item["code"]).exists():
            errors.append(f"核对规则代码“{item['code']}”已存在")
        errors += _problems(item)
        if not errors and existing is not None and versions.check_item(existing) == item:
            messages.info(request, "定义没有改变，未产生新版本。")
            return redirect("indicators:check_edit", code=existing.code)
        if not errors and existing is None:
            try:
                Check(
                    code=item["code"], label=item["label"], rule=item["rule"], message=item["message"]
                ).full_clean()
            except ValidationError as exc:
                names = {"code": "代码", "label": "名称", "rule": "规则", "message": "说明"}
                errors += [f"{names.get(f, f)}：{'；'.join(m)}" for f, m in exc.message_dict.items()]
        if not errors:
            with transaction.atomic():
                check = existing or Check(code=item["code"], pack="")
                if existing is not None:
                    versions.remember_original(existing)
                _apply(check, item)
                check.save()
                note = request.POST.get("note", "").strip()[:MAX_TEXT] or (
                    "新建" if existing is None else "修改"
                )
                versions.save_web(
                    check, versions.check_item(check), request.user, scope.reporting_org(), note
                )
            messages.success(request, f"已保存核对规则“{check.label}”，这是它的新版本。")
            return redirect("indicators:check_edit", code=check.code)
    context = {
        "item": item,
        "existing": existing,
        "errors": errors,
        "levels": Level.choices,
        "state": versions.state(existing.code, versions.CHECK) if existing else None,
    }
    return render(request, "indicators/check_form.html", context, status=400 if errors else 200)


@login_required
def export(request: HttpRequest, code: str) -> HttpResponse:
    writer(request)
    text = versions.as_toml([versions.check_item(_check(code))], "checks")
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(code + '.toml')}"
    return response


@login_required
def history(request: HttpRequest, code: str) -> HttpResponse:
    writer(request)
    check = _check(code)
    urls = {
        "index": reverse("indicators:checks"),
        "edit": reverse("indicators:check_edit", args=[code]),
        "export": reverse("indicators:check_export", args=[code]),
        "adopt": reverse("indicators:check_adopt", args=[code]),
        "restore": reverse("indicators:check_restore", args=[code, 0]),
    }
    return history_page(
        request, kind=versions.CHECK, key=code, current=versions.check_item(check), title=check.label,
        pack=check.pack, urls=urls,
    )  # fmt: skip


def _save_version(request: HttpRequest, check: Check, item: dict[str, Any], note: str) -> HttpResponse:
    item = {**item, "code": check.code}
    errors = _problems(item)
    if errors:
        messages.error(request, "不能采用该版本：" + "；".join(errors))
        return redirect("indicators:check_history", code=check.code)
    with transaction.atomic():
        versions.remember_original(check)
        _apply(check, item)
        check.save()
        versions.save_web(
            check, versions.check_item(check), request.user, writer(request).reporting_org(), note
        )
    messages.success(request, f"已{note}。")
    return redirect("indicators:check_history", code=check.code)


@login_required
@require_POST
def adopt(request: HttpRequest, code: str) -> HttpResponse:
    """采用内置新版, or with keep=1 保留当前版本 (now based on the changed original)."""
    scope = writer(request)
    check = _check(code)
    state = versions.state(code, versions.CHECK)
    if state.builtin is None:
        raise Http404("该核对规则没有内置原文")
    if request.POST.get("keep") == "1":
        versions.save_web(
            check, versions.check_item(check), request.user, scope.reporting_org(), "保留当前版本"
        )
        messages.success(request, "已保留当前版本。")
        return redirect("indicators:check_history", code=code)
    return _save_version(request, check, state.builtin.definition, "采用内置新版")


@login_required
@require_POST
def restore(request: HttpRequest, code: str, version: int) -> HttpResponse:
    writer(request)
    check = _check(code)
    found = get_object_or_404(DefinitionVersion, pk=version, kind=versions.CHECK, key=code)
    when = cn_datetime(found.created_at)
    return _save_version(request, check, found.definition, f"恢复{when}的{found.get_source_display()}")
