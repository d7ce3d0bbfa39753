"""How many rows a records list holds: counted once, then answered from a cache until the next write.

A records page says how many rows match ("共 100000 条", the API's `count`). On PostgreSQL a COUNT reads every
matching index entry or row (MVCC keeps no count), 30 ms for 100,000 records and 100 ms for 300,000, on every
page turn — the largest part of a records page there (docs/benchmarks.md, concurrency). `count(rows)` keeps the
answer in the file cache under the data dir, which every worker process of `dangjian serve` shares.

When is a kept count still right? The key is the list's own SQL and parameters (ledger, the scope's org
condition, filters, search, deleted or not), so two lists share a count only when they ask the same question. The
answer to a question changes only when a row of a table it reads changes: the records table or (for the scope's
org subquery) the organisations table. Every INSERT, UPDATE, DELETE or TRUNCATE of either table, whoever sends it
(the write service's batch inserts in raw SQL, a saved form, a transition, a soft delete, an undo, the ORM
anywhere, a flush), passes through `_watch`, a wrapper on every database connection of the process, and changes
the database's **write version** once its transaction has committed; a count is kept under the version read
before it was counted, so the first list after a write counts again. A list that reads any other table (a
filter that joins one) or asks the clock (NOW(), CURRENT_DATE) is never kept. Inside a transaction (a test case, a view that wrote first) nothing is read
from or put into the cache: the transaction may see rows no one else sees yet.

Why after the commit: a count taken while a write is still uncommitted does not include it, and must not be kept
under a version that readers will still use once it is committed. Between the commit and the version change lie
microseconds, before the writer's own answer is sent.

Only PostgreSQL keeps counts: on SQLite a COUNT over the covering index is cheap (the API's p95 there was 43 ms),
and a SQLite database has no identity a shared cache could safely name (tests use in-memory databases of one
name in parallel processes). The cache is named per database by host, port, name and the database's oid (a
recreated database is a new one). Writes that pass no connection of this code (psql, a restore by pg_restore) are
not seen: a kept count expires after TTL seconds whatever happens.

The watcher is installed on every new connection (`connection_created`) of a process that imported this module;
`records.services` (the write path) imports it, and Django's set-up imports that before any request is served.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import re
import threading
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache.backends.filebased import FileBasedCache
from django.db import connections, transaction
from django.db.backends.signals import connection_created
from django.db.models import QuerySet

from dangjian.orgs.models import Organization

from .models import Record

TTL = 300  # seconds a kept count lives at most (writes that bypass this code's connections: psql, pg_restore)
WATCHED = frozenset({Record._meta.db_table, Organization._meta.db_table})  # what a records list reads
_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_TRUNCATE = re.compile(r"\s*TRUNCATE\b", re.IGNORECASE)
_TABLES = re.compile(r'\b(?:FROM|JOIN)\s+"(\w+)"', re.IGNORECASE)
_CLOCK = re.compile(
    r"\b(?:CURRENT_(?:DATE|TIME|TIMESTAMP)|LOCALTIME|LOCALTIMESTAMP|NOW|\w+_TIMESTAMP|RANDOM)\b", re.I
)
_PLAIN = (str, int, float, bool, type(None), dt.date, dt.datetime, decimal.Decimal, uuid.UUID)

_store_lock = threading.Lock()
_store: FileBasedCache | None = None


def _cache() -> FileBasedCache:
    """A cache of its own (the default one holds import progress, which a cull must not throw away)."""
    global _store
    with _store_lock:
        if _store is None:
            where = Path(settings.DATA_DIR) / "cache" / "counts"
            _store = FileBasedCache(str(where), {"TIMEOUT": TTL, "OPTIONS": {"MAX_ENTRIES": 2000}})
        return _store


def enabled(connection: Any) -> bool:
    return connection.vendor == "postgresql"


# --- the database's identity and write version ----------------------------------------------------------------


def _identity(connection: Any) -> str:
    """Which database this is: host, port and name, and its oid (asked once per connection)."""
    raw = connection.connection
    known = getattr(connection, "_counts_identity", None)
    if known is not None and known[0] is raw:
        return known[1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        (oid,) = cursor.fetchone()
    s = connection.settings_dict
    identity = f"{s.get('HOST') or ''}:{s.get('PORT') or ''}/{s.get('NAME')}#{oid}"
    connection._counts_identity = (connection.connection, identity)
    return identity


def _version_key(identity: str) -> str:
    return "records-version:" + hashlib.sha256(identity.encode()).hexdigest()[:32]


def _bump(connection: Any) -> None:
    """A new write version: every count kept so far is for an older state of the tables."""
    if connection.connection is None:
        connection.ensure_connection()
    _cache().set(_version_key(_identity(connection)), uuid.uuid4().hex, None)


def _version(connection: Any) -> str:
    cache, key = _cache(), _version_key(_identity(connection))
    found = cache.get(key)
    if found is None:  # first read, or culled: any fresh value only makes every kept count unused
        found = uuid.uuid4().hex
        cache.set(key, found, None)
    return str(found)


def changed(using: str = "default") -> None:
    """The record or org tables of database `using` changed (or will, when the transaction commits)."""
    connection = connections[using]
    if not enabled(connection):
        return
    if not connection.in_atomic_block:
        _bump(connection)
        return
    pending = getattr(connection, "run_on_commit", [])
    if any(getattr(entry[1], "counts_bump", False) for entry in pending):
        return  # this transaction will change the version once already

    def bump() -> None:
        _bump(connection)

    bump.counts_bump = True  # type: ignore[attr-defined]
    transaction.on_commit(bump, using=using)


def _writes_watched(sql: str) -> bool:
    found = _WRITE.match(sql)
    if found is not None:
        return found.group(1) in WATCHED
    return bool(_TRUNCATE.match(sql)) and any(f'"{t}"' in sql for t in WATCHED)


def _watch(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and _writes_watched(sql):
        changed(context["connection"].alias)
    return result


def _install(connection: Any, **_: Any) -> None:
    if enabled(connection) and _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


connection_created.connect(_install, dispatch_uid="dangjian.records.counts")
for _open in connections.all(initialized_only=True):  # connections of this thread made before this import
    if _open.connection is not None:
        _install(_open)


# --- counting --------------------------------------------------------------------------------------------------


def _question(rows: QuerySet) -> tuple[str, tuple[Any, ...]] | None:
    """The list's SQL and parameters, when a kept count of it can be trusted (it reads watched tables only)."""
    try:
        sql, params = rows.query.get_compiler(using=rows.db).as_sql()
    except Exception:  # an empty result (EmptyResultSet) and the like: just count
        return None
    if not set(_TABLES.findall(sql)) <= WATCHED or _CLOCK.search(sql):
        return None  # another table, or an answer that changes with the clock: count every time
    if not all(isinstance(p, _PLAIN) for p in params):
        return None
    return sql, tuple(params)


def count(rows: QuerySet) -> int:
    """`rows.count()`, kept until the next write to the tables the list reads (PostgreSQL, outside transactions)."""
    connection = connections[rows.db]
    if not enabled(connection) or connection.in_atomic_block:
        return rows.count()
    question = _question(rows)
    if question is None:
        return rows.count()
    connection.ensure_connection()
    _install(connection)  # a connection opened in another thread before this module was imported
    identity = _identity(connection)
    version = _version(connection)  # read before counting: a write committed after this makes a new version
    key = "records-count:" + hashlib.sha256(repr((identity, version, question)).encode()).hexdigest()
    cache = _cache()
    found = cache.get(key)
    if isinstance(found, int):
        return found
    number = rows.count()
    cache.set(key, number, TTL)
    return number
