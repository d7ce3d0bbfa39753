"""The top bar: 首页 · 台账 · 填报任务 · 清单 · 报告 for everyone with a role (+ 概览 for a role at the district, + 数据包
for pack managers), the current section marked."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
MAIN = ["首页", "台账", "填报任务", "清单", "报告"]


def nav(user, url: str = "/") -> list[tuple[str, str, bool]]:
    """(label, href, active) of each top-bar link on the page at `url`."""
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    response = client.get(url)
    assert response.status_code == 200, url
    bar = re.search(r'<nav class="mainnav"[^>]*>(.*?)</nav>', response.content.decode(), re.S)
    assert bar
    return [
        (label, href, "active" in attrs)
        for href, attrs, label in re.findall(r'<a href="([^"]+)"([^>]*)>([^<]+)</a>', bar.group(1))
    ]


def test_a_clerk_has_the_five_sections_in_order(world):
    links = nav(world.clerk)
    assert [label for label, _, _ in links] == MAIN
    hrefs = dict((label, href) for label, href, _ in links)
    assert hrefs["填报任务"] == reverse("ledgers:tasks") and hrefs["清单"] == reverse("ledgers:overdue")
    assert hrefs["报告"] == reverse("reports:index")


def test_each_section_is_marked_on_its_own_pages(world):
    for url, label in (
        (reverse("ledgers:tasks"), "填报任务"),
        (reverse("ledgers:overdue"), "清单"),
        (reverse("ledgers:index"), "台账"),
        (reverse("reports:index"), "报告"),
        ("/", "首页"),
    ):
        active = [name for name, _, on in nav(world.clerk, url) if on]
        assert active == [label], url


def test_every_section_opens_for_a_clerk(world):
    client = Client()
    client.force_login(world.clerk, backend=MODEL_BACKEND)
    for _, href, _ in nav(world.clerk):
        assert client.get(href).status_code == 200, href


def test_the_pack_manager_also_has_packs(world):
    assert [label for label, _, _ in nav(world.unit_admin)] == [*MAIN, "概览", "数据包"]


def test_accounts_at_the_district_also_have_the_overview_marked_on_its_pages(world):
    """概览 for a role at the district (here a 查看者, whose home it is), on the overview's own pages marked."""
    assert [label for label, _, _ in nav(world.viewer)] == [*MAIN, "概览"]
    active = [name for name, _, on in nav(world.viewer, reverse("overview:index")) if on]
    assert active == ["概览"]
    assert "概览" not in [label for label, _, _ in nav(world.reviewer)]  # a street's reviewer: its own pages
