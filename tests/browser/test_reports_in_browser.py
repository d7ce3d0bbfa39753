"""The report page in a real browser, as the 城关街道 reviewer (shenhe) uses it: the form starts from the street,
a template for it and 2019 (the last completed year with data), the org is chosen in the shared org picker (a plain
select for the street's nine orgs; orgpicker.js searches longer lists: test_report_picker_in_browser), a figure's
evidence leads back to the report, and 定稿 is not sent until "我已核对，确认定稿" is ticked. Screenshots go to
$DANGJIAN_SCREENSHOTS when set (to be looked at)."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dangjian.demo.generator import DEMO_PASSWORD

from .cdp import Browser, chromium_path, signed_in
from .test_excel_in_browser import server  # noqa: F401  (the demo app in its own process, a fixture)

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="需要 Debian 的 chromium（apt-get install chromium）"
)


@pytest.fixture(scope="module")
def reviewer(server) -> Iterator[Browser]:  # noqa: F811
    b = signed_in(server, "shenhe", DEMO_PASSWORD)  # 城关街道的审核员
    yield b
    b.close()


def shot(browser: Browser, name: str) -> None:
    folder = os.environ.get("DANGJIAN_SCREENSHOTS")
    if folder:
        data = browser.page("Page.captureScreenshot", format="png")["data"]
        (Path(folder) / f"{name}.png").write_bytes(base64.b64decode(data))


def value(browser: Browser, selector: str) -> str:
    return str(browser.js(f"document.querySelector({json.dumps(selector)}).value"))


def test_the_report_form_starts_from_the_reviewers_street_and_its_last_year(reviewer, server):  # noqa: F811
    reviewer.go(f"{server}/reports/")
    assert value(reviewer, "select[name=org]") == "demo-jd01"
    assert value(reviewer, "select[name=year]") == "2019"
    assert value(reviewer, "select[name=template]") == "jiceng"  # the district's template is not offered
    assert reviewer.js("document.querySelector('.org-filter')") is None  # no search box of the page's own
    assert reviewer.js("document.querySelector('select[name=org]').hasAttribute('data-org-picker')")
    labels = reviewer.js("[...document.querySelector('select[name=org]').options].map(o => o.textContent)")
    assert labels[0] == "中共示范区城关街道工作委员会" and labels[1].startswith("\u3000")  # a tree
    reviewer.js(
        "var s = document.querySelector('select[name=org]'); s.value = 'demo-jd01-sq01';"
        " s.dispatchEvent(new Event('change', {bubbles: true}))"
    )
    assert value(reviewer, "select[name=year]") == "2019"  # the community's last year with data as well
    shot(reviewer, "reports-form")
    reviewer.click("#report-form button[type=submit]")
    reviewer.wait_for("location.pathname === '/reports/jiceng/demo-jd01-sq01/2019/'")
    assert "没有任何台账记录" not in reviewer.text()


def test_evidence_leads_back_and_finalise_waits_for_the_tick(reviewer, server):  # noqa: F811
    preview = f"{server}/reports/jiceng/demo-jd01/2019/"
    reviewer.go(preview)
    reviewer.click(".report-paper a.slot")
    reviewer.wait_for("location.pathname === '/indicators/evidence/'")
    assert "← 返回报告" in reviewer.text()
    reviewer.click(".page-head .actions a.btn")
    reviewer.wait_for(f"location.href === {json.dumps(preview)}")
    assert "不能修改、撤销或删除" in reviewer.text()
    reviewer.js("document.querySelector('input[name=confirm]').scrollIntoView({block: 'center'})")
    shot(reviewer, "reports-finalise")
    reviewer.click(".report-side form button[type=submit]")  # not ticked: the browser keeps the form
    assert reviewer.js("document.querySelector('input[name=confirm]').validity.valueMissing") is True
    assert reviewer.js("location.href") == preview
    reviewer.js(  # an error-level check that fails asks for a written reason as well
        "var r = document.querySelector('textarea[name=override_reason]'); if (r) r.value = '浏览器测试'"
    )
    reviewer.click("input[name=confirm]")
    reviewer.click(".report-side form button[type=submit]")
    reviewer.wait_for("location.pathname.startsWith('/reports/runs/')")
    assert "已定稿" in reviewer.text()
