"""`dangjian ledgers`: ledgers from the command line, and the actor and lookups every ledger command shares
(`dangjian template|import|export` are in `dangjian.spreadsheets.cli`).

Each command acts as an actor, and sees and writes exactly what that actor's `access.scope()` allows, as on the web:
a named account (`--as USERNAME`, resolved by `dangjian.cli`), or by default `access.SYSTEM`, the installation's
operator — every org's rows, but never a confidential ledger's rows, and sensitive fields always masked.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dangjian.orgs import access
from dangjian.orgs.models import Organization

from .models import LedgerType

AS_HINT = "（可用 --as 用户名 以有权查看的账号执行）"


def actor(args: argparse.Namespace) -> Any:
    """The account the command acts as: `--as USERNAME` (set by dangjian.cli), else the system actor."""
    return getattr(args, "actor", None) or access.SYSTEM


def who(scope: access.Scope) -> str:
    return "系统（命令行）" if scope.system else f"账号“{scope.user.get_username()}”"


def find_ledger(code: str, scope: access.Scope) -> LedgerType | None:
    lt = LedgerType.objects.prefetch_related("fields").filter(code=code, is_active=True).first()
    if lt is None:
        print(f"找不到台账“{code}”。可用 `dangjian ledgers` 查看全部台账代码。", file=sys.stderr)
        return None
    if not scope.sees_rows(lt):
        why = (
            f"台账“{lt.label}”为涉密台账，{who(scope)}"
            if lt.confidential
            else f"{who(scope)}对台账“{lt.label}”"
        )
        print(f"{why}无权查看其记录{AS_HINT}。", file=sys.stderr)
        return None
    return lt


def find_org(code: str | None, scope: access.Scope) -> tuple[bool, Organization | None]:
    if not code:
        return True, None
    org = scope.orgs().filter(code=code).first()
    if org is None:
        print(f"找不到组织代码“{code}”（或不在{who(scope)}的范围内）。", file=sys.stderr)
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
        print(f"另有 {hidden} 个台账{who(scope)}无权查看其记录，未列出{AS_HINT}。", file=sys.stderr)
    return 0
