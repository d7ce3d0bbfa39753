"""Benchmark (PostgreSQL only, with DANGJIAN_BENCH_PG): the shape of the compiled ledger query when the planner's
statistics are stale, as right after a bulk load before ANALYZE or autovacuum has run — and after ANALYZE.

Two shapes of the org-subtree condition are compared in one run, on one database per scale:
- `join`: records joined to the org table, `path LIKE '0001%'` (the shape before issue 14, and SQLite's today);
- `ids`: the subtree's ids asked for first, records filtered with `org_id = ANY(%s)` (PostgreSQL's today).
The demo district is generated with the write path's own ANALYZE switched off (this machine's autovacuum is off,
so nothing else analyses), then every indicator is evaluated for the district, 2019 (first run and best of
REPEAT), and the largest ledger's compiled query is EXPLAIN ANALYZEd; then ANALYZE, and the same again.
Results and the two plans (stale statistics) go into docs/benchmarks.md between this bench's markers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPEAT = 3
ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench_query_shape:start -->", "<!-- bench_query_shape:end -->"
SHAPES = ("join", "ids")


def child(scale: str) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Q
    from django.test.utils import CaptureQueriesContext

    from dangjian.demo.generator import build_demo
    from dangjian.indicators import compiler
    from dangjian.indicators.engine import Period, evaluate
    from dangjian.orgs.models import Organization
    from dangjian.packs.loader import load_all
    from dangjian.records import services
    from dangjian.records.models import Record

    call_command("migrate", interactive=False, verbosity=0)
    load_all()
    services.refresh_statistics = lambda **kwargs: None  # type: ignore[assignment]  # stale, as after a load
    started = time.perf_counter()
    build_demo(scale=scale, seed=2019)
    load_s = time.perf_counter() - started
    ids_shape = compiler.subtree_q

    def join_shape(org: Organization) -> Q:
        return Q(org__path__startswith=org.path)

    period = Period.year(2019)
    biggest = (
        Record.objects.values("ledger_type")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("ledger_type", flat=True)
    )[0]
    out: dict[str, Any] = {"scale": scale, "records": Record.objects.count(), "load_s": load_s, "runs": []}
    for stats in ("stale", "analysed"):
        if stats == "analysed":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        for shape in SHAPES:
            compiler.subtree_q = join_shape if shape == "join" else ids_shape  # type: ignore[assignment]
            fresh = Organization.objects.get(code="demo")  # no subtree ids kept from another shape
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                evaluate(fresh, period)
            first = time.perf_counter() - started
            best = float("inf")
            for _ in range(REPEAT):
                fresh = Organization.objects.get(code="demo")
                started = time.perf_counter()
                evaluate(fresh, period)
                best = min(best, time.perf_counter() - started)
            big = max(
                (q["sql"] for q in ctx.captured_queries if f'ledger_type_id" = {biggest}' in q["sql"]),
                key=len,
                default="",
            )
            plan = ""
            if big:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, COSTS ON, TIMING OFF, SUMMARY ON) " + big)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
            out["runs"].append(
                {"stats": stats, "shape": shape, "first_s": first, "best_s": best, "plan": plan}
            )
    return out


def _plan_excerpt(plan: str, lines: int = 14) -> str:
    """The plan's outline: node lines (with their row estimates against actual rows), not every filter."""
    kept = [ln for ln in plan.splitlines() if "->" in ln or not ln.startswith(" ") or "Execution Time" in ln]
    return "\n".join(kept[:lines])


def run() -> None:
    from bench import databases
    from bench import scales as wanted_scales
    from bench.bench_indicators import _machine, _write_doc

    if not os.environ.get("DANGJIAN_BENCH_PG"):
        print("bench_query_shape：只在 PostgreSQL 上有意义，未设 DANGJIAN_BENCH_PG，跳过")
        return
    results = []
    for scale in wanted_scales():
        with databases.fresh(databases.POSTGRESQL, f"bench-shape-{scale}") as overrides:
            done = subprocess.run(
                [sys.executable, "-m", "bench.bench_query_shape", "--child", scale],
                cwd=ROOT, env=databases.child_env(overrides, str(ROOT)), capture_output=True, text=True,
            )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"规模 {scale} 失败：\n{done.stderr[-3000:]}")
        r = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(r)
        for run_ in r["runs"]:
            print(
                f"规模 {scale}，统计信息{run_['stats']}，{run_['shape']}：第一次 {run_['first_s']:.2f} s，"
                f"最快 {run_['best_s']:.2f} s",
                flush=True,
            )
    machine = _machine()
    label = {"stale": "过时（载入后未 ANALYZE）", "analysed": "ANALYZE 之后"}
    shape_label = {"join": "联表（org.path LIKE）", "ids": "先取下级 id（org_id = ANY）"}
    lines = [
        START,
        "## 组织范围条件的两种写法（bench_query_shape，PostgreSQL）",
        "",
        "命令：`DANGJIAN_BENCH_PG=postgres://postgres@127.0.0.1:5432/postgres BENCH_SCALES=S,M python -m bench query_shape`。",
        "每个规模一个新建的 PostgreSQL 数据库，生成示范数据时关闭写入服务自带的 ANALYZE（本机 autovacuum 关闭，",
        "统计信息因此停留在“表几乎是空的”），在同一次运行中比较两种写法：为示范区 2019 年度计算全部指标（第一次，",
        f"及其后 {REPEAT} 次中最快的一次），并对记录最多的台账的合并查询做 EXPLAIN ANALYZE；然后 ANALYZE，再比较一次。",
        "",
        f"机器：{machine['cpus']} 核，{machine['cpu']}；Python {machine['python']}，Django {machine['django']}。",
        "",
        "| 规模 | 台账记录 | 统计信息 | 写法 | 全部指标（第一次） | 全部指标（最快） | 最大台账查询（EXPLAIN ANALYZE） |",
        "|---|---:|---|---|---:|---:|---:|",
    ]
    for r in results:
        for run_ in r["runs"]:
            executed = next(
                (ln.split(":", 1)[1].strip() for ln in run_["plan"].splitlines() if "Execution Time" in ln),
                "—",
            )
            lines.append(
                f"| {r['scale']} | {r['records']} | {label[run_['stats']]} | {shape_label[run_['shape']]} "
                f"| {run_['first_s']:.2f} s | {run_['best_s']:.2f} s | {executed} |"
            )
    biggest = results[-1]
    for run_ in biggest["runs"]:
        if run_["stats"] == "stale":
            lines += [
                "",
                f"规模 {biggest['scale']}、统计信息过时时，{shape_label[run_['shape']]}的计划（节点行）：",
                "",
                "```",
                _plan_excerpt(run_["plan"]),
                "```",
            ]
    lines.append(END)
    section = "\n".join(lines)
    print(section)
    _write_doc(section, START, END)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2]), ensure_ascii=False))
    else:
        run()
