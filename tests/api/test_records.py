"""The API's records: the round trip the issue asks for, and everything a token may not do."""

from __future__ import annotations

import pytest

from dangjian.audit.models import Action, AuditEvent
from dangjian.records.models import LedgerField, Record

pytestmark = pytest.mark.django_db

RECORDS = "/api/ledgers/study_activity/records"


def study(title: str = "学习贯彻主题", **extra) -> dict:
    return {"date": "2019-03-05", "kind": "中心组集体学习", "title": title, "participants": 9, **extra}


def test_round_trip_create_read_evidence_and_refused_to_another_community(world, api, report_pack):
    clerk, sibling = api(world.clerk), api(world.sibling)
    created = clerk.post(RECORDS, {"org": "c1", "values": study("社区平台推送的学习")})
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["org"] == {"code": "c1", "name": world.c1.name}

    back = clerk.get(f"{RECORDS}/{pk}")
    assert back.status_code == 200
    assert back.json()["values"]["title"] == "社区平台推送的学习"
    assert back.json()["created"]["by"] == "clerk"
    assert [r["id"] for r in clerk.get(RECORDS).json()["results"]] == [pk]

    values = clerk.get("/api/indicators/values", org="c1", year=2019, keys="学习.中心组次数").json()
    (value,) = values["values"]
    assert value["value"] == 1 and value["evidence"]["records"] == 1
    evidence = clerk.client.get(value["evidence"]["api"], headers=clerk.headers).json()
    assert [r["id"] for r in evidence["records"]] == [pk]
    assert evidence["count"] == 1 and evidence["rows_visible"] is True

    assert sibling.get(f"{RECORDS}/{pk}").status_code == 404
    assert sibling.get(RECORDS).json()["count"] == 0
    assert sibling.get("/api/indicators/values", org="c1", year=2019).status_code == 404
    assert (
        sibling.get("/api/indicators/evidence", org="c1", year=2019, key="学习.中心组次数").status_code == 404
    )
    write = AuditEvent.objects.get(action=Action.API_WRITE)
    assert write.username == "clerk" and write.detail["ids"] == [pk]


def test_a_bad_row_gives_400_naming_row_and_field_and_writes_nothing(world, api):
    clerk = api(world.clerk)
    rows = [
        {"org": "c1", "values": study("第一行没问题")},
        {"org": "c1", "values": study("", date="2019-13-40")},
        {"org": "c1", "values": study("第三行也没问题")},
    ]
    response = clerk.post(f"{RECORDS}/batch", {"records": rows})
    assert response.status_code == 400
    body = response.json()
    fields = {(e["row"], e["field"]) for e in body["errors"]}
    assert fields == {(2, "date"), (2, "title")}
    title = next(e for e in body["errors"] if e["field"] == "title")
    assert title["label"] == "主题" and "第 2 行" in title["message"] and "【主题】" in title["message"]
    assert "未写入任何记录" in body["detail"]
    assert not Record.objects.exists()

    single = clerk.post(RECORDS, {"org": "c1", "values": study(participants="九个人")})
    assert single.status_code == 400
    (error,) = single.json()["errors"]
    assert error["field"] == "participants" and error["row"] is None and "整数" in error["message"]
    assert not Record.objects.exists()


def test_malformed_bodies_and_unknown_fields_are_named_in_chinese(world, api):
    clerk = api(world.clerk)
    missing = clerk.post(RECORDS, {"values": study()})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "org" and "必填" in missing.json()["errors"][0]["message"]
    typo = clerk.post(RECORDS, {"org": "c1", "values": {**study(), "titel": "拼错的字段"}})
    assert typo.status_code == 400
    assert typo.json()["errors"][0]["field"] == "titel" and "不是" in typo.json()["errors"][0]["message"]
    broken = clerk.client.post(RECORDS, "{not json", content_type="application/json", headers=clerk.headers)
    assert broken.status_code == 400 and "JSON" in broken.json()["detail"]
    assert not Record.objects.exists()


