"""Benchmark: the real server under load, on SQLite and (when DANGJIAN_BENCH_PG is a URL) on PostgreSQL.

For each database, a fresh data dir gets `dangjian init --demo`, 50 clerk accounts at the demo's communities and
a 学习教育活动台账 of 100,000 records; then `dangjian serve` (waitress) runs in its own process and this one
drives it over HTTP on 127.0.0.1:
1. 50 clerks save records through the web form for BENCH_CLERK_SECONDS (default 120 s), each in its own
   session, while a 100,000-row Excel import is uploaded on the import page. Reported: saves per second, p50/p95
   of a save, failed requests, and lost writes (saves answered as done minus records found in the database).
2. 20 readers page through the 100,000-record ledger as the district's viewer for BENCH_READER_SECONDS (30 s),
   first alone, then while another 100,000-row import runs. Reported: p50/p95 of a page and failed requests.
3. 20 API clients read the same ledger's records through `/api/` with the viewer's bearer token, 50 a page.

`python -m bench concurrency` runs it; results go into docs/benchmarks.md between this bench's markers.
`BENCH_ONLY=postgresql` (or `sqlite`) runs one database and only prints its numbers.
"""

from __future__ import annotations

import http.cookiejar
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench_indicators import _machine, _write_doc

START, END = "<!-- bench_concurrency:start -->", "<!-- bench_concurrency:end -->"
CLERKS = 50
READERS = 20
READER_PAUSE = float(os.environ.get("BENCH_READER_PAUSE", "1"))  # seconds a reader spends on a page
IMPORT_ROWS = 100_000
LEDGER_RECORDS = 100_000
PASSWORD = "Bench#2019-load"
VIEWER = "lingdao"
DEMO_PASSWORD = "Demo#2019dj"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SELECTED = re.compile(r'<option value="(\d+)" selected>')


# --- preparation (runs in a subprocess with the bench's data dir) --------------------------------------------------


def prepare() -> None:
    """50 clerks at the demo's communities, and LEDGER_RECORDS study records imported at one community."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from bench.bench_import import _make_file
    from dangjian.orgs.models import Membership, Organization, Role
    from dangjian.records.models import LedgerType
    from dangjian.spreadsheets.imports import import_file

    communities = list(Organization.objects.filter(kinds__code="community").order_by("path"))
    root = Organization.objects.get(code="demo")
    if not Organization.objects.filter(code="bench").exists():
        Organization.objects.add_child(root, dict(code="bench", name="基准测试单位", short_name="基准"))
    bench = Organization.objects.get(code="bench")
    users = get_user_model()
    for i in range(CLERKS):
        user, _ = users.objects.get_or_create(username=f"bench{i:02d}")
        user.set_password(PASSWORD)
        user.save()
        Membership.objects.get_or_create(user=user, org=communities[i % len(communities)], role=Role.CLERK)
    lt = LedgerType.objects.get(code="study_activity")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.xlsx"
        _make_file(path, LEDGER_RECORDS)
        result = import_file(None, lt, path, path.name, default_org=bench, check_access=False)
        if not result.ok:
            raise SystemExit("准备数据失败：" + "；".join(result.lines()[:3]))
    from django.conf import settings

    from dangjian.api import tokens

    viewer = users.objects.get(username=VIEWER)
    (Path(settings.DATA_DIR) / "bench_token").write_text(tokens.create(viewer, "bench", days=1).secret)


# --- an HTTP client with its own session --------------------------------------------------------------------------


class Session:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(
        self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        if data is not None:
            req.add_header("Referer", self.base + path)
        try:
            with self.opener.open(req, timeout=600) as resp:
                return resp.status, resp.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def csrf(self, path: str) -> str:
        return self.form(path)[0]

    def form(self, path: str) -> tuple[str, str]:
        """The page's CSRF token, and the page."""
        status, body = self.request(path)
        match = CSRF.search(body)
        if status != 200 or not match:
            raise RuntimeError(f"{path}：{status}，页面中没有 CSRF 令牌")
        return match.group(1), body

    def post(self, path: str, fields: dict[str, str], token: str) -> tuple[int, str]:
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        return self.request(path, data, {"Content-Type": "application/x-www-form-urlencoded"})

    def login(self, username: str, password: str) -> None:
        token = self.csrf("/login/")
        status, _ = self.post("/login/", {"username": username, "password": password}, token)
        if status != 200 or not any(c.name == "sessionid" for c in self.jar):
            raise RuntimeError(f"{username} 登录失败：{status}")

    def upload(self, path: str, fields: dict[str, str], file: Path, token: str) -> tuple[int, str]:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in {**fields, "csrfmiddlewaretoken": token}.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file.name}"\r\n'
            "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n".encode()
            + file.read_bytes()
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(
            path, b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )


