"""The report's wording, as Jinja filters with Chinese names.

Each filter accepts a slot (an indicator value) or a plain value. Given a slot it returns a slot with the same
indicator and evidence and new text, so a filtered figure is still traceable to its records.

`余` — round down to a round figure, for "20余次" from 23:
  below 10 the number stays (8 → 8); with two digits the leading digit is kept (23 → 20, 99 → 90);
  with three or more digits the leading two are kept (156 → 150, 1234 → 1200, 23456 → 23000).

Issue 12 added the wording other districts' reports need: dates without the year (月日, 月, 月份, 季度, 半年, 期间),
numbers as people write them (按需小数, 取整, 万, 亿, 倍, 百分点, 同比, 环比) and lists in an office's order (排序,
按数量, 排名). `docs/packs.md` (参考) lists each with an example and its output; FILTER_HELP below says the same to
the editor's picker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import cn2an
from jinja2 import pass_environment

from dangjian.indicators.grouped_values import Grouped
from dangjian.text import cn_date, cn_month, cn_month_day, cn_months

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
    if isinstance(
        v, Grouped
    ):  # a grouped value as a list: the groups that have a figure, e.g. 开展活动的单位
        return [p.label for p in v.parts if p.value]
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
    """`{{ 名单|前(3) }}`: the first n items (still the indicator's slot, still a list); of a grouped value, its
    first n groups (still grouped)."""
    v = raw(value)
    if isinstance(v, Grouped):
        shorter = v.reordered(list(v.parts[: int(n)]))
        return value._derive(shorter) if isinstance(value, Slot) else shorter
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


# --- dates: 12月20日, 3月份, 第一季度, 上半年 (issue 12) --------------------------------------------------------------

NO_COMPARISON = "（无法比较）"
CN_QUARTERS = ("一", "二", "三", "四")


def _date(value: Any, filter_name: str) -> dt.date | None:
    """A date from a date value, a datetime or ISO text (record values keep dates as text); None for no value."""
    v = raw(value)
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        v = v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v.strip()[:10])
        except ValueError:
            pass
    raise TypeError(f"过滤器“{filter_name}”需要日期，得到的是“{display_value(v)[:30]}”")


def _date_wording(filter_name: str, word: Callable[[dt.date], str]) -> Callable[[Any], Any]:
    """A filter writing a date (or each date of a list) in words; the slot keeps its value and evidence."""

    def date_filter(value: Any) -> Any:
        v = raw(value)
        if isinstance(v, list | tuple):
            days = [_date(x, filter_name) for x in v]
            return _wording(value, "、".join(word(d) if d else EMPTY for d in days))
        day = _date(value, filter_name)
        return _wording(value, word(day) if day else EMPTY)

    date_filter.__name__ = date_filter.__qualname__ = f"date_{filter_name}"
    date_filter.__doc__ = f"`{{{{ 日期|{filter_name} }}}}`: {word(dt.date(2019, 3, 20))} for 2019-03-20."
    return date_filter


def month_day(day: dt.date) -> str:
    return cn_month_day(day)


def quarter(day: dt.date) -> str:
    return f"第{CN_QUARTERS[(day.month - 1) // 3]}季度"


def half_year(day: dt.date) -> str:
    return "上半年" if day.month <= 6 else "下半年"


def _month_end(day: dt.date) -> dt.date:
    following = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def span_words(start: dt.date, end: dt.date) -> str:
    """A period as prose names it within its year: 全年, 上半年, 第一季度, 3月份, else 3月1日至6月29日 (with the
    years when it runs across years)."""
    if start.year == end.year and start.day == 1 and end == _month_end(end):
        months = (start.month, end.month)
        if months == (1, 12):
            return "全年"
        if months in ((1, 6), (7, 12)):
            return half_year(start)
        if start.month % 3 == 1 and end.month == start.month + 2:
            return quarter(start)
        if start.month == end.month:
            return cn_month(start, "份")
        return cn_months(start.month, end.month)
    if start.year != end.year:
        return f"{cn_date(start)}至{cn_date(end)}"
    return f"{month_day(start)}至{month_day(end)}"


def period_words(value: Any, end: Any) -> Any:
    """`{{ 报告期.开始|期间(报告期.结束) }}`: the span between the two dates in words (see `span_words`)."""
    start, stop = _date(value, "期间"), _date(end, "期间")
    if start is None or stop is None:
        return _wording(value, EMPTY)
    if stop < start:
        raise TypeError(f"过滤器“期间”的结束日期（{cn_date(stop)}）早于开始日期（{cn_date(start)}）")
    return _wording(value, span_words(start, stop))


# --- numbers as people write them ---------------------------------------------------------------------------------

UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}


def _places(decimals: Any, filter_name: str) -> int:
    places = raw(decimals)
    if isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= MAX_DECIMALS:
        raise TypeError(
            f"过滤器“{filter_name}”的小数位数应为 0 到 {MAX_DECIMALS} 之间的整数，而不是“{places}”"
        )
    return places


def plain(n: Decimal) -> str:
    """A number without trailing zeros after the point: 146.00 → 146, 1369.50 → 1369.5."""
    if n == n.to_integral_value():
        return str(int(n))
    return format(n.normalize(), "f")


def as_needed(value: Any, decimals: int = 2) -> Any:
    """`{{ x|按需小数 }}`: at most `decimals` places (half up), no trailing zeros: 146.00 → 146, 1369.50 → 1369.5."""
    n = _number(value, "按需小数")
    places = _places(decimals, "按需小数")
    if n is None:
        return _wording(value, EMPTY)
    return _wording(value, plain(n.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)))


def _unit(unit: Any, filter_name: str) -> int:
    factor = UNITS.get(raw(unit)) if isinstance(raw(unit), str) else None
    if factor is None:
        raise TypeError(
            f"过滤器“{filter_name}”的单位应为 {'、'.join(UNITS)} 之一，而不是“{display_value(raw(unit))}”"
        )
    return factor


def round_down(value: Any, unit: str = "百", word: str = "") -> Any:
    """`{{ x|取整("百", "多") }}`: rounded down to whole 十/百/千 (14937 → 14900多) or to 万/亿 with one decimal
    (14937 → 1.4万余). The word (多, 余) follows only when something was cut off; a figure below the unit is written
    as it is."""
    n = _number(value, "取整")
    factor = _unit(unit, "取整")
    suffix = str(raw(word))
    if len(suffix) > 4:
        raise TypeError(f"过滤器“取整”的后缀应为“多”“余”这样的一两个字，而不是“{suffix[:20]}”")
    if n is None:
        return _wording(value, EMPTY)
    size = abs(n)
    if size < factor:
        return _wording(value, plain(n))
    if factor >= 10_000:
        cut = (size / factor).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
        text, kept = plain(cut) + unit, cut * factor
    else:
        kept = (size / factor).to_integral_value(ROUND_DOWN) * factor
        text = plain(kept)
    sign = "-" if n < 0 else ""
    return _wording(value, sign + text + (suffix if kept != size else ""))


def _in_unit(filter_name: str) -> Callable[..., Any]:
    factor = UNITS[filter_name]

    def in_unit(value: Any, decimals: int = 1) -> Any:
        n = _number(value, filter_name)
        places = _places(decimals, filter_name)
        if n is None:
            return _wording(value, EMPTY)
        if abs(n) < factor:
            return _wording(value, plain(n))
        scaled = (n / factor).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        return _wording(value, plain(scaled) + filter_name)

    in_unit.__name__ = in_unit.__qualname__ = f"in_{filter_name}"
    in_unit.__doc__ = (
        f"`{{{{ x|{filter_name}(1) }}}}`: in {filter_name} with that many decimals at most (half up)."
    )
    return in_unit


def times(value: Any, base: Any, decimals: int = 1) -> Any:
    """`{{ x|倍(上年.x) }}`: how many times the base, "2.3倍" (half up, no trailing zeros)."""
    n, b = _number(value, "倍"), _number(base, "倍")
    places = _places(decimals, "倍")
    if n is None or b is None or b == 0:
        return _wording(value, NO_COMPARISON)
    ratio = (n / b).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return _wording(value, plain(ratio) + "倍")


def points(value: Any, previous: Any, decimals: int = 1) -> Any:
    """`{{ 率|百分点(上年.率) }}`: the difference of two percentages: 提高2.3个百分点 / 下降1.5个百分点 / 持平."""
    n, b = _number(value, "百分点"), _number(previous, "百分点")
    places = _places(decimals, "百分点")
    if n is None or b is None:
        return _wording(value, NO_COMPARISON)
    diff = (n - b).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if diff == 0:
        return _wording(value, "持平")
    return _wording(value, f"{'提高' if diff > 0 else '下降'}{plain(abs(diff))}个百分点")


def _change(filter_name: str) -> Callable[..., Any]:
    def change(value: Any, previous: Any, decimals: int = 1) -> Any:
        n, b = _number(value, filter_name), _number(previous, filter_name)
        places = _places(decimals, filter_name)
        if n is None or b is None or b == 0:
            return _wording(value, NO_COMPARISON)
        rate = ((n - b) / abs(b) * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if rate == 0:
            return _wording(value, f"{filter_name}持平")
        return _wording(value, f"{filter_name}{'增长' if rate > 0 else '下降'}{plain(abs(rate))}%")

    change.__name__ = change.__qualname__ = "change_" + filter_name
    change.__doc__ = f"`{{{{ x|{filter_name}(上年.x) }}}}`: {filter_name}增长12.5% / {filter_name}下降3.2% / {filter_name}持平."
    return change


# --- lists in the order an office writes them -----------------------------------------------------------------------

MAX_RANKED = 100


def _pairs(value: Any, filter_name: str) -> list[tuple[Any, Any]]:
    """(name, count) pairs from a mapping `{"A": 指标甲, "B": 指标乙}` or a list of pairs, in the order written."""
    v = raw(value)
    if isinstance(v, Grouped):  # each group's figure as its own blank: its value and its group's evidence
        pairs = [(p.label, value._part(p) if isinstance(value, Slot) else p.value) for p in v.parts]
    elif isinstance(v, dict):
        pairs = list(v.items())
    elif isinstance(v, list | tuple) and all(isinstance(p, list | tuple) and len(p) == 2 for p in v):
        pairs = [(p[0], p[1]) for p in v]
    else:
        raise TypeError(
            f'过滤器“{filter_name}”需要“名称: 数量”的对照，如 {{"甲": 指标甲, "乙": 指标乙}}，'
            f"得到的是“{display_value(v)[:30]}”"
        )
    if len(pairs) > MAX_RANKED:
        raise TypeError(f"过滤器“{filter_name}”最多排列 {MAX_RANKED} 项，而不是 {len(pairs)} 项")
    for _name, count in pairs:
        _number(count, filter_name)
    return pairs


def _by_count(pairs: list[tuple[Any, Any]], filter_name: str) -> list[tuple[Any, Any]]:
    """Largest first; equal counts keep the order written (a stable sort, never by characters)."""
    return sorted(pairs, key=lambda p: -(_number(p[1], filter_name) or 0))


def fixed_order(value: Any, *order: Any) -> Any:
    """`{{ 名单|排序("党委", "党总支", "党支部") }}`: the items in this order; items not named follow in their
    own order. A mapping (name → count) is reordered by its names."""
    if len(order) > MAX_RANKED:
        raise TypeError(f"过滤器“排序”最多给出 {MAX_RANKED} 个名称")
    wanted = [display_value(raw(x)) for x in order]
    rank = {name: i for i, name in reversed(list(enumerate(wanted)))}

    def position(name: Any) -> int:
        return rank.get(display_value(raw(name)), len(wanted))

    v = raw(value)
    if isinstance(v, dict):
        return dict(sorted(v.items(), key=lambda p: position(p[0])))
    if isinstance(v, Grouped):  # groups by their names (or codes), still grouped
        parts = sorted(v.parts, key=lambda p: min(position(p.label), position(p.name)))
        return value._derive(v.reordered(parts)) if isinstance(value, Slot) else v.reordered(parts)
    items = sorted(_items(value, "排序"), key=position)
    return value._derive(items) if isinstance(value, Slot) else items


def by_count(value: Any) -> list[Any]:
    """`{{ {"甲": 指标甲, "乙": 指标乙}|按数量|顿号 }}`: the names, largest count first, ties in the order written."""
    return [name for name, _count in _by_count(_pairs(value, "按数量"), "按数量")]


@pass_environment
def ranked(env: Any, value: Any, n: int = 3, measure: str = "") -> str:
    """`{{ {"甲": 指标甲, "乙": 指标乙, …}|排名(3, "件") }}`: 甲（12件）、乙（9件）、丙（7件）, largest first, ties
    in the order written. Each count is printed as its own indicator's blank (value and evidence kept)."""
    top = raw(n)
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_RANKED:
        raise TypeError(f"过滤器“排名”的项数应为 1 到 {MAX_RANKED} 之间的整数，而不是“{top}”")
    word = display_value(raw(measure))
    if len(word) > 4:
        raise TypeError(f"过滤器“排名”的量词应为“件”“人”这样的一两个字，而不是“{word[:20]}”")
    # The environment's finalize records each count's slot and marks its text, as if printed by `{{ }}`: the
    # ranking is plain text holding one marked blank per count (without an environment: the counts' text).
    finalize = getattr(env, "finalize", None) or display_value
    parts = []
    for name, count in _by_count(_pairs(value, "排名"), "排名")[:top]:
        printed = finalize(count)
        parts.append(f"{display_value(raw(name))}（{EMPTY if printed is None else printed}{word}）")
    return "、".join(parts)


# --- a breakdown in one sentence: 其中A类12人、B类3人 (issue 12) ----------------------------------------------------

PART_FORMAT = "{名称}{数量}{量词}"
BREAKDOWN_OPTIONS = ("量词", "略零", "格式")


def _breakdown_options(
    filter_name: str, args: tuple[Any, ...], options: dict[str, Any]
) -> tuple[str, bool, str]:
    unknown = [k for k in options if k not in BREAKDOWN_OPTIONS]
    if unknown or len(args) > len(BREAKDOWN_OPTIONS):
        raise TypeError(
            f'过滤器“{filter_name}”的参数为 量词、略零、格式，如 {filter_name}("人", true) 或 '
            f'{filter_name}(量词="人", 略零=true, 格式="{{名称}}类{{数量}}{{量词}}")'
            + (f"，而不是“{'、'.join(unknown)}”" if unknown else "")
        )
    given = dict(zip(BREAKDOWN_OPTIONS, args, strict=False))
    for name in options:
        if name in given:
            raise TypeError(f"过滤器“{filter_name}”的参数“{name}”给了两次")
    given.update(options)
    word = display_value(raw(given.get("量词", "")))
    if len(word) > 4:
        raise TypeError(f"过滤器“{filter_name}”的量词应为“件”“人”这样的一两个字，而不是“{word[:20]}”")
    skip = raw(given.get("略零", False))
    if not isinstance(skip, bool):
        raise TypeError(
            f"过滤器“{filter_name}”的“略零”应为 true 或 false，而不是“{display_value(skip)[:20]}”"
        )
    fmt = raw(given.get("格式", PART_FORMAT))
    if not isinstance(fmt, str) or "{数量}" not in fmt or len(fmt) > 40:
        raise TypeError(
            f"过滤器“{filter_name}”的格式应含“{{数量}}”（可用 {{名称}}、{{数量}}、{{量词}}，不超过 40 字），"
            f"而不是“{display_value(fmt)[:40]}”"
        )
    return word, skip, fmt


def _breakdown(env: Any, value: Any, filter_name: str, args: tuple[Any, ...], options: dict[str, Any]) -> str:
    word, skip, fmt = _breakdown_options(filter_name, args, options)
    v = raw(value)
    if not isinstance(v, Grouped):
        raise TypeError(
            f"过滤器“{filter_name}”需要分组指标（定义中有 group_by），得到的是“{display_value(v)[:30]}”"
        )
    finalize = getattr(env, "finalize", None) or display_value
    parts = []
    for part in v.parts:
        if skip and not part.value:
            continue
        # each figure printed as its own blank, as `{{ }}` would: the group's value and evidence
        printed = finalize(value._part(part) if isinstance(value, Slot) else part.value)
        text = EMPTY if printed is None else str(printed)
        parts.append(
            fmt.replace("{名称}", display_value(part.label)).replace("{量词}", word).replace("{数量}", text)
        )
    return "、".join(parts)


@pass_environment
def breakdown(env: Any, value: Any, *args: Any, **options: Any) -> str:
    """`{{ 处分人数|分类("人") }}`: 党纪处分12人、政务处分3人 — a grouped indicator's groups in its order (the
    choice order, the pack's org-kind order or the org tree's), each figure its group's own blank. Options
    (positional or named): 量词; 略零 (true: leave out groups of 0); 格式 ("{名称}类{数量}{量词}")."""
    text = _breakdown(env, value, "分类", args, options)
    return text or EMPTY


@pass_environment
def of_which(env: Any, value: Any, *args: Any, **options: Any) -> str:
    """`{{ 处分人数|其中("人", true) }}`: 其中党纪处分12人、政务处分3人 (nothing when no group is left), as 分类."""
    text = _breakdown(env, value, "其中", args, options)
    return f"其中{text}" if text else ""


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
    "月日": _date_wording("月日", month_day),
    "月": _date_wording("月", cn_month),
    "月份": _date_wording("月份", lambda d: cn_month(d, "份")),
    "季度": _date_wording("季度", quarter),
    "半年": _date_wording("半年", half_year),
    "期间": period_words,
    "按需小数": as_needed,
    "取整": round_down,
    "万": _in_unit("万"),
    "亿": _in_unit("亿"),
    "倍": times,
    "百分点": points,
    "同比": _change("同比"),
    "环比": _change("环比"),
    "排序": fixed_order,
    "按数量": by_count,
    "排名": ranked,
    "分类": breakdown,
    "其中": of_which,
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
    "月日": ("日期只写月日，如 2019-12-20 → 12月20日", "|月日"),
    "月": ("日期只写月，如 2019-03-20 → 3月", "|月"),
    "月份": ("日期写成月份，如 2019-03-20 → 3月份", "|月份"),
    "季度": ("日期所在季度，如 2019-03-20 → 第一季度", "|季度"),
    "半年": ("日期所在半年，如 2019-03-20 → 上半年", "|半年"),
    "期间": (
        "两个日期之间的期间，如 1月1日至6月30日 → 上半年，全年、第一季度、3月份同理",
        "|期间(报告期.结束)",
    ),
    "按需小数": ("小数按需保留，去掉末尾的 0，如 146.00 → 146，1369.50 → 1369.5", "|按需小数"),
    "取整": (
        "向下取整到十、百、千或万、亿（一位小数），可加“多”“余”，如 14937 → 14900多、1.4万余",
        '|取整("百", "多")',
    ),
    "万": ("以万为单位，保留一位小数，如 12345 → 1.2万（不足一万照写）", "|万"),
    "亿": ("以亿为单位，保留一位小数，如 123456789 → 1.2亿（不足一亿照写）", "|亿"),
    "倍": ("是另一个数的几倍，如 23 与 10 → 2.3倍", "|倍(上年.指标)"),
    "百分点": ("两个百分比之差：提高2.3个百分点 / 下降1.5个百分点 / 持平", "|百分点(上年.指标)"),
    "同比": ("与上年同期比较：同比增长12.5% / 同比下降3.2% / 同比持平", "|同比(上年.指标)"),
    "环比": ("与上期比较：环比增长12.5% / 环比下降3.2% / 环比持平", "|环比(上期.指标)"),
    "排序": ("名单按给定顺序排列，未列出的按原顺序排在后面", '|排序("党委", "党总支", "党支部")'),
    "按数量": ("“名称: 数量”对照按数量从多到少排列名称，数量相同保持书写顺序", "|按数量"),
    "排名": (
        "“名称: 数量”对照或分组指标取数量最多的几项，如 甲（12件）、乙（9件）、丙（7件）",
        '|排名(3, "件")',
    ),
    "分类": ("分组指标逐组列出：党纪处分12人、政务处分3人（略零：不写为 0 的组）", '|分类("人")'),
    "其中": ("分组指标写成“其中……”：其中党纪处分12人、政务处分3人", '|其中("人", true)'),
}
