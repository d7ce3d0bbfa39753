"""Ledger pages through the HTTP client: list, filters, sort, pages, the form, delete/restore, history, files."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dangjian.records.models import Attachment, LedgerField, LedgerType, Record

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
STUDY = {
    "reporting_org": "",
    "date": "2019-03-05",
    "kind": "专题报告",
    "title": "学习贯彻党的十九大精神专题报告会",
    "speaker": "王建国",
    "place": "社区党群服务中心",
    "days": "0.5",
    "participants": "45",
    "theme_education": "是",
    "summary": "传达学习会议精神。",
}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def study(make_record, org, title="学习", date="2019-03-05", **values):
    return make_record("study_activity", org, {"date": date, "kind": "专题报告", "title": title, **values})


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# --- ledger list -------------------------------------------------------------------------------------------


def test_ledger_list_is_grouped_by_category(world):
    html = client_for(world.clerk).get("/ledgers/").content.decode()
    assert "思想建设" in html and "学习教育活动台账" in html
    assert "组织建设" in html and "组织生活台账" in html
    assert "纪律审查案件台账" not in html


def test_ledger_list_json_counts_only_visible_records(world, make_record):
    study(make_record, world.c1)
    study(make_record, world.c2)
    data = client_for(world.clerk).get("/ledgers/?format=json").json()
    counts = {row["code"]: row["records"] for row in data["ledgers"]}
    assert counts["study_activity"] == 1
    assert "discipline_case" not in counts


# --- adding records ----------------------------------------------------------------------------------------


def test_new_form_is_generated_from_the_fields(world):
    html = client_for(world.clerk).get("/ledgers/study_activity/new").content.decode()
    assert 'type="date"' in html and 'name="date"' in html
    assert "<select" in html and "中心组集体学习" in html
    assert "<textarea" in html and 'name="summary"' in html
    assert 'type="file"' in html and "multiple" in html
    assert 'enctype="multipart/form-data"' in html
    # The clerk's only unit is preselected.
    assert re.search(rf'<option value="{world.c1.pk}"[^>]* selected>', html)
    assert "和平社区" not in html


def test_clerk_adds_a_record_and_sees_it_listed(world):
    client = client_for(world.clerk)
    response = client.post("/ledgers/study_activity/new", {**STUDY, "reporting_org": world.c1.pk})
    record = Record.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/ledgers/study_activity/{record.pk}/"
    assert (
        record.org == world.c1
        and record.values["participants"] == 45
        and record.values["theme_education"] is True
    )
    html = client.get("/ledgers/study_activity/").content.decode()
    assert STUDY["title"] in html
    assert "2019年3月5日" in html
    data = client.get("/ledgers/study_activity.json").json()
    assert data["count"] == 1 and data["results"][0]["values"]["title"] == STUDY["title"]
    sibling = client_for(world.sibling)
    assert STUDY["title"] not in sibling.get("/ledgers/study_activity/").content.decode()
    assert sibling.get("/ledgers/study_activity.json").json()["count"] == 0


def test_bad_input_shows_chinese_errors_beside_fields_and_saves_nothing(world):
    client = client_for(world.clerk)
    bad = {**STUDY, "reporting_org": world.c1.pk, "participants": "很多", "days": "100", "title": ""}
    response = client.post("/ledgers/study_activity/new", bad)
    html = response.content.decode()
    assert response.status_code == 200
    assert Record.objects.count() == 0
    assert "本次未保存任何内容" in html
    # Each message sits in its own field's block, and the user's input is kept.
    blocks = dict(
        re.findall(
            r'<div class="field has-error type-\w+">.*?name="(\w+)".*?<p class="error"[^>]*>(.*?)</p>',
            html,
            re.S,
        )
    )
    assert "应为整数" in blocks["participants"] and "【参加人数】" in blocks["participants"]
    assert "不能大于 60" in blocks["days"]
    assert "【主题】为必填项" in blocks["title"]
    assert 'value="很多"' in html and "社区党群服务中心" in html


def test_clerk_cannot_enter_for_a_sibling_unit(world):
    client = client_for(world.clerk)
    response = client.post("/ledgers/study_activity/new", {**STUDY, "reporting_org": world.c2.pk})
    assert response.status_code == 200
    assert "您无权为该单位填报" in response.content.decode()
    assert Record.objects.count() == 0


def test_viewer_may_not_open_the_new_form(world):
    assert client_for(world.viewer).get("/ledgers/study_activity/new").status_code == 403
    response = client_for(world.viewer).post(
        "/ledgers/study_activity/new", {**STUDY, "reporting_org": world.c1.pk}
    )
    assert response.status_code == 403
    assert Record.objects.count() == 0


def test_attachments_are_uploaded_with_the_form_and_downloaded_through_a_check(world):
    client = client_for(world.clerk)
    upload = SimpleUploadedFile("会议纪要.pdf", b"%PDF-1.4 minutes", content_type="application/pdf")
    client.post("/ledgers/study_activity/new", {**STUDY, "reporting_org": world.c1.pk, "evidence": [upload]})
    att = Attachment.objects.get()
    record_page = client.get(f"/ledgers/study_activity/{att.record_id}/").content.decode()
    assert "会议纪要.pdf" in record_page and f"/ledgers/attachments/{att.pk}" in record_page
    response = client.get(f"/ledgers/attachments/{att.pk}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 minutes"
    assert "attachment" in response["Content-Disposition"]
    assert client_for(world.sibling).get(f"/ledgers/attachments/{att.pk}").status_code == 404
    assert client_for(world.sysadmin).get(f"/ledgers/attachments/{att.pk}").status_code == 404


def test_an_upload_of_the_wrong_type_is_refused_and_nothing_is_saved(world):
    client = client_for(world.clerk)
    upload = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")
    response = client.post(
        "/ledgers/study_activity/new", {**STUDY, "reporting_org": world.c1.pk, "evidence": [upload]}
    )
    assert response.status_code == 200
    assert "类型不支持" in response.content.decode()
    assert Record.objects.count() == 0 and Attachment.objects.count() == 0


# --- editing, history, delete, restore ---------------------------------------------------------------------


def test_clerk_edits_a_record_and_history_shows_before_and_after(world, make_record):
    record = study(make_record, world.c1, title="旧主题", participants=10)
    client = client_for(world.clerk)
    form = client.get(f"/ledgers/study_activity/{record.pk}/edit").content.decode()
    assert 'value="旧主题"' in form and "填报单位在录入时确定" in form
    response = client.post(
        f"/ledgers/study_activity/{record.pk}/edit",
        {"date": "2019-03-05", "kind": "专题报告", "title": "新主题", "participants": "12"},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.values["title"] == "新主题" and record.org == world.c1
    html = client.get(f"/ledgers/study_activity/{record.pk}/history").content.decode()
    assert "旧主题" in html and "新主题" in html and "修改" in html and "clerk" in html
    data = client.get(f"/ledgers/study_activity/{record.pk}/history.json").json()
    change = next(c for c in data["history"][0]["changes"] if c["field"] == "主题")
    assert (change["before"], change["after"]) == ("旧主题", "新主题")
    assert data["history"][0]["action"] == "修改" and data["history"][-1]["action"] == "新增"


def test_bad_edit_keeps_the_stored_record(world, make_record):
    record = study(make_record, world.c1, title="原主题")
    response = client_for(world.clerk).post(
        f"/ledgers/study_activity/{record.pk}/edit",
        {"date": "2019-02-30", "kind": "专题报告", "title": "改了"},
    )
    assert response.status_code == 200
    assert "【活动日期】日期格式不正确" in response.content.decode()
    record.refresh_from_db()
    assert record.values["title"] == "原主题"


def test_delete_and_restore_through_http(world, make_record):
    record = study(make_record, world.c1, title="将被删除的活动")
    client = client_for(world.clerk)
    assert client.get(f"/ledgers/study_activity/{record.pk}/delete").status_code == 405
    response = client.post(f"/ledgers/study_activity/{record.pk}/delete")
    assert response.status_code == 302
    assert "将被删除的活动" not in client.get("/ledgers/study_activity/").content.decode()
    deleted = client.get("/ledgers/study_activity/?deleted=1").content.decode()
    assert "将被删除的活动" in deleted and "恢复" in deleted
    assert client.get("/ledgers/study_activity.json?deleted=1").json()["count"] == 1
    response = client.post(f"/ledgers/study_activity/{record.pk}/restore")
    assert response.status_code == 302
    assert "将被删除的活动" in client.get("/ledgers/study_activity/").content.decode()
    actions = [
        e["action"] for e in client.get(f"/ledgers/study_activity/{record.pk}/history.json").json()["history"]
    ]
    assert actions == ["恢复", "删除", "新增"]


def test_viewer_does_not_see_deleted_records(world, make_record):
    record = study(make_record, world.c1, title="已删除的活动")
    client_for(world.clerk).post(f"/ledgers/study_activity/{record.pk}/delete")
    viewer = client_for(world.viewer)
    assert "已删除的活动" not in viewer.get("/ledgers/study_activity/?deleted=1").content.decode()
    assert viewer.get(f"/ledgers/study_activity/{record.pk}/").status_code == 404
    assert viewer.get(f"/ledgers/study_activity/{record.pk}.json").status_code == 404


def test_archived_field_values_are_shown_read_only(world, make_record):
    record = study(make_record, world.c1, place="老会议室")
    LedgerField.objects.filter(ledger_type__code="study_activity", code="place").update(is_archived=True)
    client = client_for(world.clerk)
    html = client.get(f"/ledgers/study_activity/{record.pk}/").content.decode()
    assert "已归档字段" in html and "老会议室" in html
    assert 'name="place"' not in client.get(f"/ledgers/study_activity/{record.pk}/edit").content.decode()


def test_record_detail_json_has_values_files_and_authors(world, make_record):
    record = study(make_record, world.c1, title="详情", participants=3)
    data = client_for(world.clerk).get(f"/ledgers/study_activity/{record.pk}/?format=json").json()
    assert data["id"] == record.pk and data["org"] == {"code": "c1", "name": world.c1.name}
    assert data["date"] == "2019-03-05" and data["values"]["participants"] == 3
    assert data["attachments"] == [] and data["ledger"]["code"] == "study_activity"


# --- filters, search, sort, pages --------------------------------------------------------------------------


def _titles(client, query: str) -> list[str]:
    return [
        r["values"]["title"] for r in client.get(f"/ledgers/study_activity.json?{query}").json()["results"]
    ]


def test_filters_by_org_subtree_date_range_choice_bool_and_text(world, make_record):
    study(make_record, world.c1, title="甲", date="2019-01-10", theme_education=True)
    study(make_record, world.c2, title="乙", date="2019-06-01", kind="微型党课", place="和平广场")
    study(make_record, world.s1, title="丙", date="2020-02-02")
    client = client_for(world.reviewer)
    assert sorted(_titles(client, "")) == ["丙", "乙", "甲"]
    assert _titles(client, "org=c2") == ["乙"]
    assert sorted(_titles(client, "org=s1")) == ["丙", "乙", "甲"]
    assert _titles(client, "from=2019-02-01&to=2019-12-31") == ["乙"]
    assert _titles(client, "kind=微型党课") == ["乙"]
    assert _titles(client, "theme_education=是") == ["甲"]
    assert _titles(client, "q=和平") == ["乙"]
    html = client.get("/ledgers/study_activity/?from=2019-13-45").content.decode()
    assert "【起始日期】格式不正确" in html


def test_org_filter_outside_the_users_scope_reveals_nothing(world, make_record):
    study(make_record, world.c2, title="乙")
    client = client_for(world.clerk)
    assert _titles(client, "org=c2") == []
    assert "和平社区" not in client.get("/ledgers/study_activity/?org=c2").content.decode()


def test_sorts_by_date_and_by_numeric_field(world, make_record):
    study(make_record, world.c1, title="一百人", date="2019-01-01", participants=100)
    study(make_record, world.c1, title="五人", date="2019-03-01", participants=5)
    study(make_record, world.c1, title="四十人", date="2019-02-01", participants=40)
    client = client_for(world.clerk)
    assert _titles(client, "") == ["五人", "四十人", "一百人"]
    assert _titles(client, "sort=date") == ["一百人", "四十人", "五人"]
    assert _titles(client, "sort=participants") == ["五人", "四十人", "一百人"]
    assert _titles(client, "sort=-participants") == ["一百人", "四十人", "五人"]
    assert _titles(client, "sort=title")  # a text column sorts too
    html = client.get("/ledgers/study_activity/?sort=participants").content.decode()
    assert "sort=-participants" in html


def test_paginates_fifty_per_page(world):
    lt = LedgerType.objects.get(code="study_activity")
    Record.objects.bulk_create(
        Record(ledger_type=lt, org=world.c1, date=f"2019-01-{1 + i % 28:02d}", values={"title": f"第{i}次"})
        for i in range(60)
    )
    client = client_for(world.clerk)
    first = client.get("/ledgers/study_activity.json").json()
    second = client.get("/ledgers/study_activity.json?page=2").json()
    assert (first["count"], first["pages"], len(first["results"])) == (60, 2, 50)
    assert (second["page"], len(second["results"])) == (2, 10)
    assert "第 1 / 2 页" in client.get("/ledgers/study_activity/").content.decode()


def test_multichoice_filter_matches_one_option(world, make_record):
    lt = LedgerType.objects.create(code="topics", label="议题台账", date_field="date")
    LedgerField.objects.create(ledger_type=lt, code="date", label="日期", type="date", required=True)
    LedgerField.objects.create(ledger_type=lt, code="title", label="名称", type="text")
    LedgerField.objects.create(
        ledger_type=lt, code="tags", label="议题", type="multichoice", choices=["党建", "民生", "党建引领"]
    )
    make_record("topics", world.c1, {"date": "2019-01-01", "title": "一", "tags": ["党建", "民生"]})
    make_record("topics", world.c1, {"date": "2019-01-02", "title": "二", "tags": ["党建引领"]})
    client = client_for(world.clerk)

    def titles(query: str) -> list[str]:
        return [r["values"]["title"] for r in client.get(f"/ledgers/topics.json?{query}").json()["results"]]

    assert titles("tags=党建") == ["一"]
    assert titles("tags=党建引领") == ["二"]
    html = client.get("/ledgers/topics/new").content.decode()
    assert 'type="checkbox"' in html
    client.post(
        "/ledgers/topics/new",
        {"reporting_org": world.c1.pk, "date": "2019-05-05", "title": "三", "tags": ["党建", "民生"]},
    )
    assert Record.objects.get(values__title="三").values["tags"] == ["党建", "民生"]


def test_an_org_field_is_a_select_of_the_tree_and_stores_the_code(world):
    from pathlib import Path

    from dangjian.packs.handlers import load_ledger_type
    from dangjian.packs.loader import Pack
    from dangjian.records.models import Record

    load_ledger_type(
        {
            "code": "handover",
            "label": "工作交办台账",
            "date_field": "date",
            "fields": [
                {"code": "date", "label": "日期", "type": "date", "required": True},
                {"code": "owner", "label": "责任单位", "type": "org", "required": True},
            ],
        },
        Pack("t", "t", 50, Path("."), {}),
        0,
    )
    client = client_for(world.clerk)
    page = client.get("/ledgers/handover/new").content.decode()
    # The select offers the orgs the clerk's scope sees (c1), not every active org; a reviewer above sees c2.
    assert '<select name="owner"' in page and 'value="c1"' in page and 'value="c2"' not in page
    page = client_for(world.reviewer).get("/ledgers/handover/new").content.decode()
    assert 'value="c2"' in page and "和平社区委员会" in page

    # A code typed past the select (a crafted form, a file, the API) is held to the same list: refused, nothing saved.
    response = client.post(
        "/ledgers/handover/new", {"date": "2019-05-06", "owner": "c2", "reporting_org": world.c1.pk}
    )
    assert response.status_code == 200 and "不在您可以选择的组织范围内" in response.content.decode()
    assert not Record.objects.filter(ledger_type__code="handover").exists()
    response = client.post(
        "/ledgers/handover/new", {"date": "2019-05-06", "owner": "c1", "reporting_org": world.c1.pk}
    )
    assert response.status_code == 302
    record = Record.objects.get(ledger_type__code="handover")
    assert record.values["owner"] == "c1"
    page = client.get(f"/ledgers/handover/{record.pk}/").content.decode()
    assert "中共城关街道幸福社区委员会" in page  # shown by name, stored by code
    # The reviewer above both may name c2; the clerk's later edit keeps a value it could not pick itself.
    from dangjian.records import services

    services.save_record(
        world.reviewer, record.ledger_type, {"date": "2019-05-06", "owner": "c2"}, record=record
    )
    response = client.post(f"/ledgers/handover/{record.pk}/edit", {"date": "2019-05-07", "owner": "c2"})
    assert response.status_code == 302, response.content.decode()[:2000]
    record.refresh_from_db()
    assert (record.values["owner"], str(record.date)) == ("c2", "2019-05-07")