def test_the_batch_writes_all_rows_at_once(world, api):
    response = api(world.reviewer).post(
        f"{RECORDS}/batch",
        {
            "records": [
                {"org": "c1", "values": study("一")},
                {"org": "c2", "values": study("二"), "key": "ext-2"},
            ]
        },
    )
    assert response.status_code == 201
    assert response.json()["created"] == 2
    assert Record.objects.get(pk=response.json()["ids"][1]).key == "ext-2"


def test_writing_for_another_unit_is_refused_and_nothing_is_written(world, api):
    response = api(world.clerk).post(
        f"{RECORDS}/batch",
        {"records": [{"org": "c1", "values": study()}, {"org": "c2", "values": study()}]},
    )
    assert response.status_code == 403
    assert response.json()["errors"] == [
        {"row": 2, "field": "org", "label": "填报单位", "message": response.json()["errors"][0]["message"]}
    ]
    assert "第 2 行" in response.json()["detail"]
    assert api(world.viewer).post(RECORDS, {"org": "c1", "values": study()}).status_code == 403
    assert not Record.objects.exists()


def test_patch_and_delete_go_through_the_record_service(world, api, make_record):
    record = make_record("study_activity", world.c1, study("原主题"))
    url = f"{RECORDS}/{record.pk}"
    assert api(world.viewer).patch(url, {"values": {"title": "查看者改"}}).status_code == 403
    assert api(world.sibling).patch(url, {"values": {"title": "外单位改"}}).status_code == 404
    clerk = api(world.clerk)
    changed = clerk.patch(url, {"values": {"title": "新主题"}})
    assert changed.status_code == 200, changed.content
    assert changed.json()["values"]["title"] == "新主题" and changed.json()["values"]["participants"] == 9
    bad = clerk.patch(url, {"values": {"participants": -1.5}})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "participants"
    record.refresh_from_db()
    assert record.values["title"] == "新主题" and record.history.count() == 2

    assert api(world.viewer).delete(url).status_code == 403
    assert clerk.delete(url).status_code == 204
    record.refresh_from_db()
    assert record.is_deleted
    assert clerk.get(RECORDS).json()["count"] == 0
    assert clerk.get(url).json()["is_deleted"] is True  # a writer may still restore it
    assert api(world.viewer).get(url).status_code == 404
    assert clerk.delete(url).status_code == 409
    assert (
        api(world.viewer).post(f"{url}/restore", {}).status_code == 404
    )  # a deleted record is not his to see
    restored = clerk.post(f"{url}/restore", {})
    assert restored.status_code == 200 and restored.json()["is_deleted"] is False
    assert clerk.post(f"{url}/restore", {}).status_code == 409
    assert clerk.get(RECORDS).json()["count"] == 1
    changes = list(
        AuditEvent.objects.filter(action=Action.API_WRITE).values_list("detail__change", flat=True)
    )
    assert sorted(changes) == ["修改", "删除", "恢复"]


def test_viewer_gets_sensitive_fields_masked(world, api, make_record):
    LedgerField.objects.filter(ledger_type__code="study_activity", code="speaker").update(sensitive=True)
    record = make_record("study_activity", world.c1, study(speaker="张三丰"))
    viewer = api(world.viewer).get(f"{RECORDS}/{record.pk}").json()
    assert viewer["values"]["speaker"] == "＊＊"
    listed = api(world.viewer).get(RECORDS).json()["results"][0]
    assert listed["values"]["speaker"] == "＊＊"
    assert "张三丰" not in api(world.viewer).get(RECORDS, q="张三丰").content.decode()
    assert api(world.clerk).get(f"{RECORDS}/{record.pk}").json()["values"]["speaker"] == "张三丰"


def test_confidential_rows_are_refused_to_non_members(world, api, make_record):
    case = make_record(
        "discipline_case",
        world.jw,
        {"filed_on": "2019-04-01", "case_no": "纪案〔2019〕9号", "person": "钱某"},
    )
    url = f"/api/ledgers/discipline_case/records/{case.pk}"
    for user in (world.clerk, world.unit_admin, world.viewer, world.sysadmin):
        client = api(user)
        assert client.get("/api/ledgers/discipline_case/records").status_code == 404
        assert client.get(url).status_code == 404
        assert "discipline_case" not in client.get("/api/ledgers").content.decode()
    member = api(world.jiwei)
    assert member.get(url).json()["values"]["case_no"] == "纪案〔2019〕9号"
    assert AuditEvent.objects.filter(action=Action.CONFIDENTIAL_READ, username="jiwei").exists()


