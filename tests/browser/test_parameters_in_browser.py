"""报告参数 in a real browser, as the staff do it: the district's administrator defines a parameter and asks the
street's communities for it through a 填报任务; a community clerk enters it on the task's page with a source and a
screenshot; the administrator opens its evidence and sees who entered what, when, from what source, with the file.

The app runs as users run it (`dangjian init --demo`, then `dangjian serve`: the `server` fixture of the Excel
test). Needs Debian's chromium; without it the test is skipped with that reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from dangjian.demo.generator import DEMO_PASSWORD

from .cdp import Browser, chromium_path
from .cdp import signed_in as cdp_signed_in
from .test_excel_in_browser import server  # noqa: F401 — the same app in its own data dir

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="需要 Debian 的 chromium（apt-get install chromium）"
)
KEY = "学习强国.注册人数"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def signed_in(base: str, username: str) -> Browser:
    return cdp_signed_in(base, username, DEMO_PASSWORD)


def submit(b: Browser, selector: str, expect: str) -> None:
    b.click(selector)
    b.wait_for(
        f"document.readyState === 'complete' && document.body.innerText.includes({json.dumps(expect)})"
    )


def choose(b: Browser, select: str, text: str) -> None:
    """Pick the option whose label is `text` (labels are indented by depth)."""
    b.js(
        f"(() => {{ const s = document.querySelector({json.dumps(select)});"
        f" s.value = [...s.options].find(o => o.text.trim() === {json.dumps(text)}).value; }})()"
    )


@pytest.fixture
def admin(server) -> Iterator[Browser]:  # noqa: F811
    b = signed_in(server, "qwb")  # 区委办管理员: a 管理员 of the reporting org
    yield b
    b.close()


def test_a_parameter_collected_through_a_task_shows_its_source_on_the_evidence_page(
    server,  # noqa: F811
    admin,
    tmp_path: Path,
):
    admin.go(f"{server}/reports/")
    admin.click("a[href='/indicators/parameters/']")
    admin.wait_for("document.body.innerText.includes('新建报告参数')")
    admin.go(f"{server}/indicators/parameters/new")
    for field, value in (("key", KEY), ("label", "学习强国注册人数"), ("unit", "人"), ("max_digits", "6")):
        admin.fill(f"#id_{field}", value)
    admin.fill("#id_total", "sum")
    submit(admin, "form.record-form button[type=submit]", "已定义")

    admin.go(f"{server}/ledgers/tasks/new")
    admin.fill("#id_title", "2019年度学习强国数据")
    choose(admin, "#id_creator_org", "示范区")
    choose(admin, "#id_scope_root", "中共示范区城关街道工作委员会")
    for field, value in (
        ("period_start", "2019-01-01"),
        ("period_end", "2019-12-31"),
        ("deadline", "2099-01-15"),
    ):
        admin.fill(f"#id_{field}", value)
    admin.js(
        "[...document.querySelectorAll('input[name=report_parameters]')]"
        f".find(i => i.parentElement.innerText.includes({json.dumps(KEY)})).checked = true"
    )
    submit(admin, "form.record-form button[type=submit]", "填报任务已创建")
    task_url = admin.js("location.pathname")

    clerk = signed_in(server, "tianbao")  # 幸福社区填报员
    try:
        clerk.go(f"{server}{task_url}")
        clerk.click("a[href$='/']:is(td.ops a)")  # 填报: the clerk's own unit's page under the task
        clerk.wait_for(
            "document.body.innerText.includes('报告参数') && !!document.querySelector('form.inline-entry')"
        )
        clerk.fill("form.inline-entry input[name=value]", "十二")
        clerk.fill("form.inline-entry input[name=source]", "学习强国后台导出")
        submit(clerk, "form.inline-entry button[type=submit]", "未保存")
        assert "【学习强国注册人数】应为整数" in clerk.text()

        shot = tmp_path / "后台截图.png"
        shot.write_bytes(PNG)
        clerk.fill("form.inline-entry input[name=value]", "1260")
        clerk.fill("form.inline-entry input[name=source]", "学习强国后台“成员统计”2019年12月31日导出")
        clerk.choose_file("form.inline-entry input[name=file]", shot)
        submit(clerk, "form.inline-entry button[type=submit]", "已填报")
        assert "1260人" in clerk.text()
    finally:
        clerk.close()

    admin.go(f"{server}/indicators/evidence/?key={quote(KEY)}&org=demo&start=2019-01-01&end=2019-12-31")
    admin.wait_for("document.body.innerText.includes('填报值')")
    page = admin.text()
    for shown in (
        "1260人",
        "学习强国后台“成员统计”2019年12月31日导出",
        "幸福社区填报员",
        "后台截图.png",
        "幸福社区",
    ):
        assert shown in page, shown
    assert "年" in page.split("幸福社区填报员", 1)[1][:40]  # when: 2026年12月1日 12:05
