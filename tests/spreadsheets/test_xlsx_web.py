"""Excel on the web and the command line: template, upload with its steps, export, round trip, exit codes."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from dangjian.cli import main
from dangjian.records.models import Record
from dangjian.spreadsheets.xlsx import neutralise

LEDGER = "study_activity"


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path  # uploads and error copies are kept under the data dir


def _upload(client, rows, name="in.xlsx", **data):
    book = Workbook()
    ws = book.active
    ws.append(["填报单位", "活动日期*", "活动类型*", "主题*", "参加人数"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    out.name = name
    out.seek(0)
    return client.post(f"/ledgers/{LEDGER}/import", {"file": out, "token": "a" * 32, **data})


def test_a_clerk_downloads_fills_and_uploads_the_template(client, world):
    client.force_login(world.clerk)
    response = client.get(f"/ledgers/{LEDGER}/template.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    ws = book.worksheets[0]
    heads = [c.value for c in ws[1]]
    col = {h.rstrip("*"): i + 1 for i, h in enumerate(heads)}
    org_list = book["选项"]
    assert [c.value for c in org_list["A"] if c.value] == [
        "中共城关街道幸福社区委员会"
    ]  # only the clerk's own org
    for i, row in enumerate(range(4, 7)):
        ws.cell(row, col["填报单位"], "中共城关街道幸福社区委员会")
        ws.cell(row, col["活动日期"], dt.date(2019, 5, 1 + i))
        ws.cell(row, col["活动类型"], "理论宣讲")
        ws.cell(row, col["主题"], f"宣讲{i}")
    out = io.BytesIO()
    book.save(out)
    out.name = "filled.xlsx"
    out.seek(0)
    response = client.post(f"/ledgers/{LEDGER}/import", {"file": out}, follow=True)
    assert "导入成功：新增 3 条记录" in response.content.decode()
    assert Record.objects.filter(org=world.c1).count() == 3
    page = client.get(f"/ledgers/{LEDGER}/").content.decode()
    assert "宣讲0" in page and "宣讲2" in page


def test_upload_errors_are_listed_and_the_marked_copy_downloads(client, world):
    client.force_login(world.clerk)
    rows = [["幸福社区", "2019-03-05", "专题报告", f"t{i}", 1] for i in range(2, 57)]
    rows.append(["幸福社区", "2019-02-30", "专题报告", "bad", 1])
    response = _upload(client, rows)
    text = response.content.decode()
    assert "第57行【活动日期】：日期格式不正确" in text
    assert Record.objects.count() == 0
    copy = client.get(f"/ledgers/{LEDGER}/import/{'a' * 32}/errors.xlsx")
    assert copy.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(copy.streaming_content))).worksheets[0]
    assert "日期格式不正确" in ws["B57"].comment.text
    client.force_login(world.sibling)  # another user cannot fetch it
    assert client.get(f"/ledgers/{LEDGER}/import/{'a' * 32}/errors.xlsx").status_code == 404


def test_duplicates_ask_then_skip(client, world, make_record):
    make_record(LEDGER, world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "t1"})
    client.force_login(world.clerk)
    rows = [["幸福社区", "2019-03-05", "专题报告", "t1", 1], ["幸福社区", "2019-03-06", "专题报告", "t2", 1]]
    response = _upload(client, rows)
    text = response.content.decode()
    assert "疑似重复" in text and "第2行：与已有记录" in text
    assert Record.objects.count() == 1
    response = client.post(
        f"/ledgers/{LEDGER}/import", {"token": "a" * 32, "duplicates": "skip"}, follow=True
    )
    assert "新增 1 条记录，跳过重复 1 条" in response.content.decode()
    assert Record.objects.count() == 2


def test_refused_files_and_strangers(client, world):
    client.force_login(world.clerk)
    fake = io.BytesIO(b"just text")
    fake.name = "fake.xlsx"
    response = client.post(f"/ledgers/{LEDGER}/import", {"file": fake})
    assert "不是有效的 Excel 文件" in response.content.decode()
    client.force_login(world.viewer)  # 查看者 may not enter
    assert client.get(f"/ledgers/{LEDGER}/import").status_code == 403
    assert client.get(f"/ledgers/{LEDGER}/template.xlsx").status_code == 403


def test_status_endpoint_shows_only_the_uploaders_own_progress(client, world):
    from django.core.cache import cache

    token = "b" * 32
    cache.set("xlsx-import:" + token, {"done": 5, "total": 10, "user": world.clerk.pk, "ledger": LEDGER})
    url = f"/ledgers/{LEDGER}/import/status?token={token}"
    client.force_login(world.clerk)
    assert client.get(url).json() == {"done": 5, "total": 10}
    # Same token through another ledger's URL, or by anyone else: nothing started.
    assert client.get(f"/ledgers/party_member/import/status?token={token}").json() == {"done": 0, "total": 0}
    for other in (world.sibling, world.viewer, world.jiwei):
        client.force_login(other)
        assert client.get(url).json() == {"done": 0, "total": 0}


def test_export_neutralises_and_masks(client, world, make_record):
    make_record(
        "study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": '=HYPERLINK("x")'}
    )
    make_record("study_activity", world.c2, {"date": "2020-01-05", "kind": "专题报告", "title": "@cmd"})
    client.force_login(world.viewer)
    response = client.get(f"/ledgers/{LEDGER}.xlsx?from=2019-01-01&to=2019-12-31")
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2  # the header and the one 2019 record
    col = list(rows[0]).index("主题*")
    assert rows[1][col] == '\'=HYPERLINK("x")'
    assert ws.cell(2, col + 1).data_type == "s"
    assert neutralise("+1") == "'+1" and neutralise("-1") == "'-1" and neutralise("ok") == "ok"


def test_export_masks_sensitive_fields_for_viewers(client, world, make_record):
    lt = world.ledger(LEDGER)
    field = lt.fields.get(code="speaker")
    field.sensitive = True
    field.save()
    make_record(LEDGER, world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "t", "speaker": "李四"})
    for user, expected in [(world.viewer, "＊＊"), (world.clerk, "李四")]:
        client.force_login(user)
        ws = load_workbook(io.BytesIO(client.get(f"/ledgers/{LEDGER}.xlsx").content)).worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
        assert rows[1][list(rows[0]).index("主讲人")] == expected


@pytest.mark.django_db(transaction=True)
def test_export_then_import_into_an_empty_database_gives_the_same_records(
    world, tmp_path, make_record, capsys
):
    values = [
        {
            "date": "2019-03-05",
            "kind": "专题报告",
            "title": "=1+1",
            "days": "1.5",
            "participants": 1234,
            "theme_education": True,
            "speaker": "王五",
            "summary": "第一行\n第二行",
        },
        {"date": "2019-12-31", "kind": "培训班", "title": "培训", "theme_education": False, "place": "-党校"},
    ]
    for v in values:
        make_record(LEDGER, world.c1, v)
    make_record(LEDGER, world.c2, {"date": "2018-06-01", "kind": "专题党课", "title": "x"})
    before = sorted((r.org.code, r.date, r.values) for r in Record.objects.filter(date__year=2019))
    out = tmp_path / "out.xlsx"
    assert main(["export", LEDGER, "--org", "s1", "--year", "2019", "-o", str(out)]) == 0
    Record.objects.all().delete()
    assert main(["import", LEDGER, str(out)]) == 0
    after = sorted((r.org.code, r.date, r.values) for r in Record.objects.all())
    assert after == before


def test_cli_exit_codes_and_every_error_printed(world, tmp_path, capsys):
    assert main(["ledgers"]) == 0
    assert "study_activity" in capsys.readouterr().out
    template = tmp_path / "t.xlsx"
    assert main(["template", LEDGER, "-o", str(template)]) == 0
    book = Workbook()
    ws = book.active
    ws.append(["活动日期", "活动类型", "主题"])
    ws.append(["2019-13-01", "专题报告", "a"])
    ws.append(["2019-01-01", "不存在", "b"])
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    capsys.readouterr()
    assert main(["import", LEDGER, str(bad), "--org", "c1"]) == 1
    err = capsys.readouterr().err
    assert "第2行【活动日期】：" in err and "第3行【活动类型】：" in err
    assert Record.objects.count() == 0
    book = Workbook()
    ws = book.active
    ws.append(["活动日期", "活动类型", "主题"])
    ws.append(["2019-01-01", "专题报告", "a"])
    ws.append(["2019-01-01", "专题报告", "a"])
    dup = tmp_path / "dup.xlsx"
    book.save(dup)
    assert main(["import", LEDGER, str(dup), "--org", "c1"]) == 1
    assert "第3行：与第2行重复" in capsys.readouterr().err
    assert main(["import", LEDGER, str(dup), "--org", "c1", "--skip-duplicates"]) == 0
    assert Record.objects.count() == 1
    assert main(["import", LEDGER, str(Path(tmp_path / "missing.xlsx")), "--org", "c1"]) == 1
    assert main(["import", "nope", str(dup)]) == 1


def test_an_oversize_upload_is_refused_without_reading_it_whole(client, world, settings):
    settings.MAX_IMPORT_MB = 1
    client.force_login(world.clerk)
    big = io.BytesIO(b"PK\x03\x04" + b"\0" * (1024 * 1024 + 100))
    big.name = "big.xlsx"
    response = client.post(f"/ledgers/{LEDGER}/import", {"file": big})
    assert "超过 1 MB 的大小限制" in response.content.decode()
    assert not list((Path(settings.DATA_DIR) / "imports").glob("*.xlsx"))


def test_a_list_ledger_exports_each_items_state_and_import_leaves_it_to_the_workflow(
    world, tmp_path, make_record, capsys
):
    item = {
        "issued_on": "2019-03-01",
        "source": "巡察反馈",
        "title": "党员发展档案不规范",
        "deadline": "2019-06-30",
    }
    first = make_record("rectification_task", world.c1, item)
    make_record("rectification_task", world.c1, {**item, "title": "三会一课记录不全"})
    closed = {**first.values, "closed_on": "2019-06-20", "on_time": True}  # as a 销号 step leaves it
    Record.objects.filter(pk=first.pk).update(status="已销号", values=closed)
    out = tmp_path / "list.xlsx"
    assert main(["export", "rectification_task", "--org", "s1", "-o", str(out)]) == 0
    rows = list(load_workbook(out).active.values)
    title = rows[0].index(world.ledger("rectification_task").field("title").label + "*")
    assert rows[0][-1] == "状态"
    assert sorted((r[title], r[-1]) for r in rows[1:]) == [
        ("三会一课记录不全", "待整改"),
        ("党员发展档案不规范", "已销号"),
    ]
    Record.objects.all().delete()
    capsys.readouterr()
    assert main(["import", "rectification_task", str(out)]) == 0
    assert "不是本台账的列" not in capsys.readouterr().out  # 状态 is known: set by the workflow, not by files
    # New items start in the initial state, and 销号日期/按期销号 are the workflow's to write, not the file's.
    assert sorted(Record.objects.values_list("status", flat=True)) == ["待整改", "待整改"]
    assert not any("closed_on" in r.values or "on_time" in r.values for r in Record.objects.all())


def test_a_workbook_of_monthly_sheets_imports_the_sheet_named_on_the_web_and_the_command_line(
    client, world, tmp_path, capsys
):
    book = Workbook()
    book.remove(book.active)
    for month, rows in {
        "10月": [["幸福社区", "2019-10-08", "专题党课", "十月党课"]],
        "11月": [
            ["幸福社区", "2019-11-08", "专题党课", "十一月党课"],
            ["幸福社区", "2019-11-20", "理论宣讲", "十一月宣讲"],
        ],
    }.items():
        ws = book.create_sheet(month)
        ws.append(["填报单位", "活动日期*", "活动类型*", "主题*"])
        for row in rows:
            ws.append(row)
    path = tmp_path / "monthly.xlsx"
    book.save(path)
    client.force_login(world.clerk, backend="django.contrib.auth.backends.ModelBackend")
    form = client.get(f"/ledgers/{LEDGER}/import").content.decode()
    assert 'name="sheet"' in form
    with path.open("rb") as fh:
        first = client.post(f"/ledgers/{LEDGER}/import", {"file": fh, "token": "b" * 32}, follow=True)
    assert "工作表“11月”也像是本台账的数据，这次只导入了工作表“10月”" in first.content.decode()
    with path.open("rb") as fh:
        client.post(f"/ledgers/{LEDGER}/import", {"file": fh, "token": "c" * 32, "sheet": "11月"})
    assert sorted(Record.objects.values_list("values__title", flat=True)) == [
        "十一月党课",
        "十一月宣讲",
        "十月党课",
    ]
    Record.objects.all().delete()
    assert main(["import", LEDGER, str(path), "--sheet", "11月"]) == 0
    assert Record.objects.count() == 2
    assert main(["import", LEDGER, str(path), "--sheet", "13月"]) == 1
    assert "没有名为“13月”的工作表" in capsys.readouterr().err
