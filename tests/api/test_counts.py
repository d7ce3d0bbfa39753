"""A records list's count is kept between page turns (PostgreSQL) and is never stale after a write.

These tests commit (transaction=True): a kept count is only used outside transactions, as in a served request.
Every write below goes the way the application makes it — the write service (raw batch INSERTs, saves, soft delete,
restore, undo), the org tree's own moves — and the next list must show the new number, through the API and on the
web page alike. On SQLite nothing is kept and the same numbers must come out.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from dangjian.records import counts, services
from dangjian.records.models import Record

pytestmark = pytest.mark.django_db(transaction=True)

RECORDS = "/api/ledgers/study_activity/records"
PG = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="counts are kept on PostgreSQL only")


def study(title: str, date: str = "2019-03-05") -> dict:
    return {"date": date, "kind": "中心组集体学习", "title": title, "participants": 9}


def counted(client, **params) -> tuple[int, int]:
    """The list's count, and how many COUNT queries answering it took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(RECORDS, **params)
    assert response.status_code == 200, response.content
    return response.json()["count"], sum("COUNT(" in q["sql"] for q in queries.captured_queries)


def web_count(world, **params) -> int:
    from django.test import Client

    browser = Client()
    browser.force_login(world.viewer)
    response = browser.get("/ledgers/study_activity/", params)
    assert response.status_code == 200
    page = response.context["page"]
    return page.paginator.count


def test_the_count_follows_every_kind_of_write(world, api, make_record):
    viewer = api(world.viewer)
    lt = world.ledger("study_activity")
    first = make_record("study_activity", world.c1, study("第一次"))
    assert counted(viewer)[0] == 1
    assert counted(viewer)[0] == 1  # kept (PostgreSQL) or counted again: the same

    make_record("study_activity", world.c2, study("第二次"))  # the service's raw INSERT
    assert counted(viewer)[0] == 2
    assert web_count(world) == 2

    services.create_records(  # a batch (an import's path)
        None,
        lt,
        [services.NewRecord(world.c1, study(f"批量{i}")) for i in range(3)],
        check_access=False,
    )
    assert counted(viewer)[0] == 5
    assert counted(viewer, **{"from": "2019-06-01"})[0] == 0

    services.save_record(None, lt, study("改到六月", date="2019-06-02"), record=first, check_access=False)
    assert counted(viewer, **{"from": "2019-06-01"})[0] == 1  # an UPDATE changes a filtered count

    services.delete_record(world.clerk, Record.objects.get(pk=first.pk))
    assert counted(viewer)[0] == 4
    assert counted(viewer, **{"from": "2019-06-01"})[0] == 0
    assert web_count(world) == 4
    services.restore_record(world.clerk, Record.objects.get(pk=first.pk))
    assert counted(viewer)[0] == 5
    assert web_count(world) == 5


def test_a_moved_org_changes_what_a_scope_counts(world, api, make_record):
    """Only the org tree changes (no record is written): a clerk's count, whose scope is an org subquery, follows."""
    from dangjian.orgs.models import Organization

    clerk = api(world.clerk)  # 填报员 at c1
    make_record("study_activity", world.c1, study("本社区"))
    outside = Organization.objects.add_child(
        Organization.objects.get(pk=world.s1.pk), dict(code="g1", name="外来小组", short_name="外来")
    )
    make_record("study_activity", outside, study("外来小组的"))
    assert counted(clerk)[0] == 1
    assert counted(clerk)[0] == 1
    Organization.objects.move(
        Organization.objects.get(pk=outside.pk), Organization.objects.get(pk=world.c1.pk), "sorted-child"
    )
    assert counted(clerk)[0] == 2


def test_an_uncommitted_write_is_counted_only_inside_its_transaction(world, api, make_record):
    viewer = api(world.viewer)
    make_record("study_activity", world.c1, study("已提交"))
    assert counted(viewer)[0] == 1
    lt = world.ledger("study_activity")
    keys = Record.objects.filter(ledger_type=lt, is_deleted=False).values_list("pk", flat=True)
    with transaction.atomic():
        make_record("study_activity", world.c1, study("未提交"))
        assert counts.count(keys) == 2  # its own transaction sees it; nothing is kept from here
        transaction.set_rollback(True)
    assert counts.count(keys) == 1
    assert counted(viewer)[0] == 1


