"""Values across ledgers (issue 12, “Values”): distinct people across ledgers (`count_people`), ratios of two
figures (`ratio`), and overlapping categories (a choice field's `overlaps`, checks written as total/parts/overlap).
Each through the engine, the renderer, the report's JSON and the evidence page."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dangjian.indicators import Period, evaluate, evidence_records
from dangjian.indicators.engine import run_checks
from dangjian.packs.loader import PackError, discover, load_pack

Y2019 = Period.year(2019)

LEDGERS = """
[pack]
name = "cross"
label = "跨台账测试数据包"
order = 90

[[ledger_types]]
code = "training"
label = "党员培训台账"
date_field = "date"
  [[ledger_types.fields]]
  code = "date"
  label = "培训日期"
  type = "date"
  [[ledger_types.fields]]
  code = "name"
  label = "姓名"
  type = "person"
  [[ledger_types.fields]]
  code = "id_no"
  label = "身份证号"
  type = "text"
  [[ledger_types.fields]]
  code = "course"
  label = "培训班次"
  type = "choice"
  choices = ["入党积极分子培训", "党员轮训"]

[[ledger_types]]
code = "volunteer"
label = "志愿服务台账"
date_field = "date"
  [[ledger_types.fields]]
  code = "date"
  label = "服务日期"
  type = "date"
  [[ledger_types.fields]]
  code = "person_name"
  label = "姓名"
  type = "person"
  [[ledger_types.fields]]
  code = "id_card"
  label = "身份证号码"
  type = "text"
  [[ledger_types.fields]]
  code = "hours"
  label = "服务时长"
  type = "decimal"

[[ledger_types]]
code = "sanction"
label = "处分决定台账"
date_field = "date"
confidential_kinds = ["discipline"]
  [[ledger_types.fields]]
  code = "date"
  label = "处分日期"
  type = "date"
  [[ledger_types.fields]]
  code = "name"
  label = "姓名"
  type = "person"
  [[ledger_types.fields]]
  code = "id_no"
  label = "身份证号"
  type = "text"
  [[ledger_types.fields]]
  code = "kind"
  label = "处分类别"
  type = "choice"
  choices = ["党纪处分", "政务处分", "双重处分"]
  OVERLAPS
"""

INDICATORS = """
[[indicators]]
key = "培训.参与党员"
label = "参加培训或志愿服务的党员"
unit = "人"
aggregate = "count_people"
people = [
  { ledger = "training", person = ["name", "id_no"], where = [{ field = "course", op = "=", value = "党员轮训" }] },
  { ledger = "volunteer", person = ["person_name", "id_card"] },
]

[[indicators]]
key = "培训.参训人次"
label = "参加党员轮训人次"
unit = "人次"
ledger = "training"
aggregate = "count"
where = [{ field = "course", op = "=", value = "党员轮训" }]

[[indicators]]
key = "培训.人均参加次数"
label = "党员人均参加培训次数"
unit = "次"
aggregate = "ratio"
numerator = "培训.参训人次"
denominator = "培训.参与党员"
decimals = 2

[[indicators]]
key = "志愿.人均时长"
label = "每次志愿服务平均时长"
unit = "小时"
aggregate = "ratio"
numerator = { ledger = "volunteer", aggregate = "sum", field = "hours" }
denominator = { ledger = "volunteer", aggregate = "count" }

[[indicators]]
key = "处分.涉及人员"
label = "培训与处分涉及人员"
unit = "人"
aggregate = "count_people"
people = [
  { ledger = "training", person = ["name", "id_no"] },
  { ledger = "sanction", person = ["name", "id_no"] },
]

[[indicators]]
key = "处分.人数"
label = "给予处分"
unit = "人"
ledger = "sanction"
aggregate = "count"
where = [{ field = "kind", op = "not_empty" }]

[[indicators]]
key = "处分.党纪"
label = "党纪处分"
unit = "人"
ledger = "sanction"
aggregate = "count"
where = [{ field = "kind", op = "=", value = "党纪处分" }]

[[indicators]]
key = "处分.政务"
label = "政务处分"
unit = "人"
ledger = "sanction"
aggregate = "count"
where = [{ field = "kind", op = "=", value = "政务处分" }]

[[indicators]]
key = "处分.双重"
label = "双重处分"
unit = "人"
ledger = "sanction"
aggregate = "count"
where = [{ field = "kind", op = "=", value = "双重处分" }]

