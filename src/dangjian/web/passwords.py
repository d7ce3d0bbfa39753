"""Passwords: users change their own, and a password issued by someone else must be changed at first login.

Who set a password is known from the request it was set in: IssuedPasswordMiddleware (web/middleware.py) keeps the
current request in a context variable, and receivers on the user model's saves look at it whenever the password
hash changes. Set by another signed-in user (an administrator creating the account or resetting its password, in
the admin or anywhere else, or approving such a reset) → PasswordState.must_change; set by the owner → cleared.
Passwords set outside a request (the demo's published accounts, `dangjian manage createsuperuser`) are left
alone, so the demo stays usable. A user's change of his own password is audited (Action.PASSWORD_CHANGE).

The flag is read once, at login, into the session: an administrator's reset changes the password hash, which
ends the user's other sessions, so a session never outlives a change of the flag.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme

from dangjian.audit.log import Action, record

from .models import PasswordState

MUST_CHANGE = "must_change_password"  # session key: set at login when the password was issued by someone else

_current_request: ContextVar[HttpRequest | None] = ContextVar("dangjian_current_request", default=None)


@contextmanager
def acting(request: HttpRequest) -> Iterator[None]:
    """Within this block, passwords set are set by `request.user` (used by IssuedPasswordMiddleware)."""
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


def must_change(request: HttpRequest) -> bool:
    return bool(request.session.get(MUST_CHANGE))


_SET_BY = "_dangjian_password_set_by"  # on a user being saved: who set its new password


@receiver(pre_save, sender=get_user_model(), dispatch_uid="dangjian_password_setter")
def _note_setter(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """Note who sets a new password hash in a request: set_password() and a hash copied in (an approved reset)."""
    request = _current_request.get()
    actor = getattr(request, "user", None)
    if actor is None or not actor.is_authenticated:
        return  # outside a request, or signing in (a hash upgrade at login is no change)
    if update_fields is not None and "password" not in update_fields:
        return  # e.g. last_login at every login: no query
    if instance.pk is None:
        changed = bool(instance.password)
    else:
        stored = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
        changed = stored != instance.password
    if changed:
        setattr(instance, _SET_BY, actor)


@receiver(post_save, sender=get_user_model(), dispatch_uid="dangjian_password_set")
def _password_set(sender: Any, instance: Any, **kwargs: Any) -> None:
    actor = instance.__dict__.pop(_SET_BY, None)
    if actor is None:
        return
    own = actor.pk == instance.pk
    PasswordState.objects.update_or_create(user=instance, defaults={"must_change": not own})
    if own:  # an administrator's reset is audited by the admin, as an account change (orgs/admin.py)
        record(
            Action.PASSWORD_CHANGE, request=_current_request.get(), target=f"账号 {instance.get_username()}"
        )


@receiver(user_logged_in, dispatch_uid="dangjian_password_must_change")
def _remember_at_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    if PasswordState.objects.filter(user=user, must_change=True).exists():
        request.session[MUST_CHANGE] = True


class OwnPasswordForm(PasswordChangeForm):
    """Django's form in our wording; the new password must differ from the old (an issued one must be replaced)."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": "原密码不正确，请重新输入（密码区分大小写）。",
        "password_mismatch": "两次输入的新密码不一致，请重新输入。",
        "password_unchanged": "新密码不能与原密码相同。",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "原密码"
        self.fields["new_password1"].label = "新密码"
        self.fields["new_password2"].label = "再次输入新密码"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        new = cleaned.get("new_password1")
        if new and new == cleaned.get("old_password"):
            self.add_error(
                "new_password1",
                forms.ValidationError(self.error_messages["password_unchanged"], code="password_unchanged"),
            )
        return cleaned


class OwnPasswordView(auth_views.PasswordChangeView):
    """/account/password/: change one's own password; the session stays signed in."""

    # Not Django's registration/password_change_form.html: the admin's template of that name comes first.
    template_name = "registration/own_password.html"
    form_class = OwnPasswordForm
    success_url = reverse_lazy("home")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["must_change"] = must_change(self.request)
        context["next"] = self._next()
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        # Saves (audited by _password_set) and keeps this session signed in.
        response = super().form_valid(form)
        self.request.session.pop(MUST_CHANGE, None)
        messages.success(self.request, "密码已修改。下次登录请使用新密码。")
        return response

    def get_success_url(self) -> str:
        return self._next() or str(self.success_url)

    def _next(self) -> str:
        target = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if target and url_has_allowed_host_and_scheme(
            target, {self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return target
        return ""


def change_url(request: HttpRequest) -> str:
    """The change page, coming back to the page asked for (GET only: a form post cannot be replayed)."""
    url = reverse("password_change")
    if request.method == "GET" and request.get_full_path() != "/":
        url += "?" + urlencode({"next": request.get_full_path()})
    return url
