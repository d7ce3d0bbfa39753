"""Finding the figures in Chinese official prose (reports/prose.py), held to documents of our own.

Each document under tests/data/prose/ marks its slots with ⟦…⟧; the engine, given the text without the marks,
must find exactly those slots — every one, and nothing else it calls a slot — in documents with different heading
styles, half-width punctuation, 余/多/近/万余/百分点, dates without a year and name lists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dangjian.reports import prose

DATA = Path(__file__).resolve().parent.parent / "data" / "prose"
DOCUMENTS = sorted(DATA.glob("*.txt"))
MARK = re.compile(r"⟦([^⟦⟧]+)⟧")


def _expected(marked: str) -> tuple[list[str], list[tuple[int, int, int, str]]]:
    """The plain lines and the expected slots (paragraph, start, end, text) of a marked document."""
    lines, slots = [], []
    for line in (x for x in marked.splitlines() if x.strip()):
        plain, pos = "", 0
        for m in MARK.finditer(line):
            plain += line[pos : m.start()]
            slots.append((len(lines), len(plain), len(plain) + len(m.group(1)), m.group(1)))
            plain += m.group(1)
            pos = m.end()
        lines.append(plain + line[pos:])
    return lines, slots


def test_there_are_at_least_three_documents():
    assert len(DOCUMENTS) >= 3


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_every_marked_slot_is_found_and_nothing_else(path):
    lines, expected = _expected(path.read_text(encoding="utf-8"))
    document = prose.find(lines, report_year=2019)
    found = [(c.paragraph, c.start, c.end, c.text) for c in document.slots()]
    missing = [e for e in expected if e not in found]
    extra = [f for f in found if f not in expected]
    assert not missing and not extra, f"漏识别：{missing}\n多识别：{extra}"
    assert len(expected) >= 15


def _candidate(text: str, figure: str, **kw) -> prose.Candidate:
    document = prose.find(text, **kw)
    hits = [c for c in document.candidates if c.text == figure]
    assert hits, [c.text for c in document.candidates]
    return hits[0]


def test_headings_are_recognised_in_every_style_and_their_numbers_are_not_slots():
    lines = _expected((DATA / "organs_2019.txt").read_text(encoding="utf-8"))[0]
    lines += ["第三部分 下一步打算", "二、加强领导", "(三)半角括号", "（1）全角括号"]
    document = prose.find(lines, report_year=2019)
    levels = [(p.marker, p.level) for p in document.paragraphs if p.level]
    assert ("（一）", 2) in levels and ("1.", 3) in levels and ("（1）", 4) in levels
    assert ("第三部分 ", 1) in levels and ("二、", 1) in levels and ("(三)", 2) in levels
    marker_ends = {p.index: len(p.marker) for p in document.paragraphs}
    assert all(c.start >= marker_ends[c.paragraph] for c in document.candidates)


def test_the_wording_of_rounded_figures_is_kept():
    assert _candidate("参学党员2万余人次。", "2").wording == "万余"
    assert _candidate("开展活动120余场次。", "120").wording == "余"
    assert _candidate("办理微心愿300多件。", "300").wording == "多"
    assert _candidate("近3年发展党员86名。", "3").wording == "近"
    assert _candidate("挽回经济损失301余万元。", "301").wording == "余万"
    points = _candidate("较上年提高3.2个百分点。", "3.2")
    assert (points.kind, points.unit) == ("points", "个百分点")
    percent = _candidate("注册率已达93.1%,各单位", "93.1")
    assert (percent.kind, percent.value) == ("percent", prose.Decimal("93.1"))
    assert _candidate("分别为19.9%、3.9%.2.4%。", "2.4").kind == "percent"
    assert _candidate("投入资金580万元。", "580").unit == "万元"


def test_fixed_names_are_candidates_that_are_not_slots_with_the_reason():
    text = "学习党的十九届四中全会精神，持续办好十件实事，深入开展“4+2”行动，到2020年底实现全覆盖。"
    document = prose.find(text, report_year=2019)
    assert not document.slots()
    reasons = {c.text: c.reason for c in document.candidates}
    assert "固定名称" in reasons["十九"] and "固定名称" in reasons["十"]
    assert "固定名称" in reasons["4"] and reasons["2020"] == "展望未来的年份"


def test_chinese_numerals_that_count_are_slots_with_their_value():
    document = prose.find("召开区委十二届九次全会，完成第三轮巡察。", report_year=2019)
    slots = {c.text: c for c in document.slots()}
    assert slots["十二"].value == 12 and slots["九"].value == 9
    assert slots["三"].wording == "第" and slots["三"].value == 3


def test_years_dates_titles_and_lists():
    document = prose.find(
        "召开2018年度述职会，2019年工作要点，10月1日举行升旗仪式，观看《焦裕禄》《红旗渠》，"
        "邀请马利、陈博等作报告，印发《关于加强基层党建工作的实施意见》。",
        report_year=2019,
    )
    by_text = {c.text: c for c in document.candidates}
    assert by_text["2018"].is_slot and not by_text["2019"].is_slot
    assert by_text["10月1日"].kind == "date" and by_text["10月1日"].is_slot
    assert by_text["焦裕禄"].is_slot and by_text["红旗渠"].kind == "title"
    assert by_text["马利"].is_slot and by_text["陈博"].kind == "name"
    assert not by_text["关于加强基层党建工作的实施意见"].is_slot


def test_known_names_are_found_inside_phrases_but_not_where_they_are_a_common_word():
    document = prose.find("精心制定具有示范特色的方案，作出示范。", known_names=["示范"])
    decisions = [(c.text, c.is_slot) for c in document.candidates]
    assert decisions == [("示范", True), ("示范", False)]


def test_staff_flip_a_decision_by_its_id():
    document = prose.find("持续办好基层党建十件实事。")
    (c,) = document.candidates
    assert not c.is_slot
    document.flip(c.id)
    assert document.by_id(c.id).is_slot and document.slots() == [c]
    assert c.as_json()["is_slot"] is True and c.as_json()["reason"] == "人工改判"


def test_bounded_input_is_refused_in_chinese():
    with pytest.raises(prose.ProseError, match="文字过长"):
        prose.find(["字" * 1000] * (prose.MAX_TEXT // 1000 + 2))
    with pytest.raises(prose.ProseError, match="不是有效的 Word 文件"):
        prose.read_text("草稿.docx", b"not a zip")
    with pytest.raises(prose.ProseError, match=".doc"):
        prose.read_text("草稿.doc", b"x")
    assert prose.read_text("草稿.txt", "第一段\n第二段".encode("gb18030")) == ["第一段", "第二段"]


def test_a_word_file_is_read_in_order_with_its_tables():
    import io

    from docx import Document

    document = Document()
    document.add_paragraph("标题")
    document.add_paragraph("")
    document.add_paragraph("正文第一段，开展活动12场。")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "党员人数"
    table.cell(0, 1).text = "356名"
    document.add_paragraph("正文第二段。")
    data = io.BytesIO()
    document.save(data)
    lines = prose.read_text("报告.docx", data.getvalue())
    assert lines == ["标题", "", "正文第一段，开展活动12场。", "党员人数", "356名", "正文第二段。"]
    paragraphs = prose.find(lines).paragraphs
    assert [p.blank_before for p in paragraphs] == [False, True, False, False, False]


def test_a_docx_that_expands_enormously_is_refused_before_it_is_read():
    """A zip bomb: 12 MB of one character in word/document.xml packs into a few kB. Judged from the zip's directory."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", " " * (12 * 1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 100_000
    with pytest.raises(prose.ProseError, match="疑似压缩炸弹"):
        prose.read_text("炸弹.docx", data)
    with pytest.raises(prose.ProseError, match="不是有效的 Word 文件"):
        prose.read_text("坏的.docx", b"PK\x03\x04 not really a zip")
