"""Benchmark: evaluating every indicator for the demo district (org `demo`, 2019, with 上年 values), batched
(one query per ledger) against one query per indicator, at the scales BENCH_SCALES names (S and M by default; L on request).

Each scale runs in a subprocess with its own fresh SQLite database in a temporary DANGJIAN_DATA_DIR (Django's
settings are read once per process, so the variable is set before django.setup()). The child runs
`dangjian init --demo --scale S|M|L`, then times both evaluations (best of REPEAT) and the seed report
(bench_report.measure, handed to bench_report so that a scale is built once), and prints one JSON line.
The parent prints the table and writes it into docs/benchmarks.md between this bench's markers.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPEAT = 3
ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench_indicators:start -->", "<!-- bench_indicators:end -->"


def _best(fn: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def child(scale: str) -> dict[str, Any]:
    """In a fresh process whose DANGJIAN_DATA_DIR points at an empty temp dir."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dangjian.cli import main as dangjian
    from dangjian.indicators import compiler
    from dangjian.indicators.engine import Period, evaluate, evaluate_per_indicator
    from dangjian.indicators.models import Indicator
    from dangjian.orgs.models import Organization
    from dangjian.records.models import Record

    started = time.perf_counter()
    dangjian(["init", "--demo", "--scale", scale])
    init_s = time.perf_counter() - started
    org = Organization.objects.get(code="demo")
    period = Period.year(2019)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as batched_queries:
        evaluate(org, period)  # the first run right after the load: what a district meets after an import
    first_s = time.perf_counter() - started
    with CaptureQueriesContext(connection) as naive_queries:
        evaluate_per_indicator(org, period)
    batched_s, batched = _best(lambda: evaluate(org, period))
    naive_s, naive = _best(lambda: evaluate_per_indicator(org, period))
    from bench import bench_report

    report = bench_report.measure(scale)  # the same database: building a scale once serves both benches
    return {
        "report": report,
        "scale": scale,
        "db": "PostgreSQL" if connection.vendor == "postgresql" else "SQLite",
        "first_s": first_s,
        "records": Record.objects.filter(is_deleted=False).count(),
        "orgs": Organization.objects.count(),
        "indicators": Indicator.objects.count(),
        "aggregates": Indicator.objects.filter(kind="aggregate").count(),
        "ledgers": Indicator.objects.filter(kind="aggregate").values("ledger").distinct().count(),
        "values": len(batched),
        "same_values": batched == naive,
        "init_s": init_s,
        "batched_s": batched_s,
        "naive_s": naive_s,
        "batched_queries": len(compiler.questions(batched_queries.captured_queries)),
        "naive_queries": len(compiler.questions(naive_queries.captured_queries)),
    }


def _machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import django

    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "django": django.get_version(),
        "os": platform.platform(),
    }


def _measure(scale: str, db: str) -> dict[str, Any]:
    from bench import databases

    with databases.fresh(db, f"bench-{scale}") as overrides:
        out = subprocess.run(
            [sys.executable, "-m", "bench.bench_indicators", "--child", scale],
            cwd=ROOT, env=databases.child_env(overrides, str(ROOT)), capture_output=True, text=True, check=False,
        )  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"规模 {scale}（{db}）的基准测试失败：\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def _table(results: list[dict[str, Any]], machine: dict[str, str]) -> str:
    lines = [
        START,
        "## 指标计算（bench_indicators）",
        "",
        "命令：`make bench`（即 `python -m bench`；只跑本项：`python -m bench indicators`；省级规模："
        f"`BENCH_SCALES={','.join(dict.fromkeys(r['scale'] for r in results))} make bench`；设了 "
        "`DANGJIAN_BENCH_PG=postgres://…` 时同一次运行也测 PostgreSQL）。每个规模、每种数据库在新建的空数据库中运行",
        f"`dangjian init --demo --scale {'|'.join(dict.fromkeys(r['scale'] for r in results))}`，"
        "然后为示范区（`demo`）2019 年度计算全部指标",
        "（含“上年”值）：“载入后第一次”为生成数据后紧接着的第一次计算（导入大量数据后打开报告的情形），"
        "按台账合并为一条查询（本系统的做法）与每个指标一条查询（对照）各取其后 "
        f"{REPEAT} 次中最快的一次。",
        "",
        f"机器：{machine['cpus']} 核（`nproc`），{machine['cpu']}；Python {machine['python']}，"
        f"SQLite {machine['sqlite']}，Django {machine['django']}；{machine['os']}。",
        "",
        "| 规模 | 数据库 | 组织 | 台账记录 | 指标（台账汇总/台账数） | 得到的值 | 载入后第一次 | 合并查询 | 每指标一查询 | 倍数 | 结果一致 |",
        "|---|---|---:|---:|---|---:|---:|---|---|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['scale']} | {r.get('db', 'SQLite')} | {r['orgs']} | {r['records']} "
            f"| {r['indicators']}（{r['aggregates']}/{r['ledgers']}） "
            f"| {r['values']} | {r['first_s'] * 1000:.0f} ms | {r['batched_s'] * 1000:.0f} ms，{r['batched_queries']} 条查询 "
            f"| {r['naive_s'] * 1000:.0f} ms，{r['naive_queries']} 条查询 | {r['naive_s'] / r['batched_s']:.1f}× "
            f"| {'是' if r['same_values'] else '否'} |"
        )
    lines += [
        "",
        "（生成示范数据："
        + "，".join(f"{r['scale']}（{r.get('db', 'SQLite')}）{r['init_s']:.0f} 秒" for r in results)
        + "。）",
        END,
    ]
    return "\n".join(lines)


def _write_doc(section: str, start: str = START, end: str = END) -> None:
    """Replace the section between a bench's markers in docs/benchmarks.md (other benches use it too)."""
    text = (
        DOC.read_text(encoding="utf-8")
        if DOC.exists()
        else "# 性能基准\n\n`make bench` 的结果，由基准程序写入。\n"
    )
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")


def run(scales: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    from bench import scales as wanted_scales

    scales = scales or wanted_scales()
    from bench import bench_report, databases

    results = []
    for scale in scales:
        for db in databases.labels():
            r = _measure(scale, db)
            results.append(r)
            bench_report.MEASURED[(scale, db)] = r["report"]
            print(
                f"指标 规模 {scale}（{db}）：载入后第一次 {r['first_s'] * 1000:.0f} ms；记录 {r['records']} 条，指标 {r['indicators']} 个，值 {r['values']} 个；"
                f"合并 {r['batched_s'] * 1000:.0f} ms（{r['batched_queries']} 条查询），"
                f"每指标一查询 {r['naive_s'] * 1000:.0f} ms（{r['naive_queries']} 条查询），"
                f"倍数 {r['naive_s'] / r['batched_s']:.1f}×，结果{'一致' if r['same_values'] else '不一致'}",
                flush=True,
            )
    _write_doc(_table(results, _machine()))
    return results


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2]), ensure_ascii=False))
    else:
        run()
