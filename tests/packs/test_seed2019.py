"""The seed report generated from the demo ledgers (issue 3, "done when").

On a fresh test database (SQLite or PostgreSQL — whichever the suite runs on; CI runs both): load the packs, build
the demo district at scale S, render template seed2019 for org demo, year 2019, to JSON, and check that
  1. the text is the seed with every blank (X, XX, XXX in tests/data/seed2019/slots.tsv) filled and the rest
     reproduced word for word, and no blank is left;
  2. every slot names its indicator, in the seed's order; for a count the evidence holds exactly `value` records;
  3. every consistency check passes.
The demo is built once for the module inside a transaction that is rolled back afterwards, so the other tests see
an empty database as usual.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data" / "seed2019"
SEED = (DATA / "000_f140fd063535cd87.txt").read_text(encoding="utf-8")
with (DATA / "slots.tsv").open(encoding="utf-8") as fh:
    SLOTS = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
BLANKS = [row for row in SLOTS if row["kind"] != "literal"]

# Slots the tsv marks "number" whose place in the prose wants a name: "引入X等社会组织X家" names a social organisation.
NAME_LIKE = {96}
NUMBER_RE = re.compile(r"(?:[1-9]\d*|0)(?:\.\d+)?|[一二三四五六七八九十百千]+")

# The mark makes pytest-django create the test database (it only sets up databases that marked tests ask for);
# the module fixture below then fills it once.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def report(in_demo):
    """Render seed2019 for the demo once and gather what the tests need from the database."""
    from dangjian.indicators.engine import evidence_records
    from dangjian.orgs.models import Organization
    from dangjian.reports import values as sources
    from dangjian.reports.models import ReportTemplate
    from dangjian.reports.render_json import render_dict
    from dangjian.reports.templating import render

    def gather() -> dict:
        org = Organization.objects.get(code="demo")
        period = sources.period_for_year(2019)
        result = render_dict(render(ReportTemplate.objects.get(key="seed2019"), org, period))
        result["evidence_counts"] = {
            s["indicator"]: evidence_records(s["indicator"], org, period).count()
            for s in result["slots"]
            if s["aggregate"] == "count"
        }
        return result

    return in_demo(gather)


def _seed_pattern() -> re.Pattern[str]:
    """The seed as a regex: each run of X is a capture group for a non-empty filler, all else is literal."""
    parts = re.split(r"(X+)", SEED.strip())
    pattern = "".join(r"([^\n]+?)" if i % 2 else re.escape(p) for i, p in enumerate(parts))
    return re.compile(pattern + r"\Z")


def test_the_seed_has_one_x_run_per_blank():
    assert len(re.findall(r"X+", SEED)) == len(BLANKS) == 213


def test_text_is_the_seed_with_every_blank_filled(report):
    text = report["text"].strip()
    assert "X" not in text, "a blank is left unfilled"
    match = _seed_pattern().match(text)
    if match is None:  # show the first line that differs
        for i, (want, got) in enumerate(
            zip(SEED.strip().split("\n"), text.split("\n"), strict=False), start=1
        ):
            line_re = "".join(
                r"[^\n]+?" if k % 2 else re.escape(p) for k, p in enumerate(re.split(r"(X+)", want))
            )
            assert re.fullmatch(line_re, got), f"第 {i} 行与原文不符：\n原文：{want}\n生成：{got}"
        pytest.fail("生成的报告与原文行数不同")
    fillers = match.groups()
    assert len(fillers) == len(BLANKS)
    for row, filler in zip(BLANKS, fillers, strict=True):
        slot = int(row["slot"])
        assert filler.strip(), f"空白 {slot} 没有填上"
        assert "（无数据）" not in filler, f"空白 {slot}（{row['before']}X{row['after']}）没有数据"
        if row["kind"] == "number" and slot not in NAME_LIKE:
            assert NUMBER_RE.fullmatch(filler), (
                f"空白 {slot}（{row['before']}X{row['after']}）应为正数，得到“{filler}”"
            )
            assert filler not in ("0", "零"), f"空白 {slot}（{row['before']}X{row['after']}）为 0"


def test_slots_map_one_to_one_to_the_blanks(report):
    slots = report["slots"]
    assert len(slots) == len(BLANKS)
    fillers = _seed_pattern().match(report["text"].strip()).groups()
    for row, slot, filler in zip(BLANKS, slots, fillers, strict=True):
        assert slot["indicator"], f"空白 {row['slot']} 没有指标"
        assert slot["display"] == filler, (
            f"空白 {row['slot']}：槽位文字“{slot['display']}”与正文“{filler}”不一致"
        )


def test_count_evidence_lists_exactly_value_records(report):
    counted = [s for s in report["slots"] if s["aggregate"] == "count"]
    assert counted, "no count slot at all"
    for s in counted:
        value = int(Decimal(str(s["value"])))
        assert value > 0, f"{s['indicator']} = 0"
        assert s["evidence"]["records"] == value, (
            f"{s['indicator']}：值 {value}，佐证 {s['evidence']['records']} 条"
        )
        assert report["evidence_counts"][s["indicator"]] == value, (
            f"{s['indicator']}：佐证查询得到的记录数与值不符"
        )


def test_part1_words_and_names(report):
    """Part 1's own wording: the demo's names, the place name and the year arithmetic."""
    text = report["text"]
    assert "引领示范党员干部" in text and "《示范区2019年度党（工）委（党组）" in text
    assert "庆祝新中国成立70周年系列活动" in text and "70年大庆当天" in text
    assert "召开2018年度党建工作责任制述职评议会议" in text
    assert "观看《焦裕禄》《红旗渠》《大河安澜》等舞台剧4部" in text
    assert "到东方红农耕展览馆、焦裕禄同志纪念馆、红旗渠纪念馆等5处教育基地参观" in text
    assert "分四批组织全区" in text and "到成都、新乡先进群体教育基地和兰考县委党校" in text
    assert "社区“三家七社十色服务”" in text and "召开区委十二届九次全会" in text


def test_all_checks_pass(report):
    checks = report["checks"]
    assert any(c["rule"].startswith("党员.") for c in checks), "part 1 checks missing"
    failed = [c for c in checks if not c["ok"]]
    assert not failed, "\n".join(f"[{c['level']}] {c['rule']}：{c['message']}" for c in failed)
