"""Evidence links that still work away from the page (issue 13): the saved HTML report links to the server by
absolute http(s) URLs (DANGJIAN_SITE_URL, else the address the download came to), the comparison with a finalised
run leads to the evidence and back again, and the report's JSON sits in the 数据接口 corner, not among 下载."""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from dangjian.reports.models import ReportRun

from .conftest import study

pytestmark = pytest.mark.usefixtures("report_pack", "report_records")

ARGS = {"key": "testreport", "org": "root", "period": "2019"}
EVIDENCE = reverse("indicators:evidence")


def slot_links(page: str) -> list[str]:
    return [html_lib.unescape(h) for h in re.findall(r'<a class="slot"[^>]*href="([^"]+)"', page)]


def download_html(client) -> str:
    response = client.get(reverse("reports:download", kwargs={**ARGS, "fmt": "html"}))
    assert response.status_code == 200
    return response.content.decode()


def test_the_saved_html_links_to_the_servers_evidence_pages(client, world):
    client.force_login(world.viewer)
    links = slot_links(download_html(client))
    assert len(links) >= 4
    for link in links:
        parts = urlsplit(link)
        assert (parts.scheme, parts.netloc, parts.path) == ("http", "testserver", EVIDENCE), link
    # each absolute link opens the same page as the preview's relative one
    preview = [
        link.split("&from=")[0]
        for link in slot_links(client.get(reverse("reports:preview", kwargs=ARGS)).content.decode())
    ]
    assert [link.removeprefix("http://testserver") for link in links] == preview
    assert client.get(links[1].removeprefix("http://testserver")).status_code == 200


def test_the_configured_site_url_wins_over_the_request(client, world, settings):
    settings.SITE_URL = "https://dj.example.gov.cn"
    client.force_login(world.viewer)
    page = download_html(client)
    links = slot_links(page)
    assert links and all(link.startswith(f"https://dj.example.gov.cn{EVIDENCE}?") for link in links)
    assert "链接到 https://dj.example.gov.cn 上的佐证记录" in page


def test_the_comparison_leads_to_the_evidence_and_back(client, world, make_record):
    client.force_login(world.unit_admin)
    client.post(reverse("reports:finalise", kwargs=ARGS), {"confirm": "1"})
    run = ReportRun.objects.get()
    study(make_record, world.c1, "中心组集体学习", "定稿后补录的集体学习", "2019-09-10")
    compare_url = reverse("reports:compare", kwargs={"pk": run.pk})
    page = client.get(compare_url).content.decode()
    links = [html_lib.unescape(h) for h in re.findall(r'<a href="([^"]+)">当前佐证</a>', page)]
    assert links, "a changed figure links to its evidence"
    for link in links:
        assert parse_qs(urlsplit(link).query)["from"] == [compare_url]
    evidence = client.get(links[0]).content.decode()
    assert f'<a class="btn" href="{compare_url}">← 返回报告</a>' in evidence


def test_the_reports_json_is_in_the_api_corner_not_among_the_downloads(client, world):
    client.force_login(world.viewer)
    page = client.get(reverse("reports:preview", kwargs=ARGS)).content.decode()
    downloads = re.search(r"<h2>下载</h2>(.*?)</section>", page, re.S).group(1)
    assert "Word" in downloads and "HTML" in downloads and "JSON" not in downloads
    corner = re.search(r'<details class="api-corner">(.*?)</details>', page, re.S).group(1)
    json_url = reverse("reports:download", kwargs={**ARGS, "fmt": "json"})
    assert f'href="{json_url}">JSON</a>' in corner
    assert client.get(json_url).json()


def test_the_command_lines_html_links_to_the_configured_site(report_pack, tmp_path, settings):
    from dangjian.cli import build_parser
    from dangjian.reports.cli import report

    def html(name: str) -> str:
        out = tmp_path / name
        argv = ["report", "--template", "testreport", "--org", "root", "--year", "2019", "--format", "html"]
        assert report(build_parser().parse_args([*argv, "-o", str(out)])) == 0
        return out.read_text(encoding="utf-8")

    relative = slot_links(html("relative.html"))  # no address configured: links relative to the server
    assert relative and all(link.startswith(f"{EVIDENCE}?") for link in relative)
    settings.SITE_URL = "http://10.0.0.8:8000"
    absolute = slot_links(html("absolute.html"))
    assert absolute == [f"http://10.0.0.8:8000{link}" for link in relative]


@pytest.mark.parametrize("bad", ["dj.example.gov.cn", "https://dj.example.gov.cn/dangjian", "ftp://x"])
def test_a_site_url_that_is_not_an_address_stops_the_start_with_a_chinese_message(tmp_path, bad):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
    env.update({"DANGJIAN_DATA_DIR": str(tmp_path), "DANGJIAN_SITE_URL": bad})
    done = subprocess.run(
        [sys.executable, "-c", "import dangjian.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "DANGJIAN_SITE_URL 应为系统的访问地址" in done.stderr and bad in done.stderr
