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

import statistics
import time
from typing import Any

REPEAT = 7
TARGET_MS = 300
START, END = "<!-- bench_overview:start -->", "<!-- bench_overview:end -->"
VIEWER = "lingdao"


class _Rollback(Exception):
    pass


def _time(client: Any, url: str) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url, HTTP_HOST="127.0.0.1")
        elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, len(queries), len(response.content)


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
        first, _, _ = _time(client, url)
        runs = [_time(client, url) for _ in range(REPEAT)]
        times = [t for t, _, _ in runs]
        out.append(
            {
                "scale": label,
                "page": what,
                "records": records,
                "first_ms": first,
                "median_ms": statistics.median(times),
                "best_ms": min(times),
                "queries": runs[-1][1],
                "bytes": runs[-1][2],
            }
        )
    return out


def run(scales: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    from django.db import transaction

    from bench import scales as wanted_scales
    from dangjian.orgs.models import Organization

    results: list[dict[str, Any]] = []
    if Organization.objects.filter(code="demo").exists():
        results += measure("现有示范区")
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
        verdict = "达标" if r["median_ms"] <= TARGET_MS else f"超过 {TARGET_MS} ms 的目标"
        print(
            f"概览 {r['scale']} {r['page']}：记录 {r['records']} 条；第一次 {r['first_ms']:.0f} ms，"
            f"中位数 {r['median_ms']:.0f} ms，最快 {r['best_ms']:.0f} ms，{r['queries']} 条查询（{verdict}）"
        )
    if results:
        from bench.bench_indicators import _machine, _write_doc

        _write_doc(_table(results, _machine()), START, END)
    return results


def _table(results: list[dict[str, Any]], machine: dict[str, str]) -> str:
    rows = "\n".join(
        f"| {r['scale']} | {r['page']} | {r['records']} | {r['first_ms']:.0f} ms | {r['median_ms']:.0f} ms "
        f"| {r['best_ms']:.0f} ms | {r['queries']} | {r['bytes'] // 1024} KB |"
        for r in results
    )
    return (
        f"{START}\n## 概览页（bench_overview）\n\n"
        "命令：`dangjian init --demo --scale M` 之后 `DANGJIAN_DATA_DIR=… python -m bench overview`（数据库中没有示范区时，"
        "按 `BENCH_SCALES` 在事务中生成、结束后回滚）。以区委领导（`lingdao`，区级查看者，其首页即概览）请求 `/overview/`："
        "进程内经 Django 测试客户端走完整的中间件、视图和模板，只计服务器时间（不含网络和浏览器绘图）；"
        f"“第一次”为启动后第一次请求，其后 {REPEAT} 次取中位数和最快。目标：M 规模不超过 {TARGET_MS} ms。\n\n"
        f"机器：{machine['cpus']} 核（`nproc`），{machine['cpu']}；Python {machine['python']}，"
        f"SQLite {machine['sqlite']}，Django {machine['django']}；{machine['os']}。\n\n"
        "| 规模 | 年度 | 台账记录 | 第一次 | 中位数 | 最快 | 查询数 | 页面大小 |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|\n"
        f"{rows}\n{END}"
    )


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    django.setup()
    run()
