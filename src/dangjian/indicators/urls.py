from __future__ import annotations

from django.urls import path

from dangjian.lazyviews import lazy

app_name = "indicators"
# Lazy: a command writing evidence links (dangjian.cli_urls) resolves these without importing the views.
urlpatterns = [
    path("evidence/", lazy("dangjian.indicators.views.evidence"), name="evidence"),
]
