"""Report templates: a sandboxed Jinja2 environment, a static check of the names a template uses, and rendering
(template, org, period) into text with slots.

Environment choices (documented in docs/packs.md, the template writers rely on them):
- autoescape off: the output is prose, each renderer escapes for its own format;
- keep_trailing_newline, trim_blocks and lstrip_blocks: a line holding only `{% if %}` or `{% include %}` leaves
  no trace, and an included chapter file keeps its final line break, so line breaks come out exactly as written;
- StrictUndefined: a misspelt name is an error, never an empty blank in an official document.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.loaders import split_template_path
from jinja2.sandbox import SecurityError

from . import values as sources
from .filters import FILTERS
from .sandbox import BoundedSandbox, LimitExceeded, Limits, MethodRefused
from .slots import (
    Namespace,
    Slot,
    SlotError,
    SlotRecorder,
    SlotValue,
    build_namespace,
    resolve_slots,
    strip_markers,
)

# Stands in the used-key list for "a whole group of indicators was taken": evaluate them all.
GROUP = "*"

# Names a template may use without declaring them: Jinja's globals and the loop/macro helpers.
BUILTIN_NAMES = {"loop", "caller", "varargs", "kwargs", "self", "super"}


@dataclass
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"模板“{self.file}”" + (f"第 {self.line} 行" if self.line else "")
        return f"{where}：{self.message}"


class TemplateRefused(Exception):
    """The template cannot be used; each problem names its file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("；\n".join(str(p) for p in problems))


# Chapter files are a few dozen kB; a file far larger is not a template.
MAX_FILE_BYTES = 1_000_000


class PackLoader(jinja2.BaseLoader):
    """The main template from the database; `{% include %}`d (imported, extended) files from the main file's folder
    in its pack, and from nowhere else: names are resolved, and a name that leads outside that folder (`..`, an
    absolute path, a symbolic link pointing elsewhere) is refused. A template without a pack folder reads no files.
    """

    def __init__(
        self, main_name: str, main_source: str, folder: Path | None, edited: dict[str, str] | None = None
    ) -> None:
        self.main_name = main_name
        self.main_source = main_source
        self.folder = folder.resolve() if folder is not None else None
        # chapter files as edited in the web (the version in effect, or an unsaved draft): read before the pack's
        self.edited = dict(edited or {})
        # compiled file name → the name messages show, for finding the template line of an error
        self.filenames: dict[str, str] = {main_name: main_name}

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Any]:
        if template == self.main_name:
            return self.main_source, self.main_name, lambda: True
        pieces = split_template_path(template)  # refuses ".." and empty names
        name = "/".join(pieces)
        if name in self.edited:
            self.filenames[name] = _short(name)
            return self.edited[name], name, lambda: True
        if self.folder is None:
            raise jinja2.TemplateNotFound(template)
        try:
            path = self.folder.joinpath(*pieces).resolve(strict=True)
        except (OSError, RuntimeError):
            raise jinja2.TemplateNotFound(template) from None
        if not path.is_relative_to(self.folder):
            raise TemplateRefused(
                [Problem(_short(template), None, "引用的文件不在本数据包的模板目录中，拒绝读取")]
            )
        if not path.is_file():
            raise jinja2.TemplateNotFound(template)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TemplateRefused(
                [Problem(_short(template), None, f"文件超过 {MAX_FILE_BYTES // 1_000_000} MB，不是模板")]
            )
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise TemplateRefused([Problem(_short(template), None, "文件不是 UTF-8 编码的文本")]) from None
        self.filenames[str(path)] = _short(template)
        return source, str(path), lambda: True


def make_environment(
    loader: jinja2.BaseLoader, finalize: Any = None, limits: Limits | None = None
) -> BoundedSandbox:
    env = BoundedSandbox(
        loader=loader,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        auto_reload=False,
        limits=limits,
    )
    env.add_filters(FILTERS)
    return env


# --- static check ------------------------------------------------------------------------------------------


def _short(name: str | None) -> str:
    return Path(name).name if name else "模板"


