"""The shell: login in Chinese and the home page that shows a user's units, roles and ledgers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dangjian.lists import workflow
from dangjian.orgs import access
from dangjian.orgs.models import Role
from dangjian.records.models import LedgerType
from dangjian.tasks import collection

from . import clerk, reminders
from .models import Reminder


class LoginForm(AuthenticationForm):
    """Django's form with our own wording: one message that does not tell which of the two was wrong."""

    error_messages = {
        "invalid_login": "用户名或密码不正确，请重新输入（密码区分大小写）。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget = forms.PasswordInput(attrs={"autocomplete": "current-password"})


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user  # authenticated: login_required
    scope = access.scope(user)  # the memberships, read once for the whole request
    if is_district_viewer(scope):  # a leader's home is the district's overview (概览)
        from . import overview_views

        return overview_views.index(request)
    visible = list(scope.ledger_types(LedgerType.objects.filter(is_active=True)))
    kept = scope.kept_ledgers(visible)  # the ledgers of one's own kinds of unit; 全部台账 one click away
    context = {
        "memberships": scope.memberships,
        "ledgers": kept,
        "ledgers_hidden": len(visible) - len(kept),
        "may_enter": scope.entry_orgs().exists(),
        "open_targets": collection.open_targets(request.user)[:50],
    }
    if context["may_enter"]:  # the clerk's day: due this week, returned and why (web/_clerk_*.html)
        context.update(clerk.day(scope))
    # 清单事项逾期未销号的提醒: the count and the ten longest overdue; the full list is one click away.
    context["overdue_count"], context["overdue"] = workflow.overdue_preview(request.user)
    context["reminders"] = list(reminders.unread(user)[:5])  # 提醒: the newest unread digests
    return render(request, "web/home.html", context)


def is_district_viewer(scope: access.Scope) -> bool:
    """A 查看者 at the district and nothing else (leaders): the overview is the whole of their day."""
    roles = {m.role for m in scope.memberships}
    return roles == {Role.VIEWER} and scope.district() is not None


# --- 提醒 (reminders): one's own messages ------------------------------------------------------------------------


@login_required
def messages_list(request: HttpRequest) -> HttpResponse:
    """The signed-in account's own reminders, newest first (no one sees another's)."""
    user: Any = request.user  # authenticated: login_required
    mine = Reminder.objects.filter(recipient=user).select_related("org")[:200]
    return render(request, "web/messages.html", {"messages_list": mine})


@login_required
@require_POST
def message_read(request: HttpRequest, pk: int) -> HttpResponse:
    if not reminders.mark_read(request.user, pk):
        raise Http404("没有这条提醒")
    return redirect("messages")
