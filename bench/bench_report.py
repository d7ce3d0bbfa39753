"""Benchmark: rendering the seed2019 report as .docx for the demo district, at the scales BENCH_SCALES names (S and M by default; L on request).

`run()` is called by `python -m bench` (bench/__main__.py) with Django set up. For each scale it builds the demo
district inside a transaction that is rolled back afterwards, so the database is left as it was. When the database
already holds a demo district (`dangjian init --demo`), it times that one instead, once.
Each result: scale, records, seconds for evaluate+render (text) and for the .docx, best of three.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

REPEAT = 3
# Results that bench_indicators measured on its own database of a scale, so `python -m bench` builds each once.
MEASURED: dict[tuple[str, str], dict[str, Any]] = {}  # (scale, database) → result


class _Rollback(Exception):
    pass


def _best(fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(label: str) -> dict[str, Any]:
    from django.db import connection

    from dangjian.orgs.models import Organization
    from dangjian.records.models import Record
    from dangjian.reports import values as sources
    from dangjian.reports.models import ReportTemplate
    from dangjian.reports.render_docx import render_docx
    from dangjian.reports.templating import render

    template = ReportTemplate.objects.get(key="seed2019")
    org = Organization.objects.get(code="demo")
    period = sources.period_for_year(2019)
    started = time.perf_counter()
    rendered = render(template, org, period)  # the first report after the load
    first_s = time.perf_counter() - started
    return {
        "scale": label,
        "db": "PostgreSQL" if connection.vendor == "postgresql" else "SQLite",
        "first_s": first_s,
        "records": Record.objects.filter(is_deleted=False).count(),
        # the period's records (issue 14: the report's cost should grow with these), and the year before's (上年)
        "period_records": Record.objects.filter(is_deleted=False, date__year=2019).count(),
        "previous_records": Record.objects.filter(is_deleted=False, date__year=2018).count(),
        "slots": len(rendered.slots),
        "render_s": _best(lambda: render(template, org, period)),
        "docx_s": _best(lambda: render_docx(render(template, org, period))),
    }


def run(scales: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    from bench import scales as wanted_scales

    scales = scales or wanted_scales()
    from django.db import transaction

    from dangjian.orgs.models import Organization
    from dangjian.reports.models import ReportTemplate

    if not ReportTemplate.objects.filter(key="seed2019").exists():
        print("bench_report：未载入 seed2019 数据包，跳过（先运行 dangjian init）")
        return []
    results: list[dict[str, Any]] = []
    if Organization.objects.filter(code="demo").exists():
        results.append(measure("现有示范区"))
    else:
        from dangjian.demo.generator import build_demo

        for scale in scales:
            measured = [r for (s, _db), r in MEASURED.items() if s == scale]
            if measured:
                results += measured
                continue
            try:
                with transaction.atomic():
                    build_demo(scale=scale, seed=2019)
                    results.append(measure(scale))
                    raise _Rollback
            except _Rollback:
                pass
    for r in results:
        print(
            f"报告 seed2019 规模 {r['scale']}（{r['db']}）：记录 {r['records']} 条，{r['slots']} 处数字；"
            f"载入后第一次 {r['first_s']:.3f} 秒，"
            f"取数并生成文字 {r['render_s']:.3f} 秒，生成 Word {r['docx_s']:.3f} 秒（{REPEAT} 次取最快）"
        )
    if results:
        from bench.bench_indicators import _machine, _write_doc

        _write_doc(_table(results, _machine()), START, END)
    return results


START, END = "<!-- bench_report:start -->", "<!-- bench_report:end -->"


def _table(results: list[dict[str, Any]], machine: dict[str, str]) -> str:
    rows = "\n".join(
        f"| {r['scale']} | {r['db']} | {r['records']} | {r['slots']} | {r['first_s']:.2f} s | {r['render_s']:.2f} s "
        f"| {r['docx_s']:.2f} s |"
        for r in results
    )
    return (
        f"{START}\n## 报告生成（bench_report）\n\n"
        f"命令：`BENCH_SCALES={','.join(dict.fromkeys(r['scale'] for r in results))} python -m bench`（设了 `DANGJIAN_BENCH_PG` 时也测 PostgreSQL）。示范区演示数据（{'、'.join(dict.fromkeys(r['scale'] for r in results))}）每个规模只生成一次：与 bench_indicators 一起运行时用它建立的数据库，单独运行时在临时数据库的事务中生成、结束后回滚。为 2019 年度生成 seed2019 报告："
        "“载入后第一次”为生成数据后紧接着的第一次，“取数并生成文字”为计算模板用到的全部指标并渲染正文，“生成 Word”为取数、渲染并按 GB/T 9704 排版输出 .docx"
        f"的全过程，各取 {REPEAT} 次中最快的一次。\n\n"
        f"机器：{machine['cpus']} 核（`nproc`），{machine['cpu']}；Python {machine['python']}，"
        f"SQLite {machine['sqlite']}，Django {machine['django']}；{machine['os']}。\n\n"
        "| 规模 | 数据库 | 台账记录 | 报告中的数字和名称 | 载入后第一次取数并生成文字 | 取数并生成文字 | 生成 Word |\n"
        "|---|---|---:|---:|---:|---:|---:|\n"
        f"{rows}\n{END}"
    )


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    django.setup()
    run()
