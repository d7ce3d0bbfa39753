"""Evaluation: every aggregate, filter operator, period mode, scope, org kind and status filter, formulas,
attributes — and the one-query-per-ledger property."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.indicators import Period, compiler, evaluate, evidence_records
from dangjian.indicators.engine import evaluate_per_indicator
from dangjian.records.models import Record

Y2019 = Period.year(2019)


def study(make_record, org, date, kind="专题报告", **values):
    return make_record(
        "study_activity", org, {"date": date, "kind": kind, "title": values.pop("title", "学习"), **values}
    )


@pytest.fixture
def studies(world, make_record):
    """2019: 3 中心组 at root, 2 专题报告 in c1, 1 培训班 in c2, 1 deleted; 2018: 1 中心组 at root."""
    r = [
        study(
            make_record,
            world.root,
            "2019-01-10",
            "中心组集体学习",
            participants=30,
            days="0.5",
            speaker="张三",
            theme_education=True,
            title="学习十九届四中全会精神",
        ),
        study(
            make_record,
            world.root,
            "2019-06-10",
            "中心组集体学习",
            participants=20,
            days="1",
            speaker="李四",
            title="主题教育专题学习",
        ),
        study(make_record, world.root, "2019-12-31", "中心组集体学习", participants=10, speaker="张三"),
        study(
            make_record,
            world.c1,
            "2019-03-05",
            participants=50,
            days="2.25",
            speaker="王五",
            theme_education=False,
        ),
        study(make_record, world.c1, "2019-03-06", participants=40, theme_education=True),
        study(make_record, world.c2, "2019-09-01", "培训班", participants=100, days="3", speaker="张三"),
        study(make_record, world.root, "2018-05-01", "中心组集体学习", participants=15, speaker="赵六"),
    ]
    gone = study(make_record, world.c2, "2019-10-01", "培训班", participants=999)
    Record.objects.filter(pk=gone.pk).update(is_deleted=True)
    return r


def ind(key, aggregate="count", ledger="study_activity", **kw):
    return {"key": key, "label": key, "ledger": ledger, "aggregate": aggregate, **kw}


def values_of(world, *items, define, org=None, period=Y2019, previous=False):
    define(*items)
    return evaluate(org or world.root, period, [i["key"] for i in items], previous=previous)


def test_count_with_equality_filter(world, studies, define):
    v = values_of(
        world,
        ind("学习.中心组", where=[{"field": "kind", "op": "=", "value": "中心组集体学习"}]),
        define=define,
    )
    value = v["学习.中心组"]
    assert value.value == 3 and value.evidence_count == 3 and value.ledger == "study_activity"
    assert value.aggregate == "count" and value.note == ""


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ([{"field": "kind", "op": "!=", "value": "中心组集体学习"}], 3),
        ([{"field": "kind", "op": "in", "value": ["专题报告", "培训班"]}], 3),
        ([{"field": "kind", "op": "not_in", "value": ["专题报告", "培训班"]}], 3),
        ([{"field": "title", "op": "contains", "value": "主题教育"}], 1),
        ([{"field": "participants", "op": ">=", "value": 40}], 3),
        ([{"field": "participants", "op": "<=", "value": 20}], 2),
        ([{"field": "participants", "op": "between", "value": [20, 50]}], 4),
        ([{"field": "days", "op": ">=", "value": "2"}], 2),  # decimals compare as numbers: "3" > "2.25" > "2"
        ([{"field": "days", "op": "=", "value": 1}], 1),
        ([{"field": "date", "op": "between", "value": ["2019-03-01", "2019-06-30"]}], 3),
        ([{"field": "date", "op": "<=", "value": "2019-03-05"}], 2),
        ([{"field": "speaker", "op": "empty"}], 1),
        ([{"field": "speaker", "op": "not_empty"}], 5),
        ([{"field": "speaker", "op": "!=", "value": "张三"}], 3),  # includes the record without a speaker
        ([{"field": "theme_education", "op": "=", "value": True}], 2),
        ([{"field": "theme_education", "op": "=", "value": False}], 1),
        ([{"field": "theme_education", "op": "empty"}], 3),
        (
            [
                {"field": "kind", "op": "=", "value": "中心组集体学习"},
                {"field": "speaker", "op": "=", "value": "张三"},
            ],
            2,
        ),
    ],
)
def test_every_filter_operator(world, studies, define, where, expected):
    v = values_of(world, ind("学习.筛选", where=where), define=define)
    assert v["学习.筛选"].value == expected
    assert evidence_records("学习.筛选", world.root, Y2019).count() == expected


def test_multichoice_contains_and_money(world, make_record, define):
    def case(no, sanctions, amount=None, detained=False):
        values = {
            "filed_on": "2019-04-01",
            "case_no": no,
            "person": "某某",
            "sanctions": sanctions,
            "detained": detained,
        }
        if amount is not None:
            values["amount"] = amount
        return make_record("discipline_case", world.jw, values)

    case("1", ["党纪处分"], "1000.50", detained=True)
    case("2", ["党纪处分", "政务处分"], "20")
    case("3", ["政务处分"])
    case("4", [])
    items = [
        ind(
            "纪律.党纪",
            ledger="discipline_case",
            where=[{"field": "sanctions", "op": "contains", "value": "党纪处分"}],
        ),
        ind(
            "纪律.政务",
            ledger="discipline_case",
            where=[{"field": "sanctions", "op": "=", "value": "政务处分"}],
        ),
        ind(
            "纪律.双重",
            ledger="discipline_case",
            where=[
                {"field": "sanctions", "op": "contains", "value": "党纪处分"},
                {"field": "sanctions", "op": "contains", "value": "政务处分"},
            ],
        ),
        ind(
            "纪律.任一",
            ledger="discipline_case",
            where=[{"field": "sanctions", "op": "in", "value": ["党纪处分", "政务处分"]}],
        ),
        ind("纪律.无处分", ledger="discipline_case", where=[{"field": "sanctions", "op": "empty"}]),
        ind(
            "纪律.非党纪",
            ledger="discipline_case",
            where=[{"field": "sanctions", "op": "!=", "value": "党纪处分"}],
        ),
        ind("纪律.留置", ledger="discipline_case", where=[{"field": "detained", "op": "=", "value": True}]),
        ind("纪律.金额", "sum", ledger="discipline_case", field="amount"),
        ind("纪律.最大金额", "max", ledger="discipline_case", field="amount"),
        ind("纪律.处分种类", "list", ledger="discipline_case", field="sanctions"),
    ]
    v = values_of(world, *items, define=define)
    assert [v[k].value for k in ("纪律.党纪", "纪律.政务", "纪律.双重", "纪律.任一", "纪律.无处分", "纪律.非党纪", "纪律.留置")] == [
        2, 2, 1, 3, 1, 2, 1,
    ]  # fmt: skip
    assert v["纪律.金额"].value == Decimal("1020.50") and v["纪律.金额"].evidence_count == 2
    assert v["纪律.最大金额"].value == Decimal("1000.50")
    assert v["纪律.处分种类"].value == ["党纪处分", "政务处分"]


def test_numeric_aggregates(world, studies, define):
    v = values_of(
        world,
        ind("学习.主讲人数", "count_distinct", field="speaker"),
        ind("学习.参加人次", "sum", field="participants"),
        ind("学习.天数", "sum", field="days"),
        ind("学习.平均人数", "avg", field="participants", decimals=2),
        ind("学习.平均天数", "avg", field="days"),
        ind("学习.最少人数", "min", field="participants"),
        ind("学习.最多人数", "max", field="participants"),
        ind("学习.最早", "min", field="date"),
        ind("学习.最晚", "max", field="date"),
        ind("学习.首个主讲人", "min", field="speaker"),
        define=define,
    )
    assert v["学习.主讲人数"].value == 3  # 张三 李四 王五
    assert v["学习.主讲人数"].evidence_count == 5
    assert v["学习.参加人次"].value == 250 and isinstance(v["学习.参加人次"].value, int)
    assert v["学习.天数"].value == Decimal("6.75")
    assert v["学习.平均人数"].value == Decimal("41.67")
    assert v["学习.平均天数"].value == Decimal("1.7")  # 6.75 / 4 = 1.6875 → 1.7
    assert (v["学习.最少人数"].value, v["学习.最多人数"].value) == (10, 100)
    assert (v["学习.最早"].value, v["学习.最晚"].value) == (dt.date(2019, 1, 10), dt.date(2019, 12, 31))
    assert isinstance(v["学习.首个主讲人"].value, str)


def test_empty_values_are_explained(world, define):
    v = values_of(
        world,
        ind("学习.次数"),
        ind("学习.人次", "sum", field="participants"),
        ind("学习.平均", "avg", field="participants"),
        ind("学习.占比", "share", share_where=[{"field": "kind", "op": "=", "value": "培训班"}]),
        ind("学习.主讲", "list", field="speaker"),
        define=define,
    )
    assert v["学习.次数"].value == 0 and v["学习.次数"].note
    assert v["学习.人次"].value == 0
    assert v["学习.平均"].value is None and v["学习.平均"].note == "没有符合条件的记录"
    assert v["学习.占比"].value is None and "除数为零" in v["学习.占比"].note
    assert v["学习.主讲"].value == []


def test_share_and_lists(world, studies, define):
    v = values_of(
        world,
        ind("学习.培训占比", "share", share_where=[{"field": "kind", "op": "=", "value": "中心组集体学习"}]),
        ind("学习.主讲人", "list", field="speaker"),
        ind("学习.主讲人前二", "list", field="speaker", limit=2),
        ind("学习.主讲人按时间", "list", field="speaker", order="first"),
        ind("学习.主讲人按值", "list", field="speaker", order="value"),
        ind(
            "学习.中心组主讲人",
            "list",
            field="speaker",
            where=[{"field": "kind", "op": "=", "value": "中心组集体学习"}],
        ),
        define=define,
    )
    assert v["学习.培训占比"].value == Decimal("50.0")  # 3 of 6
    assert v["学习.主讲人"].value[0] == "张三"  # three times
    assert v["学习.主讲人前二"].value == [
        "张三",
        "王五",
    ]  # ties by first date: 王五 (March) before 李四 (June)
    assert v["学习.主讲人按时间"].value == ["张三", "王五", "李四"]
    assert v["学习.主讲人按值"].value == sorted(["张三", "王五", "李四"])
    assert v["学习.中心组主讲人"].value == ["张三", "李四"]
    assert v["学习.主讲人"].evidence_count == 5


def test_scope_org_kinds_and_status(world, studies, define):
    Record.objects.filter(org=world.c1).update(status="已销号")
    v = values_of(
        world,
        ind("学习.全区"),
        ind("学习.本级", scope="self"),
        ind("学习.社区", org_kinds=["community"]),
        ind("学习.已销号", status=["已销号", "已完成"]),
        define=define,
    )
    assert [v[k].value for k in ("学习.全区", "学习.本级", "学习.社区", "学习.已销号")] == [6, 3, 3, 2]
    street = evaluate(world.s1, Y2019, ["学习.全区", "学习.本级"], previous=False)
    assert (street["学习.全区"].value, street["学习.本级"].value) == (3, 0)


def test_period_modes_on_a_tenure_ledger(world, cadres, make_record, define):
    def cadre(name, born, start, left_on=None):
        values = {"name": name, "born": born, "start": start, "post": "正科"}
        if left_on:
            values["left_on"] = left_on
        make_record("cadre_tenure", world.root, values)

    cadre("甲", "1970-06-15", "2015-01-01")  # in office throughout
    cadre("乙", "1980-01-01", "2016-03-01", "2019-05-31")  # left during 2019
    cadre("丙", "1990-12-31", "2019-07-01")  # appointed during 2019
    cadre("丁", "1960-01-01", "2010-01-01", "2018-12-31")  # left before 2019
    cadre("戊", "1985-02-01", "2019-01-01", "2019-12-31")  # whole year
    items = [
        ind(f"干部.{mode}", ledger="cadre_tenure", period=mode)
        for mode in ("within", "cumulative", "start", "end")
    ]
    items += [
        ind("干部.期末平均年龄", "avg_age", ledger="cadre_tenure", field="born", period="end"),
        ind(
            "干部.期初平均年龄",
            "avg_age",
            ledger="cadre_tenure",
            field="born",
            period="start",
            age_at="start",
        ),
    ]
    v = values_of(world, *items, define=define, previous=True)
    assert v["干部.within"].value == 2  # 丙 戊 started in 2019
    assert v["干部.cumulative"].value == 5
    assert v["干部.start"].value == 3  # 甲 乙 戊 on 1 January 2019
    assert v["干部.end"].value == 3  # 甲 丙 戊 on 31 December 2019
    # Ages on 2019-12-31 (周岁): 甲 49, 丙 29 (born 1990-12-31: birthday that day), 戊 34 → 37.3
    assert v["干部.期末平均年龄"].value == Decimal("37.3")
    # "As of the start" is the day before the period (2018-12-31, the end of 2018), as for age conditions, so
    # 期初 agrees with 上年末 (it was the first day, 2019-01-01, which gave 乙 — born 1 January — one more year):
    # 甲 48, 乙 38, 戊 33 → 39.7
    assert v["干部.期初平均年龄"].value == Decimal("39.7")
    # The year before: on 2018-12-31 甲 乙 丁 were in office.
    assert v["上年.干部.end"].value == 3 and v["上年.干部.within"].value == 0


def test_age_conditions_count_completed_years_on_the_period_end(world, cadres, make_record, define):
    for name, born in [("甲", "1979-01-01"), ("乙", "1978-12-31"), ("丙", "1990-05-05"), ("丁", None)]:
        values = {"name": name, "start": "2015-01-01", "post": "正科"}
        if born:
            values["born"] = born
        make_record("cadre_tenure", world.root, values)
    young = [{"field": "born", "op": "age<=", "value": 40}]
    v = values_of(
        world,
        ind("干部.年轻占比", "share", ledger="cadre_tenure", period="end", share_where=young),
        ind("干部.期初年轻占比", "share", ledger="cadre_tenure", period="start", share_where=young),
        ind(
            "干部.年长",
            ledger="cadre_tenure",
            period="end",
            where=[{"field": "born", "op": "age>=", "value": 41}],
        ),
        define=define,
        previous=True,
    )
    # On 2019-12-31 甲 (born 1979-01-01) is 40 and counts as young; 乙 (one day older) is 41; 丁 has no birth date.
    assert v["干部.年轻占比"].value == Decimal("50.0")
    assert v["干部.年长"].value == 1
    # On 2018-12-31 乙 was still 40: the same indicator a year earlier, and "as of the start" of 2019, agree.
    assert v["上年.干部.年轻占比"].value == Decimal("75.0")
    assert v["干部.期初年轻占比"].value == Decimal("75.0")
    assert [r.values["name"] for r in evidence_records("干部.年长", world.root, Y2019)] == ["乙"]


def test_age_conditions_on_29_february():
    from dangjian.indicators.compiler import years_before

    assert years_before(dt.date(2020, 2, 29), 41) == dt.date(1979, 2, 28)  # born 1979-02-28: 41 that day
    assert years_before(dt.date(2020, 2, 29), 4) == dt.date(2016, 2, 29)
    assert years_before(dt.date(2019, 12, 31), 41) == dt.date(1978, 12, 31)


def test_period_modes_on_a_dated_ledger(world, studies, define):
    v = values_of(
        world, *[ind(f"学习.{m}", period=m) for m in ("within", "cumulative", "start", "end")], define=define
    )
    assert [v[f"学习.{m}"].value for m in ("within", "cumulative", "start", "end")] == [6, 7, 1, 7]


def test_formulas_previous_year_and_division_by_zero(world, studies, define):
    define(
        ind("学习.中心组", where=[{"field": "kind", "op": "=", "value": "中心组集体学习"}]),
        ind("学习.全部"),
        {"key": "学习.其他", "label": "其他", "formula": "学习.全部 - 学习.中心组"},
        {
            "key": "学习.中心组占比",
            "label": "占比",
            "formula": "学习.中心组 / 学习.全部 * 100",
            "decimals": 2,
        },
        {"key": "学习.增加", "label": "增加", "formula": "学习.中心组 - 上年.学习.中心组"},
        {"key": "学习.增幅", "label": "增幅", "formula": "(学习.中心组 - 上年.学习.中心组) / 上年.学习.其他"},
        {"key": "学习.加一", "label": "加一", "formula": "学习.其他 + 1"},
    )
    v = evaluate(world.root, Y2019)
    assert v["学习.其他"].value == 3 and v["学习.其他"].aggregate == "formula"
    assert v["学习.其他"].evidence_count is None
    assert v["学习.中心组占比"].value == Decimal("50.00")
    assert v["上年.学习.中心组"].value == 1
    assert v["学习.增加"].value == 2
    assert v["学习.增幅"].value is None and v["学习.增幅"].note.startswith("除数为零")
    assert "上年.学习.其他" in v["学习.增幅"].note
    assert v["学习.加一"].value == 4
    assert v["上年.学习.其他"].value == 0
    # Only what was asked, plus what its formulas need:
    subset = evaluate(world.root, Y2019, ["学习.加一"], previous=False)
    assert set(subset) == {"学习.加一", "学习.其他", "学习.全部", "学习.中心组"}


def test_formula_over_an_empty_value_is_explained(world, define):
    define(
        ind("学习.平均人数", "avg", field="participants"),
        {"key": "学习.翻倍", "label": "翻倍", "formula": "学习.平均人数 * 2"},
    )
    v = evaluate(world.root, Y2019, ["学习.翻倍"], previous=False)
    assert v["学习.翻倍"].value is None
    assert "学习.平均人数" in v["学习.翻倍"].note and "没有符合条件的记录" in v["学习.翻倍"].note


def test_attributes(world, define):
    define(
        {"key": "本区.名称", "label": "名称", "attribute": "org.name"},
        {"key": "本区.简称", "label": "简称", "attribute": "org.short_name"},
        {"key": "本区.代码", "label": "代码", "attribute": "org.code"},
        {"key": "年度.年份", "label": "年份", "attribute": "period.year"},
        {"key": "年度.开始", "label": "开始", "attribute": "period.start"},
        {"key": "年度.结束", "label": "结束", "attribute": "period.end"},
        {"key": "年度.下一年", "label": "下一年", "formula": "年度.年份 + 1"},
    )
    v = evaluate(world.s1, Y2019)
    assert v["本区.名称"].value == world.s1.name and v["本区.简称"].value == "城关街道"
    assert v["本区.代码"].value == "s1" and v["年度.年份"].value == 2019 and v["上年.年度.年份"].value == 2018
    assert (v["年度.开始"].value, v["年度.结束"].value) == (dt.date(2019, 1, 1), dt.date(2019, 12, 31))
    assert v["年度.下一年"].value == 2020 and v["本区.名称"].aggregate == "attribute"


def test_period():
    p = Period.year(2019)
    assert p.label == "2019年度" and p.previous() == Period.year(2018)
    leap = Period(dt.date(2020, 1, 1), dt.date(2020, 2, 29))
    assert leap.same_last_year() == Period(dt.date(2019, 1, 1), dt.date(2019, 2, 28))
    assert leap.previous() == Period(dt.date(2019, 11, 2), dt.date(2019, 12, 31))  # the 60 days before
    assert leap.label == "2020年1月1日至2020年2月29日"


def _many(n: int) -> list[dict]:
    kinds = ["中心组集体学习", "专题报告", "培训班", "理论宣讲"]
    out = []
    for i in range(n):
        where = [
            {"field": "kind", "op": "=", "value": kinds[i % 4]},
            {"field": "participants", "op": ">=", "value": i},
        ]
        agg = ["count", "sum", "avg", "count_distinct", "share", "max"][i % 6]
        extra = {"field": "participants"} if agg in ("sum", "avg", "max") else {}
        if agg == "count_distinct":
            extra = {"field": "speaker"}
        if agg == "share":
            extra = {"share_where": [{"field": "theme_education", "op": "=", "value": True}]}
        out.append(ind(f"批量.指标{i}", agg, where=where, **extra))
    return out


@pytest.mark.parametrize("n", [6, 60])
def test_one_query_per_ledger_whatever_the_number_of_indicators(world, studies, define, n):
    define(*_many(n), ind("批量.案件", ledger="discipline_case"))
    with CaptureQueriesContext(connection) as ctx:
        evaluate(world.root, Y2019, previous=True)
    queries = compiler.questions(ctx.captured_queries)
    ledger_queries = [sql for sql in queries if "ledgers_record" in sql]
    # One query for study_activity (both periods at once) and one for discipline_case.
    assert len(ledger_queries) == 2
    # + indicators and the ledgers' fields; on PostgreSQL + the org subtree's ids, asked once (compiler.subtree_q)
    assert len(queries) <= 4 + (connection.vendor == "postgresql")


def test_batched_and_per_indicator_evaluation_agree(world, studies, cadres, define):
    define(*_many(24), ind("学习.主讲人", "list", field="speaker"), ind("学习.本级", scope="self"))
    batched = evaluate(world.root, Y2019)
    with CaptureQueriesContext(connection) as ctx:
        naive = evaluate_per_indicator(world.root, Y2019)
    assert batched == naive
    assert len(ctx.captured_queries) > 2 * 26


def test_evidence_matches_counts(world, studies, define):
    define(
        ind("学习.中心组", where=[{"field": "kind", "op": "=", "value": "中心组集体学习"}]),
        ind("学习.主讲人数", "count_distinct", field="speaker"),
        ind("学习.人次", "sum", field="participants"),
    )
    v = evaluate(world.root, Y2019)
    for key in ("学习.中心组", "学习.主讲人数", "学习.人次", "上年.学习.中心组"):
        records = evidence_records(key, world.root, Y2019)
        assert records.count() == v[key].evidence_count
    assert (
        sum(r.values["participants"] for r in evidence_records("学习.人次", world.root, Y2019))
        == v["学习.人次"].value
    )
    assert {r.date.year for r in evidence_records("上年.学习.中心组", world.root, Y2019)} == {2018}
