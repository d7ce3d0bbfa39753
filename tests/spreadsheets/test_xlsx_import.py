"""Excel import: formats, all-or-nothing, duplicates, limits, the error copy."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from dangjian.records.models import Record
from dangjian.spreadsheets.imports import import_file
from dangjian.spreadsheets.xlsx import build_template

HEAD = ["填报单位", "活动日期*", "活动类型*", "主题*", "参加人数"]


def sheet(tmp_path: Path, rows: list[list], name: str = "in.xlsx", head: list | None = None) -> Path:
    book = Workbook()
    ws = book.active
    ws.append(head or HEAD)
    for row in rows:
        ws.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def good(i: int = 1, date: object = "2019-03-05") -> list:
    return ["幸福社区", date, "专题报告", f"主题{i}", 30]


def run(world, path: Path, **kw):
    kw.setdefault("default_org", None)
    return import_file(world.clerk, world.ledger("study_activity"), path, path.name, **kw)


def test_template_filled_with_openpyxl_imports(world, tmp_path):
    lt = world.ledger("study_activity")
    data = build_template(lt, [world.c1])
    book = load_workbook(io.BytesIO(data))
    ws = book.worksheets[0]
    heads = [c.value for c in ws[1]]
    assert heads[0] == "填报单位*" and "活动日期*" in heads and "主讲人" in heads
    assert ws.cell(2, 1).value.startswith("【填写说明】")
    assert ws.data_validations.dataValidation  # dropdowns for the org, choice and yes/no columns
    assert ws.cell(4, heads.index("活动日期*") + 1).number_format == "yyyy-mm-dd"
    assert ws.column_dimensions["A"].width >= 10
    col = {h.rstrip("*"): i + 1 for i, h in enumerate(heads)}
    ws.cell(4, col["填报单位"], "中共城关街道幸福社区委员会")
    ws.cell(4, col["活动日期"], dt.date(2019, 4, 1))
    ws.cell(4, col["活动类型"], "专题报告")
    ws.cell(4, col["主题"], "学习")
    ws.cell(4, col["属于主题教育"], "是")
    path = tmp_path / "t.xlsx"
    book.save(path)
    result = run(world, path)
    assert result.ok, result.lines()
    assert result.created == 1 and result.header_row == 1
    record = Record.objects.get(ledger_type=lt)
    assert record.org == world.c1 and record.date == dt.date(2019, 4, 1)
    assert record.values["theme_education"] is True


@pytest.mark.parametrize(
    "typed",
    ["2019.3.5", "2019/3/5", "2019年3月5日", "２０１９年３月５日", 43529, "43529", dt.datetime(2019, 3, 5)],
)
def test_date_quirks(world, tmp_path, typed):
    result = run(world, sheet(tmp_path, [good(date=typed)]))
    assert result.ok, result.lines()
    assert Record.objects.get().date == dt.date(2019, 3, 5)


@pytest.mark.parametrize("typed", ["1,234", "１２３４", "1，234", 1234.0])
def test_number_quirks(world, tmp_path, typed):
    result = run(world, sheet(tmp_path, [["幸福社区", "2019-03-05", "专题报告", "x", typed]]))
    assert result.ok, result.lines()
    assert Record.objects.get().values["participants"] == 1234


def test_headers_by_code_without_star_after_a_title_row(world, tmp_path):
    book = Workbook()
    ws = book.active
    ws.append(["2019年学习教育活动台账"])
    ws.append([])
    ws.append(["org", "date", "kind", "title", "参加人数（人）"])
    ws.append(["【填写说明】从下拉列表选择本单位", "必填"])
    ws.append(["【示例】幸福社区", "2019-01-01", "专题报告", "示例", 1])
    ws.append(["c1", "2019-03-05", "专题报告", "x", 3])
    path = tmp_path / "codes.xlsx"
    book.save(path)
    result = run(world, path)
    assert result.ok, result.lines()
    assert result.header_row == 3 and result.created == 1


def test_last_months_hand_kept_sheet_imports_and_says_which_columns_it_left_out(world, tmp_path):
    """A sheet kept by hand: a title row, “序号”, “单位”, “时间” for the date, and columns the ledger lacks."""
    path = sheet(
        tmp_path,
        [[1, "幸福社区", "2019.10.8", "专题党课", "学习十九届四中全会精神", 30, "会后交流"]],
        head=["序号", "单位", "时间", "活动类型", "主题", "人数", "备注"],
    )
    result = run(world, path)
    assert result.ok and result.created == 1, result.lines()
    assert Record.objects.get().date == dt.date(2019, 10, 8)
    assert result.ignored_columns == ["人数", "备注"]  # 序号 is a row number, not worth a warning
    assert (
        result.summary()
        == "导入成功：新增 1 条记录。注意：“人数”、“备注”不是本台账的列，这些列的内容没有导入。"
    )


def test_a_missing_required_column_names_the_unknown_ones_and_the_right_names(world, tmp_path):
    path = sheet(
        tmp_path, [["幸福社区", "2019.10.8", "专题党课", "x"]], head=["单位", "开展时间", "活动类型", "主题"]
    )
    result = run(world, path)
    assert not result.ok and Record.objects.count() == 0
    assert result.message.startswith("表头中缺少必填列：【活动日期】。第1行表头中“开展时间”不是本台账的列；")
    assert "本台账的列为：填报单位、活动日期、活动类型、主题" in result.message


def _workbook(tmp_path: Path, sheets: dict[str, list[list]], hidden: tuple[str, ...] = ()) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
        if title in hidden:
            ws.sheet_state = "hidden"
    path = tmp_path / "book.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_the_data_sheet_is_found_after_a_cover_sheet_and_other_data_sheets_are_named(world, tmp_path, engine):
    path = _workbook(
        tmp_path,
        {
            "填表说明": [["请按月填写本社区学习教育活动"], ["负责人：张三"]],
            "隐藏": [HEAD, good(99)],  # hidden: never read
            "10月": [HEAD, good(1), good(2)],
            "11月": [HEAD, good(3)],
        },
        hidden=("隐藏",),
    )
    result = run(world, path, engine=engine)
    assert result.ok and result.created == 2, result.lines()
    assert sorted(r.values["title"] for r in Record.objects.all()) == ["主题1", "主题2"]
    assert (result.sheet_name, result.other_sheets) == ("10月", ["11月"])
    assert "工作表“11月”也像是本台账的数据，这次只导入了工作表“10月”" in result.summary()


def test_a_named_sheet_is_imported_and_an_unknown_name_lists_the_sheets(world, tmp_path):
    path = _workbook(tmp_path, {"10月": [HEAD, good(1)], "11月": [HEAD, good(2), good(3)]})
    result = run(world, path, sheet=" 11月 ")
    assert result.ok and result.created == 2 and result.other_sheets == [], result.lines()
    assert sorted(r.values["title"] for r in Record.objects.all()) == ["主题2", "主题3"]
    refused = run(world, path, sheet="12月")
    assert refused.message == "工作簿中没有名为“12月”的工作表，现有的工作表：10月、11月"
    assert Record.objects.count() == 2


def test_errors_on_a_later_sheet_are_marked_on_that_sheet(world, tmp_path):
    from dangjian.spreadsheets.imports import error_copy

    path = _workbook(tmp_path, {"说明": [["填表说明"]], "台账": [HEAD, good(1), good(2, "2019-02-30")]})
    result = run(world, path)
    assert not result.ok and result.lines()[0].startswith("第3行【活动日期】")
    book = load_workbook(io.BytesIO(error_copy(path, path.name, result)))
    assert book.active.title == "台账" and "日期格式不正确" in book["台账"]["B3"].comment.text
    assert book["说明"]["B3"].comment is None


def test_one_bad_date_in_row_57_imports_nothing(world, tmp_path):
    rows = [good(i) for i in range(2, 57)] + [good(57, "2019-13-45")] + [good(i) for i in range(58, 80)]
    path = sheet(tmp_path, rows)
    result = run(world, path)
    assert not result.ok and result.created == 0
    assert Record.objects.count() == 0
    assert [str(e) for e in result.errors] == [
        "第57行【活动日期】：日期格式不正确：“2019-13-45”，请填写如 2019-03-05 或 2019年3月5日"
    ]


def test_every_error_is_reported_and_the_copy_marks_the_cells(world, tmp_path):
    from dangjian.spreadsheets.imports import error_copy

    rows = [good(1), ["幸福社区", "", "专题报告", "x", 1], ["火星社区", "2019-01-01", "讲座", "x", "many"]]
    path = sheet(tmp_path, rows)
    result = run(world, path)
    lines = result.lines()
    assert "第3行【活动日期】：为必填项" in lines
    assert any(line.startswith("第4行【填报单位】：找不到单位") for line in lines)
    assert any(line.startswith("第4行【活动类型】：") for line in lines)
    assert any(line.startswith("第4行【参加人数】：") for line in lines)
    book = load_workbook(io.BytesIO(error_copy(path, path.name, result)))
    ws = book.worksheets[0]
    assert ws["B3"].fill.fgColor.rgb.endswith("FF9999")
    assert "为必填项" in ws["B3"].comment.text
    assert ws["A2"].comment is None
    assert book["导入错误"].max_row == 1 + len(lines)


def test_rows_of_orgs_the_user_may_not_enter_are_refused(world, tmp_path):
    result = run(world, sheet(tmp_path, [good(1), ["和平社区", "2019-03-05", "专题报告", "y", 1]]))
    assert [str(e) for e in result.errors] == ["第3行【填报单位】：您无权为“和平社区”填报该台账"]
    assert Record.objects.count() == 0


def test_default_org_when_the_column_is_missing(world, tmp_path):
    path = sheet(tmp_path, [["2019-03-05", "专题报告", "x"]], head=["活动日期", "活动类型", "主题"])
    result = import_file(world.reviewer, world.ledger("study_activity"), path, "x.xlsx")
    assert result.lines() == ["第2行【填报单位】：为必填项（您可为多个单位填报，请写明本行的填报单位）"]
    result = import_file(world.reviewer, world.ledger("study_activity"), path, "x.xlsx", default_org=world.c2)
    assert result.ok and Record.objects.get().org == world.c2


def test_duplicates_within_the_file(world, tmp_path):
    path = sheet(tmp_path, [good(1), good(2), good(1)])
    result = run(world, path)
    assert result.needs_choice and Record.objects.count() == 0
    assert result.lines() == ["第4行：与第2行重复（同一单位、日期和关键字段）"]
    result = run(world, path, duplicates="skip")
    assert result.ok and result.created == 2 and result.skipped == 1
    Record.objects.all().delete()
    result = run(world, path, duplicates="allow")
    assert result.ok and result.created == 3


def test_duplicates_against_stored_records(world, tmp_path, make_record):
    stored = make_record(
        "study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "主题1"}
    )
    path = sheet(tmp_path, [good(1), good(2)])
    result = run(world, path)
    assert result.lines() == [f"第2行：与已有记录 #{stored.pk} 重复（同一单位、日期和关键字段）"]
    assert Record.objects.count() == 1
    assert run(world, path, duplicates="skip").created == 1
    assert Record.objects.count() == 2


def test_import_writes_history(world, tmp_path):
    run(world, sheet(tmp_path, [good(1)]))
    record = Record.objects.get()
    entry = record.history.get()
    assert entry.history_user == world.clerk and entry.history_change_reason == "导入"


def test_the_service_bulk_write_stores_what_the_orm_stores(world, tmp_path):
    """The write service inserts records and their history with executemany from a row template; what it stores
    must be exactly what the ORM's bulk_create_with_history stores for the same records."""
    from simple_history.utils import bulk_create_with_history

    rows = [good(1, dt.date(2019, 3, 5)), ["幸福社区", "2019.4.1", "专题报告", "'=1+1", "1,200"]]
    first = run(world, sheet(tmp_path, rows))
    assert first.created == 2, first.lines()
    fast = list(Record.objects.order_by("pk"))
    copies = [
        Record(
            **{f.attname: getattr(r, f.attname) for f in Record._meta.concrete_fields if f.attname != "id"}
        )
        for r in fast
    ]
    bulk_create_with_history(copies, Record, default_user=world.clerk, default_change_reason="导入")
    orm = list(Record.objects.order_by("pk"))[2:]
    skip = {"id", "created_at", "updated_at", "history_id", "history_date"}

    def same(a, b) -> None:
        assert {k: v for k, v in vars(a).items() if k not in skip and not k.startswith("_")} == {
            k: v for k, v in vars(b).items() if k not in skip and not k.startswith("_")
        }

    for a, b in zip(fast, orm, strict=True):
        same(a, b)
        same(a.history.get(), b.history.get())
        assert a.history.get().id == a.pk
    assert fast[1].values["title"] == "=1+1" and fast[1].date == dt.date(2019, 4, 1)
    assert fast[0].pk < fast[1].pk < orm[0].pk  # ids reserved ahead are never taken again


