"""从 Word 生成模板 on the web (issue 11): last year's report, uploaded as a .docx, becomes this year's template.

For the people who write the report (`Scope.may_write_reports`, as the report editor). Three steps on one page:
the upload (the file, the org and period it reports on, the new template's key and label); the review (the
document's text with every candidate figure marked, a choice beside each slot — the ranked proposals, 待定 or
保留原文 — and a box to make a not-slot a slot); and 生成模板, which writes the pack with fromword's writer and
installs it as a pack upload does, then opens the report editor on it, so it is previewed at once.

Nothing of the draft is stored between the steps: the review page carries the document's text in a hidden field
(as the 核稿 page does) with the choices and flips as form fields, and the pack is written in a temporary folder
that the install copies. A plain form: no script is needed.

One round trip leaves the page: 新建指标 / 设为参数 beside a figure posts the review, which is kept in the staff's
own session (the last few, under a random token), and opens the indicator builder or the 报告参数 form pre-filled
from the figure (label from the words around it, unit, type, decimals, a ledger its words name). Saving there comes
back here (`?resume=TOKEN&figure=ID&made=KEY`): the review as it was, with the new target chosen for that figure
and its value shown against the document's number.
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse

from dangjian.audit.log import Action, record
from dangjian.orgs import access
from dangjian.orgs.models import Organization

from . import values as sources
from .figures import Match
from .fromword import (
    LITERAL,
    MAX_FILE,
    MAX_FLIPS,
    PACK_NAME,
    PENDING,
    Checked,
    builder_prefill,
    check,
    chosen_proposal,
    default_choice,
    parameter_prefill,
    read_document,
    where_words,
    write_pack,
)
from .models import ReportTemplate
from .prose import Candidate, ProseError

MAX_TEXT = 400_000  # characters of the document carried by the review form (prose.MAX_TEXT reads no more)
MAX_LABEL = 100
MAX_NAME = 100
# one form field per candidate: within Django's DATA_UPLOAD_MAX_NUMBER_FIELDS (1000) with the hidden fields
MAX_CANDIDATES = 900
SESSION_KEY = "fromword_reviews"  # reviews kept while staff make an indicator or a 报告参数 for a figure
KEPT_REVIEWS = 3
MAKE = {"indicator": "indicators:builder_new", "parameter": "indicators:parameter_new"}


def _writer(request: HttpRequest) -> None:
    if not access.scope(request.user).may_write_reports():
        record(Action.REFUSED, request=request, target=request.path, attempted="从 Word 生成模板")
        raise PermissionDenied("从 Word 生成模板须由本区（报告单位）的管理员或审核员进行")


@dataclass
class Piece:
    """A run of a paragraph as the review shows it: plain text, or a candidate with its match and choice."""

    text: str
    candidate: Candidate | None = None
    match: Match | None = None
    choice: str = ""
    flipped: bool = False

    @property
    def options(self) -> list[tuple[str, str]]:
        """(value, text) of each proposal: label, key and the value for the org and period (✓ when it is the
        figure), the first marked as the one proposed."""
        if self.match is None:
            return []
        out = []
        for i, p in enumerate(self.match.proposals):
            value = p.target.value
            shown = "、".join(map(str, value[:5])) if isinstance(value, list) else p.right_text or "无数值"
            mark = " ✓" if p.equal else ""
            out.append(
                (
                    p.target.key,
                    f"{'建议 ' if i == 0 else ''}{p.target.label}（{p.target.key}）= {shown}{mark}",
                )
            )
        return out


def _pieces(result: Checked, choices: dict[str, str], flips: set[str]) -> list[list[Piece]]:
    matches = {m.candidate.id: m for m in result.matches}
    by_paragraph: dict[int, list[Candidate]] = {}
    for c in result.document.candidates:
        by_paragraph.setdefault(c.paragraph, []).append(c)
    out = []
    for para in result.document.paragraphs:
        text, pos, pieces = para.text, 0, []
        for c in sorted(by_paragraph.get(para.index, []), key=lambda c: (c.start, -c.end)):
            if c.start < pos:
                continue
            m = matches.get(c.id)
            pieces.append(Piece(text[pos : c.start]))
            choice = (choices.get(c.id) or default_choice(m)) if m is not None else ""
            pieces.append(Piece(text[c.start : c.end], c, m, choice, c.id in flips))
            pos = c.end
        pieces.append(Piece(text[pos:]))
        out.append(pieces)
    return out


def _form_values(data: QueryDict) -> dict[str, str]:
    return {
        "org": (data.get("org") or "").strip()[:60],
        "period": (data.get("period") or "").strip()[:40],
        "key": (data.get("key") or "").strip()[:61],
        "label": (data.get("label") or "").strip()[: MAX_LABEL + 1],
        "name": (data.get("name") or "").strip()[:MAX_NAME],
        "text": (data.get("text") or "")[: MAX_TEXT + 1],
    }


def _problem_of_key(key: str) -> str:
    from dangjian.packs.manage import find

    if not PACK_NAME.match(key):
        return f"模板名称“{key}”不可用：须以小写英文字母开头，只含小写字母、数字、-、_，最多 60 个字符"
    if ReportTemplate.objects.filter(key=key).exists() or find(key) is not None:
        return f"已有名为“{key}”的报告模板或数据包，请换一个模板名称"
    return ""


def _read_upload(request: HttpRequest, chosen: dict[str, str]) -> tuple[list[str], str]:
    """The uploaded document's paragraphs (its text kept in `chosen`), or the problem in Chinese."""
    upload = request.FILES.get("file")
    if upload is None:
        if not chosen["text"].strip():
            return [], "请选择上年报告的 Word 文件（.docx）"
        if len(chosen["text"]) > MAX_TEXT:
            return [], f"文稿过长（最多 {MAX_TEXT} 个字）"
        chosen["text"] = chosen["text"].replace("\r\n", "\n")  # a browser sends CRLF
        return chosen["text"].split("\n"), ""
    name = (upload.name or "")[:MAX_NAME]
    if not name.lower().endswith(".docx"):
        return [], f"“{name}”不是 Word 文件：只能上传 .docx 格式的报告（.doc 请先在 Word 中另存为 .docx）"
    if upload.size is not None and upload.size > MAX_FILE:
        return [], f"文件“{name}”过大（最大 {MAX_FILE >> 20} MB）"
    try:
        lines = read_document(name, upload.read(MAX_FILE + 1))
    except ProseError as exc:
        return [], str(exc) if name in str(exc) else f"{name}：{exc}"
    chosen["name"], chosen["text"] = name, "\n".join(lines)
    if len(chosen["text"]) > MAX_TEXT:
        return [], f"“{name}”的文字过长（最多 {MAX_TEXT} 个字）"
    return lines, ""


