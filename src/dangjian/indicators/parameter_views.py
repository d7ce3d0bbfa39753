"""报告参数 pages under `/indicators/parameters/`: the list (and its JSON twin), defining one in the web, a
parameter's page with its entries and the entry form, entering a value, and an entry's attachment.

Who may do what is the Scope's: `may_write_reports` defines, `may_enter_parameter` enters, `may_run_report` for
the entry's org sees an entry and its file. The rules of a value live in parameters.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dangjian.audit.log import Action, record
from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.orgs.picker import OrgChoiceField
from dangjian.tasks.models import CollectionTask
from dangjian.web.responses import json_response

from . import parameters, schemas
from .links import evidence_url
from .models import Parameter, ParameterTotal, ParameterType, ParameterValue
from .periods import Period

ENTRIES_SHOWN = 200  # the most recent entries a parameter's page lists
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NUMBER = forms.TextInput(attrs={"inputmode": "numeric", "size": 6})


def _required_messages(form: forms.Form) -> None:
    for field in form.fields.values():
        field.error_messages["required"] = f"【{field.label}】为必填项"
        if isinstance(field, forms.DateField):
            field.error_messages["invalid"] = f"【{field.label}】格式不正确，请按 2019-12-31 的格式填写"
        if isinstance(field, forms.IntegerField):
            field.error_messages["invalid"] = f"【{field.label}】应为整数"
        if isinstance(field, forms.ChoiceField):
            field.error_messages["invalid_choice"] = f"【{field.label}】的选择无效"


class DefineForm(forms.Form):
    key = forms.CharField(
        label="键",
        max_length=120,
        help_text="中文点分名称，模板、公式、核对规则中直接引用，如 学习强国.人均积分",
    )
    label = forms.CharField(label="名称", max_length=parameters.LABEL_LIMIT)
    unit = forms.CharField(label="单位", max_length=parameters.UNIT_LIMIT, required=False)
    type = forms.ChoiceField(label="类型", choices=ParameterType.choices)
    max_digits = forms.IntegerField(
        label="整数位数上限", initial=12, widget=NUMBER, help_text="整数、小数：整数部分最多几位"
    )
    decimals = forms.IntegerField(
        label="小数位数上限", initial=2, widget=NUMBER, help_text="小数：最多几位小数"
    )
    max_length = forms.IntegerField(
        label="文本长度上限", initial=200, widget=NUMBER, help_text="文本：最多几个字"
    )
    role = forms.ChoiceField(
        label="填报角色",
        choices=[(r.value, r.label) for r in parameters.ROLES],
        help_text="该角色及更高角色（填报员 < 审核员 < 管理员）可以填报",
    )
    total = forms.ChoiceField(label="取值方式", choices=ParameterTotal.choices)
    description = forms.CharField(
        label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _required_messages(self)
        for name in ("key", "label", "unit", "description"):
            limit = self.fields[name].max_length  # type: ignore[attr-defined]
            self.fields[name].error_messages["max_length"] = f"【{self.fields[name].label}】最多 {limit} 字"


class EntryForm(forms.Form):
    org = OrgChoiceField(label="填报单位", queryset=Organization.objects.none())
    period_start = forms.DateField(label="统计期起", widget=DATE)
    period_end = forms.DateField(label="统计期止", widget=DATE)
    value = forms.CharField(label="数值", max_length=2000, strip=False)
    source = forms.CharField(
        label="来源说明",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=f"必填，最多 {parameters.SOURCE_LIMIT} 字：数值从何而来，如 学习强国后台 2019年12月31日导出",
    )
    file = forms.FileField(label="佐证材料", required=False, help_text="可选：截图、通知扫描件等")

    def __init__(self, user: Any, param: Parameter, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        orgs = access.scope(user).parameter_orgs(param).order_by("path")
        self.fields["org"].queryset = orgs  # type: ignore[attr-defined]
        if len(orgs[:2]) == 1:  # one unit to enter for: chosen already
            self.fields["org"].initial = orgs[0].pk
        self.fields["value"].help_text = param.bounds_text + (f"，单位：{param.unit}" if param.unit else "")
        _required_messages(self)
        self.fields["org"].error_messages["invalid_choice"] = "【填报单位】不在您可以填报该参数的单位之中"
        for name in ("value", "source"):
            self.fields[name].error_messages["max_length"] = f"【{self.fields[name].label}】过长"


def _get_parameter(key: str) -> Parameter:
    param = parameters.get(key)
    if param is None:
        raise Http404(f"报告参数“{key}”不存在")
    return param


def _visible_entries(user: Any, param: Parameter) -> QuerySet[ParameterValue]:
    """Current entries of orgs within the account's subtrees (all roles: those who may run the report)."""
    mine = access.scope(user).orgs().values("pk")
    return (
        param.values.filter(is_current=True, org__in=mine)
        .select_related("org", "entered_by", "task")
        .order_by("-entered_at", "-id")
    )


def _entry_rows(user: Any, param: Parameter) -> list[dict[str, Any]]:
    rows = []
    for entry in _visible_entries(user, param)[:ENTRIES_SHOWN]:
        period = Period(entry.period_start, entry.period_end)
        rows.append(
            {"entry": entry, "period": period, "evidence": evidence_url(param.key, entry.org, period)}
        )
    return rows


