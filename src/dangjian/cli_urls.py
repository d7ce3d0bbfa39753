"""The URLs a command writes into what it makes — the evidence links of a report's figures — without loading every
page's views (the API's alone costs a fifth of a second of start-up). The CLI resolves names against this URLconf
(`cli.setup_django`); the prefixes are the web's (`dangjian.web.urls`), and `tests/test_cli.py` checks that every
name here reverses to the same path under both."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("indicators/", include("dangjian.indicators.urls")),
]
