"""Conditions and ordering on record fields: one dialect (ledgers/conditions.py) behind RecordQuerySet.where_value /
order_by_value, the records filters, the indicator compiler and the overdue queries."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from dangjian.indicators import compiler
from dangjian.lists import workflow
from dangjian.records import conditions
from dangjian.records.models import LedgerField, LedgerType, Record

SRC = Path(__file__).resolve().parents[2] / "src" / "dangjian"


@pytest.fixture
def probe(world):
    """A ledger with one field of each kind a condition treats differently, and five rows (one nearly empty)."""
    lt = LedgerType.objects.create(code="probe", label="探针台账", date_field="date")
    specs = {
        code: LedgerField.objects.create(ledger_type=lt, code=code, label=label, type=kind, choices=choices)
        for code, label, kind, choices in [
            ("date", "日期", "date", []),
            ("title", "名称", "text", []),
            ("n", "人数", "integer", []),
            ("flag", "是否专题", "bool", []),
            ("kind", "类型", "choice", ["党课", "讲座"]),
            ("tags", "议题", "multichoice", ["党建", "民生", "党建引领"]),
            ("due", "时限", "date", []),
        ]
    }
    rows = {
        "五": {"title": "Party 五", "n": 5, "flag": True, "kind": "党课", "tags": ["党建", "民生"], "due": "2019-03-01"},
        "四十": {"title": "party 四十", "n": 40, "flag": False, "kind": "讲座", "tags": ["党建引领"], "due": "2019-09-01"},
        "一百": {"title": "一百", "n": 100, "flag": True, "kind": "讲座", "tags": [], "due": ""},
        "十二点五": {"title": "十二点五", "n": "12.5", "kind": "党课"},
        "空": {"title": "空"},
    }  # fmt: skip
    records = {
        name: Record.objects.create(ledger_type=lt, org=world.c1, date=dt.date(2019, 1, 1), values=values)
        for name, values in rows.items()
    }
    return lt, specs, records


def names(qs, records) -> set[str]:
    by_pk = {r.pk: name for name, r in records.items()}
    return {by_pk[pk] for pk in qs.values_list("pk", flat=True)}


def ordered(qs, records) -> list[str]:
    by_pk = {r.pk: name for name, r in records.items()}
    return [by_pk[pk] for pk in qs.values_list("pk", flat=True)]


def test_numbers_compare_as_numbers_not_as_text(probe):
    lt, f, records = probe
    qs = Record.objects.filter(ledger_type=lt)
    assert names(qs.where_value(f["n"], ">=", Decimal(12)), records) == {"四十", "一百", "十二点五"}
    assert names(qs.where_value(f["n"], "<", 40), records) == {"五", "十二点五"}
    assert names(qs.where_value(f["n"], "between", [Decimal(5), Decimal("12.5")]), records) == {
        "五",
        "十二点五",
    }
    assert names(qs.where_value(f["n"], "in", [Decimal(5), Decimal(100)]), records) == {"五", "一百"}


def test_not_equal_and_not_in_also_match_records_without_the_value(probe):
    lt, f, records = probe
    qs = Record.objects.filter(ledger_type=lt)
    assert names(qs.where_value(f["kind"], "!=", "党课"), records) == {"四十", "一百", "空"}
    assert names(qs.where_value(f["kind"], "not_in", ["党课", "讲座"]), records) == {"空"}
    assert names(qs.where_value(f["due"], "empty"), records) == {"一百", "十二点五", "空"}
    assert names(qs.where_value(f["tags"], "empty"), records) == {"一百", "十二点五", "空"}
    assert names(qs.where_value(f["due"], "not_empty"), records) == {"五", "四十"}


def test_yes_no_multichoice_and_text_conditions(probe):
    lt, f, records = probe
    qs = Record.objects.filter(ledger_type=lt)
    assert names(qs.where_value(f["flag"], "=", True), records) == {"五", "一百"}
    assert names(qs.where_value(f["flag"], "=", False), records) == {"四十"}
    # A list has an option exactly: 党建 is not 党建引领.
    assert names(qs.where_value(f["tags"], "=", "党建"), records) == {"五"}
    assert names(qs.where_value(f["tags"], "in", ["民生", "党建引领"]), records) == {"五", "四十"}
    assert names(qs.where_value(f["title"], "icontains", "PARTY"), records) == {"五", "四十"}
    # A bare code is a text field: ISO dates compare as text.
    assert names(qs.where_value("due", "<", "2019-06-30"), records) == {"五", "一百"}  # "" sorts first
    assert names(qs.where_value("due", "<", "2019-06-30").where_value("due", "not_empty"), records) == {"五"}
    with pytest.raises(ValueError):
        qs.where_value(f["tags"], ">=", "党建")


def test_order_by_value_sorts_numbers_as_numbers_and_puts_missing_values_last_both_ways(probe):
    lt, f, records = probe
    qs = Record.objects.filter(ledger_type=lt)
    assert ordered(qs.order_by_value(f["n"]), records)[:4] == ["五", "十二点五", "四十", "一百"]
    assert ordered(qs.order_by_value(f["n"]), records)[-1] == "空"
    assert ordered(qs.order_by_value(f["n"], desc=True), records) == ["一百", "四十", "十二点五", "五", "空"]
    # "12.5" was stored as text: without the one numeric cast it would sort after every number (SQLite) or
    # "100" before "40" (PostgreSQL).


def test_the_compiler_and_the_queryset_methods_select_the_same_records(probe):
    lt, f, records = probe
    qs = Record.objects.filter(ledger_type=lt)
    fields = {code: spec for code, spec in f.items()}
    cases = [
        ({"field": "n", "op": ">=", "value": 12}, qs.where_value(f["n"], ">=", Decimal(12))),
        ({"field": "kind", "op": "!=", "value": "党课"}, qs.where_value(f["kind"], "!=", "党课")),
        ({"field": "tags", "op": "contains", "value": "党建"}, qs.where_value(f["tags"], "=", "党建")),
        ({"field": "flag", "op": "=", "value": True}, qs.where_value(f["flag"], "=", True)),
        ({"field": "due", "op": "empty"}, qs.where_value(f["due"], "empty")),
    ]
    for cond, expected in cases:
        compiled = qs.filter(compiler.condition_q([cond], fields))
        assert names(compiled, records) == names(expected, records), cond


def test_the_records_table_filters_and_sort_use_the_same_conditions(probe, world):
    from django.http import QueryDict

    from dangjian.records.forms import RecordFilter

    lt, f, records = probe
    qs = Record.objects.filter(ledger_type=lt)

    def table(query: str) -> list[str]:
        filters = RecordFilter.from_request(lt, world.unit_admin, QueryDict(query))
        return ordered(filters.apply(qs), records)

    assert set(table("tags=党建")) == {"五"}
    assert set(table("flag=是")) == {"五", "一百"}
    assert set(table("q=PARTY")) == {"五", "四十"}
    assert table("sort=-n") == ["一百", "四十", "十二点五", "五", "空"]


def test_overdue_is_a_deadline_before_today_on_an_open_item(probe):
    lt, f, records = probe
    wf = workflow.parse(
        {
            "states": ["待整改", "已销号"],
            "initial": "待整改",
            "closed": ["已销号"],
            "deadline_field": "due",
            "transitions": [
                {"code": "close", "label": "销号", "from": ["待整改"], "to": "已销号", "who": ["owner"]}
            ],
        },
        {code: spec.type for code, spec in f.items()},
    )
    Record.objects.filter(pk=records["四十"].pk).update(status="已销号")
    qs = Record.objects.filter(ledger_type=lt)
    assert names(workflow.overdue_records(qs, wf, dt.date(2019, 12, 31)), records) == {"五"}
    assert names(workflow.overdue_records(qs, wf, dt.date(2019, 3, 1)), records) == set()


def test_no_second_dialect_of_field_conditions_is_left_in_the_source():
    """KeyTextTransform, json_each, the decimal cast and nulls_last on values live in ledgers/conditions.py alone."""
    pattern = re.compile(r"KeyTextTransform|\bKT\(|json_each|nulls_last|values__\{[^}]*\}__\w+")
    found = [
        f"{path.relative_to(SRC)}:{n}"
        for path in SRC.rglob("*.py")
        if path.name != "conditions.py" and "migrations" not in path.parts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
    assert conditions.NUMERIC is compiler.NUMERIC
