"""One validator per field type, shared by the web form, the xlsx import and the API.

A validator takes what a user typed (a string, a number, a date, a list) and returns the value to store in
`Record.values` (JSON: str, int, bool, list) or raises FieldError with a Chinese message. Messages name the field
as 【标签】 so that every entry path can show them as they are, or prefix a row: 第57行【活动日期】：…

Everything a validator returns is bounded: numbers have at most 15 integer digits and a fixed number of decimals
(so `1e-99999999` cannot become a 100-million-character value), texts have a maximum length, and text is cleaned
of invisible control characters that would break the xlsx and docx files made from it later.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from dangjian.text import cn_date, without_invisible

EMPTY: tuple[Any, ...] = (None, "", [], ())


class FieldSpec(Protocol):
    code: str
    label: str
    type: str
    required: bool
    choices: list[str]
    min_value: Decimal | None
    max_value: Decimal | None


class FieldError(ValueError):
    def __init__(self, field: FieldSpec, message: str) -> None:
        self.field = field
        self.message = f"【{field.label}】{message}"
        super().__init__(self.message)


_BREAKS = re.compile(r"[\t\r\n]+")


def clean_text(value: Any, *, multiline: bool = False) -> str:
    """Text without invisible control characters: they are removed, not refused, because a clerk cannot see them
    (they arrive by copy and paste). Multi-line text keeps tabs and line breaks (CR LF and a lone CR become LF);
    one-line text turns each run of them into one space."""
    text = without_invisible(str(value))
    if multiline:
        return text.replace("\r\n", "\n").replace("\r", "\n")
    return _BREAKS.sub(" ", text)


def normalize_text(value: Any) -> str:
    """Full-width digits and punctuation to half-width, control characters and surrounding blanks removed."""
    return unicodedata.normalize("NFKC", clean_text(value, multiline=True)).strip()


SHOWN_CHARS = 30  # of a bad value quoted back in a message: enough to recognise it, never a page of it


def shown(value: Any) -> str:
    """A bad value as a message quotes it: cleaned, and cut short when long."""
    try:
        text = value if isinstance(value, str) else str(value)
    except ValueError:  # an int too long to print (sys.int_info.str_digits_check_threshold)
        return "（位数过多的数）"
    text = clean_text(text[: SHOWN_CHARS + 1])
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def is_empty(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value in EMPTY


# --- parsers shared with imports ----------------------------------------------------------------------------

_DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-./](\d{1,2})[-./](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value: Any) -> dt.date:
    """Dates as users type them: 2019-03-05, 2019.3.5, 2019/3/5, 2019年3月5日, 20190305, or an Excel serial."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # Excel serials 1900-01-01 .. 9999-12-31
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        if value == int(value) and 10000101 <= value <= 99991231:  # 20190305 typed into a number cell
            value = str(int(value))
        else:
            raise ValueError
    text = normalize_text(value)
    text = re.sub(r"\s+00:00(:00)?$", "", text)  # "2019-03-05 00:00:00" from spreadsheets
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if re.fullmatch(r"\d{5}(\.0+)?", text):  # a serial that arrived as text
        return EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
    raise ValueError


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
MAX_INTEGER_DIGITS = 15  # beyond any ledger figure; larger values are typing errors and overflow JSON
MAX_NUMBER = Decimal(10) ** MAX_INTEGER_DIGITS
DECIMAL_PLACES = (
    6  # of a decimal field (a money field keeps 2): with the digits above, a stored number is short
)


def parse_decimal(value: Any) -> Decimal:
    """Numbers with thousands separators (1,234.5 / 1，234), full-width digits, a trailing 元/万 not accepted."""
    number = _to_decimal(value)
    if not number.is_finite():  # NaN and Infinity, typed or from a float
        raise ValueError
    return number


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = normalize_text(value).replace(" ", "")
    if "," in text:
        # Only real thousands separators: 1,234 is 1234, but 1,23 is a typo, not 123.
        if not _THOUSANDS.fullmatch(text):
            raise ValueError
        text = text.replace(",", "")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError from exc


TRUE_WORDS = {"是", "有", "√", "✓", "y", "yes", "true", "1", "对"}
FALSE_WORDS = {"否", "无", "×", "✗", "n", "no", "false", "0", "不是"}


def _split_multi(value: Any) -> list[str]:
    if isinstance(value, list | tuple | set):
        return [normalize_text(v) for v in value if not is_empty(v)]
    return [p for p in (s.strip() for s in re.split(r"[、,，;；/\n]", normalize_text(value))) if p]


