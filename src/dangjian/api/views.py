"""/account/tokens/: the account holder creates and revokes his own API tokens. A new token's secret is shown
once, on the page that answers the creating POST; afterwards only its first characters are ever shown."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import tokens as token_service
from .models import ApiToken

DAY_CHOICES = [("30", "30 天"), ("90", "90 天"), ("365", "1 年"), ("", "长期有效（直到吊销）")]


class TokenForm(forms.Form):
    name = forms.CharField(
        label="用途",
        max_length=100,
        help_text="写明谁在哪里使用，如“智慧社区平台推送活动记录”",
        error_messages={"required": "【用途】为必填项", "max_length": "【用途】最多 100 个字"},
    )
    days = forms.ChoiceField(
        label="有效期",
        choices=DAY_CHOICES,
        required=False,
        initial="90",
        error_messages={"invalid_choice": "【有效期】请从列表中选择"},
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("【用途】为必填项")
        return name


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = TokenForm(request.POST if request.method == "POST" else None)
    secret = ""
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["days"]
        made = token_service.create(
            user, form.cleaned_data["name"], days=int(days) if days else None, request=request
        )
        secret = made.secret
        form = TokenForm()
    now = timezone.now()
    context = {
        "form": form,
        "secret": secret,
        "tokens": [(t, t.state(now)) for t in ApiToken.objects.filter(user=user)],
        "api_base": request.build_absolute_uri(reverse("api:index")),
    }
    return render(request, "api/tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)  # one's own tokens only: others' are 404
    if token_service.revoke(token, request=request):
        messages.success(request, f"令牌“{token.name}”已吊销，使用它的程序将无法再访问。")
    return redirect("tokens:index")
