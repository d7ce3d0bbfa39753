"""The report editor: every file of a template edited beside a live preview, saved as versions (history, diff,
restore), the built-in original's updates shown and adopted by choice, and a picker of what a template may name.

For the people who write the report — a 管理员 or 审核员 of the reporting org (`Scope.may_write_reports`); every
other account gets 403, the system administrator included. The preview is for an org the user may run reports
for (`Scope.may_run_report`, else 404) and renders through the same path as the report page, with the draft
standing in for its file. Every save, restore and adoption is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from dangjian.audit.log import Action, record
from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.text import diff_rows

from . import editing, picker
from . import values as sources
from .models import ReportTemplate, TemplateFileVersion
from .render_html import report_body
from .templating import MAX_FILE_BYTES, TemplateRefused
from .templating import render as render_report

# A line of a report template is a whole paragraph: one line of context around a change is enough to place it.
DIFF_CONTEXT = 1


def _writer(request: HttpRequest) -> None:
    if not access.scope(request.user).may_write_reports():
        record(Action.REFUSED, request=request, target=request.path, attempted="编辑报告模板")
        raise PermissionDenied("编辑报告模板须由本区（报告单位）的管理员或审核员进行")


def _template(request: HttpRequest, key: str) -> ReportTemplate:
    _writer(request)
    return get_object_or_404(ReportTemplate, key=key)


def _file(template: ReportTemplate, asked: str | None) -> tuple[str, list[str]]:
    names = editing.files(template)
    name = asked if asked in names else names[0]
    return name, names


def _audit(request: HttpRequest, template: ReportTemplate, version: TemplateFileVersion, change: str) -> None:
    record(
        Action.TEMPLATE_CHANGE, request=request, target=f"报告模板 {template.key}", change=change,
        file=version.name, version=version.pk,
    )  # fmt: skip


def _preview_orgs(request: HttpRequest, template: ReportTemplate) -> list[Organization]:
    orgs = access.orgs(request.user).filter(is_active=True).prefetch_related("kinds").order_by("path")
    return [o for o in orgs[:500] if template.fits(o)]


@login_required
def templates_index(request: HttpRequest) -> HttpResponse:
    _writer(request)
    rows = []
    for template in ReportTemplate.objects.all():
        changed = [
            f for f in (editing.state(template, n) for n in editing.files(template)) if f.builtin_changed
        ]
        rows.append((template, template.file_versions.count(), changed))
    return render(request, "reports/templates.html", {"rows": rows})


@login_required
def edit(request: HttpRequest, key: str) -> HttpResponse:
    template = _template(request, key)
    source = request.POST if request.method == "POST" else request.GET
    name, names = _file(template, source.get("file"))
    problems: list[Any] = []
    draft: str | None = None
    status = 200
    if request.method == "POST" and request.POST.get("new_file") is not None:
        try:
            version = editing.create(template, request.POST["new_file"][:100], request.user)
        except TemplateRefused as exc:
            messages.error(request, f"未能新建章节文件：{exc}")
            return redirect(_edit_url(template, name, request.POST))
        _audit(request, template, version, "新建章节文件")
        messages.success(
            request, f'已新建“{version.name}”。在主文件中写 {{% include "{version.name}" %}} 即可引用。'
        )
        return redirect(_edit_url(template, version.name, request.POST))
    if request.method == "POST":
        draft = request.POST.get("text", "")
        try:
            version = editing.save(template, name, draft, request.user, request.POST.get("note", ""))
        except TemplateRefused as exc:
            problems, status = exc.problems, 422
        else:
            _audit(request, template, version, "网页编辑保存")
            messages.success(
                request, f"已保存“{name}”的新版本。报告的预览、下载、定稿和命令行均按新版本生成。"
            )
            return redirect(_edit_url(template, name, request.POST))
    current = editing.state(template, name)
    base = current.version.base if current.version is not None else ""
    orgs = _preview_orgs(request, template)
    org_code = source.get("org") or (orgs[0].code if orgs else "")
    period = (source.get("period") or str(timezone.localdate().year - 1))[:40]
    context = {
        "template": template,
        "file": name,
        "files": names,
        "state": current,
        "text": current.text if draft is None else draft,
        "problems": problems,
        "builtin_rows": diff_rows(base, current.builtin or "", context=DIFF_CONTEXT)
        if current.builtin_changed
        else [],
        "mine_rows": diff_rows(current.builtin or "", current.text, context=DIFF_CONTEXT)
        if current.builtin_changed
        else [],
        "orgs": orgs,
        "org": org_code,
        "period": period,
        "max_kb": MAX_FILE_BYTES // 1000,
        "versions": editing.history(template, name)[:5],
        "pending": editing.pending(template),  # 待定 left by 从 Word 生成模板 (issue 11)
        "line": source.get("line", "")[:6] if source.get("line", "").isdigit() else "",  # opened at a line
    }
    context["edit_url"] = editing.editor_url(template, org_code, period)
    return render(request, "reports/editor.html", context, status=status)


def _edit_url(template: ReportTemplate, name: str, query: Any) -> str:
    from urllib.parse import urlencode

    params = {"file": name, "org": query.get("org", ""), "period": query.get("period", "")}
    return reverse("reports:template_edit", args=[template.key]) + "?" + urlencode(params)


@login_required
@require_POST
def draft_preview(request: HttpRequest, key: str) -> HttpResponse:
    """The preview of an unsaved draft of one file, as an HTML fragment for the editor page."""
    template = _template(request, key)
    name, _names = _file(template, request.POST.get("file"))
    org = Organization.objects.filter(code=request.POST.get("org", ""), is_active=True).first()
    if org is None or not access.may_run_report(request.user, org):
        raise Http404("没有该组织，或无权查看其报告")
    context: dict[str, Any] = {"template": template, "org": org}
    try:
        period = sources.parse_period(request.POST.get("period", "")[:40])
    except sources.PeriodError as exc:
        context["error"] = str(exc)
        return render(request, "reports/_draft_preview.html", context, status=400)
    draft = request.POST.get("text", "").replace("\r\n", "\n")
    context["period"] = period
    # 待定 left in the draft (or in the template's other files): listed above the preview, each line a jump
    context.update(
        pending=editing.pending(template, drafts={name: draft}) if len(draft) <= MAX_FILE_BYTES else [],
        file=name,
        edit_url=editing.editor_url(template, org.code, period.code),
    )
    try:
        editing.check_size(name, draft)
        rendered = render_report(template, org, period, drafts={name: draft})
    except TemplateRefused as exc:
        context["problems"] = exc.problems
        return render(request, "reports/_draft_preview.html", context, status=422)
    context["body"] = report_body(rendered.marked, rendered.slots)
    context["failed"] = rendered.failed_checks()
    return render(request, "reports/_draft_preview.html", context)


@login_required
def history(request: HttpRequest, key: str) -> HttpResponse:
    """Every version of one file, newest first; a chosen version's difference from the one before it (the
    earliest from the built-in original it was based on)."""
    template = _template(request, key)
    name, names = _file(template, request.GET.get("file"))
    versions = editing.history(template, name)
    chosen = None
    rows: list[dict] = []
    old_label = "上一版本"
    if versions:
        wanted = request.GET.get("version", "")
        chosen = next((v for v in versions if str(v.pk) == wanted), versions[0])
        index = versions.index(chosen)
        if index + 1 < len(versions):
            rows = diff_rows(versions[index + 1].text, chosen.text, context=DIFF_CONTEXT)
        else:
            rows, old_label = diff_rows(chosen.base, chosen.text, context=DIFF_CONTEXT), "内置原文"
    context = {
        "template": template,
        "file": name,
        "files": names,
        "versions": versions,
        "chosen": chosen,
        "rows": rows,
        "old_label": old_label,
        "state": editing.state(template, name),
    }
    return render(request, "reports/history.html", context)


@login_required
@require_POST
def restore(request: HttpRequest, key: str) -> HttpResponse:
    template = _template(request, key)
    version = get_object_or_404(TemplateFileVersion, template=template, pk=request.POST.get("version") or 0)
    try:
        new = editing.restore(template, version, request.user)
    except TemplateRefused as exc:
        messages.error(request, f"无法恢复该版本（与当前指标或其他文件不符）：{exc}")
        return redirect(reverse("reports:template_history", args=[key]) + f"?file={version.name}")
    _audit(request, template, new, "恢复历史版本")
    messages.success(request, f"已恢复“{version.name}”的历史版本（保存为新版本）。")
    return redirect(_edit_url(template, version.name, {}))


@login_required
@require_POST
def builtin(request: HttpRequest, key: str) -> HttpResponse:
    """采用内置新版 (the pack's new original becomes a new version) or 保留当前版本 (the notice goes away)."""
    template = _template(request, key)
    name, _names = _file(template, request.POST.get("file"))
    adopt = request.POST.get("choice") == "adopt"
    try:
        version = (editing.adopt_builtin if adopt else editing.keep_mine)(template, name, request.user)
    except TemplateRefused as exc:
        messages.error(request, f"未能{'采用内置新版' if adopt else '保留当前版本'}：{exc}")
    else:
        _audit(request, template, version, "采用内置新版" if adopt else "保留当前版本")
        messages.success(request, "已采用内置新版。" if adopt else "已保留当前版本。")
    return redirect(_edit_url(template, name, request.POST))


@login_required
def picker_json(request: HttpRequest) -> JsonResponse:
    _writer(request)
    return JsonResponse({"items": picker.search(request.GET.get("q", ""))})