def test_xls_and_ods_are_read(world, tmp_path):
    # An .ods written by hand (calamine reads it); the .xls case is below.
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="S">'
        + "".join(
            "<table:table-row>"
            + "".join(
                f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
                for v in row
            )
            + "</table:table-row>"
            for row in [HEAD, ["幸福社区", "2019年3月5日", "专题报告", "ods", "7"]]
        )
        + "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    path = tmp_path / "in.ods"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED
        )
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", "<manifest/>")
    result = run(world, path)
    assert result.ok, result.lines()
    assert Record.objects.get().values["participants"] == 7


def xls(tmp_path: Path, rows: list[list]) -> Path:
    """An Excel 97–2003 .xls as WPS and old Excel save it (xlwt is a test-only dependency)."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("活动")
    dated = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for r, row in enumerate([HEAD, *rows]):
        for c, value in enumerate(row):
            ws.write(r, c, value, dated if isinstance(value, dt.date) else xlwt.Style.default_style)
    path = tmp_path / "in.xls"
    book.save(str(path))
    return path


def test_xls_files_import_with_real_date_cells(world, tmp_path):
    path = xls(
        tmp_path,
        [good(1, dt.date(2019, 3, 5)), good(2, "2019.4.1"), ["幸福社区", "2019/5/6", "理论宣讲", "x", 8.0]],
    )
    result = run(world, path)
    assert result.ok and result.created == 3, result.lines()
    stored = {r.values["title"]: r for r in Record.objects.all()}
    assert stored["主题1"].date == dt.date(2019, 3, 5) and stored["主题2"].date == dt.date(2019, 4, 1)
    assert stored["x"].values["participants"] == 8 and stored["x"].values["kind"] == "理论宣讲"


def test_a_bad_xls_imports_nothing_and_its_errors_come_back_as_xlsx(world, tmp_path):
    from dangjian.spreadsheets.imports import error_copy

    path = xls(tmp_path, [good(1), ["幸福社区", "2019年2月30日", "专题报告", "x", 1]])
    result = run(world, path)
    assert not result.ok and Record.objects.count() == 0
    assert result.lines() == [
        "第3行【活动日期】：日期格式不正确：“2019年2月30日”，请填写如 2019-03-05 或 2019年3月5日"
    ]
    book = load_workbook(io.BytesIO(error_copy(path, path.name, result)))
    ws = book.worksheets[0]
    assert ws["D2"].value == "主题1" and "日期格式不正确" in ws["B3"].comment.text


def test_openpyxl_reader_gives_the_same_result(world, tmp_path):
    path = sheet(tmp_path, [good(1, 43529), good(2, "2019.3.5")])
    result = run(world, path, engine="openpyxl")
    assert result.ok and result.created == 2


# --- limits ---------------------------------------------------------------------------------------------------


def test_a_text_file_renamed_xlsx_is_refused(world, tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("姓名,日期\n张三,2019-01-01\n", encoding="utf-8")
    result = run(world, path)
    assert result.message == "文件“fake.xlsx”不是有效的 Excel 文件（可能是改了扩展名的其他文件）"
    other = tmp_path / "notes.txt"
    other.write_text("x")
    assert "不是 Excel 表格" in run(world, other).message


def test_oversize_files_are_refused(world, tmp_path, settings):
    settings.MAX_IMPORT_MB = 1
    path = tmp_path / "big.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\0" * (1024 * 1024 + 10))
    assert "超过 1 MB 的大小限制" in run(world, path).message


def test_zip_bombs_are_refused_before_opening(world, tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    assert path.stat().st_size < 1024 * 1024
    result = run(world, path)
    assert "疑似压缩炸弹" in result.message
    assert Record.objects.count() == 0


def test_a_submitted_period_refuses_imported_rows_and_an_import_starts_a_task(world, tmp_path):
    from tests.tasks.conftest import make_task

    from dangjian.tasks import collection
    from dangjian.tasks.models import TargetStatus

    task = make_task(world, title="2019年度数据", ledger_types=[world.ledger("study_activity")])
    path = sheet(tmp_path, [good(1, "2019-03-05")])
    assert run(world, path).ok
    assert task.targets.get(org=world.c1).status == TargetStatus.DRAFT
    collection.submit(world.clerk, task.targets.get(org=world.c1))
    result = run(world, sheet(tmp_path, [good(2, "2020-01-01"), good(3, "2019-06-01")], name="b.xlsx"))
    assert len(result.errors) == 1 and str(result.errors[0]).startswith(
        "第3行：“中共城关街道幸福社区委员会”已于"
    )
    assert Record.objects.count() == 1
