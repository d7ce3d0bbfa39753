"""Admin pages: the organisation tree (add, move, rename, deactivate), kinds and memberships."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import ProtectedError, Q
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .models import Membership, Organization, OrgKind


@admin.register(OrgKind)
class OrgKindAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "order"]
    search_fields = ["label", "code"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(TreeAdmin):
    form = movenodeform_factory(Organization, exclude=["path", "depth", "numchild"])
    list_display = ["name", "code", "short_name", "is_active"]
    list_filter = ["is_active", "kinds"]
    search_fields = ["name", "code", "short_name"]
    filter_horizontal = ["kinds"]
    inlines = [MembershipInline]
    actions = ["deactivate", "activate"]

    @admin.action(description="停用所选组织")
    def deactivate(self, request, queryset):
        # A unit that is closed takes its sub-units with it; their records stay, read-only to reports.
        q = Q(pk__in=[])
        for org in queryset:
            q |= Q(path__startswith=org.path)
        n = Organization.objects.filter(q, is_active=True).update(is_active=False)
        self.message_user(request, f"已停用 {n} 个组织（含下级组织）。")

    @admin.action(description="启用所选组织")
    def activate(self, request, queryset):
        n = queryset.update(is_active=True)
        self.message_user(request, f"已启用 {n} 个组织。")

    def _has_records(self, org: Organization) -> bool:
        # Records point at orgs with PROTECT; look for any in the subtree before a delete is offered.
        from django.apps import apps

        record = apps.get_model("ledgers", "Record")
        return record.objects.filter(org__path__startswith=org.path).exists()

    def get_deleted_objects(self, objs, request):
        # Treebeard deletes a node's whole subtree, which the admin's collector does not see: report any
        # org whose subtree has records as protected, so the admin refuses instead of failing half-way.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        used = [obj for obj in objs if self._has_records(obj)]
        if used:
            protected = [f"组织“{obj.name}”或其下级组织已有台账记录，不能删除，请改为停用" for obj in used]
            perms_needed = set()  # has_delete_permission refuses these orgs; say why instead
        return deleted, counts, perms_needed, protected

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self._has_records(obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        try:
            super().delete_model(request, obj)
        except ProtectedError:
            messages.error(request, f"组织“{obj.name}”已有台账记录，不能删除，请改为停用。")

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            if self._has_records(obj):
                messages.error(request, f"组织“{obj.name}”已有台账记录，不能删除，请改为停用。")
                return
        super().delete_queryset(request, queryset)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "org", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "org__name", "org__code"]
    autocomplete_fields = ["user", "org"]