[[indicators]]
key = "处分.双重占比"
label = "双重处分与处分人数之比"
aggregate = "ratio"
numerator = "处分.双重"
denominator = "处分.人数"
decimals = 2

[[checks]]
code = "cross_sanctions"
label = "处分 = 党纪 + 政务 ± 双重（按数据包的口径）"
total = "处分.人数"
parts = ["处分.党纪", "处分.政务"]
overlap = "处分.双重"
message = "给予处分人数应与党纪处分、政务处分、双重处分人数相符"

[[checks]]
code = "cross_ratio"
label = "人均参加培训不少于 1 次"
rule = "培训.人均参加次数 >= 1"
level = "warning"
message = "党员人均参加培训应不少于 1 次"

[[templates]]
key = "crossreport"
label = "跨台账测试报告"
file = "main.j2"
"""

MAIN_J2 = (
    "参加培训和志愿服务的党员共{{ 培训.参与党员 }}人，人均参加培训{{ 培训.人均参加次数 }}次，"
    "每次志愿服务平均{{ 志愿.人均时长 }}小时。给予处分{{ 处分.人数 }}人，其中党纪处分{{ 处分.党纪 }}人，"
    "政务处分{{ 处分.政务 }}人，双重处分{{ 处分.双重 }}人。\n"
)
OVERLAP = '  overlaps = { "双重处分" = ["党纪处分", "政务处分"] }'


def write(tmp_path, *, overlaps: bool = True, indicators: str = INDICATORS, extra: str = ""):
    folder = tmp_path / "cross"
    folder.mkdir(parents=True, exist_ok=True)
    text = LEDGERS.replace("  OVERLAPS", OVERLAP if overlaps else "") + indicators + extra
    (folder / "pack.toml").write_text(textwrap.dedent(text), encoding="utf-8")
    (folder / "main.j2").write_text(MAIN_J2, encoding="utf-8")
    return folder


def load(tmp_path, **kw):
    write(tmp_path, **kw)
    for pack in discover(tmp_path):
        load_pack(pack)


@pytest.fixture
def people(world, make_record, tmp_path):
    load(tmp_path)

    def train(org, name, id_no, date="2019-03-01", course="党员轮训"):
        values = {"date": date, "name": name, "course": course}
        if id_no:
            values["id_no"] = id_no
        make_record("training", org, values)

    def serve(org, name, id_no, hours, date="2019-05-01"):
        make_record("volunteer", org, {"date": date, "person_name": name, "id_card": id_no, "hours": hours})

    train(world.c1, "张三", "11010119800101001X")
    train(world.c2, "张三", "11010119800101001X", "2019-06-01")  # the same man in another community
    train(world.c1, "李四", "110101198202020022")
    train(world.c1, "王五", "110101198303030033", course="入党积极分子培训")  # not 党员轮训
    train(
        world.c1, "赵六", None, course="入党积极分子培训"
    )  # no ID number: cannot be told apart, never counted
    train(world.c1, "孙七", "110101198505050055", "2018-04-01")  # last year
    serve(world.c2, "张三", "11010119800101001x ", "3")  # same person: x/X and a trailing space
    serve(world.c1, "周八", "110101198606060066", "4.5")
    serve(world.c1, "王五", "110101198303030033", "2")  # 王五 counts through the volunteer ledger
    for name, id_no, kind in [
        ("吴九", "110101198707070077", "党纪处分"),
        ("郑十", "110101198808080088", "政务处分"),
        ("李四", "110101198202020022", "双重处分"),
    ]:
        make_record("sanction", world.jw, {"date": "2019-09-01", "name": name, "id_no": id_no, "kind": kind})
    return world


def test_people_are_counted_once_across_ledgers_in_one_union_query(people):
    keys = ["培训.参与党员", "培训.参训人次", "培训.人均参加次数"]
    with CaptureQueriesContext(connection) as ctx:
        v = evaluate(people.root, Y2019, keys, previous=False)
    # One batched aggregate query per ledger (training, volunteer) and one UNION for the people.
    assert len([q for q in ctx.captured_queries if "ledgers_record" in q["sql"]]) == 3
    # 张三 (twice in training, once in volunteer), 李四, 周八, 王五 (volunteer only; his training is not 党员轮训).
    assert v["培训.参与党员"].value == 4
    assert v["培训.参与党员"].aggregate == "count_people"
    # The records behind the people: 3 training records + 3 volunteer records.
    assert v["培训.参与党员"].evidence_count == 6
    behind = evidence_records("培训.参与党员", people.root, Y2019)
    assert sorted((r.ledger_type.code, r.values.get("name") or r.values["person_name"]) for r in behind) == [
        ("training", "张三"), ("training", "张三"), ("training", "李四"),
        ("volunteer", "周八"), ("volunteer", "张三"), ("volunteer", "王五"),
    ]  # fmt: skip
    # Below the district: 和平社区 has only 张三 (one training and one volunteer record there).
    assert evaluate(people.c2, Y2019, ["培训.参与党员"])["培训.参与党员"].value == 1
    assert evaluate(people.root, Period.year(2018), ["培训.参与党员"])["培训.参与党员"].value == 1  # 孙七
    # Every indicator: the parts are not among them (a template or 核稿 sees only real indicators).
    everything = evaluate(people.root, Y2019)
    assert everything["培训.参与党员"].value == 4 and not [k for k in everything if "：" in k]


def test_a_ratio_with_decimals_and_its_sides(people):
    v = evaluate(people.root, Y2019, ["培训.人均参加次数", "志愿.人均时长"])
    assert v["培训.人均参加次数"].value == Decimal("0.75")  # 3 trainings ÷ 4 people
    assert v["培训.人均参加次数"].evidence_count == 3 + 6  # both sides' records
    assert v["志愿.人均时长"].value == Decimal("3.2")  # 9.5 hours ÷ 3 services, one decimal by default
    assert v["上年.培训.人均参加次数"].value == Decimal("1.00")  # 2018: 孙七 once


def test_a_zero_denominator_reads_cannot_be_computed_and_fails_the_check(people):
    v = evaluate(people.root, Period.year(2017), ["培训.人均参加次数"], previous=False)
    value = v["培训.人均参加次数"]
    assert value.value is None and value.incomputable
    assert value.note == "无法计算：分母“参加培训或志愿服务的党员”为 0"
    checks = {c.code: c for c in run_checks(people.root, Period.year(2017), pack="cross")}
    ratio = checks["cross_ratio"]
    assert not ratio.ok
    assert "无法核对" in ratio.message and "无法计算：分母“参加培训或志愿服务的党员”为 0" in ratio.message
    assert "培训.人均参加次数 >=" not in ratio.message  # no raw expression


def test_the_renderer_and_the_report_json(people):
    from dangjian.reports.models import ReportTemplate
    from dangjian.reports.render_json import render_dict
    from dangjian.reports.templating import render

    template = ReportTemplate.objects.get(key="crossreport")
    data = json.loads(json.dumps(render_dict(render(template, people.root, Y2019)), default=str))
    assert data["text"] == (
        "参加培训和志愿服务的党员共4人，人均参加培训0.75次，每次志愿服务平均3.2小时。"
        "给予处分3人，其中党纪处分2人，政务处分2人，双重处分1人。\n"
    )
    slots = {s["indicator"]: s for s in data["slots"]}
    assert slots["培训.参与党员"]["value"] == 4 and slots["培训.参与党员"]["display"] == "4"
    assert slots["培训.参与党员"]["aggregate"] == "count_people"
    assert slots["培训.参与党员"]["evidence"]["records"] == 6
    assert (
        "key=%E5%9F%B9%E8%AE%AD.%E5%8F%82%E4%B8%8E%E5%85%9A%E5%91%98"
        in slots["培训.参与党员"]["evidence"]["url"]
    )
    assert slots["培训.人均参加次数"]["value"] == 0.75 and slots["培训.人均参加次数"]["display"] == "0.75"
    assert slots["培训.人均参加次数"]["evidence"]["records"] == 9
    # With the overlap declared, 党纪 and 政务 each include the 双重 case: 3 = 2 + 2 − 1.
    checks = {c["rule"]: c for c in data["checks"]}
    assert checks["处分.人数 == 处分.党纪 + 处分.政务 - 处分.双重"]["ok"] is True

    empty = render_dict(render(template, people.root, Period.year(2017)))
    assert empty["text"].startswith("参加培训和志愿服务的党员共0人，人均参加培训无法计算次")
    slot = next(s for s in empty["slots"] if s["indicator"] == "培训.人均参加次数")
    assert slot["value"] is None and slot["display"] == "无法计算"


def test_the_evidence_page_links_to_every_part(client, people):
    client.force_login(people.unit_admin, backend="django.contrib.auth.backends.ModelBackend")
    query = {"key": "培训.参与党员", "org": "root", "start": "2019-01-01", "end": "2019-12-31"}
    data = client.get("/indicators/evidence/", {**query, "format": "json"}).json()
    assert data["value"] == 4 and data["count"] == 6
    assert [o["label"] for o in data["operands"]] == [
        "参加培训或志愿服务的党员（党员培训台账）",
        "参加培训或志愿服务的党员（志愿服务台账）",
    ]
    assert [o["value"] for o in data["operands"]] == [3, 3]
    part = client.get(data["operands"][1]["url"] + "&format=json").json()
    assert sorted(r["values"]["person_name"] for r in part["records"]) == ["周八", "张三", "王五"]
    page = client.get("/indicators/evidence/", query).content.decode()
    assert "组成部分" in page and "志愿服务台账" in page and "查看佐证" in page

    ratio = client.get(
        "/indicators/evidence/", {**query, "key": "培训.人均参加次数", "format": "json"}
    ).json()
    assert (
        ratio["value"] == "0.75" and ratio["count"] == 9
    )  # decimals as text, as every evidence twin gives them
    assert [o["key"] for o in ratio["operands"]] == ["培训.参训人次", "培训.参与党员"]
    inline = client.get("/indicators/evidence/", {**query, "key": "志愿.人均时长", "format": "json"}).json()
    assert [o["label"] for o in inline["operands"]] == [
        "每次志愿服务平均时长（分子）",
        "每次志愿服务平均时长（分母）",
    ]
    side = client.get(inline["operands"][0]["url"] + "&format=json").json()
    assert side["value"] == "9.5" and side["count"] == 3
    assert "修改指标定义" not in client.get(inline["operands"][0]["url"]).content.decode()
    zero = client.get(
        "/indicators/evidence/",
        {**query, "key": "培训.人均参加次数", "start": "2017-01-01", "end": "2017-12-31"},
    ).content.decode()
    assert "无法计算" in zero and "分母“参加培训或志愿服务的党员”为 0" in zero


def test_people_of_a_confidential_ledger_are_counted_only_for_those_who_see_its_rows(people):
    # The district's 查看者 may have the confidential ledger's yearly count by itself …
    alone = evaluate(people.root, Y2019, ["处分.人数"], viewer=people.viewer, previous=False)
    assert alone["处分.人数"].value == 3
    # … and the training count, but not the people of both: with a one-person training filter, “how many in
    # training or sanctioned” minus the training count would tell whether that person was sanctioned.
    both = evaluate(people.root, Y2019, ["处分.涉及人员"], viewer=people.viewer, previous=False)
    assert both["处分.涉及人员"].value is None
    assert "处分决定台账" in both["处分.涉及人员"].refused and "跨台账" in both["处分.涉及人员"].refused
    # A member of the discipline commission sees the rows, so the count: 张三 李四 王五 赵六? (no ID) → 张三 李四 王五
    # in training (any course), + 吴九 郑十 (李四 again) in the sanction ledger.
    member = evaluate(people.root, Y2019, ["处分.涉及人员"], viewer=people.jiwei, previous=False)
    assert member["处分.涉及人员"].value == 5
    # Without a viewer (command line) it is computed as well; the evidence page refuses the outsider.
    assert evaluate(people.root, Y2019, ["处分.涉及人员"])["处分.涉及人员"].value == 5


def test_the_evidence_page_refuses_a_confidential_people_count(client, people):
    client.force_login(people.viewer, backend="django.contrib.auth.backends.ModelBackend")
    query = {
        "key": "处分.涉及人员",
        "org": "root",
        "start": "2019-01-01",
        "end": "2019-12-31",
        "format": "json",
    }
    response = client.get("/indicators/evidence/", query)
    assert response.status_code == 403
    assert "跨台账" in response.content.decode()


def test_an_overlapping_category_counts_in_the_categories_the_pack_names(people):
    keys = ["处分.人数", "处分.党纪", "处分.政务", "处分.双重"]
    v = evaluate(people.root, Y2019, keys, previous=False)
    assert [v[k].value for k in keys] == [3, 2, 2, 1]
    assert sorted(r.values["name"] for r in evidence_records("处分.党纪", people.root, Y2019)) == [
        "吴九",
        "李四",
    ]


def test_without_the_declaration_it_is_a_third_kind_and_the_check_follows(people, tmp_path):
    load(tmp_path, overlaps=False)
    keys = ["处分.人数", "处分.党纪", "处分.政务", "处分.双重"]
    v = evaluate(people.root, Y2019, keys, previous=False)
    assert [v[k].value for k in keys] == [3, 1, 1, 1]
    checks = {c.code: c for c in run_checks(people.root, Y2019, pack="cross")}
    assert checks["cross_sanctions"].rule == "处分.人数 == 处分.党纪 + 处分.政务 + 处分.双重"
    assert checks["cross_sanctions"].ok
    # Declared again: the rule is rewritten, and still holds on the same records.
    load(tmp_path, overlaps=True)
    checks = {c.code: c for c in run_checks(people.root, Y2019, pack="cross")}
    assert checks["cross_sanctions"].rule == "处分.人数 == 处分.党纪 + 处分.政务 - 处分.双重"
    assert checks["cross_sanctions"].ok


def test_the_check_fails_with_its_chinese_message_when_the_parts_disagree(people, make_record):
    make_record(
        "sanction", people.jw, {"date": "2019-10-01", "name": "钱一", "id_no": "1", "kind": "党纪处分"}
    )
    # 处分 4 = 党纪 3 + 政务 2 − 双重 1: still holds; a record without a category breaks nothing either …
    assert {c.code: c for c in run_checks(people.root, Y2019, pack="cross")}["cross_sanctions"].ok
    # … but the total counting one more category than the parts does.
    from dangjian.indicators.models import Indicator

    Indicator.objects.filter(key="处分.政务").update(
        where=[{"field": "kind", "op": "=", "value": "双重处分"}]
    )
    check = {c.code: c for c in run_checks(people.root, Y2019, pack="cross")}["cross_sanctions"]
    assert not check.ok
    assert check.message.startswith("给予处分人数应与党纪处分、政务处分、双重处分人数相符（处分.人数 = 4")


def test_the_evidence_page_says_the_overlap(client, people):
    client.force_login(people.jiwei, backend="django.contrib.auth.backends.ModelBackend")
    from dangjian.indicators.compiler import describe

    ledger = people.ledger("sanction")
    assert describe([{"field": "kind", "op": "=", "value": "党纪处分"}], ledger) == (
        "【处分类别】为 党纪处分（按重叠类别，含双重处分）"
    )


BAD = [
    (
        '[[indicators]]\nkey = "x.人数"\nlabel = "x"\naggregate = "count_people"\n'
        'people = [{ ledger = "nope", person = "name" }]\n',
        ["x.人数", "people 第 1 项", "“nope”不存在"],
    ),
    (
        '[[indicators]]\nkey = "x.人数"\nlabel = "x"\naggregate = "count_people"\n'
        'people = [{ ledger = "training", person = ["name", "phone"] }]\n',
        ["x.人数", "“phone”不是台账 training（党员培训台账）的字段"],
    ),
    (
        '[[indicators]]\nkey = "x.人数"\nlabel = "x"\naggregate = "count_people"\n'
        'people = [{ ledger = "training", person = ["name", "id_no"] }, { ledger = "volunteer", person = "id_card" }]\n',
        ["x.人数", "person 字段个数应相同"],
    ),
    (
        '[[indicators]]\nkey = "x.人数"\nlabel = "x"\naggregate = "count_people"\n'
        'people = [{ ledger = "training", person = "name", where = [{ field = "course", op = "=", value = "夜校" }] }]\n',
        ["x.人数", "台账1", "【培训班次】", "“夜校”不是可选项"],
    ),
    (
        '[[indicators]]\nkey = "x.比"\nlabel = "x"\naggregate = "ratio"\nnumerator = "培训.参训人次"\n'
        'denominator = "培训.没有"\n',
        ["x.比", "分母（denominator）引用了不存在的指标：培训.没有"],
    ),
    (
        '[[indicators]]\nkey = "x.比"\nlabel = "x"\naggregate = "ratio"\nnumerator = "培训.参训人次"\n'
        'denominator = { ledger = "volunteer", aggregate = "avg", field = "nope" }\n',
        ["x.比", "分母", "“nope”不是台账 volunteer"],
    ),
    (
        '[[indicators]]\nkey = "x.比"\nlabel = "x"\naggregate = "ratio"\nledger = "training"\n'
        'numerator = "培训.参训人次"\ndenominator = "培训.参训人次"\n',
        ["x.比", "不能有 ledger"],
    ),
    (
        '[[checks]]\ncode = "bad_overlap"\nlabel = "x"\ntotal = "处分.人数"\nparts = ["处分.党纪"]\n'
        'overlap = "培训.参与党员"\nmessage = "x"\n',
        ["bad_overlap", "overlap 指标“培训.参与党员”", "某一选项计数"],
    ),
]


@pytest.mark.parametrize(("extra", "words"), BAD)
def test_bad_definitions_are_refused_at_pack_load_naming_the_indicator(world, tmp_path, extra, words):
    with pytest.raises(PackError) as exc:
        load(tmp_path, extra=extra)
    for word in words:
        assert word in str(exc.value), str(exc.value)


def test_an_overlap_target_that_is_not_a_choice_is_refused_naming_the_file(world, tmp_path):
    write(tmp_path)
    text = (tmp_path / "cross" / "pack.toml").read_text(encoding="utf-8")
    (tmp_path / "cross" / "pack.toml").write_text(
        text.replace('"政务处分"] }', '"行政处罚"] }'), encoding="utf-8"
    )
    with pytest.raises(PackError) as exc:
        for pack in discover(tmp_path):
            load_pack(pack)
    message = str(exc.value) + "".join(str(p) for p in getattr(exc.value, "problems", []))
    assert "cross/pack.toml 第 " in message and "ledger_types[sanction].fields[kind].overlaps" in message
    assert "“行政处罚”不是该字段的可选项" in message


def test_a_definition_round_trips_through_the_builders_table(people):
    """The builder and web versions read a definition back as a pack's table (versions.to_item → parse_indicator)."""
    from dangjian.indicators import versions
    from dangjian.indicators.models import Indicator
    from dangjian.packs.handlers_indicators import parse_indicator

    for key in ("培训.参与党员", "培训.人均参加次数", "志愿.人均时长"):
        saved = Indicator.objects.select_related("ledger").get(key=key)
        item = versions.to_item(saved)
        assert "ledger" not in item
        ind, errors = parse_indicator(item)
        assert errors == [] and versions.to_item(ind) == item


