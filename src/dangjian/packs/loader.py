"""Load built-in content (packs) from data files: `packs/<name>/pack.toml`.

A pack is a folder with a `pack.toml` holding sections (`org_kinds`, `ledger_types`, and those that later stages
register: indicators, checks, templates …). Each section has a handler; loading is idempotent: definitions are
created or updated by code, and records are never touched.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

if sys.version_info >= (3, 11):
    import tomllib
else:  # Ubuntu 22.04 and some 信创 distributions ship Python 3.10
    import tomli as tomllib

PACKS_DIR = Path(__file__).resolve().parent

Handler = Callable[[list[dict[str, Any]], "Pack"], int]
_HANDLERS: dict[str, tuple[int, Handler]] = {}


def section(name: str, order: int) -> Callable[[Handler], Handler]:
    """Register a handler for a pack section; lower `order` loads first (kinds before ledgers before indicators)."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[name] = (order, fn)
        return fn

    return register


@dataclass
class Pack:
    name: str
    label: str
    order: int
    path: Path
    data: dict[str, Any]

    def file(self, relative: str) -> Path:
        return self.path / relative


class PackError(Exception):
    pass


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"数据包文件 {path} 格式错误：{exc}") from exc


def discover(directory: Path = PACKS_DIR) -> list[Pack]:
    """Every folder with a pack.toml is a pack. Other *.toml files beside it add to its sections, in name order,
    so that a large pack can be kept in several files (one per chapter, say)."""
    packs = []
    for toml_path in sorted(directory.glob("*/pack.toml")):
        data = _read_toml(toml_path)
        for extra in sorted(toml_path.parent.glob("*.toml")):
            if extra.name == "pack.toml":
                continue
            for name, items in _read_toml(extra).items():
                if name == "pack":
                    raise PackError(f"{extra}：[pack] 只能写在 pack.toml 中")
                data.setdefault(name, []).extend(items)
        meta = data.pop("pack", {})
        name = meta.get("name", toml_path.parent.name)
        packs.append(Pack(name, meta.get("label", name), meta.get("order", 100), toml_path.parent, data))
    return sorted(packs, key=lambda p: (p.order, p.name))


def load_pack(pack: Pack) -> dict[str, int]:
    _register_builtin_handlers()
    unknown = set(pack.data) - set(_HANDLERS)
    if unknown:
        raise PackError(f"数据包 {pack.name} 含有未知的部分：{'、'.join(sorted(unknown))}")
    counts = {}
    for name, (_, handler) in sorted(_HANDLERS.items(), key=lambda kv: kv[1][0]):
        if name in pack.data:
            counts[name] = handler(pack.data[name], pack)
    _audit(pack, counts)
    return counts


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


@transaction.atomic
def load_all(directory: Path = PACKS_DIR) -> dict[str, dict[str, int]]:
    return {pack.name: load_pack(pack) for pack in discover(directory)}


HANDLER_MODULES = ["handlers", "handlers_indicators", "handlers_reports"]


def _register_builtin_handlers() -> None:
    # Each handlers* module registers its sections when imported.
    import importlib
    import importlib.util

    for name in HANDLER_MODULES:
        if importlib.util.find_spec(f"{__package__}.{name}") is not None:
            importlib.import_module(f"{__package__}.{name}")