def test_a_failed_batch_leaves_the_count_as_it_was(world, api, make_record):
    """An import whose later rows fail deletes what it wrote (`_undo`): the count goes back too."""
    viewer = api(world.viewer)
    make_record("study_activity", world.c1, study("已有"))
    assert counted(viewer)[0] == 1
    lt = world.ledger("study_activity")
    rows = [services.NewRecord(world.c1, study(f"第{i}行")) for i in range(3)]
    with pytest.raises(services.RecordInvalid):
        services.create_records(
            None, lt, [*rows, services.NewRecord(world.c1, study(""))], check_access=False
        )
    assert counted(viewer)[0] == 1


@PG
def test_postgresql_counts_once_until_a_write(world, api, make_record):
    viewer = api(world.viewer)
    make_record("study_activity", world.c1, study("第一次"))
    assert counted(viewer) == (1, 1)
    assert counted(viewer) == (1, 0)  # the next page turn asks no COUNT
    assert counted(viewer, page=2) == (1, 0)  # another page of the same list: the same count
    assert counted(viewer, **{"from": "2019-01-01"}) == (1, 1)  # another question is counted once
    assert counts._watch in connection.execute_wrappers
    make_record("study_activity", world.c1, study("第二次"))
    assert counted(viewer) == (2, 1)
    assert counted(viewer) == (2, 0)


@PG
def test_a_write_sent_by_hand_is_seen_too(world, api, make_record):
    """Not only the service's statements: any INSERT/UPDATE/DELETE of the record or org tables, raw or ORM."""
    viewer = api(world.viewer)
    record = make_record("study_activity", world.c1, study("第一次"))
    assert counted(viewer) == (1, 1)
    Record.objects.filter(pk=record.pk).update(is_deleted=True)
    assert counted(viewer) == (0, 1)
    with connection.cursor() as cursor:
        cursor.execute('UPDATE "ledgers_record" SET "is_deleted" = false WHERE "id" = %s', [record.pk])
    assert counted(viewer) == (1, 1)
    Record.objects.filter(pk=record.pk).delete()
    assert counted(viewer) == (0, 1)


@PG
def test_a_new_version_is_seen_by_another_process(world, api, make_record, monkeypatch):
    """The version lives in files under the data dir: a fresh cache object (another worker) reads the same."""
    viewer = api(world.viewer)
    make_record("study_activity", world.c1, study("第一次"))
    assert counted(viewer) == (1, 1)
    monkeypatch.setattr(counts, "_store", None)  # as another process would open it
    assert counted(viewer) == (1, 0)
    record = Record.objects.get()
    record.date = dt.date(2019, 7, 1)
    record.save()
    monkeypatch.setattr(counts, "_store", None)
    assert counted(viewer, **{"from": "2019-06-01"}) == (1, 1)


def test_the_watcher_knows_writes_from_reads():
    watched = counts._writes_watched
    assert watched('INSERT INTO "ledgers_record" ("id") VALUES (%s)')
    assert watched('UPDATE "orgs_organization" SET "path" = %s')
    assert watched('DELETE FROM "ledgers_record" WHERE "id" IN (%s)')
    assert watched('TRUNCATE "auth_user", "ledgers_record"')
    assert not watched('INSERT INTO "ledgers_historicalrecord" ("id") VALUES (%s)')
    assert not watched('SELECT COUNT(*) FROM "ledgers_record"')
    assert not watched('UPDATE "api_apitoken" SET "last_used_at" = %s')


def test_a_ledgers_record_count_follows_writes(world, api, make_record):
    viewer = api(world.viewer)

    def shown() -> int:
        return viewer.get("/api/ledgers/study_activity").json()["records"]

    def listed() -> int:
        found = viewer.get("/api/ledgers", page_size=200).json()["results"]
        return next(lt["records"] for lt in found if lt["code"] == "study_activity")

    assert shown() == listed() == 0
    record = make_record("study_activity", world.c1, study("第一次"))
    assert shown() == listed() == 1
    services.delete_record(world.clerk, Record.objects.get(pk=record.pk))
    assert shown() == listed() == 0


def test_a_list_that_reads_another_table_or_the_clock_is_never_kept(world):
    from django.db.models.functions import Now

    lt = world.ledger("study_activity")
    rows = Record.objects.filter(ledger_type=lt, is_deleted=False)
    assert counts._question(rows.values_list("pk", flat=True)) is not None
    assert counts._question(rows.filter(created_at__lte=Now()).values_list("pk", flat=True)) is None
    assert counts._question(rows.filter(created_by__username="clerk").values_list("pk", flat=True)) is None
    assert (
        counts._question(rows.filter(org__path__startswith="0001").values_list("pk", flat=True)) is not None
    )
