"""报告参数 in 填报任务: a task may ask its units for parameters (registered in tasks' extras, see tasks/extras.py).

The task's form gets a 报告参数 choice; the task's page lists what it asks; a unit's page under the task shows
each parameter with its current entry for the unit and the task's period, and a form to enter it (posted to the
parameter's entry view, which applies the same rules as anywhere: parameters.enter).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django.template.loader import render_to_string

from dangjian.orgs import access
from dangjian.tasks.models import CollectionTask, TaskTarget

from . import parameters
from .models import Parameter, ParameterValue


class ParameterChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Parameter) -> str:  # type: ignore[override]
        unit = f"（{obj.unit}）" if obj.unit else ""
        return f"{obj.label}{unit} · {obj.key}"


class TaskParameters:
    """The tasks extra of the indicators stage."""

    FIELD = "report_parameters"

    def form_fields(self, user: Any) -> dict[str, forms.Field]:
        if not Parameter.objects.exists():  # nothing to ask for: the form stays as it was
            return {}
        field = ParameterChoice(
            label="报告参数",
            queryset=Parameter.objects.select_related("indicator").order_by("indicator__key"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text="台账以外的数字（如学习强国后台数据），由各填报单位按统计期填写并注明来源",
        )
        return {self.FIELD: field}

    def asks(self, data: dict[str, Any]) -> bool:
        return bool(data.get(self.FIELD))

    def created(self, user: Any, task: CollectionTask, data: dict[str, Any]) -> None:
        task.parameters.set(data.get(self.FIELD) or [])

    def panel(self, request: HttpRequest, task: CollectionTask, target: TaskTarget | None) -> str:
        asked = list(task.parameters.select_related("indicator"))  # type: ignore[attr-defined]
        if not asked:
            return ""
        if target is None:
            context = {"asked": asked, "rows": self._collected(request.user, task, asked)}
            return render_to_string("indicators/task_summary.html", context, request=request)
        scope = access.scope(request.user)
        current = parameters.current_values(asked, target.org, task.period_start, task.period_end)
        rows = []
        for param in asked:
            entry = current.get(param.pk)
            may = scope.may_enter_parameter(param, target.org)
            locked = parameters.lock(request.user, param, target.org, task.period_start, task.period_end)
            rows.append({"param": param, "entry": entry, "may_enter": may and locked is None})
        context = {"task": task, "target": target, "rows": rows, "next": request.get_full_path()}
        return render_to_string("indicators/task_panel.html", context, request=request)

    def _collected(self, user: Any, task: CollectionTask, asked: list[Parameter]) -> list[dict[str, Any]]:
        """Each unit the viewer sees of the task, with its current entry of each parameter (or None)."""
        targets = list(
            access.scope(user).targets(task, task.targets.select_related("org").order_by("org__path"))
        )
        entries = ParameterValue.objects.filter(
            parameter__in=asked,
            org__in=[t.org_id for t in targets],
            period_start=task.period_start,
            period_end=task.period_end,
            is_current=True,
        )
        found = {(e.org_id, e.parameter_id): e for e in entries}
        return [{"target": t, "entries": [found.get((t.org_id, p.pk)) for p in asked]} for t in targets]

    def missing(self, target: TaskTarget) -> list[str]:
        task = target.task
        asked = list(task.parameters.select_related("indicator"))  # type: ignore[attr-defined]
        have = parameters.current_values(asked, target.org, task.period_start, task.period_end)
        return [f"报告参数“{p.label}”" for p in asked if p.pk not in have]


task_parameters = TaskParameters()
