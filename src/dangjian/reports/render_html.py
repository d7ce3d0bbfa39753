"""The HTML preview: the report's text where every figure and name links to the records behind it."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from .layout import HEADING_KINDS, blocks
from .render_json import check_row
from .slots import MARKER_RE, SlotValue, strip_markers
from .templating import Rendered
from .values import with_back


def stored_slot_rows(rendered: Rendered) -> list[dict[str, Any]]:
    """Slot rows as stored with a finalised run: the JSON row plus the indicator's label and unit."""
    return [slot.as_stored() for slot in rendered.slots]


def _link(slot: SlotValue, display: str, back: str = "", site: str = "") -> str:
    """A printed figure or name: a link to its evidence (or a plain span when it has none), titled with the
    indicator's label, key and the number of records behind it; `back`, the page showing the report, rides along
    as `from=` so the evidence page leads back to it; `site` (http(s)://host[:port]) makes the link absolute, for a
    saved file opened from disk."""
    records, url = slot.evidence.records, slot.evidence.url
    url = with_back(url, back)
    if url and site and url.startswith("/"):
        url = site.rstrip("/") + url
    title = f"{slot.indicator.label}（{slot.key}）"
    if records is not None:
        title += f"：{records} 条记录"
    text = escape(display)
    attrs = f'class="slot" title="{escape(title)}" data-indicator="{escape(slot.key)}"'
    if url:
        return f'<a {attrs} href="{escape(url)}">{text}</a>'
    return f"<span {attrs}>{text}</span>"


def _inline(marked: str, slots: Sequence[SlotValue], back: str = "", site: str = "") -> str:
    """Escape a marked line and turn each slot marker into its evidence link."""
    out, pos = [], 0
    for m in MARKER_RE.finditer(marked):
        out.append(escape(marked[pos : m.start()]))
        out.append(_link(slots[int(m.group(1))], m.group(2), back, site))
        pos = m.end()
    out.append(escape(marked[pos:]))
    return "".join(out)


def report_body(marked: str, slots: Sequence[SlotValue], back: str = "", site: str = "") -> SafeString:
    """The report as HTML paragraphs (title, headings, body), from marked text and its slot values (a live
    render's, or a finalised run's read back with SlotValue.from_stored); `back`: the page's own path, for the
    evidence pages' way back; `site`: the server's address, for links that work in a saved file."""
    parts = []
    for block in blocks(marked, strip=strip_markers):
        if block.kind == "blank":
            parts.append('<p class="blank"></p>')
        elif block.kind in HEADING_KINDS:
            head = f'<span class="{block.kind}">{_inline(block.head, slots, back, site)}</span>'
            parts.append(f'<p class="{block.kind}-line">{head}{_inline(block.rest, slots, back, site)}</p>')
        else:
            parts.append(f'<p class="{block.kind}">{_inline(block.head, slots, back, site)}</p>')
    return mark_safe("\n".join(parts))  # noqa: S308 - every piece of text above went through escape()


def site_url(request: Any = None) -> str:
    """The server's address for links in a saved file: DANGJIAN_SITE_URL when set (the address people use, behind
    a proxy too), else the address the request came to; "" (links relative to the server) for the command line
    without the setting."""
    configured = getattr(settings, "SITE_URL", "")
    if configured:
        return configured.rstrip("/")
    return request.build_absolute_uri("/").rstrip("/") if request is not None else ""


def render_html(rendered: Rendered, site: str = "") -> str:
    """A standalone HTML file (the web's download, the CLI's --format html): the report and its checks, styles
    inline; with `site`, every evidence link is absolute, so the file opened from disk still leads to the
    records (after signing in)."""
    context = {
        "title": f"{rendered.org.name} {rendered.period.label} {rendered.template.label}",
        "site": site,
        "body": report_body(rendered.marked, rendered.slots, site=site),
        "checks": [check_row(c) for c in rendered.checks],
        "failed": [check_row(c) for c in rendered.failed_checks()],
    }
    return render_to_string("reports/standalone.html", context)