def _parse(env: jinja2.Environment, name: str) -> tuple[nodes.Template, str]:
    try:
        source, filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
    except jinja2.TemplateNotFound:
        raise TemplateRefused([Problem(name, None, "找不到该模板文件")]) from None
    try:
        return env.parse(source, name, filename), name
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateRefused(
            [Problem(_short(exc.name or name), exc.lineno, f"语法错误：{exc.message}")]
        ) from None


def _referenced_templates(tree: nodes.Template) -> Iterable[tuple[str, int]]:
    for node in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        target = node.template  # type: ignore[attr-defined]  # all four node kinds carry .template
        if isinstance(target, nodes.Const) and isinstance(target.value, str):
            yield target.value, node.lineno


def _declared(tree: nodes.Template) -> set[str]:
    """Names a template assigns itself ({% set %}, {% for %}, macros, imports)."""
    names: set[str] = set()
    for node in tree.find_all(nodes.Name):
        if node.ctx in ("store", "param"):
            names.add(node.name)
    for macro in tree.find_all(nodes.Macro):
        names.add(macro.name)
    for imp in tree.find_all(nodes.Import):
        names.add(imp.target)
    for from_imp in tree.find_all(nodes.FromImport):
        for n in from_imp.names:
            names.add(n[1] if isinstance(n, tuple) else n)
    return names


def _chain(node: nodes.Expr) -> tuple[nodes.Name | None, list[str | int], list[nodes.Node]]:
    """Unwind `a.b["c"][0]` into (Name a, ["b", "c", 0], nodes still to visit: non-constant subscripts)."""
    parts: list[str | int] = []
    rest: list[nodes.Node] = []
    while True:
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem):
            arg = node.arg
            if (
                isinstance(arg, nodes.Const)
                and isinstance(arg.value, str | int)
                and not isinstance(arg.value, bool)
            ):
                parts.append(arg.value)
            else:  # a computed subscript: the chain stops here; the part before it is checked on its own
                parts.clear()
                rest.append(arg)
            node = node.node
        else:
            break
    parts.reverse()
    if isinstance(node, nodes.Name):
        return node, parts, rest
    rest.append(node)
    return None, parts, rest


class _Checker:
    def __init__(
        self, file: str, known: set[str] | None, declared: set[str], env: jinja2.Environment
    ) -> None:
        self.env = env
        self.file = file
        self.known = known
        self.prefixes = {k.rsplit(".", n)[0] for k in known or () for n in range(1, k.count(".") + 1)}
        self.declared = declared | set(env.globals) | BUILTIN_NAMES
        self.problems: list[Problem] = []
        self.used: list[str] = []

    def problem(self, node: nodes.Node, message: str) -> None:
        self.problems.append(Problem(self.file, node.lineno, message))

    def visit(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Filter) and node.name not in self.env.filters:
            ours = "、".join(FILTERS)
            self.problem(node, f"没有名为“{node.name}”的过滤器（报告用过滤器：{ours}）")
        if isinstance(node, nodes.Test) and node.name not in self.env.tests:
            self.problem(node, f"没有名为“{node.name}”的判断（is 之后的名称）")
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            self.problem(node, f"不允许访问内部属性“{node.attr}”")
            return
        if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
            root, parts, rest = _chain(node)
            hidden = next((p for p in parts if isinstance(p, str) and p.startswith("_")), None)
            if hidden is not None:
                self.problem(node, f"不允许访问内部属性“{hidden}”")
            elif root is not None and root.ctx == "load":
                self.check_chain(root, parts)
            for child in rest:
                self.visit(child)
            if root is not None or rest:
                return
        for child in node.iter_child_nodes():
            self.visit(child)

    def check_chain(self, root: nodes.Name, parts: list[str | int]) -> None:
        if root.name in self.declared or self.known is None:
            return
        path = root.name
        names = list(parts)
        while True:
            if path in self.known:
                self.used.append(path)
                extra = [p for p in names if not isinstance(p, int)]
                if extra:
                    self.problem(
                        root, f"指标“{path}”之后不能再写“.{extra[0]}”，指标“{path}.{extra[0]}”不存在"
                    )
                return
            if not names or isinstance(names[0], int):
                if path in self.prefixes:
                    self.used.append(GROUP)  # which members get used is only known at run time
                    return  # a group of indicators, e.g. {% set 学习 = 理论学习 %}
                self.problem(root, f"引用了不存在的指标“{path}”")
                return
            nxt = names.pop(0)
            if path not in self.prefixes:
                self.problem(root, f"引用了不存在的指标“{path}.{nxt}”")
                return
            path = f"{path}.{nxt}"


