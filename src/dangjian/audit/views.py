"""The audit log for the security auditor (安全审计员): filters, pages and an xlsx export.

Only the auditor reads it, whatever else an account holds (superuser status included): the duty is asked of
dangjian.orgs, so these views sit right of the orgs stage, while `record()` stays importable from anywhere.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from dangjian.orgs.duties import is_auditor
from dangjian.spreadsheets.xlsx import XLSX_MIME, neutralise

from .log import record
from .models import Action, AuditEvent

PAGE_SIZE = 100
EXPORT_LIMIT = 100_000  # one export is bounded; narrow the filters for more

# Names of the detail keys that the stages write, for the page and the export; others show as they are.
DETAIL_LABELS = {
    "change": "操作",
    "account": "账号",
    "org": "组织代码",
    "role": "角色",
    "ledger": "台账",
    "request_id": "申请编号",
    "decision": "审批意见",
    "reason": "理由",
    "kind": "类型",
    "requested_by": "申请人",
    "before": "变更前",
    "after": "变更后",
    "fields": "字段",
    "rows": "行数",
    "filters": "筛选条件",
    "pack": "数据包",
    "counts": "数量",
    "locked_out": "已锁定",
    "fingerprint": "内容摘要",
}


def describe(detail: Any) -> str:
    if not isinstance(detail, dict):
        return str(detail)
    parts = []
    for key, value in detail.items():
        if isinstance(value, bool):
            value = "是" if value else "否"
        elif isinstance(value, list):
            value = "、".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = "，".join(f"{k} {v}" for k, v in value.items())
        parts.append(f"{DETAIL_LABELS.get(key, key)}：{value}")
    return "；".join(parts)


@dataclass
class Filters:
    start: dt.date | None = None
    end: dt.date | None = None
    account: str = ""
    action: str = ""
    target: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.start or self.end or self.account or self.action or self.target)

    def values(self) -> dict[str, str]:
        values = {
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
            "account": self.account,
            "action": self.action,
            "target": self.target,
        }
        return {k: v for k, v in values.items() if v}

    def query(self) -> str:
        """The filters as a query string, for paging links and the export."""
        return urlencode(self.values())

    def apply(self, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.start:
            queryset = queryset.filter(at__date__gte=self.start)
        if self.end:
            queryset = queryset.filter(at__date__lte=self.end)
        if self.account:
            queryset = queryset.filter(username__icontains=self.account)
        if self.action:
            queryset = queryset.filter(action=self.action)
        if self.target:
            queryset = queryset.filter(target__icontains=self.target)
        return queryset


def _date(value: str, label: str, errors: list[str]) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.append(f"【{label}】“{value[:20]}”不是有效日期，请按 2019-01-31 的格式填写；此条件未生效。")
        return None


def read_filters(request: HttpRequest) -> Filters:
    get = request.GET
    filters = Filters()
    filters.start = _date(get.get("start", ""), "起始日期", filters.errors)
    filters.end = _date(get.get("end", ""), "截止日期", filters.errors)
    filters.account = get.get("account", "").strip()[:150]
    filters.target = get.get("target", "").strip()[:300]
    action = get.get("action", "").strip()
    if action and action not in Action.values:
        filters.errors.append(f"【事件】“{action[:40]}”不是可选的事件类型；此条件未生效。")
    else:
        filters.action = action
    if filters.start and filters.end and filters.start > filters.end:
        filters.errors.append("【截止日期】早于起始日期，没有符合条件的事件。")
    return filters


def _auditor_only(request: HttpRequest) -> None:
    if not is_auditor(request.user):
        raise PermissionDenied("审计日志仅安全审计员可以查看。")


def _rows(events: Any) -> list[dict[str, Any]]:
    return [
        {
            "at": timezone.localtime(e.at),
            "username": e.username or "（系统）",
            "address": e.address or "",
            "action": e.get_action_display(),
            "target": e.target,
            "detail": describe(e.detail),
        }
        for e in events
    ]


@login_required
def events(request: HttpRequest) -> HttpResponse:
    _auditor_only(request)
    filters = read_filters(request)
    queryset = filters.apply(AuditEvent.objects.all())
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/events.html",
        {
            "filters": filters,
            "actions": Action.choices,
            "page": page,
            "rows": _rows(page.object_list),
            "query": filters.query(),
            "export_limit": EXPORT_LIMIT,
        },
    )


HEADER = ["时间", "账号", "地址", "事件", "对象", "详情"]


@login_required
def export(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook

    _auditor_only(request)
    filters = read_filters(request)
    queryset = filters.apply(AuditEvent.objects.all())
    total = queryset.count()
    back = reverse("audit:events") + (f"?{filters.query()}" if filters.active else "")
    if total > EXPORT_LIMIT:
        messages.error(
            request,
            f"符合条件的事件有 {total} 条，超过单次导出上限 {EXPORT_LIMIT} 条，请缩小时间范围或增加筛选条件后再导出。",
        )
        return HttpResponseRedirect(back)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("审计日志")
    sheet.append(HEADER)
    for row in _rows(queryset.iterator(chunk_size=2000)):
        sheet.append(
            [
                row["at"].strftime("%Y-%m-%d %H:%M:%S"),
                *(neutralise(row[k]) for k in ("username", "address", "action", "target", "detail")),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    # The export is itself an event, written after the rows are read so it is not among them.
    record(Action.EXPORT, request=request, target="审计日志", rows=total, filters=filters.values())
    response = HttpResponse(out.getvalue(), content_type=XLSX_MIME)
    name = f"审计日志_{timezone.localtime():%Y%m%d-%H%M%S}.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response
