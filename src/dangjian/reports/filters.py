"""The report's wording, as Jinja filters with Chinese names.

Each filter accepts a slot (an indicator value) or a plain value. Given a slot it returns a slot with the same
indicator and evidence and new text, so a filtered figure is still traceable to its records.

`余` — round down to a round figure, for "20余次" from 23:
  below 10 the number stays (8 → 8); with two digits the leading digit is kept (23 → 20, 99 → 90);
  with three or more digits the leading two are kept (156 → 150, 1234 → 1200, 23456 → 23000).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import cn2an

from .slots import EMPTY, Slot, display_value, raw

MAX_DIGITS = 30
MAX_DECIMALS = 10


def _number(value: Any, filter_name: str) -> Decimal | None:
    v = raw(value)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal | str):
        raise TypeError(f"过滤器“{filter_name}”需要数字，得到的是“{display_value(v)}”")
    try:
        n = Decimal(str(v))
    except InvalidOperation:
        raise TypeError(f"过滤器“{filter_name}”需要数字，得到的是“{display_value(v)[:30]}”") from None
    # 1e999999999 is a valid Decimal whose digits would take gigabytes to write out: report figures never need
    # more than a few dozen digits either side of the point.
    if not n.is_finite() or abs(n.adjusted()) > MAX_DIGITS:
        raise TypeError(f"过滤器“{filter_name}”收到的数字过大或过小（超过 {MAX_DIGITS} 位）")
    return n


def _wording(value: Any, text: str, new_value: Any = None, *, keep_value: bool = True) -> Any:
    """Return `text` as the value's slot when the input was a slot, else plain text."""
    if isinstance(value, Slot):
        return value._derive(new_value, text, keep_value=keep_value)
    return text


def round_figure(n: int) -> int:
    """The rule of `余` on a whole number (see the module docstring)."""
    if n < 10:
        return n
    digits = len(str(n))
    factor = 10 ** (digits - (1 if digits == 2 else 2))
    return n // factor * factor


def yu(value: Any) -> Any:
    """`{{ x|余 }}余次`: 23 → 20."""
    n = _number(value, "余")
    if n is None:
        return _wording(value, EMPTY)
    return _wording(value, str(round_figure(int(n.to_integral_value(ROUND_FLOOR)))))


def wan_yu(value: Any) -> Any:
    """`{{ x|万余 }}万余人次`: 23456 → 2 (whole ten-thousands, rounded down)."""
    n = _number(value, "万余")
    if n is None:
        return _wording(value, EMPTY)
    return _wording(value, str(int((n / 10000).to_integral_value(ROUND_FLOOR))))


def percent(value: Any, decimals: int = 1) -> Any:
    """`{{ x|百分比(1) }}%`: a share already in percent (37.5 for 37.5%) with that many decimals, half up."""
    n = _number(value, "百分比")
    if n is None:
        return _wording(value, EMPTY)
    places = int(raw(decimals))
    if not 0 <= places <= MAX_DECIMALS:
        raise TypeError(f"过滤器“百分比”的小数位数应在 0 到 {MAX_DECIMALS} 之间，而不是 {places}")
    quantum = Decimal(1).scaleb(-places)
    return _wording(value, format(n.quantize(quantum, rounding=ROUND_HALF_UP), "f"))


def chinese_number(value: Any) -> Any:
    """`{{ x|中文数字 }}`: 3 → 三, 12 → 十二, 70 → 七十."""
    n = _number(value, "中文数字")
    if n is None:
        return _wording(value, EMPTY)
    text = format(n.normalize(), "f") if n != n.to_integral_value() else str(int(n))
    return _wording(value, cn2an.an2cn(text, "low"))


def _items(value: Any, filter_name: str) -> list[Any]:
    v = raw(value)
    if v is None:
        return []
    if isinstance(v, list | tuple):
        return list(v)
    if isinstance(v, str):
        return [v]
    raise TypeError(f"过滤器“{filter_name}”需要名称列表，得到的是“{display_value(v)}”")


def book_titles(value: Any) -> Any:
    """`{{ 文化.舞台剧|书名号 }}`: ["A", "B"] → 《A》《B》."""
    return _wording(value, "".join(f"《{display_value(x)}》" for x in _items(value, "书名号")))


def dun_list(value: Any) -> Any:
    """`{{ 名单|顿号 }}`: ["A", "B", "C"] → A、B、C."""
    return _wording(value, "、".join(display_value(x) for x in _items(value, "顿号")))


def first_n(value: Any, n: int = 3) -> Any:
    """`{{ 名单|前(3) }}`: the first n items (still the indicator's slot, still a list)."""
    items = _items(value, "前")[: int(n)]
    if isinstance(value, Slot):
        return value._derive(items, keep_value=False)
    return items


def trend(value: Any, previous: Any) -> str:
    """`{{ x|升降(上年.x) }}`: 下降至 / 上升至 / 持平于, chosen by comparing the value with the previous one.

    The result is wording, not a figure: it is plain text, not a slot of its own."""
    now, before = _number(value, "升降"), _number(previous, "升降")
    if now is None or before is None:
        return "（无法比较）"
    if now < before:
        return "下降至"
    if now > before:
        return "上升至"
    return "持平于"


def strip_suffix(value: Any, suffix: str) -> Any:
    """`{{ 场馆[0]|去尾("纪念馆") }}纪念馆`: "焦裕禄纪念馆" → "焦裕禄", for names the prose already ends with the
    kind of. A name without that suffix is left as it is."""
    v = raw(value)
    if isinstance(v, list | tuple):
        items = [x.removesuffix(suffix) if isinstance(x, str) else x for x in v]
        return value._derive(items, keep_value=False) if isinstance(value, Slot) else items
    text = display_value(v)
    return _wording(value, text.removesuffix(str(suffix)) if v is not None else EMPTY)


FILTERS: dict[str, Callable[..., Any]] = {
    "余": yu,
    "万余": wan_yu,
    "百分比": percent,
    "中文数字": chinese_number,
    "书名号": book_titles,
    "顿号": dun_list,
    "前": first_n,
    "升降": trend,
    "去尾": strip_suffix,
}

# What each filter does, in the words of the person who writes the report: the editor's picker finds filters by
# these, and inserts `|名称` (with the example's arguments) at the cursor.
FILTER_HELP: dict[str, tuple[str, str]] = {
    "余": ("取整为“余”数，如 23 → 20（写作“20余次”）", "|余"),
    "万余": ("按万取整，如 23456 → 2（写作“2万余人次”）", "|万余"),
    "百分比": ("百分数保留几位小数，如 37.46 → 37.5", "|百分比(1)"),
    "中文数字": ("写成中文数字，如 12 → 十二", "|中文数字"),
    "书名号": ("名单加书名号，如《焦裕禄》《红旗渠》", "|书名号"),
    "顿号": ("名单以顿号连接，如 甲、乙、丙", "|顿号"),
    "前": ("名单只取前几项", "|前(3)"),
    "升降": ("与上年比较：上升至 / 下降至 / 持平于", "|升降(上年.指标)"),
    "去尾": ("去掉名称末尾的字样，如“焦裕禄纪念馆”去掉“纪念馆”", '|去尾("纪念馆")'),
}
