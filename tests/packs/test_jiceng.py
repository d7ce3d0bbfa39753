"""The second built-in example pack, jiceng (基层党建工作情况报告), as staff would use it (issue 10, "How it is
checked"): made only of pack files — its own ledgers, an extension of core's 整改任务台账, indicators (two kinds of
统计窗口), checks, a template with a chapter file and `[[demo]]` rows — and generated for the demo district with
`dangjian report --template jiceng --org demo --period 2019H1`.

The demo is built once for the module and rolled back (see conftest.in_demo). For the half-year, a quarter and the
year: every count's evidence holds exactly `value` records, every record behind a value lies in the span the value
is for (the period, or the indicator's window), and the pack's checks pass.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

pytestmark = pytest.mark.django_db

D = dt.date
H1 = (D(2019, 1, 1), D(2019, 6, 30))
SEVEN_ONE_H1 = (D(2019, 2, 1), D(2019, 7, 31))  # the 七一 indicators' window: one month later
WINDOWED = {"关爱党员.七一走访慰问人数", "关爱党员.七一慰问金", "关爱党员.七一慰问生活困难党员人数"}


@pytest.fixture(scope="module")
def reports(in_demo, tmp_path_factory):
    """The report for 2019H1, 2019Q1 and 2019 through the command line (txt and json), and for every count or sum
    slot the dates of the records its evidence lists."""
    from dangjian.cli import build_parser
    from dangjian.indicators import Period, evaluate, evidence_records
    from dangjian.orgs.models import Organization
    from dangjian.records.models import Record
    from dangjian.reports.cli import report

    folder = tmp_path_factory.mktemp("jiceng")

    def run(period: str, fmt: str) -> str:
        out = folder / f"{period}.{fmt}"
        args = ["report", "--template", "jiceng", "--org", "demo", "--period", period, "--format", fmt]
        assert report(build_parser().parse_args([*args, "-o", str(out)])) == 0
        return out.read_text(encoding="utf-8")

    def gather() -> dict:
        org = Organization.objects.get(code="demo")
        found: dict = {"demo_rows": Record.objects.filter(key__startswith="demo:jiceng:").count()}
        for period in ("2019H1", "2019Q1", "2019"):
            data = json.loads(run(period, "json"))
            data["txt"] = run(period, "txt")
            data["evidence"] = {
                s["indicator"]: sorted(
                    r.date for r in evidence_records(s["indicator"], org, Period.parse(period))
                )
                for s in data["slots"]
                if s["aggregate"] in ("count", "sum")
            }
            money = ["关爱党员.春节慰问金", "关爱党员.七一慰问金", "关爱党员.慰问金合计万元"]
            data["money"] = {k: v.value for k, v in evaluate(org, Period.parse(period), money).items()}
            found[period] = data
        return found

    return in_demo(gather)


def slots(data: dict) -> dict[str, dict]:
    return {s["indicator"]: s for s in data["slots"]}


def test_the_half_year_report_reads_as_a_report_with_real_numbers(reports):
    h1 = reports["2019H1"]
    text = h1["txt"]
    assert text.startswith("中共示范区委员会\n关于2019年上半年基层党建工作情况的报告\n")
    assert "（无数据）" not in text and "{{" not in text
    for words in ("组织78名党组织书记开展2018年度抓基层党建工作述职评议", "其中街道党工委书记8名、社区党组织书记60名",
                  "新下达整改任务38项", "四、坚持问题导向", "特此报告。"):  # fmt: skip
        assert words in text, words
    assert h1["period"] == {"start": "2019-01-01", "end": "2019-06-30"}
    assert reports["demo_rows"] > 400  # the pack's own [[demo]] rows were made by the demo build
    values = slots(h1)
    assert values["组织生活.会议次数"]["value"] > 100 and values["关爱党员.春节走访慰问人数"]["value"] == 68


@pytest.mark.parametrize("period", ["2019H1", "2019Q1", "2019"])
def test_every_count_is_traceable_to_exactly_that_many_records(reports, period):
    data = reports[period]
    counted = [s for s in data["slots"] if s["aggregate"] == "count"]
    assert len(counted) >= 15
    for s in counted:
        assert s["evidence"]["records"] == s["value"] == len(data["evidence"][s["indicator"]]), s
        assert f"start={Period_start(period)}" in s["evidence"]["url"]


def Period_start(period: str) -> str:  # noqa: N802 — reads as the value it gives
    from dangjian.indicators import Period

    return Period.parse(period).start.isoformat()


def test_the_half_year_and_the_quarter_count_only_their_own_records(reports):
    for period, (first, last) in (("2019H1", H1), ("2019Q1", (D(2019, 1, 1), D(2019, 3, 31)))):
        for key, days in reports[period]["evidence"].items():
            if key in WINDOWED:
                continue
            assert all(first <= day <= last for day in days), (period, key, days[:3], days[-3:])
    h1, q1 = slots(reports["2019H1"]), slots(reports["2019Q1"])
    assert q1["组织生活.会议次数"]["value"] < h1["组织生活.会议次数"]["value"]
    assert q1["整改.任务数"]["value"] == h1["整改.任务数"]["value"] == 38  # all issued in February–March


def test_the_seven_one_window_reaches_into_july_and_the_quarter_has_none(reports):
    days = reports["2019H1"]["evidence"]["关爱党员.七一走访慰问人数"]
    assert len(days) == slots(reports["2019H1"])["关爱党员.七一走访慰问人数"]["value"] == 68
    assert all(SEVEN_ONE_H1[0] <= day <= SEVEN_ONE_H1[1] for day in days)
    assert any(day.month == 7 for day in days), "the window should count the visits of early July"
    assert slots(reports["2019Q1"])["关爱党员.七一走访慰问人数"]["value"] == 0
    money = reports["2019H1"]["money"]
    assert money["关爱党员.七一慰问金"] > 0 and money["关爱党员.春节慰问金"] > 0
    total = (money["关爱党员.春节慰问金"] + money["关爱党员.七一慰问金"]) / 10000
    assert money["关爱党员.慰问金合计万元"] == total.quantize(Decimal("0.01"))
    assert slots(reports["2019H1"])["关爱党员.慰问金合计万元"]["display"] == str(
        money["关爱党员.慰问金合计万元"]
    )


def test_the_annual_report_counts_the_reviews_about_the_year_held_the_next_january(reports):
    year = reports["2019"]
    assert "对2019年度抓基层党建工作的述职评议于次年初进行，已有68名党组织书记完成述职" in year["txt"]
    days = year["evidence"]["述职评议.所评年度述职人数"]
    assert len(days) == 68 and all(D(2020, 1, 1) <= day <= D(2020, 2, 29) for day in days)
    assert "年度述职评议安排" not in reports["2019H1"]["txt"]


@pytest.mark.parametrize("period", ["2019H1", "2019Q1", "2019"])
def test_its_checks_pass(reports, period):
    checks = reports[period]["checks"]
    assert {c["rule"] for c in checks} >= {"整改.任务数 <= 述职评议.指出问题数"}
    failed = [c for c in checks if not c["ok"]]
    assert not failed, failed


def test_the_pack_passes_every_pack_check_and_a_plain_load_makes_no_demo_rows(db):
    from dangjian.packs.loader import all_problems, discover, load_all
    from dangjian.records.models import LedgerType, Record

    packs = discover()
    assert "jiceng" in [p.name for p in packs]
    assert all_problems(packs) == []
    counts = load_all()
    assert counts["jiceng"] == {"ledger_types": 2, "extends": 1, "indicators": 37, "checks": 6, "templates": 1,
                                "demo": 15}  # fmt: skip
    assert not Record.objects.filter(key__startswith="demo:").exists()
    task = LedgerType.objects.get(code="rectification_task")
    assert "述职评议指出问题" in task.field("source").choices and task.field("problem_category") is not None


def test_a_bad_demo_rule_is_refused_naming_the_pack_and_the_rule(db, tmp_path, capsys):
    from dangjian.cli import build_parser
    from dangjian.packs.cli import pack

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "pack.toml").write_text(
        '[pack]\nname = "mine"\norder = 60\n\n'
        '[[demo]]\nid = "x"\nledger = "rectification_task"\norg_kinds = ["street"]\n'
        'values = { colour = "red" }\nstatus = "完成"\n\n'
        '[[demo]]\nid = "x"\nledger = "nope"\norgs = ["demo"]\nrepeat = 3\n',
        encoding="utf-8",
    )
    code = pack(build_parser().parse_args(["pack", "check", str(folder)]))
    out = capsys.readouterr()
    text = out.out + out.err
    assert code == 1 and "Traceback" not in text
    for words in ("演示数据规则“x”中的字段“colour”不是台账 rectification_task", "状态“完成”不存在",
                  "台账“nope”不存在", "未知属性：repeat", "id 重复"):  # fmt: skip
        assert words in text, text
