"""Field input that once took the service down or broke every export (issue 8, findings 2 and 5).

2: `1e-99999999` saved in 学习教育活动台账's 天数 (a decimal field) was stored as a 100,000,001-character value.
5: a control character typed into a text field (e.g. \\x01) later made the xlsx and docx files fail for everyone.
Both are fixed in the one validator per field type, so the web form, the import and workflow steps all get it.
"""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from django.test import Client

from dangjian.records.fields import (
    LONGTEXT_MAX_CHARS,
    MAX_MULTI_ITEMS,
    TEXT_MAX_CHARS,
    FieldError,
    clean_text,
    validate_value,
    validate_values,
)
from dangjian.records.models import LedgerField, Record

NEW = "/ledgers/study_activity/new"
STUDY = {
    "date": "2019-03-05",
    "kind": "专题报告",
    "title": "学习贯彻党的十九大精神专题报告会",
    "place": "社区党群服务中心",
    "days": "0.5",
    "participants": "45",
}


def clerk_client(world) -> Client:
    client = Client()
    client.force_login(world.clerk, backend="django.contrib.auth.backends.ModelBackend")
    return client


def spec(kind: str, label: str = "天数", low: str | None = None, high: str | None = None) -> LedgerField:
    return LedgerField(
        code="f",
        label=label,
        type=kind,
        choices=["党纪处分", "政务处分", "诫勉谈话"] if kind.endswith("choice") else [],
        min_value=None if low is None else Decimal(low),
        max_value=None if high is None else Decimal(high),
    )


# --- finding 2: numbers with unbounded digits or exponents ---------------------------------------------------

ATTACKS = [
    ("decimal", "1e-99999999", "最多保留 6 位小数"),  # the finding: 100,000,001 characters when stored
    ("decimal", "1e99999999", "数值过大"),
    ("decimal", "1E+999999999999999999999999", "不是数字"),
    ("decimal", "0.0000001", "最多保留 6 位小数"),
    ("decimal", "1" * 100_000, "数值过大"),
    ("decimal", "0." + "0" * 100_000 + "1", "最多保留 6 位小数"),
    ("money", "1e-99999999", "最多保留 2 位小数"),
    ("money", "-1e99999999", "数值过大"),
    ("integer", "1e-99999999", "带有小数"),
    ("integer", "1e99999999", "数值过大"),
    ("integer", "1e15", "最多 15 位整数"),
    ("integer", float("nan"), "不是整数"),
    ("decimal", float("inf"), "不是数字"),
]


@pytest.mark.parametrize(("kind", "raw", "message"), ATTACKS)
def test_the_validator_refuses_numbers_too_long_to_store_naming_the_field(kind, raw, message):
    with pytest.raises(FieldError) as info:
        validate_value(spec(kind, "天数"), raw)
    assert info.value.message.startswith("【天数】") and message in info.value.message
    assert len(info.value.message) < 120  # the bad value is quoted short, never echoed whole


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("decimal", "1e1", "10"),
        ("decimal", 1e-05, "0.00001"),  # how a spreadsheet hands over a small float
        ("decimal", "0E-99999999", "0"),
        ("decimal", "0e99999999", "0"),
        ("decimal", "1.50000000000000000000", "1.500000"),
        ("decimal", "-0", "0"),
        ("money", "1.2e2", "120.00"),
        ("integer", "1e14", 100_000_000_000_000),
        ("integer", "0e99999999", 0),
    ],
)
def test_exponent_notation_is_normalised_to_a_short_plain_number(kind, raw, stored):
    assert validate_value(spec(kind), raw) == stored


def test_the_attack_through_the_web_form_stores_nothing(world):
    client = clerk_client(world)
    response = client.post(NEW, {**STUDY, "reporting_org": world.c1.pk, "days": "1e-99999999"})
    html = response.content.decode()
    assert response.status_code == 200
    assert Record.objects.count() == 0
    assert "【天数】最多保留 6 位小数" in html and "本次未保存任何内容" in html
    assert len(response.content) < 200_000