def _sent(data: QueryDict) -> dict[str, str]:
    """candidate id → the target key sent for it (not 待定 or 保留原文): each is made one of its proposals."""
    out = {}
    for name in list(data.keys())[: MAX_CANDIDATES + 50]:
        if name.startswith("c-") and len(name) <= 22:
            value = (data.get(name) or "").strip()[:200]
            if value and value not in (LITERAL, PENDING):
                out[name[2:]] = value
    return out


def _choices(data: QueryDict, result: Checked) -> tuple[dict[str, str], list[str]]:
    """candidate id → the choice sent for it (a proposed key, 待定 or 保留原文), and a problem for each bad one."""
    choices: dict[str, str] = {}
    problems = []
    for m in result.matches:
        c = m.candidate
        sent = (data.get(f"c-{c.id}") or "").strip()[:200]
        if not sent:
            continue
        if sent not in (LITERAL, PENDING) and chosen_proposal(m, sent) is None:
            problems.append(f"第 {c.paragraph + 1} 段“{c.text}”：所选的“{sent}”不在建议之中，请重新选择")
            continue
        choices[c.id] = sent
    return choices, problems


@login_required
def from_word(request: HttpRequest) -> HttpResponse:
    _writer(request)
    orgs = access.orgs(request.user).filter(is_active=True).order_by("path")
    context: dict[str, Any] = {
        "orgs": orgs,
        "chosen": {"period": str(sources.last_year())},
        "max_mb": MAX_FILE >> 20,
        "max_label": MAX_LABEL,
    }
    if request.method != "POST":
        if request.GET.get("resume"):
            return _resume(request, context)
        return render(request, "reports/from_word.html", context)
    return _analyse(request, request.POST, context)


