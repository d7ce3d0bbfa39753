"""The ledger-type and record resources' schemas: one shape for the API (`api.schemas` re-exports them) and the
records pages' JSON twins (`?format=json`, `.json`).

Each `*_out` function turns a model into the dict its schema describes, applying what the account may see: masked
sensitive values (`access.Scope.shown_values`), no rows of confidential ledgers (the callers query through
`access`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ninja import Field, Schema

from dangjian.orgs import access
from dangjian.orgs.schemas import OrgRef, org_ref
from dangjian.records import services
from dangjian.records.models import LedgerField, LedgerType, Record
from dangjian.records.workflow_definition import workflow_of
from dangjian.text import person


class PeriodOut(Schema):
    start: dt.date
    end: dt.date


# --- ledger types ----------------------------------------------------------------------------------------------


class FieldOut(Schema):
    code: str
    label: str
    type: str = Field(
        ..., description="text/longtext/integer/decimal/money/date/choice/multichoice/bool/person/org/file"
    )
    required: bool
    choices: list[str]
    min_value: str | None
    max_value: str | None
    unit: str
    help_text: str
    sensitive: bool = Field(..., description="敏感字段：无修改权限者看到“＊＊”")


class LedgerRef(Schema):
    code: str
    label: str


class LedgerSummaryOut(Schema):
    """A ledger type as the ledger index lists it (the `/ledgers/?format=json` twin)."""

    code: str
    label: str
    category: str
    description: str
    records: int = Field(..., description="本账号可见的记录数")


class LedgerIndexOut(Schema):
    ledgers: list[LedgerSummaryOut]


class LedgerOut(Schema):
    code: str
    label: str
    category: str
    description: str
    confidential: bool = Field(..., description="涉密台账：只有指定单位的成员能看到明细")
    date_field: str
    end_date_field: str
    states: list[str] = Field(..., description="清单流程的状态（无流程为空）")
    records: int = Field(..., description="本账号可见的记录数")
    fields: list[FieldOut]


def field_out(spec: LedgerField) -> dict[str, Any]:
    return {
        "code": spec.code,
        "label": spec.label,
        "type": spec.type,
        "required": spec.required,
        "choices": list(spec.choices or []),
        "min_value": None if spec.min_value is None else str(spec.min_value.normalize()),
        "max_value": None if spec.max_value is None else str(spec.max_value.normalize()),
        "unit": spec.unit,
        "help_text": spec.help_text,
        "sensitive": spec.sensitive,
    }


def ledger_ref(lt: LedgerType) -> dict[str, str]:
    return {"code": lt.code, "label": lt.label}


def ledger_summary_out(lt: LedgerType, records: int) -> dict[str, Any]:
    """`records`: how many of its rows the account may see (counted through `access`)."""
    return {**ledger_ref(lt), "category": lt.category, "description": lt.description, "records": records}


def ledger_out(lt: LedgerType, records: int) -> dict[str, Any]:
    """The ledger's summary (as the index lists it) with its definition: fields, dates, workflow states."""
    wf = workflow_of(lt)
    return {
        **ledger_summary_out(lt, records),
        "confidential": lt.confidential,
        "date_field": lt.date_field,
        "end_date_field": lt.end_date_field,
        "states": list(wf.states) if wf else [],
        "fields": [field_out(f) for f in lt.active_fields()],
    }


# --- records ---------------------------------------------------------------------------------------------------


class RecordOut(Schema):
    id: int
    org: OrgRef = Field(..., description="填报单位")
    date: dt.date
    end_date: dt.date | None
    values: dict[str, Any] = Field(..., description="按字段代码的内容；敏感字段对无修改权限者为“＊＊”")
    status: str = Field(..., description="清单流程状态（无流程为空）")


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    url: str = Field(..., description="经本接口下载（需令牌）")


class Stamp(Schema):
    by: str
    at: dt.datetime


class RecordDetail(RecordOut):
    ledger: LedgerRef
    is_deleted: bool
    attachments: list[AttachmentOut]
    created: Stamp
    updated: Stamp


