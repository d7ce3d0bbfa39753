"""A record is titled by its key fields (查重关键字段) on its page, its form, its history and the crumbs — not
"第 16910 号记录" — and a sensitive key field stays masked in the title for those who may not see it."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from dangjian.orgs import access
from dangjian.records.models import LedgerField

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
TITLE = "观看舞台剧 · 焦裕禄（2019年4月1日）"  # study_activity's key fields: kind, title; the date last


def page(user, url: str) -> str:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def play(world, make_record):
    return make_record(
        "study_activity",
        world.c1,
        {"date": "2019-04-01", "kind": "观看舞台剧", "title": "焦裕禄", "participants": 6},
    )


def test_the_record_page_form_and_history_are_titled_by_key_fields(world, make_record):
    record = play(world, make_record)
    html = page(world.clerk, reverse("ledgers:record", args=["study_activity", record.pk]))
    assert re.search(rf'<h1 class="page-title">{re.escape(TITLE)}<span class="sub">', html)
    assert f"<title>{TITLE} · 学习教育活动台账" in html
    assert "号记录" not in html
    form = page(world.clerk, reverse("ledgers:edit", args=["study_activity", record.pk]))
    assert f"修改“{TITLE}”" in form and f">{TITLE}</a>" in form  # heading and crumb
    history = page(world.clerk, reverse("ledgers:history", args=["study_activity", record.pk]))
    assert TITLE in history and "号记录" not in history


def test_a_sensitive_key_field_is_masked_in_the_title(world, make_record):
    record = play(world, make_record)
    LedgerField.objects.filter(ledger_type__code="study_activity", code="title").update(sensitive=True)
    for user in (world.clerk, world.viewer):
        access.forget(user)
    assert TITLE in page(world.clerk, reverse("ledgers:record", args=["study_activity", record.pk]))
    shown = page(
        world.viewer, reverse("ledgers:record", args=["study_activity", record.pk])
    )  # 查看者: masked
    assert "焦裕禄" not in shown and "观看舞台剧 · " in shown


def test_a_record_without_key_values_keeps_its_number(world, make_record):
    record = play(world, make_record)
    LedgerField.objects.filter(ledger_type__code="study_activity").update(is_key=False)
    html = page(world.clerk, reverse("ledgers:record", args=["study_activity", record.pk]))
    assert f"第 {record.pk} 号记录" in html
