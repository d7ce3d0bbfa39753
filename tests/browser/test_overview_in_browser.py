"""概览 in headless Chromium, as the 区委领导 (lingdao, a 查看者 at the district, whose home page it is): every chart is
drawn (a canvas in each) with no script error and no Content-Security-Policy violation, a click on a bar opens the
list behind it, the page fits a phone (375×812), and without scripts the tables are the page. Screenshots go to
$DANGJIAN_SCREENSHOTS when set (to be looked at)."""

from __future__ import annotations

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
# Collected from the first script on every page: uncaught errors and CSP violations (the policy allows no inline
# style or script, and ECharts must live with that).
WATCH = """
window.__problems = [];
window.addEventListener('error', function (e) { window.__problems.push('error: ' + e.message); });
document.addEventListener('securitypolicyviolation', function (e) {
  window.__problems.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI);
});
"""
DRAWN = """(function () {
  var charts = document.querySelectorAll('[data-chart]');
  if (!charts.length) return false;
  for (var i = 0; i < charts.length; i++) {
    if (!charts[i].getAttribute('data-drawn') || !charts[i].querySelector('canvas')) return false;
  }
  return charts.length;
})()"""


@pytest.fixture(scope="module")
def leader(server) -> Iterator[Browser]:  # noqa: F811
    b = signed_in(server, "lingdao", DEMO_PASSWORD, metrics=DESK)  # 区委领导：示范区的查看者
    b.page("Page.addScriptToEvaluateOnNewDocument", source=WATCH)
    yield b
    b.close()


def problems(b: Browser) -> list[str]:
    return list(b.js("window.__problems || []"))


def test_the_leaders_home_is_the_overview_with_every_chart_drawn(leader, server):  # noqa: F811
    leader.go(f"{server}/")
    assert "示范区概览" in leader.text()
    count = leader.wait_for(DRAWN)
    assert count >= 5, count
    assert problems(leader) == []
    tables = leader.js("document.querySelectorAll('table.chart-table').length")
    assert tables >= count  # every chart keeps its table beside it
    shot(leader, "overview-desk")


def test_a_click_on_a_bar_opens_the_list_behind_it(leader, server):  # noqa: F811
    leader.go(f"{server}/overview/?year=2019")
    leader.wait_for(DRAWN)
    # The first bar of 逾期事项（按单位）: where ECharts drew it, clicked as a mouse would.
    point = leader.js(
        """(function () {
          var el = document.querySelector('[data-chart="chart-data-overdue_units"]');
          el.scrollIntoView({block: 'center'});
          var chart = echarts.getInstanceByDom(el);
          var value = chart.getOption().series[0].data[0];
          var p = chart.convertToPixel({seriesIndex: 0}, [value / 2, 0]);
          var box = el.getBoundingClientRect();
          return {x: box.left + p[0], y: box.top + p[1]};
        })()"""
    )
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        leader.page(
            "Input.dispatchMouseEvent", type=kind, x=point["x"], y=point["y"], button="left", clickCount=1
        )
    leader.wait_for("location.pathname === '/ledgers/overdue/'")
    assert "org=" in leader.js("location.search")
    assert "逾期事项" in leader.text()


def test_the_overview_fits_a_phone(leader, server):  # noqa: F811
    leader.page("Emulation.setDeviceMetricsOverride", **PHONE)
    try:
        leader.go(f"{server}/overview/?year=2019")
        leader.wait_for(DRAWN)
        assert problems(leader) == []
        width = leader.js("document.documentElement.scrollWidth")
        shot(leader, "overview-phone")
        assert width <= PHONE["width"], f"页面宽 {width}px，超出手机屏幕"
        chart_width = leader.js("document.querySelector('[data-chart]').getBoundingClientRect().right")
        assert chart_width <= PHONE["width"]
    finally:
        leader.page("Emulation.setDeviceMetricsOverride", **DESK)


def test_without_scripts_the_tables_are_the_page(leader, server):  # noqa: F811
    leader.page("Emulation.setScriptExecutionDisabled", value=True)
    try:
        leader.go(
            f"{server}/overview/?year=2019"
        )  # DevTools still evaluates; the page's own scripts do not run
        assert leader.js("document.querySelectorAll('[data-chart]').length") >= 5
        assert leader.js("document.querySelectorAll('[data-chart]:not([hidden]), canvas').length") == 0
        assert leader.js("document.querySelectorAll('table.chart-table tbody tr').length") > 10
        shot(leader, "overview-no-script")
    finally:
        leader.page("Emulation.setScriptExecutionDisabled", value=False)
