"""The indicator builder, tried as the report writer would: through the web form, never JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import tomllib

from dangjian.indicators import versions
from dangjian.indicators.engine import Period, evaluate
from dangjian.indicators.models import DefinitionVersion, Indicator
from dangjian.packs.handlers_indicators import load_indicators
from dangjian.packs.loader import Pack, PackError

NEW = "/indicators/builder/new/"
PREVIEW = "/indicators/builder/preview/"
KEY = "学习.专题报告人次"

# The same indicator as a pack writes it.
TOML = """
[[indicators]]
key = "学习.专题报告人次"
label = "专题报告参加人次"
unit = "人次"
ledger = "study_activity"
aggregate = "sum"
field = "participants"
where = [
  { field = "kind", op = "in", value = ["专题报告", "理论宣讲"] },
  { field = "participants", op = ">=", value = 5 },
  { field = "date", op = "between", value = ["2019-03-01", "2019-10-31"] },
]
decimals = 0
"""


def form(**extra):
    """The builder's form as the browser posts it (condition rows c0-…, a choice list as a multi-select)."""
    data = {
        "key": KEY,
        "label": "专题报告参加人次",
        "unit": "人次",
        "kind": "aggregate",
        "ledger": "study_activity",
        "aggregate": "sum",
        "field": "participants",
        "c0-field": "kind",
        "c0-op": "in",
        "c0-value": ["专题报告", "理论宣讲"],
        "c1-field": "participants",
        "c1-op": ">=",
        "c1-value": "5",
        "c2-field": "date",
        "c2-op": "between",
        "c2-value": ["2019-03-01", "2019-10-31"],
        "scope": "subtree",
        "period": "within",
        "decimals": "0",
        "preview_org": "root",
        "preview_period": "2019",
    }
    data.update(extra)
    return data


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def records(world, make_record):
    rows = [
        (world.c1, "2019-05-01", "专题报告", 12),
        (world.c2, "2019-06-01", "理论宣讲", 7),
        (world.c2, "2019-06-02", "理论宣讲", 3),  # too few participants
        (world.root, "2019-02-01", "专题报告", 40),  # before March
        (world.c1, "2019-07-01", "培训班", 30),  # another kind
    ]
    for org, day, kind, n in rows:
        make_record(
            "study_activity", org, {"date": day, "kind": kind, "title": f"{kind}{n}", "participants": n}
        )
    return world


def _pack(name: str) -> Pack:
    return Pack(name, name, 50, Path("."), {})


def test_an_indicator_built_by_the_form_equals_the_same_indicator_in_toml(client, records):
    login(client, records.unit_admin)
    response = client.post(NEW, form())
    assert response.status_code == 302, response.content.decode()
    built = Indicator.objects.get(key=KEY)
    built_value = evaluate(records.root, Period.year(2019), [KEY], previous=False)[KEY]
    built_evidence = client.get(
        "/indicators/evidence/", {"key": KEY, "org": "root", "start": "2019-01-01", "end": "2019-12-31"}
    ).content.decode()

    # The same indicator written in TOML, loaded through a pack, in place of the built one.
    definition = versions.to_item(built)
    built.delete()
    DefinitionVersion.objects.all().delete()
    load_indicators(tomllib.loads(TOML)["indicators"], _pack("t"))
    assert versions.to_item(Indicator.objects.get(key=KEY)) == definition
    toml_value = evaluate(records.root, Period.year(2019), [KEY], previous=False)[KEY]
    assert (
        (built_value.value, built_value.evidence_count)
        == (toml_value.value, toml_value.evidence_count)
        == (19, 2)
    )
    toml_evidence = client.get(
        "/indicators/evidence/", {"key": KEY, "org": "root", "start": "2019-01-01", "end": "2019-12-31"}
    ).content.decode()
    assert built_evidence.count('href="/ledgers/study_activity/') == 2
    assert toml_evidence.count('href="/ledgers/study_activity/') == 2
    assert (
        "专题报告12" in built_evidence and "理论宣讲7" in built_evidence and "理论宣讲3" not in built_evidence
    )


