"""The clerk's day on the home page (issue 13): what falls due this week with the days left, what was returned and
why (by whom, when, a link to put it right), and only the ledgers kept by the clerk's kind of unit."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from tests.tasks.conftest import make_task

from dangjian.lists import workflow
from dangjian.packs.handlers import load_ledger_type
from dangjian.packs.loader import Pack
from dangjian.records import services
from dangjian.tasks import collection
from dangjian.web import clerk

TODAY = timezone.localdate()


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def item(world, title: str, deadline: dt.date, org=None):
    values = {
        "issued_on": "2019-03-01",
        "source": "巡察反馈",
        "title": title,
        "deadline": deadline.isoformat(),
    }
    user = world.sibling if org == world.c2 else world.clerk
    return services.save_record(user, world.ledger("rectification_task"), values, org=org or world.c1)


def section(page: str, css: str) -> str:
    found = re.search(rf'<section class="panel {css}">(.*?)</section>', page, re.S)
    return found.group(1) if found else ""


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_due_this_week_lists_tasks_and_list_items_nearest_first_with_days_left(client, world):
    make_task(world, title="三天后截止的任务", deadline=day(3))
    make_task(world, title="下个月截止的任务", deadline=day(30))
    make_task(world, title="昨天截止的任务", deadline=day(-1))
    item(world, "今天到期的整改事项", day(0))
    item(world, "六天后到期的整改事项", day(6))
    item(world, "两周后到期的整改事项", day(14))
    item(world, "和平社区的整改事项", day(2), org=world.c2)  # another unit's item: not this clerk's
    waiting = item(world, "等待销号的整改事项", day(1))  # 已整改: the level above acts next, not the clerk
    workflow.take(world.clerk, waiting, "start", {"measures": "逐份核查"})
    workflow.take(world.clerk, waiting, "finish", {"completed_on": "2019-06-20"})

    client.force_login(world.clerk)
    due = section(client.get("/").content.decode(), "clerk-due")
    titles = re.findall(r'<a href="[^"]+">([^<]+)</a>\s*<div class="muted small">', due)
    assert titles == ["昨天截止的任务", "今天到期的整改事项", "三天后截止的任务", "六天后到期的整改事项"]
    for when in ("已逾期 1 天", "今天截止", "还剩 3 天", "还剩 6 天"):
        assert f'<strong class="when">{when}</strong>' in due
    assert "下个月截止的任务" not in due and "两周后" not in due and "和平社区的整改事项" not in due
    assert "等待销号的整改事项" not in due
    assert 'class="badge danger">4<' in due


def test_nothing_due_says_so(client, world):
    make_task(world, deadline=day(40))
    client.force_login(world.clerk)
    assert "本周（7 天内）没有到期的填报任务或清单事项" in client.get("/").content.decode()


def test_the_units_below_are_not_the_administrators_to_dos(client, world):
    make_task(world, title="社区三天后截止的任务", deadline=day(3))
    client.force_login(world.reviewer)  # 城关街道's reviewer: the communities' targets are theirs to submit
    assert "社区三天后截止的任务" not in section(client.get("/").content.decode(), "clerk-due")


def test_a_submitted_task_is_no_longer_due(client, world):
    task = make_task(world, title="已报送的任务", deadline=day(2))
    collection.submit(world.clerk, task.targets.get(org=world.c1))
    client.force_login(world.clerk)
    assert "已报送的任务" not in section(client.get("/").content.decode(), "clerk-due")


def test_returned_task_and_list_item_show_reason_who_when_and_a_link_to_fix(client, world):
    task = make_task(world, title="退回的任务", deadline=day(20))
    target = task.targets.get(org=world.c1)
    collection.submit(world.clerk, target)
    collection.return_target(world.reviewer, target, "组织生活记录缺少参加人数")

    record = item(world, "档案不规范", day(20))
    workflow.take(world.clerk, record, "start", {"measures": "逐份核查"})
    workflow.take(world.clerk, record, "finish", {"completed_on": "2019-06-20"})
    workflow.take(world.reviewer, record, "return", comment="缺少整改前后对比材料")
    finished = item(world, "已重新完成的事项", day(20))  # returned, then finished again: nothing to fix
    workflow.take(world.clerk, finished, "start", {"measures": "逐份核查"})
    workflow.take(world.clerk, finished, "finish", {"completed_on": "2019-06-20"})
    workflow.take(world.reviewer, finished, "return", comment="再核查")
    workflow.take(world.clerk, finished, "finish")

    client.force_login(world.clerk)
    back = section(client.get("/").content.decode(), "clerk-returned")
    assert 'class="badge danger">2<' in back
    assert "退回原因：缺少整改前后对比材料" in back and "退回原因：组织生活记录缺少参加人数" in back
    assert back.count("reviewer 于 ") == 2  # who returned it, and when
    assert f'href="/ledgers/tasks/{task.pk}/"' in back
    assert f'href="/ledgers/rectification_task/{record.pk}/"' in back
    assert "已重新完成的事项" not in back
    # the latest return first: the list item was returned after the task
    assert back.index("档案不规范") < back.index("退回的任务")

    client.force_login(world.sibling)  # another unit's clerk sees none of it
    assert "clerk-returned" not in client.get("/").content.decode()
    client.force_login(world.reviewer)  # who returned them: not his to fix
    assert "clerk-returned" not in client.get("/").content.decode()
    client.force_login(world.unit_admin)  # the district's administrator: the communities' to-dos are not his
    assert "clerk-returned" not in client.get("/").content.decode()
    client.force_login(world.viewer)  # a 查看者 enters for no unit: no clerk's day at all
    page = client.get("/").content.decode()
    assert "clerk-returned" not in page and "clerk-due" not in page


def test_backward_steps_are_read_from_the_workflow(world):
    wf = workflow.workflow_of(world.ledger("rectification_task"))
    assert clerk._backward_steps(wf) == ["return"]


def test_home_lists_only_the_ledgers_kept_by_the_clerks_kind_of_unit(client, world):
    pack = Pack("t", "t", 50, Path("."), {})
    fields = [{"code": "day", "label": "日期", "type": "date"}]
    load_ledger_type(
        {
            "code": "t_cadres",
            "label": "测试科级干部名册",
            "date_field": "day",
            "fields": fields,
            "kept_by": ["district"],
        },
        pack,
        0,
    )
    client.force_login(world.clerk)
    page = client.get("/").content.decode()
    assert "测试科级干部名册" not in page and "学习教育活动台账" in page
    assert "另有 1 本不适用" in page and 'href="/ledgers/?all=1"' in page
    client.force_login(world.unit_admin)  # the district keeps it
    assert "测试科级干部名册" in client.get("/").content.decode()
