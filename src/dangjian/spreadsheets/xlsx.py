"""Spreadsheets in and out: ledger templates, exports, checking an upload, and reading its rows lazily.

The template's header (field labels, required ones marked *) is also the export's header, so an exported file
imports as it is. Every cell written from user data goes through `neutralise` (the evidence xlsx uses it too).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import re
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings

from dangjian.orgs.access import MASK, Scope
from dangjian.records import schemas as record_schemas
from dangjian.records.fields import display_value
from dangjian.records.models import FieldType, LedgerField, LedgerType, Record
from dangjian.text import xml_safe

from .extent import Bounds, Encrypted, Extent, sheet_extent, workbook_extents

logger = logging.getLogger(__name__)

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
# Bounds of what an import reads. Rows come from DANGJIAN_MAX_IMPORT_ROWS; up to HEAD_ROWS more above the data
# hold titles, the header and the template's instruction and example. The readers build a grid of the sheet's
# rows × columns, so its area is bounded too (CELLS_PER_ROW cells a row on average: 5 million by default).
MAX_COLUMNS = 256
HEAD_ROWS = 10
CELLS_PER_ROW = 25
UNREADABLE = (
    "文件已损坏或不是有效的 Excel 文件，无法读取。可以用 Excel 或 WPS 打开它，另存为 .xlsx 后重新导入。"
)
ENCRYPTED = "文件设置了打开密码，无法读取。请在 Excel 或 WPS 中取消密码后重新导入。"


class FileRefused(Exception):
    """The file as a whole is not importable; the message is for the user as it is."""


def neutralise(value: Any) -> Any:
    """The one cleaner of text cells written to a spreadsheet: characters XML cannot hold (control characters
    such as \\x01, which openpyxl refuses to save) are removed, and a cell that a spreadsheet would run as a
    formula gets a leading apostrophe (CSV/xlsx injection)."""
    if not isinstance(value, str):
        return value
    value = xml_safe(value)
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def sheet_title(text: str) -> str:
    """A worksheet name Excel accepts: without []:*?/\\ and control characters, at most 31 characters."""
    title = re.sub(r"[\[\]:*?/\\]", "", neutralise(text).lstrip("'")).strip()[:31]
    return title or "Sheet1"


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
    sheet.title = sheet_title(lt.label)
    lists = book.create_sheet("选项")  # dropdown sources: a list can be longer than the 255 characters inline
    lists.sheet_state = "hidden"
    org_names = [o.name for o in orgs]

    heads = [f"{ORG_HEADER}*", *[header(f) for f in fields]]
    notes = [f"{INSTRUCTION_MARK}从下拉列表选择本单位", *[instruction(f) for f in fields]]
    examples: list[Any] = [
        f"{EXAMPLE_MARK}{org_names[0] if org_names else '本单位'}",
        *[example(f) for f in fields],
    ]
    sheet.append(
        [neutralise(h) for h in heads]
    )  # labels are data too (an import reads them back unneutralised)
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


@dataclass(frozen=True)
class Column:
    """One column of an exported table: its Chinese title, and where its cells come from in a resource's row as
    the resource's schema dumps it (the row its JSON twin and the API give) — a key, dotted for a nested object
    ("org.name"), or a function of the row (a value in Chinese words: 是/否, 2019年3月5日 …).

    Each resource keeps its columns next to its schema (e.g. `lists.schemas.ITEM_COLUMNS`), so an export shows
    the same values as the twin, under Chinese titles; `table` turns the rows into cells."""

    title: str
    source: str | Callable[[dict[str, Any]], Any]

    def value(self, row: dict[str, Any]) -> Any:
        if callable(self.source):
            return self.source(row)
        value: Any = row
        for part in self.source.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value


def table(columns: Iterable[Column], rows: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    """The header, then each dumped row's cells, for `sheet.append`. Every cell goes through `neutralise`."""
    columns = list(columns)
    yield [neutralise(c.title) for c in columns]
    for row in rows:
        yield [neutralise(c.value(row)) for c in columns]


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


