"""定稿 cannot be undone: the preview names what becomes permanent and the post needs the confirming tick."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dangjian.reports.models import ReportRun

pytestmark = pytest.mark.usefixtures("report_pack", "report_records")

PREVIEW = reverse("reports:preview", kwargs={"key": "testreport", "org": "root", "period": "2019"})
FINALISE = reverse("reports:finalise", kwargs={"key": "testreport", "org": "root", "period": "2019"})


def test_the_preview_names_what_becomes_permanent_and_asks_for_a_tick(client, world):
    client.force_login(world.unit_admin)
    html = client.get(PREVIEW).content.decode()
    assert "定稿后，“中共测试区委员会2019年度测试年度党建工作报告”的正文" in html
    assert "不能修改、撤销或删除" in html
    assert '<input type="checkbox" name="confirm" value="1" required> 我已核对，确认定稿' in html


def test_finalise_without_the_tick_changes_nothing_and_says_why(client, world):
    client.force_login(world.unit_admin)
    response = client.post(FINALISE)
    assert response.status_code == 302 and response.url == PREVIEW
    assert not ReportRun.objects.exists()
    assert "请先勾选“我已核对，确认定稿”" in client.get(response.url).content.decode()
    assert client.post(FINALISE, {"confirm": "yes"}).status_code == 302 and not ReportRun.objects.exists()
    response = client.post(FINALISE, {"confirm": "1"})
    assert response.url == reverse("reports:run", kwargs={"pk": ReportRun.objects.get().pk})