@dataclass
class Tally:
    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, problem: str = "") -> None:
        with self.lock:
            if problem:
                self.failures.append(problem)
            else:
                self.times.append(seconds)

    def summary(self, wall: float) -> dict[str, Any]:
        times = sorted(self.times)
        q = statistics.quantiles(times, n=20) if len(times) >= 20 else [float("nan")] * 19
        return {
            "ok": len(times),
            "failed": len(self.failures),
            "per_s": len(times) / wall,
            "p50_ms": (statistics.median(times) if times else float("nan")) * 1000,
            "p95_ms": q[18] * 1000,
            "first_failure": self.failures[0][:200] if self.failures else "",
        }


# --- the phases ------------------------------------------------------------------------------------------------


def _import_in_background(base: str, file: Path, outcome: dict[str, Any]) -> threading.Thread:
    """Upload a 100k-row file on the import page as the district's admin; note how long it took and its answer."""

    def go() -> None:
        s = Session(base)
        s.login("qwb", DEMO_PASSWORD)
        token = s.csrf("/ledgers/study_activity/import")
        started = time.perf_counter()
        status, body = s.upload("/ledgers/study_activity/import", {"org": "demo"}, file, token)
        outcome["seconds"] = time.perf_counter() - started
        outcome["status"] = status
        outcome["imported"] = status == 200 and "导入成功" in body

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


