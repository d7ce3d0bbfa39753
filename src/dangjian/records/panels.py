"""Panels that stages right of records add to the record page, without the records app naming them.

The record page (`ledgers/record.html`) belongs to records, but some of what it shows belongs to stages to its
right: a list ledger's 清单流程 panel (state, the steps the account may take, the timeline) is the lists stage's.
Like the 报送 locks (`locks.py`), the dependency is turned round: a stage registers a panel here in its
`AppConfig.ready()` (the lists app: `dangjian.lists.views.record_panel`), and the record view asks every registered
panel for its HTML and prints what it gets, in order of registration, below the record's values. A panel returns
"" for a record it has nothing to say about (a ledger without a workflow).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString

from .models import Record

Panel = Callable[[HttpRequest, Record], str]  # rendered HTML (trusted: a template's output), or ""

_panels: list[Panel] = []


def register(panel: Panel) -> None:
    """Called once by the stage that owns the panel (e.g. `dangjian.lists.apps.ListsConfig.ready`)."""
    if panel not in _panels:
        _panels.append(panel)


def registered() -> list[Panel]:
    return list(_panels)


def render(request: HttpRequest, record: Record) -> list[SafeString]:
    """The HTML of every panel that has something to show for the record."""
    return [SafeString(html) for panel in _panels if (html := panel(request, record))]
