"""Importing a spreadsheet into a ledger: all or nothing, every error named by row and field.

The import reads the file and finds each row's unit; everything else is the write service's
(`records.services.Creation`): the field and cross-field rules, the 报送 locks, the initial workflow state, the
records and their history.

Two phases, so that an import never blocks other users' saves:
1. Checking reads the rows lazily and passes each to `Creation.check` — reads only, outside any transaction (on
   SQLite every transaction takes the write lock at once) — and looks for likely duplicates. Checked rows are
   spooled to an anonymous temporary file in batches, so memory stays bounded whatever the size.
2. If nothing is wrong, duplicates stored meanwhile are looked for once more and `Creation.write` writes the
   spooled rows in short transactions (it re-checks the 报送 locks in each, and deletes what earlier batches wrote
   if a later one fails): the import leaves every row or none.

Work is bounded: the sheet's extent (see `xlsx.Sheet`), the data rows (DANGJIAN_MAX_IMPORT_ROWS), the problems
listed (the first MAX_LISTED; all are counted) and the annotated error copy.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db.models import Q

from dangjian.audit.log import COMMAND_LINE, Action, record
from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.records.fields import is_empty, normalize_text
from dangjian.records.models import LedgerField, LedgerType, Record
from dangjian.records.services import Checked, Creation, NewRecord, Problem, RecordInvalid

from .xlsx import (
    EXAMPLE_MARK,
    HEAD_ROWS,
    INSTRUCTION_MARK,
    ORG_CODE,
    ORG_HEADER,
    STATE_HEADER,
    FileRefused,
    Sheet,
    check_file,
    columns,
    max_bytes,
    max_rows,
    neutralise,
    sheet_title,
    unneutralise,
    unreadable,
    worksheets,
)

POLICIES = ("refuse", "skip", "allow")  # what to do with likely duplicates
BATCH = 2000
HEADER_SCAN = HEAD_ROWS  # the header is looked for in this many rows from the top (title rows may come first)
MAX_LISTED = 1000  # errors (and duplicates) listed and marked in the error copy; all of them are counted
IN_PLACE_BYTES = 5 * 1024 * 1024  # an .xlsx whose sheets are smaller is marked in place, keeping its look
SHEET_SCAN = 20  # and in this many visible worksheets, from the first (a cover or 说明 sheet may come first)
Progress = Callable[[int, int], None]


@dataclass
class RowError:
    row: int
    column: int | None  # 1-based column in the user's sheet, when the error belongs to one cell
    label: str
    message: str

    def __str__(self) -> str:
        if self.label:
            return f"第{self.row}行【{self.label}】：{self.message}"
        return f"第{self.row}行：{self.message}"


@dataclass
class Duplicate:
    row: int
    other_row: int | None = None  # an earlier row of the same file
    record_id: int | None = None  # or a stored record

    def __str__(self) -> str:
        if self.other_row:
            return f"第{self.row}行：与第{self.other_row}行重复（同一单位、日期和关键字段）"
        return f"第{self.row}行：与已有记录 #{self.record_id} 重复（同一单位、日期和关键字段）"


@dataclass
class ImportResult:
    ledger: LedgerType
    policy: str = "refuse"
    rows: int = 0  # data rows read
    created: int = 0
    skipped: int = 0
    header_row: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_LISTED, in row order
    error_count: int = 0  # all of them
    duplicates: list[Duplicate] = field(default_factory=list)  # the first MAX_LISTED, in row order
    duplicate_count: int = 0
    message: str = ""  # the file as a whole was refused
    ignored_columns: list[str] = field(default_factory=list)  # header cells that name no field: not imported
    # The worksheet imported (its index for Sheet, and its name), and later sheets that also look like this
    # ledger's data but were not read.
    sheet_index: int = 0
    sheet_name: str = ""
    other_sheets: list[str] = field(default_factory=list)
    orgs: list[str] = field(default_factory=list)  # codes of the units whose records were written
    # rows that are a hand-kept sheet's furniture, not records: (row number, 合计行 | 签字栏 | 表注)
    furniture: list[tuple[int, str]] = field(default_factory=list)

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(error)

    def add_duplicate(self, duplicate: Duplicate) -> None:
        self.duplicate_count += 1
        if len(self.duplicates) < MAX_LISTED:
            self.duplicates.append(duplicate)

    @property
    def needs_choice(self) -> bool:
        """Nothing else is wrong, but duplicates were found and the user has not yet said what to do."""
        return (
            not self.message
            and not self.error_count
            and bool(self.duplicate_count)
            and self.policy == "refuse"
        )

    @property
    def ok(self) -> bool:
        return not self.message and not self.error_count and not self.needs_choice

    def lines(self) -> list[str]:
        """Every problem listed as one Chinese line, in row order (and a last line when more were counted)."""
        if self.message:
            return [self.message]
        out = [str(e) for e in self.errors]
        if self.error_count > len(self.errors):
            out.append(f"……共 {self.error_count} 处错误，以上列出前 {len(self.errors)} 处。")
        if self.needs_choice:
            out += [str(d) for d in self.duplicates]
            if self.duplicate_count > len(self.duplicates):
                out.append(
                    f"……共 {self.duplicate_count} 条疑似重复记录，以上列出前 {len(self.duplicates)} 条。"
                )
        return out

    def summary(self) -> str:
        if self.message:
            return f"导入失败：{self.message}"
        if self.error_count:
            return f"导入失败：共 {self.error_count} 处错误，未写入任何记录。请修改后重新导入。"
        if self.needs_choice:
            return (
                f"发现 {self.duplicate_count} 条疑似重复记录，未写入任何记录。请选择跳过重复记录或仍然导入。"
            )
        skipped = f"，跳过重复 {self.skipped} 条" if self.skipped else ""
        ignored = (
            f"注意：{_quoted(self.ignored_columns)}不是本台账的列，这些列的内容没有导入。"
            if self.ignored_columns
            else ""
        )
        other = (
            f"工作簿中的工作表{_quoted(self.other_sheets)}也像是本台账的数据，这次只导入了工作表“{self.sheet_name}”；"
            "要导入其他工作表，请再次上传同一文件并在“工作表”中填写其名称。"
            if self.other_sheets
            else ""
        )
        return f"导入成功：新增 {self.created} 条记录{skipped}。{self.furniture_note()}{ignored}{other}"

    def furniture_note(self) -> str:
        if not self.furniture:
            return ""
        shown = "、".join(f"第{row}行（{kind}）" for row, kind in self.furniture[:20])
        more = f"等 {len(self.furniture)} 行" if len(self.furniture) > 20 else ""
        return f"{shown}{more}不是记录，已跳过。"


# --- a hand-kept sheet's furniture: total rows, signature lines, notes under the table ---------------------------

TOTAL_WORDS = frozenset({"合计", "小计", "总计", "共计", "累计"})
SIGNATURE = re.compile(
    r"^(填表人|填报人|制表人|审核人|审批人|核对人|统计人|经办人|负责人|单位负责人|主要负责人|分管领导|联系人|联系电话|电话"
    r"|填表日期|填报日期|制表日期|审核日期|报送日期|单位[（(]?盖章[）)]?)[:：]"
)
NOTE = re.compile(r"^(注|备注|说明|填表说明|注意)[0-9０-９一二三四五六七八九十]*[:：.．、]")
FURNITURE_SCAN = 3  # a total row names itself in one of its first few filled cells (序号, 单位, …)


def furniture(cells: list[Any], date_cell: Any) -> str:
    """Is this row a hand-kept sheet's furniture rather than a record? "合计行" (合计/小计 … in one of its first
    cells, no date), "签字栏" (填表人：… 审核人：… 联系电话：…) or "表注" (注：… under the table, one or two cells);
    "" for a row to read as a record. Conservative on purpose: a row with a date in the date column is a record.
    Cheap for the common row: it looks at the first few filled cells only."""
    head: list[Any] = []
    for cell in cells:
        if cell is None or (cell.__class__ is str and not cell.strip()):
            continue
        head.append(normalize_text(cell).replace(" ", "") if cell.__class__ is str else cell)
        if len(head) == FURNITURE_SCAN:
            break
    if not head:
        return ""
    first = head[0]
    if first.__class__ is str:
        if SIGNATURE.match(first):
            return "签字栏"
        if NOTE.match(first) and sum(1 for c in cells if c is not None and not is_empty(c)) <= 2:
            return "表注"
    if date_cell is not None and not is_empty(date_cell):
        return ""
    if any(c.__class__ is str and c.rstrip(":：") in TOTAL_WORDS for c in head):
        return "合计行"
    return ""


def _cell(cells: list[Any], column: int | None) -> Any:
    """The cell of a 1-based column, None when the row is shorter or there is no such column."""
    return cells[column - 1] if column and column <= len(cells) else None


# --- headers -------------------------------------------------------------------------------------------------

_UNIT = re.compile(r"[（(][^）)]*[）)]$")


def _head_key(value: Any) -> str:
    # A header the template or an export wrote neutralised ("'@系列") names the same field as the label.
    text = normalize_text(unneutralise(value)) if value is not None else ""
    text = re.sub(r"\s+", "", text).strip("*")
    return _UNIT.sub("", text).strip("*").lower()


# A hand-kept sheet's row-number column: not a field, and not worth a warning when left out.
ROW_NUMBER_HEADS = frozenset({"序号", "编号", "No.", "NO."})


def _quoted(cells: list[str]) -> str:
    return "、".join(f"“{c}”" for c in cells[:10]) + (f" 等 {len(cells)} 列" if len(cells) > 10 else "")


# Headers read as the 填报单位 column besides its own name and code (what clerks write); a ledger field may not be
# labelled so (packs refuse it), or its own template could not be imported again.
ORG_ALIASES = ("单位", "单位名称")


def _header_names(fields: list[LedgerField], date_field: str = "") -> dict[str, str]:
    names = {_head_key(ORG_HEADER): ORG_CODE, ORG_CODE: ORG_CODE, **dict.fromkeys(ORG_ALIASES, ORG_CODE)}
    for f in fields:
        names.setdefault(_head_key(f.label), f.code)
        names.setdefault(_head_key(f.code), f.code)
    if date_field:
        # Sheets kept by hand head the ledger's date column “日期” or “时间”, whatever the field is called.
        for alias in ("日期", "时间"):
            names.setdefault(alias, date_field)
    return names


def _match(cells: list[Any], names: dict[str, str]) -> dict[int, str]:
    """Column index → field code for one candidate header row (the first column of a name wins)."""
    found: dict[int, str] = {}
    for i, cell in enumerate(cells):
        code = names.get(_head_key(cell)) if not is_empty(cell) else None
        if code and code not in found.values():
            found[i] = code
    return found


def _find_header(
    rows: Iterator[tuple[int, list[Any]]], names: dict[str, str], wanted: int
) -> tuple[int, dict[int, str], list[tuple[int, list[Any]]], list[Any]]:
    """(header row number, column map, rows read past the header, the header's cells) — the best match in the
    first rows."""
    head: list[tuple[int, list[Any]]] = []
    for item in rows:
        head.append(item)
        if len(head) >= HEADER_SCAN:
            break
    best: tuple[int, dict[int, str], int] = (0, {}, 0)
    for i, (number, cells) in enumerate(head):
        found = _match(cells, names)
        if len(found) > len(best[1]):
            best = (number, found, i)
    number, found, index = best
    if len(found) < wanted:
        raise FileRefused(
            f"在前 {HEADER_SCAN} 行中找不到表头：请使用本台账的导入模板，表头为字段名称（如“{ORG_HEADER}”）"
        )
    return number, found, head[index + 1 :], head[index][1]


# --- orgs ----------------------------------------------------------------------------------------------------


class _Orgs:
    """Finds a row's org by code, name or short name among those the user may enter for."""

    def __init__(self, allowed: Iterable[Organization], default: Organization | None) -> None:
        self.by_text: dict[str, Organization] = {}
        allowed = list(allowed)
        for attr in ("short_name", "name", "code"):  # later wins: a code beats a name beats a short name
            for org in allowed:
                text = getattr(org, attr)
                if text:
                    self.by_text[normalize_text(text)] = org
        self.default = default or (allowed[0] if len(allowed) == 1 else None)
        self.found: dict[tuple[type, Any], tuple[Organization | None, str]] = {}

    def find(self, value: Any) -> tuple[Organization | None, str]:
        """The row's org, or None and why (remembered per cell value: a sheet names few units many times)."""
        memo = (type(value), value)
        if memo not in self.found:
            if len(self.found) > 10_000:
                self.found.clear()
            self.found[memo] = self._find(value)
        return self.found[memo]

    def _find(self, value: Any) -> tuple[Organization | None, str]:
        if is_empty(value):
            if self.default is None:
                return None, "为必填项（您可为多个单位填报，请写明本行的填报单位）"
            return self.default, ""
        text = normalize_text(value)
        org = self.by_text.get(text)
        if org is not None:
            return org, ""
        if Organization.objects.filter(Q(code=text) | Q(name=text) | Q(short_name=text)).exists():
            return None, f"您无权为“{value}”填报该台账"
        return None, f"找不到单位“{value}”，请填写单位全称、简称或代码"


# --- duplicates ------------------------------------------------------------------------------------------------


def _key_codes(lt: LedgerType) -> list[str]:
    keys = [f.code for f in columns(lt) if f.is_key]
    return keys or [f.code for f in columns(lt)]  # no key fields: only identical rows are duplicates


def _digest(org_id: int, date: Any, values: dict[str, Any], codes: list[str]) -> bytes:
    # Stored values (read back from JSON) and checked ones have the same types (str, int, bool, list), so their
    # repr is the same text for the same values.
    text = repr((org_id, str(date), [values.get(c) for c in codes]))
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


# --- the import ------------------------------------------------------------------------------------------------


def import_file(
    user: Any,
    lt: LedgerType,
    path: Path,
    name: str,
    *,
    default_org: Organization | None = None,
    duplicates: str = "refuse",
    engine: str = "auto",
    progress: Progress | None = None,
    check_access: bool = True,
    sheet: str = "",
    request: Any = None,
) -> ImportResult:
    """Import one worksheet of `path` (named `name` by the user) into `lt`. All or nothing.

    The command line passes its actor (a named account or `access.SYSTEM`); `check_access=False` acts as SYSTEM.
    `sheet` names the worksheet to read; by default the first whose header fits the ledger. `request` (the web's)
    gives the audit log its address; an import without a user is logged as the command line's.
    """
    if duplicates not in POLICIES:
        raise ValueError(duplicates)
    result = ImportResult(ledger=lt, policy=duplicates)
    try:
        suffix = check_file(path, name)
        result.sheet_index, result.sheet_name, result.other_sheets = _pick_sheet(
            path, suffix, engine, lt, sheet
        )
        reader = Sheet(path, suffix, engine, result.sheet_index)
        creation = Creation(user, lt, reason="导入", check_access=check_access, bulk=True)
        with tempfile.TemporaryFile() as spooled:  # unnamed on disk, removed when closed
            plan = _validate(user, lt, creation, reader, result, default_org, progress, check_access, spooled)
            if result.ok:
                _write(user, lt, creation, plan, result, request, name)
    except FileRefused as exc:
        result.message = str(exc)
    return result


def _header_spec(lt: LedgerType) -> tuple[list[LedgerField], dict[str, str], int]:
    """The importable fields, the header names that find them, and how many a header row must name."""
    fields = columns(lt)
    return fields, _header_names(fields, lt.date_field), min(2, len(fields) + 1)


def _pick_sheet(
    path: Path, suffix: str, engine: str, lt: LedgerType, wanted_name: str = ""
) -> tuple[int, str, list[str]]:
    """The worksheet named `wanted_name`, or else the first visible one whose header names this ledger's columns:
    (index, name, later sheets that also look like its data). A workbook of one sheet is not scanned twice; with
    no such sheet the first is returned, and reading it gives the usual message."""
    if wanted_name.strip():
        every = worksheets(path, suffix, engine)
        for index, title in every:
            if normalize_text(title) == normalize_text(wanted_name):
                return index, title, []
        raise FileRefused(
            f"工作簿中没有名为“{wanted_name.strip()}”的工作表，现有的工作表：{'、'.join(t for _, t in every) or '（无）'}"
        )
    sheets = worksheets(path, suffix, engine)[:SHEET_SCAN]
    if len(sheets) <= 1:
        return (sheets[0][0], sheets[0][1], []) if sheets else (0, "", [])
    _, names, wanted = _header_spec(lt)
    matching = []
    for index, title in sheets:
        rows = Sheet(path, suffix, engine, index).rows()
        try:
            _find_header(rows, names, wanted)
            matching.append((index, title))
        except FileRefused:
            pass
        finally:
            rows.close()
    if not matching:
        return sheets[0][0], sheets[0][1], []
    return matching[0][0], matching[0][1], [title for _, title in matching[1:]]


@dataclass
class _Plan:
    """What checking leaves for the write: the checked rows, spooled in batches, and what the write re-checks."""

    spooled: IO[bytes]
    stored: _Stored
    date_column: int | None
    batches: int = 0
    digests: dict[bytes, int] = field(default_factory=dict)  # each valid row's key → the first row with it
    # keys of rows left out as duplicates of stored records
    unwritten: set[bytes] = field(default_factory=set)
    orgs: dict[int, str] = field(default_factory=dict)  # id → code of the units written for
    count: int = 0  # rows spooled

    def spool(self, rows: list[tuple[bytes, Checked]]) -> None:
        if rows:
            # plain tuples: a dataclass pickles through Python-level state methods, ten times slower
            flat = [(d, c.org_id, c.date, c.end_date, c.values, c.key, c.status, c.row) for d, c in rows]
            pickle.dump(flat, self.spooled, protocol=pickle.HIGHEST_PROTOCOL)
            self.batches += 1
            self.count += len(rows)

    def read(self) -> Iterator[list[tuple[bytes, Checked]]]:
        self.spooled.seek(0)
        for _ in range(self.batches):
            # our own file, written just above: never user-supplied pickles
            yield [(d, Checked(*rest)) for d, *rest in pickle.load(self.spooled)]


def _row_errors(
    number: int, problems: list[Problem], labels: dict[str, str], plan: _Plan, column_of: dict[str, int]
) -> list[RowError]:
    """The service's problems as the import lists them: the cell's column, the field's label, the message."""
    out = []
    for p in problems:
        if p.locked:  # a 报送 lock is about the row's date
            out.append(RowError(number, plan.date_column, "", p.message))
            continue
        label = labels.get(p.field, "")
        text = p.message.removeprefix(f"【{label}】").lstrip("：") if label else p.message
        out.append(RowError(number, column_of.get(p.field), label, text))
    return out


def _validate(
    user: Any,
    lt: LedgerType,
    creation: Creation,
    sheet: Sheet,
    result: ImportResult,
    default_org: Organization | None,
    progress: Progress | None,
    check_access: bool,
    spooled: IO[bytes],
) -> _Plan:
    """Read and check every row — reads only, never inside a transaction — spooling the rows to be written."""
    fields, names, wanted = _header_spec(lt)
    labels = {f.code: f.label for f in lt.active_fields()} | {ORG_CODE: ORG_HEADER}
    required = {f.code for f in fields if f.required}
    rows = sheet.rows()
    result.header_row, colmap, buffered, head = _find_header(rows, names, wanted)
    # Columns not imported and not worth a warning: row numbers, and a list ledger's exported 状态 (an item's
    # state is set by its workflow steps, never by a file).
    quiet = ROW_NUMBER_HEADS | ({STATE_HEADER} if lt.workflow else frozenset())
    result.ignored_columns = [
        text
        for i, cell in enumerate(head)
        if i not in colmap and not is_empty(cell) and (text := normalize_text(cell)) not in quiet
    ]
    missing = [labels[c] for c in sorted(required - set(colmap.values()), key=list(labels).index)]
    if missing:
        unknown = (
            f"第{result.header_row}行表头中{_quoted(result.ignored_columns)}不是本台账的列；"
            if result.ignored_columns
            else ""
        )
        raise FileRefused(
            "表头中缺少必填列：" + "、".join(f"【{m}】" for m in missing) + f"。{unknown}"
            f"本台账的列为：{'、'.join([ORG_HEADER, *(f.label for f in fields)])}"
            "。请改成这些列名，或下载导入模板对照填写。"
        )
    column_of = {code: i + 1 for i, code in colmap.items()}
    allowed = access.scope(user if check_access else access.SYSTEM).entry_orgs(lt)  # unchecked: as SYSTEM
    orgs = _Orgs(allowed.only("id", "code", "name", "short_name", "path"), default_org)
    codes = _key_codes(lt)
    plan = _Plan(spooled, _Stored(lt, codes), column_of.get(lt.date_field))
    limit = max_rows()
    batch: list[tuple[bytes, Checked]] = []
    items = list(colmap.items())

    def data_rows() -> Iterator[tuple[int, list[Any]]]:
        yield from buffered
        yield from rows

    for number, cells in data_rows():
        first = cells[0] if cells else None
        if first.__class__ is not str or not first.strip():  # (most rows begin with their unit's name)
            first = next((c for c in cells if c is not None and not is_empty(c)), None)
        if first is None or str(first).startswith((INSTRUCTION_MARK, EXAMPLE_MARK)):
            continue  # an empty row, or the template's instructions and example
        if kind := furniture(cells, _cell(cells, plan.date_column)):
            result.furniture.append((number, kind))
            continue
        result.rows += 1
        if result.rows > limit:
            raise FileRefused(
                f"表格从第 {number} 行起超过了每次最多导入 {limit} 行的上限，未写入任何记录。请分成几个文件导入。"
            )
        if progress and result.rows % 500 == 0:
            progress(number, sheet.total)
        width = len(cells)
        # (only a text starting with ' can be a neutralised formula: the others skip the call)
        raw = {
            code: (unneutralise(c) if (c := cells[i]).__class__ is str and c[:1] == "'" else c)
            if i < width
            else None
            for i, code in items
        }
        org, problem = orgs.find(raw.pop(ORG_CODE, None))
        try:
            if org is None:  # the row is refused; its fields are checked too, to list every problem at once
                creation.rules.clean(raw, row=number)
                raise RecordInvalid([])
            checked = creation.check(NewRecord(org, raw, row=number))
        except RecordInvalid as exc:
            errors = _row_errors(number, exc.problems, labels, plan, column_of)
            if org is None:
                errors.append(RowError(number, column_of.get(ORG_CODE), ORG_HEADER, problem))
            errors.sort(key=lambda e: e.column or 0)
            for error in errors:
                result.add_error(error)
            continue
        digest = _digest(checked.org_id, checked.date, checked.values, codes)
        if digest in plan.digests:
            result.add_duplicate(Duplicate(number, other_row=plan.digests[digest]))
            if result.policy != "allow":
                result.skipped += result.policy == "skip"
                continue
        else:
            plan.digests[digest] = number
            if (pk := plan.stored.find(checked.org_id, digest)) is not None:
                result.add_duplicate(Duplicate(number, record_id=pk))
                if result.policy != "allow":
                    result.skipped += result.policy == "skip"
                    plan.unwritten.add(digest)
                    continue
        if result.error_count or (result.duplicate_count and result.policy == "refuse"):
            continue  # the import is bound to fail: go on only to find every problem
        plan.orgs[checked.org_id] = org.code
        batch.append((digest, checked))
        if len(batch) >= BATCH:
            plan.spool(batch)
            batch = []
    plan.spool(batch)
    if progress:
        progress(sheet.total, sheet.total)
    return plan


def _write(
    user: Any, lt: LedgerType, creation: Creation, plan: _Plan, result: ImportResult, request: Any, name: str
) -> None:
    """Duplicates stored since checking began are handled by the policy; then the service writes every row."""
    late = _recheck(lt, plan, result)
    if not result.ok:
        return
    rows = (checked for batch in plan.read() for digest, checked in batch if digest not in late)
    try:
        result.created = len(creation.write(rows))
    except RecordInvalid as exc:  # a 报送 made since checking began: nothing was written
        result.created = 0
        for p in exc.problems:
            result.add_error(_row_errors(p.row or 0, [p], {}, plan, {})[0])
        result.error_count = max(result.error_count, exc.count)
        return
    result.orgs = sorted(plan.orgs.values())
    actor = user if getattr(user, "is_authenticated", False) else None
    record(
        Action.IMPORT,
        request=request,
        user=user,
        username="" if actor else COMMAND_LINE,
        target=f"台账 {lt.code}（{lt.label}）",
        rows=result.created,
        skipped=result.skipped,
        orgs=result.orgs[:100],
        file=name[:200],
        sheet=result.sheet_name,
    )


def _recheck(lt: LedgerType, plan: _Plan, result: ImportResult) -> set[bytes]:
    """Records stored since checking began (by someone else) that duplicate rows of the file are handled by the
    duplicate policy. Returns the keys of rows to skip. (The 报送 locks are re-checked by the service as it
    writes.)"""
    late: set[bytes] = set()
    if result.policy == "allow":
        return late
    for digest, pk in plan.stored.added_since(plan.digests, list(plan.orgs)).items():
        if digest not in plan.unwritten:
            late.add(digest)
            result.add_duplicate(Duplicate(plan.digests[digest], record_id=pk))
            result.skipped += result.policy == "skip"
    result.duplicates.sort(key=lambda d: d.row)
    return late


class _Stored:
    """Digests of the records stored before the import began, read once per org as its first row appears.

    Reading per batch by date would also read back the rows this import has just written (quadratic at 100k)."""

    def __init__(self, lt: LedgerType, codes: list[str]) -> None:
        self.lt, self.codes = lt, codes
        self.before = Record.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.by_org: dict[int, dict[bytes, int]] = {}

    def _digests(self, records: Any) -> dict[bytes, int]:
        return {
            _digest(org_id, date, values, self.codes): pk
            for pk, org_id, date, values in records.values_list("pk", "org_id", "date", "values").iterator()
        }

    def find(self, org_id: int, digest: bytes) -> int | None:
        if org_id not in self.by_org:
            self.by_org[org_id] = self._digests(
                Record.objects.filter(
                    ledger_type=self.lt, org_id=org_id, is_deleted=False, pk__lte=self.before
                )
            )
        return self.by_org[org_id].get(digest)

    def added_since(self, digests: dict[bytes, int], org_ids: list[int]) -> dict[bytes, int]:
        """Records of these orgs stored since the import began (by someone else) that match one of `digests`."""
        added = Record.objects.filter(
            ledger_type=self.lt, org_id__in=org_ids, is_deleted=False, pk__gt=self.before
        )
        return {d: pk for d, pk in self._digests(added).items() if d in digests}


# --- helpers for callers -------------------------------------------------------------------------------------


def spool(upload: IO[bytes], directory: Path, suffix: str) -> Path:
    """Copy an upload to a file, refusing it as soon as it passes the size cap (never read whole into memory)."""
    from django.conf import settings

    directory.mkdir(parents=True, exist_ok=True)
    written = 0
    with tempfile.NamedTemporaryFile(dir=directory, suffix=suffix, delete=False) as handle:
        path = Path(handle.name)
        while chunk := upload.read(1024 * 1024):
            written += len(chunk)
            if written > max_bytes():
                break
            handle.write(chunk)
    if written > max_bytes():
        path.unlink(missing_ok=True)
        raise FileRefused(f"文件超过 {settings.MAX_IMPORT_MB} MB 的大小限制，请分成几个文件导入")
    return path


def error_copy(path: Path, name: str, result: ImportResult) -> bytes:
    """The user's own file with each listed problem's cell filled red and commented, plus a sheet listing them.

    Bounded work: only the problems listed (the first MAX_LISTED) are marked. A small .xlsx is annotated in place,
    keeping its look; a large one, and .xls and .ods (which we cannot write), are streamed into a new .xlsx —
    the read sheet's values, row by row, with a write-only workbook. Raises FileRefused if the file can't be read.
    """
    problems: list[tuple[int, int | None, str]] = [(e.row, e.column, str(e)) for e in result.errors]
    if result.needs_choice:
        problems += [(d.row, None, str(d)) for d in result.duplicates]
    notes: dict[tuple[int, int], list[str]] = {}
    for row, column, text in problems:
        notes.setdefault((row, column or 1), []).append(text)
    counted = result.error_count + (result.duplicate_count if result.needs_choice else 0)
    listing = [["行号", "问题"], *([row, neutralise(text)] for row, _, text in problems)]
    if counted > len(problems):
        listing.append(["", f"共 {counted} 处问题，以上列出并在表中标出了前 {len(problems)} 处。"])
    suffix = Path(name).suffix.lower()
    try:
        if suffix == ".xlsx" and _small(path):
            return _marked_in_place(path, result.sheet_index, notes, listing)
        return _marked_copy(path, suffix, result, notes, listing)
    except Exception as exc:  # the readers' and zip's own errors are English
        raise unreadable(exc) from None


def _small(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        size = sum(i.file_size for i in archive.infolist() if i.filename.startswith("xl/worksheets/"))
    return size <= IN_PLACE_BYTES


def _comment(texts: list[str]) -> Any:
    from openpyxl.comments import Comment

    return Comment(neutralise("\n".join(texts)), "党建台账")


def _marked_in_place(
    path: Path, index: int, notes: dict[tuple[int, int], list[str]], listing: list[list[Any]]
) -> bytes:
    import io

    from openpyxl import load_workbook
    from openpyxl.styles import PatternFill

    book = load_workbook(path)
    sheet = book.worksheets[index]
    book.active = index  # the file opens on the sheet that was read
    # Text that reads like a formula goes back neutralised, as in every xlsx written. (The uploader's own formula
    # cells stay formulas: their file, back to them only, and calamine reads their values on the next import.)
    for line in sheet.iter_rows():
        for cell in line:
            if cell.data_type == "s" and isinstance(cell.value, str) and neutralise(cell.value) != cell.value:
                cell.value = neutralise(cell.value)
    red = PatternFill("solid", fgColor="FF9999")
    for (row, column), texts in notes.items():
        cell = sheet.cell(row=row, column=column)
        cell.fill = red
        cell.comment = _comment(texts)
    errors = book.create_sheet("导入错误")
    for line in listing:
        errors.append(line)
    errors.column_dimensions["B"].width = 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _marked_copy(
    path: Path,
    suffix: str,
    result: ImportResult,
    notes: dict[tuple[int, int], list[str]],
    listing: list[list[Any]],
) -> bytes:
    import io

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import PatternFill

    red = PatternFill("solid", fgColor="FF9999")
    by_row: dict[int, dict[int, list[str]]] = {}
    for (row, column), texts in notes.items():
        by_row.setdefault(row, {})[column] = texts
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title(result.sheet_name))
    written = 0
    for number, cells in Sheet(path, suffix, index=result.sheet_index).rows():
        for _ in range(written + 1, number):  # keep row numbers as in the user's file
            sheet.append([])
        values: list[Any] = [neutralise(v) for v in cells]
        marks = by_row.get(number, {})
        if marks:
            values += [None] * (max(marks) - len(values))
            for column, texts in marks.items():
                cell = WriteOnlyCell(sheet, value=values[column - 1])
                cell.fill = red
                cell.comment = _comment(texts)
                values[column - 1] = cell
        sheet.append(values)
        written = number
    errors = book.create_sheet("导入错误")
    errors.column_dimensions["B"].width = 80
    for line in listing:
        errors.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
