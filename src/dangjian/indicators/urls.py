from __future__ import annotations

from django.urls import path

from dangjian.lazyviews import lazy

app_name = "indicators"
# Lazy: a command writing evidence links (dangjian.cli_urls) resolves these without importing the views.
V, B, C = "dangjian.indicators.views.", "dangjian.indicators.builder.", "dangjian.indicators.checks_web."
P = "dangjian.indicators.parameter_views."
urlpatterns = [
    path("evidence/", lazy(V + "evidence"), name="evidence"),
    # indicator builder (指标构建器): made and changed by form, versions, pack TOML
    path("builder/", lazy(B + "index"), name="builder"),
    path("builder/new/", lazy(B + "edit"), name="builder_new"),
    path("builder/preview/", lazy(B + "preview"), name="builder_preview"),
    path("builder/<str:key>/", lazy(B + "edit"), name="builder_edit"),
    path("builder/<str:key>/export.toml", lazy(B + "export"), name="builder_export"),
    path("builder/<str:key>/versions/", lazy(B + "history"), name="builder_history"),
    path("builder/<str:key>/adopt/", lazy(B + "adopt"), name="builder_adopt"),
    path("builder/<str:key>/restore/<int:version>/", lazy(B + "restore"), name="builder_restore"),
]
urlpatterns += [
    # checks (核对规则) changed in the web: versions, 内置原文, TOML — beside the indicator builder
    path("checks/", lazy(C + "index"), name="checks"),
    path("checks/new/", lazy(C + "edit"), name="check_new"),
    path("checks/<slug:code>/", lazy(C + "edit"), name="check_edit"),
    path("checks/<slug:code>/export.toml", lazy(C + "export"), name="check_export"),
    path("checks/<slug:code>/versions/", lazy(C + "history"), name="check_history"),
    path("checks/<slug:code>/adopt/", lazy(C + "adopt"), name="check_adopt"),
    path("checks/<slug:code>/restore/<int:version>/", lazy(C + "restore"), name="check_restore"),
    # 报告参数 (report parameters)
    path("parameters/", lazy(P + "parameter_list"), name="parameters"),
    path("parameters.json", lazy(P + "parameter_list"), {"fmt": "json"}, name="parameters_json"),
    path("parameters/new", lazy(P + "parameter_new"), name="parameter_new"),
    path("parameters/files/<int:pk>", lazy(P + "parameter_file"), name="parameter_file"),
    path("parameters/<str:key>/", lazy(P + "parameter_detail"), name="parameter"),
    path("parameters/<str:key>.json", lazy(P + "parameter_detail"), {"fmt": "json"}, name="parameter_json"),
    path("parameters/<str:key>/enter", lazy(P + "parameter_enter"), name="parameter_enter"),
    path("parameters/<str:key>/edit", lazy(P + "parameter_edit"), name="parameter_edit"),
]
