"""Finalising a report (定稿) and comparing a finalised run with today's data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction

from dangjian.indicators.engine import viewing_as
from dangjian.orgs import access

from . import editing
from . import values as sources
from .models import ReportRun, ReportTemplate
from .render_docx import render_docx
from .render_html import stored_slot_rows
from .render_json import check_row, used_values
from .templating import Rendered, render

FINALISE_REFUSED = (
    "定稿须由该单位或其上级单位的审核员、管理员进行；查看者和填报员可以预览和下载报告，但不能定稿。"
)


class FinaliseRefused(PermissionDenied):
    """The user is not a 审核员 or 管理员 covering the reporting org."""

    def __init__(self) -> None:
        super().__init__(FINALISE_REFUSED)


class FinaliseBlocked(Exception):
    """Error-level checks failed and no reason for going ahead was written."""

    def __init__(self, failed: list[Any]) -> None:
        self.failed = failed
        messages = "；".join(c.message for c in failed)
        super().__init__(f"有 {len(failed)} 条错误级核对规则未通过（{messages}），须填写仍要定稿的理由")


class PendingBlocked(FinaliseBlocked):
    """The template still has 待定 figures (left open when it was made from a Word document): no reason helps."""

    def __init__(self, pending: list[Any]) -> None:
        self.failed = []
        self.pending = pending
        shown = "；".join(f"{p.file} 第 {p.line} 行 {p.said}" for p in pending[:10])
        more = f" 等 {len(pending)} 处" if len(pending) > 10 else ""
        Exception.__init__(
            self, f"模板还有 {len(pending)} 处待定（{shown}{more}），须先在报告模板编辑页中确定后才能定稿"
        )


@transaction.atomic
def finalise(
    template: ReportTemplate,
    org: Any,
    period: Any,
    user: Any,
    override_reason: str = "",
) -> ReportRun:
    """Render now and store everything as it is. Refused for anyone but a 审核员 or 管理员 covering the org, and
    when error-level checks fail without a reason.

    A finalised run is read by everyone who may run reports for the org, so it is rendered as a reader outside
    every confidential ledger's named orgs would see it (保密规则: aggregates only), never with the finaliser's
    own access — a 纪委 member who also reviews the district must not store case titles for all to read."""
    if not access.may_review(user, org):
        raise FinaliseRefused
    open_slots = editing.pending(template)
    if open_slots:
        raise PendingBlocked(open_slots)
    with viewing_as(AnonymousUser()):
        rendered = render(template, org, period)
    reason = override_reason.strip()
    blocking = rendered.blocking_checks()
    if blocking and not reason:
        raise FinaliseBlocked(blocking)
    return ReportRun.objects.create(
        template=template,
        template_label=template.label,
        org=org,
        period_start=period.start,
        period_end=period.end,
        period_label=getattr(period, "label", ""),
        created_by=user if getattr(user, "is_authenticated", False) else None,
        text=rendered.text,
        marked=rendered.marked,
        slots=stored_slot_rows(rendered),
        values=used_values(rendered),
        checks=[check_row(c) for c in rendered.checks],
        override_reason=reason if blocking else "",
        docx=render_docx(rendered),
    )


@dataclass
class Change:
    indicator: str
    label: str
    then: str
    now: str


def compare(run: ReportRun) -> tuple[list[Change], Rendered]:
    """The indicators the finalised report prints whose value differs today (in order of first appearance),
    rendered as the run was (for any reader), so the comparison shows changes in the data, not in who looks."""
    period = sources.period_from_dates(run.period_start, run.period_end)
    with viewing_as(AnonymousUser()):
        fresh = render(run.template, run.org, period)
    now = used_values(fresh)
    changes = []
    for key in dict.fromkeys([*run.values, *now]):
        before, after = run.values.get(key), now.get(key)
        if before is not None and after is not None and before["value"] == after["value"]:
            continue
        label = (after or before or {}).get("label", key)
        changes.append(
            Change(
                indicator=key,
                label=label,
                then=before["display"] if before else "（定稿中没有）",
                now=after["display"] if after else "（当前模板中没有）",
            )
        )
    return changes, fresh
