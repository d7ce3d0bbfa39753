"""Admin pages under 三员分立 (separation of duties).

- 系统管理员: accounts (create, change, deactivate, reset passwords); he may look at the org tree.
- 安全管理员: the org tree and its kinds, memberships, the three duties, approvals (and, in the ledgers admin, the
  confidential settings of ledger types).
- 安全审计员: no admin at all (see admin_site.py); he reads the audit log at /audit/.

Each page asks for the duty itself, not for Django permissions, so superuser status alone opens none of them.
Memberships at confidential orgs become requests that another 安全管理员 approves (approvals.py); every change here
is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.db.models import ProtectedError, Q
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from dangjian.audit.log import Action, record

from . import approvals
from .approvals import ApprovalRefused
from .duties import duty_of
from .models import AdminDuty, ChangeStatus, Duty, Membership, Organization, OrgKind, PendingChange

User = get_user_model()


class DutyPermissions:
    """Admin permissions by duty: `manager` adds, changes and deletes; `viewers` may look."""

    manager: str = Duty.SECURITY
    viewers: frozenset[str] = frozenset()

    def _may_view(self, request: Any) -> bool:
        return duty_of(request.user) in {self.manager, *self.viewers}

    def _may_manage(self, request: Any) -> bool:
        return duty_of(request.user) == self.manager

    def has_module_permission(self, request: Any) -> bool:
        return self._may_view(request)

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return self._may_view(request)

    def has_add_permission(self, request: Any, *args: Any) -> bool:
        return self._may_manage(request)

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return self._may_manage(request)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return self._may_manage(request)


class PendingMessages:
    """After a save that became a request for approval, say so instead of “saved successfully”."""

    PENDING_ATTR = "_dangjian_pending"

    def remember_pending(self, request: Any, change: PendingChange | None) -> None:
        if change is not None:
            setattr(request, self.PENDING_ATTR, change)

    def message_user(
        self,
        request: HttpRequest,
        message: Any,
        level: int | str = messages.INFO,
        extra_tags: str = "",
        fail_silently: bool = False,
    ) -> None:
        change = getattr(request, self.PENDING_ATTR, None)
        if change is not None and level == messages.SUCCESS:
            message = f"已提交审批：{change.summary}。须由另一名安全管理员批准后生效（见“待审批变更”）。"
            level = messages.WARNING
        super().message_user(request, message, level, extra_tags, fail_silently)  # type: ignore[misc]


# --- the organisation tree ----------------------------------------------------------------------------------


@admin.register(OrgKind)
class OrgKindAdmin(DutyPermissions, admin.ModelAdmin):
    viewers = frozenset({Duty.SYSTEM})
    list_display = ["label", "code", "order"]
    search_fields = ["label", "code"]


class MembershipForm(forms.ModelForm):
    """Refuses on the form what the rules refuse: a grant to oneself or to an administrator (三员)."""

    by: Any = None  # the administrator at work, set per request by the admin

    class Meta:
        model = Membership
        fields = ["user", "org", "role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user = data.get("user")
        if user is not None and self.has_changed():
            try:
                approvals.check_grantee(self.by, user)
            except ApprovalRefused as exc:
                self.add_error("user", exc.message)
        return data


def _form_for(request: Any, base: type[forms.ModelForm] = MembershipForm) -> type[forms.ModelForm]:
    return type(base.__name__, (base,), {"by": request.user})


class MembershipInline(DutyPermissions, admin.TabularInline):
    model = Membership
    form = MembershipForm
    extra = 0
    autocomplete_fields = ["user"]
    verbose_name_plural = "成员角色（在涉密单位授予角色须经另一名安全管理员审批）"

    def get_formset(self, request: Any, obj: Any = None, **kwargs: Any) -> Any:
        kwargs["form"] = _form_for(request)
        return super().get_formset(request, obj, **kwargs)


class OrganizationForm(movenodeform_factory(Organization, exclude=["path", "depth", "numchild"])):  # type: ignore[misc]
    """Refuses a move or a change of kinds that would let existing members see confidential rows unapproved."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        org = self.instance
        if org.pk is None or self.errors:
            return data
        ref = data.get("treebeard_ref_node")
        position = data.get("treebeard_position") or ""
        if ref is None:
            parent = None
        elif "child" in position:
            parent = ref
        else:
            parent = ref.get_parent()
        exposed = approvals.exposed_by_move(org, parent, data.get("kinds"))
        if exposed.exists():
            raise forms.ValidationError(approvals.exposure_message(org, exposed))
        return data


