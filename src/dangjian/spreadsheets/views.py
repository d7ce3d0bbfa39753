"""Excel pages of a ledger: the template, the export of the filtered table, and the import with its steps.

Import steps: upload → (errors: the list and the user's file with the bad cells marked) or (duplicates: choose to
skip them or import anyway) or done. The upload is processed within its request; meanwhile the page polls
`import_status`, which reads the progress the importer writes to the cache.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from dangjian.audit.log import Action, record
from dangjian.orgs import access
from dangjian.records import views as table
from dangjian.records.forms import RecordFilter
from dangjian.records.models import LedgerType
from dangjian.web.responses import json_response

from .imports import POLICIES, ImportResult, error_copy, import_file, spool
from .xlsx import MAX_COLUMNS, XLSX_MIME, FileRefused, build_template, export_records, max_rows

SESSION_KEY = "xlsx_imports"
SHOWN_LINES = 300
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _xlsx(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX_MIME)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def _entry_ledger(request: HttpRequest, code: str) -> LedgerType:
    lt = table.get_ledger_for_user(request.user, code)
    if not access.scope(request.user).entry_orgs(lt).exists():
        raise PermissionDenied("无权填报该台账")
    return lt


@login_required
def template_download(request: HttpRequest, code: str) -> HttpResponse:
    lt = _entry_ledger(request, code)
    orgs = access.scope(request.user).entry_orgs(lt).order_by("path")
    return _xlsx(build_template(lt, orgs), f"{lt.label}_导入模板.xlsx")


@login_required
def export(request: HttpRequest, code: str) -> HttpResponse:
    """The records table's rows (same access, filters and masking) as xlsx under the template's header."""
    lt = table.get_ledger_for_user(request.user, code)
    filters = RecordFilter.from_request(lt, request.user, request.GET)
    rows = table.listed_records(request.user, lt, filters)
    exported = 0

    def counted() -> Iterator[Any]:
        nonlocal exported
        for row in rows.iterator(chunk_size=2000):
            exported += 1
            yield row

    data = export_records(lt, counted(), access.scope(request.user))
    record(
        Action.EXPORT,
        request=request,
        target=f"台账 {lt.code}（{lt.label}）",
        rows=exported,
        format="xlsx",
        query=request.GET.urlencode()[:500],
    )
    return _xlsx(data, f"{lt.label}.xlsx")


# --- import -------------------------------------------------------------------------------------------------


def _import_dir() -> Path:
    return Path(settings.DATA_DIR) / "imports"


def _sweep(max_age: float = 24 * 3600) -> None:
    """Uploads and error copies are kept for the next step only; a day later nobody will ask for them."""
    import time

    for path in _import_dir().glob("*"):
        if path.stat().st_mtime < time.time() - max_age:
            path.unlink(missing_ok=True)


def _pending(request: HttpRequest) -> dict[str, dict[str, str]]:
    return request.session.get(SESSION_KEY, {})


def _remember(request: HttpRequest, token: str, **info: str) -> None:
    pending = _pending(request)
    pending[token] = {**pending.get(token, {}), **info}
    request.session[SESSION_KEY] = pending


def _forget(request: HttpRequest, token: str) -> None:
    pending = _pending(request)
    info = pending.pop(token, None)
    request.session[SESSION_KEY] = pending
    if info and info.get("path"):
        Path(info["path"]).unlink(missing_ok=True)


def _token(request: HttpRequest) -> str:
    token = request.POST.get("token", "")
    return token if _TOKEN.match(token) else uuid.uuid4().hex


def _progress_key(token: str) -> str:
    return f"xlsx-import:{token}"


@login_required
def import_page(request: HttpRequest, code: str) -> HttpResponse:
    lt = _entry_ledger(request, code)
    orgs = list(access.scope(request.user).entry_orgs(lt).order_by("path"))
    context: dict[str, Any] = {
        "lt": lt,
        "orgs": orgs,
        "token": uuid.uuid4().hex,
        "max_mb": settings.MAX_IMPORT_MB,
        "max_rows": max_rows(),
        "max_columns": MAX_COLUMNS,
    }
    if request.method != "POST":
        return render(request, "spreadsheets/import.html", context)
    token = _token(request)
    info = _pending(request).get(token)
    policy = request.POST.get("duplicates", "refuse")
    if info and info.get("ledger") == lt.code and info.get("path") and policy in POLICIES:
        path, name, org_code = Path(info["path"]), info["name"], info.get("org", "")
        sheet = info.get("sheet", "")
    else:
        upload = request.FILES.get("file")
        if upload is None:
            context["problem"] = "请选择要导入的 Excel 文件。"
            return render(request, "spreadsheets/import.html", context)
        name, org_code, policy = upload.name or "导入.xlsx", request.POST.get("org", ""), "refuse"
        sheet = request.POST.get("sheet", "").strip()[:31]  # Excel caps sheet names at 31 characters
        try:
            _sweep()
            path = spool(upload, _import_dir(), Path(name).suffix.lower())
        except FileRefused as exc:
            context["problem"] = str(exc)
            return render(request, "spreadsheets/import.html", context)
        _remember(request, token, ledger=lt.code, path=str(path), name=name, org=org_code, sheet=sheet)
    result = _run(request, lt, path, name, org_code, policy, token, orgs, sheet)
    return _after(request, lt, result, path, name, token, context)


def _run(
    request: HttpRequest,
    lt: LedgerType,
    path: Path,
    name: str,
    org_code: str,
    policy: str,
    token: str,
    orgs: list[Any],
    sheet: str = "",
) -> ImportResult:
    default = next((o for o in orgs if o.code == org_code), None)

    def progress(done: int, total: int) -> None:
        cache.set(
            _progress_key(token),
            {"done": done, "total": total, "user": request.user.pk, "ledger": lt.code},
            3600,
        )

    return import_file(
        request.user,
        lt,
        path,
        name,
        default_org=default,
        duplicates=policy,
        progress=progress,
        sheet=sheet,
        request=request,
    )


def _after(
    request: HttpRequest,
    lt: LedgerType,
    result: ImportResult,
    path: Path,
    name: str,
    token: str,
    context: dict[str, Any],
) -> HttpResponse:
    cache.delete(_progress_key(token))
    if result.ok:
        _forget(request, token)
        messages.success(request, result.summary())
        return redirect("ledgers:records", lt.code)
    # Errors (or, when asked to choose, duplicates) are listed here up to SHOWN_LINES, and the marked copy holds
    # the first MAX_LISTED; all of them are counted.
    listed, counted = (
        (result.duplicates, result.duplicate_count)
        if result.needs_choice
        else (result.errors, result.error_count)
    )
    shown = min(len(listed), SHOWN_LINES)
    context.update(
        {
            "result": result,
            "lines": result.lines()[: shown or 1],
            "more": counted - shown,
            "marked": len(listed),
            "token": token,
        }
    )
    if not result.needs_choice:
        copy = _import_dir() / f"{token}-errors.xlsx"
        marked = False
        if not result.message:  # a refused file has no cells to mark
            try:
                copy.write_bytes(error_copy(path, name, result))
                marked = True
            except FileRefused:
                pass  # the page still lists and counts every problem; only the marked copy is missing
        _forget(request, token)  # the upload itself is not kept
        if marked:
            context["error_copy"] = True
            _remember(request, token, ledger=lt.code, errors=str(copy), name=name)
    return render(request, "spreadsheets/import.html", context)


@login_required
def import_status(request: HttpRequest, code: str) -> JsonResponse:
    """Progress of the caller's own upload to this ledger; anyone else's token reads as nothing started."""
    token = request.GET.get("token", "")
    state = cache.get(_progress_key(token)) if _TOKEN.match(token) else None
    if not state or state.get("user") != request.user.pk or state.get("ledger") != code:
        state = {}
    return json_response({"done": state.get("done", 0), "total": state.get("total", 0)})


@login_required
def import_errors(request: HttpRequest, code: str, token: str) -> FileResponse:
    """The user's own file with the errors marked — only to the user who uploaded it."""
    info = _pending(request).get(token)
    if not info or info.get("ledger") != code or not info.get("errors") or not Path(info["errors"]).is_file():
        raise Http404
    stem = Path(info.get("name", "导入")).stem
    return FileResponse(
        Path(info["errors"]).open("rb"),
        as_attachment=True,
        filename=f"{stem}_错误标注.xlsx",
        content_type=XLSX_MIME,
    )
