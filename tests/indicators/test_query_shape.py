"""The compiled ledger query keeps a good shape on PostgreSQL when the planner's statistics are stale (issue 14).

Right after a bulk load, before ANALYZE (or autovacuum, off on some servers) has run, PostgreSQL believes the org
table holds a couple of rows and the ledger a handful. A query that joins the records to the org subtree is then
planned as a nested loop over the orgs, each loop rescanning the ledger's index: 27 s instead of 1.5 s for the
seed report at a city. The subtree is therefore asked for first (one small query on the org table's path index),
and the ledger query filters on the ids it found: nothing for the planner to loop over.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from dangjian.indicators import compiler
from dangjian.orgs.models import Organization
from dangjian.records import services
from dangjian.records.services import NewRecord, create_records

pytestmark = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the planner's statistics are PostgreSQL's (SQLite: the join)"
)

UNITS, PER_UNIT = 300, 40


@pytest.fixture
def bulk_loaded(world, monkeypatch):
    """300 units under a street, 12,000 meetings, loaded without ANALYZE (the write path's own is switched off)."""
    monkeypatch.setattr(services, "refresh_statistics", lambda **kwargs: None)
    street = world.s1
    units = []
    for i in range(UNITS):
        units.append(
            Organization.objects.add_child(
                street, dict(code=f"u{i}", name=f"第{i}支部", short_name=f"{i}支部")
            )
        )
        street.refresh_from_db()
    lt = world.ledger("organization_life")
    rows = [
        NewRecord(
            org=unit,
            values={
                "date": dt.date(2019, 1 + n % 12, 1 + n % 28).isoformat(),
                "kind": "支部党员大会",
                "topic": f"第{n}次",
                "attendance": 10,
            },
        )
        for unit in units
        for n in range(PER_UNIT)
    ]
    create_records(None, lt, rows, check_access=False, seeded=True)
    return street, lt


def _plan(sql: str, params: tuple) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_ledger_query_does_not_loop_over_orgs_with_stale_statistics(bulk_loaded):
    street, lt = bulk_loaded
    base = compiler.base_records(lt, street).filter(
        date__gte=dt.date(2019, 1, 1), date__lte=dt.date(2019, 12, 31)
    )
    sql, params = (
        base.values("ledger_type").annotate(n=compiler.Count("pk")).values("n").query.sql_with_params()
    )
    plan = _plan(sql, params)
    assert Organization._meta.db_table not in plan, plan  # no join: the subtree is ids already
    assert "Nested Loop" not in plan, plan
    assert base.count() == UNITS * PER_UNIT


def test_the_subtree_is_the_same_as_the_path_rule(bulk_loaded, world):
    street, lt = bulk_loaded
    for org in (world.root, street, Organization.objects.get(code="u7"), world.c2):
        joined = set(
            lt.records.filter(is_deleted=False, org__path__startswith=org.path).values_list("pk", flat=True)
        )
        assert set(compiler.base_records(lt, org).values_list("pk", flat=True)) == joined, org.name


def test_the_whole_tree_needs_no_org_condition(bulk_loaded, world):
    """A province's own report: its subtree is every org, so the ledger query has no org condition at all
    (with 54,000 ids the planner otherwise ANDs the ledger's index with a scan of the whole org_id index)."""
    _street, lt = bulk_loaded
    root = Organization.objects.get(pk=world.root.pk)
    sql, _params = compiler.base_records(lt, root).query.sql_with_params()
    assert "ANY(" not in sql and "org_id" not in sql.split("WHERE", 1)[1], sql
    assert compiler.base_records(lt, root).count() == lt.records.filter(is_deleted=False).count()

    other = Organization.objects.add_root(dict(code="other", name="中共另一区委员会", short_name="另一区"))
    create_records(
        None, lt, [NewRecord(org=other, values={"date": "2019-05-01", "kind": "党课", "topic": "外区"})],
        check_access=False,
    )  # fmt: skip
    root = Organization.objects.get(pk=world.root.pk)  # a fresh object: the subtree is asked again
    sql, _params = compiler.base_records(lt, root).query.sql_with_params()
    assert "ANY(" in sql
    assert not compiler.base_records(lt, root).filter(org=other).exists()
    assert compiler.base_records(lt, other).get().values["topic"] == "外区"
