"""The OpenAPI schema and the Chinese doc page: served without login, from the same definitions, with no resource
from outside the server (intranets have no internet, and the CSP forbids inline scripts)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_schema_describes_every_endpoint_and_bearer_auth(db):
    schema = Client().get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/ledgers/{code}/records",
        "/api/ledgers/{code}/records/{pk}",
        "/api/indicators/values",
        "/api/indicators/evidence",
        "/api/tasks",
        "/api/lists/items",
    ):
        assert path in paths, path
    assert set(paths["/api/ledgers/{code}/records"]) == {"get", "post"}
    assert set(paths["/api/ledgers/{code}/records/{pk}"]) == {"get", "patch", "delete"}
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    assert "RecordIn" in schema["components"]["schemas"]


def test_the_doc_page_is_chinese_and_self_contained(db):
    response = Client().get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "党建台账数据接口" in html and "Authorization: Bearer" in html and "新增一条记录" in html
    assert "/api/ledgers/{code}/records" in html and 'id="schema-RecordIn"' in html
    assert "输入有误" in html and "Bad Request" not in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith(("/", "#")) for s in sources), sources
    assert "<script>" not in html and "style=" not in html
    assert "cdn" not in html.lower()
    assert Client().get("/api/").url == "/api/docs"


def test_tasks_and_list_items_follow_the_web_rules(world, api, make_record):
    from tests.tasks.conftest import make_task

    task = make_task(world)
    reviewer = api(world.reviewer).get(f"/api/tasks/{task.pk}").json()
    assert reviewer["full"] is True and {t["org"]["code"] for t in reviewer["targets"]} == {"c1", "c2"}
    clerk = api(world.clerk).get(f"/api/tasks/{task.pk}").json()
    assert clerk["full"] is False and [t["org"]["code"] for t in clerk["targets"]] == ["c1"]
    assert api(world.clerk).get("/api/tasks").json()["results"][0]["id"] == task.pk
    assert api(world.jiwei).get(f"/api/tasks/{task.pk}").status_code == 404

    def item(org, title, deadline):
        values = {"issued_on": "2019-05-01", "source": "督查", "title": title, "deadline": deadline}
        return make_record("rectification_task", org, values)

    item(world.c1, "本单位逾期事项", "2019-06-30")
    item(world.c1, "本单位未到期事项", "2099-06-30")
    item(world.c2, "外单位事项", "2019-06-30")
    mine = api(world.clerk).get("/api/lists/items").json()
    assert {r["title"] for r in mine["results"]} == {"本单位逾期事项", "本单位未到期事项"}
    late = api(world.clerk).get("/api/lists/items", overdue="true").json()["results"]
    assert [r["title"] for r in late] == ["本单位逾期事项"] and late[0]["days_overdue"] > 0
    assert late[0]["status"] == "待整改" and late[0]["ledger"] == "rectification_task"
    everyone = api(world.reviewer).get("/api/lists/items", page_size=2)
    assert everyone.json()["count"] == 3 and len(everyone.json()["results"]) == 2
    assert len(api(world.reviewer).get("/api/lists/items", page_size=2, page=2).json()["results"]) == 1
    assert api(world.clerk).get("/api/lists/items", state="不存在的状态").status_code == 400


def test_task_json_twin_gives_the_apis_task_shape(world, api):
    """The task page's `.json` twin serialises through `tasks.schemas.TaskDetail`, the API's schema."""
    from django.test import Client
    from django.urls import reverse
    from tests.tasks.conftest import make_task

    task = make_task(world)
    for user in (world.reviewer, world.clerk):
        web = Client()
        web.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        twin = web.get(reverse("ledgers:task_json", args=[task.pk])).json()
        assert twin == api(user).get(f"/api/tasks/{task.pk}").json()
        assert twin["task"]["id"] == task.pk and twin["targets"]


def test_overdue_json_twin_gives_the_apis_list_item_shape(world, api, make_record):
    """The overdue overview's `.json` twin serialises its items through `lists.schemas.ItemOut`, the API's."""
    from django.test import Client
    from django.urls import reverse

    values = {"issued_on": "2019-05-01", "source": "督查", "title": "逾期事项", "deadline": "2019-06-30"}
    make_record("rectification_task", world.c1, values)
    web = Client()
    web.force_login(world.clerk, backend="django.contrib.auth.backends.ModelBackend")
    twin = web.get(reverse("ledgers:overdue_json")).json()["items"]
    assert twin == api(world.clerk).get("/api/lists/items", overdue="true").json()["results"]
    assert [(i["title"], i["overdue"]) for i in twin] == [("逾期事项", True)] and twin[0]["days_overdue"] > 0
