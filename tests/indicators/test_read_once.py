"""Read once (issue 14): on PostgreSQL, a ledger's query whose conditions use each field many times reads each field
from a record's JSON once, in a subquery, and its aggregates test those columns, so one more indicator costs one
more test, not one more JSON read. The values are the same either way, on every operator; on SQLite the query keeps its plain shape (there it was slower)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.indicators import compiler
from dangjian.indicators.engine import evaluate

from .test_engine import Y2019, ind, studies  # noqa: F401 - the fixture

WHERE = [
    [{"field": "kind", "op": "=", "value": "中心组集体学习"}],
    [{"field": "kind", "op": "!=", "value": "中心组集体学习"}],
    [{"field": "kind", "op": "in", "value": ["专题报告", "培训班"]}],
    [{"field": "kind", "op": "not_in", "value": ["专题报告", "培训班"]}],
    [{"field": "title", "op": "contains", "value": "主题教育"}],
    [{"field": "participants", "op": "between", "value": [20, 50]}],
    [{"field": "days", "op": ">=", "value": "2"}],
    [{"field": "speaker", "op": "empty"}],
    [{"field": "speaker", "op": "!=", "value": "张三"}],
    [{"field": "theme_education", "op": "=", "value": True}],
    [{"field": "theme_education", "op": "empty"}],
]
OTHERS = [
    ind(
        "读.人数",
        "sum",
        field="participants",
        where=[{"field": "kind", "op": "=", "value": "中心组集体学习"}],
    ),
    ind("读.天数", "avg", field="days"),
    ind(
        "读.主讲人",
        "count_distinct",
        field="speaker",
        where=[{"field": "speaker", "op": "!=", "value": "李四"}],
    ),
    ind("读.单位", "count_units", where=[{"field": "kind", "op": "!=", "value": "培训班"}]),
]
ITEMS = [ind(f"读.条件{n}", where=where) for n, where in enumerate(WHERE)] + OTHERS


def _evaluate(world, read_once: bool, min_uses: int = 0) -> tuple[dict, list[str]]:
    """Evaluated with read once on (whenever fields are used at all: min_uses 0) or off."""
    compiler.READ_ONCE, kept = read_once, compiler.READ_ONCE_MIN_USES
    compiler.READ_ONCE_MIN_USES = min_uses
    try:
        with CaptureQueriesContext(connection) as queries:
            values = evaluate(world.root, Y2019, [i["key"] for i in ITEMS])
    finally:
        compiler.READ_ONCE, compiler.READ_ONCE_MIN_USES = True, kept
    shown = {key: (v.value, v.evidence_count, v.note) for key, v in values.items()}
    return shown, [q["sql"] for q in queries.captured_queries if "FILTER" in q["sql"]]


def test_the_values_are_the_same_whichever_way_the_fields_are_read(world, studies, define):  # noqa: F811
    define(*ITEMS)
    once, once_sql = _evaluate(world, True)
    each, each_sql = _evaluate(world, False)
    assert once == each
    assert once["读.条件0"][0] == 3 and once["读.条件8"][0] == 3 and once["读.人数"][0] == 60
    assert len(once_sql) == len(each_sql) == 1  # one query for the ledger either way
    if connection.vendor == "postgresql":
        # Read once: `kind` is read from the JSON once (in the subquery), whatever the number of conditions on it.
        assert once_sql[0].count("->> 'kind'") == 1, once_sql[0]
        assert each_sql[0].count("->> 'kind'") >= 5
        assert "LIMIT" in once_sql[0]  # the fence that keeps the subquery from being folded back
    else:
        assert once_sql == each_sql  # SQLite: read where used (a FILTER stops at its first false term)


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="read once is PostgreSQL's query shape")
def test_the_reads_are_one_column_each_and_shared_by_all_conditions(world, studies, define):  # noqa: F811
    define(*ITEMS)
    _, (sql,) = _evaluate(world, True)
    inner = sql[sql.index("FROM (") :]
    for code in ("kind", "title", "participants", "days", "speaker", "theme_education"):
        assert inner.count(f"->> '{code}'") == 1, (code, inner)


def test_fields_used_about_once_each_are_read_where_used(world, studies, define):  # noqa: F811
    """Read once pays only where the conditions use each field many times (READ_ONCE_MIN_USES): these items use
    `kind` a handful of times and the other fields once or twice, so even on PostgreSQL they read where used."""
    define(*ITEMS)
    default, (sql,) = _evaluate(world, True, min_uses=compiler.READ_ONCE_MIN_USES)
    each, _ = _evaluate(world, False)
    assert default == each
    assert "LIMIT" not in sql
    if connection.vendor == "postgresql":
        assert sql.count("->> 'kind'") >= 5
