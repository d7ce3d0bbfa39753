"""Counts across units: `count_units` (the units with a matching record) and the attribute `org.units` (the units
of some kinds in the subtree), so a template can say “3个社区中有2个开展了专题报告”."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.indicators import Period, evaluate, evidence_records
from dangjian.packs.loader import PackError

Y2019 = Period.year(2019)
REPORT = [{"field": "kind", "op": "=", "value": "专题报告"}]


def study(make_record, org, date, kind="专题报告"):
    return make_record("study_activity", org, {"date": date, "kind": kind, "title": "学习"})


@pytest.fixture
def units(world, make_record):
    from dangjian.orgs.models import Organization, OrgKind

    c3 = Organization.objects.add_child(
        world.s1, dict(code="c3", name="中共城关街道团结社区委员会", short_name="团结社区")
    )
    c3.kinds.set([OrgKind.objects.get(code="community")])
    world.s1.refresh_from_db()
    study(make_record, world.c1, "2019-03-01")
    study(make_record, world.c1, "2019-04-01")  # a second one in the same community counts it once
    study(make_record, world.c2, "2019-05-01")
    study(make_record, c3, "2018-05-01")  # last year only
    study(make_record, c3, "2019-06-01", "培训班")  # not a 专题报告
    study(make_record, world.s1, "2019-07-01")  # the street itself: not a community
    return world


def define_units(define):
    define(
        {
            "key": "学习.开展专题报告的社区",
            "label": "开展专题报告的社区数",
            "unit": "个",
            "ledger": "study_activity",
            "aggregate": "count_units",
            "where": REPORT,
            "org_kinds": ["community"],
        },
        {
            "key": "学习.开展专题报告的单位",
            "label": "开展专题报告的单位数",
            "ledger": "study_activity",
            "aggregate": "count_units",
            "where": REPORT,
        },
        {
            "key": "学习.社区数",
            "label": "社区数",
            "unit": "个",
            "attribute": "org.units",
            "org_kinds": ["community"],
        },
        {"key": "学习.单位数", "label": "单位数", "attribute": "org.units"},
        {
            "key": "学习.未开展的社区",
            "label": "未开展的社区",
            "formula": "学习.社区数 - 学习.开展专题报告的社区",
        },
    )


def test_how_many_units_meet_a_condition(units, define):
    define_units(define)
    keys = [
        "学习.开展专题报告的社区",
        "学习.开展专题报告的单位",
        "学习.社区数",
        "学习.单位数",
        "学习.未开展的社区",
    ]
    with CaptureQueriesContext(connection) as ctx:
        v = evaluate(units.root, Y2019, keys, previous=True)
    # Both counts and their 上年 twins in the ledger's one aggregate query.
    assert len([q for q in ctx.captured_queries if "ledgers_record" in q["sql"]]) == 1
    assert v["学习.社区数"].value == 3  # 幸福 和平 团结
    assert v["学习.开展专题报告的社区"].value == 2  # 幸福 (twice) and 和平
    assert v["学习.开展专题报告的社区"].evidence_count == 3  # the matched records
    assert v["学习.未开展的社区"].value == 1
    assert v["学习.开展专题报告的单位"].value == 3  # + the street itself
    assert v["学习.单位数"].value == 6  # root jw s1 c1 c2 c3
    assert v["上年.学习.开展专题报告的社区"].value == 1  # 团结 in 2018
    # Below the district: the street's subtree.
    street = evaluate(units.s1, Y2019, ["学习.社区数", "学习.单位数", "学习.开展专题报告的社区"])
    assert street["学习.社区数"].value == 3 and street["学习.单位数"].value == 4
    assert street["学习.开展专题报告的社区"].value == 2
    records = evidence_records("学习.开展专题报告的社区", units.root, Y2019)
    assert sorted(r.org.short_name for r in records) == ["和平社区", "幸福社区", "幸福社区"]


def test_the_json_output_and_evidence(client, units, define):
    define_units(define)
    client.force_login(units.viewer, backend="django.contrib.auth.backends.ModelBackend")
    query = {"key": "学习.开展专题报告的社区", "org": "root", "start": "2019-01-01", "end": "2019-12-31"}
    data = client.get("/indicators/evidence/", {**query, "format": "json"}).json()
    assert data["value"] == 2 and data["count"] == 3 and len(data["records"]) == 3


@pytest.mark.parametrize(
    ("item", "words"),
    [
        (
            {"key": "学习.x", "label": "x", "attribute": "org.name", "org_kinds": ["community"]},
            ["学习.x", "org.units"],
        ),
        (
            {"key": "学习.x", "label": "x", "attribute": "org.units", "org_kinds": ["martian"]},
            ["学习.x", "martian"],
        ),
        (
            {"key": "学习.x", "label": "x", "attribute": "org.units", "org_kinds": "community"},
            ["学习.x", "列表"],
        ),
        (
            {"key": "学习.x", "label": "x", "attribute": "org.units", "where": REPORT},
            ["学习.x", "不能有 where"],
        ),
    ],
)
def test_bad_unit_definitions_are_refused_at_pack_load(world, define, item, words):
    with pytest.raises(PackError) as exc:
        define(item)
    for word in words:
        assert word in str(exc.value)


def test_a_template_says_how_many_of_how_many(units, define):
    from tests.reports.conftest import FakeTemplate

    from dangjian.reports.slots import strip_markers
    from dangjian.reports.templating import render_text

    define_units(define)
    values = evaluate(units.root, Y2019)
    source = "{{ 学习.社区数 }}个社区中有{{ 学习.开展专题报告的社区 }}个开展了专题报告，{{ 学习.未开展的社区 }}个尚未开展。"
    marked, slots = render_text(FakeTemplate("t", source, None), values)
    assert strip_markers(marked) == "3个社区中有2个开展了专题报告，1个尚未开展。"
    # Each number is a slot of its indicator: the count of units leads to its records (evidence).
    assert [s._key for s in slots] == ["学习.社区数", "学习.开展专题报告的社区", "学习.未开展的社区"]
    assert slots[1]._info.evidence_count == 3
