"""清单 pages (逾期事项, a step on one item, batch 办理), in the `ledgers` URL namespace (see `dangjian.records.urls`)."""

from __future__ import annotations

from django.urls import path

from . import views

JSON = {"fmt": "json"}

urlpatterns = [
    path("overdue/", views.overdue, name="overdue"),
    path("overdue.json", views.overdue, JSON, name="overdue_json"),
    path("overdue.xlsx", views.overdue, {"fmt": "xlsx"}, name="overdue_xlsx"),
    path("<slug:code>/bulk", views.bulk, name="workflow_bulk"),
    path("<slug:code>/<int:pk>/step/<slug:step_code>", views.take_step, name="workflow_step"),
]
