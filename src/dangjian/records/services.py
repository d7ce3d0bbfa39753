"""The one write path for records: every entry path (web form, xlsx import, API, workflow steps, demo data) comes
through here, and nothing else creates or changes a `Record`.

Everything is a batch — a form save is a batch of one, an import a batch of 100,000 — and a batch is all or
nothing. The service owns, for every batch:
- validation: each field by its type's validator (records/fields.py), then the rules across fields (the date is
  required, an end date not before it, archived fields kept, fields only a workflow step writes left alone);
- the 报送 locks: a record of a submitted 填报任务 period is changed only by reviewers above the unit (the rule
  itself is the task stage's, asked through the hook in `locks.py` that `dangjian.tasks` registers; here it is
  applied to every change);
- a list ledger's initial state and its transitions (the definition in `workflow_definition`);
- history (who, when, before → after, why), attachments, soft delete and restore.

Errors are `RecordInvalid`: a list of `Problem`s, each a Chinese message naming the row (when the batch has rows)
and the field. Nothing is written then.

A large batch of new records (`Creation`) is checked row by row with reads only, outside any transaction, and then
written in short transactions of WRITE_BATCH rows (SQLite has one write lock: others' saves wait for one batch,
not for the whole import). The 报送 locks are checked again inside each batch's transaction; if any batch fails,
the batches already written by the same call are deleted again, so the call leaves nothing behind. Records and
their history rows are inserted with executemany from a row template, not model instances (the ORM's per-object
work would be most of an import's time); their ids are reserved first so the history rows can name them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone

from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.text import person

from . import (
    counts,  # watches every write to the record tables: kept list counts go stale
    rules,
)
from . import locks as task_locks
from .fields import FieldError, display_value, is_empty, validate_value
from .models import Attachment, LedgerField, LedgerType, Record, Transition
from .workflow_definition import Step, Workflow, workflow_of

MAX_LISTED = 1000  # problems listed in a RecordInvalid; all of them are counted
WRITE_BATCH = 5000  # rows per write transaction of a large batch
MEMO_LIMIT = 4096  # distinct cell values remembered per field while checking one batch
Uploads = dict[str, list[UploadedFile]]


# --- errors ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a batch: a Chinese message (naming the field as 【标签】), where it is, and what kind."""

    message: str
    field: str = ""  # the field's code; "" for the record as a whole
    row: int | None = None  # the caller's row number (a file's row, an API batch's position)
    record: int | None = None  # the stored record's id, when the problem is with one
    locked: bool = False  # a 报送 lock refused it

    def __str__(self) -> str:
        return f"第{self.row}行：{self.message}" if self.row is not None else self.message


