"""Closing a 问题清单 item in the web UI moves the seed report's rectification figures (已整改完成X项 etc.)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dangjian.indicators.engine import Period, evaluate
from dangjian.records import services
from dangjian.records.models import Record

FOUR_PLUS_TWO = ["主题教育.四加二事项合计", "主题教育.四加二已整改数"]
MASS = ["主题教育.收集群众问题建议数", "主题教育.已协调解决数"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seed(world):
    from dangjian.packs.loader import discover, load_pack

    for pack in discover():
        if pack.name == "seed2019":
            load_pack(pack)
    return world


def problem(world, kind: str, status: str, source: str = "主题教育") -> Record:
    values = {
        "found_on": "2019-05-10",
        "source": source,
        "title": f"{kind}：{status}",
        "kind": kind,
        "deadline": "2019-10-31",
        "measures": "制定整改方案",
    }
    record = services.save_record(None, seed_lt(world), values, org=world.c1, check_access=False)
    Record.objects.filter(pk=record.pk).update(status=status)  # as the demo data does
    record.refresh_from_db()
    return record


def seed_lt(world):
    return world.ledger("problem_list")


def figures(world, keys: list[str]) -> list[int]:
    values = evaluate(world.root, Period.year(2019), keys)
    return [values[k].value for k in keys]


def test_closing_an_item_in_the_ui_counts_it_as_rectified(seed):
    world = seed
    problem(world, "遗留历史问题", "已整改")
    problem(world, "民生问题工作事项", "待整改")
    item = problem(world, "限期提升工作事项", "整改中")
    assert figures(world, FOUR_PLUS_TWO) == [3, 1]

    client = Client()
    client.force_login(world.reviewer, backend="django.contrib.auth.backends.ModelBackend")
    form = {
        "measures": "制定整改方案并逐项落实",
        "rectified_on": "2019-09-30",
        "evidence": SimpleUploadedFile("验收报告.pdf", b"%PDF-1.4", content_type="application/pdf"),
        "comment": "现场核查，整改到位",
    }
    response = client.post(f"/ledgers/problem_list/{item.pk}/step/close", form)
    assert response.status_code == 302
    assert figures(world, FOUR_PLUS_TWO) == [3, 2]  # 已整改完成 +1, 查摆 unchanged
    item.refresh_from_db()
    assert item.status == "已销号" and item.values["on_time"] is False  # closed today, long after 2019


def test_mass_suggestions_resolved_through_the_workflow(seed):
    world = seed
    item = problem(world, "联系群众问题建议", "待整改", source="群众意见")
    assert figures(world, MASS) == [1, 0]
    from dangjian.lists import workflow

    workflow.take(world.clerk, item, "start")
    workflow.take(world.clerk, item, "finish", {"rectified_on": "2019-08-01"})
    assert figures(world, MASS) == [1, 1]  # 已协调解决 counts rectified items
    workflow.take(world.reviewer, item, "return", comment="群众不满意")
    assert figures(world, MASS) == [1, 0]
