from __future__ import annotations

from dangjian.orgs import access


def test_clerk_sees_only_own_unit_records(world, make_record):
    lt = world.ledger("study_activity")
    mine = make_record(
        "study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "学习"}
    )
    make_record("study_activity", world.c2, {"date": "2019-03-06", "kind": "专题报告", "title": "学习"})
    from dangjian.records.models import Record

    assert list(access.records(world.clerk, lt, Record.objects.all())) == [mine]
    assert access.records(world.reviewer, lt, Record.objects.all()).count() == 2
    assert access.records(world.sysadmin, lt, Record.objects.all()).count() == 0
