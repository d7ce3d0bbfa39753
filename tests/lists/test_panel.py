"""The 清单流程 panel on the record page comes from the lists stage through `records.panels`: the records app (its
code and its templates) names no part of lists, and the record page shows the same panel as before."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import RequestFactory
from tests.lists.test_workflow import _item, client_for

from dangjian.lists import views as list_views
from dangjian.lists import workflow
from dangjian.records import panels

RECORDS = Path(__file__).resolve().parents[2] / "src" / "dangjian" / "records"


def test_the_lists_app_registers_its_panel_with_the_record_page():
    # registered by ListsConfig.ready(); the views behind it are imported when a record page first asks
    from dangjian.lists import apps

    assert apps.record_panel in panels.registered()
    assert list_views.record_panel is not apps.record_panel


def test_the_records_templates_load_no_tag_library_of_a_stage_to_their_right():
    libraries = {"dangjian", "static", "i18n", "l10n", "tz", "cache"}  # the web app's and Django's own
    for template in (RECORDS / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for load in re.findall(r"{%\s*load\s+([^%]+?)\s*%}", text):
            assert set(load.split()) <= libraries, (template.name, load)
        assert "workflow" not in text, template.name


def test_the_panel_shows_state_steps_and_timeline_and_nothing_without_a_workflow(world, make_record):
    item = _item(world, status="待整改")
    item.ledger_type = world.ledger("rectification_task")
    workflow.take(world.clerk, item, "start", {}, comment="开始整改的说明")
    page = client_for(world.clerk).get(f"/ledgers/rectification_task/{item.pk}/").content.decode()
    (panel,) = re.findall(r'<section class="panel workflow">.*?</section>', page, re.S)
    assert "清单流程" in panel and "整改中" in panel and "开始整改的说明" in panel
    assert f"/rectification_task/{item.pk}/step/" in panel  # a step the clerk may take now
    request = RequestFactory().get("/")
    request.user = world.clerk
    assert panel in list_views.record_panel(request, item)

    plain = make_record(
        "study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "学习"}
    )
    assert list_views.record_panel(request, plain) == ""
    page = client_for(world.clerk).get(f"/ledgers/study_activity/{plain.pk}/").content.decode()
    assert "清单流程" not in page and "panel workflow" not in page
