"""Cross-field rules as data (issue 13): a pack declares them, every entry path enforces them with the field named,
and nothing is written when one fails."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import Workbook

from dangjian.packs.handlers import load_ledger_type
from dangjian.packs.loader import Pack, PackError
from dangjian.records.models import Record
from dangjian.records.services import RecordInvalid, save_record
from dangjian.spreadsheets.imports import import_file
from dangjian.text import cn_date

MEETING = {"date": "2019-03-05", "kind": "支部党员大会", "topic": "学习党章", "attendance": 10}


def test_present_above_attendance_is_refused_by_the_form_path(world):
    lt = world.ledger("organization_life")
    with pytest.raises(RecordInvalid) as info:
        save_record(world.clerk, lt, {**MEETING, "present": 50}, org=world.c1)
    assert info.value.errors == {"present": "【实到人数】不能多于应到人数"}
    assert not Record.objects.exists()
    save_record(world.clerk, lt, {**MEETING, "present": 10}, org=world.c1)  # equal is fine
    save_record(
        world.clerk, lt, {**MEETING, "attendance": None, "present": 50}, org=world.c1
    )  # one side empty
    assert Record.objects.count() == 2


def test_a_date_far_in_the_future_is_refused_naming_the_last_day_allowed(world):
    lt = world.ledger("organization_life")
    last = timezone.localdate() + dt.timedelta(days=31)
    with pytest.raises(RecordInvalid) as info:
        save_record(world.clerk, lt, {**MEETING, "date": "2031-01-01", "present": 8}, org=world.c1)
    assert info.value.errors == {"date": f"【日期】不能晚于{cn_date(last)}"}
    save_record(world.clerk, lt, {**MEETING, "date": last.isoformat(), "present": 8}, org=world.c1)
    assert Record.objects.count() == 1


def test_an_import_refuses_the_row_marks_the_column_and_writes_nothing(world, tmp_path: Path):
    book = Workbook()
    ws = book.active
    ws.append(["填报单位", "日期", "类型", "议题", "应到人数", "实到人数"])
    ws.append(["幸福社区", "2019-03-05", "支部党员大会", "第一次", 10, 9])
    ws.append(["幸福社区", "2019-04-05", "支部党员大会", "第二次", 10, "50人"])
    path = tmp_path / "meetings.xlsx"
    book.save(path)
    result = import_file(world.clerk, world.ledger("organization_life"), path, path.name, default_org=None)
    assert not result.ok and Record.objects.count() == 0
    (error,) = result.errors
    assert (error.row, error.column) == (3, 6)
    assert "实到人数" in str(error) and "不能多于应到人数" in str(error)


def _ledger(rules: list) -> dict:
    return {
        "code": "rule_test",
        "label": "规则测试台账",
        "date_field": "day",
        "fields": [
            {"code": "day", "label": "日期", "type": "date"},
            {"code": "due", "label": "期限", "type": "date"},
            {"code": "a", "label": "应到", "type": "integer"},
            {"code": "b", "label": "实到", "type": "integer"},
            {"code": "t", "label": "说明", "type": "text"},
        ],
        "rules": rules,
    }


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"field": "b", "op": "<=", "than": "a", "when": 1}, "含有未知属性：when"),
        ({"field": "x", "op": "<=", "than": "a"}, "字段“x”不是本台账的字段"),
        ({"field": "b", "op": "=<", "than": "a"}, "比较“=<”不存在"),
        ({"field": "b", "op": "<=", "than": "day"}, "不是同一类"),
        ({"field": "b", "op": "<=", "than": "today"}, "today 只能与日期字段比较"),
        ({"field": "t", "op": "<=", "than": "a"}, "只能比较数字或日期字段"),
        ({"field": "day", "op": "<=", "than": "tomorrow"}, "既不是本台账的字段"),
        ({"field": "b", "op": "<="}, "缺少：than"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_at_load_naming_the_ledger(world, rule, message):
    with pytest.raises(PackError) as info:
        load_ledger_type(_ledger([rule]), Pack("t", "t", 50, Path("."), {}), 0)
    assert "台账 rule_test" in str(info.value) and "第 1 条规则" in str(info.value)
    assert message in str(info.value)


def test_rules_between_dates_and_before_today(world):
    lt = load_ledger_type(
        _ledger(
            [
                {"field": "due", "op": ">=", "than": "day"},
                {"field": "day", "op": "<=", "than": "today-1", "message": "只能登记已经发生的事"},
            ]
        ),
        Pack("t", "t", 50, Path("."), {}),
        0,
    )
    today = timezone.localdate()
    with pytest.raises(RecordInvalid) as info:
        save_record(world.unit_admin, lt, {"day": today.isoformat(), "due": "2019-01-01"}, org=world.root)
    assert info.value.errors == {"day": "【日期】只能登记已经发生的事", "due": "【期限】不能早于【日期】"}