def test_confidential_figures_follow_the_token_accounts_rights(world, api, make_record):
    from dangjian.indicators.models import Indicator

    Indicator.objects.create(
        key="纪律.立案数",
        label="立案数",
        unit="件",
        ledger=world.ledger("discipline_case"),
        aggregate="count",
    )
    for n, name in enumerate(["钱某甲", "钱某乙", "钱某丙"]):
        make_record(
            "discipline_case",
            world.jw,
            {"filed_on": f"2019-0{n + 4}-01", "case_no": f"案{n}", "person": name},
        )
    admin = api(world.unit_admin)
    year = admin.get("/api/indicators/values", org="root", year=2019, keys="纪律.立案数").json()["values"][0]
    assert year["value"] == 3 and year["refused"] == ""
    month = admin.get(
        "/api/indicators/values", org="root", start="2019-04-01", end="2019-04-30", keys="纪律.立案数"
    ).json()["values"][0]
    assert month["value"] is None and "涉密" in month["refused"] and month["evidence"]["records"] is None
    evidence = admin.get("/api/indicators/evidence", org="root", year=2019, key="纪律.立案数")
    assert evidence.status_code == 200
    assert evidence.json()["rows_visible"] is False and evidence.json()["records"] is None
    assert "钱某" not in evidence.content.decode()
    refused = admin.get(
        "/api/indicators/evidence", org="root", start="2019-04-01", end="2019-04-30", key="纪律.立案数"
    )
    assert refused.status_code == 403 and "涉密" in refused.json()["detail"]
    member = api(world.jiwei).get("/api/indicators/evidence", org="jw", year=2019, key="纪律.立案数").json()
    assert member["rows_visible"] is True and len(member["records"]) == 3


def test_lists_are_paginated_and_filtered_like_the_web(world, api, make_record):
    for n, kind in enumerate(["中心组集体学习", "专题报告", "中心组集体学习"]):
        make_record("study_activity", world.c1, study(f"主题{n}", kind=kind, date=f"2019-0{n + 1}-05"))
    clerk = api(world.clerk)
    first = clerk.get(RECORDS, page_size=2).json()
    assert (first["count"], first["pages"], len(first["results"])) == (3, 2, 2)
    assert [r["values"]["title"] for r in first["results"]] == [
        "主题2",
        "主题1",
    ]  # newest first, as on the web
    assert len(clerk.get(RECORDS, page_size=2, page=2).json()["results"]) == 1
    assert clerk.get(RECORDS, page=9).json()["results"] == []
    assert clerk.get(RECORDS, kind="专题报告").json()["count"] == 1
    assert clerk.get(RECORDS, **{"from": "2019-02-01"}).json()["count"] == 2
    assert clerk.get(RECORDS, sort="date").json()["results"][0]["values"]["title"] == "主题0"
    bad_date = clerk.get(RECORDS, **{"from": "2019年13月"})
    assert bad_date.status_code == 400 and "起始日期" in bad_date.json()["detail"]
    too_big = clerk.get(RECORDS, page_size=201)
    assert too_big.status_code == 400 and too_big.json()["errors"][0]["field"] == "page_size"
    assert "200" in too_big.json()["errors"][0]["message"]
    assert clerk.get(RECORDS, org="c2").status_code == 400  # not within the clerk's reach


