"""One schema per resource: what the API returns (and what its OpenAPI document describes).

The resource schemas live with the stage app that owns the resource (`orgs.schemas`, `records.schemas`), so the
web pages' JSON twins (`?format=json`) serialise through the same shapes; this module re-exports them and adds
what only the API has (errors, pages, periods).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from ninja import Field, Schema

from dangjian.orgs.schemas import OrgOut, OrgRef, org_out, org_ref
from dangjian.records import schemas as _records
from dangjian.records.models import LedgerType, Record
from dangjian.records.schemas import (
    AttachmentOut,
    BatchOut,
    FieldOut,
    LedgerOut,
    LedgerRef,
    PeriodOut,
    RecordBatchIn,
    RecordDetail,
    RecordIn,
    RecordOut,
    RecordPatch,
    Stamp,
    field_out,
    ledger_out,
    record_out,
    sensitive_codes,
    shown_values,
)

__all__ = [
    "AttachmentOut",
    "BatchOut",
    "FieldOut",
    "LedgerOut",
    "LedgerRef",
    "OrgOut",
    "OrgRef",
    "PeriodOut",
    "RecordBatchIn",
    "RecordDetail",
    "RecordIn",
    "RecordOut",
    "RecordPatch",
    "Stamp",
    "field_out",
    "ledger_out",
    "org_out",
    "org_ref",
    "record_out",
    "sensitive_codes",
    "shown_values",
]

# --- shared pieces ---------------------------------------------------------------------------------------------


class Error(Schema):
    row: int | None = Field(None, description="批量写入时出错的行（从 1 起）")
    field: str | None = Field(None, description="出错字段的代码")
    label: str | None = Field(None, description="出错字段的名称")
    message: str = Field(..., description="中文说明，指明行和字段")


class ErrorOut(Schema):
    detail: str = Field(..., description="中文说明")
    errors: list[Error] = Field(default_factory=list, description="逐项错误（输入有误时）")


class Page(Schema):
    count: int = Field(..., description="符合条件的总条数")
    page: int = Field(..., description="当前页码（从 1 起）")
    pages: int = Field(..., description="总页数")
    page_size: int = Field(..., description="每页条数（最多 200）")


# --- pages of resources ----------------------------------------------------------------------------------------


class OrgPage(Page):
    results: list[OrgOut]


class LedgerPage(Page):
    results: list[LedgerOut]


class RecordPage(Page):
    ledger: LedgerRef
    results: list[RecordOut]


def record_detail(user: Any, lt: LedgerType, record: Record) -> dict[str, Any]:
    """The record as `records.schemas.record_detail`, its attachments downloaded through the API."""
    return _records.record_detail(user, lt, record, lambda pk: reverse("api:attachment", args=[pk]))
