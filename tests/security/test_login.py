"""Login protection, login audit and passwords (issue 8, finding 7 and the self-service password change).

7: lockout counted failures per username only: five anonymous failures locked `admin` out for 30 minutes even
with the right password, while 32 password-spray attempts from one address were not slowed.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.http import HttpResponse
from django.test import Client, RequestFactory
from tests.conftest import PASSWORD

from dangjian.audit.models import Action, AuditEvent
from dangjian.demo.generator import DEMO_PASSWORD, build_users
from dangjian.orgs.models import AdminDuty, Duty, Organization
from dangjian.web.middleware import IssuedPasswordMiddleware
from dangjian.web.models import PasswordState

ATTACKER = "10.9.8.7"
OFFICE = "10.1.2.3"
NEW_PASSWORD = "Hongqi#2024-pw"


def attempt(client: Client, username: str, password: str, address: str) -> HttpResponse:
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


# --- finding 7: lockout by username and address, plus a per-address limit ---------------------------------


def test_failures_from_one_address_do_not_lock_the_account_out_elsewhere(world, settings):
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(attacker, "sysadmin", "guess", ATTACKER)
    locked = attempt(attacker, "sysadmin", PASSWORD, ATTACKER)
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "账号“sysadmin”在这一地址已被暂时锁定" in html and "从其他地址登录不受影响" in html
    # The administrator, at his own desk, signs in with the right password.
    office = Client()
    response = attempt(office, "sysadmin", PASSWORD, OFFICE)
    assert response.status_code == 302 and response["Location"] == "/"
    assert office.get("/").status_code == 200
    # ... and his success does not unlock the attacker's address.
    assert attempt(attacker, "sysadmin", PASSWORD, ATTACKER).status_code == 429


def test_a_password_spray_from_one_address_is_stopped(world, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 20
    client = Client()
    usernames = [f"user{i}" for i in range(32)]
    statuses = [attempt(client, name, "Password123", ATTACKER).status_code for name in usernames]
    assert statuses[:19] == [200] * 19  # each username failed once only: no per-username lockout
    assert set(statuses[19:]) == {429}  # the 20th failure from the address locks the address out
    # Even a right password is refused from that address now, with a Chinese page saying why ...
    refused = attempt(client, "clerk", PASSWORD, ATTACKER)
    assert refused.status_code == 429
    assert "从您所在的网络地址登录失败的次数过多" in refused.content.decode()
    # ... while other addresses are untouched.
    assert attempt(Client(), "clerk", PASSWORD, OFFICE).status_code == 302


def test_failures_below_both_limits_lock_nobody_out(world, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "clerk", "wrong", OFFICE).status_code == 200
    assert attempt(client, "clerk", PASSWORD, OFFICE).status_code == 302


# --- the audit log of logins -----------------------------------------------------------------------------


def test_logins_failures_and_logouts_are_audited_with_the_address(world):
    client = Client()
    attempt(client, "clerk", "wrong", OFFICE)
    attempt(client, "no-such-user", "wrong", ATTACKER)
    attempt(client, "clerk", PASSWORD, OFFICE)
    client.post("/logout/", REMOTE_ADDR=OFFICE)
    logins = AuditEvent.objects.filter(action__in=[Action.LOGIN, Action.LOGIN_FAILED, Action.LOGOUT])
    events = list(logins.order_by("pk").values_list("action", "username", "address", "target"))
    assert events == [
        (Action.LOGIN_FAILED, "clerk", OFFICE, "账号 clerk"),
        (Action.LOGIN_FAILED, "no-such-user", ATTACKER, "账号 no-such-user"),
        (Action.LOGIN, "clerk", OFFICE, ""),
        (Action.LOGOUT, "clerk", OFFICE, ""),
    ]
    assert AuditEvent.objects.get(action=Action.LOGIN).actor == world.clerk
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED, actor__isnull=False).count() == 0


def test_a_refusal_by_the_lockout_is_audited_as_a_failure(world, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "clerk", "wrong", ATTACKER)
    attempt(client, "clerk", PASSWORD, ATTACKER)
    failures = AuditEvent.objects.filter(action=Action.LOGIN_FAILED, username="clerk")
    assert failures.count() == settings.AXES_FAILURE_LIMIT + 1
    assert failures.filter(detail__locked_out=True).count() == 2  # the one that locked, the one refused
    assert not AuditEvent.objects.filter(action=Action.LOGIN).exists()


# --- changing one's own password ------------------------------------------------------------------------


def test_the_top_bar_links_to_the_password_page(world):
    html = signed_in(world.clerk).get("/").content.decode()
    assert 'href="/account/password/"' in html and "修改密码" in html


def test_a_user_changes_his_own_password_in_chinese_and_it_is_audited(world):
    client = signed_in(world.clerk)
    page = client.get("/account/password/").content.decode()
    assert "原密码" in page and "新密码" in page and "再次输入新密码" in page
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert "密码已修改" in client.get("/").content.decode()  # still signed in
    world.clerk.refresh_from_db()
    assert world.clerk.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action=Action.PASSWORD_CHANGE)
    assert event.actor == world.clerk and event.target == "账号 clerk"


@pytest.mark.parametrize(
    ("old", "new1", "new2", "message"),
    [
        ("wrong", NEW_PASSWORD, NEW_PASSWORD, "原密码不正确"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "两次输入的新密码不一致"),
        (PASSWORD, PASSWORD, PASSWORD, "新密码不能与原密码相同"),
        (PASSWORD, "12345678901", "12345678901", "密码只包含数字"),
        (PASSWORD, "short#1", "short#1", "密码太短，至少需要 10 个字符"),
    ],
)
def test_a_bad_new_password_is_refused_in_chinese_and_nothing_changes(world, old, new1, new2, message):
    client = signed_in(world.clerk)
    response = client.post(
        "/account/password/", {"old_password": old, "new_password1": new1, "new_password2": new2}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    world.clerk.refresh_from_db()
    assert world.clerk.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action=Action.PASSWORD_CHANGE).exists()


# --- a password issued by an administrator must be changed at first login ------------------------------


def set_password_as(actor, user, password: str) -> None:
    """Set `user`'s password inside a request signed in as `actor`, as any admin page would."""
    request = RequestFactory().post("/admin/")
    request.user = actor
    request.session = {}

    def view(request):
        user.set_password(password)
        user.save()
        return HttpResponse()

    IssuedPasswordMiddleware(view)(request)


