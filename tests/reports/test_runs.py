from __future__ import annotations

import io

import pytest
from docx import Document

from dangjian.indicators.engine import Period
from dangjian.reports.models import ReportRun, RunImmutable
from dangjian.reports.runs import FinaliseBlocked, compare, finalise

from .conftest import study


@pytest.fixture
def run(report_pack, report_records):
    return finalise(report_pack, report_records.root, Period.year(2019), report_records.unit_admin)


def test_finalise_stores_text_slots_checks_and_docx(run):
    run.refresh_from_db()
    assert run.text.startswith("测试区年度党建工作")
    assert run.slots[1]["indicator"] == "学习.中心组次数"
    assert run.slots[1]["value"] == 4 and run.slots[1]["evidence"]["records"] == 4
    assert run.values["学习.中心组次数"]["value"] == 4
    assert all(c["ok"] for c in run.checks)
    assert run.created_by.username == "unit_admin"
    doc = Document(io.BytesIO(bytes(run.docx)))
    assert doc.paragraphs[0].text == "测试区年度党建工作"


def test_a_finalised_run_cannot_be_changed_or_deleted(run):
    run.text = "改过的"
    with pytest.raises(RunImmutable):
        run.save()
    with pytest.raises(RunImmutable):
        run.delete()
    with pytest.raises(RunImmutable):
        ReportRun.objects.filter(pk=run.pk).update(text="改过的")
    with pytest.raises(RunImmutable):
        ReportRun.objects.filter(pk=run.pk).delete()
    assert ReportRun.objects.get(pk=run.pk).text.startswith("测试区")


def test_failed_error_check_blocks_finalise_without_a_reason(report_pack, world, make_record):
    study(make_record, world.c1, "中心组集体学习", "唯一一次", "2019-03-01")  # 1 < 3: the error rule fails
    with pytest.raises(FinaliseBlocked, match="须填写仍要定稿的理由"):
        finalise(report_pack, world.root, Period.year(2019), world.unit_admin, override_reason="  ")
    assert not ReportRun.objects.exists()
    run = finalise(
        report_pack, world.root, Period.year(2019), world.unit_admin, override_reason="全年仅召开一次，已说明"
    )
    assert run.override_reason == "全年仅召开一次，已说明"
    assert [c["ok"] for c in run.checks if c["level"] == "error"] == [False]


def test_compare_lists_changed_values(run, report_records, make_record):
    changes, _ = compare(run)
    assert changes == []
    study(make_record, report_records.c1, "中心组集体学习", "补录一次", "2019-11-11")
    changes, fresh = compare(run)
    assert [(c.indicator, c.label, c.then, c.now) for c in changes] == [
        ("学习.中心组次数", "中心组集体学习次数", "4", "5"),
        ("学习.参加人数", "参加学习人次", "52", "62"),
    ]
    assert "学习5次" in fresh.text
