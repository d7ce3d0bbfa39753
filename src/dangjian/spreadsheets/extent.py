"""How far a worksheet really reaches, found by streaming the file before any reader builds its grid.

python-calamine builds a dense grid from the first to the last cell that holds a value: an .xlsx of 2 KB with
values only at A1 and XFD1048576 asks for 17 billion cells (about 550 GB) and the process aborts; an .xls with
cells at A1 and IV65536 takes 1 GB. openpyxl pads every row to the width the file declares. So before either
reads a sheet, its cells are streamed once — the sheet's XML (.xlsx, .ods) or its BIFF records (.xls) — keeping
nothing but the furthest row and column that hold something, and the scan stops as soon as they pass the bounds:
a refused file costs no more than reading up to the bound.

The scan counts every cell a reader could keep (a value, an inline string, a formula), so the box it finds is
never smaller than the reader's. Empty cells that carry only a style are left out, as the readers leave them out.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

CHUNK = 256 * 1024
_REF = re.compile(r"\$?([A-Za-z]{1,7})\$?([0-9]{1,9})")


@dataclass(frozen=True)
class Bounds:
    rows: int
    columns: int
    cells: int  # rows × columns of the box


@dataclass
class Extent:
    """The box from A1 to (rows, columns); `far` is the cell that pushed it furthest, as Excel names it."""

    rows: int = 0
    columns: int = 0
    far: str = ""
    over: bool = False  # the scan stopped early: the box passes the bounds

    def note(self, row: int, column: int, bounds: Bounds) -> None:
        if row > self.rows or column > self.columns:
            self.rows, self.columns = max(row, self.rows), max(column, self.columns)
            self.far = cell_name(row, column)
            if (
                self.rows > bounds.rows
                or self.columns > bounds.columns
                or self.rows * self.columns > bounds.cells
            ):
                self.over = True
                raise _Stop


class _Stop(Exception):
    """Ends a scan early (from inside a parser callback)."""


class Unreadable(Exception):
    """The file's structure is broken; the caller words it for the user."""


def cell_name(row: int, column: int) -> str:
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


def sheet_extent(path: Path, name: str, bounds: Bounds) -> Extent:
    """The extent of the .xlsx worksheet called `name` (readers of .xlsx open one sheet at a time)."""
    extent = Extent()
    with contextlib.suppress(_Stop):
        _xlsx(path, name, extent, bounds)
    return extent


def workbook_extents(path: Path, suffix: str, bounds: Bounds) -> list[tuple[str, Extent]]:
    """(name, extent) of every sheet of an .ods or .xls, in the workbook's order — calamine reads all of them as
    soon as it opens such a file. The scan stops at the first sheet past the bounds, which is then the last."""
    sheets: list[tuple[str, Extent]] = []
    with contextlib.suppress(_Stop):
        if suffix == ".xls":
            _xls(path, sheets, bounds)
        else:
            _ods(path, sheets, bounds)
    return sheets


# --- XML (xlsx and ods) --------------------------------------------------------------------------------------


def _parser(namespaces: bool = True) -> Any:
    parser = expat.ParserCreate(namespace_separator="}" if namespaces else None)

    def no_dtd(*_: Any) -> None:  # spreadsheets never carry a DTD; entity tricks are refused outright
        raise Unreadable("DTD")

    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    return parser