def _analyse(
    request: HttpRequest, data: QueryDict, context: dict[str, Any], made: tuple[str, str] | None = None
) -> HttpResponse:
    """The review (or the pack generated, or the builder opened) for the form's `data`: posted, or a review kept
    in the session and resumed with `made` (figure id, the key made for it) chosen."""
    chosen = _form_values(data)
    context["chosen"] = chosen
    lines, problem = _read_upload(request, chosen)
    org = Organization.objects.filter(code=chosen["org"], is_active=True).first()
    if not problem and (org is None or not access.scope(request.user).may_run_report(org)):
        problem = "组织：请选择一个您有权查看报告的组织"
    period = None
    if not problem:
        try:
            period = sources.parse_period(chosen["period"])
        except sources.PeriodError as exc:
            problem = f"报告期：{exc}"
    if not problem:
        problem = _problem_of_key(chosen["key"])
    if not problem and len(chosen["label"]) > MAX_LABEL:
        problem = f"模板显示名称过长（最多 {MAX_LABEL} 个字）"
    flips = list(dict.fromkeys(f[:20] for f in data.getlist("flip")))
    if not problem and len(flips) > MAX_FLIPS:
        problem = f"改判的候选过多（最多 {MAX_FLIPS} 处）"
    result = None
    if not problem and org is not None and period is not None:
        try:
            result = check(chosen["name"] or "上传的文稿", lines, org, period, tuple(flips), _sent(data))
        except ProseError as exc:
            problem = str(exc)
    if not problem and result is not None and len(result.document.candidates) > MAX_CANDIDATES:
        problem = (
            f"{result.name}：文中候选的数字和名称有 {len(result.document.candidates)} 处，超过一页能逐一确认的"
            f" {MAX_CANDIDATES} 处；请分成几个文件上传，或用命令 dangjian template-from-docx"
        )
    if problem or result is None or org is None or period is None:
        context["problem"] = problem
        return render(request, "reports/from_word.html", context, status=400)
    if made is not None:
        context["made"] = _made(result, data, made, request.get_full_path())
    choices, problems = _choices(data, result)
    if "made" in context and context["made"]["problem"]:
        problems.insert(0, context["made"]["problem"])
    make = (data.get("make") or "")[:40] if request.method == "POST" else ""
    if make and not problems:
        return _make(request, result, chosen, choices, flips, make, context)
    if data.get("action") == "generate" and not problems and request.method == "POST":
        return _generate(request, result, chosen, choices, context)
    return _review(request, result, chosen, choices, set(flips), context, problems)


# --- 新建指标 / 设为参数 for one figure, and back -------------------------------------------------------------------


def _make(
    request: HttpRequest,
    result: Checked,
    chosen: dict[str, str],
    choices: dict[str, str],
    flips: list[str],
    make: str,
    context: dict[str, Any],
) -> HttpResponse:
    """Keep the review in the session and open the builder (or the 报告参数 form) pre-filled from the figure."""
    kind, _, cid = make.partition(":")
    m = next((m for m in result.matches if m.candidate.id == cid), None)
    if kind not in MAKE or m is None:
        problem = f"文稿中没有编号为“{cid[:20]}”的数字，请重新选择" if kind in MAKE else "未知的操作"
        return _review(request, result, chosen, choices, set(flips), context, [problem])
    token = secrets.token_urlsafe(12)
    kept = dict(list(request.session.get(SESSION_KEY, {}).items())[-(KEPT_REVIEWS - 1) :])
    kept[token] = {
        "org": chosen["org"], "period": chosen["period"], "key": chosen["key"], "label": chosen["label"],
        "name": chosen["name"], "text": chosen["text"], "choices": choices, "flips": flips,
    }  # fmt: skip
    request.session[SESSION_KEY] = kept
    c = m.candidate
    back = reverse("reports:from_word") + "?" + urlencode({"resume": token, "figure": cid}) + f"#f-{cid}"
    where = where_words(m)
    if kind == "indicator":
        prefill = builder_prefill(c, where)
        prefill.update(preview_org=result.org.code, preview_period=result.period.code)
    else:
        prefill = parameter_prefill(c, where)
    prefill["next"] = back
    return redirect(reverse(MAKE[kind]) + "?" + urlencode(prefill))