def test_a_records_page_costs_the_same_few_queries_whatever_its_rows(
    world, api, make_record, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clerk = api(world.clerk)
    make_record("study_activity", world.c1, study("第一条"))
    with CaptureQueriesContext(connection) as one:
        assert clerk.get(RECORDS).json()["count"] == 1
    for n in range(60):
        make_record("study_activity", world.c1 if n % 2 else world.s1, study(f"主题{n}"))
    reviewer = api(world.reviewer)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = reviewer.get(RECORDS).json()
    assert page["count"] == 61 and len(page["results"]) == 50


def test_records_under_a_submission_lock_are_refused_with_409(world, api, make_record):
    from tests.tasks.conftest import make_task

    from dangjian.tasks import collection

    meeting = {"date": "2019-03-05", "kind": "党课", "topic": "学习党章"}
    record = make_record("organization_life", world.c1, meeting)
    task = make_task(world)
    collection.submit(world.clerk, task.targets.get(org=world.c1))
    clerk = api(world.clerk)
    url = f"/api/ledgers/organization_life/records/{record.pk}"
    changed = clerk.patch(url, {"values": {"topic": "报送后修改"}})
    assert changed.status_code == 409 and "报送" in changed.json()["detail"]
    assert clerk.delete(url).status_code == 409
    added = clerk.post("/api/ledgers/organization_life/records", {"org": "c1", "values": meeting})
    assert added.status_code == 400 and "报送" in added.json()["errors"][0]["message"]
    record.refresh_from_db()
    assert record.values["topic"] == "学习党章" and not record.is_deleted
    assert Record.objects.filter(ledger_type__code="organization_life").count() == 1


def test_web_json_twins_give_the_apis_record_shape(world, api):
    """The records pages' JSON twins serialise through the same schemas as the API: same keys, same values."""
    from django.test import Client
    from django.urls import reverse

    clerk = api(world.clerk)
    pk = clerk.post(RECORDS, {"org": "c1", "values": study("同一形状")}).json()["id"]
    web = Client()
    web.force_login(world.clerk, backend="django.contrib.auth.backends.ModelBackend")

    api_detail = clerk.get(f"{RECORDS}/{pk}").json()
    web_detail = web.get(reverse("ledgers:record_json", args=["study_activity", pk])).json()
    assert web_detail == api_detail
    assert web_detail["created"]["by"] == "clerk" and web_detail["values"]["title"] == "同一形状"

    api_rows = clerk.get(RECORDS).json()["results"]
    web_page = web.get(reverse("ledgers:records_json", args=["study_activity"])).json()
    assert web_page["results"] == api_rows and [r["id"] for r in api_rows] == [pk]
    assert web_page["ledger"] == {"code": "study_activity", "label": api_detail["ledger"]["label"]}


def test_the_ledger_index_twin_gives_the_apis_ledger_summary(world, api, make_record):
    """`/ledgers/?format=json` lists each ledger as `records.schemas.LedgerSummaryOut`: the API's `LedgerOut`
    carries the same keys with the same values (and the definition besides)."""
    from django.test import Client

    from dangjian.records.schemas import LedgerSummaryOut

    make_record("study_activity", world.c1, study("计数"))
    make_record("study_activity", world.c2, study("外单位"))
    seen = {}
    for user in (world.clerk, world.jiwei):
        web = Client()
        web.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        twin = {row["code"]: row for row in web.get("/ledgers/?format=json").json()["ledgers"]}
        listed = api(user).get("/api/ledgers", page_size=200).json()["results"]
        from_api = {row["code"]: {k: row[k] for k in LedgerSummaryOut.model_fields} for row in listed}
        assert twin == from_api
        seen[user.username] = twin
    assert seen["clerk"]["study_activity"]["records"] == 1 and "discipline_case" not in seen["clerk"]
    assert "discipline_case" in seen["jiwei"]


def test_a_cross_field_rule_of_the_pack_gives_400_naming_the_field(world, api):
    """实到 ≤ 应到 (core pack's organization_life rules): the API path enforces it like the form and the import."""
    meeting = {
        "date": "2019-03-05",
        "kind": "支部党员大会",
        "topic": "学习党章",
        "attendance": 10,
        "present": 50,
    }
    response = api(world.clerk).post(
        "/api/ledgers/organization_life/records", {"org": "c1", "values": meeting}
    )
    assert response.status_code == 400, response.content
    assert {(e["field"], e["message"]) for e in response.json()["errors"]} == {
        ("present", "【实到人数】不能多于应到人数")
    }
    assert not Record.objects.exists()
