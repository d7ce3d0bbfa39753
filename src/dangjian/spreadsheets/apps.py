from __future__ import annotations

from django.apps import AppConfig


class SpreadsheetsConfig(AppConfig):
    """xlsx in and out: templates, import through the write service, export, and the one cell neutraliser."""

    name = "dangjian.spreadsheets"
    label = "spreadsheets"
    verbose_name = "电子表格"
