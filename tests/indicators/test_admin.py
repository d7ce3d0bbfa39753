"""Admin pages for indicators and checks refuse what a pack would refuse, with the same Chinese message."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dangjian.indicators.models import Check, Indicator


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.sysadmin, backend="django.contrib.auth.backends.ModelBackend")
    return client


def indicator_form(world, **overrides):
    data = {
        "key": "学习.次数", "label": "学习次数", "unit": "次", "kind": "aggregate", "description": "", "pack": "",
        "ledger": world.ledger("study_activity").pk, "aggregate": "count", "field": "",
        "where": '[{"field": "kind", "op": "=", "value": "专题报告"}]', "status": "[]", "org_kinds": "[]",
        "scope": "subtree", "period": "within", "options": "{}", "formula": "", "attribute": "",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_it_creates_a_valid_indicator(admin_client, world):
    response = admin_client.post(reverse("admin:indicators_indicator_add"), indicator_form(world))
    assert response.status_code == 302
    assert Indicator.objects.get().where == [{"field": "kind", "op": "=", "value": "专题报告"}]
    assert admin_client.get(reverse("admin:indicators_indicator_changelist")).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"where": '[{"field": "nope", "op": "=", "value": 1}]'}, "字段“nope”不是台账 study_activity"),
        ({"aggregate": "sum", "field": "title"}, "sum 只能用于数字字段"),
        ({"kind": "formula", "ledger": "", "formula": "学习.没有 + 1"}, "不存在的指标：学习.没有"),
        ({"kind": "formula", "ledger": "", "formula": "学习.次数 +"}, "语法错误"),
    ],
)
def test_it_refuses_bad_definitions(admin_client, world, overrides, message):
    response = admin_client.post(
        reverse("admin:indicators_indicator_add"), indicator_form(world, **overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Indicator.objects.exists()


def test_it_refuses_a_formula_cycle(admin_client, world, define):
    define(
        {"key": "甲.a", "label": "a", "attribute": "period.year"},
        {"key": "甲.b", "label": "b", "formula": "甲.a + 1"},
    )
    a = Indicator.objects.get(key="甲.a")
    data = indicator_form(world, key="甲.a", kind="formula", ledger="", formula="甲.b + 1")
    response = admin_client.post(reverse("admin:indicators_indicator_change", args=[a.pk]), data)
    assert "公式循环引用" in response.content.decode()


def test_checks_admin_validates_the_rule(admin_client, world):
    data = {
        "code": "x",
        "label": "x",
        "rule": "学习.没有 > 0",
        "level": "error",
        "message": "m",
        "pack": "",
        "order": 0,
    }
    response = admin_client.post(reverse("admin:indicators_check_add"), data)
    assert "不存在的指标：学习.没有" in response.content.decode()
    assert not Check.objects.exists()


def test_only_members_of_the_named_orgs_define_indicators_over_a_confidential_ledger(
    admin_client, world, define
):
    """A filter like 被审查人 = 某人 would turn a count into "is this person under investigation?"."""
    case = world.ledger("discipline_case")
    probe = indicator_form(
        world, key="纪律.某人", ledger=case.pk, where='[{"field": "person", "op": "=", "value": "张三"}]'
    )
    response = admin_client.post(reverse("admin:indicators_indicator_add"), probe)
    assert response.status_code == 200 and not Indicator.objects.filter(key="纪律.某人").exists()
    define({"key": "纪律.立案", "label": "立案", "ledger": "discipline_case"})
    existing = Indicator.objects.get(key="纪律.立案")
    change = reverse("admin:indicators_indicator_change", args=[existing.pk])
    response = admin_client.post(change, {**probe, "key": "纪律.立案"})
    assert response.status_code == 403 and Indicator.objects.get(key="纪律.立案").where == []
    assert admin_client.get(change).status_code == 200  # it can still be read: a definition is not a record
    # ordinary ledgers are unaffected
    assert (
        admin_client.post(reverse("admin:indicators_indicator_add"), indicator_form(world)).status_code == 302
    )
