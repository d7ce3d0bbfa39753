"""The evidence page (the records behind a value) and its xlsx and JSON twins."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.utils.functional import cached_property

from dangjian.audit.log import Action, record
from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.records.fields import cell_class
from dangjian.web.responses import json_response, local_path

from . import crossledger, schemas
from . import evidence as ev
from .engine import Period, UnknownIndicator
from .links import BadLink, EvidenceLink, canonical_query, with_back

PAGE_SIZE = 100


class CountedPaginator(Paginator):
    """Pages of evidence records whose number the value's own aggregate query already counted."""

    def __init__(self, object_list: Any, per_page: int, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known = count

    @cached_property
    def count(self) -> int:
        return self._known


def _bad_request(message: str) -> HttpResponse:
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


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
    """The records behind one value, asked in the one link form (links.EvidenceLink). A link of an older form
    (year=…, a 上年. key) gets a permanent redirect to it, so the links in saved reports keep working."""
    try:
        canonical = canonical_query(request.GET)
        if canonical is not None:
            return HttpResponsePermanentRedirect(f"{request.path}?{canonical}")
        link = EvidenceLink.from_query(request.GET)
    except BadLink as exc:
        return _bad_request(str(exc))
    org = Organization.objects.filter(code=link.org).first()
    if org is None or not link.key:
        raise Http404("找不到该单位或指标")
    if not access.may_run_report(request.user, org):
        raise PermissionDenied("无权查看该单位的指标和佐证")
    fmt = request.GET.get("format", "")
    try:
        # The indicator is resolved here, once; the evidence is collected from what was resolved.
        resolved = ev.resolve(link.key, Period(link.start, link.end))
        found = ev.collect(request.user, resolved, org, link.group)
    except (UnknownIndicator, ev.UnknownGroup) as exc:
        raise Http404(str(exc)) from None
    except ev.Refused as exc:
        # Refused, not emptied: a reader sees why; the attempt is logged (sliding windows show in the log).
        target = f"指标佐证 {link.key}（{org.code}）"
        record(Action.REFUSED, request=request, target=target, reason=str(exc))
        if fmt == "json":
            return json_response({"error": str(exc)}, status=403)
        context = {"key": link.key, "org": org, "reason": str(exc)}
        return render(request, "indicators/refused.html", context, status=403)
    _audit(request, found, fmt)

    if fmt == "json":
        return json_response(schemas.dumped_evidence(request.user, found))  # the API's shape, every record
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
        page = CountedPaginator(found.records, PAGE_SIZE, found.count).get_page(request.GET.get("page"))
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
    back = local_path(request.GET.get("from"))
    context = {
        "ev": found,
        "value_text": "无法计算"
        if found.value.incomputable
        else ev.display(found.shown_value, found.indicator.unit),
        "parts": [(p, ev.display(p.value, found.indicator.unit), url) for p, url in found.parts],
        "whole_url": EvidenceLink(link.key, link.org, link.start, link.end).url if link.group else "",
        "rows": rows,
        "page": page,
        "query": query.urlencode(),
        # a link to the builder (not for a part of a people count or a ratio: it is edited with its indicator)
        "may_write_reports": crossledger.PART not in found.key
        and access.scope(request.user).may_write_reports(),
        "back": back,  # the report page (or the formula's evidence) the figure was opened from
        "back_label": "返回上一指标" if back.startswith(request.path) else "返回报告",
        # a formula's operands (本年 and 上年 alike) lead back here, as the report's figures lead back to it
        "operands": [(o, with_back(o.url, f"{request.path}?{query.urlencode()}")) for o in found.operands],
    }
    return render(request, "indicators/evidence.html", context)
