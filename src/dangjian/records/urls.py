"""Ledger and record pages; every page that shows rows has a `.json` twin (or `?format=json`).

These patterns, those of `dangjian.tasks`, `dangjian.lists` and `dangjian.spreadsheets` all live under `/ledgers/`
in the one URL namespace `ledgers` (`{% url 'ledgers:records' … %}`): `dangjian.web.urls` puts them together,
the fixed words (`tasks/`, `overdue/`) before `<slug:code>/` so that they are never read as a ledger code.
"""

from __future__ import annotations

from django.urls import path

from . import views

JSON = {"fmt": "json"}

urlpatterns = [
    path("", views.index, name="index"),
    path("attachments/<int:pk>", views.attachment, name="attachment"),
    path("<slug:code>.json", views.records, JSON, name="records_json"),
    path("<slug:code>/", views.records, name="records"),
    path("<slug:code>/new", views.record_new, name="new"),
    path("<slug:code>/<int:pk>.json", views.record_detail, JSON, name="record_json"),
    path("<slug:code>/<int:pk>/", views.record_detail, name="record"),
    path("<slug:code>/<int:pk>/edit", views.record_edit, name="edit"),
    path("<slug:code>/<int:pk>/delete", views.record_delete, name="delete"),
    path("<slug:code>/<int:pk>/restore", views.record_restore, name="restore"),
    path("<slug:code>/<int:pk>/history", views.record_history, name="history"),
    path("<slug:code>/<int:pk>/history.json", views.record_history, JSON, name="history_json"),
]
