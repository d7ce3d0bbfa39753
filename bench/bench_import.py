"""Benchmark: importing 10,000 and 100,000 generated rows of 学习教育活动台账 from .xlsx, read with python-calamine
and with openpyxl (read-only) in the same run.

`run()` is called by `python -m bench` (bench/__main__.py) with Django set up. Each import runs inside a
transaction that is rolled back afterwards, so the database is left as it was (the import itself validates
outside any transaction and writes in one short one; here both sit inside the rollback). The table is printed and written
into docs/benchmarks.md between this bench's markers.
"""

from __future__ import annotations

import datetime as dt
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_indicators import _machine, _write_doc

SIZES = (10_000, 100_000)
ENGINES = ("calamine", "openpyxl")
LEDGER = "study_activity"
START, END = "<!-- bench_import:start -->", "<!-- bench_import:end -->"


class _Rollback(Exception):
    pass


def _make_file(path: Path, rows: int, title: str = "第{}期学习") -> None:
    """`rows` rows of 学习教育活动台账 for the unit coded `bench`; `title` numbers each row (distinct files, no duplicates)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("数据")
    sheet.append(
        ["填报单位*", "活动日期*", "活动类型*", "主题*", "主讲人", "地点", "参加人数", "属于主题教育"]
    )
    kinds = ["中心组集体学习", "专题报告", "理论宣讲", "培训班"]
    start = dt.date(2019, 1, 1)
    for i in range(rows):
        date = start + dt.timedelta(days=i % 365)
        # A mix of the formats clerks type: real dates, text dates, numbers with separators.
        typed: Any = date if i % 3 else f"{date.year}.{date.month}.{date.day}"
        sheet.append(
            ["bench", typed, kinds[i % 4], title.format(i), "张三", "党群服务中心", f"{i % 2000:,}", "是"]
        )
    book.save(path)


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(path: Path, engine: str) -> dict[str, Any]:
    from django.db import transaction

    from dangjian.ledgers.imports import import_file
    from dangjian.ledgers.models import LedgerType
    from dangjian.orgs.models import Organization

    lt = LedgerType.objects.prefetch_related("fields").get(code=LEDGER)
    out: dict[str, Any] = {}
    try:
        with transaction.atomic():
            org = Organization.objects.add_root(dict(code="bench", name="基准测试单位", short_name="基准"))
            start = time.perf_counter()
            result = import_file(
                None, lt, path, path.name, default_org=org, engine=engine, check_access=False
            )
            out = {"seconds": time.perf_counter() - start, "created": result.created, "ok": result.ok}
            if not result.ok:
                out["problem"] = (result.lines() or [""])[0]
            raise _Rollback
    except _Rollback:
        pass
    out["rss_mb"] = _max_rss_mb()
    return out


def _table(results: list[dict[str, Any]], machine: dict[str, str]) -> str:
    lines = [
        START,
        "## Excel 导入（bench_import）",
        "",
        "命令：`python -m bench import`。生成 1 万行和 10 万行的学习教育活动台账 .xlsx（8 列，日期一部分为",
        "“2019.3.5”式文本、人数带千分位），分别用 python-calamine 和 openpyxl（只读模式）读取，按与网页表单",
        "相同的校验逐行检查并查重（只读），全部通过后在一个短事务中写入（含修改历史），整个基准在外层事务中完成后回滚。",
        "",
        f"机器：{machine['cpus']} 核（`nproc`），{machine['cpu']}；Python {machine['python']}，"
        f"SQLite {machine['sqlite']}，Django {machine['django']}；{machine['os']}。",
        "",
        "| 行数 | 文件大小 | 读取 | 用时 | 每秒行数 | 写入记录 | 进程内存峰值 |",
        "|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['rows']} | {r['size_mb']:.1f} MB | {r['engine']} | {r['seconds']:.1f} s "
            f"| {r['rows'] / r['seconds']:.0f} | {r['created']} | {r['rss_mb']:.0f} MB |"
        )
    lines += ["", "（内存峰值为整个基准进程至该项结束时的最大常驻内存，按先后顺序累计。）", END]
    return "\n".join(lines)


def run(sizes: tuple[int, ...] = SIZES) -> list[dict[str, Any]]:
    from django.conf import settings

    results = []
    with tempfile.TemporaryDirectory(prefix="dangjian-bench-import-") as tmp:
        for rows in sizes:
            path = Path(tmp) / f"rows{rows}.xlsx"
            _make_file(path, rows)
            size_mb = path.stat().st_size / 1024 / 1024
            settings.MAX_IMPORT_MB = max(settings.MAX_IMPORT_MB, int(size_mb) + 1)
            for engine in ENGINES:
                r = {"rows": rows, "engine": engine, "size_mb": size_mb, **_measure(path, engine)}
                if not r["ok"]:
                    raise RuntimeError(f"导入失败：{r.get('problem')}")
                results.append(r)
                print(
                    f"导入 {rows} 行（{size_mb:.1f} MB），{engine}：{r['seconds']:.1f} 秒，"
                    f"{rows / r['seconds']:.0f} 行/秒，内存峰值 {r['rss_mb']:.0f} MB",
                    flush=True,
                )
    _write_doc(_table(results, _machine()), START, END)
    return results
