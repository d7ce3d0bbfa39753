"""Ledger pages; every page that shows rows has a `.json` twin (or `?format=json`)."""

from __future__ import annotations

from django.urls import path

from . import collection_views as tasks
from . import views, workflow_views, xlsx_views

app_name = "ledgers"
JSON = {"fmt": "json"}

urlpatterns = [
    path("", views.index, name="index"),
    path("attachments/<int:pk>", views.attachment, name="attachment"),
    # 填报任务: before "<slug:code>/" so that "tasks" is never read as a ledger code
    path("tasks/", tasks.task_list, name="tasks"),
    path("tasks/new", tasks.task_new, name="task_new"),
    path("tasks/<int:pk>/", tasks.task_detail, name="task"),
    path("tasks/<int:pk>.json", tasks.task_detail, JSON, name="task_json"),
    path("tasks/<int:pk>.xlsx", tasks.task_detail, {"fmt": "xlsx"}, name="task_xlsx"),
    path("tasks/<int:pk>/targets/<int:target_pk>/", tasks.target_log, name="target_log"),
    path("tasks/<int:pk>/targets/<int:target_pk>/submit", tasks.target_submit, name="target_submit"),
    path("tasks/<int:pk>/targets/<int:target_pk>/return", tasks.target_return, name="target_return"),
    # 清单流程: 逾期事项 before "<slug:code>" for the same reason
    path("overdue/", workflow_views.overdue, name="overdue"),
    path("overdue.json", workflow_views.overdue, JSON, name="overdue_json"),
    path("overdue.xlsx", workflow_views.overdue, {"fmt": "xlsx"}, name="overdue_xlsx"),
    path("<slug:code>/bulk", workflow_views.bulk, name="workflow_bulk"),
    path("<slug:code>/<int:pk>/step/<slug:step_code>", workflow_views.take_step, name="workflow_step"),
    path("<slug:code>.json", views.records, JSON, name="records_json"),
    path("<slug:code>/", views.records, name="records"),
    path("<slug:code>/new", views.record_new, name="new"),
    path("<slug:code>.xlsx", xlsx_views.export, name="records_xlsx"),
    path("<slug:code>/template.xlsx", xlsx_views.template_download, name="template"),
    path("<slug:code>/import", xlsx_views.import_page, name="import"),
    path("<slug:code>/import/status", xlsx_views.import_status, name="import_status"),
    path("<slug:code>/import/<str:token>/errors.xlsx", xlsx_views.import_errors, name="import_errors"),
    path("<slug:code>/<int:pk>.json", views.record_detail, JSON, name="record_json"),
    path("<slug:code>/<int:pk>/", views.record_detail, name="record"),
    path("<slug:code>/<int:pk>/edit", views.record_edit, name="edit"),
    path("<slug:code>/<int:pk>/delete", views.record_delete, name="delete"),
    path("<slug:code>/<int:pk>/restore", views.record_restore, name="restore"),
    path("<slug:code>/<int:pk>/history", views.record_history, name="history"),
    path("<slug:code>/<int:pk>/history.json", views.record_history, JSON, name="history_json"),
]
