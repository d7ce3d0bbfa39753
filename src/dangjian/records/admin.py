"""Admin pages to create and edit ledger types and their fields.

Records are deliberately NOT registered here: the system administrator manages definitions, accounts and
backups, never ledger rows (separation of duties). Fields cannot be deleted, only archived, so that values
already stored under a field are never lost.

The confidential settings of a ledger type (涉密, the orgs and kinds that see its rows) belong to the 安全管理员
alone, whatever Django permissions or superuser status others hold; his changes take effect only when another
安全管理员 approves them (dangjian.orgs.approvals).
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count

from dangjian.orgs import approvals
from dangjian.orgs.admin import PendingMessages
from dangjian.orgs.duties import is_security_admin

from .models import FieldType, LedgerField, LedgerType, Record

CHOICE_TYPES = {FieldType.CHOICE, FieldType.MULTICHOICE}
NUMBER_TYPES = {FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY}


class ChoicesField(forms.CharField):
    """Options typed as 选项一、选项二 (or one per line, or a JSON list); stored as a JSON list."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                return value
        if isinstance(value, list):
            return "、".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]  # a list, stored as JSON
        text = (value or "").strip()
        if not text:
            return []
        if text.startswith("["):
            try:
                items = json.loads(text)
            except ValueError:
                raise ValidationError("选项格式不正确，请用“、”分隔，如：党纪处分、政务处分") from None
            if not isinstance(items, list):
                raise ValidationError("选项格式不正确，请用“、”分隔，如：党纪处分、政务处分")
        else:
            items = re.split(r"[、,，;；\n]", text)
        options = [str(item).strip() for item in items if str(item).strip()]
        duplicates = sorted({o for o in options if options.count(o) > 1})
        if duplicates:
            raise ValidationError(f"选项重复：{'、'.join(duplicates)}")
        return options


FIELD_COLUMNS = [
    "order", "code", "label", "type", "required", "choices", "min_value", "max_value", "unit",
    "help_text", "sensitive", "is_key", "is_archived",
]  # fmt: skip


CONFIDENTIAL_FIELDS = ["confidential", "confidential_kinds", "confidential_orgs"]


