"""Text as people read it, in one place: which characters text may carry (on the way in and on the way out), and
the one wording of dates (2019年3月5日), times, people and numbers that pages, exports, messages and reports share.

A leaf module (it imports nothing of the project), so every stage may use it; templates reach the wordings
through the `cn_date`, `cn_datetime` and `who` filters ({% load dangjian %}), which call these.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from decimal import Decimal
from typing import Any

from django.utils import timezone

# What XML 1.0 — and so every .xlsx and .docx — cannot carry: C0 controls except tab and line breaks, the
# non-characters U+FFFE/U+FFFF and lone surrogates (only JSON can make them). openpyxl's own pattern misses the last.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# On the way in, also DEL and the C1 controls: XML could carry them, but nobody types them on purpose.
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """`text` without the characters a spreadsheet or Word file cannot hold (writing them fails outright)."""
    return XML_ILLEGAL.sub("", text)


def without_invisible(text: str) -> str:
    """`text` without invisible control characters (input cleaning: they arrive by copy and paste)."""
    return INVISIBLE.sub("", text)


NOTE_LIMIT = 2000  # characters in a comment, a reason for 退回 or a 说明: a paragraph, not a document


def note(text: str | None) -> str:
    """A free-text comment as typed into a form: invisible characters gone, outer blanks stripped."""
    return without_invisible(text or "").strip()


def cn_date(value: dt.date | str | None) -> str:
    """2019年3月5日: the date as 公文 write it, without zero padding.

    An aware datetime gives its local calendar day, a naive one its own; an ISO date in text (as record values
    keep dates) is read; other text comes back as it is, nothing as "".
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return value
    elif isinstance(value, dt.datetime) and timezone.is_aware(value):
        day = timezone.localtime(value)
    else:
        day = value
    return f"{day.year}年{day.month}月{day.day}日"


def days_left(deadline: dt.date, today: dt.date) -> str:
    """How far off a deadline is, as a to-do list says it: 还剩 3 天, 明天截止, 今天截止, 已逾期 2 天."""
    days = (deadline - today).days
    if days < 0:
        return f"已逾期 {-days} 天"
    return {0: "今天截止", 1: "明天截止"}.get(days, f"还剩 {days} 天")


def cn_month_day(day: dt.date) -> str:
    """3月5日: a day within a year the prose has already named."""
    return f"{day.month}月{day.day}日"


def cn_month(day: dt.date, suffix: str = "") -> str:
    """3月 (or 3月份 with suffix "份"); cn_months(3, 5) is 3—5月."""
    return f"{day.month}月{suffix}"


def cn_months(first: int, last: int) -> str:
    return f"{first}—{last}月"


def cn_datetime(value: dt.datetime | None) -> str:
    """2019年3月5日 14:05, in the local time zone."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{cn_date(value)} {value:%H:%M}"


def person(user: Any, empty: str = "") -> str:
    """A person as pages, exports and logs name them: full name, else user name; `empty` when there is none (a step
    taken by the system, or an account since deleted)."""
    if not user:
        return empty
    return str(user.get_full_name() or user.username)


def number_text(value: Decimal | float | int) -> str:
    """A number as prose writes it: whole numbers without a decimal point, others in plain notation (never 1E+1)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and value.as_tuple().exponent >= 0:  # type: ignore[operator]
            return str(int(value))
        return format(value, "f")
    return str(value)


# --- differences between two versions of a text (template files, indicator TOML) ----------------------------------

MAX_DIFF_LINES = 5_000  # beyond this a diff is not read by anyone; refuse rather than spend the request on it


def diff_rows(old: str, new: str, context: int = 3) -> list[dict[str, Any]]:
    """The lines that differ between `old` and `new`, with `context` unchanged lines around each change, as rows a
    page shows: {"op": "same" | "del" | "add" | "gap", "old": line number or None, "new": line number or None,
    "text": the line}. "gap" stands for unchanged lines left out. Empty when the texts are the same."""
    a, b = old.splitlines(), new.splitlines()
    if a == b:
        return []
    if len(a) > MAX_DIFF_LINES or len(b) > MAX_DIFF_LINES:
        return [{"op": "gap", "old": None, "new": None, "text": f"文本超过 {MAX_DIFF_LINES} 行，不逐行比较"}]
    gap = {"op": "gap", "old": None, "new": None, "text": "……"}
    rows: list[dict[str, Any]] = []
    groups = list(difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context))
    for group in groups:
        _tag, i1, _i2, j1, _j2 = group[0]
        if i1 > 0 or j1 > 0 or rows:
            rows.append(dict(gap))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [
                    {"op": "same", "old": i + 1, "new": j1 + i - i1 + 1, "text": a[i]} for i in range(i1, i2)
                ]
                continue
            rows += [{"op": "del", "old": i + 1, "new": None, "text": a[i]} for i in range(i1, i2)]
            rows += [{"op": "add", "old": None, "new": j + 1, "text": b[j]} for j in range(j1, j2)]
    _tag, _i1, i2, _j1, j2 = groups[-1][-1]
    if i2 < len(a) or j2 < len(b):
        rows.append(dict(gap))
    return rows
