"""填报任务 pages through the HTTP client: create, progress, 报送/退回, the lock on the record pages, home."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.test import Client
from openpyxl import load_workbook

from dangjian.orgs.models import Organization, OrgKind
from dangjian.records.models import Record
from dangjian.tasks import collection
from dangjian.tasks.models import CollectionTask, TargetStatus, TaskTarget
from dangjian.tasks.schemas import TARGET_COLUMNS

from .conftest import make_task

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
MEETING = {"date": "2019-03-05", "kind": "党课", "topic": "学习党章"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def task(world):
    return make_task(
        world, title="2019年度组织生活统计", deadline=dt.date(2099, 12, 31), instructions="请按实际填报"
    )


def _target(task, org) -> TaskTarget:
    return task.targets.get(org=org)


def test_a_reviewer_creates_a_task_on_the_web(world):
    client = client_for(world.reviewer)
    form = client.get("/ledgers/tasks/new").content.decode()
    assert "新建填报任务" in form and "城关街道" in form
    response = client.post(
        "/ledgers/tasks/new",
        {
            "title": "2019年度数据",
            "creator_org": world.s1.pk,
            "ledger_types": [world.ledger("organization_life").pk],
            "period_start": "2019-01-01",
            "period_end": "2019-12-31",
            "scope_root": world.s1.pk,
            "kinds": [OrgKind.objects.get(code="community").pk],
            "deadline": "2020-01-15",
        },
    )
    created = CollectionTask.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/ledgers/tasks/{created.pk}/"
    assert sorted(t.org.code for t in created.targets.all()) == ["c1", "c2"]


def test_a_bad_task_form_is_refused_in_chinese(world):
    response = client_for(world.reviewer).post(
        "/ledgers/tasks/new",
        {
            "title": "x",
            "creator_org": world.s1.pk,
            "ledger_types": [world.ledger("organization_life").pk],
            "period_start": "2019-12-31",
            "period_end": "2019-01-01",
            "scope_root": world.s1.pk,
            "deadline": "",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "【截止日期】为必填项" in html
    assert not CollectionTask.objects.exists()


def test_clerks_cannot_create_tasks(world):
    assert client_for(world.clerk).get("/ledgers/tasks/new").status_code == 403


def test_progress_counts_statuses_and_highlights_overdue_units(world, task, make_record):
    make_record("organization_life", world.c1, MEETING)
    make_record("organization_life", world.c1, {**MEETING, "date": "2019-06-01"})
    make_record("organization_life", world.c1, {**MEETING, "date": "2020-06-01"})  # outside the period
    collection.submit(world.clerk, _target(task, world.c1))
    CollectionTask.objects.filter(pk=task.pk).update(deadline=dt.date(2020, 1, 15))  # now past
    client = client_for(world.reviewer)
    html = client.get(f"/ledgers/tasks/{task.pk}/").content.decode()
    assert 'class="count-submitted">1<' in html and 'class="count-pending">1<' in html
    assert 'class="count-overdue">1<' in html
    assert "2020年1月15日" in html and "2019年1月1日至2019年12月31日" in html
    assert html.count('class="overdue"') == 1  # c2: deadline passed, not submitted; c1 submitted in time
    data = client.get(f"/ledgers/tasks/{task.pk}.json").json()
    rows = {r["org"]["code"]: r for r in data["targets"]}
    assert rows["c1"]["records"] == 2 and rows["c1"]["status"] == "submitted" and not rows["c1"]["overdue"]
    assert rows["c2"]["overdue"] and data["counts"] == {
        "pending": 1,
        "draft": 0,
        "submitted": 1,
        "returned": 0,
    }


def test_progress_is_for_the_creating_org_and_units_see_their_own_row(world, task):
    assert client_for(world.viewer).get(f"/ledgers/tasks/{task.pk}/").status_code == 200
    html = client_for(world.clerk).get(f"/ledgers/tasks/{task.pk}/").content.decode()
    assert "幸福社区" in html and "和平社区" not in html
    data = client_for(world.clerk).get(f"/ledgers/tasks/{task.pk}.json").json()
    assert [r["org"]["code"] for r in data["targets"]] == ["c1"]
    for user in (world.sysadmin, world.outsider, world.jiwei):
        assert client_for(user).get(f"/ledgers/tasks/{task.pk}/").status_code == 404
        assert client_for(user).get(f"/ledgers/tasks/{task.pk}.xlsx").status_code == 404


def test_progress_exports_as_xlsx_with_neutralised_cells(world, task):
    Organization.objects.filter(pk=world.c2.pk).update(name="=HYPERLINK(1)")
    collection.submit(world.clerk, _target(task, world.c1))
    response = client_for(world.reviewer).get(f"/ledgers/tasks/{task.pk}.xlsx")
    assert response.status_code == 200 and "spreadsheetml" in response["Content-Type"]
    ws = load_workbook(BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "2019年度组织生活统计"
    header = rows.index(tuple(c.title for c in TARGET_COLUMNS))
    body = {r[1]: r for r in rows[header + 1 :]}
    assert body["c1"][2] == "已报送" and body["c1"][5] == "clerk"
    assert body["c2"][0] == "'=HYPERLINK(1)" and body["c2"][2] == "未填报"
    assert all(not str(v).startswith(("=", "+", "-", "@")) for r in rows for v in r if v is not None)


def test_clerk_submits_and_then_the_record_pages_refuse_changes_in_chinese(world, task, make_record):
    inside = make_record("organization_life", world.c1, MEETING)
    outside = make_record("organization_life", world.c1, {**MEETING, "date": "2020-03-05"})
    client = client_for(world.clerk)
    response = client.post(f"/ledgers/tasks/{task.pk}/targets/{_target(task, world.c1).pk}/submit")
    assert response.status_code == 302 and _target(task, world.c1).status == TargetStatus.SUBMITTED
    lock = "报送“2019年度组织生活统计”，如需修改请联系上级审核员退回"

    response = client.post(f"/ledgers/organization_life/{inside.pk}/edit", {**MEETING, "topic": "改"})
    assert response.status_code == 200 and lock in response.content.decode()
    response = client.post("/ledgers/organization_life/new", {**MEETING, "reporting_org": world.c1.pk})
    assert response.status_code == 200 and lock in response.content.decode()
    response = client.post(f"/ledgers/organization_life/{inside.pk}/delete", follow=True)
    assert lock in response.content.decode()
    inside.refresh_from_db()
    assert not inside.is_deleted and inside.values["topic"] == "学习党章"
    assert Record.objects.filter(org=world.c1).count() == 2

    response = client.post(f"/ledgers/organization_life/{outside.pk}/edit", {**MEETING, "date": "2020-03-06"})
    assert response.status_code == 302  # outside the period: still editable


def test_sibling_and_viewer_cannot_submit_or_return(world, task):
    t1 = _target(task, world.c1)
    url = f"/ledgers/tasks/{task.pk}/targets/{t1.pk}"
    assert client_for(world.sibling).post(f"{url}/submit").status_code == 404  # not even visible
    assert client_for(world.viewer).post(f"{url}/submit").status_code == 403
    collection.submit(world.clerk, t1)
    assert client_for(world.viewer).post(f"{url}/return", {"reason": "x"}).status_code == 403
    assert client_for(world.clerk).post(f"{url}/return", {"reason": "x"}).status_code == 403
    assert _target(task, world.c1).status == TargetStatus.SUBMITTED


def test_return_needs_a_reason_then_the_clerk_edits_again(world, task, make_record):
    inside = make_record("organization_life", world.c1, MEETING)
    t1 = _target(task, world.c1)
    collection.submit(world.clerk, t1)
    reviewer = client_for(world.reviewer)
    url = f"/ledgers/tasks/{task.pk}/targets/{t1.pk}/return"
    html = reviewer.post(url, {"reason": ""}, follow=True).content.decode()
    assert "请填写退回原因" in html and _target(task, world.c1).status == TargetStatus.SUBMITTED
    reviewer.post(url, {"reason": "会议人数有误"})
    assert _target(task, world.c1).status == TargetStatus.RETURNED
    log = reviewer.get(f"/ledgers/tasks/{task.pk}/targets/{t1.pk}/").content.decode()
    assert "会议人数有误" in log and "已退回" in log and "reviewer" in log
    response = client_for(world.clerk).post(
        f"/ledgers/organization_life/{inside.pk}/edit", {**MEETING, "topic": "改"}
    )
    assert response.status_code == 302
    inside.refresh_from_db()
    assert inside.values["topic"] == "改"


def test_home_lists_open_tasks_for_the_clerk_not_the_sysadmin(world, task):
    html = client_for(world.clerk).get("/").content.decode()
    assert "待报送的填报任务" in html and "2019年度组织生活统计" in html and "2099年12月31日" in html
    assert "2019年度组织生活统计" not in client_for(world.sysadmin).get("/").content.decode()
    collection.submit(world.clerk, _target(task, world.c1))
    assert 'class="open-task"' not in client_for(world.clerk).get("/").content.decode()


def test_task_list_shows_visible_tasks(world, task):
    assert "2019年度组织生活统计" in client_for(world.clerk).get("/ledgers/tasks/").content.decode()
    assert "2019年度组织生活统计" not in client_for(world.jiwei).get("/ledgers/tasks/").content.decode()


def test_admin_lists_tasks_read_only(world, task):
    client = client_for(world.sysadmin)
    assert "2019年度组织生活统计" in client.get("/admin/tasks/collectiontask/").content.decode()
    page = client.get(f"/admin/tasks/collectiontask/{task.pk}/change/").content.decode()
    assert "幸福社区" in page or "中共城关街道幸福社区委员会" in page
    assert client.get("/admin/tasks/collectiontask/add/").status_code == 403


def test_pages_name_a_deleted_account_without_failing(world, task):
    """Log entries keep their place when the account behind them is deleted (SET_NULL): the pages show 系统/—."""
    from django.contrib.auth import get_user_model

    ghost = get_user_model().objects.create_user("ghost", first_name="已调离的填报员")
    target = _target(task, world.c1)
    collection.submit(world.clerk, target)
    target.refresh_from_db()
    TaskTarget.objects.filter(pk=target.pk).update(submitted_by=ghost)
    target.events.update(by=ghost)
    client = client_for(world.reviewer)
    assert "已调离的填报员" in client.get(f"/ledgers/tasks/{task.pk}/").content.decode()
    ghost.delete()
    progress = client.get(f"/ledgers/tasks/{task.pk}/")
    assert progress.status_code == 200 and "已调离的填报员" not in progress.content.decode()
    log = client.get(f"/ledgers/tasks/{task.pk}/targets/{target.pk}/")
    assert log.status_code == 200 and "系统" in log.content.decode()


def test_the_progress_workbook_shows_the_twins_rows_column_by_column(world, task):
    """The xlsx is `tasks.schemas.TargetOut` as the `.json` twin gives it, under `TARGET_COLUMNS`."""
    collection.submit(world.clerk, _target(task, world.c1))
    collection.return_target(world.reviewer, _target(task, world.c1), "人数有误")
    collection.submit(world.clerk, _target(task, world.c1))
    client = client_for(world.reviewer)
    twin = client.get(f"/ledgers/tasks/{task.pk}.json").json()
    rows = list(load_workbook(BytesIO(client.get(f"/ledgers/tasks/{task.pk}.xlsx").content)).active.values)
    header = rows.index(tuple(c.title for c in TARGET_COLUMNS))
    body = rows[header + 1 :]
    assert len(body) == len(twin["targets"]) == 2
    by_code = {r[1]: r for r in body}
    for target in twin["targets"]:
        row = by_code[target["org"]["code"]]
        assert row[:4] == (
            target["org"]["name"],
            target["org"]["code"],
            target["status_label"],
            target["records"],
        )
        assert row[7] == ("是" if target["overdue"] else None)
    c1 = next(t for t in twin["targets"] if t["org"]["code"] == "c1")
    assert c1["status"] == "submitted" and c1["submitted_by"] == "clerk" and by_code["c1"][5] == "clerk"
    assert by_code["c1"][4] and by_code["c1"][4].endswith("日")  # 报送时间 in words
    assert by_code["c2"][4:7] == (None, None, None)  # not submitted: no time, no person, no reason
