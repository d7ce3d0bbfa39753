"""Admin pages for indicators and checks. Validation is the pack loader's (Model.clean → compiler/formulas), so a
definition refused in a pack file is refused here too, with the same Chinese message."""

from __future__ import annotations

from django.contrib import admin

from .models import Check, Indicator


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["key", "label", "kind", "ledger", "aggregate", "unit", "pack"]
    list_filter = ["kind", "pack", "ledger", "aggregate"]
    search_fields = ["key", "label", "formula"]
    list_select_related = ["ledger"]
    fieldsets = [
        (None, {"fields": ["key", "label", "unit", "kind", "description", "pack"]}),
        (
            "台账汇总",
            {
                "fields": [
                    "ledger",
                    "aggregate",
                    "field",
                    "where",
                    "status",
                    "org_kinds",
                    "scope",
                    "period",
                    "options",
                ]
            },
        ),
        ("公式", {"fields": ["formula"]}),
        ("组织或期间属性", {"fields": ["attribute"]}),
    ]


@admin.register(Check)
class CheckAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "level", "pack", "order"]
    list_filter = ["level", "pack"]
    search_fields = ["code", "label", "rule"]
