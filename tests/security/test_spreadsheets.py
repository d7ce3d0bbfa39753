"""Crafted spreadsheets and what the spreadsheet code writes (issue 8).

Finding 1: a 2 KB .xlsx with values only at A1 and XFD1048576, uploaded on the import page or given to
`dangjian import`, made the reader allocate about 550 GB and the process abort. Those attacks run here in a child
process under an address-space limit (RLIMIT_AS), so that a regression fails its test instead of taking the test
run down.
Finding 6: one import held the SQLite write lock for its whole run, so others' saves failed ("database is locked");
a 1,048,576-row file of invalid rows took minutes and gigabytes (bounded now: rows, listed errors, error copy).
Finding 5 (spreadsheets): a control character stored in a text field made every xlsx export fail.
Low: zip, XML and CFB errors reached users in English.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import Client
from openpyxl import Workbook, load_workbook

from dangjian.audit.models import Action, AuditEvent
from dangjian.records.models import Record
from dangjian.spreadsheets import imports
from dangjian.spreadsheets.imports import error_copy, import_file
from dangjian.spreadsheets.xlsx import neutralise
from dangjian.tasks import collection
from dangjian.tasks.models import TargetStatus

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
CHILD_MEMORY = 1536 * 1024 * 1024  # the child's whole address space: Python and Django fit well inside
HEAD = ["填报单位", "活动日期*", "活动类型*", "主题*", "参加人数"]
NAMES = re.compile(r"Excel|WPS|\.xlsx|\.xls|\.ods|\b[A-Z]{1,3}[0-9]+\b")  # products, extensions, cells


def english(text: str) -> bool:
    """Whether a message holds English words (the file names in these tests are all Chinese)."""
    return bool(re.search(r"[A-Za-z]{3,}", NAMES.sub("", text)))


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def wide_xlsx(path: Path) -> Path:
    """The attack: a header cell at A1 and one more value at XFD1048576, the sheet's last cell."""
    book = Workbook()
    sheet = book.active
    sheet.title = "数据"
    sheet["A1"] = "填报单位"
    sheet["XFD1048576"] = "x"
    book.save(path)
    return path


def wide_xls(path: Path) -> Path:
    """The same in .xls: A1 and IV65536 (the format's last cell) made calamine take 1 GB for 5 KB."""
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("数据")
    sheet.write(0, 0, "填报单位")
    sheet.write(65535, 255, "x")
    book.save(str(path))
    return path


def ods(path: Path, body: str, name: str = "数据") -> Path:
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="{office}" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
        f'<office:spreadsheet><table:table table:name="{name}">{body}</table:table></office:spreadsheet>'
        "</office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def wide_ods(path: Path) -> Path:
    """.ods repeats cheaply: one empty row repeated 1,048,574 times, then 16,383 empty cells and a value."""
    cell = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    return ods(
        path,
        f"<table:table-row>{cell.format('填报单位')}</table:table-row>"
        '<table:table-row table:number-rows-repeated="1048574"><table:table-cell/></table:table-row>'
        '<table:table-row><table:table-cell table:number-columns-repeated="16383"/>'
        f"{cell.format('x')}</table:table-row>",
    )


def sheet(tmp_path: Path, rows: list[list], name: str = "导入.xlsx") -> Path:
    book = Workbook()
    ws = book.active
    ws.append(HEAD)
    for row in rows:
        ws.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def good(i: int = 1, date: object = "2019-03-05") -> list:
    return ["幸福社区", date, "专题报告", f"主题{i}", 30]


def run(world, path: Path, **kw):
    return import_file(world.clerk, world.ledger("study_activity"), path, path.name, **kw)


# --- finding 1: the attack files, in a child process under a memory limit ------------------------------------

