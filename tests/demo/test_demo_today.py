"""The demo reads like a real district on the day it is built (issue 13): the 2018–2019 list items closed with their
销号日期, this year's items and 填报任务 live and dated relative to today, tens of overdue items rather than hundreds,
numbered items in the order of their dates, names that fit their genders, and the overdue lists counting an item
for the unit that must act next. The district is built once for the module and rolled back afterwards."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker) -> dict[str, Any]:
    from django.db import transaction

    from dangjian.demo.generator import build_demo
    from dangjian.packs.loader import load_all

    gathered: dict[str, Any] = {}
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                load_all()
                build_demo("S", 2019)
                gathered.update(_gather())
                raise _Rollback
        except _Rollback:
            pass
    return gathered


def _gather() -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from dangjian.demo.generator import ROOT_CODE, last_quarter
    from dangjian.lists import workflow
    from dangjian.orgs.models import Organization
    from dangjian.records.models import Record
    from dangjian.tasks.models import CollectionTask

    def rows(code: str) -> list[tuple[str, str, dict]]:
        return [
            (org, status, values)
            for org, status, values in Record.objects.filter(ledger_type__code=code, is_deleted=False)
            .values_list("org__code", "status", "values")
            .iterator()
        ]

    today = timezone.localdate()
    users = get_user_model().objects
    root = Organization.objects.get(code=ROOT_CODE)
    _, _, quarter = last_quarter(today)
    task = CollectionTask.objects.get(title=f"{quarter}社区党建工作台账报送")
    return {
        "today": today,
        "overdue": workflow.overdue_items(org=root, today=today),
        "clerk_overdue": workflow.overdue_items(user=users.get(username="tianbao"), today=today),
        "reviewer_overdue": workflow.overdue_items(user=users.get(username="shenhe"), today=today),
        "problems": rows("problem_list"),
        "study": rows("study_activity"),
        "members": rows("party_member"),
        "cadres": rows("cadre_roster"),
        "task": {
            "deadline": task.deadline,
            "created": task.created_at,
            "targets": list(task.targets.values_list("org__code", "status", "return_reason", "submitted_at")),
        },
    }


def test_tens_of_items_are_overdue_not_hundreds(demo):
    n = len(demo["overdue"])
    assert 10 <= n <= 99, n
    # None of them a 2018–2019 问题清单 item: those were closed long ago.
    old = [i for i in demo["overdue"] if i.ledger.code == "problem_list" and i.deadline < "2020-07-01"]
    assert old == []


def test_the_2018_2019_items_are_closed_with_their_closing_day(demo):
    old = [(status, v) for _, status, v in demo["problems"] if v["found_on"] < "2020-01-01"]
    assert len(old) > 500
    assert {status for status, _ in old} == {"已销号"}
    for _, v in old:
        assert v.get("closed_on"), v["title"]
        assert v["rectified_on"] < v["closed_on"] <= "2020-12-31"
        assert v["on_time"] == (v["closed_on"] <= v["deadline"])
    # Most were finished within their year (the seed report's figures), the rest in the first half of 2020.
    in_year = sum(v["rectified_on"][:4] == v["found_on"][:4] for _, v in old)
    assert in_year > 0.6 * len(old)


def test_this_years_items_are_live_and_never_dated_after_today(demo):
    today = demo["today"].isoformat()
    since = (demo["today"] - dt.timedelta(days=300)).isoformat()
    current = [(status, v) for _, status, v in demo["problems"] if v["found_on"] >= since]
    assert len(current) >= 100
    assert {status for status, _ in current} == {"待整改", "整改中", "已整改", "已销号"}
    for status, v in current:
        for code in ("found_on", "rectified_on", "closed_on"):
            assert v.get(code, "") <= today, (code, v)
        assert bool(v.get("closed_on")) == (status == "已销号")
        assert bool(v.get("rectified_on")) == (status in ("已整改", "已销号"))


def test_this_quarters_task_is_live(demo):
    task, today = demo["task"], demo["today"]
    assert task["deadline"] > today and task["created"].date() < today
    statuses = {code: status for code, status, _, _ in task["targets"]}
    assert statuses["demo-jd01-sq01"] in ("pending", "draft") and statuses["demo-jd01-sq02"] == "returned"
    counts = {s: list(statuses.values()).count(s) for s in ("pending", "draft", "submitted", "returned")}
    assert (
        counts["pending"] + counts["draft"] >= 5
        and counts["submitted"] >= 10
        and 2 <= counts["returned"] <= 4
    ), counts
    for _, status, reason, submitted in task["targets"]:
        assert bool(reason) == (status == "returned")
        assert (submitted is not None) == (status in ("submitted", "returned"))
        if submitted is not None:
            assert task["created"] < submitted < timezone.now()


def test_numbered_items_come_in_the_order_of_their_dates(demo):
    series: dict[tuple, list[tuple[str, int]]] = {}
    for code, rows, date_code in (
        ("study", demo["study"], "date"),
        ("problems", demo["problems"], "found_on"),
    ):
        for org, _, v in rows:
            m = re.search(r"第(\d+)(条|项|次)", v.get("title", ""))
            if m:
                key = (code, org, re.sub(r"第\d+", "#", v["title"]))
                series.setdefault(key, []).append((v[date_code], int(m.group(1))))
    assert len(series) > 20
    for key, items in series.items():
        items.sort()
        assert [n for _, n in items] == list(range(1, len(items) + 1)), key


def test_names_fit_their_genders(demo):
    from faker.providers.person.zh_CN import Provider

    given = {"男": set(Provider.first_names_male), "女": set(Provider.first_names_female)}
    people = [(v["name"], v["gender"]) for _, _, v in demo["members"]]
    people += [(v["person"], v["gender"]) for _, _, v in demo["cadres"]]
    assert len(people) > 100
    wrong = [(name, g) for name, g in people if not any(name.endswith(f) for f in given[g])]
    assert not wrong, wrong[:5]


def test_the_clerk_is_not_late_for_what_waits_for_the_street(demo):
    clerk = demo["clerk_overdue"]
    assert clerk and {i.acting for i in clerk} == {"owner"}
    assert {i.record.org.code for i in clerk} == {"demo-jd01-sq01"}
    waiting = [i for i in demo["reviewer_overdue"] if i.acting == "supervisor"]
    assert "demo-jd01-sq01" in {i.record.org.code for i in waiting}  # the street is late closing it
    assert not {i.record.pk for i in waiting} & {i.record.pk for i in clerk}


def test_built_in_january_the_demo_has_tens_of_overdue_items_too(db):
    """The slice is the last ten months, not the calendar year: a demo built on 5 January is as lively."""
    from dangjian.demo.generator import ROOT_CODE, build_demo
    from dangjian.lists import workflow
    from dangjian.orgs.models import Organization
    from dangjian.packs.loader import load_all

    load_all()
    today = (
        timezone.localdate()
    )  # the field rules check dates against the real today: build on a past 5 January
    day = dt.date(today.year if today >= dt.date(today.year, 1, 5) else today.year - 1, 1, 5)
    build_demo("S", 2019, today=day)
    root = Organization.objects.get(code=ROOT_CODE)
    assert 10 <= len(workflow.overdue_items(org=root, today=day)) <= 99
