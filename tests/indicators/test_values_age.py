"""Ages at each record's own date (`at = "record"` on age conditions, `age_at = "record"` on avg_age), and one
rule for "as of the start" (the day before the period) across avg_age and the age conditions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.indicators import Period, evaluate, evidence_records
from dangjian.packs.loader import PackError

Y2019 = Period.year(2019)
YOUNG_AT_START = [{"field": "born", "op": "age<=", "value": 35, "at": "record"}]


def ind(key, aggregate="count", **kw):
    return {"key": key, "label": key, "ledger": "cadre_tenure", "aggregate": aggregate, **kw}


@pytest.fixture
def appointed(world, cadres, make_record):
    """Cadres appointed in 2019 (the record date is 任职日期), with their age that day."""
    for name, born, start in [
        ("甲", "1984-03-01", "2019-03-01"),  # 35 that very day: counts as 35岁及以下
        ("乙", "1983-03-01", "2019-02-28"),  # 35 (36 the next day)
        ("丙", "1983-03-01", "2019-03-01"),  # 36 that day
        ("丁", "1980-02-29", "2019-02-28"),  # 38 (born on 29 February: 39 only from 1 March)
        ("戊", None, "2019-05-01"),  # no birth date: never young, never averaged
        ("己", "1995-12-31", "2019-12-30"),  # 23 (24 the next day)
    ]:
        values = {"name": name, "start": start, "post": "正科"}
        if born:
            values["born"] = born
        make_record("cadre_tenure", world.root, values)
    return world


def test_age_conditions_and_avg_age_at_each_records_own_date(appointed, define):
    define(
        ind("干部.新任", period="within"),
        ind("干部.新任年轻", period="within", where=YOUNG_AT_START),
        ind(
            "干部.新任年长",
            period="within",
            where=[{"field": "born", "op": "age>=", "value": 36, "at": "record"}],
        ),
        ind("干部.新任年轻占比", "share", period="within", share_where=YOUNG_AT_START),
        ind("干部.任职时平均年龄", "avg_age", field="born", period="within", age_at="record"),
        ind("干部.期末平均年龄", "avg_age", field="born", period="within"),
    )
    keys = [
        "干部.新任",
        "干部.新任年轻",
        "干部.新任年长",
        "干部.新任年轻占比",
        "干部.任职时平均年龄",
        "干部.期末平均年龄",
    ]
    with CaptureQueriesContext(connection) as ctx:
        v = evaluate(appointed.root, Y2019, keys)
    # Still one aggregate query for the ledger, whatever day each age is reckoned on.
    assert len([q for q in ctx.captured_queries if "ledgers_record" in q["sql"]]) == 1
    assert v["干部.新任"].value == 6
    assert v["干部.新任年轻"].value == 3  # 甲 乙 己
    assert v["干部.新任年长"].value == 2  # 丙 丁 (戊 has no birth date)
    assert v["干部.新任年轻占比"].value == Decimal("50.0")  # 3 of 6
    # At appointment: 甲 35, 乙 35, 丙 36, 丁 38, 己 23 → 167 / 5 = 33.4; on 2019-12-31: 35 36 36 39 24 → 34.0
    assert v["干部.任职时平均年龄"].value == Decimal("33.4")
    assert v["干部.任职时平均年龄"].evidence_count == 5
    assert v["干部.期末平均年龄"].value == Decimal("34.0")
    # On the period's end 甲 乙 (35 then) would still count, 己 too; at appointment the same three, but a record
    # date decides: the evidence lists exactly the counted records.
    names = sorted(r.values["name"] for r in evidence_records("干部.新任年轻", appointed.root, Y2019))
    assert names == ["乙", "己", "甲"]
    older = sorted(r.values["name"] for r in evidence_records("干部.新任年长", appointed.root, Y2019))
    assert older == ["丁", "丙"]


def test_at_record_differs_from_the_period_end(appointed, define, make_record):
    # Appointed at 35 in January, 36 by the year's end: young when appointed, not at the end.
    make_record("cadre_tenure", appointed.root, {"name": "庚", "born": "1983-06-01", "start": "2019-01-15"})
    define(
        ind("干部.任职时年轻", period="within", where=YOUNG_AT_START),
        ind("干部.期末年轻", period="within", where=[{"field": "born", "op": "age<=", "value": 35}]),
    )
    v = evaluate(appointed.root, Y2019, ["干部.任职时年轻", "干部.期末年轻"])
    # At appointment: 甲 乙 己 庚; on 2019-12-31: 甲 35, 乙 36, 丙 36, 己 24, 庚 36 → 甲 己.
    assert v["干部.任职时年轻"].value == 4
    assert v["干部.期末年轻"].value == 2


def test_as_of_the_start_is_the_day_before_for_avg_age_and_conditions_alike(
    world, cadres, make_record, define
):
    # Born on 1 January: 40 on 2018-12-31, 41 on 2019-01-01. Both in office since 2015.
    for name, born in [("甲", "1978-01-01"), ("乙", "1970-07-01")]:
        make_record("cadre_tenure", world.root, {"name": name, "born": born, "start": "2015-01-01"})
    define(
        ind("干部.期初平均年龄", "avg_age", field="born", period="start", age_at="start"),
        ind("干部.期初40岁及以下", period="start", where=[{"field": "born", "op": "age<=", "value": 40}]),
        ind("干部.期末平均年龄", "avg_age", field="born", period="end"),
    )
    v = evaluate(
        world.root, Y2019, ["干部.期初平均年龄", "干部.期初40岁及以下", "干部.期末平均年龄"], previous=True
    )
    # On 2018-12-31: 甲 40, 乙 48 → 44.0; and 甲 counts as 40岁及以下 on the same day.
    assert v["干部.期初平均年龄"].value == Decimal("44.0")
    assert v["干部.期初40岁及以下"].value == 1
    # 期初 equals 上年末.
    assert v["上年.干部.期末平均年龄"].value == v["干部.期初平均年龄"].value
    assert v["干部.期末平均年龄"].value == Decimal("45.0")


def test_the_evidence_json_says_which_day_ages_are_reckoned_on(client, appointed, define):
    define(
        ind(
            "干部.新任年轻占比",
            "share",
            label="新任年轻干部占比",
            period="within",
            share_where=YOUNG_AT_START,
        )
    )
    client.force_login(appointed.viewer, backend="django.contrib.auth.backends.ModelBackend")
    query = {"key": "干部.新任年轻占比", "org": "root", "start": "2019-01-01", "end": "2019-12-31"}
    data = client.get("/indicators/evidence/", {**query, "format": "json"}).json()
    assert data["count"] == 6 and len(data["records"]) == 6
    assert data["share"] == {
        "matched": 3,
        "of": 6,
        "condition": "【出生日期】周岁不超过 35（按各记录的【任职日期】计算）",
    }
    assert sorted(r["values"]["name"] for r in data["records"] if r["in_share"]) == ["乙", "己", "甲"]
    body = client.get("/indicators/evidence/", query).content.decode()
    assert "按各记录的【任职日期】计算" in body


@pytest.mark.parametrize(
    ("item", "words"),
    [
        (ind("干部.x", "avg_age", field="born", age_at="birthday"), ["干部.x", "age_at", "“birthday”"]),
        (
            ind("干部.x", where=[{"field": "born", "op": "age<=", "value": 35, "at": "start"}]),
            ["干部.x", "at 只能", "“start”"],
        ),
        (
            ind("干部.x", where=[{"field": "post", "op": "=", "value": "正科", "at": "record"}]),
            ["干部.x", "【职务】", "age<= / age>="],
        ),
    ],
)
def test_bad_age_options_are_refused_at_pack_load(cadres, define, item, words):
    with pytest.raises(PackError) as exc:
        define(item)
    for word in words:
        assert word in str(exc.value)
