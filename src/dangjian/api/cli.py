"""`dangjian token create USERNAME [--days N] [--name TEXT]`: print a new API token for an account (set-up and
scripts). The secret is printed once to standard output, alone on its line, so `TOKEN=$(dangjian token …)` works;
what it is for goes to standard error."""

from __future__ import annotations

import argparse
import sys


def token(args: argparse.Namespace) -> int:
    from django.contrib.auth import get_user_model

    from dangjian.text import cn_datetime

    from . import tokens
    from .tokens import MAX_DAYS

    user = get_user_model().objects.filter(username=args.username).first()
    if user is None:
        print(f"没有用户名为“{args.username}”的账号", file=sys.stderr)
        return 1
    if not user.is_active:
        print(f"账号“{args.username}”已停用，不能为其创建令牌", file=sys.stderr)
        return 1
    if args.days is not None and not 1 <= args.days <= MAX_DAYS:
        print(f"--days 应在 1 至 {MAX_DAYS} 之间", file=sys.stderr)
        return 1
    made = tokens.create(user, args.name or "命令行创建", days=args.days)
    until = (
        f"有效期至 {cn_datetime(made.token.expires_at)}" if made.token.expires_at else "长期有效，直到吊销"
    )
    print(made.secret)
    print(
        f"已为账号“{user.get_username()}”创建 API 令牌（{until}）。令牌只显示这一次，请妥善保存；"
        f"使用时放在请求头 Authorization: Bearer 令牌 中。",
        file=sys.stderr,
    )
    return 0
