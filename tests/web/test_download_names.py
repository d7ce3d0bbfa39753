"""Downloads are named in Chinese, each thing said once: 填报任务“…”进度.xlsx, 逾期事项（…）.xlsx,
示范区2019年度…报告.docx — not task-1.xlsx, overdue.xlsx or 示范区2019年2019年度…."""

from __future__ import annotations

from urllib.parse import quote, unquote

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.reports.conftest import report_pack, report_records  # noqa: F401  (fixtures, used by name)
from tests.tasks.conftest import make_task

from dangjian.reports.models import ReportRun, ReportTemplate, report_file_stem
from dangjian.text import cn_date
from dangjian.web.responses import download_name


def name_of(response) -> str:
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=UTF-8''"), disposition
    return unquote(disposition.split("''", 1)[1])


def test_the_task_progress_is_named_after_the_task(client, world):
    task = make_task(world, title="2019年度党建工作数据")
    client.force_login(world.reviewer)
    response = client.get(reverse("ledgers:task_xlsx", kwargs={"pk": task.pk}))
    assert response.status_code == 200
    assert name_of(response) == "填报任务“2019年度党建工作数据”进度.xlsx"


def test_the_overdue_list_names_its_unit_and_day(client, world):
    client.force_login(world.unit_admin)
    today = cn_date(timezone.localdate())
    assert name_of(client.get("/ledgers/overdue.xlsx")) == f"逾期事项（全部，截至{today}）.xlsx"
    assert (
        name_of(client.get("/ledgers/overdue.xlsx", {"org": "s1"}))
        == f"逾期事项（城关街道，截至{today}）.xlsx"
    )


def test_a_name_keeps_what_windows_accepts():
    assert download_name('填报任务“a/b:c*?"<>|”进度', "xlsx") == "填报任务“a_b_c______”进度.xlsx"
    assert download_name("\x00\x1f", "xlsx") == "下载.xlsx"
    assert len(download_name("长" * 500, "xlsx")) == 120 + len(".xlsx")


def test_a_template_label_that_names_a_year_is_not_repeated():
    assert (
        report_file_stem("示范区", "2019年度", "2019年度区委常委会党建工作报告")
        == "示范区2019年度区委常委会党建工作报告"
    )
    assert (
        report_file_stem("示范区", "2020年度", "2019年度区委常委会党建工作报告")
        == "示范区2020年度区委常委会党建工作报告"
    )
    assert report_file_stem("幸福社区", "2019年上半年", "基层党建工作情况报告（半年）") == (
        "幸福社区2019年上半年基层党建工作情况报告（半年）"
    )


@pytest.mark.usefixtures("report_records")
def test_report_downloads_and_finalised_runs_say_the_year_once(client, world, report_pack):  # noqa: F811
    report_pack.label = "2019年度测试党建工作报告"
    report_pack.save()
    client.force_login(world.unit_admin)
    url = reverse(
        "reports:download", kwargs={"key": "testreport", "org": "root", "period": "2019", "fmt": "docx"}
    )
    assert name_of(client.get(url)) == "测试区2019年度测试党建工作报告.docx"
    client.post(
        reverse("reports:finalise", kwargs={"key": "testreport", "org": "root", "period": "2019"}),
        {"confirm": "1"},
    )
    run = ReportRun.objects.get()
    response = client.get(reverse("reports:run_download", kwargs={"pk": run.pk, "fmt": "docx"}))
    assert name_of(response) == f"测试区2019年度测试党建工作报告（定稿{run.pk}）.docx"
    assert quote("2019年2019") not in response["Content-Disposition"]
    assert ReportTemplate.objects.filter(label="2019年度测试党建工作报告").exists()
