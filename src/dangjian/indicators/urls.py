from __future__ import annotations

from django.urls import path

from . import views

app_name = "indicators"
urlpatterns = [
    path("evidence/", views.evidence, name="evidence"),
]
