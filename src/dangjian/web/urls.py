from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "党建台账 · 系统管理"
admin.site.site_title = "党建台账"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("ledgers/", include("dangjian.ledgers.urls")),
    path("indicators/", include("dangjian.indicators.urls")),
    path("reports/", include("dangjian.reports.urls")),
    path("audit/", include("dangjian.audit.urls")),
    path("api/", include("dangjian.api.urls")),
    path("account/tokens/", include("dangjian.api.web_urls")),
    path("", include("dangjian.web.shell_urls")),
]