@admin.register(Organization)
class OrganizationAdmin(DutyPermissions, PendingMessages, TreeAdmin):
    viewers = frozenset({Duty.SYSTEM})
    form = OrganizationForm
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

    def move_node(self, request):
        # Drag and drop in the tree: the same refusal as the change form's.
        node = Organization.objects.filter(pk=request.POST.get("node")).first()
        target = Organization.objects.filter(pk=request.POST.get("target")).first()
        if node is not None and target is not None and self.has_change_permission(request, node):
            parent = target if request.POST.get("relation") == "child" else target.get_parent()
            exposed = approvals.exposed_by_move(node, parent, None)
            if exposed.exists():
                messages.error(request, approvals.exposure_message(node, exposed))
                return HttpResponseBadRequest("refused")
        return super().move_node(request)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        for obj in formset.save(commit=False):
            old = Membership.objects.filter(pk=obj.pk).select_related("org").first() if obj.pk else None
            try:
                self.remember_pending(
                    request, approvals.save_membership(request.user, obj, old=old, request=request)
                )
            except ApprovalRefused as exc:
                messages.error(request, exc.message)
        for obj in formset.deleted_objects:
            approvals.delete_membership(request.user, obj, request=request)

    def _has_records(self, org: Organization) -> bool:
        # Records point at orgs with PROTECT; look for any in the subtree before a delete is offered.
        from django.apps import apps

        record_model = apps.get_model("ledgers", "Record")
        return record_model.objects.filter(org__path__startswith=org.path).exists()

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

    def _audit_removed_memberships(self, request: Any, org: Organization) -> None:
        # The memberships of a deleted subtree go with it: the audit log says so.
        gone = Membership.objects.filter(org__path__startswith=org.path).select_related("user", "org")
        for membership in gone:
            approvals.delete_membership(request.user, membership, request=request, why="随组织删除")

    def delete_model(self, request, obj):
        if self._has_records(obj):
            messages.error(request, f"组织“{obj.name}”已有台账记录，不能删除，请改为停用。")
            return
        try:
            self._audit_removed_memberships(request, obj)
            super().delete_model(request, obj)
        except ProtectedError:
            messages.error(request, f"组织“{obj.name}”已有台账记录，不能删除，请改为停用。")

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            if self._has_records(obj):
                messages.error(request, f"组织“{obj.name}”已有台账记录，不能删除，请改为停用。")
                return
        for obj in queryset:
            self._audit_removed_memberships(request, obj)
        super().delete_queryset(request, queryset)


