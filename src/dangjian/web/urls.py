from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from dangjian.lists import urls as lists_urls
from dangjian.records import urls as records_urls
from dangjian.spreadsheets import urls as spreadsheets_urls
from dangjian.tasks import urls as tasks_urls

admin.site.site_header = "党建台账 · 系统管理"
admin.site.site_title = "党建台账"
admin.site.index_title = "系统管理"

# Four apps, one place and one namespace: /ledgers/… and `ledgers:…` as before the split (saved links, templates).
# The fixed words (tasks/, overdue/) come before the records' `<slug:code>/`; the other patterns do not overlap.
LEDGER_PAGES = (
    tasks_urls.urlpatterns
    + lists_urls.urlpatterns
    + spreadsheets_urls.urlpatterns
    + records_urls.urlpatterns,
    "ledgers",
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("ledgers/", include(LEDGER_PAGES)),
    path("indicators/", include("dangjian.indicators.urls")),
    path("reports/", include("dangjian.reports.urls")),
    path("audit/", include("dangjian.audit.urls")),
    path("packs/", include("dangjian.packs.urls")),
    path("api/", include("dangjian.api.urls")),
    path("account/tokens/", include("dangjian.api.web_urls")),
    path("overview/", include("dangjian.web.overview_urls")),
    path("", include("dangjian.web.shell_urls")),
]
