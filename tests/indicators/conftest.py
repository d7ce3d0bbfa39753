"""Fixtures for the indicators stage: define indicators and checks the way a pack does, and a tenure ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangjian.packs.loader import Pack


def _pack(name: str = "t") -> Pack:
    return Pack(name, name, 50, Path("."), {})


@pytest.fixture
def define(world):
    """define(*indicator items) → loads them like a pack's [[indicators]] section (pack "t")."""
    from dangjian.packs.handlers_indicators import load_indicators

    def run(*items, pack: str = "t"):
        return load_indicators(list(items), _pack(pack))

    return run


@pytest.fixture
def define_checks(world):
    from dangjian.packs.handlers_indicators import load_checks

    def run(*items, pack: str = "t"):
        return load_checks(list(items), _pack(pack))

    return run


@pytest.fixture
def cadres(world):
    """A tenure ledger (任职台账): start date = record date, left_on = end date, with birth dates."""
    from dangjian.packs.handlers import load_ledger_type

    return load_ledger_type(
        {
            "code": "cadre_tenure",
            "label": "干部任职台账",
            "date_field": "start",
            "end_date_field": "left_on",
            "fields": [
                {"code": "name", "label": "姓名", "type": "person", "required": True},
                {"code": "born", "label": "出生日期", "type": "date"},
                {"code": "start", "label": "任职日期", "type": "date", "required": True},
                {"code": "left_on", "label": "离任日期", "type": "date"},
                {"code": "post", "label": "职务", "type": "choice", "choices": ["正科", "副科"]},
            ],
        },
        _pack(),
        0,
    )
