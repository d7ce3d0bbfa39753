"""A small pack of our own (indicators on the core study ledger, two checks, a template with an include) and
records for it: the reports stage is tested on this, never on the seed pack."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PACK_TOML = """
[pack]
name = "testreport"
label = "测试报告数据包"
order = 90

[[indicators]]
key = "本区.简称"
label = "报告单位简称"
attribute = "org.short_name"

[[indicators]]
key = "学习.中心组次数"
label = "中心组集体学习次数"
unit = "次"
ledger = "study_activity"
aggregate = "count"
where = [{ field = "kind", op = "=", value = "中心组集体学习" }]

[[indicators]]
key = "学习.舞台剧"
label = "观看的舞台剧"
ledger = "study_activity"
aggregate = "list"
field = "title"
order = "first"
where = [{ field = "kind", op = "=", value = "观看舞台剧" }]

[[indicators]]
key = "学习.舞台剧数"
label = "观看舞台剧部数"
unit = "部"
ledger = "study_activity"
aggregate = "count"
where = [{ field = "kind", op = "=", value = "观看舞台剧" }]

[[indicators]]
key = "学习.参加人数"
label = "参加学习人次"
unit = "人次"
ledger = "study_activity"
aggregate = "sum"
field = "participants"

[[checks]]
code = "t_min_sessions"
label = "中心组学习不少于 3 次"
rule = "学习.中心组次数 >= 3"
level = "error"
message = "区委理论学习中心组全年集体学习应不少于 3 次"

[[checks]]
code = "t_plays"
label = "舞台剧部数与名称一致"
rule = "学习.舞台剧数 >= 1"
level = "warning"
message = "应至少观看一部舞台剧"

[[templates]]
key = "testreport"
label = "测试年度党建工作报告"
file = "main.j2"
"""

MAIN_J2 = """\
测试区年度党建工作
报告
（测试稿）

今年以来，{{ 本区.简称 }}区委理论中心组集体学习{{ 学习.中心组次数 }}次。
一、坚持思想建设
（一）理论学习。观看{{ 学习.舞台剧|书名号 }}等舞台剧{{ 学习.舞台剧数 }}部，其中《{{ 学习.舞台剧[0] }}》反响最好。参加学习{{ 学习.参加人数|余 }}余人次。
{% include "chapter1.j2" %}
"""

CHAPTER1_J2 = """\
二、坚持组织建设
中心组学习次数{{ 学习.中心组次数|升降(上年.学习.中心组次数) }}{{ 学习.中心组次数 }}次，上年为{{ 上年.学习.中心组次数 }}次。
"""


def write_pack(root: Path, main: str = MAIN_J2, chapter: str = CHAPTER1_J2) -> Path:
    folder = root / "testreport"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.toml").write_text(textwrap.dedent(PACK_TOML), encoding="utf-8")
    (folder / "main.j2").write_text(main, encoding="utf-8")
    (folder / "chapter1.j2").write_text(chapter, encoding="utf-8")
    return folder


@pytest.fixture
def report_pack(world, tmp_path):
    from dangjian.packs.loader import discover, load_pack
    from dangjian.reports.models import ReportTemplate

    write_pack(tmp_path)
    for pack in discover(tmp_path):
        load_pack(pack)
    return ReportTemplate.objects.get(key="testreport")


def study(make_record, org: Any, kind: str, title: str, date: str = "2019-03-05", participants: int = 10):
    return make_record(
        "study_activity", org, {"date": date, "kind": kind, "title": title, "participants": participants}
    )


@pytest.fixture
def report_records(world, make_record):
    """2019: 4 中心组 sessions (c1 ×3, c2 ×1), 2 plays; 2018: 5 sessions. Participants 2019: 4×10 + 2×6 = 52."""
    for i in range(3):
        study(make_record, world.c1, "中心组集体学习", f"第{i + 1}次集体学习", f"2019-0{i + 2}-10")
    study(make_record, world.c2, "中心组集体学习", "和平社区集体学习", "2019-06-01")
    study(make_record, world.c1, "观看舞台剧", "焦裕禄", "2019-04-01", participants=6)
    study(make_record, world.c2, "观看舞台剧", "红旗渠", "2019-05-01", participants=6)
    for i in range(5):
        study(make_record, world.c1, "中心组集体学习", f"2018年第{i + 1}次", f"2018-0{i + 1}-15")
    return world


# --- for tests without a database -------------------------------------------------------------------------------


@dataclass
class FakeValue:
    key: str
    label: str
    unit: str = ""
    aggregate: str = "count"
    value: Any = None
    note: str = ""
    evidence_count: int | None = None
    ledger: str = ""


@dataclass
class FakeTemplate:
    key: str
    source: str
    folder: Path | None = None
    file: str = "main.j2"
    pack: str = ""
    label: str = "测试模板"

    def path(self) -> Path | None:
        return self.folder / self.file if self.folder else None

    def main_name(self) -> str:
        return self.file


def fake_values(**values: Any) -> dict[str, FakeValue]:
    """fake_values(**{"学习.次数": 3}) → {"学习.次数": FakeValue(...)}, counts get evidence_count = value."""
    result = {}
    for key, value in values.items():
        aggregate = "list" if isinstance(value, list) else "count"
        count = value if isinstance(value, int) else (len(value) if isinstance(value, list) else None)
        result[key] = FakeValue(key, f"{key}的名称", value=value, aggregate=aggregate, evidence_count=count)
    return result