def _parameter_out(param: Parameter) -> dict[str, Any]:
    return {
        "key": param.key,
        "label": param.label,
        "unit": param.unit,
        "type": param.type,
        "role": param.role,
        "total": param.total,
        "max_digits": param.max_digits,
        "decimals": param.decimals,
        "max_length": param.max_length,
        "pack": param.pack,
        "description": param.indicator.description,
        "url": reverse("indicators:parameter", args=[param.key]),
    }


@login_required
def parameter_list(request: HttpRequest, fmt: str = "") -> HttpResponse:
    scope = access.scope(request.user)
    if not scope.has_role:
        raise PermissionDenied("无权查看报告参数")
    params = list(Parameter.objects.select_related("indicator").order_by("indicator__key"))
    if fmt == "json":
        return json_response({"parameters": [_parameter_out(p) for p in params]})
    context = {"params": params, "may_define": scope.may_write_reports()}
    return render(request, "indicators/parameters.html", context)


def _prefill(query: Any) -> dict[str, Any]:
    """A new parameter's form filled from query parameters (key, label, unit, type, decimals, description): anyone's
    link, so each is bounded and a type that does not exist, or decimals out of range, are left out."""
    from .builder import bounded

    initial: dict[str, Any] = {}
    limits = (
        ("key", 120),
        ("label", parameters.LABEL_LIMIT),
        ("unit", parameters.UNIT_LIMIT),
        ("description", 2000),
    )
    for name, limit in limits:
        value = bounded(query.get(name), limit)
        if value:
            initial[name] = value
    kind = bounded(query.get("type"), 20)
    if kind in ParameterType.values:
        initial["type"] = kind
    decimals = bounded(query.get("decimals"), 2)
    if decimals.isdigit() and int(decimals) <= parameters.MAX_DECIMALS:
        initial["decimals"] = int(decimals)
    return initial


@login_required
def parameter_new(request: HttpRequest) -> HttpResponse:
    """Define a parameter. Opened from another page (从 Word 生成模板's 设为参数), the form comes pre-filled from the
    query and saving goes back there (`next`) with the new key (`made`)."""
    from .builder import PREFILL_NOTE, back_to, bounded

    scope = access.scope(request.user)
    if not scope.may_write_reports():
        raise PermissionDenied("只有报告单位的管理员或审核员可以定义报告参数")
    asked = request.POST if request.method == "POST" else request.GET
    back, note = back_to(asked), bounded(asked.get("from"), PREFILL_NOTE)
    form = DefineForm(request.POST) if request.method == "POST" else DefineForm(initial=_prefill(request.GET))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            if parameters.key_owner(data["key"]) is not None:
                form.add_error("key", f"【键】“{data['key']}”已被使用（指标或报告参数），请换一个")
            else:
                try:
                    param = parameters.define(**data, pack="", owner_org=scope.reporting_org())
                except parameters.ParameterInvalid as exc:
                    for field, message in exc.errors.items():
                        form.add_error(field if field in form.fields else None, message)
                else:
                    messages.success(request, f"报告参数“{param.label}”已定义。")
                    if back:
                        from dangjian.web.responses import with_query

                        return redirect(with_query(back, made=param.key))
                    return redirect("indicators:parameter", param.key)
        status = 400
    context = {"form": form, "next": back, "from_note": note}
    return render(request, "indicators/parameter_new.html", context, status=status)


@login_required
def parameter_edit(request: HttpRequest, key: str) -> HttpResponse:
    """Change a parameter defined in the web (a pack's is changed in its pack). Its key stays; its type stays once
    values were entered (they were checked against it)."""
    if not access.scope(request.user).may_write_reports():
        raise PermissionDenied("只有报告单位的管理员或审核员可以修改报告参数")
    param = _get_parameter(key)
    if param.pack:
        raise PermissionDenied(f"报告参数“{param.label}”由数据包 {param.pack} 定义，请在数据包中修改")
    initial = {**_parameter_out(param), "description": param.indicator.description}
    form = DefineForm(request.POST if request.method == "POST" else None, initial=initial)
    form.fields["key"].disabled = True
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = {**form.cleaned_data, "key": param.key}
            if data["type"] != param.type and param.values.exists():
                form.add_error("type", f"【类型】“{param.label}”已有填报值，不能改变类型")
            else:
                try:
                    param = parameters.define(**data, pack="")
                except parameters.ParameterInvalid as exc:
                    for field, message in exc.errors.items():
                        form.add_error(field if field in form.fields else None, message)
                else:
                    messages.success(request, f"报告参数“{param.label}”已修改。")
                    return redirect("indicators:parameter", param.key)
        status = 400
    context = {"form": form, "param": param}
    return render(request, "indicators/parameter_new.html", context, status=status)


