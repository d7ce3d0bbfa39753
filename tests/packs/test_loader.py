"""Packs: loading is idempotent and a broken pack is refused with a Chinese message, changing nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dangjian.orgs.models import OrgKind
from dangjian.packs.loader import PACKS_DIR, PackError, discover, load_all
from dangjian.records.models import LedgerField, LedgerType, Record

pytestmark = pytest.mark.django_db

GOOD_LEDGER = """
[[ledger_types]]
code = "volunteer"
label = "志愿服务台账"
date_field = "day"

  [[ledger_types.fields]]
  code = "day"
  label = "服务日期"
  type = "date"

  [[ledger_types.fields]]
  code = "hours"
  label = "服务时长"
  type = "decimal"
"""


CORE_KINDS = [
    "district", "discipline", "department", "street", "community", "agency", "new_org", "school", "working_committee",
]  # fmt: skip


def _counts() -> tuple[int, int, int]:
    return OrgKind.objects.count(), LedgerType.objects.count(), LedgerField.objects.count()


def _pack(tmp_path: Path, body: str, name: str = "mine") -> Path:
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.toml").write_text(f'[pack]\nname = "{name}"\n' + body, encoding="utf-8")
    return tmp_path


def test_loading_twice_changes_nothing(world, make_record):
    record = make_record(
        "study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "学习"}
    )
    first = load_all()
    counts = _counts()
    assert counts[1] >= 3
    second = load_all()
    assert first == second
    assert _counts() == counts
    assert Record.objects.count() == 1
    record.refresh_from_db()
    assert record.values["title"] == "学习"
    assert not LedgerField.objects.filter(ledger_type__pack="core", is_archived=True).exists()


def test_the_core_pack_defines_kinds_and_ledgers(db):
    from dangjian.packs.loader import discover, load_pack

    packs = {p.name: load_pack(p) for p in discover() if p.name == "core"}
    assert packs["core"]["org_kinds"] == OrgKind.objects.filter(code__in=CORE_KINDS).count() >= 9
    assert packs["core"]["ledger_types"] == LedgerType.objects.filter(pack="core").count() >= 3
    case = LedgerType.objects.get(code="discipline_case")
    assert case.confidential
    assert list(case.confidential_kinds.values_list("code", flat=True)) == ["discipline"]
    assert case.field("person").sensitive


def test_reloading_updates_a_definition_in_place(db, tmp_path):
    load_all(_pack(tmp_path, GOOD_LEDGER))
    lt = LedgerType.objects.get(code="volunteer")
    _pack(tmp_path, GOOD_LEDGER.replace("志愿服务台账", "志愿服务活动台账").replace('"服务时长"', '"时长"'))
    load_all(tmp_path)
    lt.refresh_from_db()
    assert lt.label == "志愿服务活动台账"
    assert lt.field("hours").label == "时长"
    assert LedgerType.objects.filter(code="volunteer").count() == 1
    assert lt.fields.count() == 2


def test_a_pack_may_be_split_over_several_files(db, tmp_path):
    folder = _pack(tmp_path, "") / "mine"
    (folder / "ledgers.toml").write_text(GOOD_LEDGER, encoding="utf-8")
    assert load_all(tmp_path) == {"mine": {"ledger_types": 1}}
    assert LedgerType.objects.filter(code="volunteer", pack="mine").exists()


BAD_PACKS = [
    ("[[widgets]]\ncode = 'x'\n", "含有未知的部分：widgets"),
    (GOOD_LEDGER.replace('type = "decimal"', 'type = "percent"'), "类型“percent”不存在"),
    (GOOD_LEDGER.replace('date_field = "day"', 'date_field = "when"'), "日期字段“when”不是它的字段"),
    (GOOD_LEDGER.replace('date_field = "day"', 'date_field = "hours"'), "日期字段“hours”不是日期型字段"),
    (GOOD_LEDGER.replace('date_field = "day"', 'date_field = "day"\nend_date_field = "until"'), "截止日期字段“until”"),
    (GOOD_LEDGER.replace('date_field = "day"', 'date_feild = "day"'), "缺少：date_field"),
    (GOOD_LEDGER.replace('category', 'x').replace('date_field = "day"', 'date_field = "day"\ncolour = "red"'),
     "含有未知属性：colour"),
    (GOOD_LEDGER.replace('label = "服务时长"\n', ""), "缺少：label"),
    (GOOD_LEDGER.replace('type = "decimal"', 'type = "decimal"\nmaxx = 3'), "含有未知属性：maxx"),
    (GOOD_LEDGER.replace('code = "hours"', 'code = "day"'), "字段代码重复：day"),
    ("[[org_kinds]]\ncode = 'x'\n", "缺少：label"),
    ("[[ledger_types]\n", "格式错误"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), BAD_PACKS)
def test_it_refuses_a_bad_pack_in_chinese(db, tmp_path, body, message):
    # A good pack loads first (order 0); the bad one afterwards must roll everything back.
    _pack(tmp_path, '[[org_kinds]]\ncode = "good"\nlabel = "好类别"\n', name="aaa")
    _pack(tmp_path, body, name="mine")
    with pytest.raises(PackError) as info:
        load_all(tmp_path)
    assert message in str(info.value)
    assert not OrgKind.objects.filter(code="good").exists()
    assert not LedgerType.objects.filter(code="volunteer").exists()


def test_a_bad_pack_leaves_loaded_definitions_alone(packs, tmp_path):
    counts = _counts()
    shutil.copytree(PACKS_DIR / "core", tmp_path / "core")
    toml = tmp_path / "core" / "pack.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('label = "活动日期"', 'label = "改了"\ncolour = 1')
    )
    with pytest.raises(PackError, match="含有未知属性：colour"):
        load_all(tmp_path)
    assert _counts() == counts
    assert LedgerType.objects.get(code="study_activity").field("date").label == "活动日期"


def test_it_discovers_packs_in_order(tmp_path):
    _pack(tmp_path, "", name="b")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "pack.toml").write_text('[pack]\nname = "a"\norder = 200\n', encoding="utf-8")
    assert [p.name for p in discover(tmp_path)] == ["b", "a"]
    assert [p.name for p in discover(PACKS_DIR)][0] == "core"


def test_reloading_a_pack_keeps_fields_an_administrator_added(world):
    from dangjian.packs.loader import discover, load_pack

    lt = world.ledger("study_activity")
    LedgerField.objects.create(ledger_type=lt, code="weather", label="天气", type="text", order=99)
    for pack in discover():
        if pack.name == "core":
            load_pack(pack)
    added = LedgerField.objects.get(ledger_type=lt, code="weather")
    assert not added.is_archived and not added.from_pack
    assert LedgerField.objects.get(ledger_type=lt, code="title").from_pack
