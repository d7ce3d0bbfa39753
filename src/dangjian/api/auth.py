"""Who is calling: a bearer token (`Authorization: Bearer djt_…`) for everything, or — for reading only — the
browser's signed-in session (so the docs page and a logged-in user can look at the JSON).

A session never writes through the API: the API's views are exempt from Django's CSRF middleware (a script has
no CSRF cookie), so a cookie-borne write would be a cross-site request forgery waiting to happen. Writes need a
token, which no other site can make a browser send.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from . import tokens

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NO_TOKEN = (
    "需要 API 令牌：请在请求头中加入 Authorization: Bearer 令牌（令牌在“修改密码”页的“API 令牌”中创建）"
)
SESSION_WRITE = (
    "网页登录状态只能通过接口读取数据；新增、修改、删除请使用 API 令牌（Authorization: Bearer 令牌）"
)


def account(request: HttpRequest) -> Any:
    """The account the request acts as (set by TokenAuth on every API request)."""
    return request.auth  # type: ignore[attr-defined]


class TokenAuth(HttpBearer):
    """Bearer token first; else the session, for safe methods only. Refusals are 401 with a Chinese reason."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, secret = header.partition(" ")
            if scheme.lower() != "bearer":
                raise AuthenticationError(401, "认证方式不正确：请使用 Authorization: Bearer 令牌")
            return self.authenticate(request, secret)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if request.method not in SAFE_METHODS:
                raise AuthenticationError(403, SESSION_WRITE)
            return user
        raise AuthenticationError(401, NO_TOKEN)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        try:
            user = tokens.authenticate(token, request=request)
        except tokens.TokenRefused as exc:
            raise AuthenticationError(401, str(exc)) from None
        # The request acts as the token's account from here on: audit entries, history and the no-store header
        # (ResponseHeadersMiddleware) all read request.user.
        request.user = user
        return user
