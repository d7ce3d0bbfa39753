from __future__ import annotations

from decimal import Decimal

import pytest

from dangjian.reports.filters import (
    book_titles,
    chinese_number,
    dun_list,
    first_n,
    percent,
    round_figure,
    strip_suffix,
    trend,
    wan_yu,
    yu,
)
from dangjian.reports.slots import Slot

from .conftest import FakeValue


def slot(value, key="学习.次数"):
    return Slot(key, FakeValue(key, "学习次数", value=value, evidence_count=7), value)


@pytest.mark.parametrize(
    ("n", "expected"),
    [(8, 8), (10, 10), (23, 20), (99, 90), (156, 150), (1234, 1200), (23456, 23000), (0, 0)],
)
def test_yu_rounds_down_to_a_round_figure(n, expected):
    assert round_figure(n) == expected
    assert str(yu(n)) == str(expected)


def test_yu_accepts_decimals_and_rounds_down_first():
    assert yu(Decimal("23.9")) == "20"


def test_wan_yu():
    assert wan_yu(23456) == "2"
    assert wan_yu(9999) == "0"
    assert wan_yu(120000) == "12"


def test_percent_with_given_decimals_half_up():
    assert percent(Decimal("37.5"), 1) == "37.5"
    assert percent(Decimal("37.46"), 1) == "37.5"
    assert percent(Decimal("37.45"), 1) == "37.5"
    assert percent(12, 2) == "12.00"
    assert percent(Decimal("66.6"), 0) == "67"


def test_chinese_number():
    assert chinese_number(3) == "三"
    assert chinese_number(12) == "十二"
    assert chinese_number(70) == "七十"


def test_book_titles_and_dun_list():
    assert book_titles(["A", "B", "C"]) == "《A》《B》《C》"
    assert dun_list(["A", "B", "C"]) == "A、B、C"
    assert book_titles("焦裕禄") == "《焦裕禄》"
    assert dun_list([]) == ""


def test_first_n_keeps_a_list():
    assert first_n(["A", "B", "C", "D"], 2) == ["A", "B"]
    assert dun_list(first_n(["A", "B", "C", "D"], 3)) == "A、B、C"


def test_trend_wording():
    assert trend(Decimal("44.1"), Decimal("45.3")) == "下降至"
    assert trend(Decimal("46"), Decimal("45.3")) == "上升至"
    assert trend(5, 5) == "持平于"
    assert trend(slot(3), slot(4)) == "下降至"
    assert trend(None, 4) == "（无法比较）"


def test_strip_suffix():
    assert strip_suffix("焦裕禄纪念馆", "纪念馆") == "焦裕禄"
    assert strip_suffix("二七纪念塔", "纪念馆") == "二七纪念塔"


def test_filters_keep_the_slot():
    result = yu(slot(23))
    assert isinstance(result, Slot)
    assert result._key == "学习.次数" and result._value == 23 and str(result) == "20"
    assert result._info.evidence_count == 7
    listed = first_n(slot(["A", "B", "C"], "文化.舞台剧"), 2)
    assert isinstance(listed, Slot) and listed._value == ["A", "B"]
    titles = book_titles(listed)
    assert isinstance(titles, Slot) and str(titles) == "《A》《B》" and titles._key == "文化.舞台剧"


def test_a_number_filter_refuses_text():
    with pytest.raises(TypeError, match="过滤器“余”需要数字"):
        yu("很多")


def test_a_date_value_reads_as_in_official_documents_from_the_one_text_helper():
    import datetime as dt

    from dangjian.indicators.engine import Period
    from dangjian.indicators.evidence import display
    from dangjian.reports.slots import display_value
    from dangjian.text import cn_date

    assert cn_date(dt.date(2019, 3, 5)) == "2019年3月5日"  # no zero padding
    assert display_value(dt.date(2019, 3, 5)) == display(dt.date(2019, 3, 5)) == "2019年3月5日"
    assert display_value(dt.datetime(2019, 12, 31, 23, 59)) == "2019年12月31日"
    assert Period(dt.date(2019, 1, 1), dt.date(2019, 6, 29)).label == "2019年1月1日至2019年6月29日"
    assert Period(dt.date(2019, 1, 1), dt.date(2019, 6, 30)).label == "2019年上半年"
