"""Grouped indicators (issue 12): `group_by` a choice field, `org_kind` or `unit` gives one value per group, in the
same per-ledger query as every other indicator, with each group's evidence; checks over the parts; lists in the
org tree's order or by another field; the share of units meeting a condition."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.indicators import Period, evaluate
from dangjian.indicators.engine import evaluate_per_indicator, run_checks
from dangjian.indicators.grouped_values import Grouped
from dangjian.packs.loader import PackError

Y2019 = Period.year(2019)
KINDS = [
    "中心组集体学习",
    "专题报告",
    "理论宣讲",
    "微型党课",
    "培训班",
]  # the first choices, in the field's order


def study(make_record, org, date, kind, participants=10, series=""):
    values = {"date": date, "kind": kind, "title": "学习", "participants": participants}
    if series:
        values["series"] = series
    return make_record("study_activity", org, values)


@pytest.fixture
def grouped_world(world, make_record):
    from dangjian.orgs.models import Organization, OrgKind

    s2 = Organization.objects.add_child(
        world.root, dict(code="s2", name="中共测试区东关街道工作委员会", short_name="东关街道")
    )
    s2.kinds.set([OrgKind.objects.get(code="street")])
    world.root.refresh_from_db()
    # 城关街道 (s1 and its communities): 3 专题报告, 1 培训班; 东关街道: 2 理论宣讲, 1 专题报告; 区委本级: 1 培训班
    study(make_record, world.c1, "2019-03-01", "专题报告", 12, "乡村振兴")
    study(make_record, world.c2, "2019-04-01", "专题报告", 8, "党史")
    study(make_record, world.s1, "2019-05-01", "专题报告", 20, "党史")
    study(make_record, world.c1, "2019-06-01", "培训班", 30)
    study(make_record, s2, "2019-02-01", "理论宣讲", 15, "乡村振兴")
    study(make_record, s2, "2019-07-01", "理论宣讲", 5)
    study(make_record, s2, "2019-08-01", "专题报告", 7)
    study(make_record, world.root, "2019-09-01", "培训班", 40)
    study(make_record, world.c2, "2018-09-01", "专题报告", 9)  # last year only
    world.s2 = s2
    return world


def ind(key, **extra):
    return {"key": key, "label": key.split(".")[-1], "unit": "次", "ledger": "study_activity", **extra}


def parts(value):
    assert isinstance(value, Grouped)
    return [(p.label, p.value, p.records) for p in value.parts]


def test_one_value_per_choice_in_the_fields_order_in_the_same_query(grouped_world, define):
    define(
        ind("学习.次数"),
        ind("学习.按类型", group_by="kind"),
        ind("学习.人数按类型", aggregate="sum", field="participants", group_by="kind"),
        ind("学习.按类型排序", group_by="kind", order="count"),
    )
    keys = ["学习.次数", "学习.按类型", "学习.人数按类型", "学习.按类型排序"]
    with CaptureQueriesContext(connection) as ctx:
        v = evaluate(grouped_world.root, Y2019, keys, previous=True)
    # Every group of every indicator, and the 上年 twins, in the ledger's one aggregate query: no query per group.
    assert len([q for q in ctx.captured_queries if "ledgers_record" in q["sql"]]) == 1
    by_kind = v["学习.按类型"].value
    assert by_kind.total == v["学习.次数"].value == 8  # the total is the ungrouped value
    assert parts(by_kind)[:5] == [
        ("中心组集体学习", 0, 0),
        ("专题报告", 4, 4),
        ("理论宣讲", 2, 2),
        ("微型党课", 0, 0),
        ("培训班", 2, 2),
    ]
    assert [p.label for p in by_kind.parts][:5] == KINDS  # the choice order, never the characters
    assert sum(p.value for p in by_kind.parts) == 8 and v["学习.按类型"].evidence_count == 8
    assert parts(v["学习.人数按类型"].value)[1] == ("专题报告", 47, 4)
    assert v["学习.人数按类型"].value.total == 137
    # order = "count": largest first; equal figures (理论宣讲, 培训班: 2 each) keep the choice order
    ranked = [(p.label, p.value) for p in v["学习.按类型排序"].value.parts]
    assert ranked[:3] == [("专题报告", 4), ("理论宣讲", 2), ("培训班", 2)]
    assert v["上年.学习.按类型"].value.part("专题报告").value == 1
    # The naive way (one query per indicator) agrees.
    naive = evaluate_per_indicator(grouped_world.root, Y2019, keys, previous=False)
    assert parts(naive["学习.按类型"].value) == parts(by_kind)


def test_units_in_the_org_trees_order_each_counting_its_subtree(grouped_world, define):
    define(ind("学习.按单位", group_by="unit"), ind("学习.按单位排名", group_by="unit", order="count"))
    v = evaluate(grouped_world.root, Y2019, ["学习.按单位", "学习.按单位排名"])
    # 区纪委监委, 城关街道 (with its communities), 东关街道 in the tree's order; the district's own record: 本级
    assert parts(v["学习.按单位"].value) == [
        ("区纪委监委", 0, 0),
        ("城关街道", 4, 4),
        ("东关街道", 3, 3),
        ("本级", 1, 1),
    ]
    assert [p.name for p in v["学习.按单位"].value.parts] == ["jw", "s1", "s2", "~本级"]
    assert [p.label for p in v["学习.按单位排名"].value.parts] == [
        "城关街道",
        "东关街道",
        "本级",
        "区纪委监委",
    ]
    # Below the district: the street's communities, and no 本级 when the street itself has none… it has one
    street = evaluate(grouped_world.s1, Y2019, ["学习.按单位"])["学习.按单位"].value
    assert parts(street) == [("幸福社区", 2, 2), ("和平社区", 1, 1), ("本级", 1, 1)]
    community = evaluate(grouped_world.c1, Y2019, ["学习.按单位"])["学习.按单位"].value
    assert parts(community) == [("本级", 2, 2)] and len(community) == 0


def test_org_kinds_in_the_packs_order(grouped_world, define):
    define(
        ind("学习.按类别", group_by="org_kind"),
        ind("学习.街道社区", group_by="org_kind", org_kinds=["community", "street"]),
    )
    v = evaluate(grouped_world.root, Y2019, ["学习.按类别", "学习.街道社区"])
    shown = {label: (n, records) for label, n, records in parts(v["学习.按类别"].value)}
    assert shown["区（县）委"] == (1, 1) and shown["街道"] == (4, 4) and shown["社区"] == (3, 3)
    labels = [p.label for p in v["学习.街道社区"].value.parts]
    assert labels == ["街道", "社区"]  # the pack's order (street before community), not the order written
    assert v["学习.街道社区"].value.total == 7


def test_each_groups_evidence_lists_exactly_its_records(client, grouped_world, define):
    define(ind("学习.按单位", group_by="unit"), ind("学习.按类型", group_by="kind"))
    client.force_login(grouped_world.viewer, backend="django.contrib.auth.backends.ModelBackend")
    base = {"org": "root", "start": "2019-01-01", "end": "2019-12-31", "format": "json"}
    whole = client.get("/indicators/evidence/", {**base, "key": "学习.按单位"}).json()
    assert whole["value"] == 8 and whole["count"] == 8 and whole["group"] is None
    assert [(g["label"], g["value"], g["evidence"]["records"]) for g in whole["groups"]] == [
        ("区纪委监委", 0, 0), ("城关街道", 4, 4), ("东关街道", 3, 3), ("本级", 1, 1),
    ]  # fmt: skip
    counted = 0
    for name, label, n in [
        ("jw", "区纪委监委", 0),
        ("s1", "城关街道", 4),
        ("s2", "东关街道", 3),
        ("~本级", "本级", 1),
    ]:
        data = client.get("/indicators/evidence/", {**base, "key": "学习.按单位", "group": name}).json()
        assert (data["group"], data["value"], data["count"], len(data["records"])) == (label, n, n, n)
        counted += len(data["records"])
    assert counted == whole["count"]
    report = client.get("/indicators/evidence/", {**base, "key": "学习.按类型", "group": "专题报告"}).json()
    assert report["count"] == 4 and {r["values"]["kind"] for r in report["records"]} == {"专题报告"}
    missing = client.get("/indicators/evidence/", {**base, "key": "学习.按类型", "group": "没有这一类"})
    assert missing.status_code == 404
    # The page itself: the whole value lists its groups with their links; a group's page names it.
    page = client.get(
        "/indicators/evidence/", {k: v for k, v in base.items() if k != "format"} | {"key": "学习.按单位"}
    )
    html = page.content.decode()
    assert page.status_code == 200 and "城关街道" in html and "group=s1" in html
    one = client.get("/indicators/evidence/", {"key": "学习.按单位", "org": "root", "start": "2019-01-01",
                                                "end": "2019-12-31", "group": "s2"})  # fmt: skip
    assert (
        one.status_code == 200
        and "东关街道" in one.content.decode()
        and "查看全部分组" in one.content.decode()
    )


def test_the_indicator_json_carries_every_group(client, grouped_world, define):
    define(ind("学习.按类型", group_by="kind"), ind("学习.次数"))
    client.force_login(grouped_world.viewer, backend="django.contrib.auth.backends.ModelBackend")
    got = client.get(
        "/api/indicators/values", {"org": "root", "year": 2019, "keys": "学习.按类型,学习.次数"}
    ).json()
    values = {v["key"]: v for v in got["values"]}
    grouped = values["学习.按类型"]
    assert grouped["value"] == 8 and grouped["evidence"]["records"] == 8
    report = next(g for g in grouped["groups"] if g["name"] == "专题报告")
    assert (report["label"], report["value"], report["display"], report["evidence"]["records"]) == (
        "专题报告",
        4,
        "4",
        4,
    )
    assert "group=" in report["evidence"]["url"] and "group=" in report["evidence"]["api"]
    assert values["学习.次数"]["groups"] is None
    api = client.get(report["evidence"]["api"]).json()
    assert api["count"] == 4 and api["group"] == "专题报告"


def test_a_check_says_the_parts_add_up_and_a_formula_counts_the_units(grouped_world, define, define_checks):
    define(
        ind("学习.按类型", group_by="kind"),
        ind("学习.按单位", group_by="unit", where=[{"field": "kind", "op": "=", "value": "专题报告"}]),
        {"key": "学习.开展两次以上的单位", "label": "x", "formula": "count_at_least(学习.按单位, 2)"},
        {"key": "学习.单位数", "label": "x", "formula": "len(学习.按单位)"},
        {"key": "学习.每次人数", "label": "x", "formula": "学习.按类型 * 2"},
        {"key": "学习.合计", "label": "x", "formula": "学习.按类型"},
    )
    define_checks(
        {"code": "parts", "label": "分类之和等于合计", "rule": "sum(学习.按类型) == 学习.按类型", "message": "分类之和不等于合计"},
        {"code": "wrong", "label": "故意不符", "rule": "sum(学习.按类型) == 学习.按类型 + 1", "message": "不符"},
    )  # fmt: skip
    v = evaluate(grouped_world.root, Y2019)
    assert v["学习.开展两次以上的单位"].value == 1  # 城关街道 (3); 东关街道 has 1, 本级 is not a unit
    assert v["学习.单位数"].value == 3  # jw s1 s2
    assert v["学习.每次人数"].value == 16  # a grouped value computes as its total
    total = v["学习.合计"].value  # a formula naming a grouped value is its total, not a grouping
    assert total == 8 and not isinstance(total, Grouped)
    results = {r.code: r for r in run_checks(grouped_world.root, Y2019, pack="t")}
    assert results["parts"].ok and not results["wrong"].ok
    # A failure shows the total and its parts
    assert "学习.按类型 = 8（中心组集体学习 0、专题报告 4、理论宣讲 2、" in results["wrong"].message


def test_the_share_of_units_meeting_a_condition(grouped_world, define):
    """“3个街道中有2个开展了专题报告，占66.7%”: count_units over org.units, as a formula with its decimals."""
    define(
        ind("学习.开展专题报告的街道", aggregate="count_units", org_kinds=["street"],
            where=[{"field": "kind", "op": "=", "value": "专题报告"}]),
        {"key": "学习.街道数", "label": "街道数", "attribute": "org.units", "org_kinds": ["street"]},
        {"key": "学习.开展街道占比", "label": "占比", "formula": "100 * 学习.开展专题报告的街道 / 学习.街道数",
         "decimals": 1},
    )  # fmt: skip
    from dangjian.orgs.models import Organization, OrgKind

    s3 = Organization.objects.add_child(
        grouped_world.root, dict(code="s3", name="西关街道", short_name="西关街道")
    )
    s3.kinds.set([OrgKind.objects.get(code="street")])
    grouped_world.root.refresh_from_db()
    v = evaluate(grouped_world.root, Y2019, ["学习.开展街道占比", "学习.街道数", "学习.开展专题报告的街道"])
    assert (v["学习.街道数"].value, v["学习.开展专题报告的街道"].value) == (3, 2)
    assert str(v["学习.开展街道占比"].value) == "66.7"


def test_lists_in_the_org_trees_order_or_by_another_field(grouped_world, define):
    define(
        ind("学习.专题按单位", aggregate="list", field="series", order="org_tree"),
        ind("学习.专题按人数", aggregate="list", field="series", order_by="participants"),
        ind("学习.专题按次数", aggregate="list", field="series"),
    )
    v = evaluate(grouped_world.root, Y2019)
    # 乡村振兴: 幸福社区 (root/s1/c1) and 东关街道; 党史: 和平社区 (root/s1/c2) and 城关街道 (root/s1) — s1 first
    assert v["学习.专题按单位"].value == ["党史", "乡村振兴"]
    assert v["学习.专题按人数"].value == ["党史", "乡村振兴"]  # 8 people < 12
    assert v["学习.专题按次数"].value == ["乡村振兴", "党史"]  # 2 each: the first entered first


@pytest.mark.parametrize(
    ("item", "words"),
    [
        (ind("学习.x", group_by="title"), ["学习.x", "【主题】", "单选字段", "kind"]),
        (ind("学习.x", group_by="nothing"), ["学习.x", "nothing", "不是台账", "org_kind", "unit"]),
        (ind("学习.x", group_by=3), ["学习.x", "group_by"]),
        (ind("学习.x", group_by="kind", aggregate="list", field="title"), ["学习.x", "list", "不能分组"]),
        (ind("学习.x", group_by="kind", order="first"), ["学习.x", "order", "count"]),
        ({"key": "学习.x", "label": "x", "formula": "1", "group_by": "kind"}, ["学习.x", "不能有 group_by"]),
        (ind("学习.x", order="org"), ["学习.x", "org_tree"]),
        (ind("学习.x", aggregate="list", field="title", order_by="nope"), ["学习.x", "order_by", "nope"]),
        (ind("学习.x", order_by="date"), ["学习.x", "order_by", "取值列表"]),
    ],
)
def test_a_bad_grouping_is_refused_at_pack_load_naming_the_indicator(world, define, item, words):
    from dangjian.indicators.models import Indicator

    with pytest.raises(PackError) as exc:
        define(item)
    for word in words:
        assert word in str(exc.value)
    assert not Indicator.objects.filter(key="学习.x").exists()


def test_confidential_groups_follow_the_rules_for_outsiders(world, make_record, define):
    from dangjian.indicators.engine import viewing_as

    for no, rank in enumerate(["乡科级", "乡科级", "乡科级", "一般干部"]):
        make_record("discipline_case", world.jw, {"filed_on": "2019-04-01", "case_no": str(no), "person": "某",
                                                  "rank": rank})  # fmt: skip
    define(
        {"key": "纪律.按职级", "label": "x", "ledger": "discipline_case", "group_by": "rank"},
        {"key": "纪律.按单位", "label": "x", "ledger": "discipline_case", "group_by": "unit"},
    )
    keys = ["纪律.按职级", "纪律.按单位"]
    with viewing_as(world.viewer):  # 查看者 at the district: not a member of the 纪委
        year = evaluate(world.root, Y2019, keys, previous=False)
        half = evaluate(world.root, Period.parse("2019H1"), keys, previous=False)
    assert [p.value for p in year["纪律.按职级"].value.parts][:3] == [0, 3, 1]
    assert "不按下级单位分组" in year["纪律.按单位"].refused
    assert "只按整年" in half["纪律.按职级"].refused
    with viewing_as(world.jiwei):  # a member sees everything
        member = evaluate(world.root, Period.parse("2019H1"), keys, previous=False)
    assert member["纪律.按单位"].value.part("jw").value == 4


def test_a_groups_evidence_goes_through_the_same_access_rules(client, world, make_record, define):
    for no in range(3):
        make_record(
            "discipline_case",
            world.jw,
            {"filed_on": "2019-04-01", "case_no": str(no), "person": "某", "rank": "乡科级"},
        )
    define(
        {"key": "纪律.按单位", "label": "x", "ledger": "discipline_case", "group_by": "unit"},
        {"key": "纪律.按职级", "label": "x", "ledger": "discipline_case", "group_by": "rank"},
    )
    query = {"org": "root", "start": "2019-01-01", "end": "2019-12-31", "format": "json"}

    def ask(user, key, group):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client.get("/indicators/evidence/", {**query, "key": key, "group": group})

    refused = ask(world.viewer, "纪律.按单位", "jw")  # an outsider: never per unit
    assert refused.status_code == 403 and "不按下级单位分组" in refused.json()["error"]
    counted = ask(world.viewer, "纪律.按职级", "乡科级").json()  # per rank, a whole year: the count, no rows
    assert counted["count"] == 3 and counted["records"] is None and counted["rows_visible"] is False
    client.force_login(world.jiwei, backend="django.contrib.auth.backends.ModelBackend")
    member = client.get(
        "/indicators/evidence/", {**query, "org": "jw", "key": "纪律.按单位", "group": "~本级"}
    )
    data = member.json()  # a member of the 纪委, for the 纪委 itself: its own records are 本级, rows shown
    assert data["group"] == "本级" and data["count"] == 3 and len(data["records"]) == 3
    assert (
        ask(world.clerk, "纪律.按职级", "乡科级").status_code == 403
    )  # the clerk may not run the district's report


def test_saving_a_grouped_indicator_in_the_builder_keeps_its_grouping(client, world, define):
    from dangjian.indicators.models import Indicator

    define(ind("学习.按单位", group_by="unit", order="count"))
    client.force_login(world.unit_admin, backend="django.contrib.auth.backends.ModelBackend")
    data = {"label": "各单位学习次数", "kind": "aggregate", "ledger": "study_activity", "aggregate": "count"}
    assert client.post("/indicators/builder/学习.按单位/", data).status_code == 302
    saved = Indicator.objects.get(key="学习.按单位")
    assert saved.label == "各单位学习次数" and saved.options == {"group_by": "unit", "order": "count"}


def test_units_of_some_kinds_only_list_the_children_holding_them(grouped_world, define):
    define(
        ind("学习.各街道", group_by="unit", org_kinds=["street", "community"]),
        {"key": "学习.街道个数", "label": "x", "formula": "len(学习.各街道)"},
        {"key": "学习.两次以上", "label": "x", "formula": "count_at_least(学习.各街道, 3)"},
    )
    v = evaluate(grouped_world.root, Y2019, ["学习.各街道", "学习.街道个数", "学习.两次以上"])
    # 区纪委监委 holds no street or community: not a group; the district's own record is of neither kind
    assert parts(v["学习.各街道"].value) == [("城关街道", 4, 4), ("东关街道", 3, 3)]
    assert (v["学习.街道个数"].value, v["学习.两次以上"].value) == (2, 2)
