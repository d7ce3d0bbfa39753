"""/account/tokens/: an account holder's own API tokens (create, revoke)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "tokens"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/revoke", views.revoke, name="revoke"),
]
