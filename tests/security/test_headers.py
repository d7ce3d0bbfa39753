"""Web hardening (issue 8, finding 6's session part and the low findings on headers, hosts and NUL bytes).

- The session is no longer written on every request (a long import's write lock made page views fail), and idle
  sessions still end after DANGJIAN_SESSION_MINUTES.
- Every page has a Content-Security-Policy without inline scripts, and no page or template has one to need it.
- Whatever a signed-in user receives is `Cache-Control: no-store`; static files stay cacheable.
- `testserver` is not among the default allowed hosts.
- A NUL byte in a query string or a form field is refused with a Chinese 400 before it reaches the database.
- The demo database, whose passwords are published, warns on every page when served beyond loopback.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tests.conftest import PASSWORD

from dangjian.records.models import Record
from dangjian.web import middleware

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
SRC = Path(__file__).resolve().parents[2] / "src" / "dangjian"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


class Clock:
    """timezone.now() moved forward by hand: session expiry and the refresh both read it."""

    def __init__(self, monkeypatch) -> None:
        self.offset = dt.timedelta(0)
        real = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real() + self.offset)

    def advance(self, **delta: float) -> None:
        self.offset += dt.timedelta(**delta)


def session_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]


# --- sessions -------------------------------------------------------------------------------------------


def test_page_views_do_not_write_the_session(world, settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    client = client_for(world.clerk)
    assert client.get("/").status_code == 200  # the first view after login may note its refresh
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
        assert client.get("/ledgers/study_activity/").status_code == 200
    assert session_writes(queries.captured_queries) == []


def test_an_active_session_is_refreshed_every_few_minutes_only(world, settings, monkeypatch):
    settings.SESSION_COOKIE_AGE = 480 * 60
    clock = Clock(monkeypatch)
    client = client_for(world.clerk)
    client.get("/")
    clock.advance(minutes=4)
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    assert session_writes(queries.captured_queries) == []
    clock.advance(minutes=2)  # 6 minutes since the last refresh: one write pushes the expiry forward
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
        client.get("/")
    assert len(session_writes(queries.captured_queries)) == 1


def test_an_idle_session_ends_after_the_timeout_and_an_active_one_does_not(world, settings, monkeypatch):
    settings.SESSION_COOKIE_AGE = 30 * 60  # DANGJIAN_SESSION_MINUTES=30: refreshed every 3 minutes
    clock = Clock(monkeypatch)
    active, idle = client_for(world.clerk), client_for(world.reviewer)
    active.get("/"), idle.get("/")
    for _ in range(40):  # two hours of work, a page every three minutes
        clock.advance(minutes=3)
        assert active.get("/").status_code == 200
    response = idle.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    # Idle for just over the timeout after a refresh: signed out too.
    clock.advance(minutes=31)
    response = active.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_user_signed_in_without_a_session_gets_none_written(world):
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.http import HttpResponse
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user, request.session = world.clerk, SessionStore()  # as an API token would leave them
    middleware.SessionRefreshMiddleware(lambda r: HttpResponse("ok"))(request)
    assert not Session.objects.exists()


def test_signing_in_still_works_and_notes_the_refresh(world):
    client = Client()
    assert client.post("/login/", {"username": "clerk", "password": PASSWORD}).status_code == 302
    assert isinstance(client.session.get(middleware.REFRESHED_KEY), int)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert session_writes(queries.captured_queries) == []
    client.post("/logout/")
    assert client.get("/").status_code == 302


# --- Content-Security-Policy ------------------------------------------------------------------------------


def csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


def test_every_page_has_a_csp_without_inline_scripts(world):
    anonymous, clerk, admin = Client(), client_for(world.clerk), client_for(world.sysadmin)
    for client, url in [
        (anonymous, "/login/"),
        (clerk, "/"),
        (clerk, "/ledgers/study_activity/"),
        (clerk, "/ledgers/study_activity.json"),
        (clerk, "/ledgers/study_activity/import"),
        (admin, "/admin/"),
        (anonymous, "/no-such-page/"),
    ]:
        response = client.get(url)
        policy = csp(response)
        assert policy["default-src"] == ["'self'"], url
        assert policy["script-src"] == ["'self'"], url
        assert policy["style-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"], url
        assert policy["img-src"] == ["'self'", "data:"], url
        for directive in ("frame-ancestors", "form-action", "base-uri"):
            assert policy[directive] == ["'self'"], (url, directive)
        assert "unsafe-inline" not in response["Content-Security-Policy"], url
        assert "unsafe-eval" not in response["Content-Security-Policy"], url


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE)
EVENT_ATTRIBUTE = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b", re.IGNORECASE)


def inline_code(html: str) -> list[str]:
    found = []
    for name, pattern in [
        ("script", INLINE_SCRIPT),
        ("on…=", EVENT_ATTRIBUTE),
        ("style=", STYLE_ATTRIBUTE),
        ("<style>", INLINE_STYLE),
    ]:
        found += [f"{name}: {m.group(0)[:80]}" for m in pattern.finditer(html)]
    return found


def test_no_template_has_inline_script_or_style():
    # The standalone report is a file opened from disk (no header applies), so its styles stay inline.
    allowed = {"reports/templates/reports/standalone.html", "reports/templates/reports/_style.html"}
    offenders = {}
    for path in SRC.rglob("*.html"):
        name = path.relative_to(SRC).as_posix()
        if name not in allowed and (found := inline_code(path.read_text(encoding="utf-8"))):
            offenders[name] = found
    assert offenders == {}


def test_rendered_pages_have_no_inline_script_or_style(world, duties, make_record):
    from dangjian.orgs.models import OrgKind
    from dangjian.tasks.collection import create_task

    record = make_record(
        "study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "学习"}
    )
    # The system administrator (三员): accounts are his duty, the org tree he may look at.
    clerk, admin = client_for(world.clerk), client_for(duties.system)
    task = create_task(
        world.reviewer,
        title="2019年度党建工作数据",
        creator_org=world.s1,
        ledger_types=[world.ledger("study_activity")],
        period_start=dt.date(2019, 1, 1),
        period_end=dt.date(2019, 12, 31),
        scope_root=world.s1,
        kinds=OrgKind.objects.filter(code="community"),
        deadline=dt.date(2099, 1, 15),
    )
    pages = [
        (Client(), "/login/"),
        (clerk, "/"),
        (clerk, "/ledgers/"),
        (clerk, "/ledgers/study_activity/"),
        (clerk, "/ledgers/study_activity/new"),
        (clerk, f"/ledgers/study_activity/{record.pk}/"),
        (clerk, "/ledgers/study_activity/import"),
        (clerk, f"/ledgers/tasks/{task.pk}/"),
        (admin, "/admin/"),
        (admin, "/admin/orgs/organization/"),
        (admin, "/admin/auth/user/add/"),
    ]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert inline_code(response.content.decode()) == [], url
    # What the inline handlers did is now asked for by data attributes, which app.js reads.
    html = clerk.get(f"/ledgers/study_activity/{record.pk}/").content.decode()
    assert 'data-confirm="确定删除这条记录吗？' in html
    assert "dangjian/app.js" in html
    assert (
        'data-confirm="报送后本单位该期台账将锁定' in clerk.get(f"/ledgers/tasks/{task.pk}/").content.decode()
    )


def test_the_standalone_report_keeps_its_styles_inline():
    from django.template.loader import render_to_string

    html = render_to_string(
        "reports/standalone.html", {"title": "报告", "body": "", "checks": [], "failed": []}
    )
    assert "<style>" in html and ".report-paper" in html and "<link" not in html


def test_a_refused_form_says_so_in_chinese_under_the_csp(world):
    # Django's own CSRF failure page is English with an inline <style>; ours is Chinese and styled by app.css.
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "clerk", "password": PASSWORD})
    assert response.status_code == 403
    html = response.content.decode()
    assert "页面已过期" in html and "数据未作任何修改" in html
    assert "Forbidden" not in html and inline_code(html) == []


# --- other headers ----------------------------------------------------------------------------------------


def test_signed_in_responses_are_not_stored_and_static_files_are_cacheable(world, make_record):
    make_record("study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "学习"})
    clerk = client_for(world.clerk)
    for url in (
        "/",
        "/ledgers/study_activity/",
        "/ledgers/study_activity.json",
        "/ledgers/study_activity.xlsx",
    ):
        response = clerk.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url
    static = Client().get("/static/dangjian/app.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")


def test_security_headers(world):
    for response in (Client().get("/login/"), client_for(world.clerk).get("/")):
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "SAMEORIGIN"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "camera=()" in response["Permissions-Policy"]
        assert "geolocation=()" in response["Permissions-Policy"]


def test_testserver_is_not_a_default_allowed_host(tmp_path):
    from tests.test_settings import _settings

    assert _settings(tmp_path)["hosts"] == ["127.0.0.1", "localhost", "[::1]"]


# --- NUL bytes ----------------------------------------------------------------------------------------------


def test_a_nul_byte_in_the_query_string_is_refused_in_chinese(world):
    clerk = client_for(world.clerk)
    for url in ("/ledgers/study_activity/?q=%00", "/ledgers/study_activity.json?q=a%00b", "/ledgers/?x%00=1"):
        response = clerk.get(url)
        assert response.status_code == 400, url
        html = response.content.decode()
        assert "空字符" in html and "网址参数" in html and "数据未作任何修改" in html, url
    assert "网址参数“q”" in clerk.get("/ledgers/study_activity/?q=%00").content.decode()


def test_a_nul_byte_in_a_form_field_is_refused_and_nothing_is_saved(world):
    clerk = client_for(world.clerk)
    form = {
        "reporting_org": world.c1.pk,
        "date": "2019-03-05",
        "kind": "专题报告",
        "title": "学习\x00贯彻",
        "speaker": "王建国",
        "days": "0.5",
        "participants": "45",
    }
    response = clerk.post("/ledgers/study_activity/new", form)
    assert response.status_code == 400
    assert "字段“title”中含有不可见的空字符" in response.content.decode()
    assert not Record.objects.exists()
    # The same form without the NUL is saved: only the byte is refused.
    assert clerk.post("/ledgers/study_activity/new", {**form, "title": "学习贯彻"}).status_code == 302
    assert Record.objects.count() == 1


def test_a_nul_byte_at_login_is_refused(world):
    response = Client().post("/login/", {"username": "clerk\x00", "password": PASSWORD})
    assert response.status_code == 400
    assert "空字符" in response.content.decode()


# --- the demo database beyond loopback ----------------------------------------------------------------------


@pytest.fixture
def demo_db(db, settings):
    """The demo district's root and its published account, as `dangjian init --demo` leaves them."""
    from django.contrib.auth import get_user_model

    from dangjian.demo.generator import DEMO_PASSWORD, ROOT_CODE
    from dangjian.orgs.models import Organization

    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost", "[::1]", "10.1.2.3", "dj.example.cn"]
    Organization.objects.add_root(dict(code=ROOT_CODE, name="示范区", short_name="示范区"))
    user = get_user_model().objects.create_user("qwb", password=DEMO_PASSWORD)
    middleware.forget_demo_state()
    middleware.note_bind_address("127.0.0.1")
    yield user
    middleware.forget_demo_state()
    middleware.note_bind_address("127.0.0.1")