class RecordInvalid(Exception):
    """The batch was refused and nothing was written. `problems` lists the first MAX_LISTED, `count` all of them;
    `errors` maps a field code (or "__all__") to its first message, as a form shows them for a batch of one."""

    def __init__(self, problems: dict[str, str] | Iterable[Problem], count: int | None = None) -> None:
        if isinstance(problems, dict):
            problems = [Problem(m, "" if code == "__all__" else code) for code, m in problems.items()]
        listed = list(problems)
        self.problems = listed[:MAX_LISTED]
        self.count = max(count or 0, len(listed))
        super().__init__("；".join(str(p) for p in self.problems[:20]))

    @property
    def errors(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for p in self.problems:
            out.setdefault(p.field or "__all__", p.message)
        return out


class RecordLocked(RecordInvalid):
    """The record falls under a 报送 (填报任务) lock: only reviewers above the unit may change it now."""


class _Problems:
    """Collects a batch's problems: the first MAX_LISTED kept, all counted."""

    def __init__(self) -> None:
        self.listed: list[Problem] = []
        self.count = 0
        self.locked = True  # every problem so far is a lock (then RecordLocked is raised)

    def add(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.count += 1
            self.locked = self.locked and p.locked
            if len(self.listed) < MAX_LISTED:
                self.listed.append(p)

    def raise_any(self) -> None:
        if self.count:
            kind = RecordLocked if self.locked else RecordInvalid
            raise kind(self.listed, self.count)


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


# --- validation ------------------------------------------------------------------------------------------------


_UNHASHABLE = frozenset({list, dict, set})


class Rules:
    """A ledger's field and cross-field rules, prepared once per batch.

    Each field's validator is the one for its type (`fields.validate_value`); within a batch its answers are
    remembered per distinct cell value (validators are pure, and a sheet repeats its kinds, places, dates and
    names), which is where checking 100,000 rows gets most of its speed.
    """

    def __init__(self, lt: LedgerType) -> None:
        self.lt = lt
        self.fields = lt.active_fields()
        self.archived = [f.code for f in lt.archived_fields()]
        self.file_fields = [f.code for f in self.fields if f.type == "file"]
        # a file field's value is its attachments (see `required_files`), never typed
        self.typed = [f for f in self.fields if f.type != "file"]
        self.required_file_fields = [f for f in self.fields if f.type == "file" and f.required]
        self.workflow: Workflow | None = workflow_of(lt)
        self.managed = self.workflow.managed_fields if self.workflow else ()
        self.labels = {f.code: f.label for f in lt.fields.all()}
        # Cross-field rules (records/rules.py), checked at pack load; a hand-broken one refuses every save, named.
        try:
            self.rules = rules.parse(
                lt.rules or [], {f.code: f.type for f in self.fields}, f"台账“{lt.label}”"
            )
            self.rules_broken = ""
        except rules.RuleError as exc:
            self.rules, self.rules_broken = [], str(exc)
        self.today = timezone.localdate()
        self._memo: dict[str, dict[tuple[type, Any], tuple[bool, Any]]] = {f.code: {} for f in self.fields}

    def _value(self, f: LedgerField, value: Any) -> Any:
        """Validate one value (FieldError), remembering the answer for hashable values."""
        if isinstance(value, list | dict | set):
            return validate_value(f, value)
        memo = self._memo[f.code]
        key = (type(value), value)
        hit = memo.get(key)
        if hit is None:
            try:
                hit = (True, validate_value(f, value))
            except FieldError as exc:
                hit = (False, exc.message)
            if len(memo) < MEMO_LIMIT:
                memo[key] = hit
        ok, result = hit
        if not ok:
            raise _Known(f, result)
        return list(result) if isinstance(result, list) else result

    def clean(
        self,
        raw: dict[str, Any],
        *,
        keep: dict[str, Any] | None = None,
        row: int | None = None,
        seeded: bool = False,
    ) -> tuple[dict[str, Any], dt.date, dt.date | None]:
        """(values, date, end date) from what a user typed, or RecordInvalid naming each field.

        `keep` holds a stored record's values: archived fields and the fields only a workflow step writes keep
        them. `seeded` (demo data of items already in a later state) keeps the step fields given in `raw`."""
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        memos = self._memo
        for f in self.typed:
            value = raw.get(f.code)
            # the remembered answer first: most cells of a large batch repeat a value seen before
            # (class tests rather than isinstance: this runs for every cell of an import)
            kind = value.__class__
            hit = memos[f.code].get((kind, value)) if kind not in _UNHASHABLE else None
            if hit is not None and hit[0] and hit[1].__class__ is not list:
                value = hit[1]
            else:
                try:
                    value = self._value(f, value)
                except FieldError as exc:
                    problems.append(Problem(exc.message, f.code, row))
                    continue
            if value is not None:
                values[f.code] = value
        lt = self.lt
        date = _as_date(values.get(lt.date_field))
        if date is None and not any(p.field == lt.date_field for p in problems):
            label = self.labels.get(lt.date_field, "日期")
            problems.append(Problem(f"【{label}】为必填项", lt.date_field, row))
        end_date = _as_date(values.get(lt.end_date_field)) if lt.end_date_field else None
        if date is not None and end_date is not None and end_date < date:
            label = self.labels.get(lt.end_date_field, "结束日期")
            problems.append(Problem(f"【{label}】不能早于开始日期", lt.end_date_field, row))
        if self.rules_broken:
            problems.append(Problem(f"{self.rules_broken}，请管理员改正后再保存", "", row))
        failed = {p.field for p in problems}
        for rule in self.rules:
            if rule.field in failed or (rule.than and rule.than in failed):
                continue  # a value already refused is not compared
            message = rule.problem(values, self.labels, self.today)
            if message:
                problems.append(
                    Problem(f"【{self.labels.get(rule.field, rule.field)}】{message}", rule.field, row)
                )
        if problems:
            raise RecordInvalid(problems)
        assert date is not None
        for code in self.archived:
            if keep and code in keep:
                values[code] = keep[code]
        if not seeded:
            for code in self.managed:  # written only by a workflow step (see `transition_records`)
                values.pop(code, None)
                if keep and code in keep:
                    values[code] = keep[code]
        return values, date, end_date

    def required_files(self, stored: dict[str, int], uploads: Uploads, row: int | None) -> list[Problem]:
        """A required file field is satisfied by stored or new attachments."""
        return [
            Problem(f"【{f.label}】为必填项", f.code, row)
            for f in self.required_file_fields
            if not stored.get(f.code) and not uploads.get(f.code)
        ]


class _OrgChoices:
    """An org field names an org the account may pick: an active one within its subtrees, as the form offers (or the
    org the record already names). Typed, imported and API values are held to the same list."""

    def __init__(self, user: Any, rules: Rules, *, check_access: bool) -> None:
        self.codes = [f.code for f in rules.typed if f.type == "org"] if check_access else []
        self.labels = rules.labels
        self.scope = access.scope(user) if self.codes else None
        self._allowed: dict[str, bool] = {}

    def problems(self, values: dict[str, Any], keep: dict[str, Any] | None, row: int | None) -> list[Problem]:
        out = []
        for code in self.codes:
            value = values.get(code)
            if value is None or (keep is not None and keep.get(code) == value) or self._may_pick(value):
                continue
            label = self.labels.get(code, code)
            out.append(Problem(f"【{label}】“{value}”不在您可以选择的组织范围内", code, row))
        return out

    def _may_pick(self, org_code: str) -> bool:
        if org_code not in self._allowed:
            assert self.scope is not None
            self._allowed[org_code] = self.scope.orgs().filter(code=org_code, is_active=True).exists()
        return self._allowed[org_code]


class _Known(FieldError):
    """A validator's remembered refusal, re-raised with its message as it was."""

    def __init__(self, field: Any, message: str) -> None:
        ValueError.__init__(self, message)
        self.field = field
        self.message = message


def initial_state(ledger_type: LedgerType) -> str:
    """The state a new record of a list ledger starts in; "" for other ledgers."""
    wf = workflow_of(ledger_type)
    return wf.initial if wf else ""


def _as_date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def check_upload(upload: UploadedFile) -> None:
    """Refuse files that are too large or of a kind that is not 佐证材料."""
    problem = _upload_problem(upload)
    if problem:
        raise RecordInvalid({"__all__": problem})


def _upload_problem(upload: UploadedFile) -> str:
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024
    name = upload.name or ""
    if upload.size and upload.size > limit:
        return f"附件“{name}”超过 {settings.MAX_UPLOAD_MB} MB 的大小限制"
    if Path(name).suffix.lower() not in settings.ATTACHMENT_EXTENSIONS:
        allowed = "、".join(e.lstrip(".") for e in settings.ATTACHMENT_EXTENSIONS)
        return f"附件“{name}”的类型不支持，可上传：{allowed}"
    return ""


def _upload_problems(uploads: Uploads, row: int | None) -> list[Problem]:
    return [
        Problem(message, code, row)
        for code, files in uploads.items()
        for upload in files
        if (message := _upload_problem(upload))
    ]


def _by_field(uploads: Uploads | list[UploadedFile] | None) -> Uploads:
    return uploads if isinstance(uploads, dict) else {"": list(uploads or [])}


# --- the 报送 locks ----------------------------------------------------------------------------------------------


class _Locks:
    """The 报送 locks one user meets on one ledger. A small batch asks per record; a large one reads every lock
    of the ledger once and checks rows in memory (`LockProvider.locks_for`)."""

    def __init__(self, user: Any, lt: LedgerType, *, bulk: bool = False) -> None:
        self.user, self.lt = user, lt
        self.provider = task_locks.provider()
        self.all: task_locks.Locks | None = self.provider.locks_for(user, lt) if bulk else None

    def reload(self) -> None:
        self.all = self.provider.locks_for(self.user, self.lt)

    def target(self, org: Organization | int, *dates: dt.date | None) -> Any | None:
        if self.all is None and not isinstance(org, Organization):
            self.reload()
        if self.all is None:
            assert isinstance(org, Organization)
            return self.provider.locking_target(self.user, self.lt, org, dates)
        if not self.all:  # no unit has submitted this ledger: nothing to look for
            return None
        org_id = org if isinstance(org, int) else org.pk
        if org_id not in self.all:
            return None
        return next(
            (t for d in dates if d is not None and (t := self.provider.lock_at(self.all, org_id, d))), None
        )

    def problem(
        self, org: Organization | int, *dates: dt.date | None, row: int | None = None
    ) -> Problem | None:
        target = self.target(org, *dates)
        if target is None:
            return None
        return Problem(self.provider.lock_message(target), "", row, locked=True)


def _guard(locks: _Locks, record: Record, *dates: dt.date | None, row: int | None = None) -> list[Problem]:
    problem = locks.problem(record.org, *dates, row=row)
    if problem is not None:
        return [Problem(problem.message, "", row, record.pk, locked=True)]
    return []


# --- history -----------------------------------------------------------------------------------------------------


def _save(record: Record, actor: Any, reason: str) -> None:
    """Save one changed record with its history entry (who, why); the history keeps the values before and after."""
    record._change_reason = reason  # type: ignore[attr-defined]
    if actor is not None:
        # The history middleware only knows web requests; imports, the API and commands name the actor here.
        record._history_user = actor  # type: ignore[attr-defined]
    record.save()


def history(record: Record) -> list[dict[str, Any]]:
    """The record's change history, newest first: who, when, what, and each changed value before → after."""
    labels = {f.code: f for f in record.ledger_type.fields.all()}
    order = {code: i for i, code in enumerate(labels)}
    entries = list(record.history.select_related("history_user").order_by("-history_date", "-history_id"))
    out = []
    for i, entry in enumerate(entries):
        older = entries[i + 1] if i + 1 < len(entries) else None
        changes = []
        before_values = older.values if older else {}
        for code in sorted(set(before_values) | set(entry.values), key=lambda c: order.get(c, 999)):
            old, new = before_values.get(code), entry.values.get(code)
            if old != new:
                spec = labels.get(code)
                changes.append(
                    {
                        "field": spec.label if spec else code,
                        "before": display_value(spec, old),
                        "after": display_value(spec, new),
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
                "user": person(user, "系统"),
                "action": entry.history_change_reason
                or {"+": "新增", "~": "修改", "-": "删除"}[entry.history_type],
                "changes": changes,
            }
        )
    return out


# --- attachments ---------------------------------------------------------------------------------------------------


def store_attachments(record: Record, by_field: Uploads, actor: Any) -> list[Attachment]:
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


# --- creating records -----------------------------------------------------------------------------------------------


@dataclass
class NewRecord:
    """One new record as an entry path received it: the reporting org and the values as typed."""

    org: Organization
    values: dict[str, Any]
    key: str = ""
    row: int | None = None
    uploads: Uploads | list[UploadedFile] | None = None
    # demo data only: an item already in a later state of its workflow ("" → the initial state)
    status: str = ""


@dataclass(slots=True)
class Checked:
    """A new record the service has checked and will write as it is (see `Creation.check`)."""

    org_id: int
    date: dt.date
    end_date: dt.date | None
    values: dict[str, Any]
    key: str = ""
    status: str = ""
    row: int | None = None
    uploads: Uploads = field(default_factory=dict)


class Creation:
    """New records of one ledger by one user: `check` each (reads only, no transaction), then `write` them all.

    `reason` names the change in the history ("新增", "导入", "演示数据"). `check_access=False` is for the command
    line and the demo generator, which act for no account; `bulk=True` reads the ledger's 报送 locks once."""

    def __init__(
        self,
        user: Any,
        lt: LedgerType,
        *,
        reason: str = "新增",
        check_access: bool = True,
        bulk: bool = False,
        seeded: bool = False,
    ) -> None:
        self.user, self.lt, self.reason = user, lt, reason
        self.check_access, self.seeded = check_access, seeded
        self.rules = Rules(lt)
        self.org_choices = _OrgChoices(user, self.rules, check_access=check_access)
        self.locks = _Locks(user, lt, bulk=bulk)
        self.state = self.rules.workflow.initial if self.rules.workflow else ""
        self._may_enter: dict[int, bool] = {}
        self._orgs: dict[int, Organization] = {}  # the orgs checked, for the small batches' lock re-check
        self.days: set[tuple[int, dt.date]] = set()  # (org id, date) of the rows written: tasks they start

    def check(self, item: NewRecord) -> Checked:
        """Every rule a new record must meet; RecordInvalid (or RecordLocked) naming the row and each field."""
        org, row = item.org, item.row
        org_id = org.id  # (not .pk: a property, and this runs for every row of an import)
        if self.check_access:
            if org_id not in self._may_enter:
                self._may_enter[org_id] = access.may_enter(self.user, self.lt, org)
            if not self._may_enter[org_id]:
                raise PermissionDenied(f"无权在“{org.name}”填报“{self.lt.label}”")
        uploads = _by_field(item.uploads) if item.uploads else {}
        problems = _upload_problems(uploads, row) if uploads else []
        if self.rules.required_file_fields:
            problems += self.rules.required_files({}, uploads, row)
        try:
            values, date, end_date = self.rules.clean(item.values, row=row, seeded=self.seeded)
        except RecordInvalid as exc:
            raise RecordInvalid(problems + exc.problems) from None
        if self.org_choices.codes:
            problems += self.org_choices.problems(values, None, row)
        if problems:
            raise RecordInvalid(problems)
        status = self.state
        if item.status:
            wf = self.rules.workflow
            if wf is None or item.status not in wf.states:
                raise RecordInvalid([Problem(f"状态“{item.status}”不是“{self.lt.label}”的流程状态", "", row)])
            if not self.seeded:
                message = f"新记录从“{self.state}”开始，状态只能通过流转改变，不能直接填写“{item.status}”"
                raise RecordInvalid([Problem(message, "", row)])
            status = item.status
        locked = self.locks.problem(org, date, row=row)
        if locked is not None:
            raise RecordLocked([locked])
        self._orgs.setdefault(org_id, org)
        return Checked(org_id, date, end_date, values, item.key, status, row, uploads)

    def write(self, rows: Iterable[Checked]) -> list[int]:
        """Write checked records and their history; returns their ids in order. All or nothing.

        Inside a caller's transaction everything is one savepoint. Otherwise the rows go in short transactions of
        WRITE_BATCH; each re-checks the 报送 locks for its rows (a period may have been submitted since `check`),
        and if one fails, what the earlier ones wrote is deleted again before the error is raised."""
        writer = _Inserter(self.lt, _actor(self.user), timezone.now(), self.reason)
        if connection.in_atomic_block:
            with transaction.atomic():
                ids = [i for chunk in _chunks(rows) for i in self._write_chunk(writer, chunk)]
                self._started()
                return ids
        ids = []
        try:
            for chunk in _chunks(rows):
                with transaction.atomic():
                    ids += self._write_chunk(writer, chunk)
            with transaction.atomic():
                self._started()
        except BaseException:
            if ids:
                _undo(ids)
            raise
        if len(ids) >= ANALYZE_AFTER:
            refresh_statistics()
        return ids

    def _write_chunk(self, writer: _Inserter, chunk: list[Checked]) -> list[int]:
        ids = writer.reserve(len(chunk))  # a write first: on SQLite the transaction takes the write lock here
        if self.locks.all is not None:
            self.locks.reload()
        found = _Problems()
        for r in chunk:
            problem = self.locks.problem(self._orgs.get(r.org_id, r.org_id), r.date, row=r.row)
            found.add([problem] if problem is not None else [])
        found.raise_any()
        writer.insert(ids, chunk, self.state)
        self.days.update((r.org_id, r.date) for r in chunk)
        actor = _actor(self.user)
        for record_id, r in zip(ids, chunk, strict=True):
            if r.uploads and any(r.uploads.values()):
                _attach_new(record_id, r, actor)
        return ids

    def _started(self) -> None:
        # Entered records turn their units' 未填报 tasks into 暂存.
        task_locks.provider().note_started_many(self.user, self.lt, self.days)


def _attach_new(record_id: int, row: Checked, actor: Any) -> None:
    record = Record.objects.get(pk=record_id)
    store_attachments(record, row.uploads, actor)


def _chunks(rows: Iterable[Checked]) -> Iterator[list[Checked]]:
    it = iter(rows)
    while chunk := list(islice(it, WRITE_BATCH)):
        yield chunk


def _undo(ids: list[int]) -> None:
    """Delete records this call wrote in earlier transactions (with their history, files and steps)."""
    history_table = Record.history.model._meta.db_table  # type: ignore[attr-defined]
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            Attachment.objects.filter(record_id__in=part).delete()
            Transition.objects.filter(record_id__in=part).delete()
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(f"DELETE FROM {quote(history_table)} WHERE {quote('id')} IN ({marks})", part)
            cursor.execute(
                f"DELETE FROM {quote(Record._meta.db_table)} WHERE {quote('id')} IN ({marks})", part
            )


class _Inserter:
    """INSERT statements for new records and their history entries, each row made from a template row.

    The template holds every column's database value as the ORM would send it (computed once, from a model
    instance); per row only id, org, dates, values, key and status change, converted by the database's own
    adapters. The same statements run on SQLite and PostgreSQL."""

    VARYING = ("id", "org_id", "date", "end_date", "values", "key", "status")

    def __init__(self, lt: LedgerType, actor: Any, now: dt.datetime, reason: str) -> None:
        self.history = Record.history.model  # type: ignore[attr-defined]
        proto = Record(
            pk=0, ledger_type=lt, org_id=0, date=dt.date(2000, 1, 1), created_by=actor, updated_by=actor,
            created_at=now, updated_at=now,
        )  # fmt: skip
        entry = self.history(
            history_date=now,
            history_user=actor,
            history_change_reason=reason[:100],
            history_type="+",
            **{f.attname: getattr(proto, f.attname) for f in self.history.tracked_fields},
        )
        self.record_sql, self.record_row, self.record_slots = self._template(Record, proto, skip_pk=False)
        self.history_sql, self.history_row, self.history_slots = self._template(
            self.history, entry, skip_pk=True
        )
        ops = connection.ops
        json_field = Record._meta.get_field("values")
        self.date = ops.adapt_datefield_value
        self.json = lambda v: ops.adapt_json_value(v, json_field.encoder)  # type: ignore[attr-defined]

    def _template(self, model: Any, obj: Any, *, skip_pk: bool) -> tuple[str, list[Any], list[int]]:
        fields = [
            f for f in model._meta.concrete_fields if not f.generated and not (skip_pk and f.primary_key)
        ]
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        row = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
        slots = [next(i for i, f in enumerate(fields) if f.attname == name) for name in self.VARYING]
        return sql, row, slots

    def reserve(self, count: int) -> list[int]:
        """`count` record ids no other row will take."""
        table = Record._meta.db_table
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                # AUTOINCREMENT's counter raised past them: the UPDATE comes first, so it takes the write lock.
                cursor.execute(
                    f"UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT IFNULL(MAX(id), 0) FROM {quote(table)}))"
                    " + %s WHERE name = %s",
                    [count, table],
                )
                if not cursor.rowcount:
                    cursor.execute(
                        f"INSERT INTO sqlite_sequence (name, seq) SELECT %s, IFNULL(MAX(id), 0) + %s FROM {quote(table)}",
                        [table, count],
                    )
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                top = cursor.fetchone()[0]
                return list(range(top - count + 1, top + 1))
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [r[0] for r in cursor.fetchall()]

    def insert(self, ids: list[int], rows: list[Checked], default_state: str) -> None:
        date, json = self.date, self.json
        records, entries = [], []
        rs, hs = self.record_slots, self.history_slots
        for record_id, r in zip(ids, rows, strict=True):
            varying = (
                record_id, r.org_id, date(r.date), date(r.end_date) if r.end_date else None, json(r.values),
                r.key, r.status or default_state,
            )  # fmt: skip
            row = self.record_row.copy()
            entry = self.history_row.copy()
            for i, v in enumerate(varying):
                row[rs[i]] = v
                entry[hs[i]] = v
            records.append(row)
            entries.append(entry)
        if connection.vendor == "postgresql" and len(records) >= COPY_FROM:
            self._copy(records, entries)
            return
        with connection.cursor() as cursor:
            cursor.executemany(self.record_sql, records)
            cursor.executemany(self.history_sql, entries)

    def _copy(self, records: list[list[Any]], entries: list[list[Any]]) -> None:
        """PostgreSQL: the same rows by COPY … FROM STDIN, 45 µs a record and its history row instead of
        executemany's 207 µs (demo data at scale S, docs/benchmarks.md); same columns, values and transaction."""
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
            for statement, rows in ((self.record_sql, records), (self.history_sql, entries)):
                head = statement.split(" VALUES ", 1)[0].replace("INSERT INTO", "COPY", 1)
                with raw.copy(head + " FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        counts.changed()  # COPY bypasses the execute wrapper that notes writes to the record tables


# A batch of at least this many new records goes to PostgreSQL by COPY rather than executemany.
COPY_FROM = 100
# A bulk write of this many records refreshes the planner's statistics of the record tables.
ANALYZE_AFTER = 5_000


def refresh_statistics(*, every_table: bool = False) -> None:
    """Tell the database's planner what the record tables hold now (after an import, demo data, a restore).

    PostgreSQL plans from statistics that only ANALYZE (or autovacuum, which may be off or a minute late) updates:
    right after 100,000 records are loaded it still believes the ledger holds a handful, joins every org to a
    bitmap scan of the records and sorts them all — a records page then takes 0.3 s instead of 30 ms, and 20
    readers queue for 13 s (docs/benchmarks.md). SQLite's `PRAGMA optimize` does the same where it pays.
    `every_table`: after loading a whole database (demo data, a restore), not only the records."""
    tables = [Record._meta.db_table, Record.history.model._meta.db_table]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = "" if every_table else " " + ", ".join(connection.ops.quote_name(t) for t in tables)
            # Outside a transaction VACUUM also marks the new rows all-visible, so a deep records page is read from
            # the index alone (42 ms instead of 84 ms at offset 90,000); inside one, ANALYZE is what may run.
            cursor.execute(("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)") + names)
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize")


def create_records(
    user: Any,
    lt: LedgerType,
    items: Iterable[NewRecord],
    *,
    reason: str = "新增",
    check_access: bool = True,
    seeded: bool = False,
) -> list[int]:
    """Create records (a form's one, an API batch, demo data): every row checked, then all written; their ids.
    RecordInvalid lists every problem (first MAX_LISTED) with its row and field; nothing is written then."""
    items = list(items)
    creation = Creation(
        user, lt, reason=reason, check_access=check_access, bulk=len(items) > 20, seeded=seeded
    )
    found = _Problems()
    checked: list[Checked] = []
    for item in items:
        try:
            checked.append(creation.check(item))
        except RecordInvalid as exc:
            found.add(exc.problems)
    found.raise_any()
    return creation.write(checked)


# --- changing records ------------------------------------------------------------------------------------------------


@dataclass
class Change:
    """New values for a stored record (all its fields, as a form sends them), with any new files."""

    record: Record
    values: dict[str, Any]
    uploads: Uploads | list[UploadedFile] | None = None
    row: int | None = None


@transaction.atomic
def update_records(
    user: Any, lt: LedgerType, changes: Iterable[Change], *, check_access: bool = True
) -> list[Record]:
    """Change records: all checked first, then all saved with their history; all or nothing."""
    changes = list(changes)
    rules = Rules(lt)
    org_choices = _OrgChoices(user, rules, check_access=check_access)
    locks = _Locks(user, lt)
    found = _Problems()
    ready = []
    for c in changes:
        record, row = c.record, c.row
        if record.ledger_type_id != lt.pk:
            raise ValueError("record belongs to another ledger type")
        if check_access and not access.may_change_record(user, record):
            raise PermissionDenied("无权修改该记录")
        uploads = _by_field(c.uploads)
        stored = {code: record.attachments.filter(field_code=code).count() for code in rules.file_fields}
        problems = _upload_problems(uploads, row) + rules.required_files(stored, uploads, row)
        try:
            values, date, end_date = rules.clean(c.values, keep=record.values, row=row)
        except RecordInvalid as exc:
            found.add(problems + exc.problems)
            continue
        problems += org_choices.problems(values, record.values, row)
        # old and new date: moving a record into or out of a submitted period is refused either way
        problems += _guard(locks, record, record.date, date, row=row)
        found.add(problems)
        ready.append((record, values, date, end_date, uploads))
    found.raise_any()
    actor, now = _actor(user), timezone.now()
    for record, values, date, end_date, uploads in ready:
        record.values, record.date, record.end_date = values, date, end_date
        record.updated_by, record.updated_at = actor, now
        _save(record, actor, "修改")
        store_attachments(record, uploads, actor)
        task_locks.provider().note_started(user, lt, record.org, date)
    return [r for r, *_ in ready]


def save_record(
    user: Any,
    ledger_type: LedgerType,
    raw: dict[str, Any],
    *,
    org: Organization | None = None,
    record: Record | None = None,
    uploads: Uploads | list[UploadedFile] | None = None,
    key: str = "",
    check_access: bool = True,
) -> Record:
    """A batch of one: create (org given) or update (record given) a record. On error nothing changes.

    `uploads` maps a file field's code to its new files ("" or a plain list: general 佐证材料). A file field's
    value is its attachments: they are the one source, so no typed value can point at another record's files.
    """
    if record is not None:
        if record.ledger_type_id != ledger_type.pk:
            raise ValueError("record belongs to another ledger type")
        (saved,) = update_records(
            user, ledger_type, [Change(record, raw, uploads)], check_access=check_access
        )
        return saved
    if org is None:
        raise ValueError("org or record is required")
    (pk,) = create_records(
        user, ledger_type, [NewRecord(org, raw, key=key, uploads=uploads)], check_access=check_access
    )
    return Record.objects.select_related("ledger_type", "org").get(pk=pk)


# --- soft delete and restore -------------------------------------------------------------------------------------


def _soft(user: Any, records: Iterable[Record], *, deleted: bool, check_access: bool) -> None:
    records = list(records)
    found = _Problems()
    for record in records:
        if check_access and not access.may_change_record(user, record):
            raise PermissionDenied("无权删除该记录" if deleted else "无权恢复该记录")
        found.add(_guard(_Locks(user, record.ledger_type), record, record.date))
    found.raise_any()
    actor = _actor(user)
    for record in records:
        if deleted:
            record.is_deleted, record.deleted_at, record.deleted_by = True, timezone.now(), actor
        else:
            record.is_deleted, record.deleted_at, record.deleted_by = False, None, None
        _save(record, actor, "删除" if deleted else "恢复")


@transaction.atomic
def delete_records(user: Any, records: Iterable[Record], *, check_access: bool = True) -> None:
    """Soft delete: the records leave every list and figure, keep their history and can be restored."""
    _soft(user, records, deleted=True, check_access=check_access)


@transaction.atomic
def restore_records(user: Any, records: Iterable[Record], *, check_access: bool = True) -> None:
    _soft(user, records, deleted=False, check_access=check_access)


def delete_record(user: Any, record: Record) -> None:
    delete_records(user, [record])


def restore_record(user: Any, record: Record) -> None:
    restore_records(user, [record])


# --- workflow transitions ----------------------------------------------------------------------------------------


@transaction.atomic
def transition_records(
    user: Any,
    records: Iterable[Record],
    step: Step,
    raw: dict[str, Any] | None = None,
    *,
    comment: str = "",
    uploads: Uploads | None = None,
    today: dt.date | None = None,
) -> list[Transition]:
    """Take a workflow step on records the workflow has already let this user take it on (`workflow.take`):
    validate the step's fields, stamp what entering or leaving a closed state stamps, write the state and the
    values with their history, and log the step with its files. All or nothing; RecordInvalid names the record."""
    records = list(records)
    raw = raw or {}
    uploads = uploads or {}
    found = _Problems()
    ready = []
    day = today or timezone.localdate()
    for record in records:
        wf = workflow_of(record.ledger_type)
        own = wf.step(step.code) if wf else None  # the step as this record's ledger defines it
        if wf is None or own is None:
            message = f"台账“{record.ledger_type.label}”没有“{step.label}”这一流转"
            found.add([Problem(message, record=record.pk)])
            continue
        problems = [
            Problem(p.message, p.field, record=record.pk) for p in _upload_problems(uploads, None)
        ] + _step_problems(record, own, raw, uploads)
        values = dict(record.values)
        if not problems:
            values.update(_step_values(record, own, raw))
        if own.comment_required and not comment.strip():
            problems.append(Problem(f"请填写{own.label}的理由", "comment", record=record.pk))
        # a submitted (报送) period stays locked for steps too
        problems += _guard(_Locks(user, record.ledger_type), record, record.date)
        found.add(problems)
        wf.closing_values(values, own.target, day)
        ready.append((record, own, values))
    found.raise_any()
    actor = _actor(user)
    logs = []
    for record, own, values in ready:
        before = record.status
        record.values, record.status = values, own.target
        record.updated_by, record.updated_at = actor, timezone.now()
        _save(record, actor, f"{own.label}：{before or '（无状态）'} → {own.target}")
        log = Transition.objects.create(
            record=record,
            code=own.code,
            label=own.label,
            from_state=before,
            to_state=own.target,
            comment=comment.strip(),
            by=actor,
        )
        log.attachments.set(store_attachments(record, uploads, actor))
        logs.append(log)
    return logs


def _step_problems(record: Record, step: Step, raw: dict[str, Any], uploads: Uploads) -> list[Problem]:
    """Each of the step's fields is required for it: supplied now, or already stored (a file field: stored or new
    attachments); what is supplied must pass its validator."""
    out = []
    lt = record.ledger_type
    for code in step.fields:
        spec = lt.field(code)
        assert spec is not None  # the definition was checked against the fields
        if spec.type == "file":
            if not record.attachments.filter(field_code=code).exists() and not uploads.get(code):
                out.append(Problem(f"【{spec.label}】{step.label}时必须上传", code, record=record.pk))
            continue
        supplied = raw.get(code)
        if is_empty(supplied):
            if is_empty(record.values.get(code)):
                out.append(Problem(f"【{spec.label}】{step.label}时必须填写", code, record=record.pk))
            continue
        try:
            validate_value(spec, supplied)
        except FieldError as exc:
            out.append(Problem(exc.message, code, record=record.pk))
    return out


def _step_values(record: Record, step: Step, raw: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for code in step.fields:
        spec = record.ledger_type.field(code)
        if spec is not None and spec.type != "file" and not is_empty(raw.get(code)):
            out[code] = validate_value(spec, raw[code])
    return out
