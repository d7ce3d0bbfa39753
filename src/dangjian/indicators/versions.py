"""Staff's web versions of indicator definitions, the built-in originals they were made from, and pack TOML.

An indicator's definition travels as the table a pack's `[[indicators]]` section holds (`to_item`): the builder
saves it, the version history stores it, the export writes it (`as_toml`) and the pack loader reads it back.

While a key has a web version, that version is in effect: the Indicator row holds it (so the engine reads rows
only), and pack loading keeps it (`keep_web_edits`), remembering what the pack now says as the new 内置原文. The
page compares that with the original the staff version was made from (`state`) and offers to adopt it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dangjian.orgs.models import Organization

from .models import Aggregate, Check, DefinitionVersion, Indicator, Kind, Level, PeriodMode, Scope

INDICATOR = "indicator"
Source = DefinitionVersion.Source

# The order keys are written in, so that an export reads like a hand-written pack.
_HEAD = (
    "key",
    "code",
    "label",
    "unit",
    "description",
    "ledger",
    "aggregate",
    "field",
    "formula",
    "attribute",
)


def to_item(ind: Indicator) -> dict[str, Any]:
    """The definition as a pack's [[indicators]] table: only what differs from the loader's defaults."""
    item: dict[str, Any] = {"key": ind.key, "label": ind.label}
    if ind.unit:
        item["unit"] = ind.unit
    if ind.description:
        item["description"] = ind.description
    options = dict(ind.options or {})
    if ind.kind == Kind.AGGREGATE:
        if ind.ledger is not None or ind.aggregate not in (Aggregate.COUNT_PEOPLE, Aggregate.RATIO):
            item["ledger"] = (
                ind.ledger.code if ind.ledger else ""
            )  # people counts and ratios name theirs inside
        item["aggregate"] = ind.aggregate
        if ind.field:
            item["field"] = ind.field
        for name in ("where", "status", "org_kinds"):
            if getattr(ind, name):
                item[name] = list(getattr(ind, name))
        if ind.scope != Scope.SUBTREE:
            item["scope"] = ind.scope
        if ind.period != PeriodMode.WITHIN:
            item["period"] = ind.period
    elif ind.kind == Kind.FORMULA:
        item["formula"] = ind.formula
    else:
        item["attribute"] = ind.attribute
    for name in sorted(options):  # options are flat keys in a pack (share_where, decimals, …)
        item[name] = options[name]
    return item


# --- TOML -------------------------------------------------------------------------------------------------------

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """A TOML basic string: backslash, quote and every control character escaped."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    return key if _BARE.fullmatch(key) else toml_string(key)


def toml_value(value: Any) -> str:
    """The few value types a definition holds: text, whole and decimal numbers, yes/no, lists, inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        text = str(value)
        return text if any(c in text for c in ".eE") or not text.lstrip("-").isdigit() else text + ".0"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"无法写成 TOML 的值：{value!r}")


def as_toml(items: Iterable[Mapping[str, Any]], section: str = "indicators") -> str:
    """`[[indicators]]` tables exactly as the pack loader reads them; a list of tables goes one per line."""
    blocks = []
    for item in items:
        lines = [f"[[{section}]]"]
        keys = [k for k in _HEAD if k in item] + [k for k in item if k not in _HEAD]
        for key in keys:
            value = item[key]
            if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
                inner = "".join(f"  {toml_value(v)},\n" for v in value)
                lines.append(f"{toml_key(key)} = [\n{inner}]")
            else:
                lines.append(f"{toml_key(key)} = {toml_value(value)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


# --- versions ---------------------------------------------------------------------------------------------------
# The same versions for indicators (key) and checks (code): `kind` says which.

CHECK = "check"


def check_item(check: Check) -> dict[str, Any]:
    """A check as a pack's [[checks]] table."""
    item = {"code": check.code, "label": check.label, "rule": check.rule}
    if check.level != Level.ERROR:
        item["level"] = check.level
    item["message"] = check.message
    return item


def item_of(obj: Indicator | Check) -> dict[str, Any]:
    return check_item(obj) if isinstance(obj, Check) else to_item(obj)


