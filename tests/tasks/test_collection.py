"""填报任务 in the domain layer: targets, statuses, 报送/退回 by role, and the lock every entry path obeys."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from dangjian.orgs.models import OrgKind
from dangjian.records.services import RecordLocked, delete_record, restore_record, save_record
from dangjian.tasks import collection
from dangjian.tasks.models import TargetStatus, TaskEvent

from .conftest import make_task

MEETING = {"date": "2019-03-05", "kind": "党课", "topic": "学习党章"}


def target(task, org):
    return task.targets.get(org=org)


def test_a_task_targets_the_units_below_its_scope_of_the_chosen_kinds(world):
    task = make_task(world)
    assert sorted(t.org.code for t in task.targets.all()) == ["c1", "c2"]
    everyone = make_task(
        world, user=world.unit_admin, creator_org=world.root, scope_root=world.root, kinds=[]
    )
    assert sorted(t.org.code for t in everyone.targets.all()) == ["c1", "c2", "jw", "s1"]
    with pytest.raises(collection.TaskError, match="没有符合所选类别的单位"):
        make_task(world, kinds=OrgKind.objects.filter(code="street"))


def test_targets_are_fixed_at_creation(world):
    from dangjian.orgs.models import Organization

    task = make_task(world)
    parent = Organization.objects.get(pk=world.s1.pk)
    c3 = Organization.objects.add_child(parent, dict(code="c3", name="新社区"))
    c3.kinds.set(OrgKind.objects.filter(code="community"))
    assert task.targets.count() == 2


def test_only_reviewers_of_the_creating_org_create_tasks(world):
    with pytest.raises(PermissionDenied):
        make_task(world, user=world.clerk)
    with pytest.raises(PermissionDenied):
        make_task(world, user=world.viewer)
    with pytest.raises(collection.TaskError, match="不在发起单位"):
        make_task(world, creator_org=world.s1, scope_root=world.root)
    with pytest.raises(collection.TaskError, match="不能早于"):
        make_task(world, period_end=dt.date(2018, 1, 1))


def test_status_moves_from_pending_to_draft_to_submitted(world, make_record):
    task = make_task(world)
    assert target(task, world.c1).status == TargetStatus.PENDING
    save_record(world.clerk, world.ledger("organization_life"), MEETING, org=world.c1)
    assert target(task, world.c1).status == TargetStatus.DRAFT
    assert target(task, world.c2).status == TargetStatus.PENDING
    collection.submit(world.clerk, target(task, world.c1))
    t1 = target(task, world.c1)
    assert t1.status == TargetStatus.SUBMITTED and t1.submitted_by == world.clerk and t1.submitted_at
    steps = [(e.from_status, e.to_status, e.by) for e in t1.events.all()]
    assert steps == [
        ("", "pending", world.reviewer),
        ("pending", "draft", world.clerk),
        ("draft", "submitted", world.clerk),
    ]


def test_units_with_records_start_as_draft(world, make_record):
    make_record("organization_life", world.c2, MEETING)
    task = make_task(world)
    assert target(task, world.c2).status == TargetStatus.DRAFT


def test_a_record_outside_the_task_leaves_it_pending(world, make_record):
    task = make_task(world)
    make_record("organization_life", world.c1, {**MEETING, "date": "2020-01-02"})
    make_record("study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "学习"})
    assert target(task, world.c1).status == TargetStatus.PENDING


@pytest.fixture
def submitted(world, make_record):
    """c1 has a meeting inside the period, one outside it and a study activity; then its clerk submits."""
    inside = make_record("organization_life", world.c1, MEETING)
    outside = make_record("organization_life", world.c1, {**MEETING, "date": "2020-02-01"})
    other = make_record(
        "study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "学习"}
    )
    task = make_task(world)
    collection.submit(world.clerk, target(task, world.c1))
    return task, inside, outside, other


def test_after_submission_the_clerk_cannot_change_records_in_the_period(world, submitted):
    task, inside, _, _ = submitted
    meeting = world.ledger("organization_life")
    with pytest.raises(RecordLocked, match="已于.*报送“2019年度党建工作数据”，如需修改请联系上级审核员退回"):
        save_record(world.clerk, meeting, MEETING, org=world.c1)
    with pytest.raises(RecordLocked):
        save_record(world.clerk, meeting, {**MEETING, "topic": "改"}, record=inside)
    with pytest.raises(RecordLocked):
        delete_record(world.clerk, inside)
    inside.refresh_from_db()
    assert inside.values["topic"] == "学习党章" and not inside.is_deleted
    assert meeting.records.filter(org=world.c1).count() == 2  # nothing added


def test_the_write_service_asks_the_tasks_app_through_the_lock_hook(world, submitted, monkeypatch):
    """records may not import tasks: TasksConfig.ready() registers the task rules as the service's lock provider.
    Without a provider (an installation without the tasks app) the same change goes through."""
    from dangjian.records import locks

    provider = locks.provider()  # the task rules, imported on first use (not at start-up)
    for name in (
        "locks_for",
        "lock_at",
        "locking_target",
        "lock_message",
        "note_started",
        "note_started_many",
    ):
        assert getattr(provider, name) is getattr(collection, name)
    _, inside, _, _ = submitted
    meeting = world.ledger("organization_life")
    with pytest.raises(RecordLocked):
        save_record(world.clerk, meeting, {**MEETING, "topic": "改"}, record=inside)
    monkeypatch.setattr(locks, "_provider", locks.NoLocks())
    save_record(world.clerk, meeting, {**MEETING, "topic": "改"}, record=inside)
    inside.refresh_from_db()
    assert inside.values["topic"] == "改"


def test_a_record_cannot_be_moved_into_or_out_of_a_submitted_period(world, submitted):
    _, inside, outside, _ = submitted
    meeting = world.ledger("organization_life")
    with pytest.raises(RecordLocked):
        save_record(world.clerk, meeting, {**MEETING, "date": "2020-03-01"}, record=inside)
    with pytest.raises(RecordLocked):
        save_record(world.clerk, meeting, {**MEETING, "date": "2019-05-01"}, record=outside)


def test_restoring_a_record_into_a_submitted_period_is_refused(world, make_record):
    record = make_record("organization_life", world.c1, MEETING)
    delete_record(world.clerk, record)
    task = make_task(world)
    collection.submit(world.clerk, target(task, world.c1))
    with pytest.raises(RecordLocked):
        restore_record(world.clerk, record)


def test_records_outside_the_period_or_of_other_ledgers_stay_editable(world, submitted):
    _, _, outside, other = submitted
    save_record(
        world.clerk, world.ledger("organization_life"), {**MEETING, "date": "2020-02-02"}, record=outside
    )
    save_record(
        world.clerk,
        world.ledger("study_activity"),
        {"date": "2019-03-05", "kind": "专题报告", "title": "改"},
        record=other,
    )
    delete_record(world.clerk, other)
    # and the sibling unit, not submitted, still enters records of the period
    save_record(world.sibling, world.ledger("organization_life"), MEETING, org=world.c2)


def test_imports_and_commands_without_a_user_obey_the_lock(world, submitted):
    with pytest.raises(RecordLocked):
        save_record(None, world.ledger("organization_life"), MEETING, org=world.c1, check_access=False)


def test_reviewers_above_may_still_correct_submitted_records(world, submitted):
    _, inside, _, _ = submitted
    meeting = world.ledger("organization_life")
    save_record(world.reviewer, meeting, {**MEETING, "topic": "审核更正"}, record=inside)
    save_record(world.unit_admin, meeting, MEETING, org=world.c1)
    assert target(submitted[0], world.c1).status == TargetStatus.SUBMITTED


def test_the_reviewer_returns_with_a_reason_and_the_clerk_edits_again(world, submitted):
    task, inside, _, _ = submitted
    with pytest.raises(collection.TaskError, match="请填写退回原因"):
        collection.return_target(world.reviewer, target(task, world.c1), "  ")
    assert target(task, world.c1).status == TargetStatus.SUBMITTED
    collection.return_target(world.reviewer, target(task, world.c1), "参会人数有误")
    t1 = target(task, world.c1)
    assert t1.status == TargetStatus.RETURNED and t1.return_reason == "参会人数有误"
    last = t1.events.last()
    assert last is not None
    assert (last.from_status, last.to_status, last.reason, last.by) == (
        "submitted",
        "returned",
        "参会人数有误",
        world.reviewer,
    )
    save_record(world.clerk, world.ledger("organization_life"), {**MEETING, "topic": "改"}, record=inside)
    assert target(task, world.c1).status == TargetStatus.RETURNED  # until submitted again
    collection.submit(world.clerk, target(task, world.c1))
    again = target(task, world.c1)
    assert again.status == TargetStatus.SUBMITTED
    # Submitted again, it is no longer returned (its JSON row says so too); the reason stays in its events.
    assert again.return_reason == ""
    assert [e.reason for e in again.events.filter(to_status=TargetStatus.RETURNED)] == ["参会人数有误"]


def test_a_return_reason_is_cleaned_and_bounded(world, submitted):
    task = submitted[0]
    with pytest.raises(collection.TaskError, match="不能超过 2000 字"):
        collection.return_target(world.reviewer, target(task, world.c1), "错" * 2001)
    with pytest.raises(collection.TaskError, match="请填写退回原因"):
        collection.return_target(world.reviewer, target(task, world.c1), "\x01\x0b ")
    assert target(task, world.c1).status == TargetStatus.SUBMITTED
    collection.return_target(world.reviewer, target(task, world.c1), "人数\x01有误\x7f")
    assert target(task, world.c1).return_reason == "人数有误"


def test_only_the_units_writers_submit_and_only_reviewers_above_return(world, submitted):
    task = submitted[0]
    t2 = target(task, world.c2)
    with pytest.raises(PermissionDenied):
        collection.submit(world.clerk, t2)  # the sibling's unit
    with pytest.raises(PermissionDenied):
        collection.submit(world.viewer, t2)
    with pytest.raises(PermissionDenied):
        collection.submit(world.sysadmin, t2)
    t1 = target(task, world.c1)
    for user in (world.clerk, world.sibling, world.viewer, world.sysadmin, world.outsider):
        with pytest.raises(PermissionDenied):
            collection.return_target(user, t1, "理由")
    with pytest.raises(collection.TaskError, match="无需重复报送"):
        collection.submit(world.clerk, t1)
    with pytest.raises(collection.TaskError, match="尚未报送"):
        collection.return_target(world.reviewer, t2, "理由")
    collection.return_target(world.unit_admin, t1, "管理员退回")
    assert TaskEvent.objects.filter(target=t1, to_status="returned").count() == 1


def test_a_units_own_reviewer_cannot_undo_its_submission(world, make_record):
    from dangjian.orgs.models import Membership, Role

    Membership.objects.create(user=world.sibling, org=world.c1, role=Role.REVIEWER)
    task = make_task(world)
    collection.submit(world.clerk, target(task, world.c1))
    with pytest.raises(PermissionDenied):
        collection.return_target(world.sibling, target(task, world.c1), "自行撤回")
    with pytest.raises(RecordLocked):
        save_record(world.sibling, world.ledger("organization_life"), MEETING, org=world.c1)


def test_open_targets_are_those_not_yet_submitted_in_the_write_scope(world, submitted):
    task = submitted[0]
    assert list(collection.open_targets(world.clerk)) == []
    assert [t.org for t in collection.open_targets(world.sibling)] == [world.c2]
    assert [t.org for t in collection.open_targets(world.reviewer)] == [world.c2]
    assert list(collection.open_targets(world.sysadmin)) == []
    assert list(collection.open_targets(world.viewer)) == []
    collection.return_target(world.reviewer, target(task, world.c1), "补充")
    assert [t.org for t in collection.open_targets(world.clerk)] == [world.c1]


def test_bulk_paths_get_the_same_locks_and_draft_marks(world, submitted):
    """Imports write in bulk: they check rows against `locks_for` and mark 暂存 with `note_started_many`."""
    meeting = world.ledger("organization_life")
    clerk_locks = collection.locks_for(world.clerk, meeting)
    locked = collection.lock_at(clerk_locks, world.c1.pk, dt.date(2019, 5, 1))
    assert locked is not None and "如需修改请联系上级审核员退回" in collection.lock_message(locked)
    assert collection.lock_at(clerk_locks, world.c1.pk, dt.date(2020, 5, 1)) is None
    assert collection.lock_at(clerk_locks, world.c2.pk, dt.date(2019, 5, 1)) is None
    assert collection.lock_at(collection.locks_for(None, meeting), world.c1.pk, dt.date(2019, 5, 1))
    assert not collection.locks_for(world.reviewer, meeting)
    assert not collection.locks_for(world.clerk, world.ledger("study_activity"))
    task = submitted[0]
    collection.note_started_many(world.sibling, meeting, [(world.c2.pk, dt.date(2020, 1, 1))])
    assert target(task, world.c2).status == TargetStatus.PENDING
    collection.note_started_many(world.sibling, meeting, [(world.c2.pk, dt.date(2019, 7, 1))])
    assert target(task, world.c2).status == TargetStatus.DRAFT
