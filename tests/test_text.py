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
    from dangjian.ledgers.xlsx import neutralise

    assert neutralise("=1+1\x01") == "'=1+1"
    assert neutralise("案件\uffff") == "案件"
