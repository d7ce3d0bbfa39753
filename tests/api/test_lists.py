"""清单事项 through the API: the same steps, by the same people, with the same checks as the web's 办理."""

from __future__ import annotations

import pytest

from dangjian.audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db
ITEMS = "/api/lists/items/rectification_task"


@pytest.fixture
def item(world, make_record):
    values = {"issued_on": "2019-05-01", "source": "督查", "title": "整改食堂卫生", "deadline": "2019-06-30"}
    return make_record("rectification_task", world.c1, values)


def test_an_item_shows_the_steps_its_reader_may_take(world, api, item):
    mine = api(world.clerk).get(f"{ITEMS}/{item.pk}").json()
    assert mine["status"] == "待整改" and mine["overdue"] is True and mine["title"] == "整改食堂卫生"
    assert [s["code"] for s in mine["steps"]] == ["start"] and mine["steps"][0]["fields"] == ["measures"]
    assert api(world.viewer).get(f"{ITEMS}/{item.pk}").json()["steps"] == []
    assert api(world.sibling).get(f"{ITEMS}/{item.pk}").status_code == 404
    assert api(world.clerk).get("/api/lists/items/study_activity/1").status_code == 404


def test_steps_are_taken_by_whom_the_workflow_names_with_its_fields(world, api, item):
    clerk, reviewer = api(world.clerk), api(world.reviewer)
    url = f"{ITEMS}/{item.pk}/steps"
    missing = clerk.post(f"{url}/start", {"values": {}})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "measures"
    extra = clerk.post(f"{url}/start", {"values": {"measures": "每周检查", "deadline": "2099-01-01"}})
    assert extra.status_code == 400 and extra.json()["errors"][0]["field"] == "deadline"
    assert clerk.post(f"{url}/nonsense", {}).status_code == 404

    started = clerk.post(f"{url}/start", {"values": {"measures": "每周检查"}, "comment": "已部署"})
    assert started.status_code == 200, started.content
    assert started.json()["status"] == "整改中" and started.json()["timeline"][0]["comment"] == "已部署"
    finished = clerk.post(f"{url}/finish", {"values": {"measures": "每周检查", "completed_on": "2019-06-20"}})
    assert finished.json()["status"] == "已整改"

    refused = clerk.post(f"{url}/return", {"comment": "自己退回"})
    assert refused.status_code == 403 and "上级单位" in refused.json()["detail"]
    no_reason = reviewer.post(f"{url}/return", {})
    assert no_reason.status_code == 400 and no_reason.json()["errors"][0]["field"] == "comment"
    returned = reviewer.post(f"{url}/return", {"comment": "措施不具体"})
    assert returned.status_code == 200 and returned.json()["status"] == "整改中"
    item.refresh_from_db()
    assert item.status == "整改中" and item.transitions.count() == 3
    assert list(
        AuditEvent.objects.filter(action=Action.API_WRITE)
        .order_by("pk")
        .values_list("detail__change", flat=True)
    ) == ["开始整改", "整改完成", "退回"]
