from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from dangjian.audit.log import Action, record

from .models import ReportRun, ReportTemplate


def _template_changed(request: HttpRequest, key: str, change: str, **detail: Any) -> None:
    record(Action.TEMPLATE_CHANGE, request=request, target=f"报告模板 {key}", change=change, **detail)


@admin.register(ReportTemplate)
class ReportTemplateAdmin(admin.ModelAdmin):
    """Shown, never edited here: templates are written by the people who write the report (管理员/审核员 of the
    reporting org) in the report editor, which previews, validates, versions and audits every change; the
    system administrator may not preview reports. Where a template's files live is set by its pack only.
    Deleting (a template whose pack is gone) stays possible and is audited."""

    list_display = ["key", "label", "pack", "file_path", "org_kinds", "updated_at", "editor_link"]
    search_fields = ["key", "label"]
    list_filter = ["pack"]
    fields = ("key", "label", "pack", "file_path", "org_kinds", "updated_at", "editor_link", "source")
    readonly_fields = fields

    @admin.display(description="编辑")
    def editor_link(self, obj: ReportTemplate) -> str:
        url = reverse("reports:template_edit", args=[obj.key])
        return format_html('<a href="{}">在报告模板编辑页修改（本区管理员、审核员）</a>', url)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ReportTemplate | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: ReportTemplate) -> None:
        key = obj.key
        super().delete_model(request, obj)
        _template_changed(request, key, "删除")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ReportTemplate]) -> None:
        keys = list(queryset.values_list("key", flat=True))
        super().delete_queryset(request, queryset)
        for key in keys:
            _template_changed(request, key, "删除")


RUN_FIELDS = ("org", "template_label", "period_label", "period_start", "period_end", "created_by", "created_at",
              "report_page")  # fmt: skip


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    """Finalised runs are listed, never changed or deleted, and shown by their metadata only: their text and
    figures can come from confidential ledgers, and the admin knows nothing of ledger access (the system
    administrator has none). The report page, which checks access, is one click away."""

    list_display = ["org", "template_label", "period_label", "created_by", "created_at"]
    list_filter = ["template_label"]
    fields = RUN_FIELDS
    readonly_fields = RUN_FIELDS

    @admin.display(description="报告全文")
    def report_page(self, obj: ReportRun) -> str:
        url = reverse("reports:run", kwargs={"pk": obj.pk})
        return format_html('<a href="{}">在报告页面查看（须有该单位的查看权限）</a>', url)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ReportRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ReportRun | None = None) -> bool:
        return False
