"""Scale P, a province of about 5 million records, for benchmarks (issue 14): the city (scale M) with its units
cloned on the database server.

Generating 5 million records through the write service costs about 190 µs of Python per record (the values made
up, each validated, then written): 16 minutes of an idle core, over an hour on the shared benchmark machine. So P
is scale M — 1,670 units and 151,340 records, generated and validated through the write service as ever — with
every unit under the root cloned COPIES times by INSERT … SELECT, which the database runs without Python:
- each clone of a unit gets the original's columns and kinds, its code with the copy's suffix (`-p01` …), and a
  path under the root that follows the tree's encoding (clones sort after the originals, by copy: a benchmark
  database, not one whose tree is to be edited);
- each clone's records are the original's (ledger, dates, values, state), the external key with the suffix;
- each new record gets its history row, as the write service writes it, with the reason "演示数据（复制）".
The root's own records are not cloned. Only the demo generator calls this (`build_demo(scale="P")`).
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from dangjian.orgs.models import Organization
from dangjian.records import counts
from dangjian.records.models import Record

COPIES = 32  # M and 32 copies of its units: about 33 × 151,340 ≈ 5.0 million records
REASON = "演示数据（复制）"


def _step(n: int) -> str:
    """The n-th (1-based) path step of a child, as django-treebeard encodes it."""
    alphabet, steplen = Organization.alphabet, Organization.steplen
    if not 0 < n < len(alphabet) ** steplen:
        raise ValueError(f"一个组织最多有 {len(alphabet) ** steplen - 1} 个下级，第 {n} 个无法编号")
    digits = ""
    while n:
        n, digit = divmod(n, len(alphabet))
        digits = alphabet[digit] + digits
    return digits.rjust(steplen, alphabet[0])


def _number(step: str) -> int:
    alphabet = Organization.alphabet
    return sum(alphabet.index(c) * len(alphabet) ** i for i, c in enumerate(reversed(step)))


def suffix(copy: int) -> str:
    return f"-p{copy:02d}"


@transaction.atomic
def clone_units(root: Organization, copies: int | None = None) -> int:
    """Clone every unit under `root` (with its records and their history) `copies` (COPIES) times; the records
    created."""
    copies = COPIES if copies is None else copies
    quote = connection.ops.quote_name
    orgs, kinds = quote(Organization._meta.db_table), quote(Organization.kinds.through._meta.db_table)
    records, history = quote(Record._meta.db_table), quote(Record.history.model._meta.db_table)  # type: ignore[attr-defined]
    root = Organization.objects.get(pk=root.pk)
    children = list(Organization.objects.get_children(root).values_list("path", flat=True))
    last_step = max((_number(p[-Organization.steplen :]) for p in children), default=0)
    org_columns = [
        f.column for f in Organization._meta.concrete_fields if f.column not in ("id", "path", "code")
    ]
    record_columns = [
        f.column for f in Record._meta.concrete_fields if f.column not in ("id", "org_id", "key")
    ]
    kind_from = Organization.kinds.through._meta.get_field("organization").column
    kind_to = Organization.kinds.through._meta.get_field("orgkind").column
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX({quote('id')}) FROM {records}")
        last_original = cursor.fetchone()[0] or 0
        for copy in range(1, copies + 1):
            tail = suffix(copy)
            for n, path in enumerate(children, start=1):
                new_path = root.path + _step(last_step + len(children) * (copy - 1) + n)
                cursor.execute(
                    f"INSERT INTO {orgs} ({', '.join(map(quote, org_columns))}, path, code) "
                    f"SELECT {', '.join(map(quote, org_columns))}, %s || SUBSTR(path, %s), code || %s "
                    f"FROM {orgs} WHERE path LIKE %s",
                    [new_path, len(path) + 1, tail, path + "%"],
                )
            cursor.execute(
                f"INSERT INTO {kinds} ({quote(kind_from)}, {quote(kind_to)}) SELECT n.id, k.{quote(kind_to)} "
                f"FROM {orgs} o JOIN {kinds} k ON k.{quote(kind_from)} = o.id JOIN {orgs} n ON n.code = o.code || %s "
                "WHERE o.path LIKE %s AND o.depth > %s",
                [tail, root.path + "%", root.depth],
            )
            cursor.execute(
                f"INSERT INTO {records} ({', '.join(map(quote, record_columns))}, org_id, {quote('key')}) "
                f"SELECT {', '.join('r.' + quote(c) for c in record_columns)}, n.id, "
                f"CASE WHEN r.{quote('key')} = '' THEN '' ELSE r.{quote('key')} || %s END "
                f"FROM {records} r JOIN {orgs} o ON o.id = r.org_id JOIN {orgs} n ON n.code = o.code || %s "
                f"WHERE o.path LIKE %s AND o.depth > %s AND r.id <= %s",
                [tail, tail, root.path + "%", root.depth, last_original],
            )
        # The history rows the write service writes with a record: its columns, who (nobody: the demo), when, why.
        entry = Record.history.model  # type: ignore[attr-defined]
        tracked = {f.attname for f in entry.tracked_fields}
        columns: list[str] = []
        values: list[str] = []
        params: list[Any] = []
        for f in entry._meta.concrete_fields:
            if f.attname in tracked:
                columns.append(f.column)
                values.append("r." + quote(f.column))
            elif f.attname in ("history_date", "history_change_reason", "history_type"):
                columns.append(f.column)
                values.append("%s")
                params.append(
                    {"history_date": timezone.now(), "history_change_reason": REASON, "history_type": "+"}[
                        f.attname
                    ]
                )
        cursor.execute(
            f"INSERT INTO {history} ({', '.join(map(quote, columns))}) "
            f"SELECT {', '.join(values)} FROM {records} r WHERE r.id > %s",
            [*params, last_original],
        )
        created = cursor.rowcount
        cursor.execute(
            f"UPDATE {orgs} SET numchild = (SELECT COUNT(*) FROM {orgs} c WHERE c.path LIKE %s AND c.depth = %s) "
            "WHERE id = %s",
            [root.path + "%", root.depth + 1, root.pk],
        )
    counts.changed()  # the kept list counts (their watcher sees these INSERTs too; said here for the reader)
    return created
