"""Load packs from data files: the built-in set (`src/dangjian/packs/<name>/pack.toml`) and the district's own
(`DANGJIAN_DATA_DIR/packs/<name>/pack.toml`, kept with the data, so a reinstall of the code never loses them).

A pack is a folder with a `pack.toml` holding sections (`org_kinds`, `ledger_types`, `extends`, and those that later
stages register: indicators, checks, templates …). Each section has a handler; loading is idempotent: definitions are
created or updated by code, and records are never touched. Every definition is owned by one pack: another pack may
extend a ledger explicitly (`[[extends]]`), never redefine it (see validate.py and docs/packs.md).
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

if sys.version_info >= (3, 11):
    import tomllib
else:  # Ubuntu 22.04 and some 信创 distributions ship Python 3.10
    import tomli as tomllib

PACKS_DIR = Path(__file__).resolve().parent
BUILTIN, LOCAL = "builtin", "local"
SOURCE_LABELS = {BUILTIN: "内置", LOCAL: "本地"}
PACK_META_KEYS = {"name", "label", "order", "version", "description"}
PACK_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,59}$")

Handler = Callable[[list[dict[str, Any]], "Pack"], int]
_HANDLERS: dict[str, tuple[int, Handler]] = {}


def section(name: str, order: int) -> Callable[[Handler], Handler]:
    """Register a handler for a pack section; lower `order` loads first (kinds before ledgers before indicators)."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[name] = (order, fn)
        return fn

    return register


def sections() -> list[str]:
    """The section names a pack may hold, in loading order."""
    _register_builtin_handlers()
    return [name for name, _ in sorted(_HANDLERS.items(), key=lambda kv: kv[1][0])]


@dataclass
class Pack:
    name: str
    label: str
    order: int
    path: Path
    data: dict[str, Any]
    source: str = BUILTIN
    version: str = ""
    description: str = ""
    # section → for each item, (file name within the pack, index of the item within that file): where it is written
    origins: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # file name → its text (to find lines)
    display: str = (
        ""  # how messages name its folder (the uploaded file's name, say); default the folder's name
    )

    def file(self, relative: str) -> Path:
        return self.path / relative

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)

    def origin(self, section_name: str, index: int) -> tuple[str, int]:
        """(file name, index within that file) of item `index` of a section."""
        found = self.origins.get(section_name, [])
        return found[index] if index < len(found) else ("pack.toml", index)

    def where(
        self, section_name: str, index: int, key: str = "", sub: tuple[tuple[str, int | None], ...] = ()
    ) -> str:
        """“数据包 mine 的 ledgers.toml 第 12 行” for an item (and one of its keys), for messages."""
        from .lines import locate

        name, at = self.origin(section_name, index)
        line = locate(self.texts.get(name, ""), ((section_name, at), *sub), key)
        return f"数据包 {self.name} 的 {name}" + (f" 第 {line} 行" if line else "")


class PackError(Exception):
    pass


