from __future__ import annotations

import json

import pytest
from django.urls import reverse

from dangjian.reports.models import ReportRun
from dangjian.web.templatetags.dangjian import cn_datetime

from .conftest import study

pytestmark = pytest.mark.usefixtures("report_pack", "report_records")


def preview_url(org="root", year=2019):
    return reverse("reports:preview", kwargs={"key": "testreport", "org": org, "year": year})


def test_index_lists_templates_and_the_users_orgs(client, world):
    client.force_login(world.reviewer)
    response = client.get(reverse("reports:index"))
    assert response.status_code == 200
    assert "测试年度党建工作报告" in response.content.decode()
    assert 'value="s1"' in response.content.decode() and 'value="root"' not in response.content.decode()
    response = client.get(reverse("reports:index"), {"template": "testreport", "org": "s1", "year": "2019"})
    assert response.status_code == 302 and response.url == preview_url("s1")


def test_preview_links_numbers_and_shows_checks(client, world):
    client.force_login(world.viewer)
    response = client.get(preview_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="slot"' in html and "中心组集体学习次数" in html
    assert "核对规则" in html and "全部通过" in html


def test_downloads(client, world):
    client.force_login(world.viewer)
    for fmt, kind in [
        ("docx", "wordprocessingml"),
        ("json", "json"),
        ("txt", "text/plain"),
        ("html", "text/html"),
    ]:
        response = client.get(
            reverse("reports:download", kwargs={"key": "testreport", "org": "root", "year": 2019, "fmt": fmt})
        )
        assert response.status_code == 200 and kind in response["Content-Type"]
    data = json.loads(
        client.get(
            reverse(
                "reports:download", kwargs={"key": "testreport", "org": "root", "year": 2019, "fmt": "json"}
            )
        ).content
    )
    assert data["template"] == "testreport"


def test_a_user_of_another_subtree_gets_404(client, world):
    client.force_login(world.sibling)  # 填报员 at c2
    assert client.get(preview_url("c1")).status_code == 404
    assert client.get(preview_url("root")).status_code == 404
    assert client.get(preview_url("c2")).status_code == 200
    client.force_login(world.outsider)
    assert client.get(preview_url("c2")).status_code == 404
    assert (
        client.post(
            reverse("reports:finalise", kwargs={"key": "testreport", "org": "c2", "year": 2019})
        ).status_code
        == 404
    )


def test_anonymous_is_sent_to_login(client):
    response = client.get(preview_url())
    assert response.status_code == 302 and "login" in response.url


def test_finalise_then_view_download_and_compare(client, world, make_record):
    client.force_login(world.unit_admin)
    response = client.post(
        reverse("reports:finalise", kwargs={"key": "testreport", "org": "root", "year": 2019}),
        {"confirm": "1"},
    )
    run = ReportRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("reports:run", kwargs={"pk": run.pk})
    client.force_login(world.viewer)  # a finalised report is read by anyone who may see the org's reports
    assert client.get(response.url).status_code == 200
    listed = client.get(reverse("reports:index")).content.decode()
    assert reverse("reports:run", kwargs={"pk": run.pk}) in listed
    assert cn_datetime(run.created_at) in listed and "年" in cn_datetime(run.created_at)
    docx = client.get(reverse("reports:run_download", kwargs={"pk": run.pk, "fmt": "docx"}))
    assert docx.status_code == 200 and bytes(docx.content) == bytes(run.docx)
    stored = json.loads(
        client.get(reverse("reports:run_download", kwargs={"pk": run.pk, "fmt": "json"})).content
    )
    assert set(stored) == {"template", "org", "period", "text", "slots", "checks"}
    study(make_record, world.c1, "中心组集体学习", "补录一次", "2019-11-11")
    html = client.get(reverse("reports:compare", kwargs={"pk": run.pk})).content.decode()
    assert "中心组集体学习次数" in html and "<td>4</td><td>5</td>" in html
    assert "当前佐证" in html and "/indicators/evidence/?key=" in html
    client.force_login(world.sibling)
    assert client.get(reverse("reports:run", kwargs={"pk": run.pk})).status_code == 404
    assert client.get(reverse("reports:compare", kwargs={"pk": run.pk})).status_code == 404


def test_finalise_with_failing_error_check_needs_a_reason(client, world, make_record):
    client.force_login(world.reviewer)  # 审核员 at 城关街道, above 和平社区
    url = reverse(
        "reports:finalise", kwargs={"key": "testreport", "org": "c2", "year": 2019}
    )  # c2: 1 session
    response = client.post(url, {"confirm": "1"})
    assert response.status_code == 302 and response.url == preview_url("c2")
    assert not ReportRun.objects.exists()
    page = client.get(response.url).content.decode()
    assert "须填写仍要定稿的理由" in page and "override_reason" in page
    client.post(url, {"override_reason": "社区只开展了一次，已向区委说明", "confirm": "1"})
    assert ReportRun.objects.get().override_reason == "社区只开展了一次，已向区委说明"


def test_broken_template_page_names_the_line(client, world, report_pack):
    report_pack.source = "一\n二{{ 学习.没有 }}\n"
    report_pack.save()
    client.force_login(world.viewer)
    response = client.get(preview_url())
    assert response.status_code == 422
    assert "第 2 行" in response.content.decode() and "学习.没有" in response.content.decode()


def test_a_run_finalised_with_the_old_link_form_still_opens_its_evidence(client, world, report_pack):
    """Runs finalised before the one link form keep their links as stored; each opens, through a permanent
    redirect, the same page a link made today opens."""
    from dangjian.indicators.engine import Period
    from dangjian.reports.runs import finalise

    today = finalise(report_pack, world.root, Period.year(2019), world.unit_admin)

    def old_form(
        row,
    ):  # what the reports stage wrote before: the year, and for 上年 the bare key and year before
        previous = row["indicator"].startswith("上年.")
        key, year = row["indicator"].removeprefix("上年."), 2018 if previous else 2019
        return f"/indicators/evidence/?key={key}&org=root&year={year}"

    rows = [
        {**row, "evidence": {**row["evidence"], "url": old_form(row) if row["evidence"]["url"] else None}}
        for row in today.slots
    ]
    fields = (
        "template",
        "template_label",
        "org",
        "period_start",
        "period_end",
        "period_label",
        "text",
        "marked",
    )
    old = ReportRun.objects.create(
        **{f: getattr(today, f) for f in fields},
        slots=rows,
        values=today.values,
        checks=today.checks,
        docx=b"",
    )
    client.force_login(world.viewer)
    html = client.get(reverse("reports:run", kwargs={"pk": old.pk})).content.decode()
    assert html.count('href="/indicators/evidence/?key=') == 7 and "&amp;year=2018" in html
    for stored, fresh in zip(rows, today.slots, strict=True):
        if stored["evidence"]["url"] is None:
            continue
        moved = client.get(stored["evidence"]["url"])
        assert moved.status_code == 301 and moved["Location"] == fresh["evidence"]["url"], stored["indicator"]
        assert client.get(moved["Location"]).status_code == 200
