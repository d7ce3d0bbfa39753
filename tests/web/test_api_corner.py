"""JSON twins sit in one small 数据接口 corner at the foot of a page, never among the buttons people use (issue 13)."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.test import Client
from tests.tasks.conftest import make_task

from dangjian.records import services

MEETING = {"date": "2019-03-05", "kind": "党课", "topic": "学习党章"}


def corner(page: str) -> str:
    found = re.findall(r'<details class="api-corner">(.*?)</details>', page, re.S)
    assert len(found) == 1, "exactly one 数据接口 corner"
    return found[0]


def head(page: str) -> str:
    """The page head with its buttons (title and actions)."""
    found = re.search(r'<div class="page-head">(.*?)</div>\s*</div>', page, re.S)
    return found.group(1) if found else page.split('<details class="api-corner">')[0]


@pytest.fixture
def pages(world):
    lt = world.ledger("organization_life")
    record = services.save_record(world.clerk, lt, MEETING, org=world.c1)
    task = make_task(world)
    return {
        "台账": "/ledgers/",
        "台账记录": f"/ledgers/{lt.code}/?org=c1",
        "记录": f"/ledgers/{lt.code}/{record.pk}/",
        "修改历史": f"/ledgers/{lt.code}/{record.pk}/history",
        "填报任务": f"/ledgers/tasks/{task.pk}/",
        "逾期事项": "/ledgers/overdue/?org=c1",
    }


@pytest.mark.parametrize("name", ["台账", "台账记录", "记录", "修改历史", "填报任务", "逾期事项"])
def test_the_json_twin_sits_in_the_api_corner_and_works(world, pages, name):
    client = Client()
    client.force_login(world.reviewer)
    response = client.get(pages[name])
    assert response.status_code == 200
    page = response.content.decode()
    links = [html_lib.unescape(h) for h in re.findall(r'<a href="([^"]+)">JSON</a>', corner(page))]
    assert len(links) == 1 and "/api/docs" in corner(page)
    assert ">JSON<" not in head(page) and ">JSON<" not in page.split('<details class="api-corner">')[0]
    target = links[0] if links[0].startswith("/") else pages[name].split("?")[0] + links[0]
    twin = client.get(target)
    assert twin.status_code == 200 and twin["Content-Type"].startswith("application/json"), target
    twin.json()
