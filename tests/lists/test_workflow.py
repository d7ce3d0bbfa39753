"""List workflows (清单管理、对账销号): one item's whole life with each role, refusals, timeline, overdue, counts."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from dangjian.indicators.engine import Period, evaluate
from dangjian.lists import workflow
from dangjian.packs.loader import Pack, PackError
from dangjian.records import services
from dangjian.records.models import Record

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
LATE = dt.date(2019, 7, 1)  # the day the reminder job runs: after the items' deadline
TASK = {
    "issued_on": "2019-03-01",
    "source": "巡察反馈",
    "title": "党员发展档案不规范",
    "deadline": "2019-06-30",
}
KEYS = {
    "待整改": {"status": ["待整改"]},
    "已整改完成": {"status": ["已整改", "已销号"]},
    "已销号": {"status": ["已销号"]},
    "按期销号": {"status": ["已销号"], "where": [{"field": "on_time", "op": "=", "value": True}]},
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def counts(world):
    from dangjian.packs.handlers_indicators import load_indicators

    items = [
        {"key": f"整改.{k}", "label": k, "ledger": "rectification_task", **spec} for k, spec in KEYS.items()
    ]
    load_indicators(items, Pack("t", "t", 50, Path("."), {}))

    def run() -> dict[str, int]:
        values = evaluate(world.root, Period.year(2019), [f"整改.{k}" for k in KEYS])
        return {k: values[f"整改.{k}"].value for k in KEYS}

    return run


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def pdf(name: str = "整改照片.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


def overdue_ids(world, today=LATE) -> list[int]:
    return [i.record.pk for i in workflow.overdue_items(org=world.root, today=today)]


def refused(user, record, code, **kwargs) -> str:
    with pytest.raises(workflow.TransitionRefused) as exc:
        workflow.take(user, record, code, **kwargs)
    record.refresh_from_db()
    return str(exc.value)


def test_an_item_lives_from_entry_to_closure(world, counts):
    lt = world.ledger("rectification_task")
    item = services.save_record(world.clerk, lt, TASK, org=world.c1)
    assert item.status == "待整改"  # a new record starts in the initial state
    assert workflow.timeline(item) == []
    assert overdue_ids(world) == [item.pk]
    assert overdue_ids(world, today=dt.date(2019, 6, 30)) == []  # due today is not overdue
    assert counts() == {"待整改": 1, "已整改完成": 0, "已销号": 0, "按期销号": 0}

    # who may not: 查看者, another unit's clerk, no role at all; and nothing before its time
    assert "只有本单位的填报员、审核员或管理员才能开始整改" in refused(world.viewer, item, "start")
    assert "才能开始整改" in refused(world.sibling, item, "start")
    assert "才能开始整改" in refused(world.outsider, item, "start")
    assert "当前状态为“待整改”，不能销号" in refused(world.reviewer, item, "close")
    assert "不能整改完成" in refused(world.clerk, item, "finish")
    assert "没有“frobnicate”这一流转" in refused(world.clerk, item, "frobnicate")

    with pytest.raises(services.RecordInvalid) as exc:
        workflow.take(world.clerk, item, "start")
    assert exc.value.errors == {"measures": "【整改措施】开始整改时必须填写"}
    workflow.take(world.clerk, item, "start", {"measures": "逐份核查档案，补齐材料"}, comment="已部署")
    assert item.status == "整改中"
    assert counts()["待整改"] == 0

    with pytest.raises(services.RecordInvalid) as exc:  # the field validators apply to step fields
        workflow.take(world.clerk, item, "finish", {"completed_on": "六月底"})
    assert "【完成时间】" in exc.value.errors["completed_on"]
    workflow.take(world.clerk, item, "finish", {"completed_on": "2019/6/20"})
    assert item.values["completed_on"] == "2019-06-20"
    assert item.values["measures"] == "逐份核查档案，补齐材料"  # stored values satisfy a step's fields
    assert counts() == {"待整改": 0, "已整改完成": 1, "已销号": 0, "按期销号": 0}
    # Rectified on time, not closed: late for no one while the street has its review_days (15) — then for the street.
    assert overdue_ids(world) == []
    assert overdue_ids(world, today=dt.date(2019, 7, 16)) == [item.pk]

    assert "只有上级单位的审核员或管理员才能销号" in refused(world.clerk, item, "close")
    with pytest.raises(services.RecordInvalid) as exc:
        workflow.take(world.reviewer, item, "return")
    assert exc.value.errors == {"comment": "请填写退回的理由"}
    workflow.take(world.reviewer, item, "return", comment="缺少整改前后对比材料")
    assert item.status == "整改中"
    assert counts()["已整改完成"] == 0

    workflow.take(world.clerk, item, "finish")
    with pytest.raises(services.RecordInvalid) as exc:
        workflow.take(world.reviewer, item, "close", today=dt.date(2019, 6, 25))
    assert exc.value.errors == {"evidence": "【佐证材料】销号时必须上传"}
    item.refresh_from_db()
    assert item.status == "已整改"  # a refused step changes nothing
    workflow.take(world.reviewer, item, "close", uploads={"evidence": [pdf()]}, today=dt.date(2019, 6, 25))
    assert item.status == "已销号"
    assert item.values["closed_on"] == "2019-06-25" and item.values["on_time"] is True
    assert overdue_ids(world) == []
    assert counts() == {"待整改": 0, "已整改完成": 1, "已销号": 1, "按期销号": 1}

    steps = workflow.timeline(item)
    assert [(t.label, t.from_state, t.to_state, t.by.username) for t in steps] == [
        ("开始整改", "待整改", "整改中", "clerk"),
        ("整改完成", "整改中", "已整改", "clerk"),
        ("退回", "已整改", "整改中", "reviewer"),
        ("整改完成", "整改中", "已整改", "clerk"),
        ("销号", "已整改", "已销号", "reviewer"),
    ]
    assert steps[2].comment == "缺少整改前后对比材料"
    assert [a.name for a in steps[4].attachments.all()] == ["整改照片.pdf"]
    reasons = [h["action"] for h in services.history(item)]
    assert reasons[0] == "销号：已整改 → 已销号" and reasons[-1] == "新增"

    # the workflow's own fields cannot be edited by hand
    services.save_record(world.clerk, lt, {**item.values, "on_time": "否", "closed_on": ""}, record=item)
    item.refresh_from_db()
    assert item.values["on_time"] is True and item.values["closed_on"] == "2019-06-25"
    assert "当前状态为“已销号”" in refused(world.unit_admin, item, "return")


def test_closing_late_is_not_on_time(world, counts):
    lt = world.ledger("rectification_task")
    item = services.save_record(world.clerk, lt, TASK, org=world.c1)
    workflow.take(world.clerk, item, "start", {"measures": "整改"})
    # the district's 管理员 supervises c1; closing straight from 整改中 needs every field of the step
    workflow.take(
        world.unit_admin,
        item,
        "close",
        {"completed_on": "2019-07-10"},
        uploads={"evidence": [pdf()]},
        today=dt.date(2019, 7, 12),
    )
    assert item.values["on_time"] is False
    assert counts() == {"待整改": 0, "已整改完成": 1, "已销号": 1, "按期销号": 0}


def test_a_reviewer_of_the_unit_itself_does_not_supervise_it(world):
    from dangjian.orgs.models import Membership, Role

    Membership.objects.create(user=world.sibling, org=world.c1, role=Role.REVIEWER)
    item = services.save_record(world.clerk, world.ledger("rectification_task"), TASK, org=world.c1)
    workflow.take(world.sibling, item, "start", {"measures": "整改"})  # owner: yes
    assert "上级单位" in refused(world.sibling, item, "close")


def test_a_submitted_period_locks_steps_too(world, monkeypatch):
    item = services.save_record(world.clerk, world.ledger("rectification_task"), TASK, org=world.c1)

    def locked(*args, **kwargs):
        raise services.RecordLocked({"__all__": "已报送，不能修改"})

    monkeypatch.setattr(services, "_guard", locked)
    with pytest.raises(services.RecordLocked):
        workflow.take(world.clerk, item, "start", {"measures": "整改"})
    item.refresh_from_db()
    assert item.status == "待整改" and not item.transitions.exists()


# --- web ---------------------------------------------------------------------------------------------------


def _item(world, status="已整改", **values):
    lt = world.ledger("rectification_task")
    record = services.save_record(
        None, lt, {**TASK, "measures": "整改", **values}, org=world.c1, check_access=False
    )
    Record.objects.filter(pk=record.pk).update(status=status)
    record.refresh_from_db()
    return record


def test_the_record_page_shows_state_steps_and_timeline(world):
    item = _item(world, status="待整改")
    page = client_for(world.clerk).get(f"/ledgers/rectification_task/{item.pk}/")
    text = page.content.decode()
    assert "清单流程" in text and "开始整改" in text and "已逾期" in text and "尚无办理记录" in text
    viewer_page = client_for(world.viewer).get(f"/ledgers/rectification_task/{item.pk}/").content.decode()
    assert "清单流程" in viewer_page and f"/{item.pk}/step/start" not in viewer_page
    other = client_for(world.clerk).get("/ledgers/study_activity/")
    assert "清单流程" not in other.content.decode()


def test_the_timeline_keeps_a_step_whose_account_was_deleted(world):
    from dangjian.records.models import Transition

    item = _item(world, status="待整改")
    workflow.take(world.clerk, item, "start", {"measures": "逐份核查档案，补齐材料"}, comment="已部署")
    Transition.objects.filter(record=item).update(by=None)  # what deleting the account leaves (SET_NULL)
    page = client_for(world.reviewer).get(f"/ledgers/rectification_task/{item.pk}/")
    assert page.status_code == 200 and "系统" in page.content.decode() and "已部署" in page.content.decode()


def test_a_refused_step_is_403_with_its_reason(world):
    item = _item(world)
    url = f"/ledgers/rectification_task/{item.pk}/step/close"
    response = client_for(world.clerk).post(url, {"comment": "x"})
    assert response.status_code == 403
    assert "只有上级单位的审核员或管理员才能销号" in response.content.decode()
    assert client_for(world.sibling).get(url).status_code == 404  # not in his scope at all
    item.refresh_from_db()
    assert item.status == "已整改"


def test_closing_through_the_web_checks_fields_and_logs(world):
    item = _item(world)
    url = f"/ledgers/rectification_task/{item.pk}/step/close"
    client = client_for(world.reviewer)
    assert client.get(url).status_code == 200
    response = client.post(url, {"measures": "整改", "completed_on": "2019-06-01"})
    assert response.status_code == 400 and "【佐证材料】销号时必须上传" in response.content.decode()
    response = client.post(
        url, {"measures": "整改", "completed_on": "2019-06-01", "evidence": pdf(), "comment": "核查属实"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "已销号"
    text = client.get(f"/ledgers/rectification_task/{item.pk}/").content.decode()
    assert "核查属实" in text and "整改照片.pdf" in text and "已逾期" not in text


def test_bulk_close_is_all_or_nothing(world):
    a = _item(world)
    b = _item(world, title="三会一课记录不全")
    services.save_record(world.clerk, a.ledger_type, a.values, record=a, uploads={"evidence": [pdf()]})
    client = client_for(world.reviewer)
    url = "/ledgers/rectification_task/bulk"
    page = client.get(url + "?state=已整改").content.decode()
    assert "党员发展档案不规范" in page and "三会一课记录不全" in page
    response = client.post(url, {"state": "已整改", "ids": [a.pk, b.pk], "step": "close", "completed_on": ""})
    assert response.status_code == 400
    assert "【完成时间】销号时必须填写" in response.content.decode()
    assert set(Record.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {"已整改"}
    for r in (a, b):
        r.refresh_from_db()
        values = {**r.values, "completed_on": "2019-06-01"}
        services.save_record(world.clerk, r.ledger_type, values, record=r, uploads={"evidence": [pdf()]})
    response = client.post(url, {"state": "已整改", "ids": [a.pk, b.pk], "step": "close"})
    assert response.status_code == 302
    assert set(Record.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {"已销号"}
    # the clerk's bulk close is refused item by item, under the same rule
    c = _item(world)
    response = client_for(world.clerk).post(url, {"state": "已整改", "ids": [c.pk], "step": "close"})
    assert "只有上级单位的审核员或管理员才能销号" in response.content.decode()


def test_overdue_overview_home_flag_and_export(world):
    _item(world, status="整改中", title="=cmd|' /C calc'!A0")
    _item(world, status="已销号")  # closed: never overdue
    lt = world.ledger("rectification_task")
    services.save_record(world.sibling, lt, {**TASK, "source": "审计"}, org=world.c2)
    data = client_for(world.unit_admin).get("/ledgers/overdue.json").json()
    assert len(data["items"]) == 2
    assert dict(data["by_source"]) == {"巡察反馈": 1, "审计": 1}
    assert dict(data["by_unit"]) == {world.c1.name: 1, world.c2.name: 1}
    assert len(client_for(world.clerk).get("/ledgers/overdue.json").json()["items"]) == 1  # his scope only
    assert client_for(world.outsider).get("/ledgers/overdue.json").json()["items"] == []
    page = client_for(world.reviewer).get("/ledgers/overdue/?org=c2").content.decode()
    assert "审计" in page and "巡察反馈" not in page
    overview = client_for(world.unit_admin).get("/ledgers/overdue/").content.decode()
    assert f'<a href="?org=c1">{world.c1.name}</a>' in overview  # each unit opens its own overview
    assert f'<a href="?org=c2">{world.c2.name}</a>' in overview
    book = load_workbook(io.BytesIO(client_for(world.unit_admin).get("/ledgers/overdue.xlsx").content))
    assert book.sheetnames == ["逾期事项", "按单位", "按来源"]
    titles = [row[3] for row in book["逾期事项"].iter_rows(min_row=2, values_only=True)]
    assert "'=cmd|' /C calc'!A0" in titles  # neutralised: no formula runs in Excel
    home = client_for(world.clerk).get("/").content.decode()
    assert "逾期未销号的清单事项" in home and "=cmd" in home


def test_the_records_table_shows_and_filters_by_state(world):
    _item(world, status="整改中", title="甲事项")
    _item(world, status="已销号", title="乙事项")
    _item(world, status="待整改", title="丙事项", deadline="2099-12-31")
    client = client_for(world.clerk)
    page = client.get("/ledgers/rectification_task/").content.decode()
    assert '<th><a href="?sort=status">状态</a></th>' in page and '<option value="已销号">' in page
    assert page.count('<span class="tag danger">逾期</span>') == 1  # 甲 only: 乙 closed, 丙 not yet due
    data = client.get("/ledgers/rectification_task.json", {"state": "整改中"}).json()
    assert [r["values"]["title"] for r in data["results"]] == ["甲事项"] and data["results"][0][
        "status"
    ] == "整改中"
    up, down = (
        [r["status"] for r in client.get("/ledgers/rectification_task.json", {"sort": s}).json()["results"]]
        for s in ("status", "-status")
    )
    assert (
        sorted(up) == sorted(["整改中", "已销号", "待整改"]) and up == down[::-1]
    )  # the database's collation
    refused = client.get("/ledgers/rectification_task/", {"state": "办结"}).content.decode()
    assert "没有“办结”这个状态" in refused
    plain = client.get("/ledgers/study_activity/").content.decode()
    assert 'name="state"' not in plain and "?sort=status" not in plain


def test_home_page_counts_every_overdue_item_and_lists_the_ten_oldest(world):
    for day in range(1, 13):  # twelve items, due 2019-06-01 … 2019-06-12
        _item(world, status="整改中", title=f"事项{day:02d}", deadline=f"2019-06-{day:02d}")
    _item(world, status="已销号", title="已关闭事项", deadline="2019-01-01")
    count, shown = workflow.overdue_preview(world.clerk, today=dt.date(2020, 1, 1))
    assert count == 12 and [i.title for i in shown] == [f"事项{d:02d}" for d in range(1, 11)]
    assert shown == workflow.overdue_items(user=world.clerk, today=dt.date(2020, 1, 1))[:10]
    assert workflow.overdue_preview(world.outsider) == (0, [])
    home = client_for(world.clerk).get("/").content.decode()
    assert '<span class="badge danger">12</span>' in home
    assert "事项10" in home and "事项11" not in home and "已关闭事项" not in home


def test_the_overview_pages_its_detail_but_counts_every_item(world, monkeypatch):
    from dangjian.lists import views as workflow_views

    monkeypatch.setattr(workflow_views, "OVERDUE_PAGE", 2)
    for day in range(1, 6):
        _item(world, status="整改中", title=f"分页事项{day}", deadline=f"2019-06-0{day}")
    client = client_for(world.unit_admin)
    first = client.get("/ledgers/overdue/").content.decode()
    assert '<strong class="overdue-total">5</strong>' in first and "第 1 / 3 页" in first
    assert first.count("分页事项") == 2 and "page=2" in first
    last = client.get("/ledgers/overdue/", {"page": 3, "org": "s1"}).content.decode()
    assert last.count("分页事项") == 1 and "?org=s1&amp;page=2" in last
    assert len(client.get("/ledgers/overdue.json").json()["items"]) == 5  # JSON and xlsx hold every item


def test_overdue_command_lists_items_as_json(world, capsys):
    from dangjian.cli import cmd_overdue

    item = _item(world, status="整改中")

    class Args:
        org, format = "s1", "json"

    assert cmd_overdue(Args()) == 0  # type: ignore[arg-type]
    data = json.loads(capsys.readouterr().out)
    assert data["count"] == 1 and data["items"][0]["id"] == item.pk
    assert data["items"][0]["org"]["code"] == "c1"
    code, text = workflow.overdue_command("c2")
    assert code == 0 and "逾期未销号 0 项" in text
    assert workflow.overdue_command("nowhere")[0] == 2


# --- definitions -------------------------------------------------------------------------------------------


def _ledger(flow: dict) -> dict:
    return {
        "code": "t_list",
        "label": "测试清单",
        "date_field": "d",
        "fields": [
            {"code": "d", "label": "日期", "type": "date"},
            {"code": "due", "label": "时限", "type": "date"},
            {"code": "note", "label": "说明", "type": "text"},
        ],
        "workflow": flow,
    }


FLOW = {
    "states": ["待办", "已办"],
    "deadline_field": "due",
    "transitions": [{"code": "do", "label": "办结", "from": "待办", "to": "已办", "who": "owner"}],
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"deadline_field": "note"}, "deadline_field “note”应为日期型字段"),
        ({"deadline_field": ""}, "缺少 deadline_field"),
        ({"initial": "新建"}, "状态“新建”不在 states 中"),
        ({"colour": "red"}, "含有未知属性：colour"),
        ({"transitions": [{**FLOW["transitions"][0], "who": "boss"}]}, "who “boss”无效"),
        ({"transitions": [{**FLOW["transitions"][0], "fields": ["x"]}]}, "字段“x”不是本台账的字段"),
        ({"transitions": [{"code": "do"}]}, "缺少：label、from、to、who"),
    ],
)
def test_a_bad_workflow_is_refused_in_chinese(world, change, message):
    from dangjian.packs.handlers import load_ledger_type

    with pytest.raises(PackError) as exc:
        load_ledger_type(_ledger({**FLOW, **change}), Pack("t", "t", 50, Path("."), {}), 0)
    assert "台账 t_list 的清单流程（workflow）" in str(exc.value) and message in str(exc.value)


def test_a_pack_workflow_is_loaded(world):
    from dangjian.packs.handlers import load_ledger_type

    lt = load_ledger_type(_ledger(FLOW), Pack("t", "t", 50, Path("."), {}), 0)
    wf = workflow.workflow_of(lt)
    assert wf is not None and wf.initial == "待办" and wf.closed == ("已办",)
    record = services.save_record(world.clerk, lt, {"d": "2019-01-01"}, org=world.c1)
    assert record.status == "待办"


def test_a_step_comment_is_cleaned_of_control_characters_and_bounded(world):
    """Issue 8, finding 5 on the workflow: a comment is typed text like any field, cleaned on the way in."""
    from dangjian.records.models import Transition

    item = _item(world)
    url = f"/ledgers/rectification_task/{item.pk}/step/return"
    client = client_for(world.reviewer)
    response = client.post(url, {"comment": "x" * 2001})
    assert response.status_code == 400 and "2000" in response.content.decode()
    item.refresh_from_db()
    assert item.status == "已整改"
    assert client.post(url, {"comment": "缺少\x01对比\x7f材料\x1b"}).status_code == 302
    assert Transition.objects.filter(record=item).last().comment == "缺少对比材料"
