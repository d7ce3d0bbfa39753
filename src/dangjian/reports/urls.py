from __future__ import annotations

from django.urls import path, register_converter

from . import editor_views, verify_views, views, wordimport_views


class FormatConverter:
    regex = "docx|html|json|txt"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class PeriodConverter:
    """A period as URLs write it (indicators.periods: 2019, 2019H1, 2019Q1, 2019-03, 2019-01-01..2019-06-30).
    Loose on purpose: 2019Q5 reaches the view, which refuses it with the Chinese reason (400), not a bare 404."""

    regex = r"[0-9]{1,6}(?:[HhQq][0-9]{1,2}|-[0-9]{1,2}(?:-[0-9]{1,2}\.\.[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2})?)?"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: object) -> str:
        return str(getattr(value, "code", value))


register_converter(FormatConverter, "fmt")
register_converter(PeriodConverter, "period")

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>.<fmt:fmt>", views.run_download, name="run_download"),
    path("runs/<int:pk>/compare/", views.compare_view, name="compare"),
    # The report editor (管理员/审核员 of the reporting org): files, draft preview, versions, built-in updates
    path("templates/", editor_views.templates_index, name="templates"),
    path("templates/from-word/", wordimport_views.from_word, name="from_word"),  # 从 Word 生成模板 (issue 11)
    path("templates/picker.json", editor_views.picker_json, name="template_picker"),
    path("templates/<slug:key>/edit/", editor_views.edit, name="template_edit"),
    path("templates/<slug:key>/draft/", editor_views.draft_preview, name="template_draft"),
    path("templates/<slug:key>/history/", editor_views.history, name="template_history"),
    path("templates/<slug:key>/restore/", editor_views.restore, name="template_restore"),
    path("templates/<slug:key>/builtin/", editor_views.builtin, name="template_builtin"),
    path("verify/", verify_views.verify, name="verify"),  # 核稿 (issue 11)
    # Any period (a year reads the same as before: /reports/seed2019/demo/2019/) …
    path("<slug:key>/<str:org>/<period:period>/", views.preview, name="preview"),
    path("<slug:key>/<str:org>/<period:period>.<fmt:fmt>", views.download, name="download"),
    path("<slug:key>/<str:org>/<period:period>/finalise/", views.finalise_view, name="finalise"),
    # … and the same pages reversed with a `year` (links and callers of the year-only form keep working)
    path("<slug:key>/<str:org>/<int:year>/", views.preview, name="preview"),
    path("<slug:key>/<str:org>/<int:year>.<fmt:fmt>", views.download, name="download"),
    path("<slug:key>/<str:org>/<int:year>/finalise/", views.finalise_view, name="finalise"),
]
