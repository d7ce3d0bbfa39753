"""orgs/access.py, the one place that decides who sees and changes what."""

from __future__ import annotations

import pytest

from dangjian.orgs import access
from dangjian.orgs.models import Membership, Organization, Role
from dangjian.records.models import LedgerType, Record

STUDY = {"kind": "专题报告", "title": "学习"}
CASE = {"case_no": "示纪立〔2019〕1号", "person": "王五"}


@pytest.fixture
def rows(world, make_record):
    """A study record at each community and at the street, and a confidential case at the 纪委."""
    return {
        "c1": make_record("study_activity", world.c1, {**STUDY, "date": "2019-03-01"}),
        "c2": make_record("study_activity", world.c2, {**STUDY, "date": "2019-03-02"}),
        "s1": make_record("study_activity", world.s1, {**STUDY, "date": "2019-03-03"}),
        "case": make_record("discipline_case", world.jw, {**CASE, "filed_on": "2019-04-01"}),
    }


def _seen(user, ledger: LedgerType) -> set[int]:
    return set(access.records(user, ledger, Record.objects.all()).values_list("pk", flat=True))


def _pks(rows, *names) -> set[int]:
    return {rows[n].pk for n in names}


def test_a_role_applies_to_the_whole_subtree(world, rows):
    study = world.ledger("study_activity")
    assert _seen(world.clerk, study) == _pks(rows, "c1")
    assert _seen(world.sibling, study) == _pks(rows, "c2")
    assert _seen(world.reviewer, study) == _pks(rows, "c1", "c2", "s1")
    assert _seen(world.viewer, study) == _pks(rows, "c1", "c2", "s1")
    assert _seen(world.unit_admin, study) == _pks(rows, "c1", "c2", "s1")


def test_a_sibling_cannot_see_or_change(world, rows):
    record = rows["c1"]
    assert not access.may_view_record(world.sibling, record)
    assert not access.may_change_record(world.sibling, record)
    assert not access.may_enter(world.sibling, record.ledger_type, world.c1)
    assert access.may_view_record(world.clerk, record)
    assert access.may_change_record(world.clerk, record)


def test_a_clerk_cannot_reach_up_the_tree(world, rows):
    assert not access.may_view_record(world.clerk, rows["s1"])
    assert not access.may_enter(world.clerk, rows["s1"].ledger_type, world.s1)
    assert not access.may_run_report(world.clerk, world.s1)
    assert access.may_run_report(world.clerk, world.c1)


def test_a_viewer_can_see_but_not_write(world, rows):
    record = rows["c1"]
    assert access.may_view_record(world.viewer, record)
    assert not access.may_change_record(world.viewer, record)
    assert not access.may_enter(world.viewer, record.ledger_type, world.c1)
    assert not access.entry_orgs(world.viewer).exists()
    writable = access.records(
        world.viewer, record.ledger_type, Record.objects.all(), roles=access.WRITE_ROLES
    )
    assert not writable.exists()


def test_only_reviewers_and_admins_review(world):
    assert access.may_review(world.reviewer, world.c1)
    assert access.may_review(world.unit_admin, world.c1)
    assert not access.may_review(world.clerk, world.c1)
    assert not access.may_review(world.viewer, world.c1)
    assert not access.may_review(world.reviewer, world.jw)


def test_entry_orgs_are_the_active_writable_subtree(world):
    assert set(access.entry_orgs(world.reviewer)) == {world.s1, world.c1, world.c2}
    world.c2.is_active = False
    world.c2.save()
    assert set(access.entry_orgs(world.reviewer)) == {world.s1, world.c1}
    assert not access.entry_orgs(world.clerk, world.ledger("discipline_case")).exists()


def test_confidential_rows_are_only_for_members_of_the_named_kind(world, rows):
    case = world.ledger("discipline_case")
    assert case.confidential
    assert _seen(world.jiwei, case) == _pks(rows, "case")
    for who in ("clerk", "sibling", "reviewer", "viewer", "unit_admin", "sysadmin", "outsider"):
        assert _seen(getattr(world, who), case) == set(), who
        assert not access.may_view_record(getattr(world, who), rows["case"]), who
    assert case in access.ledger_types(world.jiwei, LedgerType.objects.all())
    assert case not in access.ledger_types(world.unit_admin, LedgerType.objects.all())
    # The 区委 admin still runs reports (aggregates) for the whole district.
    assert access.may_run_report(world.unit_admin, world.root)


