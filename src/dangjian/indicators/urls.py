from __future__ import annotations

from django.urls import path

from . import builder, views

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