def _resume(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    """The review kept when staff left for the builder, with what they made there chosen for the figure."""
    from dangjian.indicators.builder import bounded

    kept = request.session.get(SESSION_KEY, {}).get(bounded(request.GET.get("resume"), 40))
    if not isinstance(kept, dict):
        context["problem"] = "这次审阅已不在（登录已过期，或之后又打开过多次审阅），请重新上传文件。"
        return render(request, "reports/from_word.html", context, status=400)
    data = QueryDict(mutable=True)
    for name in ("org", "period", "key", "label", "name", "text"):
        data[name] = str(kept.get(name) or "")
    data.setlist("flip", [str(f) for f in kept.get("flips") or []])
    for cid, choice in (kept.get("choices") or {}).items():
        data[f"c-{cid}"] = str(choice)
    figure, key = bounded(request.GET.get("figure"), 20), bounded(request.GET.get("made"), 120)
    if not figure or not key:
        return _analyse(request, data, context)  # back without making anything: the review as it was
    data[f"c-{figure}"] = key
    return _analyse(request, data, context, made=(figure, key))


def _made(result: Checked, data: QueryDict, made: tuple[str, str], here: str) -> dict[str, Any]:
    """What the page says of the target just made: its value against the figure, or why it cannot stand there
    (then the figure's choice goes back to what it was). A 报告参数 with no value yet gets a link to enter the
    document's figure for the org and period, coming back `here`."""
    figure, key = made
    m = next((m for m in result.matches if m.candidate.id == figure), None)
    p = chosen_proposal(m, key) if m is not None else None
    if m is None or p is None:
        data.pop(f"c-{figure}", None)
        where = f"第 {m.candidate.paragraph + 1} 段“{m.candidate.text}”" if m else "该数字"
        return {
            "problem": f"新建的“{key}”不能用于{where}（文中是数字时它须是数值，文中是名称时它须是名称），请另选"
        }
    value = p.target.value
    shown = "、".join(map(str, value[:5])) if isinstance(value, list) else p.right_text
    enter = ""
    if p.target.source == "parameter" and value is None:
        c = m.candidate
        stated = c.text if c.kind not in ("number", "percent", "points") else str(c.value or c.text)
        query = {
            "org": result.org.code, "start": result.period.start.isoformat(), "end": result.period.end.isoformat(),
            "value": stated, "source": f"{result.name} {where_words(m)}"[:300], "from": where_words(m),
            "next": here.split("#")[0] + f"#f-{m.candidate.id}",
        }  # fmt: skip
        enter = reverse("indicators:parameter", args=[key]) + "?" + urlencode(query)
    return {
        "enter": enter,
        "problem": "",
        "id": figure,
        "paragraph": m.candidate.paragraph + 1,
        "text": m.candidate.text,
        "key": key,
        "label": p.target.label,
        "parameter": p.target.source == "parameter",
        "shown": shown,
        "equal": p.equal,
    }


def _review(
    request: HttpRequest,
    result: Checked,
    chosen: dict[str, str],
    choices: dict[str, str],
    flips: set[str],
    context: dict[str, Any],
    problems: list[str],
    status: int = 200,
) -> HttpResponse:
    decided = [choices.get(m.candidate.id) or default_choice(m) for m in result.matches]
    context.update(
        result=result,
        paragraphs=_pieces(result, choices, flips),
        counts={
            "slots": len(result.matches),
            "accepted": sum(1 for d in decided if d not in (LITERAL, PENDING)),
            "pending": decided.count(PENDING),
            "literal": decided.count(LITERAL),
            "not_slots": sum(1 for c in result.document.candidates if not c.is_slot),
        },
        period_label=result.period.label,
        LITERAL=LITERAL,
        PENDING=PENDING,
        problems=problems,
        review=True,
    )
    return render(request, "reports/from_word.html", context, status=400 if problems else status)


def _generate(
    request: HttpRequest,
    result: Checked,
    chosen: dict[str, str],
    choices: dict[str, str],
    context: dict[str, Any],
) -> HttpResponse:
    from dangjian.packs.loader import PackError, PackProblems
    from dangjian.packs.manage import install

    key = chosen["key"]
    label = chosen["label"] or f"{result.org.name}{result.period.label}报告（由 {result.name} 生成）"
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dangjian-fromword-") as tmp:
        folder = Path(tmp) / key
        _folder, pending = write_pack(result, folder, result.name, choices, label)
        try:
            install(folder, f"由 {result.name} 生成的模板", request=request)
        except PackProblems as exc:
            problems = [f"{p}" for p in exc.problems][:20] or [str(exc)]
        except PackError as exc:
            problems = [str(exc)]
    if problems:
        return _review(request, result, chosen, choices, set(request.POST.getlist("flip")[:MAX_FLIPS]), context,
                       ["模板未能生成：" + p for p in problems])  # fmt: skip
    accepted = sum(1 for m in result.matches if (choices.get(m.candidate.id) or default_choice(m)) not in (
        LITERAL, PENDING))  # fmt: skip
    note = f"，待定 {len(pending)} 处（定稿前须逐一确定）" if pending else ""
    messages.success(request, f"已从 {result.name} 生成报告模板“{label}”：{accepted} 处换成了指标{note}。")
    query = urlencode({"org": result.org.code, "period": result.period.code})
    return redirect(reverse("reports:template_edit", args=[key]) + "?" + query)
