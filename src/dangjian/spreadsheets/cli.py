"""`dangjian template|import|export`: a ledger's xlsx template, import and export from the command line.

Each command acts as an actor, and sees and writes exactly what that actor's `access.scope()` allows, as on the web:
a named account (`--as USERNAME`, resolved by `dangjian.cli`), or by default `access.SYSTEM`, the installation's
operator — every org's rows, but never a confidential ledger's rows, and sensitive fields always masked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dangjian.orgs import access
from dangjian.records.cli import actor, find_ledger, find_org


def template(args: argparse.Namespace) -> int:
    from .xlsx import build_template

    scope = access.scope(actor(args))
    lt = find_ledger(args.ledger, scope)
    if lt is None:
        return 1
    orgs = scope.entry_orgs(lt).order_by("path")
    Path(args.output).write_bytes(build_template(lt, orgs))
    print(f"已生成导入模板：{args.output}")
    return 0


def import_(args: argparse.Namespace) -> int:
    from .imports import import_file

    scope = access.scope(actor(args))
    lt = find_ledger(args.ledger, scope)
    found, org = find_org(args.org, scope)
    if lt is None or not found:
        return 1
    policy = "skip" if args.skip_duplicates else "allow" if args.allow_duplicates else "refuse"
    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件“{path}”。", file=sys.stderr)
        return 1
    result = import_file(
        scope.user, lt, path, path.name, default_org=org, duplicates=policy, sheet=args.sheet or ""
    )
    for line in result.lines():
        print(line, file=sys.stderr)
    if result.needs_choice:
        print("可加 --skip-duplicates 跳过重复记录，或 --allow-duplicates 仍然导入。", file=sys.stderr)
    print(result.summary(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def export(args: argparse.Namespace) -> int:
    """The records the actor sees (as the web's records table and its xlsx: same filters, same masking)."""
    from django.http import QueryDict

    from dangjian.audit.log import COMMAND_LINE, Action, record
    from dangjian.records.forms import RecordFilter
    from dangjian.records.views import listed_records

    from .xlsx import export_records

    scope = access.scope(actor(args))
    lt = find_ledger(args.ledger, scope)
    found, org = find_org(args.org, scope)
    if lt is None or not found:
        return 1
    params = QueryDict(mutable=True)
    if args.year:
        params.update({"from": f"{args.year}-01-01", "to": f"{args.year}-12-31"})
    if org is not None:
        params["org"] = org.code
    filters = RecordFilter.from_request(lt, scope.user, params)
    filters.sort = "date"
    records = listed_records(scope.user, lt, filters)
    data = export_records(lt, records.iterator(chunk_size=2000), scope)
    Path(args.output).write_bytes(data)
    count = records.count()
    record(
        Action.EXPORT,
        user=None if scope.system else scope.user,
        username=COMMAND_LINE,
        target=f"台账 {lt.code}（{lt.label}）",
        rows=count,
        format="xlsx",
        org=org.code if org else "",
        year=args.year or "",
        file=str(args.output)[:200],
        via="命令行 dangjian export",
    )
    print(f"已导出 {count} 条记录：{args.output}")
    return 0
