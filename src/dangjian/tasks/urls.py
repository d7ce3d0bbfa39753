"""填报任务 pages, under `/ledgers/tasks/` in the `ledgers` URL namespace (see `dangjian.records.urls`)."""

from __future__ import annotations

from django.urls import path

from . import views

JSON = {"fmt": "json"}

urlpatterns = [
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/new", views.task_new, name="task_new"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>.json", views.task_detail, JSON, name="task_json"),
    path("tasks/<int:pk>.xlsx", views.task_detail, {"fmt": "xlsx"}, name="task_xlsx"),
    path("tasks/<int:pk>/targets/<int:target_pk>/", views.target_log, name="target_log"),
    path("tasks/<int:pk>/targets/<int:target_pk>/submit", views.target_submit, name="target_submit"),
    path("tasks/<int:pk>/targets/<int:target_pk>/return", views.target_return, name="target_return"),
]
