"""Pages of 填报任务: list, create, progress (with its xlsx and JSON twins), 报送 and 退回.

Every view starts from `_get_task_for_user` (404 for a task the user neither oversees nor is asked by: the
Scope's `tasks`); the rules themselves live in the Scope, applied by `collection`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dangjian.orgs import access
from dangjian.orgs.models import Organization, OrgKind
from dangjian.orgs.picker import OrgChoiceField
from dangjian.records.models import LedgerType
from dangjian.spreadsheets.xlsx import XLSX_MIME
from dangjian.web.responses import content_disposition, download_name, json_response

from . import collection, extras, schemas
from .models import CollectionTask, TaskTarget


class TaskForm(forms.Form):
    title = forms.CharField(label="任务名称", max_length=120)
    creator_org = OrgChoiceField(label="发起单位", queryset=Organization.objects.none())
    ledger_types = forms.ModelMultipleChoiceField(
        label="台账", queryset=LedgerType.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    period_start = forms.DateField(label="统计期起", widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label="统计期止", widget=forms.DateInput(attrs={"type": "date"}))
    scope_root = OrgChoiceField(
        label="填报范围",
        queryset=Organization.objects.none(),
        help_text="向该组织的下级单位收集（不含其本身）",
    )
    kinds = forms.ModelMultipleChoiceField(
        label="单位类别",
        queryset=OrgKind.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="不选则为范围内全部下级单位",
    )
    deadline = forms.DateField(label="截止日期", widget=forms.DateInput(attrs={"type": "date"}))
    instructions = forms.CharField(label="填报说明", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = access.scope(user)
        mine = scope.orgs(access.REVIEW_ROLES).filter(is_active=True).order_by("path")
        self.fields["creator_org"].queryset = mine  # type: ignore[attr-defined]
        self.fields["scope_root"].queryset = mine  # type: ignore[attr-defined]
        ledgers = scope.ledger_types(LedgerType.objects.filter(is_active=True))
        self.fields["ledger_types"].queryset = ledgers  # type: ignore[attr-defined]
        for extra in extras.registered():  # e.g. 报告参数 (see extras.py): then a task may ask for no ledger
            more = extra.form_fields(user)
            if more:
                self.fields.update(more)
                self.fields["ledger_types"].required = False
        for field in self.fields.values():
            field.error_messages["required"] = f"【{field.label}】为必填项"
            if isinstance(field, forms.DateField):
                field.error_messages["invalid"] = f"【{field.label}】格式不正确，请按 2019-12-31 的格式填写"


def _get_task_for_user(user: Any, pk: int) -> CollectionTask:
    visible = access.scope(user).tasks(CollectionTask.objects.select_related("creator_org", "scope_root"))
    return get_object_or_404(visible, pk=pk)


def _get_target_for_user(user: Any, task: CollectionTask, target_pk: int) -> TaskTarget:
    return get_object_or_404(collection.visible_targets(user, task), pk=target_pk)


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    tasks = collection.visible_tasks(request.user).select_related("creator_org").order_by("-created_at")
    may_create = access.scope(request.user).orgs(access.REVIEW_ROLES).exists()
    return render(request, "tasks/list.html", {"tasks": tasks, "may_create": may_create})


@login_required
def task_new(request: HttpRequest) -> HttpResponse:
    if not access.scope(request.user).orgs(access.REVIEW_ROLES).exists():
        raise PermissionDenied("只有管理员或审核员可以创建填报任务")
    form = TaskForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        asked = [extra for extra in extras.registered() if extra.asks(data)]
        try:
            with transaction.atomic():
                task = _create(request.user, data, others=bool(asked))
                for extra in asked:
                    extra.created(request.user, task, data)
        except collection.TaskError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"填报任务已创建，共 {task.targets.count()} 个填报单位。")
            return redirect("ledgers:task", task.pk)
    return render(request, "tasks/form.html", {"form": form})


def _create(user: Any, data: dict[str, Any], *, others: bool) -> CollectionTask:
    return collection.create_task(
        user,
        title=data["title"],
        creator_org=data["creator_org"],
        ledger_types=data["ledger_types"],
        period_start=data["period_start"],
        period_end=data["period_end"],
        scope_root=data["scope_root"],
        kinds=data["kinds"],
        deadline=data["deadline"],
        instructions=data["instructions"],
        others=others,
    )


@login_required
def task_detail(request: HttpRequest, pk: int, fmt: str = "") -> HttpResponse:
    task = _get_task_for_user(request.user, pk)
    prog = collection.progress(request.user, task)
    if fmt == "xlsx":
        response = HttpResponse(collection.export_xlsx(prog), content_type=XLSX_MIME)
        name = download_name(f"填报任务“{task.title}”进度", "xlsx")
        response["Content-Disposition"] = content_disposition(name)
        return response
    if fmt == "json":
        return json_response(_progress_json(prog))
    panels = extras.panels(request, task, None)
    return render(request, "tasks/detail.html", {"task": task, "prog": prog, "panels": panels})


def _progress_json(prog: collection.Progress) -> dict[str, Any]:
    """The task's progress as the API's `TaskDetail` shows it (same schema; `json_response` encodes it alike)."""
    return schemas.dumped_detail(prog)


@login_required
def target_log(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    task = _get_task_for_user(request.user, pk)
    target = _get_target_for_user(request.user, task, target_pk)
    events = target.events.select_related("by")
    panels = extras.panels(request, task, target)
    context = {"task": task, "target": target, "events": events, "panels": panels}
    return render(request, "tasks/log.html", context)


@login_required
@require_POST
def target_submit(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    task = _get_task_for_user(request.user, pk)
    target = _get_target_for_user(request.user, task, target_pk)
    try:
        collection.submit(request.user, target)  # PermissionDenied (403) for those who may not
    except collection.TaskError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"“{target.org.name}”已报送，相关记录已锁定。")
    return redirect("ledgers:task", task.pk)


@login_required
@require_POST
def target_return(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    task = _get_task_for_user(request.user, pk)
    target = _get_target_for_user(request.user, task, target_pk)
    try:
        collection.return_target(request.user, target, request.POST.get("reason", ""))
    except collection.TaskError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已退回“{target.org.name}”的报送，该单位可修改后重新报送。")
    return redirect("ledgers:task", task.pk)
