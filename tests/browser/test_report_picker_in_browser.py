"""The report form's org picker in a real browser (issue 13), as the district's leader (lingdao, 查看者 at 示范区)
uses it: the form starts from the district and its template (2019年度区委常委会党建工作报告, for districts only);
typing part of a name finds orgs but does not offer those the template is not for; with the template for every
org, typing "少年宫" finds 区青少年宫, Enter takes it and the year follows to its last year with data; back on the
district's template the choice returns to the district.

区青少年宫 is added to the demo district for this test, with no records: its year is last year, not 2019.
Screenshots go to $DANGJIAN_SCREENSHOTS when set (to be looked at)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.utils import timezone

from dangjian.demo.generator import DEMO_PASSWORD

from .cdp import Browser, chromium_path, signed_in
from .test_clerk_in_browser import DESK, PHONE, key
from .test_excel_in_browser import demo_server
from .test_reports_in_browser import shot, value

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="需要 Debian 的 chromium（apt-get install chromium）"
)
CENTRE = "demo-jg99"
ADD_CENTRE = f"""
from dangjian.orgs.models import Organization, OrgKind
parent = Organization.objects.get(code="demo-jg")
org = Organization.objects.add_child(
    parent, {{"code": "{CENTRE}", "name": "中共示范区青少年宫支部委员会", "short_name": "区青少年宫", "sort_order": 99}}
)
org.kinds.set(OrgKind.objects.filter(code="agency"))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    yield from demo_server(tmp_path_factory, setup=ADD_CENTRE)


@pytest.fixture(scope="module")
def leader(server) -> Iterator[Browser]:
    b = signed_in(server, "lingdao", DEMO_PASSWORD)
    yield b
    b.close()


BOX = "#report-form .org-picker-filter"


def search(b: Browser, text: str) -> None:
    b.js(f"document.querySelector({json.dumps(BOX)}).focus()")
    b.page("Input.insertText", text=text)


def note(b: Browser) -> str:
    return str(b.js("document.querySelector('#report-form .org-picker-note').textContent"))


def listed(b: Browser) -> list[dict]:
    """The options the picker's list holds now: code, label, offered (neither disabled nor hidden)."""
    return b.js(
        "[...document.querySelector('select[name=org]').options].map(o =>"
        " ({code: o.value, label: o.textContent.trim(), offered: !o.disabled && !o.hidden}))"
    )


def choose_template(b: Browser, key_: str) -> None:
    b.js(
        "var t = document.querySelector('select[name=template]');"
        f" t.value = {json.dumps(key_)}; t.dispatchEvent(new Event('change', {{bubbles: true}}))"
    )


def test_the_picker_finds_by_name_offers_only_fitting_orgs_and_the_year_follows(leader, server):
    b = leader
    b.go(f"{server}/reports/")
    assert b.js("document.querySelector('.org-filter')") is None  # no search box of the page's own
    assert b.js(f"!!document.querySelector({json.dumps(BOX)})")  # the shared picker's, in the form
    assert (value(b, "select[name=template]"), value(b, "select[name=org]")) == ("seed2019", "demo")
    assert value(b, "select[name=year]") == "2019"
    total = b.js("document.querySelector('select[name=org]').options.length")
    assert total > 200

    # the district's template: 区青少年宫 is found but not offered, and Enter takes nothing
    search(b, "少年宫")
    assert "不适用于所选报告模板" in note(b) and "找到" not in note(b), note(b)
    assert not [o for o in listed(b) if o["offered"] and "少年宫" in o["label"]]
    key(b, "Enter", 13)
    assert value(b, "select[name=org]") == "demo"
    key(b, "Escape", 27)
    assert b.js("document.querySelector('select[name=org]').options.length") == total

    # the template for every org: typed, found, taken with Enter; the year moves to the org's last year
    choose_template(b, "jiceng")
    search(b, "少年宫")
    assert note(b).startswith("找到 1 个单位"), note(b)
    rows = listed(b)
    assert [o["code"] for o in rows if o["offered"] and "少年宫" in o["label"]] == [CENTRE]
    assert {"demo", "demo-jg"} <= {o["code"] for o in rows}  # the units above it, for context
    shot(b, "report-picker-found")
    key(b, "Enter", 13)
    assert value(b, "select[name=org]") == CENTRE
    last_year = str(timezone.localdate().year - 1)  # no records: the form starts from last year
    assert value(b, "select[name=year]") == last_year != "2019"
    assert b.js("location.pathname") == "/reports/"  # Enter took the org, it did not submit the form

    # back to the district's template: the youth centre no longer fits, the district is chosen again with its year
    choose_template(b, "seed2019")
    assert value(b, "select[name=org]") == "demo"
    assert value(b, "select[name=year]") == "2019"
    search(b, "幸福")  # communities: none fits the district's template
    assert "不适用于所选报告模板" in note(b), note(b)
    assert not [o for o in listed(b) if o["offered"] and o["code"] != "demo"]
    shot(b, "report-picker-not-offered")
    key(b, "Escape", 27)

    # the year chosen by hand stays; the form submits what the picker chose
    choose_template(b, "jiceng")
    b.js(
        "var y = document.querySelector('select[name=year]'); y.value = '2019';"
        " y.dispatchEvent(new Event('change', {bubbles: true}))"
    )
    search(b, "区青少年宫")
    key(b, "Enter", 13)
    assert value(b, "select[name=org]") == CENTRE and value(b, "select[name=year]") == "2019"
    b.click("#report-form button[type=submit]")
    b.wait_for(f"location.pathname === '/reports/jiceng/{CENTRE}/2019/'")
    assert "中共示范区青少年宫支部委员会" in b.text()


def test_the_report_picker_fits_a_phone(leader, server):
    b = leader
    b.page("Emulation.setDeviceMetricsOverride", **PHONE)
    try:
        b.go(f"{server}/reports/")
        choose_template(b, "jiceng")
        search(b, "街道")
        assert note(b).startswith("找到"), note(b)
        shot(b, "report-picker-phone")
        width = b.js("document.documentElement.scrollWidth")
        assert width <= 375, f"报告页在手机上宽 {width}px"
    finally:
        b.page("Emulation.setDeviceMetricsOverride", **DESK)