def _clerks(base: str, seconds: float, import_file: Path) -> dict[str, Any]:
    sessions = []
    for i in range(CLERKS):
        s = Session(base)
        s.login(f"bench{i:02d}", PASSWORD)
        token, page = s.form("/ledgers/study_activity/new")
        unit = SELECTED.search(page)  # a clerk of one unit finds it chosen already
        if unit is None:
            raise RuntimeError("新增记录页面中没有预选的填报单位")
        sessions.append((s, token, unit.group(1)))
    tally = Tally()
    saved = [0] * CLERKS
    stop = time.perf_counter() + seconds
    outcome: dict[str, Any] = {}

    def clerk(n: int) -> None:
        s, token, unit = sessions[n]
        while time.perf_counter() < stop:
            fields = {
                "reporting_org": unit,
                "date": "2019-06-01",
                "kind": "专题报告",
                "title": f"并发保存测试{n:02d}-{saved[n]:05d}",
                "participants": "12",
            }
            started = time.perf_counter()
            status, body = s.post("/ledgers/study_activity/new", fields, token)
            if status == 200 and "记录已保存" in body:
                saved[n] += 1
                tally.add(time.perf_counter() - started)
            else:
                tally.add(0, f"{status} {' '.join(body.split())[:160]}")

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(CLERKS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(min(10, seconds / 4))
    importer = _import_in_background(base, import_file, outcome)
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    importer.join()
    result = tally.summary(wall)
    result.update(
        import_seconds=outcome.get("seconds", float("nan")),
        import_status=outcome.get("status"),
        imported=outcome.get("imported", False),
    )
    result["answered"] = sum(saved)
    return result


def _readers(
    base: str, seconds: float, import_file: Path | None, pause: float = 0.0, api_token: str = ""
) -> dict[str, Any]:
    """READERS readers of the 100k-record ledger: web pages in a browser session, or (api_token) the API's records
    list with a bearer token, 50 records a page either way."""
    sessions = []
    for _ in range(READERS):
        s = Session(base)
        if not api_token:
            s.login(VIEWER, DEMO_PASSWORD)
        sessions.append(s)
    headers = {"Authorization": f"Bearer {api_token}"} if api_token else None
    expected = '"results"' if api_token else "学习教育活动台账"

    def url(page: int) -> str:
        if api_token:
            return f"/api/ledgers/study_activity/records?page={page}&page_size=50"
        return f"/ledgers/study_activity/?page={page}"

    tally = Tally()
    stop = time.perf_counter() + seconds
    outcome: dict[str, Any] = {}

    def reader(n: int) -> None:
        # People don't turn pages in step: each reader starts at a random moment within one pause and reads each
        # page for 0.5–1.5 pauses (seeded, so runs compare). In lockstep, 20 requests arrived in the same
        # millisecond every second and the last waited for the 19 before it on 2 cores.
        rng = random.Random(n)
        time.sleep(rng.uniform(0, pause))
        page = 1 + n
        while time.perf_counter() < stop:
            started = time.perf_counter()
            status, body = sessions[n].request(url(page), headers=headers)
            if status == 200 and expected in body:
                tally.add(time.perf_counter() - started)
            else:
                tally.add(0, f"{status} {body[:160]}")
            page = (page * 7 + 13) % 2000 + 1  # spread over the first 100,000 rows
            time.sleep(pause * rng.uniform(0.5, 1.5))  # a person reads the page before turning to the next

    importer = _import_in_background(base, import_file, outcome) if import_file else None
    if importer:
        time.sleep(2)
    threads = [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if importer:
        importer.join()
    result = tally.summary(wall)
    result.update(
        import_seconds=outcome.get("seconds", float("nan")),
        import_status=outcome.get("status"),
        imported=outcome.get("imported", False),
    )
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(base: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(120):
        if proc.poll() is not None:
            raise RuntimeError("服务进程已退出")
        try:
            urllib.request.urlopen(base + "/login/", timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("服务未能启动")


def _count_saved(env: dict[str, str]) -> int:
    code = (
        "import django;django.setup();from dangjian.records.models import Record;"
        "print(Record.objects.filter(values__title__startswith='并发保存测试').count())"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def _scratch_database(url: str) -> tuple[str, Any]:
    """A fresh PostgreSQL database beside the one `url` names, and a function that drops it."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = f"dangjian_bench_load_{os.getpid()}"
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}")), drop


def _one_database(label: str, url: str, clerk_seconds: float, reader_seconds: float) -> dict[str, Any]:
    drop = None
    if url:
        url, drop = _scratch_database(url)
    try:
        return _measure(label, url, clerk_seconds, reader_seconds)
    finally:
        if drop:
            drop()


def _measure(label: str, url: str, clerk_seconds: float, reader_seconds: float) -> dict[str, Any]:
    from bench.bench_import import _make_file

    with tempfile.TemporaryDirectory(prefix="dangjian-bench-load-") as tmp:
        env = {**os.environ, "DANGJIAN_DATA_DIR": tmp, "DJANGO_SETTINGS_MODULE": "dangjian.settings"}
        env.pop("DANGJIAN_DATABASE_URL", None)
        if url:
            env["DANGJIAN_DATABASE_URL"] = url
        dangjian = str(Path(sys.executable).with_name("dangjian"))
        subprocess.run([dangjian, "init", "--demo"], env=env, check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "bench.bench_concurrency", "prepare"], env=env, check=True)
        files = []
        for n in range(2):
            path = Path(tmp) / f"import{n}.xlsx"
            _make_file(path, IMPORT_ROWS, title=f"并发导入{n}-第{{}}期")
            files.append(path)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server_log = (Path(tmp) / "serve.log").open("wb")
        server = subprocess.Popen(
            [dangjian, "serve", "--port", str(port)],  # default workers and threads, as deployed
            env=env,
            stdout=subprocess.DEVNULL,
            # A file, not a pipe: nobody reads a pipe while the bench runs, and once its 64 KB fill up every worker
            # blocks on its next log line (waitress warns about queue depth under load).
            stderr=server_log,
        )
        try:
            _wait(base, server)
            # The machine's 1-minute load before each phase (printed, not tabled): others' work on the same 2 cores
            # shows up in every time measured here.
            load = os.getloadavg()[0]
            clerks = _clerks(base, clerk_seconds, files[0])
            clerks["stored"] = _count_saved(env)
            clerks["lost"] = clerks["answered"] - clerks["stored"]
            clerks["load_before"], load = load, os.getloadavg()[0]
            alone = _readers(base, reader_seconds, None, READER_PAUSE)
            alone["load_before"], load = load, os.getloadavg()[0]
            with_import = _readers(base, reader_seconds, files[1], READER_PAUSE)
            with_import["load_before"], load = load, os.getloadavg()[0]
            token = (Path(tmp) / "bench_token").read_text().strip()
            api = _readers(base, reader_seconds, None, READER_PAUSE, api_token=token)
            api["load_before"] = load
        finally:
            server.terminate()
            server.wait(timeout=30)
            server_log.close()
            log = (Path(tmp) / "serve.log").read_text(errors="replace")
            print(f"{label}: waitress queue-depth warnings: {log.count('Task queue depth')}", flush=True)
            errors = [line for line in log.splitlines() if "Error" in line or "Exception" in line]
            for line in errors[:20]:  # what answered 500, if anything did
                print(f"{label}: server: {line[:300]}", flush=True)
    return {"database": label, "clerks": clerks, "readers": alone, "readers_import": with_import, "api": api}


def _default_workers() -> int:
    from dangjian.web.server import default_workers

    return default_workers()


def _imported(r: dict[str, Any]) -> str:
    done = f"写入 {IMPORT_ROWS} 条" if r.get("imported") else "未写入"
    return f"{r['import_seconds']:.0f} s，HTTP {r['import_status']}，{done}"


def _table(results: list[dict[str, Any]], machine: dict[str, str], clerk_s: float, reader_s: float) -> str:
    lines = [
        START,
        "## 并发（bench_concurrency）",
        "",
        "命令：`python -m bench concurrency`（PostgreSQL 另设 `DANGJIAN_BENCH_PG`）。`dangjian init --demo` 后加",
        f"{CLERKS} 个填报员账号和一个 {LEDGER_RECORDS} 条记录的学习教育活动台账，用 `dangjian serve`（waitress，默认 "
        f"{_default_workers()} 个工作进程、每个 8 线程）",
        f"在本机提供服务，由另一进程经 HTTP 访问：{CLERKS} 个填报员各自登录、连续保存记录 {clerk_s:.0f} 秒，其间区委办",
        f"管理员在导入页上传 {IMPORT_ROWS} 行的 Excel；随后 {READERS} 个查看者翻阅该台账 {reader_s:.0f} 秒（每页 50 条，",
        f"每页平均看 {READER_PAUSE:g} 秒（{READER_PAUSE * 0.5:g}–{READER_PAUSE * 1.5:g} 秒随机）再翻下一页，各人开始时刻错开），",
        "先单独、再与另一次 10 万行导入同时；最后 20 个接口客户端以令牌读取 `/api/` 的记录列表（每页 50 条）。",
        "",
        f"机器：{machine['cpus']} 核（`nproc`），{machine['cpu']}；Python {machine['python']}，"
        f"SQLite {machine['sqlite']}，Django {machine['django']}；{machine['os']}。服务与压测进程共用这 2 核。",
        "",
        "| 数据库 | 场景 | 成功请求 | 失败请求 | 每秒 | p50 | p95 | 丢失的保存 | 同时进行的导入 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        c, a, b, api = r["clerks"], r["readers"], r["readers_import"], r["api"]
        lines.append(
            f"| {r['database']} | {CLERKS} 人保存 | {c['ok']} | {c['failed']} | {c['per_s']:.1f} | {c['p50_ms']:.0f} ms "
            f"| {c['p95_ms']:.0f} ms | {c['lost']} | {_imported(c)} |"
        )
        lines.append(
            f"| {r['database']} | {READERS} 人翻页 | {a['ok']} | {a['failed']} | {a['per_s']:.1f} | {a['p50_ms']:.0f} ms "
            f"| {a['p95_ms']:.0f} ms | — | 无 |"
        )
        lines.append(
            f"| {r['database']} | {READERS} 人翻页 + 导入 | {b['ok']} | {b['failed']} | {b['per_s']:.1f} "
            f"| {b['p50_ms']:.0f} ms | {b['p95_ms']:.0f} ms | — | {_imported(b)} |"
        )
        lines.append(
            f"| {r['database']} | {READERS} 个接口客户端 | {api['ok']} | {api['failed']} | {api['per_s']:.1f} "
            f"| {api['p50_ms']:.0f} ms | {api['p95_ms']:.0f} ms | — | 无 |"
        )
    lines.append(END)
    return "\n".join(lines)


def run() -> list[dict[str, Any]]:
    clerk_s = float(os.environ.get("BENCH_CLERK_SECONDS", "120"))
    reader_s = float(os.environ.get("BENCH_READER_SECONDS", "30"))
    targets = [("SQLite", "")]
    if os.environ.get("DANGJIAN_BENCH_PG"):
        targets.append(("PostgreSQL", os.environ["DANGJIAN_BENCH_PG"]))
    # BENCH_ONLY=sqlite or postgresql: one database, while iterating
    only = os.environ.get("BENCH_ONLY", "").strip().lower()
    if only:
        targets = [t for t in targets if t[0].lower() == only]
        if not targets:
            raise SystemExit(f"BENCH_ONLY={only}：没有这个数据库（PostgreSQL 还需设 DANGJIAN_BENCH_PG）")
    results = []
    for label, url in targets:
        r = _one_database(label, url, clerk_s, reader_s)
        results.append(r)
        for key in ("clerks", "readers", "readers_import", "api"):
            print(label, key, {k: v for k, v in r[key].items()}, flush=True)
    if only:
        print("BENCH_ONLY: docs/benchmarks.md left as it is (its table shows both databases)", flush=True)
    else:
        table = _table(results, _machine(), clerk_s, reader_s)
        _write_doc(table.replace(END, _kept_note() + END), START, END)
    return results


def _kept_note() -> str:
    """The hand-written reading below the table (what changed, what the numbers mean): kept across runs."""
    from bench.bench_indicators import DOC

    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if START not in text or END not in text:
        return ""
    section = text.split(START, 1)[1].split(END, 1)[0]
    lines = section.split("\n")
    last_row = max((i for i, line in enumerate(lines) if line.startswith("|")), default=-1)
    note = "\n".join(lines[last_row + 1 :]).strip("\n")
    return f"\n{note}\n" if note else ""


if __name__ == "__main__":
    if sys.argv[1:] == ["prepare"]:
        prepare()
