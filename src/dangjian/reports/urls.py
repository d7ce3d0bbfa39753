from __future__ import annotations

from django.urls import path, register_converter

from . import views


class FormatConverter:
    regex = "docx|html|json|txt"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "fmt")

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>.<fmt:fmt>", views.run_download, name="run_download"),
    path("runs/<int:pk>/compare/", views.compare_view, name="compare"),
    path("<slug:key>/<str:org>/<int:year>/", views.preview, name="preview"),
    path("<slug:key>/<str:org>/<int:year>.<fmt:fmt>", views.download, name="download"),
    path("<slug:key>/<str:org>/<int:year>/finalise/", views.finalise_view, name="finalise"),
]
