from __future__ import annotations

import json
import sqlite3
import zipfile

import pytest
from django.db import connection

from dangjian.backup import make_backup


# Committed data, as when an administrator runs `dangjian backup` (SQLite's backup waits on open write transactions).
@pytest.mark.django_db(transaction=True)
def test_backup_holds_the_records_and_attachments(world, make_record, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "attachments").mkdir(parents=True)
    (tmp_path / "media" / "attachments" / "minutes.pdf").write_bytes(b"%PDF-1.4 test")
    make_record(
        "study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "备份测试专题"}
    )

    target = tmp_path / "out" / "backup.zip"
    counts = make_backup(target)

    assert counts["files"] == 1
    with zipfile.ZipFile(target) as zf:
        names = zf.namelist()
        assert "media/attachments/minutes.pdf" in names
        if connection.vendor == "sqlite":
            zf.extract("db.sqlite3", tmp_path)
            db = sqlite3.connect(tmp_path / "db.sqlite3")
            titles = [json.loads(v)["title"] for (v,) in db.execute("select `values` from ledgers_record")]
            assert titles == ["备份测试专题"]
        else:
            data = json.loads(zf.read("data.json"))
            titles = [row["fields"]["values"]["title"] for row in data if row["model"] == "ledgers.record"]
            assert titles == ["备份测试专题"]