def test_a_ratio_of_confidential_figures_follows_the_figure_rules_of_its_sides(people):
    key = "处分.双重占比"
    # Two yearly counts the district's 查看者 may have: so the ratio (1 ÷ 3).
    assert evaluate(people.root, Y2019, [key], viewer=people.viewer)[key].value == Decimal("0.33")
    # A month of a confidential ledger is not given to him: neither is a ratio made of it, with the reason.
    month = evaluate(people.root, Period.parse("2019-09"), [key], viewer=people.viewer, previous=False)[key]
    assert month.value is None and "处分决定台账" in month.refused and "整年、半年或季度" in month.refused
    member = evaluate(people.root, Period.parse("2019-09"), [key], viewer=people.jiwei, previous=False)[key]
    assert member.value == Decimal("0.33") and not member.refused


def test_the_builder_form_sends_people_counts_and_ratios_to_the_pack(client, people):
    """The builder's form has no rows for ledgers, numerator and denominator: it says so and saves nothing."""
    from urllib.parse import quote

    from dangjian.indicators.models import Indicator

    client.force_login(people.unit_admin, backend="django.contrib.auth.backends.ModelBackend")
    url = "/indicators/builder/" + quote("培训.参与党员") + "/"
    assert "请在数据包的 TOML 中修改" in client.get(url).content.decode()
    before = Indicator.objects.get(key="培训.参与党员").options
    response = client.post(
        url, {"label": "改名", "kind": "aggregate", "ledger": "training", "aggregate": "count"}
    )
    assert response.status_code == 400 and "请在数据包的 TOML 中修改" in response.content.decode()
    saved = Indicator.objects.get(key="培训.参与党员")
    assert saved.options == before and saved.label == "参加培训或志愿服务的党员"