class LedgerFieldForm(forms.ModelForm):
    choices = ChoicesField(
        label="选项",
        required=False,
        help_text="单选/多选字段的选项，用“、”分隔，如：党纪处分、政务处分",
        widget=forms.TextInput(attrs={"size": 30}),
    )

    class Meta:
        model = LedgerField
        fields = FIELD_COLUMNS
        help_texts = {
            "is_archived": "字段不能删除：不再使用的字段请勾选“已归档”，已填写的数据会保留并显示为已归档",
            "code": "字母、数字、下划线或汉字；记录中的数据按代码保存，已有数据后请勿修改",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("type")
        choices = data.get("choices") or []
        if kind in CHOICE_TYPES and not choices:
            self.add_error("choices", "单选、多选字段须至少有一个选项")
        if kind and kind not in CHOICE_TYPES and choices:
            self.add_error("choices", "只有单选、多选字段可以设置选项，请清空")
        self._refuse_changes_that_strand_data()
        low, high = data.get("min_value"), data.get("max_value")
        if kind and kind not in NUMBER_TYPES and (low is not None or high is not None):
            self.add_error("min_value", "只有整数、小数、金额字段可以设置最小值、最大值")
        if low is not None and high is not None and low > high:
            self.add_error("max_value", f"最大值 {high.normalize():f} 不能小于最小值 {low.normalize():f}")
        return data

    def _refuse_changes_that_strand_data(self) -> None:
        """Values are stored by field code and read by type: once records hold a value, neither may change."""
        field = self.instance
        changed = [name for name in ("code", "type") if name in self.changed_data]
        if not field.pk or not changed:
            return
        stored = Record.objects.filter(ledger_type_id=field.ledger_type_id, values__has_key=field.code)
        if stored.exists():
            for name in changed:
                what = "代码" if name == "code" else "类型"
                self.add_error(
                    name,
                    f"字段“{field.label}”已有填报数据，不能修改{what}；如需调整，请归档此字段并新增一个字段",
                )


class LedgerFieldFormSet(forms.BaseInlineFormSet):
    """Checks that need all the fields at once: the date and end-date fields name date fields of this ledger."""

    def clean(self) -> None:
        super().clean()
        fields: dict[str, dict[str, Any]] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("code"):
                fields[data["code"]] = data
        ledger_type = self.instance
        errors = []
        for attr, label in (("date_field", "日期字段"), ("end_date_field", "截止日期字段")):
            code = getattr(ledger_type, attr, "")
            if not code:
                continue
            field = fields.get(code)
            if field is None:
                errors.append(f"【{label}】“{code}”不是本台账的字段，请填写一个日期型字段的代码")
            elif field.get("type") != FieldType.DATE:
                errors.append(f"【{label}】“{code}”（{field.get('label', '')}）不是日期型字段")
            elif field.get("is_archived"):
                errors.append(f"【{label}】“{code}”已归档，不能作为{label}")
        if ledger_type.end_date_field and ledger_type.end_date_field == ledger_type.date_field:
            errors.append("【截止日期字段】不能与日期字段相同")
        if errors:
            raise ValidationError(errors)


class LedgerFieldInline(admin.TabularInline):
    model = LedgerField
    form = LedgerFieldForm
    formset = LedgerFieldFormSet
    fields = FIELD_COLUMNS  # type: ignore[assignment]
    extra = 1
    can_delete = False  # deleting a field would orphan its stored values: archive it instead
    verbose_name = "字段"
    verbose_name_plural = "字段（字段不能删除：不再使用的字段请勾选“已归档”，已填写的数据会保留）"

    # The security administrator sees the fields of a ledger whose confidential settings he keeps, never edits them.
    def has_view_permission(self, request, obj=None) -> bool:
        return is_security_admin(request.user) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return not is_security_admin(request.user) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not is_security_admin(request.user) and super().has_change_permission(request, obj)


class LedgerTypeForm(forms.ModelForm):
    class Meta:
        model = LedgerType
        fields = [
            "code", "label", "category", "description", "order", "is_active", "date_field", "end_date_field",
            "confidential", "confidential_kinds", "confidential_orgs",
        ]  # fmt: skip
        help_texts = {
            "date_field": "记录日期所在字段的代码（须为本台账的日期型字段），如 date",
            "end_date_field": "任期类台账的结束日期字段代码（须为日期型字段），可不填",
            "confidential": "涉密台账仅“可见明细的组织（类别）”的成员可见明细，其他人只见汇总数",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        named = bool(data.get("confidential_orgs")) or bool(data.get("confidential_kinds"))
        if data.get("confidential") and not named:
            self.add_error("confidential", "涉密台账须指定可见明细的组织或组织类别")
        if not data.get("confidential") and named:
            self.add_error("confidential", "已指定可见明细的组织（类别），请勾选“涉密”，或清空这些指定")
        if (
            self.instance.pk
            and "confidential" in self.fields
            and set(self.changed_data) & set(CONFIDENTIAL_FIELDS)
        ):
            try:
                approvals.check_no_pending_confidential(self.instance)
            except approvals.ApprovalRefused as exc:
                self.add_error("confidential", exc.message)
        return data


@admin.register(LedgerType)
class LedgerTypeAdmin(PendingMessages, admin.ModelAdmin):
    form = LedgerTypeForm
    inlines = [LedgerFieldInline]
    list_display = ["label", "code", "category", "field_count", "confidential", "is_active", "pack"]
    list_filter = ["category", "confidential", "is_active", "pack"]
    search_fields = ["label", "code", "category"]
    readonly_fields = ["pack"]
    filter_horizontal = ["confidential_kinds"]
    autocomplete_fields = ["confidential_orgs"]
    fieldsets = [
        (None, {"fields": ["code", "label", "category", "description", "order", "is_active", "pack"]}),
        ("日期", {"fields": ["date_field", "end_date_field"]}),
        ("涉密", {"fields": ["confidential", "confidential_kinds", "confidential_orgs"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_field_count=Count("fields"))

    # --- 三员分立: the confidential settings are the security administrator's, and only they --------------------

    def has_module_permission(self, request) -> bool:
        return is_security_admin(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_security_admin(request.user) or super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_security_admin(request.user) or super().has_change_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return not is_security_admin(request.user) and super().has_add_permission(request)

    def get_readonly_fields(self, request, obj=None):
        if is_security_admin(request.user):
            return [f for fs in self.fieldsets for f in fs[1]["fields"] if f not in CONFIDENTIAL_FIELDS]
        return [*self.readonly_fields, *CONFIDENTIAL_FIELDS]

    def save_model(self, request, obj, form, change) -> None:
        if "confidential" in form.fields and obj.pk is not None:
            obj.confidential = LedgerType.objects.values_list("confidential", flat=True).get(pk=obj.pk)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        if "confidential" not in form.fields:  # not the security administrator: nothing confidential to ask
            return super().save_related(request, form, formsets, change)
        wanted = {name: form.cleaned_data.get(name) for name in CONFIDENTIAL_FIELDS}
        # The many-to-many settings stay as they are until the request is approved.
        form.cleaned_data["confidential_kinds"] = list(form.instance.confidential_kinds.all())
        form.cleaned_data["confidential_orgs"] = list(form.instance.confidential_orgs.all())
        super().save_related(request, form, formsets, change)
        try:
            change_request = approvals.request_confidential(
                request.user,
                form.instance,
                confidential=bool(wanted["confidential"]),
                kinds=list(wanted["confidential_kinds"] or []),
                orgs=list(wanted["confidential_orgs"] or []),
                request=request,
            )
        except approvals.ApprovalRefused as exc:
            self.message_user(request, exc.message, level="error")
        else:
            self.remember_pending(request, change_request)

    @admin.display(description="字段数", ordering="_field_count")
    def field_count(self, obj: LedgerType) -> int:
        return obj._field_count  # type: ignore[attr-defined]

    def has_delete_permission(self, request, obj=None) -> bool:
        # A ledger type with records (even deleted ones) is kept: deactivate it instead.
        if obj is not None and obj.records.exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        # Refuse with a plain message rather than a list of the records (their rows are not the admin's).
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        used = [lt for lt in objs if lt.records.exists()]
        if used:
            protected = [f"台账“{lt.label}”已有记录，不能删除，请改为停用" for lt in used]
            perms_needed = set()  # has_delete_permission refuses these ledger types; say why instead
        return deleted, counts, perms_needed, protected

    def delete_queryset(self, request, queryset) -> None:
        used = [lt.label for lt in queryset if lt.records.exists()]
        if used:
            self.message_user(
                request, f"台账“{'、'.join(used)}”已有记录，不能删除，请改为停用。", level="error"
            )
            return
        super().delete_queryset(request, queryset)
