from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import ReportRun, ReportTemplate


@admin.register(ReportTemplate)
class ReportTemplateAdmin(admin.ModelAdmin):
    list_display = ["key", "label", "pack", "file_path", "updated_at"]
    search_fields = ["key", "label"]
    list_filter = ["pack"]


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    """Finalised runs are shown, never changed or deleted."""

    list_display = ["org", "template_label", "period_label", "created_by", "created_at"]
    list_filter = ["template_label"]
    exclude = ["docx", "marked"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ReportRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ReportRun | None = None) -> bool:
        return False