def test_loopback_addresses():
    for host in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST."):
        assert middleware.is_loopback(host), host
    for host in ("0.0.0.0", "", "::", "10.1.2.3", "192.168.1.5", "dj.example.cn", "localhost.example.cn"):
        assert not middleware.is_loopback(host), host


def test_demo_database_reached_over_the_network_warns_on_every_page(demo_db):
    client, anonymous = client_for(demo_db), Client()
    for host in ("10.1.2.3", "dj.example.cn:8000"):
        for who, url in [
            (client, "/"),
            (client, "/no-such-page/"),
            (anonymous, "/login/"),
            (anonymous, "/admin/login/"),
        ]:
            html = who.get(url, HTTP_HOST=host).content.decode()
            assert middleware.DEMO_WARNING in html, (host, url)
            assert "dangjian/demo-warning.css" in html
    # A request from another machine through a proxy on this one.
    html = Client().get("/login/", HTTP_HOST="127.0.0.1", REMOTE_ADDR="10.9.8.7").content.decode()
    assert middleware.DEMO_WARNING in html
    # JSON is left alone; on loopback nothing is shown.
    assert (
        middleware.DEMO_WARNING
        not in client.get("/ledgers/?format=json", HTTP_HOST="10.1.2.3").content.decode()
    )
    for host in ("127.0.0.1", "localhost:8000", "[::1]:8000"):
        assert middleware.DEMO_WARNING not in client.get("/", HTTP_HOST=host).content.decode(), host
        assert middleware.DEMO_WARNING not in anonymous.get("/login/", HTTP_HOST=host).content.decode(), host