def test_confidential_rows_follow_a_named_org(world, rows):
    case = world.ledger("discipline_case")
    case.confidential_kinds.clear()
    case.confidential_orgs.set([world.s1])
    assert _seen(world.jiwei, case) == set()
    assert access.may_see_rows(world.reviewer, case)
    assert access.may_see_rows(world.clerk, case)  # a member below the named org
    assert not access.may_see_rows(world.viewer, case)  # a member above it is not


def test_a_confidential_ledger_naming_nobody_shows_no_rows(world, rows):
    case = world.ledger("discipline_case")
    case.confidential_kinds.clear()
    assert _seen(world.jiwei, case) == set()
    assert _seen(world.unit_admin, case) == set()


def test_the_system_administrator_sees_no_rows(world, rows):
    for code in ("study_activity", "organization_life", "discipline_case"):
        assert _seen(world.sysadmin, world.ledger(code)) == set()
    assert not access.ledger_types(world.sysadmin, LedgerType.objects.all()).exists()
    assert not access.may_view_record(world.sysadmin, rows["c1"])
    assert not access.may_enter(world.sysadmin, world.ledger("study_activity"), world.c1)
    assert not access.orgs(world.sysadmin).exists()


def test_anonymous_and_inactive_users_see_nothing(world, rows):
    from django.contrib.auth.models import AnonymousUser

    study = world.ledger("study_activity")
    assert _seen(AnonymousUser(), study) == set()
    assert _seen(None, study) == set()
    world.reviewer.is_active = False
    world.reviewer.save()
    access.forget(world.reviewer)
    assert _seen(world.reviewer, study) == set()


def test_memberships_of_inactive_orgs_are_ignored(world, rows):
    study = world.ledger("study_activity")
    world.s1.is_active = False
    world.s1.save()
    access.forget(world.reviewer)
    assert _seen(world.reviewer, study) == set()
    assert not access.may_review(world.reviewer, world.c1)
    # A membership elsewhere still counts.
    Membership.objects.create(user=world.reviewer, org=world.c2, role=Role.CLERK)
    access.forget(world.reviewer)
    assert _seen(world.reviewer, study) == _pks(rows, "c2")


def test_memberships_are_cached_until_forgotten(world, rows):
    study = world.ledger("study_activity")
    assert _seen(world.sibling, study) == _pks(rows, "c2")
    Membership.objects.create(user=world.sibling, org=world.c1, role=Role.CLERK)
    assert _seen(world.sibling, study) == _pks(rows, "c2")
    access.forget(world.sibling)
    assert _seen(world.sibling, study) == _pks(rows, "c1", "c2")


def test_moving_an_org_keeps_its_records_and_visibility_follows_the_tree(world, rows):
    study = world.ledger("study_activity")
    s2 = Organization.objects.add_child(
        Organization.objects.get(pk=world.root.pk), {"code": "s2", "name": "中共测试区东关街道工作委员会"}
    )
    c1 = Organization.objects.get(pk=world.c1.pk)
    Organization.objects.move(c1, Organization.objects.get(pk=s2.pk), pos="sorted-child")

    c1 = Organization.objects.get(pk=world.c1.pk)
    assert Organization.objects.get_parent(c1) == s2
    record = Record.objects.get(pk=rows["c1"].pk)
    assert record.org == c1  # the reporting org is fixed; only the tree moved

    access.forget(world.reviewer)
    assert _seen(world.reviewer, study) == _pks(rows, "c2", "s1")
    reviewer2 = type(world.reviewer).objects.create_user("reviewer2")
    Membership.objects.create(user=reviewer2, org=s2, role=Role.REVIEWER)
    assert _seen(reviewer2, study) == _pks(rows, "c1")
    assert access.may_change_record(reviewer2, record)
    assert not access.may_change_record(world.reviewer, record)
    # The clerk's membership moved with the org.
    access.forget(world.clerk)
    assert _seen(world.clerk, study) == _pks(rows, "c1")


def test_subtree_roots_do_not_double_count(world):
    Membership.objects.create(user=world.clerk, org=world.s1, role=Role.CLERK)
    access.forget(world.clerk)
    assert access.scope(world.clerk).paths() == [world.s1.path]
    assert access.orgs(world.clerk).count() == 3
