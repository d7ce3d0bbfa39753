"""Roll up (issue 14, flat in the number of indicators): on PostgreSQL a ledger's query answers each distinct
condition once per record, groups the records by those answers, and runs the indicators' aggregates over the few
groups. The values are the same as aggregating every record — on every operator, with negations over empty
values, for each kind of aggregate, for a ranking of units — and one more indicator that tests conditions the
ledger already tests adds no work per record. On SQLite the query keeps its plain shape."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext

from dangjian.indicators import compiler, engine
from dangjian.indicators.engine import evaluate
from dangjian.records.models import Record

from .test_engine import Y2019, ind, studies  # noqa: F401 - the fixture
from .test_read_once import ITEMS as CONDITIONS

KINDS = [
    ind("汇.最多人数", "max", field="participants", where=[{"field": "kind", "op": "!=", "value": "培训班"}]),
    ind("汇.最少天数", "min", field="days"),
    ind("汇.最早主题", "min", field="date", where=[{"field": "theme_education", "op": "=", "value": True}]),
    ind("汇.平均人数", "avg", field="participants", where=[{"field": "speaker", "op": "not_empty"}]),
    ind(
        "汇.主题占比",
        "share",
        where=[{"field": "kind", "op": "=", "value": "中心组集体学习"}],
        share_where=[{"field": "theme_education", "op": "=", "value": True}],
    ),
    ind("汇.主讲人数", "count_distinct", field="speaker"),
    ind("汇.上半年", "count", where=[{"field": "date", "op": "<=", "value": "2019-06-30"}]),
]
LISTS = [  # one grouped query per field: speaker's rolled up; kind's, ordered by the org's path (a join), not
    ind("汇.主讲人", "list", field="speaker", where=[{"field": "kind", "op": "!=", "value": "培训班"}]),
    ind("汇.主讲人按时间", "list", field="speaker", order="first"),
    ind("汇.类型按单位", "list", field="kind", order="org_tree"),
]
ITEMS = CONDITIONS + KINDS + LISTS


def _evaluate(world, *, roll_up: bool, read_once: bool, items=ITEMS) -> tuple[dict, list[str]]:
    kept = compiler.ROLL_UP, compiler.READ_ONCE, compiler.READ_ONCE_MIN_USES
    compiler.ROLL_UP, compiler.READ_ONCE, compiler.READ_ONCE_MIN_USES = roll_up, read_once, 0
    try:
        with CaptureQueriesContext(connection) as queries:
            values = evaluate(world.root, Y2019, [i["key"] for i in items])
    finally:
        compiler.ROLL_UP, compiler.READ_ONCE, compiler.READ_ONCE_MIN_USES = kept
    shown = {key: (v.value, v.evidence_count, v.note) for key, v in values.items()}
    return shown, [q["sql"] for q in queries.captured_queries if "FILTER" in q["sql"]]


@pytest.mark.parametrize("read_once", [False, True], ids=["read-where-used", "read-once"])
def test_the_values_are_the_same_rolled_up_or_not(world, studies, define, read_once):  # noqa: F811
    define(*ITEMS)
    rolled, rolled_sql = _evaluate(world, roll_up=True, read_once=read_once)
    plain, plain_sql = _evaluate(world, roll_up=False, read_once=read_once)
    assert rolled == plain
    assert rolled["读.条件8"][0] == 3  # speaker != 张三 (李四, 王五 and the record without a speaker)
    assert rolled["汇.主讲人数"][0] == 3 and rolled["汇.上半年"][0] == 4
    assert str(rolled["汇.最早主题"][0]) == "2019-01-10" and rolled["汇.最多人数"][0] == 50
    assert rolled["汇.主讲人"][0] == ["张三", "王五", "李四"]  # by records (张三 twice), then the first date
    assert rolled["汇.主讲人按时间"][0] == ["张三", "王五", "李四"]
    assert rolled["汇.类型按单位"][0] == ["中心组集体学习", "专题报告", "培训班"]  # root, c1, c2
    assert len(rolled_sql) == len(plain_sql) == 3  # the ledger's aggregates, and one query per list field
    if connection.vendor == "postgresql":
        assert ['"groups"' in sql for sql in rolled_sql] == [True, True, False]
        assert not any('"groups"' in sql for sql in plain_sql)
    else:
        assert rolled_sql == plain_sql


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="roll up is PostgreSQL's query shape")
def test_an_indicator_on_conditions_already_tested_adds_no_work_per_record(world, studies, define):  # noqa: F811
    """The grouped query's columns are the distinct conditions and the values aggregated: a sum, an average and a
    share over conditions the other indicators already test add none; a new condition adds one."""
    more = [
        ind("汇.中心组人数", "sum", field="participants", where=CONDITIONS[0]["where"]),
        ind("汇.中心组平均", "avg", field="participants", where=CONDITIONS[0]["where"]),
        ind("汇.中心组且主题", "count", where=CONDITIONS[0]["where"] + CONDITIONS[9]["where"]),
    ]
    new = ind("汇.新条件", "count", where=[{"field": "title", "op": "contains", "value": "全会"}])
    define(*ITEMS, *more, new)
    items = CONDITIONS + KINDS
    _, (before,) = _evaluate(world, roll_up=True, read_once=False, items=items)
    shared, (after,) = _evaluate(world, roll_up=True, read_once=False, items=items + more)
    _, (one_more,) = _evaluate(world, roll_up=True, read_once=False, items=items + more + [new])

    def per_record(sql: str) -> set[str]:
        groups = sql[sql.index(" FROM (") :]  # the grouped query: one column per condition and value
        return set(re.findall(r'AS "([tkv]\d+)"', groups))

    assert after.count(" FILTER (WHERE") > before.count(" FILTER (WHERE")  # more aggregates, over the groups
    assert per_record(after) == per_record(before)
    assert len(per_record(one_more)) == len(per_record(after)) + 1
    assert shared["汇.中心组人数"][0] == 60 and shared["汇.中心组且主题"][0] == 1


def test_a_ranking_of_units_is_the_same_rolled_up_or_not(world, studies, define):  # noqa: F811
    """`compute_units`: the groups are kept apart by unit as well."""
    define(*ITEMS)
    units = [world.c1, world.c2]
    keys = [i["key"] for i in ITEMS]

    def ranked(roll_up: bool) -> dict:
        kept = compiler.ROLL_UP
        compiler.ROLL_UP = roll_up
        try:
            with CaptureQueriesContext(connection) as queries:
                found = engine.evaluate_units(world.s1, units, Y2019, keys)
        finally:
            compiler.ROLL_UP = kept
        rolled = any('"groups"' in q["sql"] for q in queries.captured_queries)
        assert rolled is (roll_up and connection.vendor == "postgresql")
        return {
            pk: {k: (v.value, v.evidence_count) for k, v in values.items()} for pk, values in found.items()
        }

    rolled, plain = ranked(True), ranked(False)
    assert rolled == plain
    assert rolled[world.c1.pk]["读.条件0"] == (0, 0) and rolled[world.c2.pk]["读.条件2"][0] == 1


def test_a_negated_lookup_on_an_empty_column_counts_as_django_counts_it(world, studies):  # noqa: F811
    """Under a negation Django guards a lookup on a nullable column (NOT (end_date < … AND end_date IS NOT NULL)), so
    a record without an end date is counted; each rolled-up condition keeps the guard of the place it stands in."""
    day = dt.date(2019, 6, 1)
    records = Record.objects.filter(pk__in=[r.pk for r in studies])
    assert not records.exclude(end_date=None).exists()

    def counted(roll_up: bool) -> dict:
        plan = compiler._Plan()
        plan.add("not_before", Count("pk", filter=~Q(end_date__lt=day)))
        plan.add("neither", Count("pk", filter=~(Q(end_date__lt=day) | Q(status="（无）"))))
        plan.add("both", Count("pk", filter=Q(date__gte=day) & ~Q(end_date__lt=day)))
        kept = compiler.ROLL_UP
        compiler.ROLL_UP = roll_up
        try:
            return plan.run(records)
        finally:
            compiler.ROLL_UP = kept

    assert counted(True) == counted(False) == {"a0": len(studies), "a1": len(studies), "a2": 3}


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="roll up is PostgreSQL's query shape")
def test_the_planner_setting_does_not_outlive_the_query(world, studies, define):  # noqa: F811
    """The rolled-up query turns sorting off for itself (SET LOCAL, inside a savepoint rolled back): the queries
    after it in the same transaction — a request's, a test's — plan as ever."""
    define(*ITEMS)
    with CaptureQueriesContext(connection) as queries:
        _evaluate(world, roll_up=True, read_once=False)
    assert any(q["sql"].startswith("SET LOCAL enable_sort") for q in queries.captured_queries)
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_sort")
        assert cursor.fetchone()[0] == "on"


def test_what_cannot_be_rolled_up_is_aggregated_over_the_records(world, studies):  # noqa: F811
    """An exclusive or (Django writes it its own way on PostgreSQL) or a condition across a join: the plan falls
    back to aggregating every record, with the same values."""
    day = dt.date(2019, 6, 1)
    records = Record.objects.filter(pk__in=[r.pk for r in studies])
    plan = compiler._Plan()
    plan.add("xor", Count("pk", filter=Q(date__gte=day) ^ Q(org=world.root)))
    plan.add("join", Count("pk", filter=Q(org__code=world.c1.code)))
    assert plan._run_rolled_up(records.order_by(), None) is None
    # One side only: c2's 2019-09-01, and the root's 2019-01-10 and 2018-05-01. c1's: two.
    assert plan.run(records) == {"a0": 3, "a1": 2}
