"""Admin pages for indicators and checks. Validation is the pack loader's (Model.clean → compiler/formulas), so a
definition refused in a pack file is refused here too, with the same Chinese message.

Indicators over a confidential ledger are defined and changed only by those who may see its rows: anyone else
could write a filter such as 被审查人 = 某人 and read from its count whether that person is under investigation."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from dangjian.orgs import access
from dangjian.records.models import LedgerType

from .models import Check, Indicator


def _hidden_ledgers(request: HttpRequest) -> set[int]:
    """Confidential ledgers whose rows the staff user may not see."""
    return {
        lt.pk
        for lt in LedgerType.objects.filter(confidential=True)
        if not access.may_see_rows(request.user, lt)
    }


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

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "ledger":
            kwargs["queryset"] = LedgerType.objects.exclude(pk__in=_hidden_ledgers(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.ledger_id in _hidden_ledgers(request):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.ledger_id in _hidden_ledgers(request):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Check)
class CheckAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "level", "pack", "order"]
    list_filter = ["level", "pack"]
    search_fields = ["code", "label", "rule"]
