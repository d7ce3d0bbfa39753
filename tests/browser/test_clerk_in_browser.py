"""The clerk's day and the org picker in headless Chromium, on a desk (1400 px) and a phone (375×812): the home
page shows what came back and why and what is due, without sideways scrolling on the phone; the org picker
narrows 200-odd units to a few as one types, keeps the units above for context, takes the first match on Enter
and submits as a plain select; the JSON twin waits in a closed 数据接口 corner. Screenshots go to
$DANGJIAN_SCREENSHOTS when set (to be looked at)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from dangjian.demo.generator import DEMO_PASSWORD

from .cdp import Browser, chromium_path, signed_in
from .test_excel_in_browser import server  # noqa: F401  (the demo app in its own process, a fixture)
from .test_reports_in_browser import shot

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="需要 Debian 的 chromium（apt-get install chromium）"
)

DESK = {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False}
PHONE = {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True}


@pytest.fixture(scope="module")
def returned_clerk(server) -> Iterator[Browser]:  # noqa: F811
    b = signed_in(server, "tianbao2", DEMO_PASSWORD, metrics=DESK)  # 和平社区: this quarter's task returned
    yield b
    b.close()


@pytest.fixture(scope="module")
def district(server) -> Iterator[Browser]:  # noqa: F811
    b = signed_in(server, "qwb", DEMO_PASSWORD, metrics=DESK)  # 区委办管理员: the whole district's units
    yield b
    b.close()


def key(b: Browser, name: str, code: int) -> None:
    for kind in ("keyDown", "keyUp"):
        b.page("Input.dispatchKeyEvent", type=kind, key=name, code=name, windowsVirtualKeyCode=code)


def test_the_returned_clerk_sees_why_and_what_is_due_on_desk_and_phone(returned_clerk, server):  # noqa: F811
    b = returned_clerk
    b.go(f"{server}/")
    returned = b.js("(document.querySelector('.clerk-returned') || {}).innerText || ''")
    assert "被退回待修改" in returned and "退回原因：" in returned and "去修改" in returned
    assert b.js("!!document.querySelector('.clerk-due')")
    # returned comes first: it is what to put right now
    assert b.js(
        "document.querySelector('.clerk-returned').compareDocumentPosition(document.querySelector('.clerk-due'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    shot(b, "clerk-home-desk")
    b.page("Emulation.setDeviceMetricsOverride", **PHONE)
    try:
        b.go(f"{server}/")
        shot(b, "clerk-home-phone")
        width = b.js("document.documentElement.scrollWidth")
        assert width <= 375, f"首页在手机上宽 {width}px"
    finally:
        b.page("Emulation.setDeviceMetricsOverride", **DESK)
    b.click(".clerk-returned a")
    b.wait_for("location.pathname.startsWith('/ledgers/tasks/')")


def test_the_org_picker_narrows_the_district_as_one_types(district, server):  # noqa: F811
    b = district
    b.go(f"{server}/ledgers/study_activity/")
    total = b.js("document.querySelector('select[name=org]').options.length")
    assert total > 100  # the district's whole tree
    assert b.js("document.querySelector('select[name=org]').size") == 0  # a dropdown until one searches
    b.js("document.querySelector('.org-picker-filter').focus()")
    b.page("Input.insertText", text="幸福社区")
    names = b.js(
        "Array.from(document.querySelector('select[name=org]').options).map(o => o.textContent.trim())"
    )
    assert 1 < len(names) < 10, names
    assert any("幸福社区" in n for n in names)
    assert any("委员会" in n and "幸福" not in n for n in names)  # the units above, for context
    assert "找到" in b.js("document.querySelector('.org-picker-note').textContent")
    shot(b, "org-picker-desk")
    key(b, "Enter", 13)  # takes the first match; the form is not submitted by it
    chosen = b.js("document.querySelector('select[name=org]').selectedOptions[0].textContent")
    assert "幸福社区" in chosen and b.js("location.search") == ""
    assert b.js("document.querySelector('select[name=org]').options.length") == total  # the list folds back
    b.click("form.filters button[type=submit]")
    b.wait_for("location.search.includes('org=')")
    assert "幸福社区" in b.js("document.querySelector('select[name=org]').selectedOptions[0].textContent")
    b.go(f"{server}/ledgers/tasks/new")  # a form's two org fields: both pickers
    assert b.js("document.querySelectorAll('.org-picker select[data-org-picker]').length") == 2
    b.js("document.querySelector('#id_scope_root').parentNode.querySelector('.org-picker-filter').focus()")
    b.page("Input.insertText", text="城关")
    shot(b, "org-picker-task-form")
    b.go(f"{server}/ledgers/study_activity/new")  # the record form's 填报单位
    b.js("document.querySelector('#id_reporting_org').parentNode.querySelector('.org-picker-filter').focus()")
    b.page("Input.insertText", text="jd01-sq0")  # part of a code finds the units as well
    key(b, "ArrowDown", 40)
    assert b.js("document.activeElement.id") == "id_reporting_org"
    assert b.js("document.querySelector('#id_reporting_org').value") != ""
    shot(b, "org-picker-record-form")


def test_the_picker_on_a_phone_and_the_api_corner(district, server):  # noqa: F811
    b = district
    b.page("Emulation.setDeviceMetricsOverride", **PHONE)
    try:
        b.go(f"{server}/ledgers/study_activity/")
        b.js("document.querySelector('.org-picker-filter').focus()")
        b.page("Input.insertText", text="街道")
        shot(b, "org-picker-phone")
        width = b.js("document.documentElement.scrollWidth")
        assert width <= 375, f"台账页在手机上宽 {width}px"
    finally:
        b.page("Emulation.setDeviceMetricsOverride", **DESK)
    b.go(f"{server}/ledgers/study_activity/")
    corner = "document.querySelector('details.api-corner')"
    assert b.js(f"{corner}.open") is False
    assert (
        b.js(f"{corner}.querySelector('a').checkVisibility()") is False
    )  # hidden until one opens the corner
    b.js(f"{corner}.open = true")
    assert b.js(f"{corner}.querySelector('a').checkVisibility()") is True
    href = b.js(f"{corner}.querySelector('a').getAttribute('href')")
    assert "records.json" in href or ".json" in href, href
    b.js(f"{corner}.scrollIntoView()")
    shot(b, "api-corner-desk")
    assert json.dumps(b.js("document.querySelector('.page-head').innerText")).find("JSON") < 0
