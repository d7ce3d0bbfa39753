"""A figure opened from a report leads back to it: the preview's (and a finalised run's) evidence links carry
`from=` the report page, and the evidence page shows 返回报告 for a path on this site only."""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from dangjian.reports.models import ReportRun

pytestmark = pytest.mark.usefixtures("report_pack", "report_records")

PREVIEW = reverse("reports:preview", kwargs={"key": "testreport", "org": "root", "period": "2019"})


def slot_links(page: str) -> list[str]:
    return [html_lib.unescape(h) for h in re.findall(r'<a class="slot"[^>]*href="([^"]+)"', page)]


def back_links(page: str) -> list[str]:
    return [html_lib.unescape(h) for h in re.findall(r'<a class="btn" href="([^"]+)">← 返回报告</a>', page)]


def test_a_figure_opened_from_the_preview_leads_back_to_it(client, world):
    client.force_login(world.viewer)
    links = slot_links(client.get(PREVIEW).content.decode())
    assert links and all(link.endswith("&from=%2Freports%2Ftestreport%2Froot%2F2019%2F") for link in links)
    page = client.get(links[1])
    assert page.status_code == 200
    assert back_links(page.content.decode()) == [PREVIEW]


def test_a_figure_opened_from_a_finalised_run_leads_back_to_the_run(client, world):
    client.force_login(world.unit_admin)
    client.post(
        reverse("reports:finalise", kwargs={"key": "testreport", "org": "root", "period": "2019"}),
        {"confirm": "1"},
    )
    run_url = reverse("reports:run", kwargs={"pk": ReportRun.objects.get().pk})
    links = slot_links(client.get(run_url).content.decode())
    assert back_links(client.get(links[1]).content.decode()) == [run_url]


@pytest.mark.parametrize(
    "foreign",
    [
        "//evil.example/reports/",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\\evil.example",
        "reports/x",
        "/a\nb",
    ],
)
def test_a_link_back_elsewhere_is_not_offered(client, world, foreign):
    client.force_login(world.viewer)
    link = slot_links(client.get(PREVIEW).content.decode())[1].split("&from=")[0]
    page = client.get(f"{link}&{urlencode({'from': foreign})}")
    assert page.status_code == 200 and back_links(page.content.decode()) == []
    assert "返回报告" not in page.content.decode()


def test_the_downloaded_html_report_carries_no_link_back(client, world):
    client.force_login(world.viewer)
    url = reverse(
        "reports:download", kwargs={"key": "testreport", "org": "root", "period": "2019", "fmt": "html"}
    )
    assert "from=" not in client.get(url).content.decode()
