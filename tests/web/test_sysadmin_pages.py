"""The system administrator's pages lead nowhere missing: every link in his top bar and on his home page opens
(he holds no unit role, so the ledger, task, list and report sections are not offered to him), and the org form in
the admin speaks Chinese (django-treebeard's "Position", "Child of", "-- root --" are translated)."""

from __future__ import annotations

import json
import re

from django.test import Client
from django.urls import reverse

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def links(html: str, part: str) -> list[tuple[str, str]]:
    """(href, label) of the links inside the first element matching the regex `part`."""
    found = re.search(part, html, re.S)
    assert found, part
    return [
        (href, re.sub(r"<[^>]+>", "", label).strip())
        for href, label in re.findall(r'<a [^>]*href="([^"#]+)"[^>]*>(.*?)</a>', found.group(1), re.S)
    ]


def opens(client: Client, pairs: list[tuple[str, str]]) -> None:
    for href, label in pairs:
        if href.startswith("/"):
            status = client.get(href).status_code
            assert status == 200, f"“{label}” {href} → {status}"


def test_every_link_in_the_sysadmins_top_bar_and_home_opens(world, duties):
    client = client_for(duties.system)
    home = client.get("/")
    assert home.status_code == 200
    html = home.content.decode()
    bar = links(html, r'<header class="topbar">(.*?)</header>')
    body = links(html, r'<main class="page">(.*?)</main>')
    labels = [label for _, label in bar]
    assert "系统管理" in labels and "首页" in labels and "备份" in labels  # i13d: his backups page
    for hidden in ("台账", "填报任务", "清单", "报告"):
        assert hidden not in labels, f"系统管理员没有单位角色，不应看到“{hidden}”"
    opens(client, [*bar, *body])


def test_the_other_administrators_links_open_too(world, duties):
    for user in (duties.security, duties.auditor):
        client = client_for(user)
        html = client.get("/").content.decode()
        bar = links(html, r'<header class="topbar">(.*?)</header>')
        assert "台账" not in [label for _, label in bar], user
        assert "备份" not in [label for _, label in bar], user  # i13d: the 系统管理员's alone
        opens(client, [*bar, *links(html, r'<main class="page">(.*?)</main>')])


def test_a_clerk_keeps_the_five_sections(world):
    html = client_for(world.clerk).get("/").content.decode()
    labels = [label for _, label in links(html, r'<nav class="mainnav"[^>]*>(.*?)</nav>')]
    assert labels[:5] == ["首页", "台账", "填报任务", "清单", "报告"]


ENGLISH = ("Position", "Child of", "-- root --", "Relative to", "First child of", "Sibling of")


def test_the_org_form_in_the_admin_is_chinese(world, duties):
    client = client_for(duties.security)  # the 安全管理员 keeps the org tree
    for url in (
        reverse("admin:orgs_organization_add"),
        reverse("admin:orgs_organization_change", args=[world.c1.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for word in ENGLISH:
            assert word not in html, f"{url} 仍有英文“{word}”"
        assert "位置" in html and "（最上级）" in html and "作为其下级" in html


def test_every_link_on_the_admin_index_opens_for_each_administrator(world, duties):
    for user in (duties.system, duties.security):
        client = client_for(user)
        html = client.get(reverse("admin:index")).content.decode()
        found = links(html, r'<div id="content-main">(.*?)</div>\s*</div>')
        assert found, user
        opens(client, found)


def test_dragging_in_the_org_tree_speaks_chinese_too(world, duties):
    """treebeard-admin.js asks the admin's JavaScript catalogue for its words while a unit is dragged."""
    client = client_for(duties.security)
    tree = client.get(reverse("admin:orgs_organization_changelist")).content.decode()
    assert "treebeard-admin.js" in tree and reverse("admin:jsi18n") in tree
    catalogue = client.get(reverse("admin:jsi18n")).content.decode()
    for english, chinese in (("Abort", "取消"), ("As Sibling", "作为同级"), ("As child", "作为下级")):
        assert f"{json.dumps(english)}: {json.dumps(chinese)}" in catalogue


# i13d: words of Django 5.2's admin that its zh_Hans catalogue leaves in English (src/dangjian/locale has them).
ADMIN_ENGLISH = ("Model name", "Add link", "Change or view list link", "After you")


def test_every_admin_list_and_add_page_is_chinese(world, duties):
    from django.contrib import admin

    opened = 0
    for user in (duties.system, duties.security):
        client = client_for(user)
        for model in admin.site._registry:
            for suffix in ("", "add/"):
                response = client.get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}")
                if response.status_code != 200:
                    continue  # not his to open (三员分立)
                opened += 1
                html = response.content.decode()
                for word in ADMIN_ENGLISH + ENGLISH:
                    assert word not in html, f"{user} {response.request['PATH_INFO']} 仍有英文“{word}”"
    assert opened > 15
