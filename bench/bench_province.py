"""Benchmark (PostgreSQL only, with DANGJIAN_BENCH_PG): the seed report at a province (issue 14).

For each scale of BENCH_PROVINCE_SCALES (default "M,L,P"; P is about 5 million records: scale M with its units
cloned 32 times on the database server, see dangjian/demo/province.py) one PostgreSQL database
`<BENCH_DB_PREFIX>dangjian_province_<scale>` holds the demo district. It is built once (`dangjian init --demo
--scale X` in a niced child, its time and peak memory measured) and kept, so a second run measures again without
generating 5 million records again; BENCH_PROVINCE_DROP=1 drops the databases at the end.

Measured per scale:
- the whole command, `dangjian report --template seed2019 --org demo --year 2019` (a new process: start-up, every
  indicator, the .docx), twice in a row, wall time and peak RSS (`/usr/bin/time -v`);
- the records the report reads (dated 2019, and 2018 for the 上年 values);
- in one process: the report's text with and without rolling up (`compiler.ROLL_UP`); the time of each ledger's
  compiled query (`compiler.compute`); for the SCALED_LEDGERS ledgers whose queries take longest, the same query
  with their indicators doubled and quadrupled, in each of the four ways (WAYS), with copies that test new
  conditions and copies that only recombine the ledger's own (`_multiplied`); the slowest query's EXPLAIN
  (ANALYZE, BUFFERS);
- the memory settings (shared_buffers, work_mem, parallel workers) and the disk: pg_database_size and the largest
  tables with their indexes.
The machine's load (`uptime`) is noted beside each figure. Results go into docs/benchmarks.md between the markers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_report import (
    REPEAT,
    _best,  # the fastest of REPEAT runs, in seconds
)

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench_province:start -->", "<!-- bench_province:end -->"
REPORT = ["report", "--template", "seed2019", "--org", "demo", "--year", "2019"]
# The ledgers whose queries take longest, measured with their indicators doubled and quadrupled.
SCALED_LEDGERS = 3
# The ways of building a ledger's query: (read each field once, roll up); compiler.READ_ONCE and ROLL_UP.
WAYS = ((False, False), (True, False), (False, True), (True, True))
WAY_LABELS = {
    (False, False): "各个汇总逐条记录，条件处读字段",
    (True, False): "各个汇总逐条记录，字段只读一次",
    (False, True): "按条件分组汇总，条件处读字段",
    (True, True): "按条件分组汇总，字段只读一次",
}


def _load() -> str:
    return "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())


def _timed(argv: list[str], env: dict[str, str], *, nice: int = 0) -> dict[str, Any]:
    """Run a command under /usr/bin/time -v: its wall time, peak RSS and the load when it started."""
    load = _load()
    prefix = ["nice", "-n", str(nice)] if nice else []
    started = time.perf_counter()
    out = subprocess.run(
        [*prefix, "/usr/bin/time", "-v", *argv], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )  # fmt: skip
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} 失败：\n{out.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
    return {"s": wall, "rss_mb": int(rss.group(1)) / 1024 if rss else None, "load": load}


def child() -> dict[str, Any]:
    """In a process whose DANGJIAN_DATABASE_URL names a database holding the demo district."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from dangjian.indicators import compiler
    from dangjian.indicators.engine import Period, evaluate
    from dangjian.orgs.models import Organization
    from dangjian.records.models import LedgerType, Record

    org = Organization.objects.get(code="demo")
    period = Period.year(2019)
    alive = Record.objects.filter(is_deleted=False)
    result: dict[str, Any] = {
        "records": alive.count(),
        "orgs": Organization.objects.count(),
        "period_records": alive.filter(date__year=2019).count(),
        "previous_records": alive.filter(date__year=2018).count(),
    }

    # Each ledger's compiled query, timed inside one evaluation of every indicator (2019 and 上年).
    timings: dict[int, list[float]] = {}
    items_of: dict[int, list[Any]] = {}
    compute = compiler.compute

    def timed_compute(ledger: LedgerType, org: Organization, items: Any) -> Any:
        started = time.perf_counter()
        try:
            return compute(ledger, org, items)
        finally:
            timings.setdefault(ledger.pk, []).append(time.perf_counter() - started)
            items_of[ledger.pk] = list(items)

    compiler.compute = timed_compute  # type: ignore[assignment]
    try:
        evaluate(org, period)  # warm: the org subtree, the definitions
        timings.clear()
        started = time.perf_counter()
        evaluate(org, period)
        result["evaluate_s"] = time.perf_counter() - started
    finally:
        compiler.compute = compute  # type: ignore[assignment]
    ledgers = {lt.pk: lt for lt in LedgerType.objects.filter(pk__in=timings)}
    in_range = {
        row["ledger_type"]: row["n"]
        for row in alive.filter(date__year__in=(2018, 2019))
        .values("ledger_type")
        .annotate(n=Count("pk"))
        .order_by()
    }
    per_ledger = sorted(
        (
            {
                "ledger": ledgers[pk].code,
                "label": ledgers[pk].label,
                "s": sum(t),
                "items": len(items_of[pk]),
                "records": in_range.get(pk, 0),
            }
            for pk, t in timings.items()
        ),
        key=lambda r: -r["s"],
    )
    result["ledgers"] = per_ledger
    result["ledger_queries_s"] = sum(r["s"] for r in per_ledger)

    # The slowest ledgers, their indicators doubled and quadrupled, in each way of building the query. Copies of two
    # kinds: each with a condition no other item has ("new"), or each joining its conditions to another item's
    # ("shared": more indicators, no condition the ledger does not already test).
    result["doubling"] = []
    kept = compiler.READ_ONCE, compiler.READ_ONCE_MIN_USES, compiler.ROLL_UP
    compiler.READ_ONCE_MIN_USES = 0  # read once whatever the uses per field, to compare the ways
    for row in per_ledger[:SCALED_LEDGERS]:
        pk = next(pk for pk, lt in ledgers.items() if lt.code == row["ledger"])
        ledger, items = ledgers[pk], items_of[pk]
        for read_once, roll_up in WAYS:
            compiler.READ_ONCE, compiler.ROLL_UP = read_once, roll_up
            measured: dict[str, Any] = {
                "ledger": ledger.code, "label": ledger.label, "items": len(items),
                "read_once": read_once, "roll_up": roll_up, "load": _load(),
            }  # fmt: skip
            for copies in ("new", "shared"):
                for times in (1, 2, 4):
                    these = _multiplied(ledger, items, times, copies)
                    with CaptureQueriesContext(connection) as queries:
                        compute(ledger, org, these)
                    measured[f"{copies}{times}"] = {
                        "items": len(these),
                        "aggregates": _aggregates(queries.captured_queries),
                        "s": _best(lambda lt=ledger, these=these: compute(lt, org, these)),
                    }
            result["doubling"].append(measured)
    compiler.READ_ONCE, compiler.READ_ONCE_MIN_USES, compiler.ROLL_UP = kept
    # The report itself in this process (no start-up): every indicator and the text, best of REPEAT.
    from dangjian.reports import values as sources
    from dangjian.reports.models import ReportTemplate
    from dangjian.reports.templating import render

    template = ReportTemplate.objects.get(key="seed2019")
    result["render_s"] = _best(lambda: render(template, org, sources.period_for_year(2019)))
    # The same without rolling up (each aggregate over the records, the way before), in this run.
    compiler.ROLL_UP = False
    result["render_each_aggregate_s"] = _best(lambda: render(template, org, sources.period_for_year(2019)))
    compiler.ROLL_UP = True
    slowest = next(lt for lt in ledgers.values() if lt.code == per_ledger[0]["ledger"])
    with CaptureQueriesContext(connection) as slowest_queries:
        compute(slowest, org, items_of[slowest.pk])
    # The ledger's rolled-up query (not its list queries), planned as the compiler runs it: sorting off.
    rolled = max(slowest_queries.captured_queries, key=lambda q: ('"groups"' in q["sql"], len(q["sql"])))[
        "sql"
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + rolled)
        result["explain"] = [r[0] for r in cursor.fetchall()]
        transaction.set_rollback(True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', "
            "'max_parallel_workers_per_gather', 'effective_cache_size', 'jit') ORDER BY name"
        )
        result["settings"] = {name: _setting(setting, unit) for name, setting, unit in cursor.fetchall()}
        cursor.execute("SELECT pg_database_size(current_database())")
        result["database_bytes"] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid), pg_total_relation_size(c.oid) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 4 DESC LIMIT 5"
        )
        result["tables"] = [
            {"table": t, "table_bytes": a, "index_bytes": b, "total_bytes": c}
            for t, a, b, c in cursor.fetchall()
        ]
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
            "WHERE indrelid = 'ledgers_record'::regclass ORDER BY 2 DESC"
        )
        result["record_indexes"] = [{"index": i, "bytes": b} for i, b in cursor.fetchall()]
    return result


