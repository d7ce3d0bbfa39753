"""Wording of values (issue 12): dates without the year, numbers as people write them, lists in an office's order,
and the heading levels of a 公文 — through the renderer and its JSON, and filter by filter."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from docx import Document
from docx.oxml.ns import qn

from dangjian.indicators.engine import Period
from dangjian.reports.filters import FILTER_HELP, FILTERS, span_words
from dangjian.reports.layout import blocks
from dangjian.reports.render_docx import docx_bytes
from dangjian.reports.render_json import render_dict, render_txt
from dangjian.reports.slots import Slot
from dangjian.reports.templating import TemplateRefused, render

from .conftest import PACK_TOML, FakeValue, write_pack

EXTRA_INDICATORS = """
[[indicators]]
key = "报告期.开始"
label = "报告期开始日期"
attribute = "period.start"

[[indicators]]
key = "报告期.结束"
label = "报告期结束日期"
attribute = "period.end"

[[indicators]]
key = "学习.最近中心组日期"
label = "最近一次中心组学习日期"
ledger = "study_activity"
aggregate = "max"
field = "date"
where = [{ field = "kind", op = "=", value = "中心组集体学习" }]

[[indicators]]
key = "学习.平均人数"
label = "平均每次参加人数"
unit = "人"
ledger = "study_activity"
aggregate = "avg"
field = "participants"
decimals = 2

[[indicators]]
key = "学习.专题"
label = "学习专题（按次数）"
ledger = "study_activity"
aggregate = "list"
field = "series"

[[indicators]]
key = "学习.人均"
label = "每次中心组学习折合人次"
formula = "学习.参加人数 / 学习.中心组次数"

