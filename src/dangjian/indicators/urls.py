from __future__ import annotations

from django.urls import path

from . import builder, checks_web, views

app_name = "indicators"
urlpatterns = [
    path("evidence/", views.evidence, name="evidence"),
    # indicator builder (指标构建器): made and changed by form, versions, pack TOML
    path("builder/", builder.index, name="builder"),
    path("builder/new/", builder.edit, name="builder_new"),
    path("builder/preview/", builder.preview, name="builder_preview"),
    path("builder/<str:key>/", builder.edit, name="builder_edit"),
    path("builder/<str:key>/export.toml", builder.export, name="builder_export"),
    path("builder/<str:key>/versions/", builder.history, name="builder_history"),
    path("builder/<str:key>/adopt/", builder.adopt, name="builder_adopt"),
    path("builder/<str:key>/restore/<int:version>/", builder.restore, name="builder_restore"),
]
urlpatterns += [
    # checks (核对规则) changed in the web: versions, 内置原文, TOML — beside the indicator builder
    path("checks/", checks_web.index, name="checks"),
    path("checks/new/", checks_web.edit, name="check_new"),
    path("checks/<slug:code>/", checks_web.edit, name="check_edit"),
    path("checks/<slug:code>/export.toml", checks_web.export, name="check_export"),
    path("checks/<slug:code>/versions/", checks_web.history, name="check_history"),
    path("checks/<slug:code>/adopt/", checks_web.adopt, name="check_adopt"),
    path("checks/<slug:code>/restore/<int:version>/", checks_web.restore, name="check_restore"),
]
