"""Template files edited in the web: versions (append-only), the text in effect, and the built-in original.

Each file of a template (its main file, each chapter it includes) reads, in effect, as its latest
TemplateFileVersion if it has one, else as its pack's file. A save is validated with the whole template first
(the same `validate` as a pack load) and refused, naming file and line, before anything is written. `dangjian
init` and pack upgrades write the pack's text only (ReportTemplate.source, the pack's files): a version stays in
effect, and when the pack's text no longer matches the `base` the version was made from, the editor says
内置原文已更新 and offers to adopt it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from dangjian.orgs import access

from .models import ReportTemplate, TemplateFileVersion
from .templating import MAX_FILE_BYTES, Problem, TemplateRefused, builtin_text, template_files, validate

MAX_NOTE = 200
# A chapter file made in the web: a plain name beside the main file (no folders), ending in .j2.
NEW_FILE_NAME = re.compile(r"^[\w\u4e00-\u9fff-]{1,60}\.j2$")


@dataclass
class FileState:
    """One file of a template as the editor shows it."""

    name: str
    text: str  # in effect
    builtin: str | None  # the pack's text now (None: the pack has no such file)
    version: TemplateFileVersion | None  # the version in effect (None: the pack's file is in effect)

    @property
    def builtin_changed(self) -> bool:
        """The pack's original changed since the version in effect was based on it (内置原文已更新)."""
        return self.version is not None and self.builtin is not None and self.builtin != self.version.base


def files(template: ReportTemplate) -> list[str]:
    """The main file and every chapter it includes, as in effect; and any other file edited in the web."""
    names = template_files(template)
    edited = template.file_versions.values_list("name", flat=True).distinct()
    return names + sorted(set(edited) - set(names))


def latest(template: ReportTemplate, name: str) -> TemplateFileVersion | None:
    return template.file_versions.filter(name=name).select_related("created_by", "org").first()


def state(template: ReportTemplate, name: str) -> FileState:
    version = latest(template, name)
    builtin = builtin_text(template, name)
    text = version.text if version is not None else (builtin or "")
    return FileState(name, text, builtin, version)


def history(template: ReportTemplate, name: str) -> list[TemplateFileVersion]:
    return list(template.file_versions.filter(name=name).select_related("created_by", "org"))


def check_size(name: str, text: str) -> None:
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise TemplateRefused(
            [Problem(name, None, f"文件超过 {MAX_FILE_BYTES // 1_000_000} MB，不是模板，未保存")]
        )


def create(template: ReportTemplate, name: str, user: Any) -> TemplateFileVersion:
    """A new chapter file, kept in the database; the main file (or another chapter) then `include`s it."""
    name = name.strip()
    if not NEW_FILE_NAME.match(name):
        raise TemplateRefused(
            [
                Problem(
                    name[:60] or "新文件",
                    None,
                    "文件名只能由汉字、字母、数字、-、_ 组成，以 .j2 结尾，不含目录",
                )
            ]
        )
    if name in files(template) or builtin_text(template, name) is not None:
        raise TemplateRefused([Problem(name, None, "该模板已有同名文件")])
    title = name.removesuffix(".j2")
    return _add(template, name, f"{title}\n", user, "新建章节文件", base="")


def save(
    template: ReportTemplate, name: str, text: str, user: Any, note: str = "", *, base: str | None = None
) -> TemplateFileVersion:
    """Validate the template with this file's new text and add it as the version in effect; refused (nothing
    written) with every problem's file and line. `base` defaults to the base of the version in effect (an
    edit does not acknowledge a changed original), else the pack's text now."""
    text = text.replace("\r\n", "\n")
    check_size(name, text)
    if name not in files(template):
        raise TemplateRefused([Problem(name, None, "该模板没有这个文件")])
    validate(template, drafts={name: text})
    current = state(template, name)
    if base is None:
        base = current.version.base if current.version is not None else (current.builtin or "")
    return _add(template, name, text, user, note, base=base)


def _add(
    template: ReportTemplate, name: str, text: str, user: Any, note: str, *, base: str
) -> TemplateFileVersion:
    with transaction.atomic():
        return TemplateFileVersion.objects.create(
            template=template, name=name, text=text, base=base, org=access.scope(user).reporting_org(), created_by=user,
            note=note.strip()[:MAX_NOTE],
        )  # fmt: skip


