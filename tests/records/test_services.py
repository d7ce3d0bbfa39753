"""Saving through the service: history (who, when, before → after), soft delete and restore, archived fields."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from dangjian.orgs import access
from dangjian.packs.loader import PACKS_DIR, load_all
from dangjian.records.models import Attachment, Record
from dangjian.records.services import (
    RecordInvalid,
    delete_record,
    history,
    restore_record,
    save_record,
)

MEETING = {"date": "2019-03-05", "kind": "党课", "topic": "学习党章", "attendance": "30", "host": "张三"}


@pytest.fixture
def meeting(world):
    return world.ledger("organization_life")


def _visible(user, lt) -> list[Record]:
    return list(access.records(user, lt, Record.objects.all()))


def test_it_records_who_created_and_changed_a_record(world, meeting):
    record = save_record(world.clerk, meeting, MEETING, org=world.c1)
    save_record(
        world.reviewer, meeting, {**MEETING, "attendance": "32", "topic": "学习党章党规"}, record=record
    )
    record.refresh_from_db()
    assert record.created_by == world.clerk
    assert record.updated_by == world.reviewer
    assert record.org == world.c1

    entries = history(record)
    assert [e["action"] for e in entries] == ["修改", "新增"]
    assert [e["user"] for e in entries] == ["reviewer", "clerk"]
    assert all(isinstance(e["when"], dt.datetime) for e in entries)
    assert entries[0]["when"] >= entries[1]["when"]
    assert entries[0]["changes"] == [
        {"field": "议题", "before": "学习党章", "after": "学习党章党规"},
        {"field": "应到人数", "before": "30", "after": "32"},
    ]
    created = {c["field"]: c for c in entries[1]["changes"]}
    assert created["日期"] == {"field": "日期", "before": "", "after": "2019年3月5日"}


def test_it_shows_delete_and_restore_in_history(world, meeting):
    record = save_record(world.clerk, meeting, MEETING, org=world.c1)
    delete_record(world.clerk, record)
    restore_record(world.reviewer, record)
    entries = history(record)
    assert [(e["action"], e["user"]) for e in entries] == [
        ("恢复", "reviewer"),
        ("删除", "clerk"),
        ("新增", "clerk"),
    ]
    assert entries[0]["changes"] == [{"field": "状态", "before": "已删除", "after": "正常"}]
    assert entries[1]["changes"] == [{"field": "状态", "before": "正常", "after": "已删除"}]


def test_deleted_records_vanish_and_come_back_after_restore(world, meeting):
    record = save_record(world.clerk, meeting, MEETING, org=world.c1)
    assert _visible(world.reviewer, meeting) == [record]

    delete_record(world.clerk, record)
    record.refresh_from_db()
    assert record.is_deleted
    assert record.deleted_by == world.clerk
    assert record.deleted_at is not None
    assert _visible(world.reviewer, meeting) == []
    assert _visible(world.clerk, meeting) == []
    # The row is kept: only a restore away.
    assert list(access.records(world.clerk, meeting, Record.objects.all(), include_deleted=True)) == [record]

    restore_record(world.clerk, record)
    record.refresh_from_db()
    assert not record.is_deleted
    assert (record.deleted_by, record.deleted_at) == (None, None)
    assert _visible(world.reviewer, meeting) == [record]
    assert record.values["topic"] == "学习党章"


@pytest.mark.parametrize("who", ["sibling", "viewer", "sysadmin", "outsider"])
def test_it_refuses_delete_and_restore_by_others(world, meeting, who):
    record = save_record(world.clerk, meeting, MEETING, org=world.c1)
    with pytest.raises(PermissionDenied):
        delete_record(getattr(world, who), record)
    record.refresh_from_db()
    assert not record.is_deleted
    delete_record(world.clerk, record)
    with pytest.raises(PermissionDenied):
        restore_record(getattr(world, who), record)
    record.refresh_from_db()
    assert record.is_deleted


@pytest.mark.parametrize("who", ["sibling", "viewer", "sysadmin", "outsider"])
def test_it_refuses_entry_and_change_by_others(world, meeting, who):
    user = getattr(world, who)
    with pytest.raises(PermissionDenied):
        save_record(user, meeting, MEETING, org=world.c1)
    record = save_record(world.clerk, meeting, MEETING, org=world.c1)
    with pytest.raises(PermissionDenied):
        save_record(user, meeting, {**MEETING, "topic": "篡改"}, record=record)
    record.refresh_from_db()
    assert record.values["topic"] == "学习党章"
    assert Record.objects.count() == 1


def test_it_refuses_entry_for_an_inactive_org(world, meeting):
    world.c1.is_active = False
    world.c1.save()
    with pytest.raises(PermissionDenied):
        save_record(world.unit_admin, meeting, MEETING, org=world.c1)
    assert not Record.objects.exists()


def test_it_refuses_to_update_a_record_through_another_ledger(world, meeting):
    record = save_record(world.clerk, meeting, MEETING, org=world.c1)
    with pytest.raises(ValueError):
        save_record(world.clerk, world.ledger("study_activity"), {"date": "2019-01-01"}, record=record)
    record.refresh_from_db()
    assert record.values["topic"] == "学习党章"


def test_it_keeps_an_archived_fields_value_through_later_edits(world, meeting):
    record = save_record(world.clerk, meeting, MEETING, org=world.c1)
    host = meeting.fields.get(code="host")
    host.is_archived = True
    host.save()

    assert "host" not in [f.code for f in meeting.active_fields()]
    save_record(world.clerk, meeting, {**MEETING, "topic": "新议题", "host": "李四"}, record=record)
    record.refresh_from_db()
    assert record.values["topic"] == "新议题"
    assert record.values["host"] == "张三"  # kept as stored; an archived field is no longer entered


def test_it_keeps_values_of_a_field_dropped_from_a_pack(world, meeting, tmp_path):
    record = save_record(world.clerk, meeting, MEETING, org=world.c1)
    # The same core pack with the 主持人 (host) field removed.
    shutil.copytree(PACKS_DIR / "core", tmp_path / "core")
    toml = tmp_path / "core" / "pack.toml"
    text = toml.read_text(encoding="utf-8")
    block = '  [[ledger_types.fields]]\n  code = "host"\n  label = "主持人"\n  type = "person"\n\n'
    assert block in text
    toml.write_text(text.replace(block, ""), encoding="utf-8")
    load_all(Path(tmp_path))

    host = meeting.fields.get(code="host")
    assert host.is_archived
    assert [f.code for f in meeting.archived_fields()] == ["host"]
    record.refresh_from_db()
    assert record.values["host"] == "张三"

    save_record(world.clerk, meeting, {**MEETING, "present": "28"}, record=record)
    record.refresh_from_db()
    assert record.values["host"] == "张三"
    assert record.values["present"] == 28

    # Putting the field back in the pack brings it back, with its value.
    toml.write_text(text, encoding="utf-8")
    load_all(Path(tmp_path))
    host.refresh_from_db()
    assert not host.is_archived


def test_it_stores_attachments_and_refuses_bad_ones(world, meeting, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("会议记录.pdf", b"%PDF-1.4 minutes", content_type="application/pdf")
    record = save_record(world.clerk, meeting, MEETING, org=world.c1, uploads=[upload])
    attachment = Attachment.objects.get(record=record)
    assert attachment.name == "会议记录.pdf"
    assert Path(attachment.file.path).is_relative_to(tmp_path)

    before = Record.objects.count()
    with pytest.raises(RecordInvalid, match="类型不支持"):
        save_record(world.clerk, meeting, MEETING, org=world.c1, uploads=[SimpleUploadedFile("x.exe", b"MZ")])
    settings.MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("大文件.pdf", b"0" * (1024 * 1024 + 1))
    with pytest.raises(RecordInvalid, match="超过 1 MB"):
        save_record(world.clerk, meeting, MEETING, org=world.c1, uploads=[big])
    assert Record.objects.count() == before
    assert Attachment.objects.count() == 1


def _ledger_with_required_file():
    from dangjian.packs.handlers import load_ledger_type
    from dangjian.packs.loader import Pack

    return load_ledger_type(
        {
            "code": "rectification_proof",
            "label": "整改佐证台账",
            "date_field": "date",
            "fields": [
                {"code": "date", "label": "日期", "type": "date", "required": True},
                {"code": "proof", "label": "整改佐证", "type": "file", "required": True},
            ],
        },
        Pack("t", "t", 50, Path("."), {}),
        0,
    )


def test_a_required_file_field_needs_an_attachment(world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    lt = _ledger_with_required_file()
    with pytest.raises(RecordInvalid) as exc:
        save_record(world.clerk, lt, {"date": "2019-05-01", "proof": [1, 2]}, org=world.c1)
    assert "【整改佐证】为必填项" in exc.value.errors["proof"]
    assert not Record.objects.filter(ledger_type=lt).exists()

    upload = SimpleUploadedFile("佐证.pdf", b"%PDF-1.4 proof")
    record = save_record(world.clerk, lt, {"date": "2019-05-01"}, org=world.c1, uploads={"proof": [upload]})
    assert [(a.field_code, a.name) for a in record.attachments.all()] == [("proof", "佐证.pdf")]
    assert "proof" not in record.values  # the attachments are the value; typed ids are never stored

    # Editing without a new file keeps the requirement met by the stored attachment.
    save_record(world.clerk, lt, {"date": "2019-05-02"}, record=record)
    record.refresh_from_db()
    assert record.date.isoformat() == "2019-05-02"