[[indicators]]
key = "学习.折合"
label = "折合学时"
formula = "学习.参加人数 * 287.25"
"""

TEMPLATE = """\
截至{{ 报告期.结束|月日 }}，{{ 报告期.开始|期间(报告期.结束) }}最近一次中心组学习在{{ 学习.最近中心组日期|月份 }}（{{ 学习.最近中心组日期|季度 }}、{{ 学习.最近中心组日期|半年 }}、{{ 学习.最近中心组日期|月日 }}）。
每次{{ 学习.人均 }}人次，折合{{ 学习.折合 }}学时，即{{ 学习.折合|取整("百", "多") }}、{{ 学习.折合|取整("万", "余") }}、约{{ 学习.折合|万 }}学时，平均{{ 学习.平均人数|按需小数 }}人。
中心组学习次数是上年的{{ 学习.中心组次数|倍(上年.学习.中心组次数) }}，{{ 学习.中心组次数|同比(上年.学习.中心组次数) }}。
排名前二的是{{ {"舞台剧": 学习.舞台剧数, "中心组": 学习.中心组次数, "其他": 0}|排名(2, "次") }}。
"""


def load(tmp_path, main: str = TEMPLATE):
    from dangjian.packs.loader import discover, load_pack
    from dangjian.reports.models import ReportTemplate

    folder = write_pack(tmp_path, main=main)
    (folder / "pack.toml").write_text(PACK_TOML + EXTRA_INDICATORS, encoding="utf-8")
    for pack in discover(tmp_path):
        load_pack(pack)
    return ReportTemplate.objects.get(key="testreport")


@pytest.fixture
def wording_template(world, tmp_path):
    return load(tmp_path)


def test_the_wording_filters_through_the_renderer(wording_template, report_records):
    rendered = render(wording_template, report_records.root, Period.year(2019))
    assert render_txt(rendered) == (
        "截至12月31日，全年最近一次中心组学习在6月份（第二季度、上半年、6月1日）。\n"
        # 52 participants / 4 sessions = 13 (not 13.0); 52 × 287.25 = 14937 (not 14937.0)
        "每次13人次，折合14937学时，即14900多、1.4万余、约1.5万学时，平均8.67人。\n"
        "中心组学习次数是上年的0.8倍，同比下降20%。\n"
        "排名前二的是中心组（4次）、舞台剧（2次）。\n"
    )


def test_filtered_figures_keep_their_value_and_evidence_in_the_json(wording_template, report_records):
    rendered = render(wording_template, report_records.root, Period.year(2019))
    slots = [
        (s["indicator"], s["value"], s["display"], s["evidence"]["records"])
        for s in render_dict(rendered)["slots"]
    ]
    assert slots[:6] == [
        ("报告期.结束", "2019-12-31", "12月31日", None),
        ("报告期.开始", "2019-01-01", "全年", None),
        ("学习.最近中心组日期", "2019-06-01", "6月份", 4),
        ("学习.最近中心组日期", "2019-06-01", "第二季度", 4),
        ("学习.最近中心组日期", "2019-06-01", "上半年", 4),
        ("学习.最近中心组日期", "2019-06-01", "6月1日", 4),
    ]
    assert ("学习.折合", 14937, "14900多", None) in slots
    assert ("学习.折合", 14937, "1.4万余", None) in slots
    assert ("学习.人均", 13, "13", None) in slots
    assert ("学习.平均人数", 8.67, "8.67", 6) in slots
    assert ("学习.中心组次数", 4, "同比下降20%", 4) in slots
    # 排名: each count printed is its own indicator's blank, in ranked order, with its evidence
    assert slots[-2:] == [("学习.中心组次数", 4, "4", 4), ("学习.舞台剧数", 2, "2", 2)]


def test_decimals_as_needed_and_periods_of_another_span(wording_template, report_records):
    # c2: one session of 10 and one play of 6 → average 8.00, written 8; the period is the first half-year
    rendered = render(wording_template, report_records.c2, Period.parse("2019H1"))
    text = render_txt(rendered)
    assert text.startswith("截至6月30日，上半年最近一次中心组学习在6月份")
    assert "平均8人。" in text and "8.00" not in text
    slot = next(s for s in render_dict(rendered)["slots"] if s["indicator"] == "学习.平均人数")
    assert slot["value"] == 8 and slot["display"] == "8"


def test_a_bad_argument_is_refused_naming_the_filter_and_line(world, tmp_path, report_records):
    template = load(tmp_path, main='第一行\n{{ 学习.参加人数|取整("打", "多") }}\n')
    with pytest.raises(TemplateRefused) as refused:
        render(template, report_records.root, Period.year(2019))
    message = str(refused.value)
    assert "第 2 行" in message and "过滤器“取整”的单位应为 十、百、千、万、亿 之一" in message


# --- filter by filter -------------------------------------------------------------------------------------------


def slot(value, key="学习.次数"):
    return Slot(key, FakeValue(key, "学习次数", value=value, evidence_count=7), value)


def test_dates_without_the_year():
    day = dt.date(2019, 12, 20)
    assert str(FILTERS["月日"](day)) == "12月20日"
    assert str(FILTERS["月"](dt.date(2019, 3, 5))) == "3月"
    assert str(FILTERS["月份"]("2019-03-05")) == "3月份"  # record values keep dates as ISO text
    assert [str(FILTERS["季度"](dt.date(2019, m, 1))) for m in (1, 4, 7, 12)] == [
        "第一季度",
        "第二季度",
        "第三季度",
        "第四季度",
    ]
    assert str(FILTERS["半年"](dt.datetime(2019, 7, 1, 9))) == "下半年"
    assert str(FILTERS["月日"]([dt.date(2019, 1, 2), "2019-03-04"])) == "1月2日、3月4日"
    assert str(FILTERS["月日"](None)) == "（无数据）"
    with pytest.raises(TypeError, match="过滤器“季度”需要日期"):
        FILTERS["季度"]("三月")


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        ("2019-01-01", "2019-12-31", "全年"),
        ("2019-01-01", "2019-06-30", "上半年"),
        ("2019-07-01", "2019-12-31", "下半年"),
        ("2019-04-01", "2019-06-30", "第二季度"),
        ("2019-03-01", "2019-03-31", "3月份"),
        ("2020-02-01", "2020-02-29", "2月份"),
        ("2019-01-01", "2019-05-31", "1—5月"),
        ("2019-01-01", "2019-06-29", "1月1日至6月29日"),
        ("2019-12-01", "2020-01-31", "2019年12月1日至2020年1月31日"),
    ],
)
def test_a_period_in_words(start, end, words):
    assert span_words(dt.date.fromisoformat(start), dt.date.fromisoformat(end)) == words
    assert str(FILTERS["期间"](start, end)) == words


def test_a_period_ending_before_it_starts_is_refused():
    with pytest.raises(TypeError, match="过滤器“期间”的结束日期"):
        FILTERS["期间"]("2019-06-30", "2019-01-01")


def test_numbers_as_people_write_them():
    as_needed = FILTERS["按需小数"]
    assert str(as_needed(Decimal("146.00"))) == "146"
    assert str(as_needed(Decimal("1369.50"))) == "1369.5"
    assert str(as_needed(Decimal("2.345"), 2)) == "2.35"
    round_down = FILTERS["取整"]
    assert str(round_down(14937, "百", "多")) == "14900多"
    assert str(round_down(14937, "千", "余")) == "14000余"
    assert str(round_down(14937, "十")) == "14930"
    assert str(round_down(14937, "万", "余")) == "1.4万余"
    assert str(round_down(14900, "百", "多")) == "14900"  # nothing cut off: no 多
    assert str(round_down(80, "百", "多")) == "80"  # below the unit: as it is
    assert str(round_down(234_500_000, "亿", "多")) == "2.3亿多"
    assert str(FILTERS["万"](12345)) == "1.2万"
    assert str(FILTERS["万"](120000)) == "12万"
    assert str(FILTERS["万"](9800)) == "9800"
    assert str(FILTERS["万"](12345, 2)) == "1.23万"
    assert str(FILTERS["亿"](Decimal("123456789"))) == "1.2亿"
    assert str(FILTERS["倍"](23, 10)) == "2.3倍"
    assert str(FILTERS["倍"](20, 10)) == "2倍"
    assert str(FILTERS["倍"](20, 0)) == "（无法比较）"
    assert str(FILTERS["百分点"](Decimal("45.3"), Decimal("43"))) == "提高2.3个百分点"
    assert str(FILTERS["百分点"](Decimal("41.5"), Decimal("43"))) == "下降1.5个百分点"
    assert str(FILTERS["百分点"](Decimal("43.01"), Decimal("43"))) == "持平"
    assert str(FILTERS["同比"](1125, 1000)) == "同比增长12.5%"
    assert str(FILTERS["同比"](968, 1000)) == "同比下降3.2%"
    assert str(FILTERS["同比"](1000, 1000)) == "同比持平"
    assert str(FILTERS["同比"](5, 0)) == "（无法比较）"
    assert str(FILTERS["环比"](12, 10, 0)) == "环比增长20%"


def test_number_filters_keep_the_slot():
    worded = FILTERS["取整"](slot(14937), "万", "余")
    assert isinstance(worded, Slot) and str(worded) == "1.4万余"
    assert worded._value == 14937 and worded._key == "学习.次数" and worded._info.evidence_count == 7
    change = FILTERS["同比"](slot(12), slot(10, "上年.学习.次数"))
    assert change._key == "学习.次数" and change._value == 12 and str(change) == "同比增长20%"


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("取整", (100, "斤"), "过滤器“取整”的单位应为"),
        ("取整", (100, "百", "多得很多很多"), "过滤器“取整”的后缀"),
        ("按需小数", (1, 11), "过滤器“按需小数”的小数位数"),
        ("万", ("很多",), "过滤器“万”需要数字"),
        ("倍", (2, "x"), "过滤器“倍”需要数字"),
        ("同比", (2, 1, -1), "过滤器“同比”的小数位数"),
        ("排名", ([1, 2],), "过滤器“排名”需要“名称: 数量”的对照"),
        ("排名", ({"甲": 1}, 0), "过滤器“排名”的项数"),
        ("按数量", ({"甲": "多"},), "过滤器“按数量”需要数字"),
    ],
)
def test_bad_arguments_are_refused_in_chinese_naming_the_filter(name, args, message):
    func = FILTERS[name]
    if name == "排名":
        args = (None, *args)  # the environment comes first
    with pytest.raises(TypeError, match=message):
        func(*args)


def test_lists_in_the_order_an_office_writes_them():
    order = FILTERS["排序"]
    assert order(["党支部", "街道党工委", "党总支", "社区党委"], "党委", "党总支", "党支部") == [
        "党总支",
        "党支部",
        "街道党工委",
        "社区党委",
    ]  # 党委 is not in the list; names not in the order follow in their own order
    listed = order(slot(["乙", "甲"], "文化.舞台剧"), "甲", "乙")
    assert isinstance(listed, Slot) and listed._value == ["甲", "乙"] and listed._key == "文化.舞台剧"
    assert list(order({"乙": 1, "甲": 2}, "甲")) == ["甲", "乙"]
    # by count, largest first; equal counts keep the order written, never the order of the characters
    counts = {"组织": 3, "宣传": 7, "纪检": 3, "统战": 9, "保密": 3}
    assert FILTERS["按数量"](counts) == ["统战", "宣传", "组织", "纪检", "保密"]
    assert FILTERS["排名"](None, counts, 3, "件") == "统战（9件）、宣传（7件）、组织（3件）"
    assert FILTERS["排名"](None, [("甲", 1), ("乙", 2)], 5) == "乙（2）、甲（1）"


def test_list_ties_keep_the_order_of_entry_never_the_characters(wording_template, world, make_record):
    # 乙 (U+4E59) sorts before 甲 (U+7532) by character code; entered 甲 first, on the same day, the list says 甲 first
    for title in ("甲剧", "乙剧"):
        make_record(
            "study_activity",
            world.c1,
            {"date": "2019-04-01", "kind": "观看舞台剧", "title": title, "participants": 5},
        )
    for series in ("丙专题", "乙专题", "乙专题", "甲专题", "甲专题", "丁专题"):
        make_record(
            "study_activity",
            world.c1,
            {
                "date": "2019-05-01",
                "kind": "中心组集体学习",
                "title": "学习",
                "participants": 5,
                "series": series,
            },
        )
    from dangjian.indicators.engine import evaluate

    values = evaluate(world.root, Period.year(2019), keys={"学习.舞台剧", "学习.专题"})
    assert values["学习.舞台剧"].value == ["甲剧", "乙剧"]  # order = "first": same first day, order of entry
    assert values["学习.专题"].value == ["乙专题", "甲专题", "丙专题", "丁专题"]  # by count, ties by entry


def test_a_ranking_passed_on_to_another_filter_reads_as_its_text(world, tmp_path, report_records):
    template = load(
        tmp_path, main='{{ {"剧": 学习.舞台剧数, "组": 学习.中心组次数}|排名(2, "次")|去尾("）") }}。\n'
    )
    rendered = render(template, report_records.root, Period.year(2019))
    assert render_txt(rendered) == "组（4次）、剧（2次。\n"


def test_every_filter_has_help_for_the_picker():
    assert set(FILTER_HELP) == set(FILTERS)
    for name, (description, example) in FILTER_HELP.items():
        assert description and example.startswith(f"|{name}")


# --- headings ------------------------------------------------------------------------------------------------------

HEADED = (
    "报告\n\n"
    "一、思想建设\n"
    "(一)半角括号的二级标题。正文接着写。\n"
    "（二）全角括号的二级标题\n"
    "1.三级标题。正文。\n"
    "2．全角点的三级标题\n"
    "（1）四级标题\n"
    "(2)半角的四级标题\n"
    "1.5万名党员参加学习。\n"
    "2019年全区党员……\n"
)


def test_every_heading_level_is_recognised():
    kinds = [(b.kind, b.head) for b in blocks(HEADED)]
    assert kinds[2:] == [
        ("h1", "一、思想建设"),
        ("h2", "(一)半角括号的二级标题。"),
        ("h2", "（二）全角括号的二级标题"),
        ("h3", "1.三级标题。"),
        ("h3", "2．全角点的三级标题"),
        ("h4", "（1）四级标题"),
        ("h4", "(2)半角的四级标题"),
        ("body", "1.5万名党员参加学习。"),  # a decimal number is not a heading
        ("body", "2019年全区党员……"),
    ]


def test_word_gives_each_heading_its_level_and_font():
    doc = Document(io.BytesIO(docx_bytes(HEADED, title="报告")))
    by_text = {p.text: p for p in doc.paragraphs}

    def level(text):
        lvl = by_text[text]._p.pPr.find(qn("w:outlineLvl"))
        return None if lvl is None else int(lvl.get(qn("w:val")))

    def font(run):
        return run._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))

    assert level("一、思想建设") == 0
    assert level("(一)半角括号的二级标题。正文接着写。") == 1
    assert level("（二）全角括号的二级标题") == 1
    assert level("1.三级标题。正文。") == 2
    assert level("（1）四级标题") == 3
    assert level("(2)半角的四级标题") == 3
    assert level("1.5万名党员参加学习。") is None
    h2 = by_text["(一)半角括号的二级标题。正文接着写。"]
    assert font(h2.runs[0]) == "楷体_GB2312" and font(h2.runs[1]) == "仿宋_GB2312"
    h3 = by_text["1.三级标题。正文。"]
    assert h3.runs[0].font.bold and font(h3.runs[0]) == "仿宋_GB2312" and not h3.runs[1].font.bold
    assert not by_text["（1）四级标题"].runs[0].font.bold


# --- as staff use them: the editor's picker and preview ------------------------------------------------------------


@pytest.fixture
def writer(client, world, report_pack):
    client.force_login(world.unit_admin)
    return client


def test_the_picker_finds_the_wording_filters_by_what_they_write(writer):
    from django.urls import reverse

    url = reverse("reports:template_picker")
    found = {i["code"]: i for i in writer.get(url, {"q": "季度"}).json()["items"]}
    assert found["季度"]["insert"] == "|季度" and found["季度"]["kind"] == "过滤器"
    found = {i["code"]: i for i in writer.get(url, {"q": "同比增长"}).json()["items"]}
    assert found["同比"]["insert"] == "|同比(上年.指标)"
    found = {i["code"]: i for i in writer.get(url, {"q": "14900多"}).json()["items"]}
    assert found["取整"]["insert"] == '|取整("百", "多")'


def test_the_preview_shows_the_wording_with_links_and_heading_levels(writer, report_records):
    from django.urls import reverse

    text = (
        "二、组织建设\n"
        "(一)半角二级标题\n"
        "1.三级标题。中心组学习{{ 学习.中心组次数 }}次，{{ 学习.中心组次数|同比(上年.学习.中心组次数) }}。\n"
        "（1）四级标题\n"
    )
    url = reverse("reports:template_draft", args=["testreport"])
    response = writer.post(url, {"file": "chapter1.j2", "text": text, "org": "root", "period": "2019"})
    body = response.content.decode()
    assert response.status_code == 200
    assert '<p class="h2-line"><span class="h2">(一)半角二级标题</span></p>' in body
    assert '<p class="h3-line"><span class="h3">1.三级标题。</span>' in body
    assert '<p class="h4-line"><span class="h4">（1）四级标题</span></p>' in body
    assert ">同比下降20%</a>" in body  # the wording links to the records behind the figure
