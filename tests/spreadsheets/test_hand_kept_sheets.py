"""Sheets as clerks keep them (issue 13): a title row, 序号 and 备注 columns, a 合计 row, signature lines and notes
under the table, numbers written with their unit ("42人"). The furniture is skipped and listed; what is truly
ambiguous stays refused with the message it always had."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from dangjian.records.models import Record
from dangjian.spreadsheets.imports import furniture, import_file

HEAD = ["序号", "单位", "活动日期", "活动类型", "主题", "参加人数", "备注"]


def book(
    tmp_path: Path,
    rows: list[list],
    *,
    title: str = "",
    name: str = "hand.xlsx",
    merged: tuple[int, ...] = (),
) -> Path:
    """A sheet as a clerk keeps it; `merged`: rows (1-based, in the sheet) merged across the table's width."""
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(HEAD)
    for row in rows:
        ws.append(row)
    for number in ((1,) if title else ()) + merged:
        ws.merge_cells(start_row=number, start_column=1, end_row=number, end_column=len(HEAD))
    path = tmp_path / name
    wb.save(path)
    return path


def run(world, path: Path):
    return import_file(world.clerk, world.ledger("study_activity"), path, path.name, default_org=None)


def test_a_street_offices_sheet_with_a_total_row_signatures_and_a_note(world, tmp_path):
    rows = [
        [1, "幸福社区", "2019.3.5", "专题党课", "学习党章", "42人", "会后交流"],
        [2, "幸福社区", dt.date(2019, 4, 9), "专题报告", "学习条例", "30 人", ""],
        ["合计", None, None, None, None, "72人", None],
        [],
        ["填表人：张三　　审核人：李四　　联系电话：0351-1234567"],
        ["注：本表每月5日前报送街道党工委。"],
    ]
    path = book(tmp_path, rows, title="城关街道幸福社区2019年学习教育活动台账", merged=(7, 8))
    result = run(world, path)
    assert result.ok, result.lines()
    assert result.created == 2
    assert sorted(Record.objects.values_list("values__participants", flat=True)) == [30, 42]
    assert result.furniture == [(5, "合计行"), (7, "签字栏"), (8, "表注")]
    assert "第5行（合计行）、第7行（签字栏）、第8行（表注）不是记录，已跳过。" in result.summary()


def test_a_communitys_sheet_with_subtotals_and_signatures_across_cells(world, tmp_path):
    rows = [
        [1, "幸福社区", "2019-05-10", "理论宣讲", "宣讲一", 20, None],
        [None, "小计", None, None, None, 20, None],
        [2, "和平社区", "2019-05-12", "理论宣讲", "宣讲二", "15人", None],
        [None, "总　计", None, None, None, 35, None],
        ["填报人：", "王五", None, "审核人：", "赵六", None, None],
        ["填报日期：2019年12月31日", None, None, "单位（盖章）：", None, None, None],
    ]
    result = import_file(
        world.unit_admin, world.ledger("study_activity"), book(tmp_path, rows), "c.xlsx", default_org=None
    )
    assert result.ok, result.lines()
    assert result.created == 2
    assert [kind for _, kind in result.furniture] == ["合计行", "合计行", "签字栏", "签字栏"]


def test_a_record_that_only_looks_like_furniture_is_a_record(world, tmp_path):
    """A topic called 合计 with its date is a record; so is a 主题 beginning with 注."""
    rows = [
        [1, "幸福社区", "2019-06-01", "专题报告", "合计", 10, None],
        [2, "幸福社区", "2019-06-02", "专题报告", "注重实效", 10, None],
        [3, "幸福社区", "2019-06-03", "专题报告", "合计学习心得", 10, "注：补录"],
    ]
    result = run(world, book(tmp_path, rows))
    assert result.ok and result.created == 3, result.lines()
    assert result.furniture == []


@pytest.mark.parametrize(
    ("cell", "column", "message"),
    [
        ("6月18日", 3, "活动日期"),  # no year: ambiguous, refused as before
        ("2019年5月", 3, "活动日期"),  # a month for a day
        ("42次", 6, "参加人数"),  # not the field's own unit (人)
    ],
)
def test_what_is_truly_ambiguous_stays_refused(world, tmp_path, cell, column, message):
    row = [1, "幸福社区", "2019-06-01", "专题报告", "主题", 10, None]
    row[column - 1] = cell
    result = run(world, book(tmp_path, [row, ["合计", None, None, None, None, 10, None]]))
    assert not result.ok and Record.objects.count() == 0
    assert any(e.row == 2 and message in str(e) for e in result.errors), result.lines()


def test_the_furniture_rule_looks_at_few_cells():
    assert furniture(["合计：", None, 5], None) == "合计行"
    assert furniture([None, "合 计", 5], None) == "合计行"
    assert furniture(["合计", "2019-01-01"], "2019-01-01") == ""  # a date: a record
    assert furniture(["审核人:李四"], None) == "签字栏"
    assert furniture(["说明：1.本表…", "x", "y"], None) == ""  # a note is one or two cells
    assert furniture(["幸福社区", "2019-01-01", "合计"], None) == "合计行"
    assert furniture(["幸福社区", "2019-01-01", "专题", "合计"], None) == ""  # beyond the first cells
    assert furniture([], None) == ""
