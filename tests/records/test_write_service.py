"""The batch write service: problems named by row and field, all or nothing (also across its write transactions),
the 报送 locks, history, and every entry path (import, demo data, workflow steps) going through it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from tests.tasks.conftest import make_task

from dangjian.records import services
from dangjian.records.models import Record
from dangjian.records.services import (
    Change,
    Creation,
    NewRecord,
    RecordInvalid,
    RecordLocked,
    create_records,
    delete_records,
    history,
    update_records,
)
from dangjian.tasks import collection

TASK = {
    "issued_on": "2019-03-01",
    "source": "巡察反馈",
    "title": "党员发展档案不规范",
    "deadline": "2019-06-30",
}
MEETING = {"date": "2019-03-05", "kind": "党课", "topic": "学习党章", "attendance": "30", "host": "张三"}


@pytest.fixture
def meeting(world):
    return world.ledger("organization_life")


def _rows(world, *changes: dict) -> list[NewRecord]:
    return [NewRecord(world.c1, {**MEETING, **c}, row=i) for i, c in enumerate(changes, start=1)]


def test_a_batch_with_one_bad_row_writes_nothing_and_names_row_and_field(world, meeting):
    rows = _rows(world, {}, {"attendance": "三十", "date": "2019-02-30"}, {"topic": "学习党规"})
    with pytest.raises(RecordInvalid) as exc:
        create_records(world.clerk, meeting, rows)
    problems = exc.value.problems
    assert [(p.row, p.field) for p in problems] == [(2, "date"), (2, "attendance")]
    assert str(problems[1]) == "第2行：【应到人数】应为整数，“三十”不是整数"
    assert exc.value.count == 2
    assert not Record.objects.exists()


def test_every_problem_is_counted_and_the_first_thousand_listed(world, meeting):
    rows = _rows(world, *[{"attendance": "-1"}] * 1005)
    with pytest.raises(RecordInvalid) as exc:
        create_records(world.clerk, meeting, rows)
    assert exc.value.count == 1005 and len(exc.value.problems) == services.MAX_LISTED
    assert exc.value.problems[-1].row == services.MAX_LISTED
    assert not Record.objects.exists()


def test_remembered_answers_keep_types_apart(world, meeting):
    """Validators' answers are remembered per cell value within a batch; True is not 1 and 1.0 is not "1"."""
    rows = _rows(world, {"attendance": 1}, {"attendance": True}, {"attendance": 1.0}, {"attendance": "1"})
    with pytest.raises(RecordInvalid) as exc:
        create_records(world.clerk, meeting, rows)
    assert [(p.row, p.field) for p in exc.value.problems] == [(2, "attendance")]
    ids = create_records(world.clerk, meeting, _rows(world, {"attendance": 1}, {"attendance": 1.0}))
    assert [r.values["attendance"] for r in Record.objects.filter(pk__in=ids)] == [1, 1]


def test_a_created_batch_has_history_state_and_creator(world):
    lt = world.ledger("rectification_task")
    (pk,) = create_records(world.clerk, lt, [NewRecord(world.c1, TASK)], reason="导入")
    record = Record.objects.get(pk=pk)
    assert record.status == services.initial_state(lt) != ""
    assert record.created_by == world.clerk and record.updated_by == world.clerk
    (entry,) = history(record)
    assert entry["action"] == "导入" and entry["user"] == world.clerk.username


def test_a_state_other_than_the_initial_one_is_only_for_seeded_demo_data(world):
    lt = world.ledger("rectification_task")
    closed = {**TASK, "closed_on": "2019-05-01", "on_time": "是"}
    with pytest.raises(RecordInvalid, match="新记录从“待整改”开始，状态只能通过流转改变"):
        create_records(world.clerk, lt, [NewRecord(world.c1, closed, status="已销号")])
    with pytest.raises(RecordInvalid, match="状态“已完成”不是“整改任务台账”的流程状态"):
        create_records(
            None, lt, [NewRecord(world.c1, closed, status="已完成")], check_access=False, seeded=True
        )
    (pk,) = create_records(world.clerk, lt, [NewRecord(world.c1, closed)])
    assert "closed_on" not in Record.objects.get(pk=pk).values  # only a workflow step writes it
    (pk,) = create_records(
        None, lt, [NewRecord(world.c1, closed, status="已销号")], check_access=False, seeded=True
    )
    seeded = Record.objects.get(pk=pk)
    assert seeded.status == "已销号" and seeded.values["closed_on"] == "2019-05-01"


