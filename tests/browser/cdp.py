"""A small driver for headless Chromium over the DevTools protocol (websocket-client, a test-only dependency).

The browser tests use it to do what a clerk does: log in, click, download, pick a file, submit, read the page.
Chromium comes from Debian (`apt-get install chromium`); it is started with a fresh profile, no network beyond
localhost, and a debugging port it chooses itself (read from DevToolsActivePort), so parallel workers never clash.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import websocket

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--remote-debugging-port=0",
    "--window-size=1366,900",
]  # fmt: skip


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    def __init__(self, executable: str) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="dangjian-chromium-"))
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise RuntimeError("Chromium 未能启动")
            time.sleep(0.1)
        port, path = port_file.read_text().split()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=60)
        self._id = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.page("Page.enable")
        self.page("Runtime.enable")

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        return self.call(method, session=self.session, **params)

    def js(self, expression: str) -> Any:
        result = self.page("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Poll a JavaScript expression until it is truthy on a loaded document (page loads, redirects and scripts
        settle). The document must be complete as well: after a click, location.href may already name the next page
        while its body is still empty, and a test that then reads the text reads nothing."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.js(f"document.readyState === 'complete' && ({expression})")
            except RuntimeError:  # the page is between documents
                value = None
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"等待超时：{expression}\n当前页面：{self.text()[:2000]}")

    def go(self, url: str) -> None:
        self.page("Page.navigate", url=url)
        self.wait_for(f"location.href === {json.dumps(url)}")

    def text(self) -> str:
        try:
            return str(self.js("document.body ? document.body.innerText : ''"))
        except RuntimeError:
            return ""

    def fill(self, selector: str, value: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).value = {json.dumps(value)}")

    def click(self, selector: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).click()")

    def choose_file(self, selector: str, path: Path) -> None:
        node = self.page("Runtime.evaluate", expression=f"document.querySelector({json.dumps(selector)})")
        self.page("DOM.setFileInputFiles", files=[str(path)], objectId=node["result"]["objectId"])

    def download_to(self, folder: Path) -> None:
        self.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(folder))

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing after a failure must not hide it
            self.ws.close()
        self.process.kill()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def signed_in(base: str, username: str, password: str, *, metrics: dict[str, Any] | None = None) -> Browser:
    """A browser signed in as `username` at the server `base` (optionally with device metrics, e.g. a phone's)."""
    b = Browser(chromium_path() or "chromium")
    if metrics:
        b.page("Emulation.setDeviceMetricsOverride", **metrics)
    b.go(f"{base}/login/")
    assert "登录" in b.text()
    b.fill("#id_username", username)
    b.fill("#id_password", password)
    b.click("form button[type=submit]")
    b.wait_for("document.body.innerText.includes('您好')")
    return b