# --- validators -----------------------------------------------------------------------------------------------


def _bounds(field: FieldSpec, number: Decimal, unit: str = "") -> None:
    if field.min_value is not None and number < field.min_value:
        raise FieldError(field, f"不能小于 {field.min_value.normalize():f}{unit}")
    if field.max_value is not None and number > field.max_value:
        raise FieldError(field, f"不能大于 {field.max_value.normalize():f}{unit}")


TEXT_MAX_CHARS = 200  # a one-line text: a title, a place, a name of something
LONGTEXT_MAX_CHARS = 5000  # a long text: a summary, minutes, a description of a problem


def _text(max_length: int, *, multiline: bool) -> Callable[[FieldSpec, Any], str]:
    def validate(field: FieldSpec, value: Any) -> str:
        text = clean_text(value, multiline=multiline).strip()
        if len(text) > max_length:
            raise FieldError(field, f"最多 {max_length} 个字，现有 {len(text)} 个字")
        return text

    return validate


def _with_own_unit(field: FieldSpec, value: Any) -> Decimal | None:
    """A number written with the field's own unit, as hand-kept sheets and clerks write it: "42人" in a field whose
    unit is 人, "3.5万元" where it is 万元, "95%" where it is %. Another unit ("42次" for 人) stays refused."""
    unit = normalize_text(getattr(field, "unit", "") or "").replace(" ", "")
    if not unit or not isinstance(value, str):
        return None
    text = normalize_text(value).replace(" ", "")
    if len(text) <= len(unit) or not text.endswith(unit):
        return None
    try:
        return parse_decimal(text[: -len(unit)])
    except ValueError:
        return None


def _number(field: FieldSpec, value: Any, kind: str, places: int) -> Decimal:
    """A number with at most 15 integer digits and `places` decimals, in plain notation (1e3 is 1000).

    Exponent notation is accepted (spreadsheets write small floats as 1e-05), but the value it names must fit the
    bounds above, so no exponent can make a stored value longer than about 20 characters.
    """
    try:
        parsed: Decimal | None = parse_decimal(value)
    except ValueError:
        parsed = _with_own_unit(field, value)
    if parsed is None:
        raise FieldError(field, f"应为{kind}，“{shown(value)}”不是{kind if kind == '整数' else '数字'}")
    number = parsed
    if number.copy_abs() >= MAX_NUMBER:  # copy_abs: abs() would round, and overflow on 1e999999999
        raise FieldError(
            field, f"数值过大：“{shown(value)}”，最多 {MAX_INTEGER_DIGITS} 位整数，请检查是否多填了数字"
        )
    step = Decimal(1).scaleb(-places)
    # Exact comparison: quantize cannot overflow here, the number has at most 15 + `places` digits.
    if number != number.quantize(step):
        if places == 0:
            raise FieldError(field, f"应为整数，“{shown(value)}”带有小数")
        raise FieldError(field, f"最多保留 {places} 位小数：“{shown(value)}”")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite: parse_decimal refuses NaN and Infinity
    if number.is_zero():
        number = Decimal(0) if exponent > 0 or exponent < -places else number.copy_abs()  # 0E-99, -0 → 0
    elif exponent > 0 or exponent < -places:
        number = number.quantize(Decimal(1) if exponent > 0 else step)  # 1E+3 → 1000, 1.50000000 → 1.500000
    _bounds(field, number)
    return number


def validate_integer(field: FieldSpec, value: Any) -> int:
    return int(_number(field, value, "整数", 0))


def _decimal(kind: str, places: int, *, padded: bool) -> Callable[[FieldSpec, Any], str]:
    def validate(field: FieldSpec, value: Any) -> str:
        number = _number(field, value, kind, places)
        if padded:  # money always shows its fen: 300 is 300.00
            number = number.quantize(Decimal(1).scaleb(-places))
        return f"{number:f}"

    return validate


def validate_date(field: FieldSpec, value: Any) -> str:
    try:
        day = parse_date(value)
    except (ValueError, OverflowError):
        raise FieldError(
            field, f"日期格式不正确：“{shown(value)}”，请填写如 2019-03-05 或 2019年3月5日"
        ) from None
    if not 1900 <= day.year <= 2100:
        raise FieldError(field, f"日期“{shown(value)}”超出合理范围")
    return day.isoformat()


def validate_choice(field: FieldSpec, value: Any) -> str:
    text = normalize_text(value)
    options = [normalize_text(c) for c in field.choices]
    if text not in options:
        raise FieldError(field, f"“{shown(value)}”不是可选项，可选：{'、'.join(field.choices)}")
    return field.choices[options.index(text)]