def _multiplied(ledger: Any, items: list[Any], times: int, copies: str) -> list[Any]:
    """The items and (times - 1) copies of each: "new" copies each test a condition no other item tests (a text no
    record holds: every record meets it, so the copy counts what its original counts); "shared" copies each join
    their conditions to another item's, so the ledger's query tests no condition it did not test already."""
    import copy

    from dangjian.indicators import compiler

    fields = list(ledger.fields.all())
    free = [f for f in fields if f.type in ("text", "longtext", "person")]
    out, n = list(items), 0
    for round_ in range(1, times):
        for i, item in enumerate(items):
            ind = copy.copy(item.ind)
            if copies == "shared":
                other = items[(i + round_) % len(items)].ind
                extra = list(other.where or [])
            elif free:
                extra = [{"field": free[0].code, "op": "!=", "value": f"（不存在的值{n}）"}]
            else:
                choice = next(f for f in fields if f.type == "choice")
                extra = [{"field": choice.code, "op": "!=", "value": choice.choices[n % len(choice.choices)]}]
            ind.where = [*(ind.where or []), *extra]
            out.append(compiler.Item(f"copy{n}.{item.tag}", ind, item.start, item.end))
            n += 1
    return out


def _aggregates(queries: list[dict[str, str]]) -> int:
    return sum(q["sql"].count(" FILTER (WHERE") for q in queries)


