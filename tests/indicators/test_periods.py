"""Every form of a period reads, labels and writes itself back; bad ones are refused in Chinese."""

from __future__ import annotations

import datetime as dt

import pytest

from dangjian.indicators.periods import Period, PeriodError, last_year, parse_choice

D = dt.date


@pytest.mark.parametrize(
    ("text", "start", "end", "code", "label"),
    [
        ("2023", D(2023, 1, 1), D(2023, 12, 31), "2023", "2023年度"),
        ("2023年", D(2023, 1, 1), D(2023, 12, 31), "2023", "2023年度"),
        ("2023年度", D(2023, 1, 1), D(2023, 12, 31), "2023", "2023年度"),
        ("2023H1", D(2023, 1, 1), D(2023, 6, 30), "2023H1", "2023年上半年"),
        ("2023h2", D(2023, 7, 1), D(2023, 12, 31), "2023H2", "2023年下半年"),
        ("2023年上半年", D(2023, 1, 1), D(2023, 6, 30), "2023H1", "2023年上半年"),
        ("2023年下半年", D(2023, 7, 1), D(2023, 12, 31), "2023H2", "2023年下半年"),
        ("2023Q1", D(2023, 1, 1), D(2023, 3, 31), "2023Q1", "2023年第一季度"),
        ("2023Q2", D(2023, 4, 1), D(2023, 6, 30), "2023Q2", "2023年第二季度"),
        ("2023q3", D(2023, 7, 1), D(2023, 9, 30), "2023Q3", "2023年第三季度"),
        ("2023Q4", D(2023, 10, 1), D(2023, 12, 31), "2023Q4", "2023年第四季度"),
        ("2023年第一季度", D(2023, 1, 1), D(2023, 3, 31), "2023Q1", "2023年第一季度"),
        ("2023年第4季度", D(2023, 10, 1), D(2023, 12, 31), "2023Q4", "2023年第四季度"),
        ("2023-03", D(2023, 3, 1), D(2023, 3, 31), "2023-03", "2023年3月"),
        ("2024-2", D(2024, 2, 1), D(2024, 2, 29), "2024-02", "2024年2月"),
        ("2023年3月", D(2023, 3, 1), D(2023, 3, 31), "2023-03", "2023年3月"),
        ("２０２３年１２月", D(2023, 12, 1), D(2023, 12, 31), "2023-12", "2023年12月"),
        (
            "2023-01-01..2023-06-15",
            D(2023, 1, 1), D(2023, 6, 15), "2023-01-01..2023-06-15", "2023年1月1日至2023年6月15日",
        ),
        (
            "2023年1月1日至2023年6月15日",
            D(2023, 1, 1), D(2023, 6, 15), "2023-01-01..2023-06-15", "2023年1月1日至2023年6月15日",
        ),
        ("2023-01-01..2023-06-30", D(2023, 1, 1), D(2023, 6, 30), "2023H1", "2023年上半年"),  # the shortest form
        ("2023-01-01..2023-12-31", D(2023, 1, 1), D(2023, 12, 31), "2023", "2023年度"),
        (" 2023Q1 ", D(2023, 1, 1), D(2023, 3, 31), "2023Q1", "2023年第一季度"),
    ],
)  # fmt: skip
def test_each_form_parses_labels_and_writes_back(text, start, end, code, label):
    period = Period.parse(text)
    assert (period.start, period.end) == (start, end)
    assert (period.code, period.label) == (code, label)
    assert Period.parse(period.code) == period  # the code reads back as the same period


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2023Q5", "季度应写作 Q1 至 Q4"),
        ("2023H3", "H1（上半年）或 H2（下半年）"),
        ("2023年第五季度", "第一季度至第四季度"),
        ("2023-13", "月份应在 1 至 12 之间"),
        ("2023-02-30..2023-03-01", "日期“2023-02-30”不存在"),
        ("2023-06-30..2023-01-01", "截止日期不能早于起始日期"),
        ("1948", "报告年度应在 1949 年至"),
        ("1948-12-01..1949-01-31", "报告期应在 1949 年至"),
        ("2000-01-01..2015-01-01", "期间不能超过 10 年"),
        ("去年", "应写作 2023、2023H1"),
        ("", "没有填写报告期"),
    ],
)
def test_bad_periods_are_refused_in_chinese(text, reason):
    with pytest.raises(PeriodError) as exc:
        Period.parse(text)
    assert str(exc.value).startswith(f"报告期“{text}”无效：")
    assert reason in str(exc.value)


def test_next_year_is_the_last():
    assert Period.parse(str(last_year())).is_year
    with pytest.raises(PeriodError, match="报告年度应在"):
        Period.parse(f"{last_year() + 1}Q1")


def test_previous_is_the_period_just_before_and_same_last_year_the_same_span_a_year_earlier():
    p = Period.parse
    assert p("2023").previous() == p("2022") == p("2023").same_last_year()
    assert p("2023H1").previous() == p("2022H2") and p("2023H2").previous() == p("2023H1")
    assert p("2023H1").same_last_year() == p("2022H1")
    assert p("2023Q1").previous() == p("2022Q4") and p("2023Q3").previous() == p("2023Q2")
    assert p("2023Q1").same_last_year() == p("2022Q1")
    assert p("2023-01").previous() == p("2022-12") and p("2023-03").previous() == p("2023-02")
    assert p("2025-02").same_last_year() == p("2024-02")  # the whole of February, 29th included
    ten_days = p("2023-03-11..2023-03-20")
    assert ten_days.previous() == p("2023-03-01..2023-03-10")
    assert ten_days.same_last_year() == p("2022-03-11..2022-03-20")


def test_year_is_a_shorthand_and_only_one_may_be_given():
    assert parse_choice("2019", None) == Period.year(2019) == parse_choice(2019, None)
    assert parse_choice(None, "2019Q1") == Period.quarter(2019, 1)
    with pytest.raises(PeriodError, match="年度和报告期只能填写一个"):
        parse_choice("2019", "2019Q1")
    with pytest.raises(PeriodError, match="请用报告期"):
        parse_choice("2019Q1", None)
    with pytest.raises(PeriodError, match="没有填写报告期"):
        parse_choice(None, None)