@dataclass(frozen=True)
class Problem:
    """One problem of a pack, named by file, line and key, in Chinese."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        place = self.file + (f" 第 {self.line} 行" if self.line else "")
        return f"{place}" + (f"（{self.key}）" if self.key else "") + f"：{self.message}"


class PackProblems(PackError):
    """Every problem found at once; str() lists them one a line."""

    def __init__(self, problems: list[Problem], title: str = "") -> None:
        self.problems = problems
        head = title or f"数据包有 {len(problems)} 处问题"
        super().__init__(head + "：\n" + "\n".join(f"- {p}" for p in problems))


TOML_LINE = re.compile(r"line (\d+)")


def parse_toml(text: str, display: str) -> tuple[dict[str, Any] | None, Problem | None]:
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as exc:
        found = TOML_LINE.search(str(exc))
        line = int(found.group(1)) if found else getattr(exc, "lineno", None)
        return None, Problem(display, line, "", f"TOML 格式错误（{exc}）")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PackError(f"数据包文件 {path} 格式错误：不是 UTF-8 编码的文本") from None
    data, problem = parse_toml(text, str(path))
    if problem is not None:
        raise PackError(f"数据包文件 {path} 格式错误：{problem.message}（第 {problem.line} 行）")
    assert data is not None
    return data


def read_pack(folder: Path, source: str = BUILTIN, display: str = "") -> tuple[Pack | None, list[Problem]]:
    """Read one pack folder: its pack.toml and the other *.toml files beside it (their sections added in name order,
    so that a large pack can be kept in several files, one per chapter, say). Every syntax problem is returned."""
    display = display or folder.name
    problems: list[Problem] = []
    data: dict[str, Any] = {}
    origins: dict[str, list[tuple[str, int]]] = {}
    texts: dict[str, str] = {}
    meta: dict[str, Any] = {}
    files = [folder / "pack.toml"] + sorted(p for p in folder.glob("*.toml") if p.name != "pack.toml")
    for path in files:
        shown = f"{display}/{path.name}"
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(shown, None, "", "不是 UTF-8 编码的文本"))
            continue
        except OSError as exc:
            problems.append(Problem(shown, None, "", f"无法读取（{exc.strerror}）"))
            continue
        texts[path.name] = text
        parsed, problem = parse_toml(text, shown)
        if problem is not None:
            problems.append(problem)
            continue
        assert parsed is not None
        for name, items in parsed.items():
            if name == "pack":
                if path.name != "pack.toml":
                    problems.append(
                        Problem(shown, _line(text, "pack"), "pack", "[pack] 只能写在 pack.toml 中")
                    )
                elif not isinstance(items, dict):
                    problems.append(Problem(shown, _line(text, "pack"), "pack", "[pack] 应为表"))
                else:
                    meta = items
                continue
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                problems.append(
                    Problem(shown, _line(text, name), name, f"“{name}”应写成 [[{name}]] 表的数组")
                )
                continue
            data.setdefault(name, []).extend(items)
            origins.setdefault(name, []).extend((path.name, i) for i in range(len(items)))
    name = meta.get("name", folder.name)
    pack = Pack(
        name=str(name),
        label=str(meta.get("label", name)),
        order=meta.get("order", 100) if isinstance(meta.get("order", 100), int) else 100,
        path=folder,
        data=data,
        source=source,
        version=str(meta.get("version", "")),
        description=str(meta.get("description", "")),
        origins=origins,
        texts=texts,
        display=display,
    )
    toml_text = texts.get("pack.toml", "")
    for key in sorted(set(meta) - PACK_META_KEYS):
        problems.append(
            Problem(
                f"{display}/pack.toml", _line(toml_text, "pack", key), f"pack.{key}", f"含有未知属性：{key}"
            )
        )
    if not isinstance(meta.get("order", 0), int):
        problems.append(
            Problem(f"{display}/pack.toml", _line(toml_text, "pack", "order"), "pack.order", "应为整数")
        )
    if not PACK_NAME.match(pack.name):
        problems.append(
            Problem(
                f"{display}/pack.toml",
                _line(toml_text, "pack", "name"),
                "pack.name",
                f"数据包名称“{pack.name}”应以小写英文字母开头，只含小写字母、数字、-、_，最长 60 个字符",
            )
        )
    return pack, problems


def _line(text: str, section_name: str, key: str = "") -> int | None:
    from .lines import locate

    return locate(text, ((section_name, None),), key) or locate(text, (), section_name)


def local_dir() -> Path:
    """DANGJIAN_DATA_DIR/packs: the district's own packs, kept with its data."""
    from django.conf import settings

    return Path(settings.DATA_DIR) / "packs"


def pack_folders(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p.parent for p in directory.glob("*/pack.toml") if not p.parent.name.startswith("."))


def discover(directory: Path | None = None, *, strict: bool = True) -> list[Pack]:
    """Every folder with a pack.toml is a pack. Without a directory: the built-in packs and then the local ones
    (DANGJIAN_DATA_DIR/packs/). A problem in any file raises PackProblems naming every one (strict)."""
    packs, problems = read_all(directory)
    if problems and strict:
        raise PackProblems(problems)
    return packs


def read_all(directory: Path | None = None) -> tuple[list[Pack], list[Problem]]:
    """The packs (in loading order) and the problems met reading their files."""
    if directory is None:
        places = [(PACKS_DIR, BUILTIN), (local_dir(), LOCAL)]
    else:
        places = [(directory, BUILTIN if directory.resolve() == PACKS_DIR else LOCAL)]
    packs: list[Pack] = []
    problems: list[Problem] = []
    for where, source in places:
        for folder in pack_folders(where):
            pack, found = read_pack(folder, source)
            problems += found
            if pack is not None:
                packs.append(pack)
    return sorted(packs, key=lambda p: (p.order, p.name)), problems