def test_updates_are_all_or_nothing_with_before_and_after(world, meeting):
    first, second = (
        Record.objects.get(pk=pk) for pk in create_records(world.clerk, meeting, _rows(world, {}, {}))
    )
    with pytest.raises(RecordInvalid) as exc:
        update_records(
            world.clerk,
            meeting,
            [
                Change(first, {**MEETING, "attendance": "40"}, row=1),
                Change(second, {**MEETING, "kind": "茶话会"}, row=2),
            ],
        )
    assert [(p.row, p.field) for p in exc.value.problems] == [(2, "kind")]
    first.refresh_from_db()
    assert first.values["attendance"] == 30
    update_records(world.reviewer, meeting, [Change(first, {**MEETING, "attendance": "40"})])
    latest = history(Record.objects.get(pk=first.pk))[0]
    assert latest["action"] == "修改" and latest["user"] == world.reviewer.username
    assert {"field": "应到人数", "before": "30", "after": "40"} in latest["changes"]


def test_a_submitted_period_refuses_every_kind_of_change(world, meeting):
    (pk,) = create_records(world.clerk, meeting, _rows(world, {}))
    task = make_task(world)
    collection.submit(world.clerk, task.targets.get(org=world.c1))
    record = Record.objects.get(pk=pk)
    with pytest.raises(RecordLocked, match="已于.*报送"):
        create_records(world.clerk, meeting, _rows(world, {"topic": "新的一次"}))
    with pytest.raises(RecordLocked):
        update_records(world.clerk, meeting, [Change(record, {**MEETING, "attendance": "31"})])
    with pytest.raises(RecordLocked):
        delete_records(world.clerk, [record])
    # a 2020 record of the same unit is outside the task's period
    assert create_records(world.clerk, meeting, _rows(world, {"date": "2020-01-02"}))
    # the reviewer above the unit may still correct it
    update_records(world.reviewer, meeting, [Change(record, {**MEETING, "attendance": "31"})])


def test_entering_for_a_unit_outside_ones_scope_is_refused(world, meeting):
    with pytest.raises(PermissionDenied):
        create_records(world.clerk, meeting, [NewRecord(world.c2, MEETING)])
    assert not Record.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_a_later_write_transaction_undoes_the_earlier_ones(world, meeting, monkeypatch):
    """Outside a caller's transaction, rows go in short transactions; when one fails (here: a 报送 made after
    the rows were checked, met by the third batch), what the first two wrote is deleted again."""
    monkeypatch.setattr(services, "WRITE_BATCH", 2)
    task = make_task(world)
    creation = Creation(world.reviewer, meeting, bulk=True)
    rows = [NewRecord(world.c2, {**MEETING, "topic": f"第{i}次"}, row=i) for i in range(1, 5)]
    rows.append(NewRecord(world.c1, MEETING, row=5))
    checked = [creation.check(r) for r in rows]
    target = task.targets.get(org=world.c1)
    collection.submit(world.clerk, target)
    other = world.clerk  # the reviewer may change a submitted unit's records; a clerk of it may not
    creation.user = other
    creation.locks.user = other
    with pytest.raises(RecordLocked) as exc:
        creation.write(checked)
    assert [p.row for p in exc.value.problems] == [5]
    assert not Record.objects.exists()
    assert not Record.history.model.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_large_batch_outside_a_transaction_is_written_whole(world, meeting, monkeypatch):
    monkeypatch.setattr(services, "WRITE_BATCH", 3)
    make_task(world)
    ids = create_records(world.clerk, meeting, _rows(world, *[{"topic": f"第{i}次"} for i in range(7)]))
    assert len(ids) == len(set(ids)) == 7 == Record.objects.count() == Record.history.model.objects.count()
    assert sorted(Record.objects.values_list("values__topic", flat=True)) == sorted(
        f"第{i}次" for i in range(7)
    )
    # the unit's 未填报 task became 暂存, as after a form save
    assert collection.TaskTarget.objects.get(org=world.c1).status == collection.TargetStatus.DRAFT


def test_an_import_is_checked_and_written_by_the_service(world, tmp_path, monkeypatch):
    from tests.spreadsheets.test_xlsx_import import good, run, sheet

    seen = {"check": 0, "write": 0}
    check, write = Creation.check, Creation.write

    def spy_check(self, item):
        seen["check"] += 1
        return check(self, item)

    def spy_write(self, rows):
        seen["write"] += 1
        return write(self, rows)

    monkeypatch.setattr(Creation, "check", spy_check)
    monkeypatch.setattr(Creation, "write", spy_write)
    result = run(world, sheet(tmp_path, [good(1), good(2), good(3)]))
    assert result.created == 3 and seen == {"check": 3, "write": 1}


