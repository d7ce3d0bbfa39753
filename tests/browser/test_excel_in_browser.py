"""The clerk's Excel round in a real browser: log in, download the template, fill it in, upload it, see the records;
then upload a file with one bad date in row 57 and read the error that names the row and the field.

The app runs as users run it: `dangjian init --demo` in a fresh data dir, then `dangjian serve` (waitress) in its
own process, so nothing here shares the test database. Needs Debian's chromium; without it the test is skipped
with that reason (CI runs on machines that have it).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dangjian.demo.generator import DEMO_PASSWORD

from .cdp import Browser, chromium_path, signed_in

LEDGER = "study_activity"
pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="需要 Debian 的 chromium（apt-get install chromium）"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    yield from demo_server(tmp_path_factory)


def demo_server(tmp_path_factory, setup: str = "") -> Iterator[str]:
    """The demo app served from a fresh data dir; `setup`: Python run by `dangjian manage shell -c` after
    `init --demo`, for data a test needs beyond the demo district."""
    data = tmp_path_factory.mktemp("browser-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
    env.update({"DANGJIAN_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "dangjian.settings"})
    cli = [sys.executable, "-m", "dangjian.cli"]
    subprocess.run([*cli, "init", "--demo"], env=env, check=True, capture_output=True, timeout=300)
    if setup:
        subprocess.run(
            [*cli, "manage", "shell", "-c", setup], env=env, check=True, capture_output=True, timeout=120
        )
    port = _free_port()
    process = subprocess.Popen(
        [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/login/", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("dangjian serve 未能启动") from None
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(server) -> Iterator[Browser]:
    b = signed_in(server, "tianbao", DEMO_PASSWORD)  # 幸福社区的填报员
    yield b
    b.close()


def _download_template(browser: Browser, server: str, folder: Path) -> Path:
    browser.go(f"{server}/ledgers/{LEDGER}/import")
    browser.download_to(folder)
    browser.click(f"a[href='/ledgers/{LEDGER}/template.xlsx']")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = [p for p in folder.glob("*.xlsx")]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.1)
    raise AssertionError("模板没有下载下来")


def _fill(template: Path, out: Path, rows: list[dict[str, object]]) -> Path:
    """Fill rows from row 4 on, by header label, as a clerk types into the template."""
    book = load_workbook(template)
    sheet = book.worksheets[0]
    labels = [str(c.value or "").rstrip("*") for c in sheet[1]]
    for i, row in enumerate(rows):
        for label, value in row.items():
            sheet.cell(row=4 + i, column=labels.index(label) + 1, value=value)
    book.save(out)
    return out


def _upload(browser: Browser, server: str, path: Path) -> str:
    browser.go(f"{server}/ledgers/{LEDGER}/import")
    browser.choose_file("#id_file", path)
    browser.click("form.js-import button[type=submit]")
    return str(
        browser.wait_for(
            "!location.pathname.endsWith('/import') || document.querySelector('.form-error') ? document.body.innerText : ''"
        )
    )


def _row(n: int, when: object) -> dict[str, object]:
    return {"填报单位": "中共示范区城关街道幸福社区委员会", "活动日期": when, "活动类型": "专题党课",
            "主题": f"浏览器导入测试第{n}课", "参加人数": 20 + n}  # fmt: skip


def test_a_clerk_fills_the_downloaded_template_and_sees_the_records(browser, server, tmp_path):
    template = _download_template(browser, server, tmp_path)
    assert load_workbook(template).worksheets[0]["A1"].value == "填报单位*"
    rows = [_row(1, dt.date(2019, 5, 6)), _row(2, "2019.6.7"), _row(3, "2019年7月8日")]
    page = _upload(browser, server, _fill(template, tmp_path / "填好的.xlsx", rows))
    assert "导入成功：新增 3 条记录" in page, page[:1500]
    browser.go(
        f"{server}/ledgers/{LEDGER}/?q=%E6%B5%8F%E8%A7%88%E5%99%A8%E5%AF%BC%E5%85%A5%E6%B5%8B%E8%AF%95"
    )
    listed = browser.text()
    assert "共 3 条记录" in listed
    for n, day in [(1, "2019年5月6日"), (2, "2019年6月7日"), (3, "2019年7月8日")]:
        assert f"浏览器导入测试第{n}课" in listed and day in listed


def test_one_bad_date_in_row_57_imports_nothing_and_names_the_row(browser, server, tmp_path):
    template = _download_template(browser, server, tmp_path)
    rows = [_row(100 + i, dt.date(2019, 9, 1)) for i in range(4, 57)]  # sheet rows 4–56
    rows += [_row(157, "2019年2月30日")] + [_row(200 + i, dt.date(2019, 9, 2)) for i in range(5)]
    page = _upload(browser, server, _fill(template, tmp_path / "有错.xlsx", rows))
    assert "第57行【活动日期】" in page and "未写入任何记录" in page, page[:1500]
    assert "下载标注了错误的原文件" in page
    browser.go(
        f"{server}/ledgers/{LEDGER}/?q=%E6%B5%8F%E8%A7%88%E5%99%A8%E5%AF%BC%E5%85%A5%E6%B5%8B%E8%AF%95%E7%AC%AC1"
    )
    assert "浏览器导入测试第104课" not in browser.text()
