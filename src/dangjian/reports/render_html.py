"""The HTML preview: the report's text where every figure and name links to the records behind it."""

from __future__ import annotations

from html import escape
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from .layout import blocks
from .render_json import check_row, slot_label, slot_row
from .slots import MARKER_RE, strip_markers
from .templating import Rendered


def stored_slot_rows(rendered: Rendered) -> list[dict[str, Any]]:
    """Slot rows as stored with a finalised run: the JSON row plus the indicator's label and unit."""
    rows = []
    for slot in rendered.slots:
        row = slot_row(slot, rendered)
        row["label"] = slot_label(slot._key, slot._info)
        row["unit"] = getattr(slot._info, "unit", "") or ""
        rows.append(row)
    return rows


def _link(row: dict[str, Any], display: str) -> str:
    records = row["evidence"]["records"]
    title = f"{row.get('label') or row['indicator']}（{row['indicator']}）"
    if records is not None:
        title += f"：{records} 条记录"
    url = row["evidence"]["url"]
    text = escape(display)
    attrs = f'class="slot" title="{escape(title)}" data-indicator="{escape(row["indicator"])}"'
    if url:
        return f'<a {attrs} href="{escape(url)}">{text}</a>'
    return f"<span {attrs}>{text}</span>"


def _inline(marked: str, rows: list[dict[str, Any]]) -> str:
    """Escape a marked line and turn each slot marker into its evidence link."""
    out, pos = [], 0
    for m in MARKER_RE.finditer(marked):
        out.append(escape(marked[pos : m.start()]))
        out.append(_link(rows[int(m.group(1))], m.group(2)))
        pos = m.end()
    out.append(escape(marked[pos:]))
    return "".join(out)


def report_body(marked: str, rows: list[dict[str, Any]]) -> SafeString:
    """The report as HTML paragraphs (title, headings, body), from marked text and slot rows."""
    parts = []
    for block in blocks(marked, strip=strip_markers):
        if block.kind == "blank":
            parts.append('<p class="blank"></p>')
        elif block.kind in ("h1", "h2"):
            head = f'<span class="{block.kind}">{_inline(block.head, rows)}</span>'
            parts.append(f'<p class="{block.kind}-line">{head}{_inline(block.rest, rows)}</p>')
        else:
            parts.append(f'<p class="{block.kind}">{_inline(block.head, rows)}</p>')
    return mark_safe("\n".join(parts))  # noqa: S308 - every piece of text above went through escape()


def render_html(rendered: Rendered) -> str:
    """A standalone HTML file (the CLI's --format html): the report and its checks, styles inline."""
    rows = stored_slot_rows(rendered)
    context = {
        "title": f"{rendered.org.name} {rendered.period.label} {rendered.template.label}",
        "body": report_body(rendered.marked, rows),
        "checks": [check_row(c) for c in rendered.checks],
        "failed": [check_row(c) for c in rendered.failed_checks()],
    }
    return render_to_string("reports/standalone.html", context)