@login_required
def parameter_detail(
    request: HttpRequest, key: str, form: EntryForm | None = None, fmt: str = ""
) -> HttpResponse:
    scope = access.scope(request.user)
    if not scope.has_role:
        raise PermissionDenied("无权查看报告参数")
    param = _get_parameter(key)
    if fmt == "json":  # the page's twin: the definition and the current entries the account may see
        entries = [
            schemas.parameter_entry_out(e) for e in _visible_entries(request.user, param)[:ENTRIES_SHOWN]
        ]
        return json_response({"parameter": _parameter_out(param), "entries": entries})
    from .builder import PREFILL_NOTE, back_to, bounded

    back = back_to(request.POST if request.method == "POST" else request.GET)
    if form is None:
        today = dt.date.today()
        initial: dict[str, Any] = {
            "period_start": dt.date(today.year - 1, 1, 1),
            "period_end": dt.date(today.year - 1, 12, 31),
        }
        if (
            back
        ):  # opened from another page (从 Word 生成模板): the entry it asks for, to be checked and saved
            initial.update(_entry_prefill(request.user, param, request.GET))
        form = EntryForm(request.user, param, initial=initial)
    may_enter = form.fields["org"].queryset.exists()  # type: ignore[attr-defined]
    context = {
        "param": param,
        "form": form,
        "may_enter": may_enter,
        "may_edit": not param.pack and scope.may_write_reports(),
        "rows": _entry_rows(request.user, param),
        "next": back,
        "from_note": bounded(request.GET.get("from"), PREFILL_NOTE) if back else "",
    }
    return render(request, "indicators/parameter.html", context, status=400 if form.errors else 200)


def _entry_prefill(user: Any, param: Parameter, query: Any) -> dict[str, Any]:
    """An entry's form filled from query parameters (org, start, end, value, source): an org the account may not
    enter for, a date that is no date, are left out; texts are bounded. Saving checks all as any entry."""
    from .builder import bounded

    initial: dict[str, Any] = {}
    org = access.scope(user).parameter_orgs(param).filter(code=bounded(query.get("org"), 60)).first()
    if org is not None:
        initial["org"] = org.pk
    for name, field in (("start", "period_start"), ("end", "period_end")):
        with contextlib.suppress(ValueError):  # no date: the default period stays
            initial[field] = dt.date.fromisoformat(bounded(query.get(name), 10))
    for name, limit in (("value", 200), ("source", parameters.SOURCE_LIMIT)):
        text = bounded(query.get(name), limit)
        if text:
            initial[name] = text
    return initial


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    ok = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if target and ok and target.startswith("/") else ""


@login_required
@require_POST
def parameter_enter(request: HttpRequest, key: str) -> HttpResponse:
    """Enter a value; from the parameter's page (errors shown on its form) or a unit's task page (`next`, `task`:
    the org and period are the task's, errors come back as a message)."""
    param = _get_parameter(key)
    if not access.scope(request.user).parameter_orgs(param).exists():
        raise PermissionDenied(
            f"您无权填报报告参数“{param.label}”（需要{param.get_role_display()}及以上角色）"
        )
    back = _safe_next(request)
    form = EntryForm(request.user, param, request.POST, request.FILES)
    task = None
    if request.POST.get("task"):
        visible = access.scope(request.user).tasks(CollectionTask.objects.all())
        task = visible.filter(pk=request.POST["task"] if request.POST["task"].isdigit() else 0).first()
        if task is None or not task.parameters.filter(pk=param.pk).exists():  # type: ignore[attr-defined]
            raise Http404("该填报任务不存在或没有要求这个报告参数")
    if form.is_valid():
        data = form.cleaned_data
        if task is not None and (
            (data["period_start"], data["period_end"]) != (task.period_start, task.period_end)
            or not task.targets.filter(org=data["org"]).exists()
        ):
            form.add_error(None, "填报单位或统计期与填报任务不符")
        else:
            try:
                entry = parameters.enter(
                    request.user,
                    param,
                    data["org"],
                    data["period_start"],
                    data["period_end"],
                    data["value"],
                    data["source"],
                    data["file"],
                    task=task,
                )
            except parameters.ParameterInvalid as exc:
                for field, message in exc.errors.items():
                    form.add_error(field if field in form.fields else None, message)
            else:
                period = Period(entry.period_start, entry.period_end)
                messages.success(
                    request,
                    f"已填报“{param.label}”：{entry.org.name}{period.label} {entry.value}{param.unit}。",
                )
                return redirect(back or reverse("indicators:parameter", args=[param.key]))
    if back:
        for errors in form.errors.values():
            for problem in errors:
                messages.error(request, f"“{param.label}”未保存：{problem}")
        return redirect(back)
    return parameter_detail(request, key, form)


@login_required
def parameter_file(request: HttpRequest, pk: int) -> FileResponse:
    entry = get_object_or_404(ParameterValue.objects.select_related("org", "parameter__indicator"), pk=pk)
    if not entry.file or not access.may_run_report(request.user, entry.org):
        raise Http404
    try:
        handle = entry.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    record(
        Action.EVIDENCE_DOWNLOAD,
        request=request,
        target=f"报告参数 {entry.parameter.key}（{entry.org.code}）佐证材料 {entry.file_name}",
    )
    return FileResponse(handle, as_attachment=True, filename=entry.file_name or "file")