def test_the_preview_shows_the_unsaved_value_and_its_records(client, records):
    login(client, records.unit_admin)
    body = client.post(PREVIEW, form()).content.decode()
    assert "<strong>19人次</strong>" in body
    assert "佐证记录 <strong>2</strong> 条" in body
    assert "专题报告12" in body and "培训班30" not in body
    assert "保存后可打开完整的佐证页" in body
    assert not Indicator.objects.filter(key=KEY).exists()
    # A quarter: only its records.
    body = client.post(PREVIEW, form(preview_period="2019Q2")).content.decode()
    assert "<strong>19人次</strong>" in body
    body = client.post(PREVIEW, form(preview_period="2019Q3")).content.decode()
    assert "佐证记录 <strong>0</strong> 条" in body
    # Once saved, the preview links to the normal evidence page.
    client.post(NEW, form())
    body = client.post(PREVIEW, form()).content.decode()
    assert "/indicators/evidence/?key=" in body and "打开佐证页" in body


def test_a_bad_period_or_definition_shows_in_the_preview(client, records):
    login(client, records.unit_admin)
    assert "请先选择台账" in client.post(PREVIEW, form(ledger="")).content.decode()
    assert "报告期“20x9”无效" in client.post(PREVIEW, form(preview_period="20x9")).content.decode()
    body = client.post(PREVIEW, form(**{"c0-value": "中心组"})).content.decode()
    assert "“中心组”不是可选项" in body and "【活动类型】" in body


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"c0-value": ["中心组"]}, ["【活动类型】", "“中心组”不是可选项"]),
        ({"c1-value": "很多"}, ["【参加人数】", "“很多”不是数字"]),
        ({"c1-op": "=", "c1-value": ""}, ["筛选条件第 2 条", "缺少值"]),
        ({"field": "title"}, ["sum 只能用于数字字段", "【主题】"]),
        ({"ledger": "nope"}, ["台账“nope”不存在"]),
        ({"key": "上年.x"}, ["不能以“上年”开头"]),
        ({"label": ""}, ["名称不能为空"]),
        ({"label": "长" * 201}, ["名称不能超过 200 字"]),
        ({"c3-field": "title", "c3-op": "contains", "c3-value": "x" * 201}, ["筛选条件第 4 条的值过长"]),
        ({"decimals": "-1"}, ["小数位数应为 0 到 9999 的整数"]),
    ],
)
def test_an_invalid_definition_is_refused_in_chinese_and_nothing_is_saved(client, records, change, words):
    login(client, records.unit_admin)
    response = client.post(NEW, form(**change))
    assert response.status_code == 400
    body = response.content.decode()
    assert "定义有误，未保存" in body
    for word in words:
        assert word in body
    assert not Indicator.objects.filter(key=KEY).exists()
    assert not DefinitionVersion.objects.exists()


def test_a_list_typed_into_one_box_is_read_as_a_list(client, records):
    login(client, records.unit_admin)
    assert (
        client.post(
            NEW, form(**{"c0-value": "专题报告、理论宣讲", "c2-value": "2019-03-01，2019-10-31"})
        ).status_code
        == 302
    )
    where = Indicator.objects.get(key=KEY).where
    assert where[0]["value"] == ["专题报告", "理论宣讲"] and where[2]["value"] == ["2019-03-01", "2019-10-31"]


def test_condition_rows_are_bounded(client, records):
    login(client, records.unit_admin)
    rows = {}
    for i in range(21):
        rows |= {f"c{i}-field": "title", f"c{i}-op": "!=", f"c{i}-value": f"x{i}"}
    body = client.post(NEW, {**form(), **rows}).content.decode()
    assert "筛选条件最多 20 条" in body
    assert not Indicator.objects.filter(key=KEY).exists()


def test_an_existing_key_is_not_taken_over(client, records, define):
    define({"key": KEY, "label": "已有", "ledger": "study_activity"})
    login(client, records.unit_admin)
    response = client.post(NEW, form())
    assert response.status_code == 400
    assert f"指标键“{KEY}”已存在" in response.content.decode()
    assert Indicator.objects.get(key=KEY).label == "已有"


