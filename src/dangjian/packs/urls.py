"""The packs page: /packs/ (the list and the upload form)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "packs"
urlpatterns = [path("", views.index, name="index")]
