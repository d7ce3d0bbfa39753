"""Spreadsheets in and out: ledger templates, exports, checking an upload, and reading its rows lazily.

The template's header (field labels, required ones marked *) is also the export's header, so an exported file
imports as it is. Every cell written from user data goes through `neutralise` (the evidence xlsx uses it too).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Generator, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings

from .fields import display_value
from .models import FieldType, LedgerField, LedgerType, Record

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ORG_HEADER = "填报单位"
ORG_CODE = "org"
INSTRUCTION_MARK = "【填写说明】"
EXAMPLE_MARK = "【示例】"
DATE_FORMAT = "yyyy-mm-dd"
TEMPLATE_ROWS = 2000  # rows below the header that carry dropdowns and date formats
EXTENSIONS = (".xlsx", ".xls", ".ods")
MAX_RATIO = 100  # uncompressed/compressed: real sheets stay far below this, zip bombs far above
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FileRefused(Exception):
    """The file as a whole is not importable; the message is for the user as it is."""


def neutralise(value: Any) -> Any:
    """A cell that a spreadsheet would run as a formula gets a leading apostrophe (CSV/xlsx injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unneutralise(value: Any) -> Any:
    """The inverse on import, so that an exported "'=1+1" comes back as the "=1+1" that was stored."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


# --- columns -------------------------------------------------------------------------------------------------


def columns(lt: LedgerType) -> list[LedgerField]:
    """The ledger's fields that a spreadsheet carries (attachments are uploaded on the record's page)."""
    return [f for f in lt.active_fields() if f.type != FieldType.FILE]


def header(field: LedgerField) -> str:
    return f"{field.label}*" if field.required else field.label


def _width(texts: Iterable[str]) -> float:
    # A Chinese character is about two Latin ones wide in Excel's column unit.
    longest = max((sum(2 if ord(c) > 0x2E80 else 1 for c in t) for t in texts if t), default=8)
    return min(max(longest + 2, 10), 60)


def instruction(field: LedgerField) -> str:
    parts = ["必填" if field.required else "选填"]
    kind = field.type
    if kind == FieldType.DATE:
        parts.append("日期，如 2019-03-05")
    elif kind == FieldType.CHOICE:
        parts.append("从下拉列表选择")
    elif kind == FieldType.MULTICHOICE:
        parts.append("可多选，用顿号分隔：" + "、".join(field.choices))
    elif kind == FieldType.BOOL:
        parts.append("填“是”或“否”")
    elif kind == FieldType.INTEGER:
        parts.append("整数")
    elif kind in (FieldType.DECIMAL, FieldType.MONEY):
        parts.append("数字" if kind == FieldType.DECIMAL else "金额，最多两位小数")
    elif kind == FieldType.ORG:
        parts.append("组织全称、简称或代码")
    elif kind == FieldType.PERSON:
        parts.append("姓名")
    if field.unit:
        parts.append(f"单位：{field.unit}")
    if field.help_text:
        parts.append(field.help_text)
    return "；".join(parts)


def example(field: LedgerField) -> Any:
    kind = field.type
    if kind == FieldType.DATE:
        return dt.date(2019, 3, 5)
    if kind == FieldType.CHOICE:
        return field.choices[0] if field.choices else ""
    if kind == FieldType.MULTICHOICE:
        return "、".join(field.choices[:2])
    if kind == FieldType.BOOL:
        return "是"
    if kind in (FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY):
        low = field.min_value if field.min_value is not None else Decimal(0)
        return int(
            max(low, min(Decimal(10), field.max_value if field.max_value is not None else Decimal(10)))
        )
    if kind == FieldType.PERSON:
        return "张三"
    if kind == FieldType.ORG:
        return "（组织名称）"
    return f"（{field.label}）"


# --- template --------------------------------------------------------------------------------------------


def _style_header(sheet: Any, count: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    fill = PatternFill("solid", fgColor="FCE4D6")
    for col in range(1, count + 1):
        cell = sheet.cell(row=1, column=col)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
    sheet.freeze_panes = "A2"


def build_template(lt: LedgerType, orgs: Iterable[Any]) -> bytes:
    """The ledger's template: header, instruction row, example row, dropdowns, date columns, widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    fields = columns(lt)
    book = Workbook()
    sheet = book.active
    sheet.title = lt.label[:31]
    lists = book.create_sheet("选项")  # dropdown sources: a list can be longer than the 255 characters inline
    lists.sheet_state = "hidden"
    org_names = [o.name for o in orgs]

    heads = [f"{ORG_HEADER}*", *[header(f) for f in fields]]
    notes = [f"{INSTRUCTION_MARK}从下拉列表选择本单位", *[instruction(f) for f in fields]]
    examples: list[Any] = [
        f"{EXAMPLE_MARK}{org_names[0] if org_names else '本单位'}",
        *[example(f) for f in fields],
    ]
    sheet.append(heads)
    sheet.append([neutralise(n) for n in notes])
    sheet.append([neutralise(e) for e in examples])
    _style_header(sheet, len(heads))
    grey = Font(color="808080", italic=True)
    for row in (2, 3):
        for col in range(1, len(heads) + 1):
            sheet.cell(row=row, column=col).font = grey
            sheet.cell(row=row, column=col).alignment = Alignment(wrap_text=row == 2, vertical="top")

    first, last = 4, 3 + TEMPLATE_ROWS
    sources = [(0, org_names)] + [
        (i, ["是", "否"] if f.type == FieldType.BOOL else list(f.choices))
        for i, f in enumerate(fields, start=1)
        if f.type in (FieldType.CHOICE, FieldType.BOOL)
    ]
    for n, (index, options) in enumerate(sources, start=1):
        if not options:
            continue
        letter = get_column_letter(n)
        for r, option in enumerate(options, start=1):
            lists.cell(row=r, column=n, value=neutralise(option))
        target = get_column_letter(index + 1)
        dv = DataValidation(
            type="list",
            formula1=f"'选项'!${letter}$1:${letter}${len(options)}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="请从列表中选择",
            error="请从下拉列表中选择一项",
        )
        dv.add(f"{target}{first}:{target}{last}")
        sheet.add_data_validation(dv)

    widths = [_width([ORG_HEADER, *org_names[:50]])] + [
        _width([header(f), str(example(f)), instruction(f)[:24]]) for f in fields
    ]
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    for col, f in enumerate(fields, start=2):
        if f.type == FieldType.DATE:
            for row in range(3, last + 1):
                sheet.cell(row=row, column=col).number_format = DATE_FORMAT
    sheet.row_dimensions[2].height = 48
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- export ------------------------------------------------------------------------------------------------