MAX_MULTI_ITEMS = 100  # items named in one multi-choice value (repeats included): more is not a real answer


def validate_multichoice(field: FieldSpec, value: Any) -> list[str]:
    options = [normalize_text(c) for c in field.choices]
    items = _split_multi(value)
    if len(items) > MAX_MULTI_ITEMS:
        raise FieldError(field, f"填了 {len(items)} 项，最多只有 {len(field.choices)} 个可选项")
    chosen: list[str] = []  # at most one of each option, so never longer than the choices
    for item in items:
        if item not in options:
            raise FieldError(field, f"“{shown(item)}”不是可选项，可选：{'、'.join(field.choices)}")
        option = field.choices[options.index(item)]
        if option not in chosen:
            chosen.append(option)
    return chosen


def validate_bool(field: FieldSpec, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = normalize_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise FieldError(field, f"应填“是”或“否”，“{shown(value)}”无法识别")


def validate_person(field: FieldSpec, value: Any) -> str:
    name = re.sub(r"\s+", "", normalize_text(value))
    if len(name) > 30:
        raise FieldError(field, "人员姓名过长（最多 30 个字）")
    if re.search(r"[0-9<>{}$=]", name):
        raise FieldError(field, f"“{shown(value)}”不像人员姓名")
    return name


def validate_org(field: FieldSpec, value: Any) -> str:
    from dangjian.orgs.models import Organization

    text = normalize_text(value)
    if len(text) > 200:  # longer than any org's name or code: no need to look
        raise FieldError(field, f"找不到组织“{shown(value)}”，请填写组织全称或组织代码")
    org = (
        Organization.objects.filter(code=text).first()
        or Organization.objects.filter(name=text).first()
        or Organization.objects.filter(short_name=text).first()
    )
    if org is None:
        raise FieldError(field, f"找不到组织“{shown(value)}”，请填写组织全称或组织代码")
    return org.code


def validate_file(field: FieldSpec, value: Any) -> list[int]:
    """A file field stores the ids of its attachments; the files themselves are checked on upload."""
    items = value if isinstance(value, list | tuple) else [value]
    try:
        return [int(v) for v in items]
    except (TypeError, ValueError):
        raise FieldError(field, "附件引用无效") from None


VALIDATORS: dict[str, Callable[[FieldSpec, Any], Any]] = {
    "text": _text(TEXT_MAX_CHARS, multiline=False),
    "longtext": _text(LONGTEXT_MAX_CHARS, multiline=True),
    "integer": validate_integer,
    "decimal": _decimal("数字", DECIMAL_PLACES, padded=False),
    "money": _decimal("金额", 2, padded=True),
    "date": validate_date,
    "choice": validate_choice,
    "multichoice": validate_multichoice,
    "bool": validate_bool,
    "person": validate_person,
    "org": validate_org,
    "file": validate_file,
}


def validate_value(field: FieldSpec, value: Any) -> Any:
    """Validate one value. Empty gives None (or FieldError when required)."""
    if is_empty(value):
        if field.required:
            raise FieldError(field, "为必填项")
        return None
    result = VALIDATORS[field.type](field, value)
    if field.required and is_empty(result):
        raise FieldError(field, "为必填项")
    return result


def validate_values(
    fields: Iterable[FieldSpec], raw: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate every field: (clean values, {field code: Chinese message}). Unknown keys are ignored."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        try:
            value = validate_value(field, raw.get(field.code))
        except FieldError as exc:
            errors[field.code] = exc.message
            continue
        if value is not None:
            clean[field.code] = value
    return clean, errors


def cell_class(spec: Any) -> str:
    """A table cell's CSS class for a field: dates on one line, numbers right-aligned, text wide enough to read.
    Shared by the records table and the evidence page."""
    if spec.type == "date":
        return "nowrap"
    if spec.type in ("integer", "decimal", "money"):
        return "num"
    if spec.type in ("choice", "multichoice", "person"):
        return "choice"
    return "text" if spec.type == "text" else ""


def display_value(field: FieldSpec | None, value: Any) -> str:
    """A stored value as a clerk reads it: dates as 2019年3月5日, lists joined with 、, booleans as 是/否."""
    if value is None or value == "":
        return ""
    kind = field.type if field else ""
    if kind == "date":
        return cn_date(value) if isinstance(value, str) else str(value)
    if kind == "org":
        from dangjian.orgs.models import Organization

        org = Organization.objects.filter(code=value).only("name").first()
        return org.name if org else str(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)