def export_records(lt: LedgerType, records: Iterable[Record], scope: Scope) -> bytes:
    """The records as xlsx under the template's header (so the file imports as it is): each record as the twin's
    `records.schemas.RecordOut` gives it — its unit, its values as `scope` shows them (sensitive ones masked) and
    a list item's state — one column per field the template carries.

    A write-only workbook streams rows out, so exporting 100,000 records does not hold them all as cells.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    fields = columns(lt)
    sensitive = record_schemas.sensitive_codes(lt)
    # A list ledger's items carry a state: exported as the last column, for 对账; import knows and skips it.
    listed = bool(lt.workflow)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title(lt.label))
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
        out = record_schemas.record_out(scope, record, sensitive)
        row: list[Any] = [neutralise(out["org"]["name"])]
        for f in fields:
            value = out["values"].get(f.code)
            if f.code in sensitive and value == MASK:
                row.append(value)
                continue
            value = _export_value(f, value)
            if isinstance(value, dt.date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = DATE_FORMAT
                value = cell
            row.append(value)
        if listed:
            row.append(neutralise(out["status"]))
        sheet.append(row)
    out_file = io.BytesIO()
    book.save(out_file)
    return out_file.getvalue()


# --- checking and reading an upload -------------------------------------------------------------------------


def max_bytes() -> int:
    return int(settings.MAX_IMPORT_MB) * 1024 * 1024


def max_rows() -> int:
    """Data rows one import reads at most (DANGJIAN_MAX_IMPORT_ROWS)."""
    return int(settings.MAX_IMPORT_ROWS)


def bounds() -> Bounds:
    return Bounds(rows=max_rows() + HEAD_ROWS, columns=MAX_COLUMNS, cells=max_rows() * CELLS_PER_ROW)


def unreadable(exc: BaseException) -> FileRefused:
    """A reader's own error (zip, XML, CFB …, in English) as the one Chinese message the user sees."""
    if isinstance(exc, FileRefused):
        return exc
    # INFO, not WARNING: the command line prints warnings, and users see only Chinese (DANGJIAN_LOG_LEVEL=INFO
    # shows the reader's own words to whoever runs the server).
    logger.info("unreadable spreadsheet: %s: %s", type(exc).__name__, exc)
    if isinstance(exc, Encrypted) or type(exc).__name__ == "PasswordError":
        return FileRefused(ENCRYPTED)
    return FileRefused(UNREADABLE)


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
    if suffix == ".xlsx" and magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(f"文件“{name}”{ENCRYPTED}")  # Excel wraps a password-protected .xlsx in CFB
    if not magic.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(path):
        raise FileRefused(f"文件“{name}”不是有效的 Excel 文件（可能是改了扩展名的其他文件）")
    _check_zip(path, name, suffix)
    return suffix


def _check_zip(path: Path, name: str, suffix: str) -> None:
    # Sizes come from the zip's directory: nothing is decompressed before they are judged.
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except Exception as exc:  # a damaged directory: zipfile's message is English
        raise unreadable(exc) from None
    names = {i.filename for i in infos}
    total = sum(i.file_size for i in infos)
    packed = max(sum(i.compress_size for i in infos), 1)
    limit = max_bytes() * 20
    if total > limit or (total > 10 * 1024 * 1024 and total / packed > MAX_RATIO):
        raise FileRefused(f"文件“{name}”解压后异常巨大（{total // 1024 // 1024} MB），疑似压缩炸弹，已拒绝")
    wanted = "xl/workbook.xml" if suffix == ".xlsx" else "content.xml"
    if wanted not in names:
        raise FileRefused(f"文件“{name}”不是有效的 Excel 文件（缺少工作簿内容）")


def check_extent(extent: Extent, sheet: str) -> None:
    """Refuse a sheet whose cells reach past the bounds, naming the furthest cell found."""
    if not extent.over:
        return
    from openpyxl.utils import get_column_letter

    limit, where = bounds(), f"工作表“{sheet}”"
    if extent.columns > limit.columns:
        raise FileRefused(
            f"{where}的单元格 {extent.far} 有内容，超出了导入能读取的范围（最多 {limit.columns} 列，"
            f"即到 {get_column_letter(limit.columns)} 列）。请删除右侧多余的列，或只把要导入的数据复制到新文件后重新导入。"
        )
    if extent.rows > limit.rows:
        raise FileRefused(
            f"{where}在第 {limit.rows} 行以下还有内容（如单元格 {extent.far}），超过了每次最多导入 {max_rows()} 行的上限。"
            "请删除多余的行，或分成几个文件导入。"
        )
    raise FileRefused(
        f"{where}的内容范围到单元格 {extent.far}（{extent.rows} 行 × {extent.columns} 列），超过了一次导入最多 "
        f"{limit.cells} 个单元格的上限。请删除多余的行列，或分成几个文件导入。"
    )


