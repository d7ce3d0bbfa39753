"""填报任务 and 清单事项: who sees which task and item is decided by the same public calls as the web pages
(`collection.visible_tasks`, `collection.progress`, `access.records` on each list ledger)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from dangjian.ledgers import collection, workflow
from dangjian.ledgers.models import CollectionTask, LedgerType, Record
from dangjian.orgs import access

from . import schemas as s
from .auth import account
from .errors import Problem
from .paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, numbers, page_of

router = Router(tags=["填报任务与清单"])
ERRORS = {400: s.ErrorOut, 401: s.ErrorOut, 403: s.ErrorOut, 404: s.ErrorOut}
PageNo = Query(1, ge=1, description="页码，从 1 起")
PageSize = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"每页条数，最多 {MAX_PAGE_SIZE}")


class TaskOut(Schema):
    id: int
    title: str
    creator_org: s.OrgRef = Field(..., description="发起单位")
    period: s.PeriodOut = Field(..., description="统计期")
    deadline: dt.date
    ledgers: list[str] = Field(..., description="所填台账的代码")
    instructions: str


class TaskPage(s.Page):
    results: list[TaskOut]


class TargetOut(Schema):
    org: s.OrgRef
    status: str = Field(
        ..., description="pending（未填报）/ draft（暂存）/ submitted（已报送）/ returned（已退回）"
    )
    status_label: str
    records: int = Field(..., description="该单位在统计期内所填记录数")
    overdue: bool
    submitted_at: dt.datetime | None
    return_reason: str


class TaskDetail(Schema):
    task: TaskOut
    counts: dict[str, int] = Field(..., description="各状态的单位数")
    overdue: int
    full: bool = Field(..., description="true：全部填报单位；false：只含本账号所在单位")
    targets: list[TargetOut]


class ItemOut(Schema):
    ledger: str
    ledger_label: str
    id: int
    org: s.OrgRef
    title: str
    source: str = Field(..., description="来源（如 巡察反馈）")
    status: str = Field(..., description="当前状态，如 待整改、已销号")
    deadline: str = Field(..., description="整改时限（ISO 日期，未填为空）")
    overdue: bool
    days_overdue: int = Field(..., description="逾期天数（未逾期为 0）")


class ItemPage(s.Page):
    results: list[ItemOut]


def _task_out(task: CollectionTask) -> dict[str, Any]:
    return {
        "id": task.pk,
        "title": task.title,
        "creator_org": s.org_ref(task.creator_org),
        "period": {"start": task.period_start, "end": task.period_end},
        "deadline": task.deadline,
        "ledgers": [lt.code for lt in task.ledger_types.all()],
        "instructions": task.instructions,
    }


@router.get("/tasks", response={200: TaskPage, **ERRORS}, url_name="tasks", summary="填报任务列表")
def list_tasks(request: HttpRequest, page: int = PageNo, page_size: int = PageSize) -> Any:
    """本账号能看到进度的任务，以及向本账号所在单位布置的任务，新建的在前。"""
    tasks = (
        collection.visible_tasks(account(request))
        .select_related("creator_org")
        .prefetch_related("ledger_types")
        .order_by("-created_at", "-id")
    )
    rows, numbers = page_of(tasks, page, page_size)
    return {**numbers, "results": [_task_out(t) for t in rows]}


@router.get("/tasks/{int:pk}", response={200: TaskDetail, **ERRORS}, url_name="task", summary="填报任务进度")
def get_task(request: HttpRequest, pk: int) -> Any:
    """各填报单位的状态和记录数（与网页任务页的 JSON 相同）；只被布置任务的单位只看到自己的一行。"""
    user = account(request)
    task = get_object_or_404(collection.visible_tasks(user).select_related("creator_org"), pk=pk)
    prog = collection.progress(user, task)
    if not prog.rows and not prog.full:
        raise Http404
    return {
        "task": _task_out(task),
        "counts": {code: n for code, _, n in prog.counts},
        "overdue": prog.overdue,
        "full": prog.full,
        "targets": [
            {
                "org": s.org_ref(r.target.org),
                "status": r.target.status,
                "status_label": r.target.get_status_display(),
                "records": r.records,
                "overdue": r.overdue,
                "submitted_at": r.target.submitted_at,
                "return_reason": r.target.return_reason,
            }
            for r in prog.rows
        ],
    }


# --- 清单事项 ------------------------------------------------------------------------------------------------------


def _item_out(record: Record, lt: LedgerType, wf: workflow.Workflow, today: dt.date) -> dict[str, Any]:
    deadline = str(record.values.get(wf.deadline_field) or "") if wf.deadline_field else ""
    late = workflow.is_overdue(record, today)
    return {
        "ledger": lt.code,
        "ledger_label": lt.label,
        "id": record.pk,
        "org": s.org_ref(record.org),
        "title": workflow.display_title(record, wf),
        "source": str(record.values.get(wf.source_field) or "") if wf.source_field else "",
        "status": record.status,
        "deadline": deadline,
        "overdue": late,
        "days_overdue": (today - dt.date.fromisoformat(deadline)).days if late else 0,
    }


@router.get("/lists/items", response={200: ItemPage, **ERRORS}, url_name="list_items", summary="清单事项")
def list_items(
    request: HttpRequest,
    ledger: str = Query("", description="只看该清单台账（代码），如 rectification_task"),
    org: str = Query("", description="只看该组织（代码）及其下级"),
    state: str = Query("", description="只看该状态，如 待整改"),
    overdue: bool = Query(False, description="true：只看逾期未销号的事项"),
    page: int = PageNo,
    page_size: int = PageSize,
) -> Any:
    """带清单流程的台账中的事项（问题清单、整改任务等），按台账、单位顺序；涉密台账只对成员列出。"""
    user = account(request)
    today = timezone.localdate()
    ledgers = [(lt, wf) for lt, wf in workflow.workflow_ledgers() if not ledger or lt.code == ledger]
    visible = [(lt, wf) for lt, wf in ledgers if access.may_see_rows(user, lt)]
    if ledger and not visible:
        raise Problem(404, f"没有代码为“{ledger[:60]}”的清单台账，或您无权查看其事项")
    top = None
    if org:
        top = access.orgs(user).filter(code=org).first()
        if top is None:
            raise Problem(400, f"【org】组织“{org[:60]}”不在您的查看范围内")
    if state and not any(state in wf.states for _, wf in visible):
        raise Problem(400, f"【state】没有“{state[:30]}”这个状态")
    # One query per list ledger (a handful), each already limited to the page's reach.
    querysets = []
    for lt, wf in visible:
        qs = access.records(user, lt, Record.objects.select_related("org"))
        if top is not None:
            qs = qs.filter(org__path__startswith=top.path)
        if state:
            qs = qs.filter(status=state)
        if overdue:
            qs = workflow.overdue_records(qs, wf, today)
        querysets.append((lt, wf, qs.order_by("org__path", "id")))
    counts = [qs.count() for _, _, qs in querysets]
    total = sum(counts)
    start, rows = (page - 1) * page_size, list[dict[str, Any]]()
    for (lt, wf, qs), n in zip(querysets, counts, strict=True):
        if start >= n:
            start -= n
            continue
        for r in qs[start : start + page_size - len(rows)]:
            r.ledger_type = lt
            rows.append(_item_out(r, lt, wf, today))
        start = 0
        if len(rows) >= page_size:
            break
    return {**numbers(total, page, page_size), "results": rows}
