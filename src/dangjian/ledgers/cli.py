"""`dangjian ledgers|template|import|export`: ledgers from the command line.

Each command acts as an actor, and sees and writes exactly what that actor's `access.scope()` allows, as on the web:
a named account (`--as USERNAME`, resolved by `dangjian.cli`), or by default `access.SYSTEM`, the installation's
operator — every org's rows, but never a confidential ledger's rows, and sensitive fields always masked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dangjian.orgs import access
from dangjian.orgs.models import Organization

from .models import LedgerType

AS_HINT = "（可用 --as 用户名 以有权查看的账号执行）"


def actor(args: argparse.Namespace) -> Any:
    """The account the command acts as: `--as USERNAME` (set by dangjian.cli), else the system actor."""
    return getattr(args, "actor", None) or access.SYSTEM


def _who(scope: access.Scope) -> str:
    return "系统（命令行）" if scope.system else f"账号“{scope.user.get_username()}”"


def _ledger(code: str, scope: access.Scope) -> LedgerType | None:
    lt = LedgerType.objects.prefetch_related("fields").filter(code=code, is_active=True).first()
    if lt is None:
        print(f"找不到台账“{code}”。可用 `dangjian ledgers` 查看全部台账代码。", file=sys.stderr)
        return None
    if not scope.sees_rows(lt):
        why = (
            f"台账“{lt.label}”为涉密台账，{_who(scope)}"
            if lt.confidential
            else f"{_who(scope)}对台账“{lt.label}”"
        )
        print(f"{why}无权查看其记录{AS_HINT}。", file=sys.stderr)
        return None
    return lt


def _org(code: str | None, scope: access.Scope) -> tuple[bool, Organization | None]:
    if not code:
        return True, None
    org = scope.orgs().filter(code=code).first()
    if org is None:
        print(f"找不到组织代码“{code}”（或不在{_who(scope)}的范围内）。", file=sys.stderr)
        return False, None
    return True, org


def ledgers(args: argparse.Namespace) -> int:
    scope = access.scope(actor(args))
    every = LedgerType.objects.filter(is_active=True)
    shown = scope.ledger_types(every)
    for lt in shown:
        print(f"{lt.code}\t{lt.label}\t{lt.category}")
    hidden = every.count() - shown.count()
    if hidden:
        print(f"另有 {hidden} 个台账{_who(scope)}无权查看其记录，未列出{AS_HINT}。", file=sys.stderr)
    return 0


def template(args: argparse.Namespace) -> int:
    from .xlsx import build_template

    scope = access.scope(actor(args))
    lt = _ledger(args.ledger, scope)
    if lt is None:
        return 1
    orgs = scope.entry_orgs(lt).order_by("path")
    Path(args.output).write_bytes(build_template(lt, orgs))
    print(f"已生成导入模板：{args.output}")
    return 0


def import_(args: argparse.Namespace) -> int:
    from .imports import import_file

    scope = access.scope(actor(args))
    lt = _ledger(args.ledger, scope)
    found, org = _org(args.org, scope)
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

    from dangjian.audit.log import Action, record

    from .forms import RecordFilter
    from .imports import COMMAND_LINE
    from .views import listed_records
    from .xlsx import export_records

    scope = access.scope(actor(args))
    lt = _ledger(args.ledger, scope)
    found, org = _org(args.org, scope)
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