CHILD = r"""
import contextlib, io, json, resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from dangjian.cli import main

out = {}
for path in sys.argv[2:]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["import", "study_activity", path])
    out["cli " + path] = [code, err.getvalue()]

# The import page, as a community clerk uploads the file (the view itself, called with a request).
from django.contrib.auth import get_user_model
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from dangjian.spreadsheets import views as xlsx_views
from dangjian.orgs.models import Membership, Organization, Role

org = Organization.objects.add_root(dict(code="c1", name="中共城关街道幸福社区委员会", short_name="幸福社区"))
clerk = get_user_model().objects.create_user("clerk", password="Test#pass-2019")
Membership.objects.create(user=clerk, org=org, role=Role.CLERK)
for path in sys.argv[2:]:
    with open(path, "rb") as handle:
        request = RequestFactory().post("/ledgers/study_activity/import", {"file": handle})
    request.user, request.session = clerk, SessionStore()
    request._messages = FallbackStorage(request)
    response = xlsx_views.import_page(request, "study_activity")
    out["web " + path] = [response.status_code, response.content.decode()]
print(json.dumps(out, ensure_ascii=False))
"""


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
    env["DANGJIAN_DATA_DIR"] = str(data_dir)
    return env


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """An installation of its own (SQLite, built-in packs) for the child processes."""
    path = tmp_path_factory.mktemp("installation")
    done = subprocess.run(
        [sys.executable, "-m", "dangjian", "init"],
        env=_env(path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return path


def test_the_a1_xfd1048576_file_and_its_xls_and_ods_twins_are_refused_in_chinese_without_allocating(
    data_dir, tmp_path
):
    attack = wide_xlsx(tmp_path / "两个单元格.xlsx")
    assert attack.stat().st_size < 6000
    files = [attack, wide_xls(tmp_path / "两个单元格.xls"), wide_ods(tmp_path / "两个单元格.ods")]
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(CHILD_MEMORY), *map(str, files)],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode == 0, child.stderr[-3000:]  # an abort (memory) or a traceback fails here
    out = json.loads(child.stdout.splitlines()[-1])
    for path in files:
        code, stderr = out[f"cli {path}"]
        assert code == 1
        assert "超出了导入能读取的范围" in stderr or "超过了一次导入最多" in stderr, stderr
        assert not english(stderr), stderr
        status, page = out[f"web {path}"]
        assert status == 200
        assert "超出了导入能读取的范围" in page or "超过了一次导入最多" in page
    assert "单元格 XFD1048576 有内容" in out[f"cli {attack}"][1]  # the place is named


def test_the_scan_counts_cells_without_references_and_with_prefixed_names(tmp_path):
    """A writer may leave out r="…" (each cell follows the previous one) or prefix every element ("x:c"):
    the cell at column 16,384 is found either way, while an empty styled cell there is not a cell with a value."""
    from dangjian.spreadsheets.extent import Bounds, sheet_extent

    base = wide_xlsx(tmp_path / "base.xlsx")
    limit = Bounds(rows=100, columns=256, cells=10_000)
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    bodies = {
        "noref": '<worksheet xmlns="{0}"><sheetData><row r="1">' + "<c/>" * 16383 + "<c><v>1</v></c></row>",
        "prefixed": '<x:worksheet xmlns:x="{0}"><x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c>'
        '<x:c r="XFD1"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>',
        "styled": '<worksheet xmlns="{0}"><sheetData><row r="1"><c r="A1"><v>1</v></c>'
        '<c r="XFD1048576" s="1"/></row>',
        # The fast scan reads plainly written cells only; a cell written otherwise among them sends the sheet to
        # the element scan, which finds it.
        "reordered": '<worksheet xmlns="{0}"><sheetData><row r="1"><c r="A1"><v>1</v></c>'
        '<c s="1" r="XFD1"><v>1</v></c></row>',
        "lowercase": '<worksheet xmlns="{0}"><sheetData><row r="1"><c r="A1"><v>1</v></c>'
        '<c r="xfd1"><v>1</v></c></row>',
        "quoted": '<worksheet xmlns="{0}"><sheetData><row r="1"><c r="A1"><v>1</v></c>'
        "<c r='XFD1'><v>1</v></c></row>",
        "plain": '<worksheet xmlns="{0}"><cols><col min="1" max="3"/></cols><sheetData><row r="1">'
        '<c r="A1" t="s"><v>1</v></c><c r="C1"><v>1</v></c></row><row r="7"><c r="B7"><v>1</v></c></row>',
        "plain_far": '<worksheet xmlns="{0}"><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
        '<row r="5000"><c r="B5000"><v>1</v></c></row>',
    }
    found = {}
    for kind, body in bodies.items():
        body = body.format(main)
        if not body.endswith("worksheet>"):
            body += "</sheetData></worksheet>"
        path = tmp_path / f"{kind}.xlsx"
        with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w") as target:
            for info in source.infolist():
                data = source.read(info.filename)
                target.writestr(info, body.encode() if info.filename == "xl/worksheets/sheet1.xml" else data)
        found[kind] = sheet_extent(path, "数据", limit)
    assert found["noref"].over and found["noref"].far == "XFD1"
    assert found["prefixed"].over and found["prefixed"].far == "XFD1"
    assert not found["styled"].over and found["styled"].far == "A1"
    for kind in ("reordered", "lowercase", "quoted"):
        assert found[kind].over and found[kind].far == "XFD1", kind
    assert (found["plain"].rows, found["plain"].columns, found["plain"].over) == (7, 3, False)
    assert found["plain_far"].over and found["plain_far"].far == "B5000"


def test_a_plainly_written_sheet_is_bounded_by_the_fast_scan_alone(tmp_path, monkeypatch):
    """Excel, WPS and openpyxl write every cell as <c r="B7" …>: such a sheet is judged from its references by
    regular expressions, without the element-by-element scan (one Python call per element, 3× slower)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from dangjian.spreadsheets import extent

    book = Workbook()
    sheet = book.active
    sheet.title = "数据"
    for row in range(1, 3001):
        sheet.append([f"第{row}行", row, None, "x" if row % 7 == 0 else None])
    sheet["F2999"].font = Font(bold=True)  # a styled empty cell: inside the box, no harm
    path = tmp_path / "plain.xlsx"
    book.save(path)

    def element_scan(*args):
        raise AssertionError("the element scan ran")

    monkeypatch.setattr(extent, "_xlsx_elements", element_scan)
    monkeypatch.setattr(extent, "PLAIN_CHUNK", 4096)  # many chunks, each cut after a row's end
    found = extent.sheet_extent(path, "数据", extent.Bounds(rows=5000, columns=10, cells=50_000))
    assert (found.rows, found.columns, found.over) == (3000, 6, False)


@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_both_xlsx_readers_stop_at_the_bounds_not_at_the_declared_size(world, tmp_path, engine, settings):
    """A file may declare any <dimension>; what counts is how far its cells reach, and that is bounded."""
    settings.MAX_IMPORT_ROWS = 5
    path = sheet(tmp_path, [good(i) for i in range(1, 4)] + [[None] * 4 + [f"x{i}"] for i in range(20)])
    result = run(world, path, engine=engine)
    assert "在第 15 行以下还有内容（如单元格 E16）" in result.message
    assert "每次最多导入 5 行" in result.message
    assert Record.objects.count() == 0


@pytest.mark.parametrize("suffix", [".xls", ".ods"])
def test_every_sheet_of_an_xls_or_ods_is_bounded_because_calamine_reads_them_all_on_opening(
    world, tmp_path, suffix, settings
):
    settings.MAX_IMPORT_ROWS = 5
    if suffix == ".xls":
        import xlwt

        book = xlwt.Workbook()
        first = book.add_sheet("数据")
        for col, text in enumerate(HEAD):
            first.write(0, col, text)
        book.add_sheet("备注").write(300, 0, "很远的一行")
        path = tmp_path / "两个工作表.xls"
        book.save(str(path))
    else:
        path = ods(
            tmp_path / "很远.ods",
            '<table:table-row table:number-rows-repeated="300"><table:table-cell '
            'office:value-type="string"><text:p>填报单位</text:p></table:table-cell></table:table-row>',
            name="备注",
        )
    result = run(world, path)
    assert "工作表“备注”在第 15 行以下还有内容" in result.message
    assert not english(result.message)


# --- finding 6: bounded work ----------------------------------------------------------------------------------


def test_rows_past_the_setting_are_refused_with_the_limit_named(world, tmp_path, settings):
    settings.MAX_IMPORT_ROWS = 3
    result = run(world, sheet(tmp_path, [good(i) for i in range(1, 5)]))
    assert result.message == (
        "表格从第 5 行起超过了每次最多导入 3 行的上限，未写入任何记录。请分成几个文件导入。"
    )
    assert Record.objects.count() == 0
    settings.MAX_IMPORT_ROWS = 4
    assert run(world, sheet(tmp_path, [good(i) for i in range(1, 5)], name="b.xlsx")).created == 4


@pytest.mark.parametrize("in_place", [True, False])
def test_errors_are_counted_all_listed_first_and_the_marked_copy_is_bounded(
    world, tmp_path, monkeypatch, in_place
):
    monkeypatch.setattr(imports, "MAX_LISTED", 10)
    if not in_place:  # a large file is copied row by row, not loaded whole
        monkeypatch.setattr(imports, "IN_PLACE_BYTES", 0)
    path = sheet(tmp_path, [good(i, date="不是日期") for i in range(1, 31)])
    result = run(world, path)
    assert result.error_count == 30 and len(result.errors) == 10
    assert result.summary() == "导入失败：共 30 处错误，未写入任何记录。请修改后重新导入。"
    assert result.lines()[-1] == "……共 30 处错误，以上列出前 10 处。"
    book = load_workbook(io.BytesIO(error_copy(path, path.name, result)))
    marked = [c.coordinate for row in book.worksheets[0].iter_rows() for c in row if c.comment]
    assert marked == [f"B{n}" for n in range(2, 12)]
    assert book.worksheets[0]["D31"].value == "主题30"  # every row is kept, to be fixed and imported again
    listing = [r for r in book["导入错误"].iter_rows(values_only=True)]
    assert len(listing) == 12 and listing[-1][1] == "共 30 处问题，以上列出并在表中标出了前 10 处。"


def test_the_import_page_counts_every_error_and_says_how_many_are_marked(world, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "MAX_LISTED", 10)
    path = sheet(tmp_path, [good(i, date="不是日期") for i in range(1, 31)])
    with path.open("rb") as handle:
        page = client_for(world.clerk).post("/ledgers/study_activity/import", {"file": handle})
    body = page.content.decode()
    assert "共 30 处错误" in body and "还有 20 处错误未在此列出，标注文件中标出了前 10 处" in body


# --- finding 6: validation holds no write lock ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_another_user_saves_while_an_import_is_validating(world, tmp_path, monkeypatch):
    """Validation runs outside any transaction (on SQLite each one takes the write lock at once), so a save on
    another connection goes through meanwhile; the rows are then written in one short transaction."""
    seen: list = []
    real = imports.Creation.check  # each row's check by the write service

    def validating(creation, item):
        lt = creation.lt
        if not seen:
            seen.append(connection.in_atomic_block)
            outcome: list[str] = []

            def save() -> None:  # another clerk's save, on another connection
                try:
                    Record.objects.create(
                        ledger_type=lt, org=world.c2, date=dt.date(2019, 1, 2), values={"title": "别人的记录"}
                    )
                    outcome.append("saved")
                except Exception as exc:  # "database is locked" / "database table is locked"
                    outcome.append(repr(exc))
                finally:
                    connections.close_all()

            thread = threading.Thread(target=save)
            thread.start()
            thread.join(60)
            seen.append(outcome)
        return real(creation, item)

    monkeypatch.setattr(imports.Creation, "check", validating)
    result = run(world, sheet(tmp_path, [good(i) for i in range(1, 4)]))
    assert result.ok and result.created == 3, result.lines()
    assert seen == [False, ["saved"]]
    assert Record.objects.filter(values__title="别人的记录").count() == 1


def test_a_submission_made_while_validating_refuses_the_rows_it_locks(world, tmp_path, monkeypatch):
    from tests.tasks.conftest import make_task

    task = make_task(world, ledger_types=[world.ledger("study_activity")])
    real = imports.Creation.check  # each row's check by the write service

    def validating(creation, item):
        target = task.targets.get(org=world.c1)
        if target.status != TargetStatus.SUBMITTED:
            collection.submit(world.clerk, target)  # the unit's 报送, between validation and writing
        return real(creation, item)

    monkeypatch.setattr(imports.Creation, "check", validating)
    result = run(world, sheet(tmp_path, [good(1), good(2)]))
    assert not result.ok and result.error_count == 2  # each row the new lock covers is named
    assert str(result.errors[0]).startswith("第2行：“中共城关街道幸福社区委员会”已于")
    assert str(result.errors[1]).startswith("第3行：“中共城关街道幸福社区委员会”已于")
    assert Record.objects.count() == 0


def test_a_duplicate_stored_while_validating_is_caught_by_the_write(
    world, tmp_path, monkeypatch, make_record
):
    real = imports.Creation.check  # each row's check by the write service

    def validating(creation, item):
        # someone saves the same activity meanwhile (not the save below, through the same service)
        if creation.reason == "导入" and not Record.objects.exists():
            make_record(
                "study_activity",
                world.c1,
                {"date": "2019-03-05", "kind": "专题报告", "title": "主题2", "participants": 30},
            )
        return real(creation, item)

    monkeypatch.setattr(imports.Creation, "check", validating)
    path = sheet(tmp_path, [good(1), good(2)])
    result = run(world, path)
    assert result.needs_choice and [d.row for d in result.duplicates] == [3]
    assert Record.objects.count() == 1
    monkeypatch.setattr(imports.Creation, "check", real)
    result = run(world, path, duplicates="skip")
    assert result.ok and result.created == 1 and result.skipped == 1


def test_a_duplicate_stored_while_validating_is_skipped_when_asked(world, tmp_path, monkeypatch, make_record):
    real = imports.Creation.check  # each row's check by the write service

    def validating(creation, item):
        if creation.reason == "导入" and not Record.objects.exists():  # not make_record's own save
            make_record(
                "study_activity",
                world.c1,
                {"date": "2019-03-05", "kind": "专题报告", "title": "主题2", "participants": 30},
            )
        return real(creation, item)

    monkeypatch.setattr(imports.Creation, "check", validating)
    result = run(world, sheet(tmp_path, [good(1), good(2), good(3)]), duplicates="skip")
    assert result.ok and result.created == 2 and result.skipped == 1
    assert sorted(r.values["title"] for r in Record.objects.all()) == ["主题1", "主题2", "主题3"]


def test_a_successful_import_is_written_with_history_in_the_initial_state_and_audited(world, tmp_path):
    result = run(world, sheet(tmp_path, [good(1), good(2)]))
    assert result.ok and result.created == 2
    record = Record.objects.order_by("pk").first()
    assert record.history.get().history_change_reason == "导入"
    event = AuditEvent.objects.get(action=Action.IMPORT)
    assert event.actor == world.clerk and event.target.startswith("台账 study_activity")
    assert event.detail["rows"] == 2 and event.detail["orgs"] == ["c1"]


# --- reader errors are Chinese ----------------------------------------------------------------------------------


def _declared_smaller(path: Path) -> Path:
    """A zip whose sheet says it is smaller than it is: zipfile's "File is larger than its declared…"."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    size = info.file_size.to_bytes(4, "little")
    for at in [m.start() for m in re.finditer(re.escape(size), bytes(data))]:
        data[at : at + 4] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def _broken(tmp_path: Path, kind: str) -> Path:
    path = sheet(tmp_path, [good(1)], name=f"坏文件{kind}.xlsx")
    if kind == "size":
        return _declared_smaller(path)
    if kind == "xml":
        with zipfile.ZipFile(path) as archive:
            parts = {i.filename: archive.read(i.filename) for i in archive.infolist()}
        parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"][:300] + b"<c r=><<"
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in parts.items():
                archive.writestr(name, data)
        return path
    if kind == "xls":
        xls = tmp_path / "坏文件.xls"
        xls.write_bytes(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
        )  # a CFB header and nothing inside
        return xls
    ods_path = tmp_path / "坏文件.ods"
    ods_path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    return ods_path


@pytest.mark.parametrize("kind", ["size", "xml", "xls", "ods"])
@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_broken_files_are_refused_in_chinese(world, tmp_path, kind, engine):
    result = run(world, _broken(tmp_path, kind), engine=engine)
    assert result.message and not english(result.message), result.message
    assert "文件已损坏或不是有效的 Excel 文件" in result.message or "不是有效的 Excel 文件" in result.message
    assert Record.objects.count() == 0


def test_broken_files_are_refused_in_chinese_on_the_page_and_the_command_line(world, tmp_path, capsys):
    from dangjian.spreadsheets.cli import import_

    for kind in ("size", "xml", "xls"):
        path = _broken(tmp_path, kind)
        with path.open("rb") as handle:
            page = client_for(world.clerk).post("/ledgers/study_activity/import", {"file": handle})
        assert page.status_code == 200
        assert "文件已损坏或不是有效的 Excel 文件" in page.content.decode()
        args = dict(ledger="study_activity", file=str(path), org="c1", sheet=None)
        code = import_(type("Args", (), {**args, "skip_duplicates": False, "allow_duplicates": False})())
        err = capsys.readouterr().err
        assert code == 1 and "文件已损坏或不是有效的 Excel 文件" in err and not english(err), err


# --- finding 5: control characters in stored text, and formula prefixes -----------------------------------------


def test_the_one_neutraliser_removes_xml_illegal_characters_and_every_formula_prefix():
    assert neutralise("\x01=cmd|'/C calc'!A0") == "'=cmd|'/C calc'!A0"
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(f"{start}1") == f"'{start}1"
    assert neutralise("正常\x0b文字\x1f") == "正常文字" and neutralise(5) == 5
    assert collection.neutralise is neutralise  # one helper, not two


def test_a_control_character_in_stored_text_exports_to_every_xlsx(world, make_record, monkeypatch):
    from tests.tasks.conftest import make_task

    from dangjian.packs.handlers_indicators import load_indicators
    from dangjian.packs.loader import Pack

    record = make_record(
        "study_activity",
        world.c1,
        {"date": "2019-05-01", "kind": "专题报告", "title": "学习", "participants": 5},
    )
    # Stored before input was cleaned (or by any other path): the value reaches the exports as it is.
    Record.objects.filter(pk=record.pk).update(values={**record.values, "title": "\x01=学习\x02"})
    item = make_record(
        "rectification_task",
        world.c1,
        {
            "issued_on": "2019-03-01",
            "source": "巡察反馈",
            "title": "整改",
            "deadline": "2019-06-30",
            "measures": "x",
        },
    )
    Record.objects.filter(pk=item.pk).update(values={**item.values, "title": "\x01整改\x03"}, status="整改中")
    task = make_task(world, title="2019年度\x01数据", ledger_types=[world.ledger("study_activity")])
    indicator = {"key": "学习.次数", "label": "学习次数", "unit": "次", "ledger": "study_activity"}
    load_indicators([indicator], Pack("t", "t", 50, Path("."), {}))
    urls = {
        "/ledgers/study_activity.xlsx": "'=学习",
        "/indicators/evidence/?key=学习.次数&org=root&start=2019-01-01&end=2019-12-31&format=xlsx": "'=学习",
        f"/ledgers/tasks/{task.pk}.xlsx": "2019年度数据",
        "/ledgers/overdue.xlsx": "整改",
    }
    for url, expected in urls.items():
        response = client_for(world.unit_admin).get(url)
        assert response.status_code == 200, url
        book = load_workbook(io.BytesIO(response.content))
        values = {
            str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v
        }
        assert expected in values, (url, values)
        assert not any(re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", v) for v in values)


def test_exports_are_audited_on_the_web_and_the_command_line(world, make_record, tmp_path, capsys):
    from dangjian.spreadsheets.cli import export

    make_record(
        "study_activity",
        world.c1,
        {"date": "2019-05-01", "kind": "专题报告", "title": "学习", "participants": 5},
    )
    assert client_for(world.viewer).get("/ledgers/study_activity.xlsx?year=2019").status_code == 200
    web = AuditEvent.objects.get(action=Action.EXPORT)
    assert (
        web.actor == world.viewer and web.detail["rows"] == 1 and web.target.startswith("台账 study_activity")
    )
    out = tmp_path / "导出.xlsx"
    assert (
        export(type("Args", (), dict(ledger="study_activity", org=None, year=2019, output=str(out)))()) == 0
    )
    cli = AuditEvent.objects.filter(action=Action.EXPORT).exclude(pk=web.pk).get()
    assert cli.username == "命令行" and cli.detail["rows"] == 1
