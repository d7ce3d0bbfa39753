"""Request and response hardening for a government network (等保2.0): each class does one thing.

- SessionRefreshMiddleware: the idle timeout without a session write on every request.
- RejectNulMiddleware: a NUL byte in a parameter is refused with a Chinese 400 (PostgreSQL cannot store it).
- ResponseHeadersMiddleware: `Cache-Control: no-store` for signed-in users, a minimal Permissions-Policy.
- DemoWarningMiddleware: a red banner on every page when the demo database is served beyond loopback.
- IssuedPasswordMiddleware: a password issued by an administrator must be changed before anything else.

The Content-Security-Policy header comes from django-csp (see CONTENT_SECURITY_POLICY in settings).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import escape

logger = logging.getLogger(__name__)
GetResponse = Callable[[HttpRequest], HttpResponse]


# --- sessions ---------------------------------------------------------------------------------------
REFRESHED_KEY = "_dangjian_refreshed"  # when the session's expiry was last pushed forward (Unix seconds)


def refresh_interval(age: int) -> int:
    """How often an active session's expiry is pushed forward: a tenth of the timeout, at most 5 minutes."""
    return max(1, min(300, age // 10))


class SessionRefreshMiddleware:
    """Keep active sessions alive and let idle ones expire, writing the session at most every few minutes.

    SESSION_SAVE_EVERY_REQUEST wrote the session row on every page view, so a long import holding SQLite's write
    lock made plain page views fail with "database is locked". Here the session is saved (its expiry set to now +
    SESSION_COOKIE_AGE) only when the last refresh is older than refresh_interval(): an idle session ends between
    SESSION_COOKIE_AGE minus that interval and SESSION_COOKIE_AGE after the last request, never later.
    Goes after AuthenticationMiddleware: only signed-in users' sessions are touched.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return response
        session = request.session
        now = int(timezone.now().timestamp())
        last = session.get(REFRESHED_KEY)
        if session.session_key is None:  # signed in without a session (a token): nothing to keep alive
            return response
        if session.modified:  # saved anyway (e.g. at login): note the refresh for free
            session[REFRESHED_KEY] = now
            return response
        if isinstance(last, int) and now - last < refresh_interval(settings.SESSION_COOKIE_AGE):
            return response
        session[REFRESHED_KEY] = now
        try:
            session.save()
        except UpdateError:
            # The database is busy (or the session was ended elsewhere): the page is served all the same and
            # the next request tries again; a refresh is never worth failing a page view for.
            logger.warning("会话续期写入失败，将在下次请求时重试", exc_info=True)
        # Saved here, so SessionMiddleware need not save again. Its cookie lasts until the browser closes
        # (SESSION_EXPIRE_AT_BROWSER_CLOSE), so it needs no resend either: the expiry lives in the database.
        session.modified = False
        return response


# --- NUL bytes --------------------------------------------------------------------------------------
def _nul_place(request: HttpRequest) -> str | None:
    """Where a NUL byte is in the request (path, query string, form fields, file names), or None."""
    if "\x00" in request.path:
        return "网址"
    name = _first_nul(request.GET.lists())
    if name is not None:
        return f"网址参数“{name}”"
    if request.method == "POST":
        name = _first_nul(request.POST.lists())
        if name is None:
            name = _first_nul((key, [f.name or "" for f in files]) for key, files in request.FILES.lists())
        if name is not None:
            return f"字段“{name}”"
    return None


def _first_nul(items: Iterable[tuple[str, list]]) -> str | None:
    for key, values in items:
        if "\x00" in key or any("\x00" in v for v in values if isinstance(v, str)):
            return key.replace("\x00", "\\x00")
    return None


class RejectNulMiddleware:
    """Refuse any request whose path, query string, form fields or file names contain a NUL byte (\\x00).

    PostgreSQL cannot store NUL in text, so such a value reached a query or a save and gave a server error; SQLite
    stored it silently. No field of this system has a use for it: the request is refused before any view runs and
    nothing is changed. Runs in process_view, after CsrfViewMiddleware has read the form.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict
    ) -> HttpResponse | None:
        place = _nul_place(request)
        if place is None:
            return None
        message = (
            f"{place}中含有不可见的空字符（NUL，\\x00），系统已拒绝本次提交，数据未作任何修改。"
            "这种字符常见于从其他系统复制的文字，请删除后重新输入。"
        )
        return HttpResponseBadRequest(render_to_string("400.html", {"message": message}, request))


# --- response headers -------------------------------------------------------------------------------
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=()"


class ResponseHeadersMiddleware:
    """`Cache-Control: no-store` on everything a signed-in user receives, and a minimal Permissions-Policy.

    Pages, JSON, xlsx and attachments of a signed-in user must not stay in a shared computer's browser cache or
    a proxy. Static files are served by WhiteNoise further up the chain, never reach this, and stay cacheable.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


# --- the demo database beyond loopback -----------------------------------------------------------------
DEMO_WARNING = "这是演示数据库，账号密码已公开，请勿在网络上提供服务或录入真实数据"
_DEMO_CHECK_SECONDS = 60.0
_served_beyond_loopback = False
_demo_cache: tuple[float, bool] | None = None
_published_hashes: dict[str, bool] = {}  # password hash -> is it the published demo password


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost; a host name, an empty host or 0.0.0.0 is not loopback."""
    host = host.strip().strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def note_bind_address(host: str) -> bool:
    """`dangjian serve --host H`: remember whether the server listens beyond loopback; True if it does."""
    global _served_beyond_loopback
    _served_beyond_loopback = not is_loopback(host)
    return _served_beyond_loopback


def forget_demo_state() -> None:
    """Forget what was found out about the database (tests; a restored or re-initialised database)."""
    global _demo_cache
    _demo_cache = None
    _published_hashes.clear()


def demo_database_in_use() -> bool:
    """The database holds the demo district and an active demo account still has the published password.

    Found out at most once a minute (two small queries); each password hash is checked against the published
    password once per process, as checking is slow on purpose.
    """
    global _demo_cache
    now = time.monotonic()
    if _demo_cache is not None and now - _demo_cache[0] < _DEMO_CHECK_SECONDS:
        return _demo_cache[1]
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import check_password

    from dangjian.demo.generator import DEMO_PASSWORD, DEMO_USERS, ROOT_CODE
    from dangjian.orgs.models import Organization

    found = False
    if Organization.objects.filter(code=ROOT_CODE).exists():
        names = [username for username, *_ in DEMO_USERS]
        hashes = get_user_model().objects.filter(username__in=names, is_active=True)
        for encoded in hashes.values_list("password", flat=True):
            if encoded not in _published_hashes:
                if len(_published_hashes) > 1000:
                    _published_hashes.clear()
                _published_hashes[encoded] = check_password(DEMO_PASSWORD, encoded)
            if _published_hashes[encoded]:
                found = True
                break
    _demo_cache = (now, found)
    return found


def reached_beyond_loopback(request: HttpRequest) -> bool:
    """The server listens beyond loopback, or this request came from, or was addressed to, a non-loopback host."""
    if _served_beyond_loopback:
        return True
    if not is_loopback(request.META.get("REMOTE_ADDR") or "127.0.0.1"):
        return True
    host = request.get_host()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host  # drop the port, keep [::1]
    return not is_loopback(name)


_BODY = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)


