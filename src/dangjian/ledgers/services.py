"""Saving, deleting and restoring records: every entry path (web form, import, API) comes through here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from dangjian.orgs import access
from dangjian.orgs.models import Organization

from . import collection
from .fields import display_value, validate_values
from .models import Attachment, LedgerType, Record


class RecordInvalid(Exception):
    """Validation failed; `errors` maps a field code (or "__all__") to a Chinese message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("；".join(errors.values()))


class RecordLocked(RecordInvalid):
    """The record falls under a 报送 (填报任务) lock: only reviewers above the unit may change it now."""


def _guard(user: Any, record: Record, *dates: dt.date | None, entered: dt.date | None = None) -> None:
    """Refuse a change to a record under a 报送 lock (at any of the dates); an entry marks its tasks 暂存."""
    target = collection.locking_target(user, record.ledger_type, record.org, dates)
    if target is not None:
        raise RecordLocked({"__all__": collection.lock_message(target)})
    if entered is not None:
        collection.note_started(user, record.ledger_type, record.org, entered)


def clean_record_values(ledger_type: LedgerType, raw: dict[str, Any], *, keep: dict[str, Any] | None = None):
    """Validate raw values against the active fields; return (values, date, end_date) or raise RecordInvalid.

    `keep` holds the record's stored values: archived fields' values are carried over untouched.
    """
    fields = ledger_type.active_fields()
    values, errors = validate_values(fields, raw)
    if errors:
        raise RecordInvalid(errors)
    date = _as_date(values.get(ledger_type.date_field))
    if date is None:
        field = ledger_type.field(ledger_type.date_field)
        label = field.label if field else "日期"
        raise RecordInvalid({ledger_type.date_field: f"【{label}】为必填项"})
    end_date = _as_date(values.get(ledger_type.end_date_field)) if ledger_type.end_date_field else None
    if end_date is not None and end_date < date:
        field = ledger_type.field(ledger_type.end_date_field)
        label = field.label if field else "结束日期"
        raise RecordInvalid({ledger_type.end_date_field: f"【{label}】不能早于开始日期"})
    for f in ledger_type.archived_fields():
        if keep and f.code in keep:
            values[f.code] = keep[f.code]
    return values, date, end_date


def initial_state(ledger_type: LedgerType) -> str:
    """The state a new record of a list ledger starts in (every entry path: form, import, API); "" otherwise."""
    workflow = ledger_type.workflow or {}
    return workflow.get("initial") or (workflow["states"][0] if workflow else "")


def workflow_managed_fields(ledger_type: LedgerType) -> list[str]:
    """Fields only a workflow step writes (销号日期, 按期销号): what a form or a file says of them is ignored."""
    workflow = ledger_type.workflow or {}
    return [f for f in (workflow.get("closed_on_field"), workflow.get("on_time_field")) if f]


def _as_date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def check_upload(upload: UploadedFile) -> None:
    """Refuse files that are too large or of a kind that is not 佐证材料."""
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024
    name = upload.name or ""
    if upload.size and upload.size > limit:
        raise RecordInvalid({"__all__": f"附件“{name}”超过 {settings.MAX_UPLOAD_MB} MB 的大小限制"})
    if Path(name).suffix.lower() not in settings.ATTACHMENT_EXTENSIONS:
        allowed = "、".join(e.lstrip(".") for e in settings.ATTACHMENT_EXTENSIONS)
        raise RecordInvalid({"__all__": f"附件“{name}”的类型不支持，可上传：{allowed}"})


