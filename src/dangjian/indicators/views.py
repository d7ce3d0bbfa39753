"""The evidence page (the records behind a value) and its xlsx and JSON twins."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from dangjian.audit.log import Action, record
from dangjian.ledgers.fields import cell_class
from dangjian.orgs import access
from dangjian.orgs.models import Organization

from . import evidence as ev
from .engine import Period, UnknownIndicator

PAGE_SIZE = 100


class BadRequest(Exception):
    pass


def _period(request: HttpRequest) -> Period:
    try:
        if request.GET.get("year"):
            return Period.year(int(request.GET["year"]))
        start = dt.date.fromisoformat(request.GET.get("start", ""))
        end = dt.date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        raise BadRequest("期间参数不正确：请用 year=2019，或 start=2019-01-01&end=2019-12-31") from None
    if end < start:
        raise BadRequest("期间的结束日期不能早于开始日期")
    return Period(start, end)


def _audit(request: HttpRequest, found: ev.Evidence, fmt: str) -> None:
    """Downloads of evidence, and any sight of a confidential ledger's rows, go to the audit log."""
    target = f"指标佐证 {found.key}（{found.org.code}，{found.period.label}）"
    rows = found.count if found.records is not None else 0
    if fmt in ("json", "xlsx"):
        record(Action.EVIDENCE_DOWNLOAD, request=request, target=target, format=fmt, rows=rows)
    if found.records is not None and found.ledger is not None and found.ledger.confidential:
        record(Action.CONFIDENTIAL_READ, request=request, target=target, ledger=found.ledger.code, rows=rows)


@login_required
def evidence(request: HttpRequest) -> HttpResponse:
    key = request.GET.get("key", "").strip()
    org = Organization.objects.filter(code=request.GET.get("org", "")).first()
    if org is None or not key:
        raise Http404("找不到该单位或指标")
    if not access.may_run_report(request.user, org):
        raise PermissionDenied("无权查看该单位的指标和佐证")
    fmt = request.GET.get("format", "")
    try:
        period = _period(request)
        found = ev.gather(request.user, key, org, period)
    except BadRequest as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    except UnknownIndicator as exc:
        raise Http404(str(exc)) from None
    except ev.Refused as exc:
        # Refused, not emptied: a reader sees why; the attempt is logged (sliding windows show in the log).
        record(Action.REFUSED, request=request, target=f"指标佐证 {key}（{org.code}）", reason=str(exc))
        if fmt == "json":
            return JsonResponse({"error": str(exc)}, status=403, json_dumps_params={"ensure_ascii": False})
        return render(
            request, "indicators/refused.html", {"key": key, "org": org, "reason": str(exc)}, status=403
        )
    _audit(request, found, fmt)

    if fmt == "json":
        return JsonResponse(ev.as_json(request.user, found), json_dumps_params={"ensure_ascii": False})
    if fmt == "xlsx":
        name = f"佐证_{found.indicator.label}_{org.display_name}_{found.period.label}.xlsx"
        response = HttpResponse(
            ev.as_xlsx(request.user, found),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return response

    page = None
    rows = []
    if found.records is not None:
        page = Paginator(found.records, PAGE_SIZE).get_page(request.GET.get("page"))
        classes = [cell_class(f) for f in found.columns]
        rows = [
            (
                r,
                zip(found.cells(request.user, r), classes, strict=True),
                found.record_url(r),
                found.in_share(request.user, r),
            )
            for r in page.object_list
        ]
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context = {
        "ev": found,
        "value_text": ev.display(found.value.value, found.indicator.unit),
        "rows": rows,
        "page": page,
        "query": query.urlencode(),
    }
    return render(request, "indicators/evidence.html", context)
