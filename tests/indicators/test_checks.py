"""Checks: pass, fail, missing inputs; and `dangjian check` exit codes."""

from __future__ import annotations

import argparse

import pytest

from dangjian.indicators import Period, run_checks
from dangjian.indicators.cli import check as check_command

Y2019 = Period.year(2019)


@pytest.fixture
def rules(world, make_record, define, define_checks):
    for day, kind in [
        ("2019-02-01", "中心组集体学习"),
        ("2019-03-01", "专题报告"),
        ("2018-03-01", "专题报告"),
    ]:
        make_record(
            "study_activity", world.root, {"date": day, "kind": kind, "title": "学习", "participants": 10}
        )
    define(
        {"key": "学习.次数", "label": "学习次数", "ledger": "study_activity"},
        {"key": "学习.中心组", "label": "中心组学习次数", "ledger": "study_activity",
         "where": [{"field": "kind", "op": "=", "value": "中心组集体学习"}]},
        {"key": "学习.平均天数", "label": "平均天数", "ledger": "study_activity", "aggregate": "avg", "field": "days"},
        {"key": "学习.占比", "label": "中心组占比", "formula": "学习.中心组 / 学习.次数 * 100"},
    )  # fmt: skip
    define_checks(
        {"code": "part", "label": "中心组 ≤ 全部", "rule": "学习.中心组 <= 学习.次数", "message": "中心组学习不能多于全部学习"},
        {"code": "share", "label": "占比 ≤ 100%", "rule": "学习.占比 <= 100", "message": "占比不能超过100%"},
        {"code": "grow", "label": "比上年多", "rule": "学习.次数 > 上年.学习.次数", "message": "学习次数应多于上年",
         "level": "warning"},
        {"code": "days", "label": "有天数", "rule": "学习.平均天数 > 0", "message": "应填写天数", "level": "warning"},
    )  # fmt: skip


def test_rules_pass_and_fail(world, rules):
    results = {r.code: r for r in run_checks(world.root, Y2019)}
    assert results["part"].ok and results["share"].ok and results["grow"].ok
    assert results["part"].message == "中心组 ≤ 全部：通过" and results["part"].level == "error"
    assert results["part"].rule == "学习.中心组 <= 学习.次数" and results["part"].label == "中心组 ≤ 全部"
    missing = results["days"]
    assert not missing.ok and "学习.平均天数" in missing.message and "没有符合条件的记录" in missing.message
    # 2017: nothing at all, so the share's division fails and is explained.
    results = {r.code: r for r in run_checks(world.root, Period.year(2017))}
    assert not results["share"].ok and "除数为零" in results["share"].message
    assert not results["grow"].ok and results["grow"].level == "warning"


def test_a_failing_rule_shows_the_values(world, rules, define_checks):
    define_checks(
        {"code": "wrong", "label": "错", "rule": "学习.中心组 == 学习.次数", "message": "应相等"}, pack="u"
    )
    [result] = run_checks(world.root, Y2019, pack="u")
    assert not result.ok and result.message == "应相等（学习.中心组 = 1，学习.次数 = 2）"


def test_a_check_made_in_the_web_runs_with_every_packs_checks(world, rules, define_checks):
    """A web-made check belongs to no pack (pack ""): a report runs it beside its own pack's checks."""
    from dangjian.indicators.models import Check

    define_checks({"code": "own", "label": "本包", "rule": "学习.次数 >= 1", "message": "应有学习"}, pack="u")
    Check.objects.create(
        code="web", label="网页规则", rule="学习.中心组 >= 1", message="应有中心组学习", pack=""
    )
    assert {r.code for r in run_checks(world.root, Y2019, pack="u")} == {"own", "web"}
    other = {r.code for r in run_checks(world.root, Y2019, pack="t")}
    assert "web" in other and "own" not in other


def test_given_values_are_used(world, rules):
    from dangjian.indicators import evaluate

    values = evaluate(world.root, Y2019)
    values["学习.中心组"].value = 99
    results = {r.code: r for r in run_checks(world.root, Y2019, values)}
    assert not results["part"].ok


def test_cli_exit_codes(world, rules, define_checks, capsys):
    args = argparse.Namespace(org="root", year=2019, template=None)
    assert check_command(args) == 0  # warnings only
    out = capsys.readouterr().out
    assert "✔ [错误] 中心组 ≤ 全部\n" in out
    assert "✘ [警告] 有天数：无法核对" in out
    define_checks({"code": "bad", "label": "必败", "rule": "学习.次数 < 0", "message": "不可能"}, pack="u")
    assert check_command(args) == 1
    assert "✘ [错误] 必败：不可能" in capsys.readouterr().out
    assert check_command(argparse.Namespace(org="root", year=2019, template="t")) == 0  # only pack t's rules
    assert check_command(argparse.Namespace(org="nowhere", year=2019, template=None)) == 2


def test_cli_through_the_dangjian_command(world, rules, capsys):
    from dangjian.cli import COMMANDS, build_parser

    args = build_parser().parse_args(["check", "--org", "root", "--year", "2019"])
    assert COMMANDS[args.command](args) == 0
    assert "核对结果" in capsys.readouterr().out