def restore(template: ReportTemplate, version: TemplateFileVersion, user: Any) -> TemplateFileVersion:
    """An earlier version in effect again, as a new version (history only grows)."""
    when = version.created_at.strftime("%Y-%m-%d %H:%M")
    return save(template, version.name, version.text, user, f"恢复{when}的版本", base=version.base)


def adopt_builtin(template: ReportTemplate, name: str, user: Any) -> TemplateFileVersion:
    """采用内置新版: the pack's text now, as a new version based on it."""
    builtin = builtin_text(template, name)
    if builtin is None:
        raise TemplateRefused([Problem(name, None, "数据包中没有这个文件的内置原文")])
    return save(template, name, builtin, user, "采用内置新版", base=builtin)


def keep_mine(template: ReportTemplate, name: str, user: Any) -> TemplateFileVersion:
    """保留当前版本: the same text, now based on the pack's new original (the notice goes away)."""
    current = state(template, name)
    if current.version is None or current.builtin is None:
        raise TemplateRefused([Problem(name, None, "没有需要确认的内置原文更新")])
    return save(
        template, name, current.text, user, "保留当前版本（已查看内置原文的更新）", base=current.builtin
    )


# --- 待定 (从 Word 生成模板, issue 11) ------------------------------------------------------------------------------

# A figure left open when a template was made from a Word document: `{# 待定 7-120：“12”，可能是 x.y #}`
PENDING = re.compile(r"\{#-?\s*待定\s+([^\s：:]{1,40})[：:](.{0,300}?)-?#\}", re.S)


@dataclass
class Pending:
    file: str
    id: str
    said: str  # “12”，可能是 党员.总数
    line: int
    context: str = ""  # the line's words around the figure: …学习【12】次…

    @property
    def hint(self) -> str:
        """What the comment says beyond the figure (可能是 党员.总数)."""
        return self.said.split("”", 1)[-1].lstrip("，, ") if self.said.startswith("“") else self.said

    @property
    def figure(self) -> str:
        """The document's figure the comment names (“12” → 12)."""
        m = re.match(r"“(.*?)”", self.said)
        return m.group(1) if m else ""


_COMMENT = re.compile(r"\{#.*?#\}", re.S)


def _around(text: str, start: int, end: int, figure: str) -> str:
    """The words of the comment's line around it, other comments left out: 学习【12】次 (the figure marked)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    before = _COMMENT.sub("", text[line_start:start])[-15:]
    after = _COMMENT.sub("", text[end : line_end if line_end >= 0 else len(text)])[: len(figure) + 15]
    # a tag cut in half by the bounds reads as noise: left out up to where it ends (or from where it starts)
    if before.rfind("}}") > before.rfind("{{"):
        before = before[before.rfind("}}") + 2 :]
    if after.rfind("{{") > after.rfind("}}"):
        after = after[: after.rfind("{{")]
    if figure and after.startswith(figure):
        return f"{before}【{figure}】{after[len(figure) :][:15]}"
    return f"{before}【】{after[:15]}"


def editor_url(template: ReportTemplate, org: str, period: str) -> str:
    """The report editor of a template with the preview's org and period (`&file=…&line=…` may follow)."""
    from urllib.parse import urlencode

    from django.urls import reverse

    return (
        reverse("reports:template_edit", args=[template.key])
        + "?"
        + urlencode({"org": org, "period": period})
    )


def pending(template: ReportTemplate, drafts: dict[str, str] | None = None) -> list[Pending]:
    """Every 待定 comment in the files of the template in effect — or with `drafts` (file name → unsaved text)
    standing in for their files, as the editor's live preview reads them. They block 定稿 until resolved."""
    found = []
    drafts = drafts or {}
    for name in files(template):
        text = drafts[name] if name in drafts else state(template, name).text
        for m in PENDING.finditer(text):
            p = Pending(name, m.group(1), m.group(2).strip(), text.count("\n", 0, m.start()) + 1)
            p.context = _around(text, m.start(), m.end(), p.figure)
            found.append(p)
    return found