class RecordIn(Schema):
    org: str = Field(..., description="填报单位的组织代码，如 c1", max_length=60)
    values: dict[str, Any] = Field(..., description='按字段代码填写，如 {"date": "2019-03-05", "title": "…"}')
    key: str = Field("", description="外部系统的记录编号（可选，便于对账）", max_length=120)


class RecordBatchIn(Schema):
    records: list[RecordIn] = Field(..., description="要新增的记录，最多 1000 条；全部成功或全部不写入")


class RecordPatch(Schema):
    values: dict[str, Any] = Field(..., description="要修改的字段及新值；未列出的字段保持不变")


class BatchOut(Schema):
    created: int
    ids: list[int]


def shown_values(user: Any, record: Record, sensitive: set[str]) -> dict[str, Any]:
    """The values as the account's Scope shows them (sensitive ones masked for those who may not change it).
    `user` may be the account or its `access.Scope` (an export holds the scope it was asked with)."""
    scope = user if isinstance(user, access.Scope) else access.scope(user)
    return scope.shown_values(record, sensitive)


def sensitive_codes(lt: LedgerType) -> set[str]:
    return {f.code for f in lt.fields.all() if f.sensitive}


def record_out(user: Any, record: Record, sensitive: set[str]) -> dict[str, Any]:
    """The record as `RecordOut` (the API, the records twin and the xlsx export alike); `user`: the account or its
    Scope, `sensitive`: the ledger's sensitive field codes (`sensitive_codes`)."""
    return {
        "id": record.pk,
        "org": org_ref(record.org),
        "date": record.date,
        "end_date": record.end_date,
        "values": shown_values(user, record, sensitive),
        "status": record.status,
    }


def record_detail(
    user: Any, lt: LedgerType, record: Record, attachment_url: Callable[[int], str]
) -> dict[str, Any]:
    """The record with its ledger, attachments (linked by `attachment_url(pk)`) and who created/changed it last."""
    return {
        **record_out(user, record, sensitive_codes(lt)),
        "ledger": ledger_ref(lt),
        "is_deleted": record.is_deleted,
        "attachments": [
            {"id": a.pk, "name": a.name, "size": a.size, "url": attachment_url(a.pk)}
            for a in record.attachments.all()
        ],
        "created": {"by": person(record.created_by), "at": record.created_at},
        "updated": {"by": person(record.updated_by), "at": record.updated_at},
    }


# --- a record's history ----------------------------------------------------------------------------------------


class ChangeOut(Schema):
    field: str = Field(..., description="字段名称（或“状态”：删除、恢复）")
    before: str = Field(..., description="修改前（敏感字段对无修改权限者为“＊＊”）")
    after: str = Field(..., description="修改后")


class HistoryEntryOut(Schema):
    when: dt.datetime
    user: str = Field(..., description="操作人（系统操作为“系统”）")
    action: str = Field(..., description="新增、修改、删除、恢复或流程操作")
    changes: list[ChangeOut]


class RecordHistoryOut(Schema):
    ledger: LedgerRef
    record: int
    history: list[HistoryEntryOut] = Field(..., description="新的在前")


def history_out(user: Any, lt: LedgerType, record: Record) -> list[dict[str, Any]]:
    """The record's change history (`services.history`, newest first) as the account may read it: a sensitive
    field's before and after masked for those whose Scope masks the record (the page and its twin alike)."""
    entries = services.history(record)
    if access.scope(user).masks(record):
        sensitive = {f.label for f in lt.fields.all() if f.sensitive}
        for entry in entries:
            for change in entry["changes"]:
                if change["field"] in sensitive:
                    change["before"] = access.mask(change["before"])
                    change["after"] = access.mask(change["after"])
    return entries


def record_history(user: Any, lt: LedgerType, record: Record) -> dict[str, Any]:
    return {"ledger": ledger_ref(lt), "record": record.pk, "history": history_out(user, lt, record)}
