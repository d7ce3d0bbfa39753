"""Benchmark: the server time of the district overview (概览, `/overview/`) on the demo district, as the 区委领导
(`lingdao`, a 查看者 at the district, whose home page it is) gets it.

Each request goes through the whole Django stack in-process (middleware, session, the view, the template), with
Django's test client: the time is the server's, without the network or the browser drawing the charts. Measured for
the default year (the latest year with records) and for 2019 (the demo's full year: every chart has data), each
the first request after start-up, then the median and the best of REPEAT, with the number of SQL queries.

Run on a database that holds the demo (`dangjian init --demo --scale M` into DANGJIAN_DATA_DIR); without one, the
demo of each BENCH_SCALES scale is built inside a transaction that is rolled back afterwards (about a minute for M).
Target (issue 13): at most 300 ms at scale M. The table is written into docs/benchmarks.md between the markers.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

REPEAT = 7
TARGET_MS = 300
START, END = "<!-- bench_overview:start -->", "<!-- bench_overview:end -->"
VIEWER = "lingdao"


class _Rollback(Exception):
    pass


def _time(client: Any, url: str) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(url, HTTP_HOST="127.0.0.1")
        elapsed, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, cpu, len(queries), len(response.content)


def measure(label: str) -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from dangjian.records.models import Record
    from dangjian.web import overview

    client = Client()
    client.force_login(
        get_user_model().objects.get(username=VIEWER), backend="django.contrib.auth.backends.ModelBackend"
    )
    records = Record.objects.filter(is_deleted=False).count()
    default = overview.default_year()
    out = []
    for what, url in ((f"默认年度（{default}）", "/overview/"), ("2019 年度", "/overview/?year=2019")):
        first = _time(client, url)[0]
        runs = [_time(client, url) for _ in range(REPEAT)]
        times = [t for t, _, _, _ in runs]
        out.append(
            {
                "scale": label,
                "page": what,
                "records": records,
                "first_ms": first,
                "median_ms": statistics.median(times),
                "best_ms": min(times),
                "cpu_ms": statistics.median(c for _, c, _, _ in runs),
                "queries": runs[-1][2],
                "bytes": runs[-1][3],
                "load": os.getloadavg()[0],
            }
        )
    out[-1]["parts"] = parts(2019)
    return out


def parts(year: int) -> dict[str, float]:
    """Where the time of one page goes (median CPU time of REPEAT, ms): each part as the page computes it."""
    from django.contrib.auth import get_user_model

    from dangjian.indicators import engine
    from dangjian.orgs import access
    from dangjian.web import overview
    from dangjian.web.models import Dashboard

    user = get_user_model().objects.get(username=VIEWER)
    org = access.scope(user).district()
    period = overview.Period.year(year)
    boards = list(Dashboard.objects.all())
    defs = engine.definitions(k for d in boards for k in [*d.cockpit, *d.ranking])
    rank = next((k for d in boards for k in d.ranking), "")
    tasks = overview._tasks(user, org, year)
    steps = {
        "填报任务（两个图表）": lambda: (
            overview.tasks_chart(user, org, tasks),
            overview.task_units_chart(user, org, tasks),
        ),
        "逾期事项（按单位、按来源）": lambda: overview.overdue_charts(user, org),
        "按月销号": lambda: overview.closure_chart(user, org, year),
        f"驾驶舱（{sum(len(d.cockpit) for d in boards)} 个指标，本期与上年）": lambda: overview.cockpit(
            org, period, boards, defs
        ),
        "单位排名": lambda: overview.ranking_chart(org, period, rank, defs) if rank else None,
    }
    out: dict[str, float] = {}
    with engine.viewing_as(user):
        for name, step in steps.items():
            times = []
            for _ in range(REPEAT):
                started = time.process_time()
                step()
                times.append((time.process_time() - started) * 1000)
            out[name] = statistics.median(times)
    return out


def run(scales: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    from django.db import transaction

    from bench import scales as wanted_scales
    from dangjian.orgs.models import Organization

    results: list[dict[str, Any]] = []
    if Organization.objects.filter(code="demo").exists():
        results += measure(f"现有示范区（{Organization.objects.count()} 个组织）")
    else:
        from dangjian.demo.generator import build_demo

        for scale in scales or wanted_scales():
            try:
                with transaction.atomic():
                    build_demo(scale=scale, seed=2019)
                    results += measure(scale)
                    raise _Rollback
            except _Rollback:
                pass
    for r in results:
        verdict = "达标" if r["cpu_ms"] <= TARGET_MS else f"超过 {TARGET_MS} ms 的目标"
        print(
            f"概览 {r['scale']} {r['page']}：记录 {r['records']} 条；第一次 {r['first_ms']:.0f} ms，"
            f"中位数 {r['median_ms']:.0f} ms，最快 {r['best_ms']:.0f} ms，CPU 中位数 {r['cpu_ms']:.0f} ms，"
            f"{r['queries']} 条查询（负载 {r['load']:.1f}；按 CPU 时间{verdict}）"
        )
    if results:
        from bench.bench_indicators import _machine, _write_doc

        _write_doc(_table(results, _machine()), START, END)
    return results


def _today() -> str:
    import datetime as dt

    now = dt.datetime.now()
    return f"{now.year}年{now.month}月{now.day}日 {now:%H:%M}"


def _table(results: list[dict[str, Any]], machine: dict[str, str]) -> str:
    rows = "\n".join(
        f"| {r['scale']} | {r['page']} | {r['records']} | {r['first_ms']:.0f} ms | {r['median_ms']:.0f} ms "
        f"| {r['best_ms']:.0f} ms | {r['cpu_ms']:.0f} ms | {r['queries']} | {r['bytes'] // 1024} KB | {r['load']:.1f} |"
        for r in results
    )
    split = next((r["parts"] for r in results if "parts" in r), {})
    detail = "".join(f"| {name} | {ms:.0f} ms |\n" for name, ms in split.items())
    return (
        f"{START}\n## 概览页（bench_overview）\n\n"
        "命令：`dangjian init --demo --scale M` 之后 `DANGJIAN_DATA_DIR=… python -m bench overview`（数据库中没有示范区时，"
        "按 `BENCH_SCALES` 在事务中生成、结束后回滚）。以区委领导（`lingdao`，区级查看者，其首页即概览）请求 `/overview/`："
        "进程内经 Django 测试客户端走完整的中间件、视图和模板，只计服务器时间（不含网络和浏览器绘图）；"
        f"“第一次”为启动后第一次请求，其后 {REPEAT} 次取中位数和最快。目标：M 规模不超过 {TARGET_MS} ms。"
        "“CPU 时间”是本进程在请求中用掉的 CPU（SQLite 在进程内执行查询，数据在页缓存中时不等磁盘）：机器繁忙时"
        "墙钟时间含等待 CPU 的时间，CPU 时间接近空闲机器上的墙钟时间，按它与目标比较；两者都列出，另列运行时的负载。\n\n"
        f"运行于 {_today()}（北京时间）。机器：{machine['cpus']} 核（`nproc`），{machine['cpu']}；Python {machine['python']}，"
        f"SQLite {machine['sqlite']}，Django {machine['django']}；{machine['os']}。\n\n"
        "| 规模 | 年度 | 台账记录 | 第一次 | 中位数 | 最快 | CPU 时间（中位数） | 查询数 | 页面大小 | 1 分钟负载 |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        f"{rows}\n\n"
        "2019 年度页面各部分（CPU 时间，各取中位数；其余为会话、中间件、模板渲染）：\n\n"
        "| 部分 | 时间 |\n|---|---:|\n"
        f"{detail}{END}"
    )


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    django.setup()
    run()