def test_demo_records_are_validated_by_the_service(world, meeting):
    from dangjian.demo.generator import demo_record, save_new

    bad = demo_record(meeting, world.c1, {**MEETING, "attendance": -5}, "demo:test:1")
    with pytest.raises(ValueError, match="演示数据不合法（组织生活台账）.*【应到人数】不能小于 0"):
        save_new([bad])
    good = demo_record(meeting, world.c1, {**MEETING, "date": dt.date(2019, 3, 5)}, "demo:test:2")
    assert save_new([good]) == 1 and save_new([good]) == 0  # a second run adds nothing
    record = Record.objects.get(key="demo:test:2")
    assert record.values["attendance"] == 30 and history(record)[0]["action"] == "演示数据"


def test_workflow_steps_are_written_by_the_service_all_or_nothing(world):
    from dangjian.lists import workflow

    lt = world.ledger("rectification_task")
    item = {**TASK, "measures": "逐项整改"}  # the start step needs its measures
    first, second = (
        Record.objects.get(pk=pk)
        for pk in create_records(world.clerk, lt, [NewRecord(world.c1, item), NewRecord(world.c1, item)])
    )
    task = make_task(world, ledger_types=[lt])
    collection.submit(world.clerk, task.targets.get(org=world.c1))
    problems = workflow.take_many(world.clerk, [first, second], "start")
    assert set(problems) == {first.pk, second.pk} and "已于" in problems[first.pk]
    first.refresh_from_db()
    assert first.status == "待整改" and not first.transitions.exists()
    collection.return_target(world.reviewer, task.targets.get(org=world.c1), "请补充")
    assert workflow.take_many(world.clerk, [first, second], "start") == {}
    first.refresh_from_db()
    assert first.status == "整改中" and first.transitions.get().label == "开始整改"
    assert history(first)[0]["action"] == "开始整改：待整改 → 整改中"


@pytest.mark.django_db(transaction=True)
def test_a_bulk_write_refreshes_the_planners_statistics(world, meeting, monkeypatch):
    """Issue 14 / the concurrency bench: right after a bulk load PostgreSQL planned records pages from empty
    statistics (0.3 s a page instead of 30 ms); a write of ANALYZE_AFTER records or more analyses the tables."""
    from django.db import connection

    monkeypatch.setattr(services, "ANALYZE_AFTER", 6)
    refreshed = []
    real = services.refresh_statistics
    monkeypatch.setattr(services, "refresh_statistics", lambda **kw: refreshed.append(kw) or real(**kw))
    create_records(world.clerk, meeting, _rows(world, *[{"topic": f"第{i}次"} for i in range(5)]))
    assert refreshed == []  # a small batch leaves the statistics alone
    create_records(world.clerk, meeting, _rows(world, *[{"topic": f"第{i}次"} for i in range(6)]))
    assert refreshed == [{}]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Record._meta.db_table])
            assert cursor.fetchone()[0] == Record.objects.count() == 11


def test_an_org_field_names_only_an_org_the_account_may_pick(world):
    """The form's select offers the account's own subtrees; a typed, imported or API value is held to the same list
    (row and field named, nothing written), while a value the record already holds may stay on an edit."""
    lt = world.ledger("rectification_task")
    outside = NewRecord(world.c1, {**TASK, "responsible_org": "c2"}, row=7)
    with pytest.raises(RecordInvalid) as exc:
        create_records(world.clerk, lt, [NewRecord(world.c1, TASK, row=6), outside])
    (problem,) = exc.value.problems
    assert (problem.row, problem.field) == (7, "responsible_org")
    assert "“c2”不在您可以选择的组织范围内" in str(problem)
    assert not Record.objects.exists()
    (pk,) = create_records(world.reviewer, lt, [NewRecord(world.c1, {**TASK, "responsible_org": "c2"})])
    record = Record.objects.get(pk=pk)
    update_records(world.clerk, lt, [Change(record, {**TASK, "responsible_org": "c2", "title": "改"})])
    assert Record.objects.get(pk=pk).values["title"] == "改"
    with pytest.raises(RecordInvalid):
        update_records(world.clerk, lt, [Change(record, {**TASK, "responsible_org": "s1"})])
    # the system actor of the command line and demo data (check_access=False) is not a person choosing
    create_records(None, lt, [NewRecord(world.c2, {**TASK, "responsible_org": "c1"})], check_access=False)