def check_template(env: jinja2.Environment, main_name: str, known: set[str] | None) -> list[str]:
    """Parse the template and every file it includes; refuse unknown indicators (name and line) and access to
    internals. Returns the indicator keys the template names, in order of first use."""
    trees: dict[str, nodes.Template] = {}
    pending = [main_name]
    problems: list[Problem] = []
    while pending:
        name = pending.pop(0)
        if name in trees:
            continue
        try:
            trees[name], _ = _parse(env, name)
        except TemplateRefused as exc:
            problems.extend(exc.problems)
            continue
        for included, _line in _referenced_templates(trees[name]):
            pending.append(included)
    declared: set[str] = set()
    for tree in trees.values():
        declared |= _declared(tree)
    used: list[str] = []
    for name, tree in trees.items():
        checker = _Checker(_short(name), known, declared, env)
        checker.visit(tree)
        problems.extend(checker.problems)
        used.extend(checker.used)
    if problems:
        raise TemplateRefused(problems)
    return list(dict.fromkeys(used))


# --- rendering ---------------------------------------------------------------------------------------------


@dataclass
class Rendered:
    """A rendered report: the text with slot markers, the typed slot values in order of appearance (marker n is
    `slots[n]`), the engine's values and the checks."""

    template: Any
    org: Any
    period: Any
    marked: str
    slots: list[SlotValue]
    values: dict[str, Any]
    checks: list[Any] = field(default_factory=list)

    @property
    def text(self) -> str:
        return strip_markers(self.marked)

    def failed_checks(self) -> list[Any]:
        return [c for c in self.checks if not c.ok]

    def blocking_checks(self) -> list[Any]:
        return [c for c in self.checks if not c.ok and c.level == "error"]


def _template_error(exc: BaseException, files: dict[str, str], main_name: str) -> Problem:
    """Turn an error raised while rendering into a Chinese problem with the template line it happened on."""
    file, line = None, None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename in files:
            file, line = files[filename], lineno
    if isinstance(exc, LimitExceeded | MethodRefused):
        message = str(exc)
    elif isinstance(exc, SecurityError):
        message = "模板试图访问不允许的内部属性或方法，已被拒绝"
    elif isinstance(exc, RecursionError):
        message = "宏或“include”嵌套过深（可能在调用自己），已停止"
    elif isinstance(exc, MemoryError):
        message = "模板运行占用内存过多，已停止"
    elif isinstance(exc, jinja2.UndefinedError):
        message = f"名称无法识别：{exc.message}"
    else:
        message = str(exc)
    return Problem(file or main_name, line, message)


def pack_folder(template: Any) -> Path | None:
    """The folder a template's `{% include %}`s read from: its main file's, only when that lies inside a pack (a
    folder with a pack.toml at or above it). A template kept only in the database has none and reads no files."""
    path = template.path()
    if path is None:
        return None
    folder = path.parent.resolve()
    if not any((d / "pack.toml").is_file() for d in (folder, *folder.parents)):
        raise TemplateRefused(
            [
                Problem(
                    template.main_name(), None, "模板文件不在数据包目录中（目录中没有 pack.toml），拒绝读取"
                )
            ]
        )
    return folder


def effective_texts(
    template: Any, drafts: dict[str, str] | None = None, *, builtin: bool = False
) -> dict[str, str]:
    """File name → text that replaces the pack's file: the web version in effect of each edited file (none with
    `builtin`), then the unsaved drafts of the editor's preview and save."""
    edited = {} if builtin else dict(getattr(template, "edited_texts", dict)())
    edited.update(drafts or {})
    for name, text in edited.items():
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            raise TemplateRefused(
                [Problem(_short(name), None, f"文件超过 {MAX_FILE_BYTES // 1_000_000} MB，不是模板")]
            )
    return edited


