"""概览 (overview) pages under /overview/, namespace `overview`: the district's, a unit's, the items closed in a month."""

from __future__ import annotations

from django.urls import path

from . import overview_views as views

app_name = "overview"

urlpatterns = [
    path("", views.index, name="index"),
    path("data.json", views.index, {"fmt": "json"}, name="index_json"),
    path("data.xlsx", views.index, {"fmt": "xlsx"}, name="index_xlsx"),
    path("closed/", views.closed, name="closed"),
    path("units/<str:org>/", views.unit, name="unit"),
    path("units/<str:org>.json", views.unit, {"fmt": "json"}, name="unit_json"),
    path("units/<str:org>.xlsx", views.unit, {"fmt": "xlsx"}, name="unit_xlsx"),
]
