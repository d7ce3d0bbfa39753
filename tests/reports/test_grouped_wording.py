"""A grouped indicator in prose (issue 12): 其中/分类 write a breakdown in one sentence, 排名 ranks units, 顿号, 排序
and 前 read groups — through the renderer and its JSON, each group's figure a blank of its own with its evidence."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from dangjian.indicators.engine import Period
from dangjian.reports.render_json import render_dict, render_txt
from dangjian.reports.templating import TemplateRefused, render

from .conftest import PACK_TOML, study, write_pack

GROUPED_INDICATORS = """
[[indicators]]
key = "学习.按类型"
label = "学习活动次数"
unit = "次"
ledger = "study_activity"
group_by = "kind"

[[indicators]]
key = "学习.按单位"
label = "各单位学习活动次数"
unit = "次"
ledger = "study_activity"
group_by = "unit"

[[checks]]
code = "t_parts"
label = "各类学习次数之和等于总次数"
rule = "sum(学习.按类型) == 学习.按类型"
level = "error"
message = "各类学习次数之和与总次数不符"
"""

TEMPLATE = """\
全年开展学习{{ 学习.按类型 }}次，{{ 学习.按类型|其中("次", true) }}。
即{{ 学习.按类型|分类(量词="次", 略零=true, 格式="{名称}类{数量}{量词}") }}。
排名前三的是{{ 学习.按单位|排名(3, "次") }}。
开展学习的单位有{{ 学习.按单位|顿号 }}；{{ 学习.按单位|排序("东关街道", "城关街道")|前(2)|分类("次") }}。
"""


def load(tmp_path, main: str = TEMPLATE):
    from dangjian.packs.loader import discover, load_pack
    from dangjian.reports.models import ReportTemplate

    folder = write_pack(tmp_path, main=main)
    (folder / "pack.toml").write_text(PACK_TOML + GROUPED_INDICATORS, encoding="utf-8")
    for pack in discover(tmp_path):
        load_pack(pack)
    return ReportTemplate.objects.get(key="testreport")


@pytest.fixture
def east(report_records, make_record):
    """A second street with two 理论宣讲 (and the first street's 6 activities from report_records)."""
    from dangjian.orgs.models import Organization, OrgKind

    world = report_records
    s2 = Organization.objects.add_child(
        world.root, dict(code="s2", name="东关街道工委", short_name="东关街道")
    )
    s2.kinds.set([OrgKind.objects.get(code="street")])
    world.root.refresh_from_db()
    study(make_record, s2, "理论宣讲", "宣讲一", "2019-07-01")
    study(make_record, s2, "理论宣讲", "宣讲二", "2019-08-01")
    return world


def test_a_breakdown_in_one_sentence_and_a_ranking_of_units(world, tmp_path, east):
    rendered = render(load(tmp_path), east.root, Period.year(2019))
    assert render_txt(rendered) == (
        # in the choice field's own order (中心组, …, 理论宣讲, …, 观看舞台剧), the zeros left out
        "全年开展学习8次，其中中心组集体学习4次、理论宣讲2次、观看舞台剧2次。\n"
        "即中心组集体学习类4次、理论宣讲类2次、观看舞台剧类2次。\n"
        # 区纪委监委 has none: ranked last; the units in the org tree's order otherwise
        "排名前三的是城关街道（6次）、东关街道（2次）、区纪委监委（0次）。\n"
        "开展学习的单位有城关街道、东关街道；东关街道2次、城关街道6次。\n"
    )
    assert [c.ok for c in rendered.checks if c.rule.startswith("sum(")] == [True]


def test_each_groups_figure_is_a_blank_with_its_own_evidence_in_the_json(world, tmp_path, east, client):
    rendered = render(load(tmp_path), east.root, Period.year(2019))
    rows = render_dict(rendered)["slots"]
    assert all(set(r) == {"indicator", "aggregate", "value", "display", "evidence"} for r in rows)

    def group(row):
        return parse_qs(urlparse(row["evidence"]["url"]).query).get("group", [""])[0]

    seen = [(r["indicator"], group(r), r["value"], r["display"], r["evidence"]["records"]) for r in rows]
    assert seen[:4] == [
        ("学习.按类型", "", 8, "8", 8),  # the total: every record
        ("学习.按类型", "中心组集体学习", 4, "4", 4),
        ("学习.按类型", "理论宣讲", 2, "2", 2),
        ("学习.按类型", "观看舞台剧", 2, "2", 2),
    ]
    ranking = [s for s in seen if s[0] == "学习.按单位"][:3]
    assert ranking == [
        ("学习.按单位", "s1", 6, "6", 6),
        ("学习.按单位", "s2", 2, "2", 2),
        ("学习.按单位", "jw", 0, "0", 0),
    ]
    # The list of names (顿号) is a blank of the whole indicator: all its records behind it.
    assert ("学习.按单位", "", 8, "城关街道、东关街道", 8) in seen
    # Each part's link opens the evidence page on exactly its records.
    client.force_login(east.viewer, backend="django.contrib.auth.backends.ModelBackend")
    for row in rows[1:4]:
        data = client.get(row["evidence"]["url"] + "&format=json").json()
        assert data["count"] == row["evidence"]["records"] == len(data["records"])
        assert {r["values"]["kind"] for r in data["records"]} == {group(row)}
    page = client.get(rows[1]["evidence"]["url"])
    assert page.status_code == 200 and "中心组集体学习" in page.content.decode()
    # The slots know their group: labels say which one (a finalised run keeps it).
    labels = [s.indicator.label for s in rendered.slots][:2]
    assert labels == ["学习活动次数", "学习活动次数（中心组集体学习）"]
    assert rendered.slots[1].as_stored()["group"] == {"name": "中心组集体学习", "label": "中心组集体学习"}


def test_without_skipping_zeros_every_choice_is_written(world, tmp_path, east):
    template = load(tmp_path, main='{{ 学习.按类型|前(3)|分类("次") }}；{{ 学习.按单位|其中 }}。\n')
    rendered = render(template, east.c2, Period.year(2019))
    # 和平社区 alone: one 中心组 and one play; no unit below it (its own records are 本级)
    assert render_txt(rendered) == "中心组集体学习1次、专题报告0次、理论宣讲0次；其中本级2。\n"


@pytest.mark.parametrize(
    ("main", "words"),
    [
        ('{{ 学习.中心组次数|其中("次") }}\n', ["其中", "分组指标", "group_by"]),
        ('{{ 学习.按类型|分类(单位="次") }}\n', ["分类", "量词、略零、格式", "单位"]),
        ('{{ 学习.按类型|分类("次", "是") }}\n', ["分类", "略零", "true"]),
        ('{{ 学习.按类型|其中(格式="{名称}") }}\n', ["其中", "{数量}"]),
    ],
)
def test_a_bad_breakdown_is_refused_naming_the_filter_and_line(world, tmp_path, report_records, main, words):
    template = load(tmp_path, main=main)
    with pytest.raises(TemplateRefused) as exc:
        render(template, report_records.root, Period.year(2019))
    message = str(exc.value)
    assert message.startswith("模板“main.j2”第 1 行：")
    for word in words:
        assert word in message
