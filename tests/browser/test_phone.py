"""The clerk's day on a phone (375×812, as Chromium emulates one): home, 填报任务 and one task, a ledger list, the
record form, the overdue list, one list item and its 销号 step. On each page nothing makes the page itself scroll
sideways (wide tables scroll inside their own box), and the page's main action is on screen, not hidden under
another element: the top bar's sections, 保存, the step button, the sticky 操作 column. Screenshots go to
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

WIDTH = 375


@pytest.fixture(scope="module")
def phone(server) -> Iterator[Browser]:  # noqa: F811
    phone = {"width": WIDTH, "height": 812, "deviceScaleFactor": 2, "mobile": True}
    b = signed_in(server, "tianbao", DEMO_PASSWORD, metrics=phone)  # 幸福社区的填报员
    yield b
    b.close()


def fits(phone: Browser, name: str) -> None:
    """The page does not scroll sideways at 375 px."""
    assert phone.js("window.innerWidth") == WIDTH
    width = phone.js("document.documentElement.scrollWidth")
    shot(phone, f"phone-{name}")
    assert width <= WIDTH, f"{name}：页面宽 {width}px，超出手机屏幕 {WIDTH}px"


def reachable(phone: Browser, selector: str) -> None:
    """The element, scrolled to vertically only, lies within the screen's width and is the one a tap there hits."""
    found = phone.js(
        f"""(function () {{
          var el = document.querySelector({json.dumps(selector)});
          if (!el) return null;
          el.scrollIntoView({{block: 'center', inline: 'nearest'}});
          window.scrollTo(0, window.scrollY);  /* never sideways: the page does not scroll that way */
          var r = el.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
          var hit = document.elementFromPoint(x, y);
          return {{left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width,
                   hit: !!hit && (hit === el || el.contains(hit))}};
        }})()"""
    )
    assert found is not None, f"页面上没有 {selector}"
    assert found["width"] > 0, f"{selector} 不可见"
    assert found["left"] >= 0 and found["right"] <= WIDTH, f"{selector} 超出屏幕：{found}"
    assert found["top"] >= 0 and found["bottom"] <= 812, f"{selector} 不在屏幕内：{found}"
    assert found["hit"], f"{selector} 被其他元素遮住：{found}"


def href(phone: Browser, selector: str) -> str:
    url = phone.js(
        f"(function () {{ var a = document.querySelector({json.dumps(selector)}); return a && a.href }})()"
    )
    assert url, f"页面上没有 {selector}"
    return str(url)


def test_home_and_the_top_bar(phone, server):  # noqa: F811
    phone.go(f"{server}/")
    fits(phone, "home")
    for section in ("/", "/ledgers/", "/ledgers/tasks/", "/ledgers/overdue/", "/reports/"):
        reachable(phone, f".mainnav a[href='{section}']")
    reachable(phone, ".logout button")


def test_tasks_and_a_task_with_its_action_column(phone, server):  # noqa: F811
    phone.go(f"{server}/ledgers/tasks/")
    fits(phone, "tasks")
    task = href(phone, "main a[href^='/ledgers/tasks/'][href$='/']:not([href='/ledgers/tasks/'])")
    phone.go(task)
    fits(phone, "task")
    reachable(phone, ".table-wrap td.ops a, .table-wrap td.ops button")  # sticks to the right edge


def test_a_ledger_list_and_the_record_form(phone, server):  # noqa: F811
    phone.go(f"{server}/ledgers/study_activity/")
    fits(phone, "ledger")
    reachable(phone, ".page-head .actions a.btn.primary")  # ＋新增记录
    reachable(phone, ".table-wrap td.ops a")  # 查看, although the table is wider than the phone
    phone.go(f"{server}/ledgers/study_activity/new")
    fits(phone, "record-form")
    width = phone.js("document.querySelector('.record-form input[type=text]').getBoundingClientRect().right")
    assert width <= WIDTH
    reachable(phone, ".form-actions button[type=submit]")


def test_a_list_item_and_its_step(phone, server):  # noqa: F811
    phone.go(f"{server}/ledgers/overdue/")
    fits(phone, "overdue")
    item = href(phone, "main table a[href^='/ledgers/']")
    phone.go(item)
    fits(phone, "list-item")
    reachable(phone, "a.btn[href*='/step/']")
    phone.go(href(phone, "a.btn[href*='/step/']"))
    fits(phone, "list-step")
    reachable(phone, ".form-actions button[type=submit]")


def test_on_a_desk_the_action_column_of_a_wide_ledger_stays_in_sight(phone, server):  # noqa: F811
    phone.page(
        "Emulation.setDeviceMetricsOverride", width=1400, height=900, deviceScaleFactor=1, mobile=False
    )
    try:
        phone.go(f"{server}/ledgers/study_activity/")
        box = phone.js(
            """(function () {
              var wrap = document.querySelector('.table-wrap'), a = wrap.querySelector('td.ops a');
              var w = wrap.getBoundingClientRect(), r = a.getBoundingClientRect();
              return {wide: wrap.scrollWidth > wrap.clientWidth, inside: r.left >= w.left && r.right <= w.right,
                      hit: document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === a};
            })()"""
        )
        shot(phone, "desk-wide-ledger")
        assert box["wide"], "学习教育活动台账在 1400px 下应比页面宽（否则本测试不再检验粘性操作列）"
        assert box["inside"] and box["hit"], f"操作列不在视野内：{box}"
    finally:
        phone.page(
            "Emulation.setDeviceMetricsOverride", width=WIDTH, height=812, deviceScaleFactor=2, mobile=True
        )