def test_the_form_offers_the_fields_choices_and_operators(client, records, define):
    define(
        {
            "key": KEY,
            "label": "已有",
            "ledger": "study_activity",
            "where": [{"field": "kind", "op": "=", "value": "专题报告"}],
        }
    )
    login(client, records.unit_admin)
    body = client.get(f"/indicators/builder/{KEY}/").content.decode()
    catalogue = json.loads(re.search(r'id="builder-catalogue"[^>]*>(.*?)</script>', body, re.S).group(1))
    kind = next(f for f in catalogue["ledgers"]["study_activity"]["fields"] if f["code"] == "kind")
    assert "中心组集体学习" in kind["choices"]  # the field's own choices
    assert "age<=" in catalogue["ops"]["date"] and "age<=" not in catalogue["ops"]["choice"]
    assert "年龄不超过（周岁）" in body  # operators by type, in Chinese
    assert 'name="c0-field"' in body and 'data-value="&quot;专题报告&quot;"' in body
    assert "/static/indicators/builder.js" in body


def test_a_formula_indicator_is_built_and_checked(client, records, define):
    define({"key": "学习.次数", "label": "次数", "ledger": "study_activity"})
    login(client, records.unit_admin)
    bad = client.post(
        NEW, {"key": "学习.两倍", "label": "两倍", "kind": "formula", "formula": "学习.没有 * 2"}
    )
    assert bad.status_code == 400 and "不存在的指标：学习.没有" in bad.content.decode()
    ok = client.post(
        NEW, {"key": "学习.两倍", "label": "两倍", "kind": "formula", "formula": "学习.次数 * 2"}
    )
    assert ok.status_code == 302
    assert evaluate(records.root, Period.year(2019), ["学习.两倍"], previous=False)["学习.两倍"].value == 10


def test_export_toml_loads_back_as_the_identical_definition(client, records, define):
    define(
        {
            "key": "学习.占比",
            "label": "宣讲占比 \"引号\" \\ 与换行\n",
            "description": "控制字符\t\u0001",
            "ledger": "study_activity",
            "aggregate": "share",
            "where": [{"field": "participants", "op": ">=", "value": 1}],
            "share_where": [{"field": "kind", "op": "in", "value": ["理论宣讲", "专题报告"]}],
            "org_kinds": ["community"],
            "scope": "self",
            "period": "cumulative",
            "decimals": 2,
        },
        {"key": "学习.名单", "label": "主讲人", "ledger": "study_activity", "aggregate": "list", "field": "speaker",
         "order": "first", "limit": 3},
        {"key": "学习.合计", "label": "合计", "formula": "学习.占比 + 1", "decimals": 0},
        {"key": "本区.地名", "label": "地名", "attribute": "org.place_name"},
    )  # fmt: skip
    login(client, records.unit_admin)
    for key in ("学习.占比", "学习.名单", "学习.合计", "本区.地名"):
        response = client.get(f"/indicators/builder/{key}/export.toml")
        assert response.status_code == 200
        assert "attachment" in response["Content-Disposition"]
        text = response.content.decode()
        assert text.startswith("[[indicators]]\n")
        before = versions.to_item(Indicator.objects.get(key=key))
        items = tomllib.loads(text)["indicators"]
        assert items == [before]
        Indicator.objects.filter(key=key).update(pack="other")
        Indicator.objects.filter(key=key).delete() if key != "学习.占比" else None
    # Loaded in a temporary pack, the exported table gives the identical definition.
    share = versions.to_item(Indicator.objects.get(key="学习.占比"))
    Indicator.objects.filter(key="学习.合计").delete()
    Indicator.objects.filter(key="学习.占比").delete()
    load_indicators(tomllib.loads(versions.as_toml([share]))["indicators"], _pack("tmp"))
    assert versions.to_item(Indicator.objects.get(key="学习.占比")) == share


def test_toml_strings_escape_what_they_must():
    for text in ['a"b', "a\\b", "行\n二", "\t\u0001\u007f", "'''", "普通"]:
        assert tomllib.loads(f"x = {versions.toml_string(text)}")["x"] == text


def test_a_pack_refuses_a_key_made_in_the_web(client, records):
    login(client, records.unit_admin)
    client.post(NEW, form())
    with pytest.raises(PackError, match="已在网页或系统管理中建立"):
        load_indicators([{"key": KEY, "label": "x", "ledger": "study_activity"}], _pack("late"))
    assert Indicator.objects.get(key=KEY).aggregate == "sum"


NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"]


def test_a_confidential_ledgers_figure_is_previewed_only_as_the_user_may_see_it(client, world, make_record):
    for n, name in enumerate(NAMES):
        make_record(
            "discipline_case", world.jw, {"filed_on": "2019-04-01", "case_no": f"纪案{n}", "person": name}
        )
    login(client, world.unit_admin)
    count = {
        "key": "纪律.立案",
        "label": "立案数",
        "kind": "aggregate",
        "ledger": "discipline_case",
        "aggregate": "count",
        "preview_org": "root",
        "preview_period": "2019",
    }
    body = client.post(PREVIEW, count).content.decode()
    assert "<strong>6</strong>" in body
    assert "纪案0" not in body and not any(name in body for name in NAMES)
    assert "涉密台账" in body
    names = {**count, "aggregate": "list", "field": "person"}
    body = client.post(PREVIEW, names).content.decode()
    assert not any(name in body for name in NAMES)
    assert "notice-inline" in body  # withheld, with the reason


def test_only_report_writers_may_use_the_builder(client, records, define):
    from dangjian.orgs.models import Membership, Role

    define({"key": KEY, "label": "已有", "ledger": "study_activity"})
    urls = ["/indicators/builder/", NEW, f"/indicators/builder/{KEY}/", f"/indicators/builder/{KEY}/export.toml",
            f"/indicators/builder/{KEY}/versions/"]  # fmt: skip
    for user in (records.reviewer, records.viewer, records.clerk, records.sysadmin, records.outsider):
        login(client, user)
        for url in urls:
            assert client.get(url).status_code == 403, (user, url)
        assert client.post(PREVIEW, form()).status_code == 403
        assert client.post(NEW, form(key="学习.别的")).status_code == 403
    assert not Indicator.objects.filter(key="学习.别的").exists()
    writer = records.outsider
    Membership.objects.create(user=writer, org=records.root, role=Role.REVIEWER)
    login(client, writer)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_the_evidence_page_links_report_writers_to_the_builder(client, records, define):
    define({"key": KEY, "label": "已有", "ledger": "study_activity"})
    query = {"key": KEY, "org": "root", "start": "2019-01-01", "end": "2019-12-31"}
    login(client, records.unit_admin)
    assert "修改指标定义" in client.get("/indicators/evidence/", query).content.decode()
    login(client, records.viewer)
    assert "修改指标定义" not in client.get("/indicators/evidence/", query).content.decode()


def test_a_formula_is_previewed_with_its_operands(client, records, define):
    define({"key": "学习.次数", "label": "学习次数", "ledger": "study_activity"})
    login(client, records.unit_admin)
    data = {"key": "学习.两倍", "label": "两倍", "kind": "formula", "formula": "学习.次数 * 2"}
    body = client.post(PREVIEW, {**data, "preview_org": "root", "preview_period": "2019"}).content.decode()
    assert "<strong>10</strong>" in body and "学习次数" in body
    body = client.post(
        PREVIEW, {**data, "formula": "学习.次数 *", "preview_org": "root", "preview_period": "2019"}
    )
    assert "公式" in body.content.decode() and "定义尚不能计算" in body.content.decode()


def test_options_the_form_does_not_show_are_kept(client, records, define, monkeypatch):
    from dangjian.indicators import builder

    # As if a pack knew an option the form has no input for: saving through the form keeps it.
    monkeypatch.setattr(builder, "FORM_OPTIONS", builder.FORM_OPTIONS - {"limit"})
    define({"key": KEY, "label": "名单", "ledger": "study_activity", "aggregate": "list", "field": "speaker",
            "limit": 3})  # fmt: skip
    login(client, records.unit_admin)
    data = {"label": "主讲人名单", "kind": "aggregate", "ledger": "study_activity", "aggregate": "list",
            "field": "speaker"}  # fmt: skip
    assert client.post(f"/indicators/builder/{KEY}/", data).status_code == 302
    ind = Indicator.objects.get(key=KEY)
    assert ind.label == "主讲人名单" and ind.options == {"limit": 3}
