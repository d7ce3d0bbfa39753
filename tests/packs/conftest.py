"""The seed2019 tests share one way to look at the demo district: build it, gather, roll back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def in_demo(django_db_setup, django_db_blocker) -> Callable[[Callable[[], Any]], Any]:
    """in_demo(gather): load every pack, build the demo (scale S), return gather()'s result, and roll back,
    so that a module builds the 17,000 demo records once and leaves the test database as it found it."""
    from django.db import transaction

    from dangjian.demo.generator import build_demo
    from dangjian.packs.loader import load_all

    def run(gather: Callable[[], Any]) -> Any:
        result = None
        with django_db_blocker.unblock():
            try:
                with transaction.atomic():
                    load_all()
                    build_demo("S", 2019)
                    result = gather()
                    raise _Rollback
            except _Rollback:
                pass
        return result

    return run
