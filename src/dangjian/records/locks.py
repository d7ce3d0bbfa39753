"""The 报送 locks as the write service sees them: a hook that the 填报任务 stage fills.

The pipeline runs orgs → records → spreadsheets → tasks / lists → indicators → reports, and no import runs right to
left, so the write service (`records/services.py`) may not import the task rules (`dangjian.tasks.collection`). It
asks the provider registered here instead; the tasks app registers its module in `TasksConfig.ready()`, which
Django runs before any request, command or test. What a lock is (a submitted `TaskTarget` covering the record's
unit, ledger and date), who may still change such a record and the Chinese message stay the task stage's; the
service only applies them to every change, and tells the provider when records were entered (未填报 → 暂存).

Without a registered provider nothing is locked and nobody is told (`NoLocks`): an installation without the tasks
app. One provider is enough today; a second stage that locks records would turn `_provider` into a list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

from dangjian.orgs.models import Organization

from .models import LedgerType

Locks = dict[
    int, list[Any]
]  # the locks that bind one user on one ledger, by org id (read once for a bulk write)


class LockProvider(Protocol):
    """What the write service asks about the 报送 locks (`dangjian.tasks.collection` answers)."""

    def locks_for(self, user: Any, ledger_type: LedgerType) -> Locks: ...

    def lock_at(self, locks: Locks, org_id: int, day: dt.date) -> Any | None: ...

    def locking_target(
        self, user: Any, ledger_type: LedgerType, org: Organization, dates: Iterable[dt.date | None]
    ) -> Any | None: ...

    def lock_message(self, target: Any) -> str: ...

    def note_started(self, user: Any, ledger_type: LedgerType, org: Organization, day: dt.date) -> None: ...

    def note_started_many(
        self, user: Any, ledger_type: LedgerType, rows: Iterable[tuple[int, dt.date]]
    ) -> None: ...


class NoLocks:
    """Nothing is locked, nobody is told: the provider until a stage registers one."""

    def locks_for(self, user: Any, ledger_type: LedgerType) -> Locks:
        return {}

    def lock_at(self, locks: Locks, org_id: int, day: dt.date) -> Any | None:
        return None

    def locking_target(
        self, user: Any, ledger_type: LedgerType, org: Organization, dates: Iterable[dt.date | None]
    ) -> Any | None:
        return None

    def lock_message(self, target: Any) -> str:
        return ""

    def note_started(self, user: Any, ledger_type: LedgerType, org: Organization, day: dt.date) -> None:
        return None

    def note_started_many(
        self, user: Any, ledger_type: LedgerType, rows: Iterable[tuple[int, dt.date]]
    ) -> None:
        return None


_provider: LockProvider = NoLocks()


def register(provider: LockProvider) -> None:
    """Called once by the stage that owns the locks (`dangjian.tasks.apps.TasksConfig.ready`)."""
    global _provider
    _provider = provider


def provider() -> LockProvider:
    return _provider