def loader_for(template: Any, drafts: dict[str, str] | None = None, *, builtin: bool = False) -> PackLoader:
    """The loader of a template's files as they are in effect: a file edited in the web (or a draft) before the
    pack's file. Every render (web, CLI, API, 定稿) comes through here; `builtin` reads the pack's files only."""
    edited = effective_texts(template, drafts, builtin=builtin)
    main = template.main_name()
    return PackLoader(main, edited.pop(main, template.source), pack_folder(template), edited)


def render_text(
    template: Any,
    values: dict[str, Any],
    *,
    checked: bool = False,
    limits: Limits | None = None,
    drafts: dict[str, str] | None = None,
) -> tuple[str, list[Slot]]:
    """Render with these values; return the marked text and its slots in order of appearance. Rendering is
    bounded in time, loops, sizes and output (see sandbox.py); passing a bound is refused with file and line."""
    recorder = SlotRecorder()
    loader = loader_for(template, drafts)
    env = make_environment(loader, finalize=recorder, limits=limits)
    if not checked:
        check_template(env, loader.main_name, set(values))
    context: dict[str, Namespace | Slot] = build_namespace(values)
    try:
        marked = env.render_bounded(env.get_template(loader.main_name), context)
    except TemplateRefused:
        raise
    except (
        jinja2.TemplateError,
        SlotError,
        TypeError,
        ValueError,
        KeyError,
        IndexError,
        ArithmeticError,
        RecursionError,
        MemoryError,
    ) as exc:
        raise TemplateRefused([_template_error(exc, loader.filenames, loader.main_name)]) from None
    return recorder.in_order(marked)


def validate(
    template: Any,
    known: set[str] | None = None,
    *,
    drafts: dict[str, str] | None = None,
    builtin: bool = False,
) -> list[str]:
    """Check a template without data (pack loading, the editor's save): syntax, includes, indicator names."""
    loader = loader_for(template, drafts, builtin=builtin)
    env = make_environment(loader)
    return check_template(env, loader.main_name, sources.known_keys() if known is None else known)


def template_files(template: Any, drafts: dict[str, str] | None = None) -> list[str]:
    """The files of a template as in effect: the main file, then every file it includes (imports, extends), by
    the static check of their names. A file that cannot be found or parsed is still listed (to be edited)."""
    loader = loader_for(template, drafts)
    env = make_environment(loader)
    found: list[str] = []
    pending = [loader.main_name]
    while pending and len(found) < MAX_FILES:
        name = pending.pop(0)
        try:
            name = "/".join(split_template_path(name)) if name != loader.main_name else name
        except jinja2.TemplateNotFound:
            continue
        if name in found:
            continue
        found.append(name)
        try:
            tree, _ = _parse(env, name)
        except TemplateRefused:
            continue
        pending.extend(included for included, _line in _referenced_templates(tree))
    return found


# A template with more files than this is not a report (and the editor lists them all).
MAX_FILES = 100


def builtin_text(template: Any, name: str) -> str | None:
    """The pack's own text of one file of the template (None when the pack has no such file)."""
    loader = loader_for(template, builtin=True)
    try:
        return loader.get_source(make_environment(loader), name)[0]
    except (jinja2.TemplateNotFound, TemplateRefused):
        return None


def render(template: Any, org: Any, period: Any, drafts: dict[str, str] | None = None) -> Rendered:
    """Evaluate every indicator for (org, period), render the template, run the template pack's checks.
    `drafts` (file name → text) stand in for files while the editor previews an unsaved change."""
    used = validate(template, drafts=drafts)
    if not used or GROUP in used:
        values = sources.evaluate(org, period)
        marked, slots = render_text(template, values, drafts=drafts)
    else:  # only what the template names: a report on a few ledgers does not pay for all the others
        values = sources.evaluate(org, period, set(used))
        marked, slots = render_text(template, values, checked=True, drafts=drafts)
    checks = sources.run_checks(org, period, values, template.pack)
    printed = resolve_slots(
        slots, org, period, lambda ref: sources.evidence_url(ref.key, org, period, ref.aggregate, ref.group)
    )
    return Rendered(template, org, period, marked, printed, values, checks)
