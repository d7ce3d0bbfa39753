"""核稿 on the web: paste or upload a draft for an org and period, see every figure checked, download the list.

Open to anyone who may run the org's report (`access.scope(user).may_run_report(org)`); the figures are evaluated
as that user (the middleware's viewer), so the 保密规则 hold. Nothing of the draft is stored: the result page
carries the text in a hidden field so the xlsx list can be asked for without keeping it; the audit log records
when the xlsx list of a check is downloaded (file name, org, period, how many figures disagreed).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dangjian.audit.log import Action, record
from dangjian.orgs import access
from dangjian.orgs.models import Organization

from . import values as sources
from .fromword import MAX_FILE, Checked, as_xlsx, check, read_document, row
from .prose import ProseError

MAX_PASTED = 400_000  # characters pasted (prose.MAX_TEXT reads no more)
ORDER = {"不一致": 0, "未匹配": 1, "一致": 2}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _form(request: HttpRequest) -> tuple[dict[str, str], list[str], str]:
    """(the form's values, the draft's paragraphs, the first problem in Chinese or "")."""
    data = request.POST
    chosen = {
        "org": (data.get("org") or "").strip()[:60],
        "period": (data.get("period") or "").strip()[:40],
        "text": (data.get("text") or "")[: MAX_PASTED + 1],
        "name": "粘贴的文稿",
    }
    upload = request.FILES.get("file")
    if upload is not None:
        if upload.size is not None and upload.size > MAX_FILE:
            return chosen, [], f"文件“{upload.name}”过大（最大 {MAX_FILE // 1024 // 1024} MB）"
        try:
            lines = read_document(upload.name or "文稿", upload.read(MAX_FILE + 1))
        except ProseError as exc:
            return chosen, [], str(exc)
        chosen["name"] = (upload.name or "文稿")[:100]
        chosen["text"] = "\n".join(lines)
        return chosen, lines, ""
    if len(chosen["text"]) > MAX_PASTED:
        return chosen, [], f"粘贴的文字过长（最多 {MAX_PASTED} 个字）"
    if not chosen["text"].strip():
        return chosen, [], "请粘贴文稿，或上传 Word 文件（.docx）"
    chosen["name"] = (data.get("name") or "粘贴的文稿").strip()[:100] or "粘贴的文稿"
    return chosen, chosen["text"].splitlines(), ""


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    orgs = access.orgs(request.user).filter(is_active=True).order_by("path")
    context: dict[str, Any] = {
        "orgs": orgs,
        "chosen": {"period": str(sources.last_year())},
        "max_mb": MAX_FILE >> 20,
    }
    if request.method != "POST":
        return render(request, "reports/verify.html", context)
    chosen, lines, problem = _form(request)
    context["chosen"] = chosen
    org = Organization.objects.filter(code=chosen["org"], is_active=True).first()
    if not problem and (org is None or not access.scope(request.user).may_run_report(org)):
        problem = "请选择一个您有权查看报告的组织"
    period = None
    if not problem:
        try:
            period = sources.parse_period(chosen["period"])
        except sources.PeriodError as exc:
            problem = str(exc)
    if problem or org is None or period is None:
        context["problem"] = problem
        return render(request, "reports/verify.html", context, status=400)
    try:
        result: Checked = check(chosen["name"], lines, org, period)
    except ProseError as exc:
        context["problem"] = str(exc)
        return render(request, "reports/verify.html", context, status=400)
    if request.POST.get("format") == "xlsx":
        record(
            Action.EXPORT,
            request=request,
            target=f"核稿 {result.name} {org.code} {period.code}",
            disagreeing=result.count("不一致"),
        )
        response = HttpResponse(as_xlsx(result), content_type=XLSX)
        name = f"核稿_{org.code}_{period.code}.xlsx"
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return response
    context.update(
        result=result,
        rows=sorted((row(m) for m in result.matches), key=lambda r: ORDER[r["status"]]),  # stable: text order
        counts={s: result.count(s) for s in ("一致", "不一致", "未匹配")},
        period_label=period.label,
        org=org,
    )
    return render(request, "reports/verify.html", context)
