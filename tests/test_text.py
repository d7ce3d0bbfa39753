"""The one owner of which characters text may carry (dangjian.text)."""

from __future__ import annotations

from dangjian.text import without_invisible, xml_safe


def test_xml_safe_drops_what_xlsx_and_docx_cannot_hold_and_keeps_the_rest():
    assert xml_safe("甲\x01乙\x0b丙\ufffe丁\uffff戊\ud800己") == "甲乙丙丁戊己"
    assert xml_safe("第一行\n第二行\t制表\r") == "第一行\n第二行\t制表\r"
    assert xml_safe("\x7f\x85") == "\x7f\x85"  # XML may carry DEL and C1; only input cleaning drops them


def test_input_cleaning_also_drops_del_and_c1_controls():
    assert without_invisible("会议\x7f纪要\x85\x01") == "会议纪要"
    assert without_invisible("换行\n保留\t") == "换行\n保留\t"


def test_the_xlsx_neutraliser_and_the_docx_writer_use_it():
    from dangjian.spreadsheets.xlsx import neutralise

    assert neutralise("=1+1\x01") == "'=1+1"
    assert neutralise("案件\uffff") == "案件"


# --- the one wording of dates, times, people and numbers ----------------------------------------------------------


def test_a_date_reads_as_in_official_documents_whatever_form_it_comes_in():
    import datetime as dt

    from django.utils import timezone

    from dangjian.text import cn_date

    assert cn_date(dt.date(2019, 3, 5)) == "2019年3月5日"
    assert cn_date("2019-03-05") == "2019年3月5日"  # record values keep dates as ISO text
    assert cn_date("不详") == "不详" and cn_date("") == "" and cn_date(None) == ""
    assert cn_date(dt.datetime(2019, 12, 31, 23, 59)) == "2019年12月31日"  # naive: its own day
    # An aware datetime gives the local day (Asia/Shanghai): 16:30 UTC on 31 December is already 1 January.
    late = dt.datetime(2019, 12, 31, 16, 30, tzinfo=dt.timezone.utc)
    assert cn_date(late) == f"{timezone.localtime(late).year}年1月1日" == "2020年1月1日"


def test_a_time_reads_in_local_time():
    import datetime as dt

    from dangjian.text import cn_datetime

    assert cn_datetime(dt.datetime(2019, 3, 5, 6, 5, tzinfo=dt.timezone.utc)) == "2019年3月5日 14:05"
    assert cn_datetime(None) == ""


def test_a_person_is_named_by_full_name_else_user_name():
    from types import SimpleNamespace

    from dangjian.text import person

    named = SimpleNamespace(get_full_name=lambda: "张三", username="zhangsan")
    unnamed = SimpleNamespace(get_full_name=lambda: "", username="lisi")
    assert person(named) == "张三" and person(unnamed) == "lisi"
    assert person(None) == "" and person(None, "系统") == "系统"


def test_a_number_reads_without_needless_decimals_or_exponents():
    from decimal import Decimal

    from dangjian.text import number_text

    assert number_text(Decimal("40")) == "40" and number_text(Decimal("4E+1")) == "40"
    assert number_text(Decimal("12.50")) == "12.50"  # places the indicator asked for stay
    assert number_text(1e-7) == "0.0000001" and number_text(2.5) == "2.5" and number_text(7) == "7"


def test_every_wording_has_one_owner_and_the_filters_call_it():
    """No second copy of the date wording in the source: f"{x.year}年{x.month}月…" lives in dangjian.text alone."""
    import datetime as dt
    import re
    from pathlib import Path

    from dangjian.web.templatetags import dangjian as filters

    src = Path(__file__).resolve().parents[1] / "src" / "dangjian"
    copy = re.compile(r"\.year\}年(?!度)|month\}月|day\}日|%Y年|%m月|%d日|get_full_name\(\) or")
    found = [
        f"{path.relative_to(src)}:{n}"
        for path in src.rglob("*.py")
        if path.name != "text.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if copy.search(line)
    ]
    assert found == []
    assert filters.cn_date("2019-03-05") == "2019年3月5日" and filters.cn_date(None) == ""
    assert filters.cn_datetime(dt.datetime(2019, 3, 5, 14, 5)) == "2019年3月5日 14:05"
    assert filters.who(None) == "系统"
