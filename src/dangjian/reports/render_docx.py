"""The report as a Word document in the GB/T 9704-2012 layout (党政机关公文格式).

- A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm: a type area of 156 × 225 mm;
- title in 2号 (22 pt) 方正小标宋简体, centred; then a blank line;
- body in 3号 (16 pt) 仿宋_GB2312, first line indented two characters, justified, exact line spacing of
  28.9 pt (22 lines of 28 characters fill the type area, as the standard asks);
- level-1 headings (一、) in 黑体, level-2 headings (（一）) in 楷体_GB2312, level-3 (1.) in 仿宋 bold, level-4
  (（1）) in 仿宋, the run-on body text in 仿宋; each heading carries its outline level (Word's navigation pane);
- page numbers "— 1 —" in 4号 (14 pt) 宋体, one character in from the right on odd pages and from the left on
  even pages (separate odd and even footers).

The official fonts are named in every run (ascii, hAnsi and eastAsia), so Word and WPS use them where they are
installed; the font table gives the common Windows fallbacks (仿宋, 楷体, 宋体) as alternative names.
"""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

from dangjian.text import xml_safe

from .layout import HEADING_KINDS, blocks

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
H1_FONT = "黑体"
H2_FONT = "楷体_GB2312"
# heading level → (font, bold): 一、 黑体; （一） 楷体; 1. 仿宋 bold; （1） 仿宋 (GB/T 9704 and common practice)
HEADING_FONTS = {
    "h1": (H1_FONT, False),
    "h2": (H2_FONT, False),
    "h3": (BODY_FONT, True),
    "h4": (BODY_FONT, False),
}
PAGE_FONT = "宋体"
FONT_FALLBACKS = {
    TITLE_FONT: "宋体",
    BODY_FONT: "仿宋",
    H2_FONT: "楷体",
    H1_FONT: "SimHei",
    PAGE_FONT: "SimSun",
}

TITLE_SIZE = Pt(22)  # 2号
BODY_SIZE = Pt(16)  # 3号
PAGE_SIZE = Pt(14)  # 4号
LINE_PITCH = Pt(28.9)  # 225 mm / 22 lines
CONDENSE = Pt(-0.25)  # 28 characters of 16 pt in a 156 mm line
TITLE_LINE_PITCH = Pt(35)  # a 22 pt title does not fit a 28.9 pt line


def _set_fonts(rpr: Any, name: str) -> None:
    """Name the font for every script; drop theme fonts, which Word would prefer to explicit names."""
    fonts = rpr.get_or_add_rFonts()  # keeps the schema's child order (Word rejects misplaced elements)
    for attr in list(fonts.attrib):
        if attr.endswith("Theme"):
            del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)
    fonts.set(qn("w:hint"), "eastAsia")


# pPr children that must come after autoSpaceDE/autoSpaceDN (ECMA-376 sequence).
PPR_AFTER_AUTOSPACE = (
    "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
    "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip


RPR_AFTER_SPACING = (
    "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd",
    "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath",
)  # fmt: skip


def _insert_in_order(parent: Any, element: Any, successors: tuple[str, ...]) -> None:
    tags = {qn(t) for t in successors}
    for i, child in enumerate(parent):
        if child.tag in tags:
            parent.insert(i, element)
            return
    parent.append(element)


def _run(
    paragraph: Paragraph, text: str, font: str, size: Pt, *, condensed: bool = False, bold: bool = False
) -> None:
    run = paragraph.add_run(text)
    run.font.size = size
    if bold:
        run.font.bold = True
    rpr = run._element.get_or_add_rPr()
    _set_fonts(rpr, font)
    if condensed:
        # 156 mm / 28 characters = 15.79 pt: condense each 16 pt character by 0.25 pt (w:spacing in 1/20 pt).
        spacing = OxmlElement("w:spacing")
        spacing.set(qn("w:val"), str(round(CONDENSE.pt * 20)))
        _insert_in_order(rpr, spacing, RPR_AFTER_SPACING)


def _format(paragraph: Paragraph, *, indent: bool, pitch: Pt = LINE_PITCH) -> None:
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = pitch
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(32)
        # firstLineChars is what Word and WPS honour for "首行缩进 2 字符"; firstLine is the fallback.
        paragraph._p.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), "200")


def _setup_styles(doc: Any) -> None:
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.size = BODY_SIZE
    rpr = normal.element.get_or_add_rPr()
    _set_fonts(rpr, BODY_FONT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    rpr.append(lang)
    pf = normal.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = LINE_PITCH
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    ppr = normal.element.get_or_add_pPr()
    # No extra space between Chinese and digits/Latin: a 公文 sets "X余次" tight.
    for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):
        el = OxmlElement(tag)
        el.set(qn("w:val"), "0")
        _insert_in_order(ppr, el, PPR_AFTER_AUTOSPACE)
    # The document defaults carry theme fonts (Calibri/宋体 via the theme): name ours there too.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        drpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if drpr is not None:
            _set_fonts(drpr, BODY_FONT)
            drpr.get_or_add_sz().val = BODY_SIZE


