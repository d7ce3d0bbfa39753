"""Login, logout, lockout and the home page, through the HTTP client."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from tests.conftest import PASSWORD

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def test_login_page_is_in_chinese(db):
    response = Client().get("/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'lang="zh-CN"' in html
    for word in ("登录", "用户名", "密码"):
        assert word in html


def test_anonymous_user_is_sent_to_login(db):
    for url in ("/", "/ledgers/", "/ledgers/study_activity/", "/ledgers/study_activity.json"):
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/"), url


def test_clerk_logs_in_and_reaches_home(world):
    client = Client()
    response = client.post("/login/", {"username": "clerk", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    html = client.get("/").content.decode()
    assert "幸福社区" in html and "填报员" in html
    assert "学习教育活动台账" in html


def test_wrong_password_shows_a_chinese_message(world):
    response = Client().post("/login/", {"username": "clerk", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_lockout_after_five_bad_passwords(world):
    client = Client()
    for _ in range(4):
        assert client.post("/login/", {"username": "clerk", "password": "wrong"}).status_code == 200
    locked = client.post("/login/", {"username": "clerk", "password": "wrong"})
    assert locked.status_code == 429
    assert "锁定" in locked.content.decode()
    # Even the right password is refused while locked, and no session is opened.
    again = client.post("/login/", {"username": "clerk", "password": PASSWORD})
    assert again.status_code == 429
    assert "已暂时锁定" in again.content.decode()
    assert client.get("/").status_code == 302


def test_lockout_is_per_username(world):
    client = Client()
    for _ in range(5):
        client.post("/login/", {"username": "clerk", "password": "wrong"})
    response = client.post("/login/", {"username": "sibling", "password": PASSWORD})
    assert response.status_code == 302


def test_logout_needs_post_and_ends_the_session(world):
    client = client_for(world.clerk)
    assert client.get("/").status_code == 200
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_base_navigation_has_logout_form_and_no_admin_link_for_clerk(world):
    html = client_for(world.clerk).get("/").content.decode()
    assert 'action="/logout/"' in html and "退出" in html
    assert "首页" in html and "台账" in html and "报告" in html
    assert "系统管理" not in html


def test_system_administrator_home_links_to_admin_and_says_no_ledger_access(world):
    html = client_for(world.sysadmin).get("/").content.decode()
    assert "/admin/" in html and "系统管理" in html
    assert "不能查看任何台账记录" in html
    assert "学习教育活动台账" not in html


def test_the_admin_speaks_chinese_for_the_login_protection_too(world):
    """django-axes ships no zh_Hans: its names come from the project's own locale and app config."""
    client = client_for(world.sysadmin)
    index = client.get("/admin/").content.decode()
    assert "登录保护" in index and "登录尝试记录" in index and "登录失败记录" in index and "登录日志" in index
    assert "Access attempts" not in index and re.search(r">\s*axes\s*<", index, re.IGNORECASE) is None
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(
        username="tianbao", ip_address="10.0.0.8", user_agent="WPS", failures_since_start=3,
        get_data="", post_data="", http_accept="*/*", path_info="/login/",
    )  # fmt: skip
    page = client.get("/admin/axes/accessattempt/").content.decode()
    assert "用户名" in page and "IP 地址" in page and "失败次数" in page


def test_user_without_role_is_told_to_ask_for_one(world):
    html = client_for(world.outsider).get("/").content.decode()
    assert "尚未被分配" in html
    assert "学习教育活动台账" not in html


def test_confidential_ledger_is_listed_only_for_its_org_members(world):
    assert "纪律审查案件台账" in client_for(world.jiwei).get("/").content.decode()
    assert "纪律审查案件台账" not in client_for(world.viewer).get("/").content.decode()


@pytest.mark.parametrize("url", ["/no-such-page/", "/ledgers/no_such_ledger/"])
def test_not_found_page_is_in_chinese(world, url):
    response = client_for(world.clerk).get(url)
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