def load_pack(pack: Pack) -> dict[str, int]:
    """Load one pack (its own problems refused first, every one named by file, line and key)."""
    from .validate import pack_problems

    _register_builtin_handlers()
    problems = pack_problems(pack)
    if problems:
        raise PackProblems(problems, f"数据包 {pack.name} 有 {len(problems)} 处问题，没有载入")
    counts = {}
    for name, (_, handler) in sorted(_HANDLERS.items(), key=lambda kv: kv[1][0]):
        try:
            if name in pack.data:
                counts[name] = handler(pack.data[name], pack)
            elif name == "extends":
                handler([], pack)  # withdraws the extensions the pack no longer declares
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
            # A value of the wrong kind that the checks above let through: named, never a traceback.
            raise PackError(f"数据包 {pack.name} 的 {name} 部分有误：{type(exc).__name__} {exc}") from None
    _audit(pack, counts)
    return counts


def find_definition(pack_name: str, key: str, pack: Pack | None = None) -> str:
    """“core/pack.toml 第 40 行”: where pack `pack_name` defines `key` (a ledger code, indicator key, check code
    or template key), looked up among the installed packs; "" when it cannot be found."""
    from .lines import locate

    if pack is None:
        try:
            pack = next((p for p in discover(strict=False) if p.name == pack_name), None)
        except Exception:  # noqa: BLE001 — only a hint for a message
            pack = None
    if pack is None:
        return ""
    for section_name, ident in (("ledger_types", "code"), ("indicators", "key"), ("checks", "code"),
                                ("templates", "key"), ("org_kinds", "code"), ("parameters", "key")):  # fmt: skip
        for i, item in enumerate(pack.data.get(section_name, [])):
            if str(item.get(ident, "")) == key:
                name, at = pack.origin(section_name, i)
                line = locate(pack.texts.get(name, ""), ((section_name, at),), ident)
                return f"{pack.path.name}/{name}" + (f" 第 {line} 行" if line else "")
    return ""


def fingerprint(pack: Pack) -> str:
    """A digest of every file of the pack (its data and the templates it names)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in pack.path.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(pack.path)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _audit(pack: Pack, counts: dict[str, int]) -> None:
    """A pack whose files differ from the last ones loaded changes definitions: the audit log says which and when."""
    from dangjian.audit.log import Action, record
    from dangjian.audit.models import AuditEvent

    target = f"数据包 {pack.name}"
    digest = fingerprint(pack)
    last = (
        AuditEvent.objects.filter(action=Action.PACK_CHANGE, target=target)
        .values_list("detail", flat=True)
        .first()  # newest first (the model's ordering)
    )
    if isinstance(last, dict) and last.get("fingerprint") == digest:
        return
    record(
        Action.PACK_CHANGE,
        username="（数据包载入）",
        target=target,
        change="首次载入" if last is None else "内容有变化，重新载入",
        counts=counts,
        fingerprint=digest,
    )


def all_problems(packs: list[Pack], *, database: bool = True) -> list[Problem]:
    """Every problem of these packs, each by itself and together (ownership, extensions)."""
    from .validate import conflicts, pack_problems

    _register_builtin_handlers()
    problems = [p for pack in packs for p in pack_problems(pack)]
    return problems + conflicts(packs, database=database)


@transaction.atomic
def load_all(directory: Path | None = None, packs: list[Pack] | None = None) -> dict[str, dict[str, int]]:
    """Load the built-in and local packs (or those of `directory`, or `packs`): all of them or, at the first
    problem, none (PackError, every problem found before loading named by file, line and key)."""
    problems: list[Problem] = []
    if packs is None:
        packs, problems = read_all(directory)
    packs = sorted(packs, key=lambda p: (p.order, p.name))
    problems += all_problems(packs)
    if problems:
        raise PackProblems(problems, f"数据包有 {len(problems)} 处问题，全部没有载入")
    return {pack.name: load_pack(pack) for pack in packs}


HANDLER_MODULES = [
    "handlers",
    "handlers_indicators",
    "handlers_parameters",
    "handlers_reports",
    "handlers_demo",
    "handlers_dashboards",
]


def _register_builtin_handlers() -> None:
    # Each handlers* module registers its sections when imported.
    import importlib
    import importlib.util

    for name in HANDLER_MODULES:
        if importlib.util.find_spec(f"{__package__}.{name}") is not None:
            importlib.import_module(f"{__package__}.{name}")