def _feed(parser: Any, stream: IO[bytes]) -> None:
    while chunk := stream.read(CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _xlsx_part(archive: zipfile.ZipFile, name: str) -> str:
    """The zip member of the worksheet called `name`, through xl/workbook.xml and its relationships."""
    wanted: list[str] = []
    targets: dict[str, str] = {}

    def sheet(tag: str, attrs: dict[str, str]) -> None:
        if _local(tag) == "sheet" and attrs.get("name") == name:
            wanted.extend(v for k, v in attrs.items() if _local(k) == "id" and "relationships" in k)

    def relation(tag: str, attrs: dict[str, str]) -> None:
        if _local(tag) == "Relationship":
            targets[attrs.get("Id", "")] = attrs.get("Target", "")

    for member, handler in (("xl/workbook.xml", sheet), ("xl/_rels/workbook.xml.rels", relation)):
        parser = _parser()
        parser.StartElementHandler = handler
        with archive.open(member) as stream:
            _feed(parser, stream)
    target = targets.get(wanted[0], "") if wanted else ""
    if not target:
        raise Unreadable(f"no worksheet part for {name!r}")
    part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    return part


def _xlsx(path: Path, name: str, extent: Extent, bounds: Bounds) -> None:
    with zipfile.ZipFile(path) as archive:
        part = _xlsx_part(archive, name)
        if part.startswith("xl/chartsheets/"):
            return  # a chart sheet has no cells
        with archive.open(part) as stream:
            if _xlsx_written_plainly(stream, extent, bounds):
                return
        extent.rows = extent.columns = 0
        extent.far = ""
        _xlsx_elements(archive, part, extent, bounds)


# Every cell as Excel, WPS, openpyxl and most writers put it: no prefix, its reference first, in capitals.
_PLAIN_COLUMN = re.compile(rb'<c r="([A-Z]{1,7})[0-9]{1,9}"')  # two passes of one group each: quicker than
_PLAIN_ROW = re.compile(rb'<c r="[A-Z]{1,7}([0-9]{1,9})"')  # one of two groups and splitting its pairs
_OTHER_C_TAG = re.compile(rb"<c[^\s>/]")  # <col>, <cfRule>, <cellWatch> …: elements that are not cells
_PREFIXED_CELL = re.compile(rb"<[A-Za-z_][\w.-]*:c[\s>/]")
PLAIN_CHUNK = 8 * 1024 * 1024
PLAIN_CARRY = 32 * 1024 * 1024


def _xlsx_written_plainly(stream: IO[bytes], extent: Extent, bounds: Bounds) -> bool:
    """The fast scan, at the speed of the regular-expression engine rather than one Python call per element.

    When every cell of the sheet is written `<c r="B7" …>` (as Excel, WPS and openpyxl write them), the cells'
    references alone give a box that holds every cell — valued or only styled — so it is never smaller than the
    readers'. True when that box is within the bounds: the sheet is safe to read. False when some cell is written
    otherwise (no reference, a prefix, other quoting or attribute order) or the box passes the bounds: then the
    element-by-element scan, which leaves styled empty cells out as the readers do, decides and names the cell.
    Whatever the text holds (a comment, a CDATA section) can only add references, never hide one. The sheet is
    read in chunks cut after a row's end, so no cell is split."""
    carry = b""
    first = True
    while True:
        chunk = stream.read(PLAIN_CHUNK)
        data = carry + chunk
        if first:
            first = False
            if b"<!DOCTYPE" in data[:4096]:
                raise Unreadable("DTD")
        if chunk:
            cut = data.rfind(b"</row>")
            if cut < 0:
                if len(data) > PLAIN_CARRY:
                    return False  # one row longer than a chunk: not a sheet this path is for
                carry = data
                continue
            cut += len(b"</row>")
            data, carry = data[:cut], data[cut:]
        if not _plain_chunk(data, extent, bounds):
            return False
        if not chunk:
            return True


def _plain_chunk(data: bytes, extent: Extent, bounds: Bounds) -> bool:
    letters = _PLAIN_COLUMN.findall(data)
    tags = data.count(b"<c") - len(_OTHER_C_TAG.findall(data))
    if tags != len(letters) or (b":c" in data and _PREFIXED_CELL.search(data)):
        return False
    if not letters:
        return True
    digits = _PLAIN_ROW.findall(data)
    if len(digits) != len(letters):
        return False
    columns = {_column_number(col.decode()) for col in set(letters)}
    numbers = set(digits)
    longest = max(map(len, numbers))
    rows = int(max(num for num in numbers if len(num) == longest))
    box = Extent(max(rows, extent.rows), max(max(columns), extent.columns))
    if box.rows > bounds.rows or box.columns > bounds.columns or box.rows * box.columns > bounds.cells:
        return False
    extent.rows, extent.columns = box.rows, box.columns
    extent.far = cell_name(box.rows, box.columns)
    return True


def _xlsx_elements(archive: zipfile.ZipFile, part: str, extent: Extent, bounds: Bounds) -> None:
    """Cells are <c> in <row> in <sheetData>; a cell holds something when it has a child (<v>, <is>, <f>).
    This runs once per element of the sheet, so it is kept lean: names as written (a prefix such as "x:" is
    stripped only when there is one), and nesting followed by depth alone."""
    parser = _parser(namespaces=False)  # the cheapest callbacks: the sheet may hold millions of elements
    depth = data_depth = row_depth = cell_depth = 0  # where sheetData, the row and the cell opened (0: not)
    row = column = cell_row = cell_column = 0
    counted = False

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth, data_depth, row_depth, cell_depth, row, column, cell_row, cell_column, counted
        depth += 1
        if cell_depth:
            if not counted and depth == cell_depth + 1:  # <v>, <is> or <f>: the cell holds something
                counted = True
                if cell_row > extent.rows or cell_column > extent.columns:
                    extent.note(cell_row, cell_column, bounds)
            return
        local = tag if ":" not in tag else tag.rpartition(":")[2]
        if local == "c" and row_depth and depth == row_depth + 1:
            cell_depth, counted = depth, False
            ref = attrs.get("r")
            if ref:
                match = _REF.fullmatch(ref)
                if not match:
                    raise Unreadable(f"cell reference {ref!r}")
                cell_row, cell_column = int(match[2]), _column_number(match[1])
            else:  # a cell without a reference follows the previous one in its row
                cell_row, cell_column = row, column + 1
            column = cell_column
        elif local == "row" and data_depth and depth == data_depth + 1:
            row_depth, column = depth, 0
            row = int(attrs["r"]) if attrs.get("r") else row + 1
        elif local == "sheetData" and not data_depth:
            data_depth = depth

    def end(tag: str) -> None:
        nonlocal depth, row_depth, cell_depth
        if depth == cell_depth:
            cell_depth = 0
        elif depth == row_depth:
            row_depth = 0
        elif depth == data_depth:
            raise _Stop  # the rest of the sheet holds no cells
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    with archive.open(part) as stream:
        _feed(parser, stream)


_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_CELLS = (_TABLE + "table-cell", _TABLE + "covered-table-cell")


def _repeat(attrs: dict[str, str], key: str) -> int:
    return max(int(attrs.get(_TABLE + key, "1")), 1)


def _ods(path: Path, sheets: list[tuple[str, Extent]], bounds: Bounds) -> None:
    """Rows and cells of .ods repeat (table:number-rows-repeated, number-columns-repeated): a repeated block
    that holds a value reaches to its last copy."""
    with zipfile.ZipFile(path) as archive:
        parser = _parser()
        depth = table_depth = row_depth = cell_depth = 0
        row = column = rows_repeated = columns_repeated = 0
        valued = False
        extent = Extent()

        def start(tag: str, attrs: dict[str, str]) -> None:
            nonlocal depth, table_depth, row_depth, cell_depth, row, column, rows_repeated, columns_repeated
            nonlocal valued, extent
            depth += 1
            if not table_depth:
                if tag == _TABLE + "table":
                    table_depth, row, extent = depth, 0, Extent()
                    sheets.append((attrs.get(_TABLE + "name", ""), extent))
                return
            if cell_depth:
                valued = True  # <text:p> and the like: the cell shows something
                return
            if tag == _TABLE + "table-row":
                row_depth, column, rows_repeated = depth, 0, _repeat(attrs, "number-rows-repeated")
            elif tag in _CELLS and row_depth and depth == row_depth + 1:
                cell_depth, columns_repeated = depth, _repeat(attrs, "number-columns-repeated")
                valued = any(k.startswith(_OFFICE) for k in attrs) or _TABLE + "formula" in attrs

        def end(tag: str) -> None:
            nonlocal depth, table_depth, row_depth, cell_depth, row, column
            if table_depth and depth == cell_depth:
                if valued:
                    extent.note(row + rows_repeated, column + columns_repeated, bounds)
                column += columns_repeated
                cell_depth = 0
            elif table_depth and depth == row_depth:
                row += rows_repeated
                row_depth = 0
            elif depth == table_depth:
                table_depth = 0
            depth -= 1

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        with archive.open("content.xml") as stream:
            _feed(parser, stream)


# --- BIFF (xls) ------------------------------------------------------------------------------------------------

_BOF, _EOF, _BOUNDSHEET, _FILEPASS, _CODEPAGE = 0x0809, 0x000A, 0x0085, 0x002F, 0x0042
# Records that put a value in one cell: FORMULA, NUMBER, RK, LABELSST, LABEL, RSTRING, BOOLERR (row, column first).
_CELL_RECORDS = frozenset({0x0006, 0x0203, 0x027E, 0x00FD, 0x0204, 0x00D6, 0x0205})
_MULRK = 0x00BD  # several RK values in a row: row, first column, …, last column
_HEAD = struct.Struct("<HH")


class Encrypted(Unreadable):
    pass


def _records(data: bytes, pos: int) -> Any:
    while pos + 4 <= len(data):
        kind, length = _HEAD.unpack_from(data, pos)
        yield kind, data[pos + 4 : pos + 4 + length]
        pos += 4 + length


def _xls(path: Path, sheets: list[tuple[str, Extent]], bounds: Bounds) -> None:
    import olefile

    with olefile.OleFileIO(str(path)) as ole:
        stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
        if stream is None:
            raise Unreadable("no workbook stream")
        data = ole.openstream(stream).read()
    if len(data) < 6 or _HEAD.unpack_from(data)[0] != _BOF or data[4:6] not in (b"\x00\x06", b"\x00\x05"):
        raise Unreadable("not BIFF5 or BIFF8")  # Excel 2.x-4.0 files: too old to be read as they are
    biff8, codepage = data[4:6] == b"\x00\x06", 1252
    listed: list[tuple[str, int]] = []
    for kind, body in _records(data, 0):
        if kind == _FILEPASS:
            raise Encrypted("password")
        elif kind == _CODEPAGE and len(body) >= 2:
            codepage = struct.unpack_from("<H", body)[0]
        elif kind == _BOUNDSHEET and len(body) >= 8:
            listed.append((_sheet_name(body[6:], biff8, codepage), struct.unpack_from("<I", body)[0]))
        elif kind == _EOF:
            break
    for name, offset in listed:
        extent = Extent()
        sheets.append((name, extent))
        depth = 0
        for kind, body in _records(data, offset):
            if kind == _BOF:
                depth += 1
            elif kind == _EOF:
                depth -= 1
                if depth <= 0:
                    break
            elif kind in _CELL_RECORDS and len(body) >= 4:
                row, column = _HEAD.unpack_from(body)
                extent.note(row + 1, column + 1, bounds)
            elif kind == _MULRK and len(body) >= 6:
                row, first = _HEAD.unpack_from(body)
                last = struct.unpack_from("<H", body, len(body) - 2)[0]
                extent.note(row + 1, max(first, last) + 1, bounds)


def _sheet_name(body: bytes, biff8: bool, codepage: int) -> str:
    """BOUNDSHEET's name: BIFF8 stores UTF-16 (or its low bytes when all are Latin-1), BIFF5 the codepage's."""
    count = body[0] if body else 0
    if not biff8:
        encoding = "utf-16-le" if codepage == 1200 else f"cp{codepage}"
        try:
            return body[1 : 1 + count].decode(encoding, "replace")
        except LookupError:
            return body[1 : 1 + count].decode("latin-1")
    if len(body) >= 2 and body[1] & 1:
        return body[2 : 2 + 2 * count].decode("utf-16-le", "replace")
    return body[2 : 2 + count].decode("latin-1")
