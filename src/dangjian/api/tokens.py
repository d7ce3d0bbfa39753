"""Creating, revoking and checking API tokens. The secret is shown once; only its SHA-256 digest is stored.

A token is `djt_` followed by 43 URL-safe characters (256 random bits): long enough that guessing is hopeless, so
the digest needs no salt or slow hash, and a lookup by digest is one indexed query per request. Creating and
revoking a token is audited; so is any use of a revoked or expired one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from dangjian.audit.log import COMMAND_LINE, Action, record
from dangjian.text import cn_datetime

from .models import ApiToken

PREFIX = "djt_"
MAX_DAYS = 3660  # ten years: a token for a platform is still meant to be replaced one day
LAST_USED_EVERY = dt.timedelta(minutes=1)  # last_used_at is written at most this often (no write per request)


class TokenRefused(Exception):
    """The token does not let anyone in; the message says why in Chinese (a 401 answer)."""


@dataclass
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _who(user: Any) -> str:
    return f"账号 {user.get_username()} 的 API 令牌"


def create(user: Any, name: str, *, days: int | None = None, request: Any = None) -> NewToken:
    """A new token for `user`, valid for `days` days (None: until revoked). Made on the web by the account holder
    (`request` given) or by `dangjian token create` (the audit log names the command line)."""
    name = (name or "").strip()[:100] or "未命名"
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise ValueError(f"有效天数应在 1 至 {MAX_DAYS} 天之间")
    secret = PREFIX + secrets.token_urlsafe(32)
    expires = timezone.now() + dt.timedelta(days=days) if days else None
    token = ApiToken.objects.create(
        user=user, name=name, digest=digest(secret), prefix=secret[: len(PREFIX) + 4], expires_at=expires
    )
    record(
        Action.API_TOKEN,
        request=request,
        username="" if request is not None else COMMAND_LINE,
        target=_who(user),
        change="创建",
        token=token.pk,
        name=name,
        expires=expires.isoformat() if expires else None,
    )
    return NewToken(token, secret)


def revoke(token: ApiToken, *, request: Any = None) -> bool:
    """Revoke a token (False when it was revoked already). Takes effect on the next request."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(
        Action.API_TOKEN,
        request=request,
        target=_who(token.user),
        change="吊销",
        token=token.pk,
        name=token.name,
    )
    return True


def authenticate(secret: str, *, request: Any = None) -> Any:
    """The active account a token belongs to; TokenRefused (with the reason in Chinese) otherwise."""
    secret = (secret or "").strip()
    if not secret.startswith(PREFIX) or len(secret) > 100:
        raise TokenRefused("API 令牌格式不正确：应为“djt_”开头的令牌，写作 Authorization: Bearer 令牌")
    token = ApiToken.objects.select_related("user").filter(digest=digest(secret)).first()
    if token is None:
        raise TokenRefused("API 令牌无效：没有这个令牌，请检查是否复制完整")
    now = timezone.now()
    why = ""
    if token.revoked_at is not None:
        why = f"该 API 令牌已于 {cn_datetime(token.revoked_at)} 吊销，请使用新的令牌"
    elif token.expires_at is not None and token.expires_at <= now:
        why = f"该 API 令牌已于 {cn_datetime(token.expires_at)} 过期，请重新创建令牌"
    elif not token.user.is_active:
        why = "该账号已停用，其 API 令牌不能使用，请联系系统管理员"
    if why:
        record(
            Action.REFUSED,
            request=request,
            username=token.user.get_username(),
            target=_who(token.user),
            reason=why,
        )
        raise TokenRefused(why)
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        # A busy database: the request is answered all the same, and the next one notes the use.
        with contextlib.suppress(DatabaseError):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
