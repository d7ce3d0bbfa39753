"""The report editor's picker: find what a template may name — indicators, report parameters, filters — by its
Chinese label (or code), and say what to insert at the cursor.

Each kind of thing is one source: a function from the search words to items. Adding a kind is a few lines here:
write the function and list it in SOURCES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.db.models import Q

from .filters import FILTER_HELP, FILTERS

MAX_QUERY = 50
MAX_ITEMS = 30  # per source


@dataclass
class Item:
    kind: str  # 指标, 报告参数, 过滤器
    label: str
    code: str
    insert: str  # the text put at the cursor
    note: str = ""


def _catalogue(words: str, *, parameters: bool) -> list[Item]:
    """Indicators, or 报告参数 (figures from outside the ledgers, named in templates by their key the same way)."""
    from dangjian.indicators.models import Indicator, Kind

    rows = (
        Indicator.objects.filter(kind=Kind.PARAMETER)
        if parameters
        else Indicator.objects.exclude(kind=Kind.PARAMETER)
    )
    if words:
        rows = rows.filter(Q(label__icontains=words) | Q(key__icontains=words))
    kind = "报告参数" if parameters else "指标"
    return [
        Item(kind, i.label, i.key, f"{{{{ {i.key} }}}}", i.unit)
        for i in rows.order_by("key").only("key", "label", "unit")[:MAX_ITEMS]
    ]


def indicators(words: str) -> list[Item]:
    return _catalogue(words, parameters=False)


def parameters(words: str) -> list[Item]:
    return _catalogue(words, parameters=True)


def filters(words: str) -> list[Item]:
    found = []
    for name in FILTERS:
        help_text, insert = FILTER_HELP.get(name, ("", f"|{name}"))
        if not words or words in name or words in help_text:
            found.append(Item("过滤器", name, name, insert, help_text))
    return found


SOURCES: list[Callable[[str], list[Item]]] = [indicators, parameters, filters]


def search(words: str) -> list[dict]:
    words = words.strip()[:MAX_QUERY]
    return [asdict(item) for source in SOURCES for item in source(words)]
