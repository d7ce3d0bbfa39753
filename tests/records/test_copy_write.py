"""A large batch reaches PostgreSQL by COPY (issue 14: 5 million demo records, and imports): the rows it writes are
the rows executemany writes, in the same transaction, and the kept list counts still learn of the write."""

from __future__ import annotations

import pytest
from django.db import connection

from dangjian.records import counts, services
from dangjian.records.models import Record
from dangjian.records.services import NewRecord, create_records

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="COPY is PostgreSQL's")

MEETING = {"date": "2019-03-05", "kind": "党课", "topic": "学习党章", "attendance": "30", "host": "张三"}
SKIP = {"id", "key", "created_at", "updated_at", "history_id", "history_date"}


def _write(world, how: str, monkeypatch, n: int = 3) -> list[int]:
    monkeypatch.setattr(services, "COPY_FROM", 1 if how == "copy" else 10**9)
    used = []
    insert = services._Inserter._copy
    monkeypatch.setattr(services._Inserter, "_copy", lambda self, *a: used.append(1) or insert(self, *a))
    rows = [
        NewRecord(world.c1, {**MEETING, "topic": f"第{i}次", "attendance": str(10 + i)}, key=f"{how}{i}")
        for i in range(n)
    ]
    ids = create_records(world.clerk, world.ledger("organization_life"), rows, reason="导入")
    assert bool(used) == (how == "copy")
    return ids


def _rows(model, ids: list[int], column: str = "id") -> list[dict]:
    return [
        {k: v for k, v in row.items() if k not in SKIP}
        for row in model.objects.filter(**{f"{column}__in": ids}).order_by(column).values()
    ]


def test_copy_writes_the_rows_executemany_writes(world, monkeypatch):
    by_copy = _write(world, "copy", monkeypatch)
    by_statements = _write(world, "executemany", monkeypatch)
    assert _rows(Record, by_copy) == _rows(Record, by_statements)
    history = Record.history.model
    assert _rows(history, by_copy) == _rows(history, by_statements)
    copied = Record.objects.get(pk=by_copy[1])
    assert copied.values["topic"] == "第1次" and copied.values["attendance"] == 11  # JSON, typed as validated
    assert copied.date.isoformat() == "2019-03-05" and copied.created_by == world.clerk
    assert [h.history_change_reason for h in copied.history.all()] == ["导入"]


@pytest.mark.django_db(transaction=True)
def test_a_failed_later_batch_undoes_what_an_earlier_copy_wrote(world, monkeypatch):
    monkeypatch.setattr(services, "WRITE_BATCH", 2)
    monkeypatch.setattr(services, "COPY_FROM", 1)
    insert, calls = services._Inserter.insert, []

    def fail_second(self, ids, rows, state):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("写入中断")
        return insert(self, ids, rows, state)

    monkeypatch.setattr(services._Inserter, "insert", fail_second)
    with pytest.raises(RuntimeError):
        create_records(
            world.clerk,
            world.ledger("organization_life"),
            [NewRecord(world.c1, {**MEETING, "topic": f"第{i}次"}) for i in range(4)],
        )
    assert calls == [2, 2]
    assert not Record.objects.exists() and not Record.history.model.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_kept_counts_learn_of_a_copy(world, monkeypatch):
    monkeypatch.setattr(services, "COPY_FROM", 1)
    assert counts.enabled(connection)
    before = counts._version(connection)
    _write(world, "copy", monkeypatch)
    assert counts._version(connection) != before