def test_a_huge_number_through_the_web_form_is_refused_without_echoing_it(world):
    client = clerk_client(world)
    response = client.post(NEW, {**STUDY, "reporting_org": world.c1.pk, "participants": "9" * 1_000_000})
    html = response.content.decode()
    assert Record.objects.count() == 0
    assert "【参加人数】数值过大" in html
    # The error quotes 30 characters; the only full copy is the user's own input kept in the form.
    assert html.count("9" * 1_000_000) == 1 and len(html) < 1_100_000


def test_a_stored_decimal_is_short(world):
    client = clerk_client(world)
    client.post(NEW, {**STUDY, "reporting_org": world.c1.pk, "days": "5e-1"})
    assert Record.objects.get().values["days"] == "0.5"


# --- bounded texts and choices ----------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "limit"), [("text", TEXT_MAX_CHARS), ("longtext", LONGTEXT_MAX_CHARS)])
def test_texts_have_a_maximum_length(kind, limit):
    assert validate_value(spec(kind, "主题"), "字" * limit) == "字" * limit
    with pytest.raises(FieldError, match=f"【主题】最多 {limit} 个字，现有 {limit + 1} 个字"):
        validate_value(spec(kind, "主题"), "字" * (limit + 1))


def test_a_multichoice_names_a_bounded_number_of_items():
    field = spec("multichoice", "处分种类")
    assert validate_value(field, ["党纪处分"] * MAX_MULTI_ITEMS) == ["党纪处分"]
    with pytest.raises(FieldError, match="【处分种类】填了 101 项，最多只有 3 个可选项"):
        validate_value(field, ["党纪处分"] * (MAX_MULTI_ITEMS + 1))
    with pytest.raises(FieldError, match="【处分种类】填了"):
        validate_value(field, "、".join(["政务处分"] * 10_000))


def test_a_long_text_through_the_web_form_is_refused(world):
    client = clerk_client(world)
    response = client.post(NEW, {**STUDY, "reporting_org": world.c1.pk, "title": "长" * 100_000})
    assert Record.objects.count() == 0
    assert f"【主题】最多 {TEXT_MAX_CHARS} 个字，现有 100000 个字" in response.content.decode()


# --- finding 5: control characters are cleaned on input ----------------------------------------------------

JUNK = "\x00\x01\x08\x0b\x0c\x1b\x7f\x85\ufffe\uffff\ud800"


def test_clean_text_removes_invisible_junk_and_keeps_line_breaks_only_where_they_belong():
    assert (
        clean_text(f"第一段{JUNK}\r\n第二段\t（续）\r第三段", multiline=True)
        == "第一段\n第二段\t（续）\n第三段"
    )
    assert clean_text(f"学习{JUNK}党章\r\n\t专题", multiline=False) == "学习党章 专题"


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("text", f"学习{JUNK}党章", "学习党章"),
        ("text", "学习\n党章\t", "学习 党章"),
        ("longtext", f"第一段\r\n{JUNK}第二段\t完", "第一段\n第二段\t完"),
        ("person", "张\x01三", "张三"),
        ("choice", "政务\x01处分", "政务处分"),
        ("multichoice", "党纪处分\x02、政务处分", ["党纪处分", "政务处分"]),
    ],
)
def test_every_text_field_is_cleaned_by_its_validator(kind, raw, stored):
    assert validate_value(spec(kind, "主题"), raw) == stored


def test_a_refused_value_is_quoted_without_its_control_characters():
    _, errors = validate_values([spec("date", "活动日期")], {"f": "昨天\x01\x00"})
    assert errors["f"] == "【活动日期】日期格式不正确：“昨天”，请填写如 2019-03-05 或 2019年3月5日"


def test_control_characters_typed_into_the_form_are_cleaned_and_the_export_still_works(world):
    client = clerk_client(world)
    typed = {**STUDY, "reporting_org": world.c1.pk, "title": "学习\x01党章\x7f", "place": "会议室\x1b"}
    typed["summary"] = "第一段\r\n第二段\x0b\t完"
    assert client.post(NEW, typed).status_code == 302
    values = Record.objects.get().values
    assert (values["title"], values["place"]) == ("学习党章", "会议室")
    assert values["summary"] == "第一段\n第二段\t完"
    response = client.get("/ledgers/study_activity.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert "学习党章" in [cell.value for row in sheet.iter_rows() for cell in row]