def _kind_and_key(obj: Indicator | Check) -> tuple[str, str]:
    return (CHECK, obj.code) if isinstance(obj, Check) else (INDICATOR, obj.key)


def _versions(key: str, source: str | None = None, kind: str = INDICATOR) -> Any:
    found = DefinitionVersion.objects.filter(kind=kind, key=key)
    return found.filter(source=source) if source else found


def history(key: str, kind: str = INDICATOR) -> list[DefinitionVersion]:
    """Every version of the key, newest first, with who made it and for which org."""
    return list(_versions(key, kind=kind).select_related("org", "created_by").order_by("-created_at", "-pk"))


def latest(key: str, source: str, kind: str = INDICATOR) -> DefinitionVersion | None:
    return _versions(key, source, kind).order_by("-created_at", "-pk").first()


def web_edited(keys: Iterable[str] | None = None, kind: str = INDICATOR) -> set[str]:
    """The keys (of those given, or all) whose definition staff changed in the web."""
    found = DefinitionVersion.objects.filter(kind=kind, source=Source.WEB)
    if keys is not None:
        found = found.filter(key__in=list(keys))
    return set(found.values_list("key", flat=True))


@dataclass(frozen=True)
class State:
    """Where a definition stands: the version in effect, the built-in original now, and whether it changed since
    the staff version was made (then the page shows the difference and offers to adopt it)."""

    current: DefinitionVersion | None
    builtin: DefinitionVersion | None

    @property
    def builtin_changed(self) -> bool:
        if self.current is None or self.builtin is None:
            return False
        now = self.builtin.definition
        return now != self.current.base and now != self.current.definition


def state(key: str, kind: str = INDICATOR) -> State:
    return State(latest(key, Source.WEB, kind), latest(key, Source.BUILTIN, kind))


def remember_original(obj: Indicator | Check) -> None:
    """Before a pack's indicator or check is first changed in the web: its definition now is the built-in
    original, recorded so that history starts with it and upgrades are compared with it. Call with the row as yet
    unchanged."""
    kind, key = _kind_and_key(obj)
    if obj.pack and not _versions(key, kind=kind).exists():
        DefinitionVersion.objects.create(
            kind=kind, key=key, source=Source.BUILTIN, pack=obj.pack, definition=item_of(obj)
        )


def save_web(
    obj: Indicator | Check, item: dict[str, Any], user: Any, org: Organization | None, note: str = ""
) -> None:
    """Append a web version of `obj` (already saved with `item`'s definition), based on the 内置原文 as it is now."""
    kind, key = _kind_and_key(obj)
    builtin = latest(key, Source.BUILTIN, kind)
    DefinitionVersion.objects.create(
        kind=kind,
        key=key,
        source=Source.WEB,
        pack=obj.pack,
        definition=item,
        base=builtin.definition if builtin else {},
        org=org,
        created_by=user,
        note=note[:200],
    )


def _keep(kind: str, pack: str, owned: set[str], items: dict[str, dict[str, Any]]) -> set[str]:
    kept = web_edited(owned | set(items), kind)
    for key in sorted(kept & set(items)):
        last = latest(key, Source.BUILTIN, kind)
        if last is None or last.definition != items[key]:
            DefinitionVersion.objects.create(
                kind=kind, key=key, source=Source.BUILTIN, pack=pack, definition=items[key]
            )
    return kept


def keep_web_edits(pack: str, parsed: Iterable[Indicator]) -> set[str]:
    """For pack loading: the keys of `pack` whose staff version stays in effect (never overwritten, never
    removed). Where the pack's definition differs from the 内置原文 last recorded, it is recorded anew."""
    owned = set(Indicator.objects.filter(pack=pack).values_list("key", flat=True))
    return _keep(INDICATOR, pack, owned, {ind.key: to_item(ind) for ind in parsed})


def keep_web_check_edits(pack: str, checks: Iterable[Check]) -> set[str]:
    """The same for checks (by code)."""
    owned = set(Check.objects.filter(pack=pack).values_list("code", flat=True))
    return _keep(CHECK, pack, owned, {c.code: check_item(c) for c in checks})
