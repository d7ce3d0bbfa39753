"""The period a value, a report, a check or an evidence page is computed for, and the one parser of its text.

A period is a first and a last day. The forms people write are read here and nowhere else (the command line's
`--period`/`--year`, the report page, the API's `period`):

    2023                    2023年 / 2023年度          the calendar year
    2023H1  2023H2          2023年上半年 / 2023年下半年  a half-year
    2023Q1 … 2023Q4         2023年第一季度 … 第四季度     a quarter
    2023-03                 2023年3月                  a month
    2023-01-01..2023-06-30  2023年1月1日至2023年6月30日  any range of days (at most MAX_RANGE_YEARS years)

A period writes itself back as `code` (the shortest of these forms: 2023-01-01..2023-12-31 is 2023) and reads in
reports and pages as `label` (2023年度, 2023年上半年, 2023年第一季度, 2023年3月, 2023年1月1日至2023年6月30日).
Comparisons: `previous()` is 上期 (the period of the same kind just before: 2023Q1 → 2022Q4, a range of 30 days →
the 30 days before it) and `same_last_year()` is 上年同期 (the same span a year earlier; for a year both are the
year before).

A leaf: no model, no Django.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from dangjian.text import cn_date

FIRST_YEAR = 1949  # no district keeps ledgers from before; the year before (1948) is still a valid date
MAX_RANGE_YEARS = 10  # a date range longer than this is a typing mistake, not a report

HALVES = {1: "上半年", 2: "下半年"}
QUARTERS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
KINDS = {"year": "年度", "half": "半年", "quarter": "季度", "month": "月份", "range": "自定义期间"}
FORMS = (
    "应写作 2023、2023H1、2023Q1、2023-03 或 2023-01-01..2023-06-30"
    "（也可写 2023年、2023年上半年、2023年第一季度、2023年3月）"
)
_CN_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def last_year() -> int:
    """Next year is the last a report may be drafted for."""
    return dt.date.today().year + 1


class PeriodError(ValueError):
    """A period that cannot be read or used; the message is Chinese and names the text and the reason."""

    def __init__(self, text: str, reason: str) -> None:
        self.text, self.reason = text, reason
        super().__init__(f"报告期“{text}”无效：{reason}")


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    # --- the kinds ---------------------------------------------------------------------------------------------

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))

    @classmethod
    def half(cls, year: int, half: int) -> Period:
        return cls.months(year, 6 * (half - 1) + 1, 6)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        return cls.months(year, 3 * (quarter - 1) + 1, 3)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls.months(year, month, 1)

    @classmethod
    def months(cls, year: int, first: int, count: int) -> Period:
        last = first + count - 1
        return cls(dt.date(year, first, 1), _month_end(year, last))

    @property
    def _month_span(self) -> int | None:
        """How many whole calendar months, within one year, the period covers (None when it is not such a span)."""
        if self.start.day != 1 or self.start.year != self.end.year or self.end < self.start:
            return None
        if self.end != _month_end(self.end.year, self.end.month):
            return None
        return self.end.month - self.start.month + 1

    @property
    def kind(self) -> str:
        """year | half | quarter | month | range (see KINDS for their Chinese names)."""
        span, first = self._month_span, self.start.month
        if span == 12:
            return "year"
        if span == 6 and first in (1, 7):
            return "half"
        if span == 3 and first in (1, 4, 7, 10):
            return "quarter"
        if span == 1:
            return "month"
        return "range"

    @property
    def is_year(self) -> bool:
        return self.kind == "year"

    @property
    def number(self) -> int:
        """Which half, quarter or month of its year the period is (1 for a year; 0 for a range)."""
        kind, month = self.kind, self.start.month
        return {"year": 1, "half": (month + 5) // 6, "quarter": (month + 2) // 3, "month": month}.get(kind, 0)

    # --- text --------------------------------------------------------------------------------------------------

    @property
    def code(self) -> str:
        """The period as it is written in a URL and on the command line (2023, 2023H1, 2023Q1, 2023-03, a..b)."""
        kind, year, n = self.kind, self.start.year, self.number
        if kind == "year":
            return str(year)
        if kind == "half":
            return f"{year}H{n}"
        if kind == "quarter":
            return f"{year}Q{n}"
        if kind == "month":
            return f"{year}-{n:02d}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def label(self) -> str:
        """The period as reports and pages name it: 2023年度, 2023年上半年, 2023年第一季度, 2023年3月, or the range."""
        kind, year, n = self.kind, self.start.year, self.number
        if kind == "year":
            return f"{year}年度"
        if kind == "half":
            return f"{year}年{HALVES[n]}"
        if kind == "quarter":
            return f"{year}年{QUARTERS[n]}"
        if kind == "month":
            return f"{year}年{n}月"
        return f"{cn_date(self.start)}至{cn_date(self.end)}"

    def __str__(self) -> str:
        return self.code

    # --- comparisons -------------------------------------------------------------------------------------------

    def previous(self) -> Period:
        """上期: the period of the same kind just before (2023 → 2022, 2023H1 → 2022H2, 2023Q1 → 2022Q4,
        2023-01 → 2022-12); for a range, as many days ending the day before it starts."""
        kind, year, n = self.kind, self.start.year, self.number
        if kind == "year":
            return Period.year(year - 1)
        if kind == "half":
            return Period.half(year, 1) if n == 2 else Period.half(year - 1, 2)
        if kind == "quarter":
            return Period.quarter(year, n - 1) if n > 1 else Period.quarter(year - 1, 4)
        if kind == "month":
            return Period.month(year, n - 1) if n > 1 else Period.month(year - 1, 12)
        days = (self.end - self.start).days + 1
        return Period(self.start - dt.timedelta(days=days), self.start - dt.timedelta(days=1))

    def same_last_year(self) -> Period:
        """上年同期: the same span one year earlier (a quarter's is that quarter of the year before; in a range,
        29 February becomes 28 February)."""
        kind, year, n = self.kind, self.start.year, self.number
        if kind == "year":
            return Period.year(year - 1)
        if kind == "half":
            return Period.half(year - 1, n)
        if kind == "quarter":
            return Period.quarter(year - 1, n)
        if kind == "month":
            return Period.month(year - 1, n)
        return Period(_years_before(self.start, 1), _years_before(self.end, 1))

    # --- reading -----------------------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str | int) -> Period:
        """The period `text` names, within FIRST_YEAR … next year. Raises PeriodError (Chinese) naming the text."""
        raw = str(text).strip()
        shown = raw[:40]
        if not raw:
            raise PeriodError(shown, "没有填写报告期；" + FORMS)
        s = unicodedata.normalize("NFKC", raw).replace(" ", "").upper()
        period = _read(shown, s)
        period.check(shown)
        return period

    def check(self, text: str | None = None) -> None:
        """Refuse a period outside FIRST_YEAR … next year, ending before it starts, or longer than allowed."""
        shown = self.code if text is None else text
        first, last = FIRST_YEAR, last_year()
        if self.end < self.start:
            raise PeriodError(shown, "截止日期不能早于起始日期")
        if self.start.year < first or self.end.year > last:
            what = "报告年度" if self.kind == "year" else "报告期"
            raise PeriodError(shown, f"{what}应在 {first} 年至 {last} 年之间")
        if self.end >= _years_after(self.start, MAX_RANGE_YEARS):
            raise PeriodError(shown, f"期间不能超过 {MAX_RANGE_YEARS} 年")


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


_YEAR = r"(\d{4})"
_RANGE_SEPARATORS = re.compile(r"\.\.|至|到|~|～|—|–")


def _year(shown: str, digits: str) -> int:
    year = int(digits)
    if not FIRST_YEAR <= year <= last_year():
        raise PeriodError(shown, f"报告年度应在 {FIRST_YEAR} 年至 {last_year()} 年之间")
    return year


def _date(shown: str, s: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s) or re.fullmatch(
        r"(\d{4})年(\d{1,2})月(\d{1,2})日?", s
    )
    if m is None:
        raise PeriodError(shown, f"日期“{s}”应写作 2023-01-01 或 2023年1月1日")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise PeriodError(shown, f"日期“{s}”不存在") from None


def _read(shown: str, s: str) -> Period:
    if m := re.fullmatch(r"(\d{1,6})(?:年度?)?", s):
        return Period.year(_year(shown, m[1]))
    if m := re.fullmatch(_YEAR + r"H(\d+)", s):
        half = int(m[2])
        if half not in HALVES:
            raise PeriodError(shown, "半年应写作 H1（上半年）或 H2（下半年）")
        return Period.half(_year(shown, m[1]), half)
    if m := re.fullmatch(_YEAR + r"年?(上|下)半年", s):
        return Period.half(_year(shown, m[1]), 1 if m[2] == "上" else 2)
    if m := re.fullmatch(_YEAR + r"Q(\d+)", s):
        quarter = int(m[2])
        if quarter not in QUARTERS:
            raise PeriodError(shown, "季度应写作 Q1 至 Q4")
        return Period.quarter(_year(shown, m[1]), quarter)
    if m := re.fullmatch(_YEAR + r"年?第?(\S)季度", s):
        if m[2] not in _CN_NUMBERS:
            raise PeriodError(shown, "季度应为第一季度至第四季度")
        return Period.quarter(_year(shown, m[1]), _CN_NUMBERS[m[2]])
    if m := re.fullmatch(_YEAR + r"-(\d{1,2})", s) or re.fullmatch(_YEAR + r"年(\d{1,2})月份?", s):
        month = int(m[2])
        if not 1 <= month <= 12:
            raise PeriodError(shown, "月份应在 1 至 12 之间")
        return Period.month(_year(shown, m[1]), month)
    parts = _RANGE_SEPARATORS.split(s)
    if len(parts) == 2 and all(parts):
        start, end = _date(shown, parts[0]), _date(shown, parts[1])
        if end < start:
            raise PeriodError(shown, "截止日期不能早于起始日期")
        return Period(start, end)
    raise PeriodError(shown, FORMS)


def parse_choice(year: str | int | None, period: str | None) -> Period:
    """The period of a command or request given `--year`/`year` (a shorthand: a calendar year only) or
    `--period`/`period` (any form) — exactly one of them. Raises PeriodError."""
    if year not in (None, "") and period not in (None, ""):
        raise PeriodError(f"{year}、{period}", "年度和报告期只能填写一个")
    if period not in (None, ""):
        return Period.parse(str(period))
    if year in (None, ""):
        raise PeriodError("", "没有填写报告期；" + FORMS)
    text = str(year).strip()
    if not re.fullmatch(r"\d{1,6}", unicodedata.normalize("NFKC", text)):
        raise PeriodError(
            text[:40], "年度应写作数字，如 2019；半年、季度、月份或起止日期请用报告期（period）"
        )
    return Period.parse(text)
