"""`dangjian serve`: waitress in one process, or in several worker processes sharing one listening socket.

One Python process runs one request's Python at a time (the GIL), so a page that takes 40 ms of Python serves at
most 25 pages a second however many threads waitress has, and a long import in the same process slows every
reader. With `--workers N` the parent binds the socket, forks N workers that each run waitress on it (the kernel
hands each new connection to one of them), restarts a worker that dies, and stops them all on SIGTERM or Ctrl+C.
Nothing a request needs lives only in one worker's memory: sessions and login counts are in the database, and the
import progress is in the file cache under the data dir (settings.CACHES).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

# A worker that dies this soon after starting is not restarted in a loop: something is wrong with the set-up.
QUICK_DEATH_SECONDS = 5.0


def default_workers() -> int:
    """Two workers per core, at most eight; one where the system cannot fork (Windows).

    Two per core so that a worker busy with a long import (its Python holds that process) leaves the others free:
    on 2 cores, 20 readers of a 100k-record ledger measured p95 191 ms with 4 workers and 432 ms with 2
    (docs/benchmarks.md). Each worker holds its own database connections and about 100 MB.
    """
    if not hasattr(os, "fork"):
        return 1
    return max(1, min(2 * (os.cpu_count() or 1), 8))


def serve(app: Callable[..., Any], *, host: str, port: int, workers: int, **options: Any) -> None:
    from waitress import serve as waitress_serve

    if workers <= 1 or not hasattr(os, "fork"):
        waitress_serve(app, host=host, port=port, **options)
        return
    listener = _listen(host, port)
    _close_database_connections()  # each worker opens its own; a connection must never be shared across a fork
    Supervisor(lambda: waitress_serve(app, sockets=[listener], **options), workers).run()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _close_database_connections() -> None:
    from django.db import connections

    connections.close_all()


class Supervisor:
    """Keeps `count` forked workers running `work` until told to stop."""

    def __init__(self, work: Callable[[], None], count: int) -> None:
        self.work = work
        self.count = count
        self.workers: dict[int, float] = {}  # pid → start time
        self.stopping = False

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self.count):
            self._spawn()
        print(f"已启动 {self.count} 个工作进程（主进程 {os.getpid()}）", flush=True)
        while self.workers:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:  # pragma: no cover - Python retries wait() itself since 3.5
                continue
            started = self.workers.pop(pid, None)
            if started is None or self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            print(f"工作进程 {pid} 已退出（{code}），重新启动", file=sys.stderr, flush=True)
            if time.monotonic() - started < QUICK_DEATH_SECONDS:
                time.sleep(QUICK_DEATH_SECONDS)  # don't spin on a worker that cannot start
            if not self.stopping:
                self._spawn()

    def _spawn(self) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the parent, which stops the workers
            code = 0
            try:
                self.work()
            except BaseException:  # noqa: BLE001 - report, then leave without running the parent's clean-up
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        self.workers[pid] = time.monotonic()

    def _stop(self, signum: int, frame: Any) -> None:
        self.stopping = True
        for pid in list(self.workers):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                self.workers.pop(pid, None)
