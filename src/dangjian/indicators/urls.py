from __future__ import annotations

from django.urls import path

from . import parameter_views, views

app_name = "indicators"
urlpatterns = [
    path("evidence/", views.evidence, name="evidence"),
    # 报告参数 (report parameters)
    path("parameters/", parameter_views.parameter_list, name="parameters"),
    path("parameters.json", parameter_views.parameter_list, {"fmt": "json"}, name="parameters_json"),
    path("parameters/new", parameter_views.parameter_new, name="parameter_new"),
    path("parameters/files/<int:pk>", parameter_views.parameter_file, name="parameter_file"),
    path("parameters/<str:key>/", parameter_views.parameter_detail, name="parameter"),
    path(
        "parameters/<str:key>.json", parameter_views.parameter_detail, {"fmt": "json"}, name="parameter_json"
    ),
    path("parameters/<str:key>/enter", parameter_views.parameter_enter, name="parameter_enter"),
    path("parameters/<str:key>/edit", parameter_views.parameter_edit, name="parameter_edit"),
]
