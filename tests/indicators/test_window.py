"""Indicators that look past their period (统计窗口, issue 10 item 7): a window moved or stretched by months, or a
field naming the year (or day) a record is about. The value, its evidence (page and JSON twin) and its 上期 /
上年同期 always count the same records; a bad option is refused at pack load naming the indicator.

Records (study_activity, 专题报告, all at root): 2019-01-20, 2019-06-10, 2020-01-15, 2020-03-10.
"""

from __future__ import annotations

import textwrap

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.indicators import Period, evaluate, evidence_records
from dangjian.packs.loader import PackError

Y2019, Y2020 = Period.year(2019), Period.year(2020)


def count(key: str, **options) -> dict:
    return {"key": key, "label": key, "ledger": "study_activity", "where": [
        {"field": "kind", "op": "=", "value": "专题报告"}], **options}  # fmt: skip


@pytest.fixture
def talks(world, make_record, define):
    for day in ("2019-01-20", "2019-06-10", "2020-01-15", "2020-03-10"):
        make_record("study_activity", world.root, {"date": day, "kind": "专题报告", "title": f"报告 {day}"})
    define(
        count("学习.期内"),
        count("学习.后移两月", window_start_months=2, window_end_months=2),
        count("学习.延长两月", window_end_months=2),
    )
    return world


def days(key: str, org, period: Period) -> list[str]:
    return sorted(r.date.isoformat() for r in evidence_records(key, org, period))


def test_a_record_of_january_next_year_counts_for_the_year_only_with_the_window(talks):
    values = evaluate(talks.root, Y2019)
    assert values["学习.期内"].value == 2  # 2019-01-20, 2019-06-10
    assert values["学习.后移两月"].value == 2  # 2019-03-01 … 2020-02-29: 06-10 and 2020-01-15
    assert values["学习.延长两月"].value == 3  # 2019-01-01 … 2020-02-29
    assert days("学习.期内", talks.root, Y2019) == ["2019-01-20", "2019-06-10"]
    assert days("学习.后移两月", talks.root, Y2019) == ["2019-06-10", "2020-01-15"]
    assert days("学习.延长两月", talks.root, Y2019) == ["2019-01-20", "2019-06-10", "2020-01-15"]
    for key in ("学习.期内", "学习.后移两月", "学习.延长两月"):
        assert values[key].evidence_count == len(days(key, talks.root, Y2019))


def test_comparisons_shift_the_same_window(talks):
    values = evaluate(talks.root, Y2020, ["学习.后移两月", "上年.学习.后移两月", "上期.学习.后移两月"])
    assert values["学习.后移两月"].value == 1  # 2020-03-01 … 2021-02-28: 2020-03-10
    assert values["上年.学习.后移两月"].value == 2 and values["上期.学习.后移两月"].value == 2
    q4 = Period.quarter(2019, 4)  # 2019-12-01 … 2020-02-29
    quarter = evaluate(talks.root, q4, ["学习.后移两月", "上期.学习.后移两月", "学习.期内"])
    assert quarter["学习.后移两月"].value == 1 and days("学习.后移两月", talks.root, q4) == ["2020-01-15"]
    assert quarter["上期.学习.后移两月"].value == 0  # 2019Q3 → 2019-09-01 … 2019-11-30
    assert quarter["学习.期内"].value == 0


def test_the_evidence_page_lists_exactly_the_records_and_says_the_window(client, talks):
    client.force_login(talks.viewer, backend="django.contrib.auth.backends.ModelBackend")
    asked = {"key": "学习.后移两月", "org": "root", "start": "2019-01-01", "end": "2019-12-31"}
    data = client.get("/indicators/evidence/", {**asked, "format": "json"}).json()
    assert data["value"] == data["count"] == 2
    assert sorted(r["date"] for r in data["records"]) == ["2019-06-10", "2020-01-15"]
    page = client.get("/indicators/evidence/", asked).content.decode()
    assert "统计窗口" in page and "记录日期在2019年3月1日至2020年2月29日之间" in page


def test_one_query_for_the_ledger_with_and_without_windows(talks):
    from dangjian.indicators.compiler import questions
    from dangjian.indicators.engine import definitions

    defs = definitions()
    with CaptureQueriesContext(connection) as ctx:
        values = evaluate(talks.root, Y2019, defs=defs)
    # The ledger's aggregate query; on PostgreSQL + the org subtree's ids (compiler.subtree_q).
    assert len(questions(ctx.captured_queries)) <= 1 + (connection.vendor == "postgresql")
    assert values["上年.学习.延长两月"].value == 1  # 2018-01-01 … 2019-02-28: 2019-01-20


@pytest.fixture
def reviews(world, make_record, define):
    """述职评议 records: one held in January 2020 about 2019, one in January 2019 about 2018, one without a year."""
    from dangjian.packs.handlers import load_ledger_type

    from .conftest import _pack

    load_ledger_type(
        {
            "code": "secretary_review_t",
            "label": "述职评议台账",
            "date_field": "date",
            "fields": [
                {"code": "date", "label": "评议日期", "type": "date", "required": True},
                {"code": "person", "label": "述职人", "type": "person"},
                {"code": "year", "label": "评议年度", "type": "integer", "min": 2000, "max": 2100},
                {"code": "about_day", "label": "所涉日期", "type": "date"},
                {"code": "note", "label": "备注", "type": "text"},
            ],
        },
        _pack(),
        0,
    )
    for day, year, about_day in (("2020-01-15", 2019, "2019-12-20"), ("2019-01-10", 2018, "2018-06-30"),
                                 ("2019-05-05", None, None)):  # fmt: skip
        values = {"date": day, "person": "张三", "year": year, "about_day": about_day}
        make_record("secretary_review_t", world.root, {k: v for k, v in values.items() if v is not None})
    base = {"label": "述职人数", "ledger": "secretary_review_t"}
    define(
        {"key": "述职.按年度", **base, "about_field": "year"},
        {"key": "述职.按所涉日期", **base, "about_field": "about_day"},
        {"key": "述职.按日期", **base},
    )
    return world


