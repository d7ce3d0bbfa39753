"""The per-request Scope (orgs/access.py): one object per account and request that answers every access question —
orgs, strictly above, records with or without deleted ones, how each is shown, tasks, list items, figures — and the
system actor of the command line."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.orgs import access
from dangjian.orgs.access import MASK, SYSTEM
from dangjian.records.models import LedgerType, Record

CASE = {"filed_on": "2019-04-01", "case_no": "示纪立〔2019〕3号", "person": "周某", "amount": 12000}


@pytest.fixture
def rows(world, make_record):
    return {
        "c1": make_record(
            "study_activity", world.c1, {"date": "2019-03-01", "kind": "专题报告", "title": "甲"}
        ),
        "c2": make_record(
            "study_activity", world.c2, {"date": "2019-03-02", "kind": "专题报告", "title": "乙"}
        ),
        "case": make_record("discipline_case", world.jw, CASE),
    }


def _pks(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def test_the_scope_is_built_once_per_user_object_and_reads_memberships_once(world, rows):
    scope = access.scope(world.reviewer)
    assert access.scope(world.reviewer) is scope
    study = world.ledger("study_activity")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(50):  # as a records page asks, row after row
            scope.covers(world.c1)
            scope.masks(rows["c1"])
            scope.may_change(rows["c2"])
            scope.strictly_above(world.c1)
            scope.sees_rows(study)
    assert len(queries) == 0
    access.forget(world.reviewer)
    assert access.scope(world.reviewer) is not scope


def test_a_confidential_ledger_is_asked_about_once_per_scope(world, rows):
    scope = access.scope(world.unit_admin)
    case = world.ledger("discipline_case")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(10):
            assert not scope.sees_rows(case)
    assert len(queries) == 1


def test_strictly_above_is_never_the_unit_itself(world):
    reviewer = access.scope(world.reviewer)  # 审核员 at s1
    assert reviewer.strictly_above(world.c1) and reviewer.strictly_above(world.c2)
    assert not reviewer.strictly_above(world.s1)  # its own unit
    assert not reviewer.strictly_above(world.jw)  # a sibling subtree
    assert not access.scope(world.clerk).strictly_above(world.c1)  # a clerk reviews nothing
    assert access.scope(world.unit_admin).strictly_above(world.s1)
    assert not access.scope(world.viewer).strictly_above(world.c1)  # 查看者 is no reviewer


def test_deleted_records_are_seen_only_by_who_may_restore_them(world, rows):
    from dangjian.records import services

    services.delete_record(world.clerk, rows["c1"])
    study = world.ledger("study_activity")
    qs = Record.objects.all()
    clerk, viewer = access.scope(world.clerk), access.scope(world.viewer)
    assert _pks(clerk.records(study, qs)) == set()
    assert _pks(clerk.records(study, qs, deleted=True)) == {rows["c1"].pk}
    assert _pks(clerk.openable(study, qs)) == {rows["c1"].pk}
    assert _pks(viewer.records(study, qs)) == {rows["c2"].pk}
    assert _pks(viewer.records(study, qs, deleted=True)) == set()
    assert _pks(viewer.openable(study, qs)) == {rows["c2"].pk}
    record = Record.objects.get(pk=rows["c1"].pk)
    assert clerk.may_view(record) and not viewer.may_view(record)
    assert clerk.may_restore_in(study) and not viewer.may_restore_in(study)
    assert _pks(access.scope(world.reviewer).records(study, qs, under=world.c2)) == {rows["c2"].pk}


def test_sensitive_values_are_masked_for_all_but_who_may_change_the_record(world, rows):
    case = world.ledger("discipline_case")
    person, number = case.field("person"), case.field("case_no")
    record = rows["case"]
    jiwei = access.scope(world.jiwei)
    assert not jiwei.masks(record)
    assert jiwei.shown(person, record) == "周某"
    assert jiwei.shown_values(record, {"person"})["person"] == "周某"
    # A 查看者 of the 纪委 would see it masked; so does the system actor, always.
    viewer_at_jw = type(world.viewer).objects.create_user("jw_viewer")
    from dangjian.orgs.models import Membership, Role

    Membership.objects.create(user=viewer_at_jw, org=world.jw, role=Role.VIEWER)
    looker = access.scope(viewer_at_jw)
    assert looker.sees_rows(case) and looker.masks(record)
    assert looker.shown(person, record) == MASK and looker.shown(number, record) == CASE["case_no"]
    assert looker.shown_values(record, {"person", "amount"}) | {"case_no": ""} == {
        **record.values,
        "person": MASK,
        "amount": MASK,
        "case_no": "",
    }
    assert access.scope(SYSTEM).masks(rows["c1"])
    assert access.mask("") == "" and access.mask(None) is None and access.mask(0) == MASK


def test_a_masked_field_is_not_searchable_where_it_is_masked(world, rows):
    case = world.ledger("discipline_case")
    person = case.field("person")
    hits = Record.objects.filter(values__person__icontains="周")
    assert _pks(hits.filter(access.scope(world.jiwei).may_search(person))) == {rows["case"].pk}
    assert _pks(hits.filter(access.scope(world.viewer).may_search(person))) == set()
    assert _pks(hits.filter(access.scope(SYSTEM).may_search(person))) == set()
    assert _pks(hits.filter(access.scope(world.viewer).may_search(case.field("case_no")))) == {
        rows["case"].pk
    }


def test_the_system_actor_sees_every_unit_but_no_confidential_row(world, rows):
    system = access.scope(SYSTEM)
    study, case = world.ledger("study_activity"), world.ledger("discipline_case")
    assert system.system and system.has_role
    assert set(system.orgs()) == {world.root, world.jw, world.s1, world.c1, world.c2}
    assert _pks(system.records(study, Record.objects.all())) == {rows["c1"].pk, rows["c2"].pk}
    assert not system.records(case, Record.objects.all()).exists()
    assert case not in system.ledger_types(LedgerType.objects.all())
    assert system.may_enter(study, world.c1) and not system.may_enter(case, world.jw)
    assert not system.strictly_above(world.c1) and not system.may_review(world.c1)
    assert system.may_run_report(world.root)
    # Aggregates only, as for any outsider: a whole year's count, never a list of names.
    year = (dt.date(2019, 1, 1), dt.date(2019, 12, 31))
    assert not system.figure(case, world.root, *year, aggregate="count").refused
    assert not system.figure(case, world.root, *year, aggregate="count").rows
    assert system.figure(case, world.root, *year, aggregate="list").refused
    assert access.scope(SYSTEM) is not system  # nothing is kept between commands


def test_tasks_and_targets_follow_the_scope(world):
    from dangjian.orgs.models import OrgKind
    from dangjian.tasks import collection
    from dangjian.tasks.models import CollectionTask

    task = collection.create_task(
        world.reviewer,
        title="任务",
        creator_org=world.s1,
        ledger_types=[world.ledger("organization_life")],
        period_start=dt.date(2019, 1, 1),
        period_end=dt.date(2019, 12, 31),
        scope_root=world.s1,
        kinds=OrgKind.objects.filter(code="community"),
        deadline=dt.date(2099, 1, 1),
    )
    every = CollectionTask.objects.all()
    for who, sees in {
        "reviewer": True,
        "clerk": True,
        "viewer": True,
        "jiwei": False,
        "sysadmin": False,
    }.items():
        assert (task in access.scope(getattr(world, who)).tasks(every)) == sees, who
    targets = task.targets.all()
    assert {t.org for t in access.scope(world.clerk).targets(task, targets)} == {world.c1}
    assert {t.org for t in access.scope(world.viewer).targets(task, targets)} == {world.c1, world.c2}
    c1 = targets.get(org=world.c1)
    assert access.scope(world.clerk).may_submit(c1) and not access.scope(world.sibling).may_submit(c1)
    assert access.scope(world.reviewer).may_return(c1)
    assert not access.scope(world.clerk).may_return(c1)


def test_a_task_counts_only_ledgers_whose_rows_the_viewer_sees(world, make_record):
    from dangjian.tasks import collection

    task = collection.create_task(
        world.unit_admin,
        title="含涉密台账的任务",
        creator_org=world.root,
        ledger_types=[world.ledger("discipline_case"), world.ledger("study_activity")],
        period_start=dt.date(2019, 1, 1),
        period_end=dt.date(2019, 12, 31),
        scope_root=world.root,
        deadline=dt.date(2099, 1, 1),
    )
    make_record("discipline_case", world.jw, CASE)
    counts = {r.target.org.code: r.records for r in collection.progress(world.unit_admin, task).rows}
    assert counts["jw"] == 0  # the 区委 admin may not count the 纪委's cases unit by unit
    counts = {r.target.org.code: r.records for r in collection.progress(world.jiwei, task).rows}
    assert counts == {"jw": 1}


def test_list_item_roles(world, make_record):
    values = {"issued_on": "2019-05-01", "source": "督查", "title": "事项", "deadline": "2019-06-30"}
    item = make_record("rectification_task", world.c1, values)
    assert access.scope(world.clerk).holds(item, "owner")
    assert not access.scope(world.clerk).holds(item, "supervisor")
    assert access.scope(world.reviewer).holds(item, "supervisor")
    assert not access.scope(world.sibling).holds(item, "owner")
    assert not access.scope(world.viewer).holds(item, "owner")
    assert not access.scope(world.viewer).holds(item, "supervisor")


@pytest.mark.parametrize("who", ["viewer", "clerk", "jiwei"])
def test_a_records_page_asks_no_query_per_row(world, make_record, client, who):
    """Masking, the change links and the JSON twin decide every row from the request's Scope: a page of 50 rows
    costs the same queries as a page of 2."""
    user = getattr(world, who)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    code, org = ("discipline_case", world.jw) if who == "jiwei" else ("study_activity", world.c1)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            values = (
                {**CASE, "case_no": f"示纪立〔2019〕{i}号"}
                if who == "jiwei"
                else {"date": "2019-03-01", "kind": "专题报告", "title": f"第{i}次"}
            )
            make_record(code, org, values)

    def cost(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    add(2, 1)
    cost(f"/ledgers/{code}/")  # the first request of the process fills caches (ledger definitions, sessions)
    few = [cost(f"/ledgers/{code}/"), cost(f"/ledgers/{code}.json")]
    add(58, 3)
    assert [cost(f"/ledgers/{code}/"), cost(f"/ledgers/{code}.json")] == few
