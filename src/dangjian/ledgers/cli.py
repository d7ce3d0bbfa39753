"""`dangjian ledgers|template|import|export`: ledgers from the command line.

The command line acts as the operator of the installation (who already holds the database), so it may name any
active org; the web checks each user's rights instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace

from dangjian.orgs.models import Organization

from .forms import MASK
from .models import LedgerType, Record


def _ledger(code: str) -> LedgerType | None:
    lt = LedgerType.objects.prefetch_related("fields").filter(code=code, is_active=True).first()
    if lt is None:
        print(f"找不到台账“{code}”。可用 `dangjian ledgers` 查看全部台账代码。", file=sys.stderr)
    return lt


def _org(code: str | None) -> tuple[bool, Organization | None]:
    if not code:
        return True, None
    org = Organization.objects.filter(code=code).first()
    if org is None:
        print(f"找不到组织代码“{code}”。", file=sys.stderr)
        return False, None
    return True, org


def ledgers(args: argparse.Namespace) -> int:
    for lt in LedgerType.objects.filter(is_active=True):
        print(f"{lt.code}\t{lt.label}\t{lt.category}")
    return 0


def template(args: argparse.Namespace) -> int:
    from .xlsx import build_template

    lt = _ledger(args.ledger)
    if lt is None:
        return 1
    orgs = Organization.objects.filter(is_active=True).order_by("path")
    Path(args.output).write_bytes(build_template(lt, orgs))
    print(f"已生成导入模板：{args.output}")
    return 0


def import_(args: argparse.Namespace) -> int:
    from .imports import import_file

    lt = _ledger(args.ledger)
    found, org = _org(args.org)
    if lt is None or not found:
        return 1
    policy = "skip" if args.skip_duplicates else "allow" if args.allow_duplicates else "refuse"
    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件“{path}”。", file=sys.stderr)
        return 1
    result = import_file(
        None,
        lt,
        path,
        path.name,
        default_org=org,
        duplicates=policy,
        check_access=False,
        sheet=args.sheet or "",
    )
    for line in result.lines():
        print(line, file=sys.stderr)
    if result.needs_choice:
        print("可加 --skip-duplicates 跳过重复记录，或 --allow-duplicates 仍然导入。", file=sys.stderr)
    print(result.summary(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def export(args: argparse.Namespace) -> int:
    from django.http import QueryDict

    from dangjian.audit.log import Action, record

    from .forms import RecordFilter
    from .imports import COMMAND_LINE
    from .xlsx import export_records

    lt = _ledger(args.ledger)
    found, org = _org(args.org)
    if lt is None or not found:
        return 1
    params = QueryDict(mutable=True)
    if args.year:
        params.update({"from": f"{args.year}-01-01", "to": f"{args.year}-12-31"})
    # The filter's org choice is limited to a user's subtrees; the operator's scope is every org.
    filters = RecordFilter.from_request(lt, SimpleNamespace(is_authenticated=False), params)
    filters.sort = "date"
    qs = Record.objects.alive().filter(ledger_type=lt).select_related("org")
    if org is not None:
        qs = qs.filter(org__path__startswith=org.path)
    records = filters.apply(qs)
    data = export_records(lt, records.iterator(chunk_size=2000), lambda r: False, MASK)
    Path(args.output).write_bytes(data)
    count = records.count()
    record(
        Action.EXPORT,
        username=COMMAND_LINE,
        target=f"台账 {lt.code}（{lt.label}）",
        rows=count,
        format="xlsx",
        org=org.code if org else "",
        year=args.year or "",
        file=str(args.output)[:200],
    )
    print(f"已导出 {count} 条记录：{args.output}")
    return 0