@admin.register(Membership)
class MembershipAdmin(DutyPermissions, PendingMessages, admin.ModelAdmin):
    form = MembershipForm
    list_display = ["user", "org", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "org__name", "org__code"]
    autocomplete_fields = ["user", "org"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = _form_for(request)
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        old = Membership.objects.filter(pk=obj.pk).select_related("org").first() if change else None
        try:
            self.remember_pending(
                request, approvals.save_membership(request.user, obj, old=old, request=request)
            )
        except ApprovalRefused as exc:
            messages.error(request, exc.message)

    def log_addition(self, request, obj, message):
        if obj.pk is not None:  # a request for approval added no membership
            return super().log_addition(request, obj, message)
        return None

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is not None:
            return super().response_add(request, obj, post_url_continue)
        if hasattr(request, self.PENDING_ATTR):  # it became a request for approval
            self.message_user(request, "", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:orgs_pendingchange_changelist"))
        return HttpResponseRedirect(reverse("admin:orgs_membership_changelist"))  # refused, with a message

    def delete_model(self, request, obj):
        approvals.delete_membership(request.user, obj, request=request)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("user", "org"):
            approvals.delete_membership(request.user, obj, request=request)


# --- 三员 --------------------------------------------------------------------------------------------------


class AdminDutyForm(forms.ModelForm):
    by: Any = None

    class Meta:
        model = AdminDuty
        fields = ["user", "duty"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user = data.get("user") or getattr(self.instance, "user", None)
        if user is not None and self.by is not None:
            if user.pk == self.by.pk:
                self.add_error(None, "不能给自己授予或撤销三员角色，请由另一名安全管理员办理。")
            elif Membership.objects.filter(user=user).exists():
                self.add_error("user", "该账号已有单位角色，三员账号不能兼任单位角色；请先删除其单位角色。")
        return data


@admin.register(AdminDuty)
class AdminDutyAdmin(DutyPermissions, admin.ModelAdmin):
    form = AdminDutyForm
    list_display = ["user", "duty", "granted_by", "granted_at"]
    list_filter = ["duty"]
    search_fields = ["user__username", "user__first_name"]
    autocomplete_fields = ["user"]
    readonly_fields = ["granted_by", "granted_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = _form_for(request, AdminDutyForm)
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "user"] if obj is not None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.user_id != request.user.pk)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.user_id != request.user.pk)

    def save_model(self, request, obj, form, change):
        try:
            approvals.set_duty(request.user, obj.user, obj.duty, request=request)
        except ApprovalRefused as exc:
            messages.error(request, exc.message)
        stored = AdminDuty.objects.filter(user=obj.user).first()
        if stored is not None:
            obj.pk = stored.pk

    def delete_model(self, request, obj):
        if obj.user_id == request.user.pk:
            messages.error(request, "不能撤销自己的三员角色。")
            return
        approvals.set_duty(request.user, obj.user, None, request=request)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("user"):
            self.delete_model(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:  # refused, with a message
            return HttpResponseRedirect(reverse("admin:orgs_adminduty_changelist"))
        return super().response_add(request, obj, post_url_continue)


# --- approvals ----------------------------------------------------------------------------------------------


class DecisionForm(forms.ModelForm):
    decision = forms.ChoiceField(
        label="审批意见", choices=[("approve", "批准"), ("reject", "驳回")], widget=forms.RadioSelect
    )
    by: Any = None

    class Meta:
        model = PendingChange
        fields = ["reason"]
        help_texts = {"reason": "驳回时必填，申请人可以看到"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", "驳回须填写理由。")
        if self.by is not None and self.instance.requested_by_id == self.by.pk:
            self.add_error(None, "不能审批自己提出的申请，请由另一名安全管理员审批。")
        elif self.by is not None and self.instance.payload.get("user") == self.by.pk:
            self.add_error(None, "不能审批授予自己的角色或重置自己密码的申请。")
        return data


@admin.register(PendingChange)
class PendingChangeAdmin(DutyPermissions, admin.ModelAdmin):
    """Requests for approval. The system administrator sees the password resets he asked for."""

    viewers = frozenset({Duty.SYSTEM})
    form = DecisionForm
    list_display = ["summary", "kind", "status", "requested_by", "requested_at", "decided_by", "decided_at"]
    list_filter = ["status", "kind"]
    search_fields = ["summary"]
    readonly_fields = [
        "kind",
        "summary",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
    ]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("requested_by", "decided_by")
        if duty_of(request.user) == Duty.SYSTEM:
            return qs.filter(requested_by=request.user)
        return qs

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = _form_for(request, DecisionForm)
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return [*self.readonly_fields, "decision", "reason"]
        return [*self.readonly_fields, "reason"]

    def get_readonly_fields(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return self.readonly_fields
        return [*self.readonly_fields, "reason"]

    def has_change_permission(self, request, obj=None):
        # Deciding is changing; a decided request is only looked at.
        return super().has_change_permission(request, obj) and (
            obj is None or obj.status == ChangeStatus.PENDING
        )

    def has_add_permission(self, request, *args):
        return False  # requests come from the membership and ledger type pages

    def has_delete_permission(self, request, obj=None):
        return False  # kept, decided or not, as the record of who asked and who decided

    def save_model(self, request, obj, form, change):
        try:
            if form.cleaned_data["decision"] == "approve":
                approvals.approve(obj, request.user, request=request)
                self.message_user(request, f"已批准并生效：{obj.summary}")
            else:
                approvals.reject(obj, request.user, form.cleaned_data["reason"], request=request)
                self.message_user(request, f"已驳回：{obj.summary}")
        except ApprovalRefused as exc:
            messages.error(request, exc.message)

    def response_change(self, request, obj):
        return HttpResponseRedirect(reverse("admin:orgs_pendingchange_changelist"))


# --- accounts -----------------------------------------------------------------------------------------------

admin.site.unregister(Group)  # the three duties are AdminDuty rows, not groups with permissions
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(DutyPermissions, UserAdmin):
    """Accounts, for the system administrator. He may not touch the accounts of administrators (三员) — those
    are kept on the server with `dangjian manage duty` and `dangjian manage changepassword` — and a new password
    for a member of a confidential org takes effect only when a 安全管理员 approves it."""

    manager = Duty.SYSTEM
    viewers = frozenset({Duty.SECURITY})  # he picks accounts for memberships and duties
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("first_name", "last_name", "email")}),
        ("状态", {"fields": ("is_active", "duty", "roles", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "first_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ["duty", "roles", "last_login", "date_joined"]
    list_display = ["username", "first_name", "is_active", "duty", "last_login"]
    list_filter = ["is_active"]
    filter_horizontal = []
    actions = ["deactivate"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("admin_duty")

    @admin.display(description="三员角色")
    def duty(self, obj: Any) -> str:
        try:
            return str(obj.admin_duty.get_duty_display())
        except AdminDuty.DoesNotExist:
            return "—"

    @admin.display(description="单位角色")
    def roles(self, obj: Any) -> str:
        held = Membership.objects.filter(user=obj).select_related("org") if obj.pk else []
        return "；".join(f"{m.org.name} · {m.get_role_display()}" for m in held) or "—"

    def has_change_permission(self, request, obj=None):
        if obj is not None and AdminDuty.objects.filter(user=obj).exists():
            return False  # administrators' accounts are kept on the server, not by another administrator
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the audit log and the records keep naming the account

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        fields = [f for f in form.changed_data if f not in ("password1", "password2", "usable_password")]
        if not change:
            what = "新建账号"
        elif fields == ["is_active"]:
            what = "启用账号" if obj.is_active else "停用账号"
        else:
            what = "修改账号"
        labels = [str(form.fields[f].label) for f in fields if f in form.fields]
        record(
            Action.ACCOUNT_CHANGE,
            request=request,
            target=approvals.account_label(obj),
            change=what,
            fields=labels,
        )

    @admin.action(description="停用所选账号")
    def deactivate(self, request, queryset):
        done = []
        for user in queryset.filter(is_active=True).exclude(pk=request.user.pk):
            if AdminDuty.objects.filter(user=user).exists():
                continue
            user.is_active = False
            user.save(update_fields=["is_active"])
            record(
                Action.ACCOUNT_CHANGE,
                request=request,
                target=approvals.account_label(user),
                change="停用账号",
            )
            done.append(user.get_username())
        self.message_user(request, f"已停用 {len(done)} 个账号（三员账号和本人账号不在此停用）。")

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if request.method == "POST" and user is not None and self.has_change_permission(request, user):
            form = self.change_password_form(user, request.POST)
            wanted = form.is_valid() and (
                form.cleaned_data["set_usable_password"] or "unset-password" in request.POST
            )
            if wanted and approvals.holds_confidential_membership(user):
                form.save(commit=False)  # sets the new hash on this object only
                try:
                    approvals.request_password(request.user, user, user.password, request=request)
                except ApprovalRefused as exc:
                    messages.error(request, exc.message)
                else:
                    messages.warning(
                        request,
                        f"账号“{user.get_username()}”在涉密单位任职，新密码须经安全管理员审批后生效，已提交审批。",
                    )
                return HttpResponseRedirect(reverse("admin:auth_user_change", args=[user.pk]))
            response = super().user_change_password(request, id, form_url)
            if wanted and response.status_code == 302:
                record(
                    Action.ACCOUNT_CHANGE,
                    request=request,
                    target=approvals.account_label(user),
                    change="重置密码",
                )
            return response
        return super().user_change_password(request, id, form_url)
