"""Admin pages of 填报任务 (/admin/tasks/collectiontask/): a task and its units, read-only where the task page owns
the change."""

from __future__ import annotations

from django.contrib import admin

from .models import CollectionTask, TaskTarget


class TaskTargetInline(admin.TabularInline):
    """Statuses change only through 报送/退回 on the task's page, where every change is logged."""

    model = TaskTarget
    fields = ["org", "status", "submitted_at", "submitted_by", "return_reason"]
    readonly_fields = fields  # type: ignore[assignment]
    extra = 0
    can_delete = False
    verbose_name_plural = "填报单位（状态只能在任务页面报送、退回）"

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CollectionTask)
class CollectionTaskAdmin(admin.ModelAdmin):
    list_display = ["title", "creator_org", "period_start", "period_end", "deadline", "created_at"]
    search_fields = ["title"]
    fields = ["title", "creator_org", "scope_root", "ledger_types", "period_start", "period_end", "deadline",
              "instructions", "created_by", "created_at"]  # fmt: skip
    # Targets are resolved from scope and kinds at creation (web page), so these stay as created.
    readonly_fields = ["creator_org", "scope_root", "ledger_types", "period_start", "period_end",
                       "created_by", "created_at"]  # fmt: skip
    inlines = [TaskTargetInline]

    def has_add_permission(self, request) -> bool:
        return False  # create tasks on the 填报任务 page, which resolves the target units