def _export_value(field: LedgerField, value: Any) -> Any:
    if value is None or value == "":
        return None
    if field.type == FieldType.DATE:
        try:
            return dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            return neutralise(str(value))
    if field.type == FieldType.INTEGER and isinstance(value, int) and not isinstance(value, bool):
        return value
    if field.type in (FieldType.DECIMAL, FieldType.MONEY):
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return neutralise(str(value))
    return neutralise(display_value(field, value))


STATE_HEADER = "状态"  # the exported state of a list ledger's item (set only by its workflow, never imported)


def export_records(lt: LedgerType, records: Iterable[Record], masked: Any, mask: str) -> bytes:
    """The records as xlsx under the template's header. `masked(record)` says whether to hide sensitive values.

    A write-only workbook streams rows out, so exporting 100,000 records does not hold them all as cells.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    fields = columns(lt)
    # A list ledger's items carry a state: exported as the last column, for 对账; import knows and skips it.
    listed = bool(lt.workflow)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(lt.label[:31])
    sheet.freeze_panes = "A2"
    widths = (
        [_width([ORG_HEADER, "中共城关街道幸福社区委员会"])]
        + [_width([header(f), str(example(f))]) for f in fields]
        + ([_width([STATE_HEADER, "整改中"])] if listed else [])
    )
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    bold = Font(bold=True)
    heads = []
    for text in [f"{ORG_HEADER}*", *[header(f) for f in fields], *([STATE_HEADER] if listed else [])]:
        cell = WriteOnlyCell(sheet, value=neutralise(text))
        cell.font = bold
        heads.append(cell)
    sheet.append(heads)
    for record in records:
        hide = masked(record)
        row: list[Any] = [neutralise(record.org.name)]
        for f in fields:
            value = record.values.get(f.code)
            if hide and f.sensitive and value not in (None, ""):
                row.append(mask)
                continue
            value = _export_value(f, value)
            if isinstance(value, dt.date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = DATE_FORMAT
                value = cell
            row.append(value)
        if listed:
            row.append(neutralise(record.status))
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- checking and reading an upload -------------------------------------------------------------------------


def max_bytes() -> int:
    return int(settings.MAX_IMPORT_MB) * 1024 * 1024


def check_file(path: Path, name: str) -> str:
    """Refuse what is not a spreadsheet we read, too large, or a decompression bomb; return the suffix."""
    suffix = Path(name).suffix.lower()
    if suffix not in EXTENSIONS:
        raise FileRefused(f"文件“{name}”不是 Excel 表格，请上传 .xlsx、.xls 或 .ods 文件")
    size = path.stat().st_size
    if size > max_bytes():
        raise FileRefused(f"文件“{name}”超过 {settings.MAX_IMPORT_MB} MB 的大小限制，请分成几个文件导入")
    with path.open("rb") as fh:
        magic = fh.read(8)
    if suffix == ".xls":
        if not magic.startswith(b"\xd0\xcf\x11\xe0"):
            raise FileRefused(f"文件“{name}”不是有效的 Excel 文件（可能是改了扩展名的其他文件）")
        return suffix
    if not magic.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(path):
        raise FileRefused(f"文件“{name}”不是有效的 Excel 文件（可能是改了扩展名的其他文件）")
    _check_zip(path, name, suffix)
    return suffix


def _check_zip(path: Path, name: str, suffix: str) -> None:
    # Sizes come from the zip's directory: nothing is decompressed before they are judged.
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        names = {i.filename for i in infos}
    total = sum(i.file_size for i in infos)
    packed = max(sum(i.compress_size for i in infos), 1)
    limit = max_bytes() * 20
    if total > limit or (total > 10 * 1024 * 1024 and total / packed > MAX_RATIO):
        raise FileRefused(f"文件“{name}”解压后异常巨大（{total // 1024 // 1024} MB），疑似压缩炸弹，已拒绝")
    wanted = "xl/workbook.xml" if suffix == ".xlsx" else "content.xml"
    if wanted not in names:
        raise FileRefused(f"文件“{name}”不是有效的 Excel 文件（缺少工作簿内容）")


class Sheet:
    """One worksheet's rows (the first unless `index` says), read lazily: `rows()` yields (Excel row number,
    values by column from A)."""

    def __init__(self, path: Path, suffix: str, engine: str = "auto", index: int = 0) -> None:
        self.path, self.suffix, self.index = path, suffix, index
        self.engine = reader_engine(suffix, engine)
        self.total = 0

    def rows(self) -> Generator[tuple[int, list[Any]]]:
        if self.engine == "calamine":
            yield from self._calamine()
        else:
            yield from self._openpyxl()

    def _calamine(self) -> Iterator[tuple[int, list[Any]]]:
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_path(str(self.path))
            sheet = book.get_sheet_by_index(self.index)
        except Exception as exc:  # calamine raises its own error types for broken files
            raise FileRefused(f"无法读取该表格：{exc}") from None
        self.total = sheet.end[0] + 1 if sheet.end else 0
        lead = [None] * (sheet.start[1] if sheet.start else 0)  # calamine drops empty leading columns
        # Leading empty rows are kept by iter_rows, so the index is the Excel row number less one.
        for index, values in enumerate(sheet.iter_rows()):
            yield index + 1, [*lead, *(_plain(v) for v in values)]

    def _openpyxl(self) -> Iterator[tuple[int, list[Any]]]:
        from openpyxl import load_workbook

        try:
            book = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # a zip that is not a workbook
            raise FileRefused(f"无法读取该表格：{exc}") from None
        try:
            sheet = book.worksheets[self.index]
            self.total = sheet.max_row or 0
            for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield index, [_plain(v) for v in values]
        finally:
            book.close()


def worksheets(path: Path, suffix: str, engine: str = "auto") -> list[tuple[int, str]]:
    """The workbook's visible worksheets as (index for Sheet, name), in order. Hidden sheets (a template's 选项)
    and chart sheets are left out."""
    if reader_engine(suffix, engine) == "calamine":
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_path(str(path))
        except Exception as exc:  # calamine raises its own error types for broken files
            raise FileRefused(f"无法读取该表格：{exc}") from None
        return [
            (i, meta.name)
            for i, meta in enumerate(book.sheets_metadata)
            if str(meta.visible).endswith(".Visible") and str(meta.typ).endswith(".WorkSheet")
        ]
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True)
    except Exception as exc:  # a zip that is not a workbook
        raise FileRefused(f"无法读取该表格：{exc}") from None
    try:
        return [(i, ws.title) for i, ws in enumerate(wb.worksheets) if ws.sheet_state == "visible"]
    finally:
        wb.close()


def reader_engine(suffix: str, engine: str = "auto") -> str:
    """Which library reads a file: openpyxl only for .xlsx (when asked, or when calamine is missing); calamine
    for everything else, and for .xls and .ods always."""
    if suffix == ".xlsx" and (engine == "openpyxl" or (engine == "auto" and not _has_calamine())):
        return "openpyxl"
    return "calamine"


def _has_calamine() -> bool:
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return False
    return True


def _plain(value: Any) -> Any:
    """Cell values as a clerk meant them: 5.0 from a number cell is 5, "" is empty, datetimes at midnight are dates."""
    if value == "" or value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return value