class DemoWarningMiddleware:
    """A red banner at the top of every HTML page (the app's, the admin's, error pages) when the demo database,
    whose accounts and password are printed in the README, is reachable beyond this machine.

    Inserted into the finished page rather than into base.html, so the admin and every other template show it
    too. Goes below CommonMiddleware, which then sets Content-Length on the changed page.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.streaming
            or not response.get("Content-Type", "").startswith("text/html")
            or not reached_beyond_loopback(request)
            or not demo_database_in_use()
        ):
            return response
        match = _BODY.search(response.content)
        if match is None:
            return response
        banner = (
            f'<link rel="stylesheet" href="{escape(static("dangjian/demo-warning.css"))}">'
            f'<div class="dangjian-demo-warning" role="alert">{DEMO_WARNING}</div>'
        ).encode()
        response.content = response.content[: match.end()] + banner + response.content[match.end() :]
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response


# --- passwords issued by someone else ------------------------------------------------------------------
class IssuedPasswordMiddleware:
    """A password set by an administrator must be changed at first login (see web/passwords.py).

    Notes the request for the duration of the view, so that a password set in it is known to be set by the
    signed-in user; and sends a user whose session says the password must be changed to the change page, from
    every page but that one and logout. Goes after AuthenticationMiddleware.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Imported here: passwords imports models, and the CLI imports this module before Django is set up.
        from dangjian.web import passwords

        if (
            passwords.must_change(request)
            and request.user.is_authenticated
            and request.path not in {reverse("password_change"), reverse("logout")}
        ):
            return redirect(passwords.change_url(request))
        with passwords.acting(request):
            return self.get_response(request)
