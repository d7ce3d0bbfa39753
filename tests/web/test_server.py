"""`dangjian serve --workers N`: several processes answer on one port, a dead worker is replaced, SIGTERM stops all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="workers need fork (Linux servers)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        response.read()
        return int(response.status)


def _wait_for(predicate, seconds: float = 30) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_workers_answer_are_replaced_and_stop_together(tmp_path):
    port = _free_port()
    env = {**os.environ, "DANGJIAN_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "dangjian.settings"}
    subprocess.run([sys.executable, "-m", "dangjian.cli", "init"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "dangjian.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert _wait_for(lambda: len(_children(server.pid)) == 2), "two workers start"
        url = f"http://127.0.0.1:{port}/login/"
        assert _wait_for(lambda: _safe_get(url) == 200)
        assert all(_get(url) == 200 for _ in range(20))
        first = _children(server.pid)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        assert _wait_for(lambda: len(_children(server.pid)) == 2 and victim not in _children(server.pid), 40)
        assert _get(url) == 200
        workers = _children(server.pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
        assert _wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    output = server.stdout.read().decode() if server.stdout else ""
    assert "已启动 2 个工作进程" in output
    assert "重新启动" in output


def _safe_get(url: str) -> int:
    try:
        return _get(url)
    except OSError:
        return 0
