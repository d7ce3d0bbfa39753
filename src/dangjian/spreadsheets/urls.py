"""A ledger's xlsx export, template and import pages, in the `ledgers` URL namespace (see `dangjian.records.urls`)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("<slug:code>.xlsx", views.export, name="records_xlsx"),
    path("<slug:code>/template.xlsx", views.template_download, name="template"),
    path("<slug:code>/import", views.import_page, name="import"),
    path("<slug:code>/import/status", views.import_status, name="import_status"),
    path("<slug:code>/import/<str:token>/errors.xlsx", views.import_errors, name="import_errors"),
]
