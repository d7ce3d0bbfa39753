"""数据包 in the web: the list of packs and an upload (a zip or loose files), for a 管理员 of the reporting org.

packs is not a Django app (it is data and its loader), so its one template is read from packs/templates/ and
rendered by the project's engine; it extends base.html like every page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template import engines

from dangjian.orgs import access

from .loader import PackError, PackProblems, Problem
from .manage import ALLOWED_SUFFIXES, MAX_MEMBERS, MAX_TOTAL_BYTES, MAX_ZIP_BYTES, Upload, installed_packs

TEMPLATE = Path(__file__).resolve().parent / "templates" / "packs" / "index.html"


def _counts() -> dict[str, dict[str, int]]:
    """pack → what it owns in the database now (台账, 指标, 核对规则, 报告模板)."""
    from dangjian.indicators.models import Check, Indicator
    from dangjian.records.models import LedgerType
    from dangjian.reports.models import ReportTemplate

    counts: dict[str, dict[str, int]] = {}
    for what, model in (("ledgers", LedgerType), ("indicators", Indicator), ("checks", Check),
                        ("templates", ReportTemplate)):  # fmt: skip
        for row in model.objects.values("pack").annotate(n=Count("pk")):
            counts.setdefault(row["pack"], {})[what] = row["n"]
    return counts


def _render(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    infos, unreadable = installed_packs()
    counts = _counts()
    rows = [{"info": info, "counts": counts.get(info.name, {})} for info in infos]
    orphans = {name: c for name, c in counts.items() if name not in {i.name for i in infos}}
    template = engines["django"].from_string(TEMPLATE.read_text(encoding="utf-8"))
    html = template.render(
        {
            "rows": rows,
            "orphans": orphans,
            "unreadable": unreadable,
            "suffixes": "、".join(ALLOWED_SUFFIXES),
            "max_zip_mb": MAX_ZIP_BYTES // 1024 // 1024,
            "max_total_mb": MAX_TOTAL_BYTES // 1024 // 1024,
            "max_members": MAX_MEMBERS,
            **context,
        },
        request,
    )
    return HttpResponse(html, status=status)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    if not access.scope(request.user).may_manage_packs():
        raise PermissionDenied("只有报告单位（区委）的管理员可以管理数据包")
    if request.method != "POST":
        return _render(request, {})
    from django.contrib import messages

    from .manage import describe, install, staged

    files = request.FILES.getlist("files")
    uploads = [Upload(f.name or "", cast(BinaryIO, f), f.size or 0) for f in files]
    first = uploads[0].name if uploads else ""
    display = Path(first).stem if len(uploads) == 1 and first.lower().endswith(".zip") else "上传的数据包"
    problems: list[Problem] = []
    try:
        with staged(uploads=uploads) as folder:
            installed, _ = install(folder, display, request=request)
    except PackProblems as exc:
        problems = exc.problems
        error = str(exc).split("：\n", 1)[0]
    except PackError as exc:
        error = str(exc)
    else:
        info = describe(installed)
        extended = f"；扩展：{'；'.join(info.extends)}" if info.extends else ""
        messages.success(
            request, f"已安装数据包 {installed.name}（{installed.label}）：{info.owns_text}{extended}"
        )
        return redirect("packs:index")
    return _render(request, {"error": error, "problems": problems}, status=400)