def test_about_field_counts_a_record_for_the_year_it_names(reviews):
    root = reviews.root
    assert evaluate(root, Y2019, ["述职.按日期"])["述职.按日期"].value == 2  # 2019-01-10, 2019-05-05
    got = evaluate(root, Y2019, ["述职.按年度", "上年.述职.按年度"])
    assert got["述职.按年度"].value == 2 and days("述职.按年度", root, Y2019) == ["2019-05-05", "2020-01-15"]
    assert got["上年.述职.按年度"].value == 1 and days("述职.按年度", root, Period.year(2018)) == [
        "2019-01-10"
    ]
    # A year counts as its 31 December: in H2, Q4 and December, never in H1 (the record without a year counts by
    # its own date).
    h1, h2 = Period.half(2019, 1), Period.half(2019, 2)
    assert days("述职.按年度", root, h1) == ["2019-05-05"] and days("述职.按年度", root, h2) == ["2020-01-15"]
    assert evaluate(root, Period.quarter(2019, 4), ["述职.按年度"])["述职.按年度"].value == 1
    assert evaluate(root, Period.quarter(2020, 1), ["述职.按年度"])["述职.按年度"].value == 0
    # A date field: the day it names.
    assert days("述职.按所涉日期", root, h1) == ["2019-05-05"]
    assert days("述职.按所涉日期", root, h2) == ["2020-01-15"]
    assert days("述职.按所涉日期", root, Period.year(2018)) == ["2019-01-10"]


def test_about_field_evidence_says_how_it_counts(client, reviews):
    client.force_login(reviews.viewer, backend="django.contrib.auth.backends.ModelBackend")
    asked = {"key": "述职.按年度", "org": "root", "start": "2019-01-01", "end": "2019-12-31"}
    data = client.get("/indicators/evidence/", {**asked, "format": "json"}).json()
    assert data["count"] == 2 and sorted(r["date"] for r in data["records"]) == ["2019-05-05", "2020-01-15"]
    assert "按【评议年度】所填年度" in client.get("/indicators/evidence/", asked).content.decode()


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"window_end_months": 13}, ["-12 到 12 之间的整数", "“13”"]),
        ({"window_end_months": "2m"}, ["window_end_months", "“2m”"]),
        ({"window_start_months": True}, ["window_start_months"]),
        ({"window_start_months": 3, "window_end_months": 1}, ["不能大于 window_end_months"]),
        ({"window_end_months": 2, "period": "cumulative"}, ["只能用于期内", "“cumulative”"]),
        ({"about_field": "nope"}, ["about_field“nope”不是台账 study_activity"]),
        ({"about_field": "title"}, ["【主题】", "应为整数（年度）或日期字段"]),
        ({"window_after": 2}, ["未知属性：window_after"]),
    ],
)
def test_bad_window_options_are_refused_naming_the_indicator(define, options, words):
    with pytest.raises(PackError) as caught:
        define(count("学习.窗口", **options))
    message = str(caught.value)
    assert "指标“学习.窗口”" in message
    for word in words:
        assert word in message, message


def test_pack_check_names_the_file_and_the_indicator(settings, tmp_path, packs, capsys):
    from dangjian.cli import build_parser
    from dangjian.packs.cli import pack

    settings.DATA_DIR = tmp_path / "data"
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "pack.toml").write_text(
        textwrap.dedent(
            """\
            [pack]
            name = "mine"
            order = 60

            [[indicators]]
            key = "述职.人数"
            label = "述职人数"
            ledger = "study_activity"
            period = "end"
            window_end_months = 24
            """
        ),
        encoding="utf-8",
    )
    code = pack(build_parser().parse_args(["pack", "check", str(folder)]))
    out = capsys.readouterr()
    assert code == 1 and "Traceback" not in out.err
    text = out.out + out.err
    assert "指标“述职.人数”" in text and "window_end_months" in text and "只能用于期内" in text


@pytest.mark.parametrize(
    ("period", "months", "window"),
    [
        (Y2019, (2, 2), ("2019-03-01", "2020-02-29")),  # a first day stays a first day, a last day a last day
        (Y2019, (0, 2), ("2019-01-01", "2020-02-29")),
        (Period.half(2019, 1), (1, 1), ("2019-02-01", "2019-07-31")),
        (Period.half(2019, 2), (1, 1), ("2019-08-01", "2020-01-31")),
        (Period.month(2019, 2), (-12, 12), ("2018-02-01", "2020-02-29")),
        (
            Period.parse("2019-01-31..2019-06-15"),
            (1, 1),
            ("2019-02-28", "2019-07-15"),
        ),  # other days are clamped
    ],
)
def test_the_window_moves_by_whole_months(period, months, window):
    from types import SimpleNamespace

    from dangjian.indicators.compiler import window as window_of

    ind = SimpleNamespace(options={"window_start_months": months[0], "window_end_months": months[1]})
    first, last = window_of(ind, period.start, period.end)
    assert (first.isoformat(), last.isoformat()) == window
