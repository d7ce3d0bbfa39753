"""Find the line of an item (and of one of its keys) in a pack's TOML text, for messages that name the line.

tomllib gives values without positions, so the text is scanned for table headers: the n-th `[[indicators]]` is
item n of `indicators`; `[[ledger_types.fields]]` counts within the latest `[[ledger_types]]`; `[a.b]` is a plain
table within the latest `a`. An address is a tuple of (name, index) steps, index None for a plain table:
`(("ledger_types", 0), ("fields", 2))` is the third field of the first ledger. Items written inline
(`indicators = [{…}]`) have no header: their lines are not found and the message names the file only.
"""

from __future__ import annotations

import re
from functools import lru_cache

HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]#]+?)\s*\]\]?\s*(?:#.*)?$")
KEY = re.compile(r"""^\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))\s*=""")

Address = tuple[tuple[str, "int | None"], ...]


@lru_cache(maxsize=64)
def _index(text: str) -> dict[Address, tuple[int, dict[str, int]]]:
    """address → (header line, {key: line}) for every table of the text; () is the top level."""
    blocks: dict[Address, tuple[int, dict[str, int]]] = {(): (0, {})}
    latest: dict[str, Address] = {}  # dotted header name → the address of its latest table
    counters: dict[tuple[Address, str], int] = {}
    current: Address = ()
    for number, line in enumerate(text.splitlines(), 1):
        header = HEADER.match(line)
        if header:
            dotted = re.sub(r"\s+", "", header.group(2)).replace('"', "")
            parts = dotted.split(".")
            parent: Address = latest.get(".".join(parts[:-1]), ()) if len(parts) > 1 else ()
            if header.group(1) == "[[":
                n = counters.get((parent, parts[-1]), 0)
                counters[(parent, parts[-1])] = n + 1
                current = (*parent, (parts[-1], n))
            else:
                current = (*parent, (parts[-1], None))
            latest[dotted] = current
            for stale in [k for k in latest if k.startswith(dotted + ".")]:
                del latest[stale]
            blocks[current] = (number, {})
            continue
        key = KEY.match(line)
        if key:
            name = key.group(1) or key.group(2) or key.group(3)
            blocks.setdefault(current, (number, {}))[1].setdefault(name, number)
    return blocks


def locate(text: str, address: Address, key: str = "") -> int | None:
    """The line of `key` in the table at `address` (or of the table's header when the key is not written there)."""
    if not text:
        return None
    found = _index(text).get(tuple(address))
    if found is None:
        return None
    header, keys = found
    if key and key in keys:
        return keys[key]
    return header or None
