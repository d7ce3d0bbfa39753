"""Loading the `indicators` and `checks` pack sections: idempotent, and every mistake refused in Chinese."""

from __future__ import annotations

import pytest

from dangjian.indicators.models import Check, Indicator
from dangjian.packs.loader import PackError


def count(key="学习.次数", **kw):
    return {"key": key, "label": "次数", "ledger": "study_activity", "aggregate": "count", **kw}


def test_loading_twice_updates_in_place(define):
    define(count(unit="次"), {"key": "学习.两倍", "label": "两倍", "formula": "学习.次数 * 2"})
    define(count(unit="场"), {"key": "学习.两倍", "label": "两倍", "formula": "学习.次数 * 2"})
    assert Indicator.objects.count() == 2
    assert Indicator.objects.get(key="学习.次数").unit == "场"
    assert Indicator.objects.get(key="学习.两倍").kind == "formula"


def test_definitions_dropped_from_a_pack_are_removed(define):
    define(count(), count("学习.其他"))
    define(count())
    assert list(Indicator.objects.values_list("key", flat=True)) == ["学习.次数"]


@pytest.mark.parametrize(
    ("item", "words"),
    [
        (count(ledger="nope"), ["学习.次数", "台账“nope”不存在"]),
        (count(aggregate="sum", field="nope"), ["学习.次数", "字段“nope”不是台账 study_activity"]),
        (count(aggregate="sum", field="title"), ["sum 只能用于数字字段", "【主题】"]),
        (count(aggregate="avg_age", field="title"), ["出生日期字段"]),
        (count(aggregate="median"), ["汇总方式“median”不存在"]),
        (count(where=[{"field": "kind", "op": "~", "value": "x"}]), ["运算符“~”不存在"]),
        (
            count(where=[{"field": "kind", "op": "=", "value": "中心组学习"}]),
            ["“中心组学习”不是可选项", "【活动类型】"],
        ),
        (count(where=[{"field": "nope", "op": "=", "value": 1}]), ["字段“nope”不是台账"]),
        (count(where=[{"field": "participants", "op": ">=", "value": "many"}]), ["“many”不是数字"]),
        (
            count(where=[{"field": "participants", "op": "between", "value": [1]}]),
            ["between 的值应为 [下限, 上限]"],
        ),
        (count(where=[{"field": "date", "op": ">=", "value": "2019-13-01"}]), ["不是日期"]),
        (count(where=[{"field": "title", "op": "age<=", "value": 40}]), ["周岁", "日期字段"]),
        (count(where=[{"field": "date", "op": "age>=", "value": "40岁"}]), ["整数周岁", "“40岁”"]),
        (count(where=[{"field": "date", "op": "age<=", "value": True}]), ["整数周岁"]),
        (count(org_kinds=["martian"]), ["组织类别不存在：martian"]),
        (count(period="ever"), ["period 应为"]),
        (count(aggregate="share"), ["share_where"]),
        (count(colour="red"), ["未知属性：colour"]),
        ({"key": "学习.x", "label": "x", "formula": "学习.没有 + 1"}, ["学习.x", "不存在的指标：学习.没有"]),
        ({"key": "学习.x", "label": "x", "formula": "学习.x + 1"}, ["引用了它自己"]),
        ({"key": "学习.x", "label": "x", "formula": "学习.次数 +"}, ["语法错误"]),
        ({"key": "学习.x", "label": "x", "formula": "__import__('os')"}, ["只能调用函数"]),
        ({"key": "学习.x", "label": "x", "attribute": "org.secret"}, ["属性“org.secret”不存在"]),
        ({"key": "学习.x", "label": "x", "formula": "1", "ledger": "study_activity"}, ["三者之一"]),
        ({"key": "上年.x", "label": "x", "attribute": "org.name"}, ["不能以“上年”开头"]),
        ({"key": "学习.1x", "label": "x", "attribute": "org.name"}, ["不能作为名称"]),
    ],
)
def test_mistakes_are_refused_with_a_chinese_message(define, item, words):
    with pytest.raises(PackError) as exc:
        define(count(), item) if item.get("key") != "学习.次数" else define(item)
    for word in words:
        assert word in str(exc.value)


def test_formula_cycles_and_key_conflicts_are_refused(define):
    with pytest.raises(PackError, match="公式循环引用"):
        define(
            {"key": "甲.a", "label": "a", "formula": "甲.b + 1"},
            {"key": "甲.b", "label": "b", "formula": "甲.a + 1"},
        )
    with pytest.raises(PackError, match="冲突"):
        define(count("学习"), count("学习.次数"))


def test_checks_load_and_validate(define, define_checks):
    define(count())
    rule = {"code": "positive", "label": "有学习", "rule": "学习.次数 > 0", "message": "应有学习活动"}
    define_checks(rule)
    define_checks(rule)
    check = Check.objects.get()
    assert (check.level, check.pack) == ("error", "t")
    with pytest.raises(PackError, match="不存在的指标：学习.没有"):
        define_checks({**rule, "rule": "学习.没有 > 0"})
    with pytest.raises(PackError, match="级别“fatal”不存在"):
        define_checks({**rule, "level": "fatal"})
    with pytest.raises(PackError, match="缺少 message"):
        define_checks({"code": "x", "label": "x", "rule": "1 == 1"})
