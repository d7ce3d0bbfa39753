"""The GB/T 9704-2012 layout, read back from the generated file."""

from __future__ import annotations

import io

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from dangjian.reports.render_docx import docx_bytes

TEXT = (
    (
        "以党的建设高质量推动经济发展高质量\n在决胜全面建成小康社会中\n牢记嘱托、奋勇争先\n\n"
        "今年以来，区委常委会坚持以习近平新时代中国特色社会主义思想为指导。\n"
        "一、坚持以习近平新时代中国特色社会主义思想为引领，凝聚强大合力\n"
        "区委常委会坚持把政治建设摆在首位。\n"
        "（一）深入学习宣传贯彻习近平新时代中国特色社会主义思想，不断增进政治认同。强化理论武装。区委把学习作为重中之重。\n"
        "（二）精心组织开展庆祝活动\n"
    )
    + "正文段落。" * 400
    + "\n"
)


@pytest.fixture(scope="module")
def doc():
    return Document(io.BytesIO(docx_bytes(TEXT, title="报告")))


def fonts(run):
    rfonts = run._element.rPr.find(qn("w:rFonts"))
    return {name: rfonts.get(qn(f"w:{name}")) for name in ("ascii", "hAnsi", "eastAsia")}


def test_a4_and_margins(doc):
    s = doc.sections[0]

    def mm(*lengths):  # stored in twips: compare to a tenth of a millimetre
        return tuple(round(x.mm, 1) for x in lengths)

    assert mm(s.page_width, s.page_height) == (210, 297)
    assert mm(s.top_margin, s.bottom_margin, s.left_margin, s.right_margin) == (37, 35, 28, 26)
    # type area 156 × 225 mm
    assert abs((s.page_width - s.left_margin - s.right_margin) - Mm(156)) < Mm(0.1)
    assert abs((s.page_height - s.top_margin - s.bottom_margin) - Mm(225)) < Mm(0.1)


def test_title_lines(doc):
    title = doc.paragraphs[:3]
    for p in title:
        assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER
        assert p.runs[0].font.size == Pt(22)
        assert fonts(p.runs[0]) == dict.fromkeys(("ascii", "hAnsi", "eastAsia"), "方正小标宋简体")
    assert doc.paragraphs[3].text == ""  # the blank line after the title


def test_body_font_indent_and_exact_line_spacing(doc):
    body = doc.paragraphs[4]
    assert body.text.startswith("今年以来")
    run = body.runs[0]
    assert run.font.size == Pt(16)
    assert fonts(run)["eastAsia"] == "仿宋_GB2312"
    fmt = body.paragraph_format
    assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert Pt(28) <= fmt.line_spacing <= Pt(29)
    assert fmt.first_line_indent == Pt(32)
    assert body._p.pPr.find(qn("w:ind")).get(qn("w:firstLineChars")) == "200"


def test_normal_style_names_the_east_asian_font(doc):
    rfonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert rfonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert rfonts.get(qn("w:eastAsiaTheme")) is None


def test_level_one_heading_in_heiti(doc):
    h1 = doc.paragraphs[5]
    assert h1.text.startswith("一、")
    assert len(h1.runs) == 1 and fonts(h1.runs[0])["eastAsia"] == "黑体"
    assert h1.runs[0].font.size == Pt(16)


def test_level_two_heading_sentence_in_kaiti_rest_in_fangsong(doc):
    h2 = doc.paragraphs[7]
    assert h2.runs[0].text == "（一）深入学习宣传贯彻习近平新时代中国特色社会主义思想，不断增进政治认同。"
    assert fonts(h2.runs[0])["eastAsia"] == "楷体_GB2312"
    assert h2.runs[1].text.startswith("强化理论武装。")
    assert fonts(h2.runs[1])["eastAsia"] == "仿宋_GB2312"
    whole = doc.paragraphs[8]
    assert [fonts(r)["eastAsia"] for r in whole.runs] == ["楷体_GB2312"]


def _footer_xml(footer):
    return footer._element.xml


def test_page_numbers_odd_right_even_left_with_page_field(doc):
    assert doc.settings.odd_and_even_pages_header_footer is True
    s = doc.sections[0]
    odd, even = s.footer, s.even_page_footer
    for footer, align in ((odd, WD_ALIGN_PARAGRAPH.RIGHT), (even, WD_ALIGN_PARAGRAPH.LEFT)):
        p = footer.paragraphs[0]
        assert p.alignment == align
        assert p.text.startswith("— ") and p.text.endswith(" —")
        xml = _footer_xml(footer)
        assert 'w:fldCharType="begin"' in xml and "PAGE" in xml
        for run in p.runs:
            assert run.font.size == Pt(14)
            assert fonts(run)["eastAsia"] == "宋体"