@transaction.atomic
def save_record(
    user: Any,
    ledger_type: LedgerType,
    raw: dict[str, Any],
    *,
    org: Organization | None = None,
    record: Record | None = None,
    uploads: dict[str, list[UploadedFile]] | list[UploadedFile] | None = None,
    key: str = "",
    check_access: bool = True,
) -> Record:
    """Create (org given) or update (record given) a record. All or nothing: on error nothing changes.

    `uploads` maps a file field's code to its new files ("" or a plain list: general 佐证材料). A file field's
    value is its attachments: they are the one source, so no typed value can point at another record's files.
    """
    if record is None and org is None:
        raise ValueError("org or record is required")
    if record is not None and record.ledger_type_id != ledger_type.pk:
        raise ValueError("record belongs to another ledger type")
    if check_access:
        if record is not None:
            allowed = access.may_change_record(user, record)
        else:
            assert org is not None
            allowed = access.may_enter(user, ledger_type, org)
        if not allowed:
            raise PermissionDenied("无权在此单位填报或修改该台账")
    by_field = uploads if isinstance(uploads, dict) else {"": list(uploads or [])}
    for files in by_field.values():
        for upload in files:
            check_upload(upload)
    raw = dict(raw)
    file_fields = [f.code for f in ledger_type.active_fields() if f.type == "file"]
    for code in file_fields:  # a required file field is satisfied by stored or new attachments
        stored = record.attachments.filter(field_code=code).count() if record else 0
        raw[code] = list(range(stored + len(by_field.get(code, []))))
    values, date, end_date = clean_record_values(ledger_type, raw, keep=record.values if record else None)
    for code in file_fields:
        values.pop(code, None)
    for managed in workflow_managed_fields(ledger_type):
        # written only by a workflow step (ledgers/workflow.py): an edit or an import keeps what is stored
        values.pop(managed, None)
        if record is not None and managed in record.values:
            values[managed] = record.values[managed]
    now = timezone.now()
    actor = user if getattr(user, "is_authenticated", False) else None
    if record is None:
        record = Record(ledger_type=ledger_type, org=org, created_by=actor, created_at=now, key=key)
        record.status = initial_state(ledger_type)
    # old and new date: moving a record into or out of a submitted period is refused either way
    _guard(user, record, record.date, date, entered=date)
    record.values, record.date, record.end_date = values, date, end_date
    record.updated_by, record.updated_at = actor, now
    record._change_reason = "修改" if record.pk else "新增"  # type: ignore[attr-defined]
    _set_history_user(record, actor)
    record.save()
    store_attachments(record, by_field, actor)
    return record


def store_attachments(
    record: Record, by_field: dict[str, list[UploadedFile]], actor: Any
) -> list[Attachment]:
    """Keep checked uploads as the record's 佐证材料, each under its file field ("" for general ones)."""
    return [
        Attachment.objects.create(
            record=record,
            field_code=code,
            file=upload,
            name=upload.name or "附件",
            size=upload.size or 0,
            uploaded_by=actor,
        )
        for code, files in by_field.items()
        for upload in files
    ]


def _set_history_user(record: Record, user: Any) -> None:
    # The history middleware only knows web requests; imports and commands name the actor here.
    if getattr(user, "is_authenticated", False):
        record._history_user = user  # type: ignore[attr-defined]


@transaction.atomic
def delete_record(user: Any, record: Record) -> None:
    if not access.may_change_record(user, record):
        raise PermissionDenied("无权删除该记录")
    _guard(user, record, record.date)
    record.is_deleted, record.deleted_at, record.deleted_by = True, timezone.now(), user
    record._change_reason = "删除"  # type: ignore[attr-defined]
    _set_history_user(record, user)
    record.save()


@transaction.atomic
def restore_record(user: Any, record: Record) -> None:
    if not access.may_change_record(user, record):
        raise PermissionDenied("无权恢复该记录")
    _guard(user, record, record.date)
    record.is_deleted, record.deleted_at, record.deleted_by = False, None, None
    record._change_reason = "恢复"  # type: ignore[attr-defined]
    _set_history_user(record, user)
    record.save()


def history(record: Record) -> list[dict[str, Any]]:
    """The record's change history, newest first: who, when, what, and each changed value before → after."""
    labels = {f.code: f for f in record.ledger_type.fields.all()}
    entries = list(record.history.select_related("history_user").order_by("-history_date", "-history_id"))
    out = []
    for i, entry in enumerate(entries):
        older = entries[i + 1] if i + 1 < len(entries) else None
        changes = []
        before_values = older.values if older else {}
        for code in sorted(
            set(before_values) | set(entry.values),
            key=lambda c: list(labels).index(c) if c in labels else 999,
        ):
            old, new = before_values.get(code), entry.values.get(code)
            if old != new:
                field = labels.get(code)
                changes.append(
                    {
                        "field": field.label if field else code,
                        "before": display_value(field, old),
                        "after": display_value(field, new),
                    }
                )
        if older and older.is_deleted != entry.is_deleted:
            changes.append(
                {
                    "field": "状态",
                    "before": "已删除" if older.is_deleted else "正常",
                    "after": "已删除" if entry.is_deleted else "正常",
                }
            )
        user = entry.history_user
        out.append(
            {
                "when": entry.history_date,
                "user": (user.get_full_name() or user.username) if user else "系统",
                "action": entry.history_change_reason
                or {"+": "新增", "~": "修改", "-": "删除"}[entry.history_type],
                "changes": changes,
            }
        )
    return out
