"""Characters: the one place that says which ones text may carry, on the way in and on the way out; and the
one wording of a date in Chinese prose (2019年3月5日).

A leaf module (it imports nothing of the project), so every stage may use it.
"""

from __future__ import annotations

import datetime as dt
import re

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


def cn_date(day: dt.date) -> str:
    """2019年3月5日: the date as 公文 write it, without zero padding (a datetime gives its own calendar day)."""
    return f"{day.year}年{day.month}月{day.day}日"
