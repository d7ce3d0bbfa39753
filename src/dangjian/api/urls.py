"""/api/: the schema (openapi.json), the Chinese doc page (docs) and every endpoint of the NinjaAPI."""

from __future__ import annotations

from django.urls import path

from . import docs
from .main import api

app_name = "api"
patterns, _app, _namespace = api.urls
urlpatterns = [
    path("", docs.index, name="index"),
    path("docs", docs.page, name="docs"),
    *patterns,
]
