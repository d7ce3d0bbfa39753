"""One validator per field type: good values are normalised, bad ones refused in Chinese, naming the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dangjian.records.fields import FieldError, display_value, validate_value, validate_values
from dangjian.records.models import LedgerField, LedgerType, Record
from dangjian.records.services import RecordInvalid, save_record

CHOICES = ["党纪处分", "政务处分", "诫勉谈话"]


def spec(kind: str, *, label: str = "测试字段", required: bool = False, low=None, high=None) -> LedgerField:
    return LedgerField(
        code="f",
        label=label,
        type=kind,
        required=required,
        choices=CHOICES if kind in ("choice", "multichoice") else [],
        min_value=None if low is None else Decimal(low),
        max_value=None if high is None else Decimal(high),
    )


GOOD = [
    ("text", "  学习党章  ", "学习党章"),
    ("text", 123, "123"),
    ("longtext", "第一段\n第二段", "第一段\n第二段"),
    ("integer", "12", 12),
    ("integer", "１２３", 123),
    ("integer", "1,234", 1234),
    ("integer", "1，234", 1234),
    ("integer", "12.0", 12),
    ("integer", 7, 7),
    ("integer", 7.0, 7),
    ("integer", "-3", -3),
    ("decimal", "2.5", "2.5"),
    ("decimal", "１.５", "1.5"),
    ("decimal", "1,234.25", "1234.25"),
    ("decimal", 0.1, "0.1"),
    ("money", "1,234.5", "1234.50"),
    ("money", "３００", "300.00"),
    ("money", 99.99, "99.99"),
    ("date", "2019-03-05", "2019-03-05"),
    ("date", "2019.3.5", "2019-03-05"),
    ("date", "2019/3/5", "2019-03-05"),
    ("date", "2019年3月5日", "2019-03-05"),
    ("date", "2019年3月5", "2019-03-05"),
    ("date", "２０１９年３月５日", "2019-03-05"),
    ("date", "20190305", "2019-03-05"),
    ("date", 20190305, "2019-03-05"),
    ("date", "2019-03-05 00:00:00", "2019-03-05"),
    ("date", 43529, "2019-03-05"),  # Excel serial
    ("date", 43529.5, "2019-03-05"),  # Excel serial with a time of day
    ("date", "43529", "2019-03-05"),  # Excel serial that arrived as text
    ("date", dt.date(2019, 3, 5), "2019-03-05"),
    ("date", dt.datetime(2019, 3, 5, 14, 30), "2019-03-05"),
    ("choice", "政务处分", "政务处分"),
    ("choice", " 政务处分 ", "政务处分"),
    ("multichoice", "党纪处分、政务处分", ["党纪处分", "政务处分"]),
    ("multichoice", "党纪处分，政务处分；党纪处分", ["党纪处分", "政务处分"]),
    ("multichoice", ["诫勉谈话"], ["诫勉谈话"]),
    ("bool", "是", True),
    ("bool", "否", False),
    ("bool", "√", True),
    ("bool", "Y", True),
    ("bool", "１", True),
    ("bool", False, False),
    ("person", "张 三", "张三"),
    ("person", "阿卜杜·热合曼", "阿卜杜·热合曼"),
    ("file", [3, "4"], [3, 4]),
    ("file", "5", [5]),
]


@pytest.mark.parametrize(("kind", "raw", "expected"), GOOD)
def test_it_accepts_and_normalises_good_values(kind, raw, expected):
    assert validate_value(spec(kind), raw) == expected


BAD = [
    ("text", "长" * 201, "最多 200 个字"),
    ("longtext", "长" * 5001, "最多 5000 个字"),
    ("integer", "十二", "不是整数"),
    ("integer", "12人", "不是整数"),
    ("integer", "1.5", "带有小数"),
    ("integer", 1.5, "带有小数"),
    ("integer", "1,23", "不是整数"),  # not a thousands separator: a typo, never 123
    ("integer", "NaN", "不是整数"),
    ("integer", "1e30", "数值过大"),
    ("integer", True, "不是整数"),
    ("decimal", "两点五", "不是数字"),
    ("decimal", "2.5.1", "不是数字"),
    ("decimal", "Infinity", "不是数字"),
    ("money", "12.345", "最多保留 2 位小数"),
    ("money", "100元", "不是数字"),
    ("money", "1e30", "数值过大"),
    ("date", "2019-02-30", "日期格式不正确"),
    ("date", "2019.13.5", "日期格式不正确"),
    ("date", "昨天", "日期格式不正确"),
    ("date", "3/5/2019", "日期格式不正确"),
    ("date", "1800-01-01", "超出合理范围"),
    ("date", 0, "日期格式不正确"),
    ("date", -5, "日期格式不正确"),
    ("date", 3000000, "日期格式不正确"),
    ("choice", "警告", "不是可选项，可选：党纪处分、政务处分、诫勉谈话"),
    ("multichoice", "党纪处分、警告", "“警告”不是可选项"),
    ("bool", "也许", "应填“是”或“否”"),
    ("bool", "2", "应填“是”或“否”"),
    ("person", "张三1", "不像人员姓名"),
    ("person", "<script>", "不像人员姓名"),
    ("person", "张" * 31, "人员姓名过长"),
    ("file", "abc", "附件引用无效"),
    ("file", [{"id": 1}], "附件引用无效"),
]


@pytest.mark.parametrize(("kind", "raw", "message"), BAD)
def test_it_rejects_bad_values_naming_the_field(kind, raw, message):
    with pytest.raises(FieldError) as info:
        validate_value(spec(kind, label="处分种类"), raw)
    assert info.value.message.startswith("【处分种类】")
    assert message in info.value.message


@pytest.mark.parametrize(
    ("kind", "unit", "raw", "expected"),
    [
        ("integer", "人", "42人", 42),
        ("integer", "人", "４２ 人", 42),
        ("integer", "人次", "1,200人次", 1200),
        ("integer", "次", "3次", 3),
        ("integer", "个", "7个", 7),
        ("money", "万元", "3.5万元", "3.50"),
        ("decimal", "%", "95.5%", "95.5"),
        ("decimal", "%", "95.5％", "95.5"),
    ],
)
def test_it_accepts_a_number_written_with_the_fields_own_unit(kind, unit, raw, expected):
    field = spec(kind, label="参加人数")
    field.unit = unit
    assert validate_value(field, raw) == expected


@pytest.mark.parametrize(
    ("unit", "raw"),
    [("人", "42次"), ("人", "人"), ("", "42人"), ("人", "约42人"), ("万元", "3.5元"), ("人", "42人人")],
)
def test_another_unit_or_a_word_stays_refused(unit, raw):
    field = spec("integer", label="参加人数")
    field.unit = unit
    with pytest.raises(FieldError, match="【参加人数】应为整数"):
        validate_value(field, raw)


def test_a_unit_does_not_lift_the_bounds():
    field = spec("integer", label="参加人数", low="0", high="100")
    field.unit = "人"
    with pytest.raises(FieldError, match="【参加人数】不能大于 100"):
        validate_value(field, "101人")


@pytest.mark.parametrize("kind", ["integer", "decimal", "money"])
def test_it_enforces_bounds(kind):
    field = spec(kind, label="参加人数", low="0", high="100")
    assert validate_value(field, "100") in (100, "100", "100.00")
    with pytest.raises(FieldError, match="【参加人数】不能小于 0"):
        validate_value(field, "-1")
    with pytest.raises(FieldError, match="【参加人数】不能大于 100"):
        validate_value(field, "101")


@pytest.mark.parametrize("kind", sorted({k for k, _, _ in GOOD} | {"org"}))
def test_it_requires_required_values(kind):
    field = spec(kind, label="活动日期", required=True)
    for empty in (None, "", "   ", []):
        with pytest.raises(FieldError, match="【活动日期】为必填项"):
            validate_value(field, empty)


def test_it_keeps_false_and_zero_as_values():
    assert validate_value(spec("bool", required=True), "否") is False
    assert validate_value(spec("integer", required=True), "0") == 0


def test_it_gives_empty_optional_values_as_none():
    assert validate_value(spec("integer"), "") is None
    assert validate_values([spec("integer")], {"f": " "}) == ({}, {})


def test_it_collects_every_error_at_once():
    a = LedgerField(code="a", label="人数", type="integer", choices=[])
    b = LedgerField(code="b", label="日期", type="date", choices=[], required=True)
    clean, errors = validate_values([a, b], {"a": "许多"})
    assert clean == {}
    assert set(errors) == {"a", "b"}
    assert errors["a"].startswith("【人数】")
    assert errors["b"] == "【日期】为必填项"


@pytest.mark.django_db
def test_it_validates_org_fields_against_the_tree(world):
    field = spec("org", label="上级组织")
    assert validate_value(field, "s1") == "s1"
    assert validate_value(field, "中共测试区城关街道工作委员会") == "s1"
    assert validate_value(field, "城关街道") == "s1"
    with pytest.raises(FieldError, match="【上级组织】找不到组织“火星街道”"):
        validate_value(field, "火星街道")


def test_it_displays_values_as_a_clerk_reads_them():
    assert display_value(spec("date"), "2019-03-05") == "2019年3月5日"
    assert display_value(spec("bool"), True) == "是"
    assert display_value(spec("multichoice"), ["党纪处分", "政务处分"]) == "党纪处分、政务处分"
    assert display_value(spec("text"), None) == ""


# --- through the one service every entry path uses ----------------------------------------------------------

TYPES = [
    "text", "longtext", "integer", "decimal", "money", "date", "choice", "multichoice", "bool", "person", "org", "file",
]  # fmt: skip


@pytest.fixture
def every_type(world) -> LedgerType:
    lt = LedgerType.objects.create(code="every_type", label="全类型台账", date_field="day")
    LedgerField.objects.create(ledger_type=lt, code="day", label="日期", type="date", required=True, order=0)
    for i, kind in enumerate(TYPES, start=1):
        LedgerField.objects.create(
            ledger_type=lt,
            code=f"f_{kind}",
            label=f"{kind}字段",
            type=kind,
            choices=CHOICES if kind in ("choice", "multichoice") else [],
            min_value=Decimal(0) if kind in ("integer", "decimal", "money") else None,
            order=i,
        )
    return lt


GOOD_ROW = {
    "day": "2019年3月5日",
    "f_text": "学习",
    "f_longtext": "内容",
    "f_integer": "1,234",
    "f_decimal": "２.５",
    "f_money": "1,000",
    "f_date": "2019.3.6",
    "f_choice": "党纪处分",
    "f_multichoice": "党纪处分、政务处分",
    "f_bool": "是",
    "f_person": "张三",
    "f_org": "c1",
    "f_file": [],
}

BAD_CELLS = [
    ("f_text", "长" * 201),
    ("f_longtext", "长" * 5001),
    ("f_integer", "-1"),
    ("f_integer", "1,23"),
    ("f_decimal", "两点五"),
    ("f_money", "12.345"),
    ("f_date", "2019/2/30"),
    ("f_choice", "警告"),
    ("f_multichoice", "警告"),
    ("f_bool", "也许"),
    ("f_person", "张三3"),
    ("f_org", "不存在的组织"),
    # f_file takes no typed value: its value is the record's attachments (see test_services)
    ("day", "2019.13.1"),
    ("day", ""),
]


def test_it_saves_a_good_row_of_every_type(world, every_type):
    record = save_record(world.clerk, every_type, GOOD_ROW, org=world.c1)
    record.refresh_from_db()
    assert record.date == dt.date(2019, 3, 5)
    assert record.values == {
        "day": "2019-03-05",
        "f_text": "学习",
        "f_longtext": "内容",
        "f_integer": 1234,
        "f_decimal": "2.5",
        "f_money": "1000.00",
        "f_date": "2019-03-06",
        "f_choice": "党纪处分",
        "f_multichoice": ["党纪处分", "政务处分"],
        "f_bool": True,
        "f_person": "张三",
        "f_org": "c1",
    }
    assert record.created_by == world.clerk


@pytest.mark.parametrize(("code", "bad"), BAD_CELLS)
def test_it_saves_nothing_when_a_value_is_bad(world, every_type, code, bad):
    label = every_type.field(code).label
    before = Record.objects.count()
    with pytest.raises(RecordInvalid) as info:
        save_record(world.clerk, every_type, {**GOOD_ROW, code: bad}, org=world.c1)
    assert info.value.errors[code].startswith(f"【{label}】")
    assert f"【{label}】" in str(info.value)
    assert Record.objects.count() == before


@pytest.mark.parametrize(("code", "bad"), BAD_CELLS)
def test_it_leaves_a_record_unchanged_after_a_failed_update(world, every_type, code, bad):
    record = save_record(world.clerk, every_type, GOOD_ROW, org=world.c1)
    record.refresh_from_db()
    stored = (record.values, record.date, record.updated_at, record.history.count())
    with pytest.raises(RecordInvalid):
        save_record(world.clerk, every_type, {**GOOD_ROW, code: bad}, record=record)
    record.refresh_from_db()
    assert (record.values, record.date, record.updated_at, record.history.count()) == stored
    assert Record.objects.count() == 1


def test_it_refuses_an_end_date_before_the_start(world):
    lt = LedgerType.objects.create(code="tenure", label="任职台账", date_field="start", end_date_field="end")
    LedgerField.objects.create(ledger_type=lt, code="start", label="任职日期", type="date", required=True)
    LedgerField.objects.create(ledger_type=lt, code="end", label="离任日期", type="date", order=1)
    with pytest.raises(RecordInvalid) as info:
        save_record(world.clerk, lt, {"start": "2019-05-01", "end": "2019-04-30"}, org=world.c1)
    assert info.value.errors == {"end": "【离任日期】不能早于开始日期"}
    assert not Record.objects.exists()
    record = save_record(world.clerk, lt, {"start": "2019-05-01", "end": "2020年1月1日"}, org=world.c1)
    assert (record.date, record.end_date) == (dt.date(2019, 5, 1), dt.date(2020, 1, 1))
