"""An item is overdue for the unit that must act next (issue 13): the community that finished its part on time is
not late; the street above is, once the review time (`review_days`, 15 in the built-in lists) is also past."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from dangjian.lists import workflow
from dangjian.records import services
from dangjian.records.models import Record
from dangjian.records.workflow_definition import WorkflowError, parse

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
DEADLINE = dt.date(2019, 6, 30)
TASK = {"issued_on": "2019-03-01", "source": "巡察反馈", "deadline": DEADLINE.isoformat(), "measures": "整改"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _item(world, title: str, status: str, org=None) -> Record:
    lt = world.ledger("rectification_task")
    values = {**TASK, "title": title}
    if status in ("已整改", "已销号"):
        values["completed_on"] = "2019-06-30"  # finished on its deadline
    record = services.save_record(None, lt, values, org=org or world.c1, check_access=False)
    Record.objects.filter(pk=record.pk).update(status=status)
    record.refresh_from_db()
    return record


def _titles(items) -> set[str]:
    return {i.title for i in items}


def test_finished_on_time_is_late_for_the_reviewer_only_after_the_review_days(world):
    _item(world, "社区仍在整改", "整改中")
    _item(world, "社区按期完成待街道销号", "已整改")
    _item(world, "已销号事项", "已销号")
    wf = workflow.workflow_of(world.ledger("rectification_task"))
    assert wf.review_days == 15 and wf.supervisor_states == ("已整改",)

    within_review = DEADLINE + dt.timedelta(days=10)
    # The community's own view: only what it must still do; the street's: the same, nothing of its own yet.
    assert _titles(workflow.overdue_items(org=world.c1, today=within_review)) == {"社区仍在整改"}
    assert _titles(workflow.overdue_items(org=world.s1, today=within_review)) == {"社区仍在整改"}

    after_review = DEADLINE + dt.timedelta(days=16)
    unit = workflow.overdue_items(org=world.c1, today=after_review)
    street = workflow.overdue_items(org=world.s1, today=after_review)
    assert _titles(unit) == {"社区仍在整改"}  # finished on time: never late for the community
    assert _titles(street) == {"社区仍在整改", "社区按期完成待街道销号"}
    waiting = next(i for i in street if i.acting == "supervisor")
    assert waiting.days == 1  # counted from the review deadline (30 June + 15 days), not from the item's
    assert next(i for i in street if i.acting == "owner").days == 16

    # The accounts see the same: the clerk's home count and list, the reviewer's.
    clerk_count, clerk_items = workflow.overdue_preview(world.clerk, today=after_review)
    assert clerk_count == 1 and _titles(clerk_items) == {"社区仍在整改"}
    assert _titles(workflow.overdue_items(user=world.clerk, today=after_review)) == {"社区仍在整改"}
    reviewer_count, _ = workflow.overdue_preview(world.reviewer, today=after_review)
    assert reviewer_count == 2
    # The one-record rule agrees with the lists.
    waiting_record = waiting.record
    assert not wf.is_overdue(waiting_record, within_review) and wf.is_overdue(waiting_record, after_review)


def test_the_overdue_page_of_the_clerk_leaves_out_what_waits_for_the_street(world):
    _item(world, "社区按期完成待街道销号", "已整改")
    client = Client()
    client.force_login(world.clerk, backend=MODEL_BACKEND)
    assert client.get("/ledgers/overdue.json").json()["items"] == []
    client.force_login(world.reviewer, backend=MODEL_BACKEND)
    items = client.get("/ledgers/overdue.json").json()["items"]
    assert [i["title"] for i in items] == ["社区按期完成待街道销号"]
    page = client.get("/ledgers/overdue/").content.decode()
    assert '已整改<span class="small muted">（待上级销号）</span>' in page
    # The reminder command: the street's list names it as waiting for the street; the community's has nothing.
    assert "社区按期完成待街道销号\t已整改（待上级销号）" in workflow.overdue_command("s1")[1]
    assert "社区按期完成待街道销号" not in workflow.overdue_command("c1")[1]


def test_review_days_must_be_a_small_whole_number():
    fields = {"deadline": "date"}
    base = {
        "states": ["待整改", "已整改", "已销号"],
        "deadline_field": "deadline",
        "transitions": [
            {"code": "close", "label": "销号", "from": ["已整改"], "to": "已销号", "who": ["supervisor"]}
        ],
    }
    assert parse(base, fields).review_days == 0
    assert parse({**base, "review_days": 10}, fields).review_days == 10
    for bad in (-1, 400, "15", True, 1.5):
        with pytest.raises(WorkflowError, match="review_days"):
            parse({**base, "review_days": bad}, fields)


def test_the_twin_the_workbook_and_the_command_say_who_must_act_next(world):
    """The page marks an item late for the level above “（待上级销号）”: its JSON twin, its xlsx and the reminder
    command's JSON carry the same mark — on that item and not on one the unit itself is late with."""
    import io
    import json

    from openpyxl import load_workbook

    from dangjian.lists import schemas

    _item(world, "社区仍在整改", "整改中")
    _item(world, "社区按期完成待街道销号", "已整改")
    client = Client()
    client.force_login(world.reviewer, backend=MODEL_BACKEND)
    items = {i["title"]: i for i in client.get("/ledgers/overdue.json").json()["items"]}
    today = timezone.localdate()
    page = {i.title: i for i in workflow.overdue_items(user=world.reviewer, today=today)}
    assert set(items) == set(page) == {"社区仍在整改", "社区按期完成待街道销号"}
    waiting, late = items["社区按期完成待街道销号"], items["社区仍在整改"]
    assert (waiting["acting"], waiting["acting_label"]) == ("supervisor", "上级单位")
    assert (late["acting"], late["acting_label"]) == ("owner", "本单位")
    # The days count as on the page: the street's from the end of its review time, the unit's from the deadline.
    for title, item in items.items():
        assert item["days_overdue"] == page[title].days
    assert (
        waiting["days_overdue"] == (today - DEADLINE).days - 15
        and late["days_overdue"] == (today - DEADLINE).days
    )

    book = load_workbook(io.BytesIO(client.get("/ledgers/overdue.xlsx").content))
    head, *rows = book["逾期事项"].iter_rows(values_only=True)
    note = list(head).index("说明")
    marks = {row[list(head).index("事项")]: row[note] for row in rows}
    assert marks == {
        "社区按期完成待街道销号": "待上级销号",
        "社区仍在整改": None,
    }  # an empty cell reads back None
    assert f"（{schemas.WAITING}）" == workflow.WAITING  # the page's mark

    data = json.loads(workflow.overdue_command("s1", "json")[1])
    assert {i["title"]: i["acting"] for i in data["items"]} == {
        "社区仍在整改": "owner",
        "社区按期完成待街道销号": "supervisor",
    }


def test_a_closed_item_has_no_one_to_act(world):
    record = _item(world, "已销号事项", "已销号")
    open_one = _item(world, "社区仍在整改", "整改中")
    client = Client()
    client.force_login(world.reviewer, backend=MODEL_BACKEND)
    results = client.get("/api/lists/items").json()["results"]
    acting = {r["id"]: (r["acting"], r["acting_label"], r["overdue"]) for r in results}
    assert acting[record.pk] == ("", "", False)
    assert acting[open_one.pk] == ("owner", "本单位", True)