class Sheet:
    """One worksheet's rows (the first unless `index` says), read lazily: `rows()` yields (Excel row number,
    values by column from A).

    Before a reader opens the sheet, its extent is scanned (see `extent`) and a sheet reaching past the bounds is
    refused, so no reader ever builds a grid larger than the bounds. Any error of the readers becomes one Chinese
    `FileRefused`."""

    def __init__(self, path: Path, suffix: str, engine: str = "auto", index: int = 0) -> None:
        self.path, self.suffix, self.index = path, suffix, index
        self.engine = reader_engine(suffix, engine)
        self.total = 0
        self.extent = Extent()

    def rows(self) -> Generator[tuple[int, list[Any]]]:
        try:
            if self.engine == "calamine":
                yield from self._calamine()
            else:
                yield from self._openpyxl()
        except Exception as exc:  # zip, XML and CFB errors surface while reading, not only on opening
            raise unreadable(exc) from None

    def _bounded(self, name: str) -> Extent:
        if self.suffix in EAGER:
            self.extent = checked_workbook(self.path, self.suffix)[self.index]
        else:
            self.extent = _sheet_extent(self.path, name, bounds())
            check_extent(self.extent, name)
        return self.extent

    def _calamine(self) -> Iterator[tuple[int, list[Any]]]:
        from python_calamine import CalamineWorkbook

        checked_workbook(self.path, self.suffix)  # before calamine reads every sheet of an .xls or .ods
        book = CalamineWorkbook.from_path(str(self.path))
        try:
            self._bounded(book.sheet_names[self.index])
            sheet = book.get_sheet_by_index(self.index)
            self.total = sheet.end[0] + 1 if sheet.end else 0
            lead = [None] * (sheet.start[1] if sheet.start else 0)  # calamine drops empty leading columns
            # Leading empty rows are kept by iter_rows, so the index is the Excel row number less one.
            plain = _plain
            for index, values in enumerate(sheet.iter_rows(), start=1):
                yield index, [*lead, *map(plain, values)] if lead else list(map(plain, values))
        finally:
            book.close()

    def _openpyxl(self) -> Iterator[tuple[int, list[Any]]]:
        from openpyxl import load_workbook

        book = load_workbook(self.path, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[self.index]
            extent = self._bounded(sheet.title)
            self.total = extent.rows
            if not extent.rows:
                return
            # The scanned extent, not the width the file declares: openpyxl pads every row to max_col.
            rows = sheet.iter_rows(max_row=extent.rows, max_col=extent.columns, values_only=True)
            for index, values in enumerate(rows, start=1):
                yield index, [_plain(v) for v in values]
        finally:
            book.close()


EAGER = (".xls", ".ods")  # calamine reads every sheet of these as soon as it opens the file


def checked_workbook(path: Path, suffix: str) -> list[Extent]:
    """For an .xls or .ods, every sheet's extent (refusing the file if one passes the bounds); [] otherwise."""
    if suffix not in EAGER:
        return []
    sheets = _workbook_extents(path, suffix, bounds())
    for name, extent in sheets:
        check_extent(extent, name)
    return [extent for _, extent in sheets]


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


# Finding the sheet (up to SHEET_SCAN sheets), then importing it, would scan the same file again and again.
@functools.lru_cache(maxsize=8)
def _cached_workbook(stamp: tuple[str, int, int], suffix: str, limit: Bounds) -> list[tuple[str, Extent]]:
    return workbook_extents(Path(stamp[0]), suffix, limit)


@functools.lru_cache(maxsize=32)
def _cached_sheet(stamp: tuple[str, int, int], name: str, limit: Bounds) -> Extent:
    return sheet_extent(Path(stamp[0]), name, limit)


def _workbook_extents(path: Path, suffix: str, limit: Bounds) -> list[tuple[str, Extent]]:
    return _cached_workbook(_stamp(path), suffix, limit)


def _sheet_extent(path: Path, name: str, limit: Bounds) -> Extent:
    return _cached_sheet(_stamp(path), name, limit)


def worksheets(path: Path, suffix: str, engine: str = "auto") -> list[tuple[int, str]]:
    """The workbook's visible worksheets as (index for Sheet, name), in order. Hidden sheets (a template's 选项)
    and chart sheets are left out."""
    try:
        return _worksheets(path, suffix, engine)
    except Exception as exc:  # a broken workbook: the readers' messages are English
        raise unreadable(exc) from None


def _worksheets(path: Path, suffix: str, engine: str) -> list[tuple[int, str]]:
    if reader_engine(suffix, engine) == "calamine":
        from python_calamine import CalamineWorkbook

        checked_workbook(path, suffix)
        with CalamineWorkbook.from_path(str(path)) as book:
            return [
                (i, meta.name)
                for i, meta in enumerate(book.sheets_metadata)
                if str(meta.visible).endswith(".Visible") and str(meta.typ).endswith(".WorkSheet")
            ]
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
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
    if value.__class__ is str:  # most cells: one test
        return value or None
    if value == "" or value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return value
