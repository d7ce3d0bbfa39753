"""The demo district 示范区: a realistic tree, one user per role, and the same data however often it is built."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from dangjian.demo.generator import DEMO_PASSWORD, DEMO_RETURN_REASON, DEMO_TASK, ROOT_CODE, build_demo
from dangjian.orgs import access
from dangjian.orgs.models import Membership, Organization
from dangjian.records import services
from dangjian.records.models import LedgerType, Record
from dangjian.tasks import collection
from dangjian.tasks.models import CollectionTask, TargetStatus, TaskEvent, TaskTarget


def _counts() -> dict[str, int]:
    return {
        "orgs": Organization.objects.count(),
        "users": get_user_model().objects.count(),
        "memberships": Membership.objects.count(),
        "ledger_types": LedgerType.objects.count(),
        "records": Record.objects.count(),
        "tasks": CollectionTask.objects.count(),
        "targets": TaskTarget.objects.count(),
        "task_events": TaskEvent.objects.count(),
    }


@pytest.fixture
def demo(db):
    from dangjian.packs.loader import load_all

    load_all()  # the report packs' demo records need their ledgers
    return build_demo(scale="S")


def _kind_count(root: Organization, kind: str) -> int:
    return root.subtree().filter(kinds__code=kind).count()


def test_building_twice_changes_nothing(demo):
    first = _counts()
    assert first["records"] > 0
    again = build_demo(scale="S")
    assert _counts() == first
    assert again.records_created == 0
    assert again.orgs == demo.orgs


def test_it_builds_a_realistic_district_with_one_user_per_role(demo):
    # One test, because building the district takes seconds.
    _check_tree(demo)
    _check_users(demo)
    _check_clerks()
    _check_task()


def _check_tree(demo) -> None:
    root = Organization.objects.get(code=ROOT_CODE)
    assert Organization.objects.get_parent(root) is None
    assert root.short_name == "示范区"
    assert "示范区" in root.name
    assert 6 <= _kind_count(root, "street") <= 10
    assert 50 <= _kind_count(root, "community") <= 70
    assert 30 <= _kind_count(root, "agency") <= 50
    assert 80 <= _kind_count(root, "new_org") <= 120
    assert _kind_count(root, "school") >= 5
    short_names = set(root.subtree().values_list("short_name", flat=True))
    assert {"区纪委监委", "区委组织部", "区委宣传部"} <= short_names
    assert demo.orgs == root.subtree().count()
    # Every community sits under a street.
    for community in root.subtree().filter(kinds__code="community")[:10]:
        assert "street" in Organization.objects.get_parent(community).kinds.values_list("code", flat=True)


def _check_users(demo) -> None:
    users = {u: r for u, r, _ in demo.users}
    assert users["admin"] == "系统管理员"
    assert {"管理员", "审核员", "填报员", "查看者"} <= set(users.values())
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password(DEMO_PASSWORD)
    assert DEMO_PASSWORD in demo.summary()
    # The system administrator holds no role: he sees no ledger rows.
    assert not access.has_any_role(admin)


def _check_clerks() -> None:
    user_model = get_user_model()
    clerk, other = user_model.objects.get(username="tianbao"), user_model.objects.get(username="tianbao2")
    study = LedgerType.objects.get(code="study_activity")
    mine = access.records(clerk, study, Record.objects.all())
    theirs = access.records(other, study, Record.objects.all())
    assert mine.exists()
    assert theirs.exists()
    assert not set(mine.values_list("pk", flat=True)) & set(theirs.values_list("pk", flat=True))
    case = LedgerType.objects.get(code="discipline_case")
    assert access.records(user_model.objects.get(username="jiwei"), case, Record.objects.all()).exists()
    assert not access.records(user_model.objects.get(username="qwb"), case, Record.objects.all()).exists()


def _check_task() -> None:
    """The demo's 2019 填报任务 is long finished, as in a real district: every community submitted in January 2020
    before the deadline, 和平社区 after a return with its reason; its 2019 records are locked. The demo clerks'
    open work is this quarter's task: 幸福社区 not yet submitted, 和平社区 returned."""
    task = CollectionTask.objects.get(title=DEMO_TASK)
    root = Organization.objects.get(code=ROOT_CODE)
    assert task.targets.count() == _kind_count(root, "community")
    january = (dt.date(2020, 1, 1), task.deadline)
    for target in task.targets.all():
        assert target.status == TargetStatus.SUBMITTED and not target.return_reason, target
        assert january[0] <= timezone.localtime(target.submitted_at).date() <= january[1], target
        assert not collection.is_overdue(task, target)
    user_model = get_user_model()
    admin = user_model.objects.get(username="qwb")
    assert collection.progress(admin, task).overdue == 0
    clerk, other = user_model.objects.get(username="tianbao"), user_model.objects.get(username="tianbao2")
    # 和平社区's history: submitted, returned the next day with the reason, submitted again a few days later.
    resubmitted = task.targets.get(org__code="demo-jd01-sq02")
    steps = [(e.to_status, e.reason, e.by, e.at) for e in resubmitted.events.all()][
        1:
    ]  # after the task was sent
    assert [(s, r, b) for s, r, b, _ in steps] == [
        (TargetStatus.SUBMITTED, "", other),
        (TargetStatus.RETURNED, DEMO_RETURN_REASON, admin),
        (TargetStatus.SUBMITTED, "", other),
    ]
    assert steps[0][3] < steps[1][3] < steps[2][3] == resubmitted.submitted_at
    assert dt.timedelta(days=2) < steps[2][3] - steps[1][3] < dt.timedelta(days=6)
    assert resubmitted.submitted_by == other
    # Nothing of 2019 is open for the clerks: their home pages list this quarter's task only.
    current = CollectionTask.objects.exclude(pk=task.pk).get()
    mine, theirs = collection.open_targets(clerk), collection.open_targets(other)
    assert [(t.task, t.org.code) for t in mine] == [(current, "demo-jd01-sq01")]
    assert [(t.task, t.org.code, t.status) for t in theirs] == [
        (current, "demo-jd01-sq02", TargetStatus.RETURNED)
    ]
    for user in (clerk, other):
        web = Client()
        web.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        home = web.get("/").content.decode()
        assert current.title in home and DEMO_TASK not in home
    # 2019 is locked for every community: the clerk can no longer enter a 2019 meeting at 幸福社区.
    meeting = LedgerType.objects.get(code="organization_life")
    values = {"date": "2019-12-30", "kind": "支委会", "topic": "年终总结", "attendance": 7, "present": 7}
    happy = Organization.objects.get(code="demo-jd01-sq01")
    with pytest.raises(services.RecordLocked):
        services.save_record(clerk, meeting, values, org=happy)
    # This quarter's task: 幸福社区 has not submitted, so its clerk can still enter the quarter's meetings (and the
    # target becomes 暂存); a unit that has submitted it has them locked.
    values["date"] = current.period_end.isoformat()
    services.save_record(clerk, meeting, values, org=happy)
    assert current.targets.get(org=happy).status == TargetStatus.DRAFT
    done = current.targets.filter(status=TargetStatus.SUBMITTED).select_related("org").first()
    with pytest.raises(services.RecordLocked):
        services.save_record(None, meeting, values, org=done.org, check_access=False)


@pytest.mark.django_db
def test_the_check_for_records_already_built_reads_the_key_index():
    """The demo asks, batch by batch, which keys are stored. At scale L on SQLite a plain `key IN (…)` did not use the
    partial index `record_key` (its condition `key <> ''` was not repeated), so every batch scanned the whole table
    and the build never finished. The plan must read the index, on SQLite and on PostgreSQL."""
    from django.db import connection

    keys = [f"demo:k{n}" for n in range(50)]
    sql, params = Record.objects.with_keys(keys).values_list("key").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "record_key" in plan, plan
            assert "SCAN ledgers_record" not in plan.replace("USING", ""), plan
        else:
            cursor.execute(
                "SET LOCAL enable_seqscan = off"
            )  # an empty table: ask whether the index is usable at all
            cursor.execute("EXPLAIN " + sql, params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "record_key" in plan, plan
    # Blank keys are never looked up (records without a key are not in the index and are not "already built").
    assert "''" not in str(Record.objects.with_keys(["", "x"]).query).replace("<> ''", "")
    assert list(Record.objects.with_keys(["", "x"])) == []