def _setting(value: str, unit: str | None) -> str:
    if unit == "8kB":
        return f"{int(value) * 8 // 1024} MB"
    if unit == "kB":
        return f"{int(value) // 1024} MB" if int(value) >= 1024 else f"{value} kB"
    return value


def _database(scale: str) -> tuple[str, str]:
    server = os.environ["DANGJIAN_BENCH_PG"]
    name = f"{os.environ.get('BENCH_DB_PREFIX', '')}dangjian_province_{scale}".lower()
    return name, server.rsplit("/", 1)[0] + "/" + name


def measure(scale: str) -> dict[str, Any]:
    import psycopg

    from bench import databases

    name, url = _database(scale)
    server = os.environ["DANGJIAN_BENCH_PG"]
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    built = None
    data_dir = tempfile.mkdtemp(prefix="dangjian-province-")
    env = databases.child_env({"DANGJIAN_DATABASE_URL": url, "DANGJIAN_DATA_DIR": data_dir}, str(ROOT))
    dangjian = [sys.executable, "-m", "dangjian"]
    if not exists or not _has_demo(url):
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        built = _timed([*dangjian, "init", "--demo", "--scale", scale], env, nice=5)
    output = Path(data_dir) / "seed2019.docx"
    try:
        runs = [_timed([*dangjian, *REPORT, "-o", str(output)], env) for _ in range(2)]
        out = subprocess.run(
            [sys.executable, "-m", "bench.bench_province", "--child"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if out.returncode != 0:
        raise RuntimeError(f"规模 {scale} 的测量失败：\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result.update(scale=scale, built=built, reports=runs, database=name)
    return result


def _has_demo(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            return bool(conn.execute("SELECT 1 FROM orgs_organization WHERE code = 'demo'").fetchone())
    except psycopg.Error:
        return False


def _short(line: str, width: int = 240) -> str:
    """A plan line cut to `width` characters (a group key of forty conditions is one line)."""
    return line if len(line) <= width else line[: width - 1] + "…"


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:,.0f} MB"


def _table(results: list[dict[str, Any]]) -> str:
    scales = ",".join(r["scale"] for r in results)
    lines = [
        START,
        "## 省级规模的报告（bench_province，PostgreSQL）",
        "",
        f"命令：`DANGJIAN_BENCH_PG=postgres://… BENCH_PROVINCE_SCALES={scales} python -m bench province`。每个规模一个 "
        "PostgreSQL 数据库（生成一次后保留，再次运行直接测量；`BENCH_PROVINCE_DROP=1` 结束时删除）。“整个命令”是新起进程运行 "
        "`dangjian report --template seed2019 --org demo --year 2019 -o …`（启动、全部指标、排版 .docx），连续两次；"
        "内存为该进程的最大常驻内存（`/usr/bin/time -v`）；“负载”为开始时 `uptime` 的 1/5/15 分钟平均负载（2 核机器）。",
        "",
        "| 规模 | 组织 | 台账记录 | 2019 年记录 | 2018 年记录 | 生成示范数据 | 整个命令（第一次） | 整个命令（第二次） "
        "| 进程内取数并生成文字（括号内：各个汇总逐条记录、不按条件分组） | 其中各台账查询 | 报告进程内存峰值 | 负载 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        built = r["built"]
        made = f"{built['s']:.0f} s，{built['rss_mb']:,.0f} MB" if built else "（已有）"
        first, second = r["reports"]
        lines.append(
            f"| {r['scale']} | {r['orgs']:,} | {r['records']:,} | {r['period_records']:,} | {r['previous_records']:,} "
            f"| {made} "
            f"| {first['s']:.2f} s | {second['s']:.2f} s | {r['render_s']:.2f} s"
            + f"（不分组 {r['render_each_aggregate_s']:.2f} s）"
            + f" | {r['ledger_queries_s']:.2f} s "
            f"| {max(first['rss_mb'], second['rss_mb']):.0f} MB | {first['load']} |"
        )
    lines += [
        "",
        "指标增加时的用时：该规模下查询最慢的几个台账，指标原样（×1）、翻倍（×2）、四倍（×4），各取 "
        f"{REPEAT} 次中最快的一次（`compiler.compute`，含 Django 组装查询的 Python）。“新条件”：每个副本多一个其他指标都没有的"
        "条件（每条记录都满足，副本与原指标计数相同）；“已有条件”：每个副本把另一个指标的条件并进来，台账查询要检验的条件不增加。"
        "括号内为合并查询中的条件汇总数。四种做法：各个汇总逐条记录（每个指标的 FILTER 对每条记录求值）或按条件分组汇总"
        "（`compiler.ROLL_UP`，默认）；条件处读字段或每条记录只读一次（`compiler.READ_ONCE`，默认只在每个字段平均被用 "
        "20 次以上时）。",
        "",
        "| 规模 | 台账 | 做法 | ×1 | 新条件 ×2 | 新条件 ×4 | 已有条件 ×2 | 已有条件 ×4 | 负载 |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for d in r["doubling"]:
            base = d["new1"]["s"]

            def cell(m: dict[str, Any], base: float = base) -> str:
                return f"{m['s']:.3f} s，{m['s'] / base:.2f}×（{m['aggregates']}）"

            lines.append(
                f"| {r['scale']} | {d['label']}（{d['ledger']}），{d['items']} 项 "
                f"| {WAY_LABELS[d['read_once'], d['roll_up']]} | {d['new1']['s']:.3f} s（{d['new1']['aggregates']}） "
                f"| {cell(d['new2'])} | {cell(d['new4'])} | {cell(d['shared2'])} | {cell(d['shared4'])} | {d['load']} |"
            )
    last = results[-1]
    lines += [
        "",
        f"规模 {last['scale']} 用时最多的台账查询（{len(last['ledgers'])} 个台账共 {last['ledger_queries_s']:.2f} s）：",
        "",
        "| 台账 | 指标项 | 2018–2019 年记录 | 用时 |",
        "|---|---:|---:|---:|",
        *(
            f"| {x['label']}（{x['ledger']}） | {x['items']} | {x['records']:,} | {x['s']:.3f} s |"
            for x in last["ledgers"][:8]
        ),
        "",
        f"规模 {last['scale']} 的内存设置："
        + "，".join(f"{k} = {v}" for k, v in last["settings"].items())
        + "。",
        f"磁盘：pg_database_size {_mb(last['database_bytes'])}；最大的表（表 + 索引 = 合计）："
        + "；".join(
            f"{t['table']} {_mb(t['table_bytes'])} + {_mb(t['index_bytes'])} = {_mb(t['total_bytes'])}"
            for t in last["tables"]
        )
        + "。记录表的索引："
        + "，".join(f"{i['index']} {_mb(i['bytes'])}" for i in last["record_indexes"])
        + "。",
        "",
        f"规模 {last['scale']} 最慢台账按条件分组汇总的查询（EXPLAIN (ANALYZE, BUFFERS)，节点行）：",
        "",
        "```",
        *[_short(line) for line in last["explain"] if "->" in line or not line.startswith(" ")][:40],
        "```",
        END,
    ]
    return "\n".join(lines)


def run() -> list[dict[str, Any]]:
    if not os.environ.get("DANGJIAN_BENCH_PG"):
        print("bench_province：未设 DANGJIAN_BENCH_PG，跳过（只在 PostgreSQL 上测）")
        return []
    scales = [
        s.strip().upper() for s in os.environ.get("BENCH_PROVINCE_SCALES", "M,L,P").split(",") if s.strip()
    ]
    results = []
    for scale in scales:
        r = measure(scale)
        results.append(r)
        first, second = r["reports"]
        print(
            f"省级 规模 {scale}：记录 {r['records']} 条（2019 年 {r['period_records']} 条）；整个报告命令 "
            f"{first['s']:.2f} s / {second['s']:.2f} s，内存 {second['rss_mb']:.0f} MB；各台账查询 {r['ledger_queries_s']:.2f} s；"
            "指标四倍（新条件 / 已有条件） "
            + "，".join(
                f"{d['ledger']} {WAY_LABELS[d['read_once'], d['roll_up']]} {d['new1']['s']:.3f} → "
                f"{d['new4']['s']:.3f} / {d['shared4']['s']:.3f} s"
                for d in r["doubling"]
            )
            + f"；负载 {first['load']}",
            flush=True,
        )
    from bench.bench_indicators import _write_doc

    _write_doc(_table(results), START, END)
    if os.environ.get("BENCH_PROVINCE_DROP") == "1":
        import psycopg

        with psycopg.connect(os.environ["DANGJIAN_BENCH_PG"], autocommit=True) as conn:
            for scale in scales:
                conn.execute(f'DROP DATABASE IF EXISTS "{_database(scale)[0]}" WITH (FORCE)')
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        print(json.dumps(child(), ensure_ascii=False, default=str))
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
        run()