def test_a_copied_hash_counts_as_issued_too(world):
    """A reset of a confidential member's password takes effect when a 安全管理员 approves: the hash is copied."""

    def approve():
        world.clerk.password = make_password("Issued#2024-x")
        world.clerk.save(update_fields=["password"])

    request = RequestFactory().post("/admin/")
    request.user, request.session = world.unit_admin, {}
    IssuedPasswordMiddleware(lambda request: (approve(), HttpResponse())[1])(request)
    assert PasswordState.objects.get(user=world.clerk).must_change


def test_a_password_set_by_someone_else_is_flagged_and_one_set_outside_a_request_is_not(world):
    get_user_model().objects.create_user("newcomer", password="Issued#2024-x")
    assert not PasswordState.objects.filter(user__username="newcomer").exists()  # command line, demo, tests
    set_password_as(world.sysadmin, world.clerk, "Issued#2024-x")
    assert PasswordState.objects.get(user=world.clerk).must_change
    set_password_as(world.clerk, world.clerk, NEW_PASSWORD)
    assert not PasswordState.objects.get(user=world.clerk).must_change


def test_first_login_with_an_issued_password_must_change_it(world):
    set_password_as(world.sysadmin, world.clerk, "Issued#2024-x")
    client = Client()
    response = attempt(client, "clerk", "Issued#2024-x", OFFICE)
    assert response.status_code == 302
    # Every page leads to the change page until the password is changed; the change page says why.
    for url in ("/", "/ledgers/", "/ledgers/study_activity.json"):
        redirected = client.get(url)
        assert redirected.status_code == 302 and redirected["Location"].startswith("/account/password/"), url
    assert client.get("/ledgers/")["Location"] == "/account/password/?next=%2Fledgers%2F"
    page = client.get("/account/password/").content.decode()
    assert "您的密码由管理员设置" in page
    response = client.post(
        "/account/password/?next=/ledgers/",
        {
            "old_password": "Issued#2024-x",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "next": "/ledgers/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/ledgers/"
    assert client.get("/ledgers/").status_code == 200
    assert not PasswordState.objects.get(user=world.clerk).must_change
    # Logging out is possible before changing, too.
    set_password_as(world.sysadmin, world.clerk, "Issued#2025-y")
    other = Client()
    attempt(other, "clerk", "Issued#2025-y", OFFICE)
    assert other.post("/logout/").status_code == 302


def test_an_account_created_in_the_admin_must_change_its_password(world):
    AdminDuty.objects.create(user=world.sysadmin, duty=Duty.SYSTEM)
    admin = signed_in(world.sysadmin)
    response = admin.post(
        "/admin/auth/user/add/",
        {
            "username": "newclerk",
            "password1": "Issued#2024-x",
            "password2": "Issued#2024-x",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    client = Client()
    assert attempt(client, "newclerk", "Issued#2024-x", OFFICE).status_code == 302
    assert client.get("/")["Location"] == "/account/password/"


def test_an_administrator_resetting_a_password_in_the_admin_flags_it(world):
    AdminDuty.objects.create(user=world.sysadmin, duty=Duty.SYSTEM)  # accounts are the system administrator's
    admin = signed_in(world.sysadmin)
    response = admin.post(
        f"/admin/auth/user/{world.clerk.pk}/password/",
        {"password1": "Issued#2024-x", "password2": "Issued#2024-x", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert PasswordState.objects.get(user=world.clerk).must_change
    client = Client()
    attempt(client, "clerk", "Issued#2024-x", OFFICE)
    assert client.get("/")["Location"].startswith("/account/password/")


def test_the_demo_accounts_are_exempt(world):
    """`dangjian init --demo` publishes its accounts' password: they must stay usable without a change."""
    Organization.objects.add_root(dict(code="demo", name="示范区"))
    for code in ("demo-jd01", "demo-jd01-sq01", "demo-jd01-sq02", "demo-jw"):
        parent = Organization.objects.get(code=code.rsplit("-", 1)[0])
        Organization.objects.add_child(parent, dict(code=code, name=code))
    build_users()
    client = Client()
    assert attempt(client, "tianbao", DEMO_PASSWORD, OFFICE).status_code == 302
    assert client.get("/").status_code == 200
    assert not PasswordState.objects.filter(must_change=True).exists()