def test_serving_beyond_loopback_warns_even_on_a_loopback_request(demo_db):
    assert middleware.note_bind_address("0.0.0.0") is True
    assert middleware.DEMO_WARNING in Client().get("/login/", HTTP_HOST="127.0.0.1").content.decode()


def test_no_warning_once_the_published_password_is_changed_or_without_the_demo_district(demo_db):
    from dangjian.demo.generator import DEMO_PASSWORD
    from dangjian.orgs.models import Organization

    demo_db.set_password("Another#pass-2024")
    demo_db.save()
    middleware.forget_demo_state()
    assert middleware.DEMO_WARNING not in Client().get("/login/", HTTP_HOST="10.1.2.3").content.decode()
    demo_db.set_password(DEMO_PASSWORD)
    demo_db.save()
    Organization.objects.filter(code="demo").delete()
    middleware.forget_demo_state()
    assert middleware.DEMO_WARNING not in Client().get("/login/", HTTP_HOST="10.1.2.3").content.decode()


def test_a_real_database_served_on_the_network_shows_no_warning(world, settings):
    settings.ALLOWED_HOSTS = ["10.1.2.3"]
    middleware.forget_demo_state()
    assert middleware.DEMO_WARNING not in Client().get("/login/", HTTP_HOST="10.1.2.3").content.decode()
    middleware.forget_demo_state()


def test_serve_on_a_network_address_warns_on_the_console(demo_db, monkeypatch, capsys):
    from django.core import management

    from dangjian import cli
    from dangjian.web import server

    served = []
    monkeypatch.setattr(management, "call_command", lambda *args, **kwargs: None)
    monkeypatch.setattr(server, "serve", lambda app, **kwargs: served.append(kwargs))  # no socket, no fork
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "8000"]) == 0
    assert served and served[0]["host"] == "0.0.0.0"
    assert middleware.DEMO_WARNING in capsys.readouterr().err
    assert cli.main(["serve", "--host", "127.0.0.1", "--port", "8000"]) == 0
    assert middleware.DEMO_WARNING not in capsys.readouterr().err
