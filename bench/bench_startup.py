"""Benchmark: a command's start-up — the time before it does any work — on SQLite and (with DANGJIAN_BENCH_PG) on
PostgreSQL, in one run.

Each measurement is a fresh `python` child process (the interpreter's own start-up included), the median of
REPEAT runs:
- `python -c pass`: the interpreter alone, the floor;
- `dangjian --help`: argument parsing, Django not set up;
- start-up as commands had it before this bench (issue 14): Django set up with the task rules and the 清单 panel
  imported by the apps' ready(), the whole site's URLconf loaded to reverse an evidence link, a database
  connection;
- start-up as commands have it now: the same, with the task rules and panel imported on first use and the links
  resolved against `dangjian.cli_urls`;
- the whole `dangjian report --template seed2019 --org demo --year 2019 --format txt` on the small demo (scale S),
  to show what the start-up is a part of.
The table is written into docs/benchmarks.md between this bench's markers.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_indicators import _machine, _write_doc

REPEAT = 7
ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench_startup:start -->", "<!-- bench_startup:end -->"

SETUP = """
import os, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
import django
django.setup()
from django.db import connection
from django.urls import reverse, set_urlconf
"""
BEFORE = (
    SETUP
    + """
import dangjian.tasks.collection, dangjian.lists.views  # what the apps' ready() imported
reverse("indicators:evidence")  # against the whole site
connection.ensure_connection()
"""
)
NOW = (
    SETUP
    + """
set_urlconf("dangjian.cli_urls")
reverse("indicators:evidence")
connection.ensure_connection()
import sys
assert "ninja" not in sys.modules and "dangjian.tasks.collection" not in sys.modules, "a heavy module is back"
"""
)


def _median(command: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _database(label: str, url: str | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="dangjian-bench-startup-") as data_dir:
        env = {k: v for k, v in os.environ.items() if k != "DANGJIAN_DATABASE_URL"}
        env["DANGJIAN_DATA_DIR"] = data_dir
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")])
        )
        if url:
            env["DANGJIAN_DATABASE_URL"] = url
        cli = [sys.executable, "-m", "dangjian"]
        subprocess.run([*cli, "init", "--demo"], cwd=ROOT, env=env, check=True, capture_output=True)
        report = [
            *cli,
            "report",
            "--template",
            "seed2019",
            "--org",
            "demo",
            "--year",
            "2019",
            "--format",
            "txt",
        ]
        return {
            "db": label,
            "python": _median([sys.executable, "-c", "pass"], env),
            "help": _median([*cli, "--help"], env),
            "before": _median([sys.executable, "-c", BEFORE], env),
            "now": _median([sys.executable, "-c", NOW], env),
            "report": _median([*report, "-o", str(Path(data_dir) / "r.txt")], env),
        }


def _fresh_pg(url: str) -> str:
    """A new, empty database beside the one the URL names (dropped again after the run)."""
    import psycopg

    name = f"dangjian_bench_startup_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


def _drop_pg(url: str, fresh: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{fresh.rsplit("/", 1)[1]}" WITH (FORCE)')


def run() -> None:
    results = [_database("SQLite", None)]
    pg = os.environ.get("DANGJIAN_BENCH_PG")
    if pg:
        fresh = _fresh_pg(pg)
        try:
            results.append(_database("PostgreSQL", fresh))
        finally:
            _drop_pg(pg, fresh)
    machine = _machine()
    lines = [
        START,
        "## 命令启动（bench_startup）",
        "",
        "命令：`python -m bench startup`（设了 `DANGJIAN_BENCH_PG=postgres://…` 时同一次运行也测 PostgreSQL）。每项是新起的",
        f"`python` 子进程（含解释器自身的启动），{REPEAT} 次取中位数；示范数据为 S 规模。“以前的启动”在同一份代码上",
        "重现改动前的做法：各应用的 ready() 导入填报任务规则和清单面板，为写出佐证链接载入整个网站的 URL 配置；",
        "“现在的启动”：这些在第一次用到时才导入，链接按 `dangjian.cli_urls` 解析（只含命令会写出的链接）。",
        "",
        f"机器：{machine['cpus']} 核，{machine['cpu']}；Python {machine['python']}，Django {machine['django']}；{machine['os']}。",
        "",
        "| 数据库 | python -c pass | dangjian --help | 以前的启动 | 现在的启动 | 现在/以前 | 整个 report 命令（S） |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['db']} | {r['python'] * 1000:.0f} ms | {r['help'] * 1000:.0f} ms | {r['before'] * 1000:.0f} ms "
            f"| {r['now'] * 1000:.0f} ms | {r['now'] / r['before']:.2f} | {r['report']:.2f} s |"  # type: ignore[operator]
        )
    lines.append(END)
    section = "\n".join(lines)
    print(section)
    _write_doc(section, START, END)