def _font_table(doc: Any) -> None:
    """Add the official fonts with their usual Windows fallbacks, so a machine without them substitutes well."""
    part = None
    for rel in doc.part.rels.values():
        if rel.reltype.endswith("/fontTable"):
            part = rel.target_part
    if part is None:
        return
    from docx.oxml import parse_xml

    root = parse_xml(part.blob)
    present = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
    for name, alt in FONT_FALLBACKS.items():
        if name in present:
            continue
        font = OxmlElement("w:font")
        font.set(qn("w:name"), name)
        alt_name = OxmlElement("w:altName")
        alt_name.set(qn("w:val"), alt)
        charset = OxmlElement("w:charset")
        charset.set(qn("w:val"), "86")  # GB2312
        family = OxmlElement("w:family")
        family.set(qn("w:val"), "modern" if name == H1_FONT else "roman")
        pitch = OxmlElement("w:pitch")
        pitch.set(qn("w:val"), "fixed" if name in (BODY_FONT, H2_FONT) else "variable")
        for child in (alt_name, charset, family, pitch):
            font.append(child)
        root.append(font)
    from lxml import etree

    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_setup(doc: Any) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance = Mm(15)
    # The dash line of the page number sits about 7 mm below the type area.
    section.footer_distance = Mm(21)
    # Line pitch of the document grid = the body's line spacing. No character grid: Word and LibreOffice read
    # charSpace differently; 28 characters a line come from a slightly condensed character spacing instead.
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is not None:
        for attr in list(grid.attrib):
            del grid.attrib[attr]
        grid.set(qn("w:linePitch"), str(round(LINE_PITCH.pt * 20)))


def _page_number(paragraph: Paragraph) -> None:
    """The page number as "— N —", N a PAGE field so that every page shows its own number."""

    def text(value: str) -> None:
        _run(paragraph, value, PAGE_FONT, PAGE_SIZE)

    def field_char(kind: str) -> None:
        run = paragraph.add_run()
        run.font.size = PAGE_SIZE
        _set_fonts(run._element.get_or_add_rPr(), PAGE_FONT)
        fc = OxmlElement("w:fldChar")
        fc.set(qn("w:fldCharType"), kind)
        run._element.append(fc)

    text("— ")
    field_char("begin")
    run = paragraph.add_run()
    run.font.size = PAGE_SIZE
    _set_fonts(run._element.get_or_add_rPr(), PAGE_FONT)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    run._element.append(instr)
    field_char("separate")
    text("1")
    field_char("end")
    text(" —")


def _footers(doc: Any) -> None:
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
        paragraph.alignment = align
        fmt = paragraph.paragraph_format
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        # 单页码居右空一字，双页码居左空一字.
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            fmt.right_indent = Pt(14)
        else:
            fmt.left_indent = Pt(14)
        _page_number(paragraph)


def build_document(text: str, *, title: str = "", author: str = "") -> Any:
    """The python-docx Document for a report's plain text (lines are paragraphs). Characters XML cannot hold are
    dropped, from template text as well as from values (those are cleaned already when printed)."""
    text, title, author = xml_safe(text), xml_safe(title), xml_safe(author)
    doc = Document()
    _setup_styles(doc)
    _font_table(doc)
    _page_setup(doc)
    _footers(doc)
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):  # the template's empty first paragraph
        body.remove(p)
    for block in blocks(text):
        paragraph = doc.add_paragraph()
        if block.kind == "title":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _format(paragraph, indent=False, pitch=TITLE_LINE_PITCH)
            _run(paragraph, block.head, TITLE_FONT, TITLE_SIZE)
        elif block.kind == "blank":
            _format(paragraph, indent=False)
        elif block.kind in HEADING_KINDS:
            _format(paragraph, indent=True)
            paragraph._p.get_or_add_pPr().get_or_add_outlineLvl().val = HEADING_KINDS.index(block.kind)
            font, bold = HEADING_FONTS[block.kind]
            _run(paragraph, block.head, font, BODY_SIZE, condensed=True, bold=bold)
            if block.rest:
                _run(paragraph, block.rest, BODY_FONT, BODY_SIZE, condensed=True)
        else:
            _format(paragraph, indent=True)
            _run(paragraph, block.head, BODY_FONT, BODY_SIZE, condensed=True)
    props = doc.core_properties
    props.title = title
    props.author = author
    props.language = "zh-CN"
    return doc


def docx_bytes(text: str, *, title: str = "", author: str = "") -> bytes:
    buffer = io.BytesIO()
    build_document(text, title=title, author=author).save(buffer)
    return buffer.getvalue()


def render_docx(rendered: Any) -> bytes:
    return docx_bytes(rendered.text, title=rendered.template.label, author=getattr(rendered.org, "name", ""))
