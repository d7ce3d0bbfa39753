"""Indicators: named figures computed from ledgers, their evidence, formulas and consistency checks.

The public API lives in `engine` and is re-exported here lazily (importing models before Django's app registry is
ready would fail, and this package is imported by INSTALLED_APPS).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CheckResult",
    "Period",
    "Value",
    "evaluate",
    "evidence_records",
    "evidence_url",
    "run_checks",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(name)
