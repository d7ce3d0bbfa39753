"""Figures in Chinese official prose: the candidate slots of a finished report (issue 11, 核稿 and 从 Word 生成模板).

Pure Python, no database: `find(text)` splits the text into paragraphs (with their heading markers 一、 （一） (一)
1. （1） 第X部分, full- and half-width) and lists every candidate slot in them — numbers with their 量词 and units,
percentages and 百分点, the 余/多/近/万余 wordings, Chinese numerals that count (十二届、第三轮), dates and 月日,
《》 titles and the items of 、-separated name lists — each with an id, an `is_slot` decision and the reason for it
in Chinese. What reads like part of a fixed name (十九届四中全会, 十件实事, “4+2”行动, a year in a sentence about the
future) is a candidate with `is_slot=False`; staff flip any decision with `flip()`.

The caller may pass `known_names`: strings the ledgers hold for this org and period (indicator values). Their
occurrences are candidates too, which finds a place name inside a phrase ("具有示范特色") that no pattern can.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

MAX_TEXT = 400_000  # characters of prose read (a long annual report is ~30,000)
MAX_PARAGRAPHS = 5_000
MAX_DOCX_BYTES = 200 * 1024 * 1024  # a .docx decompressed (pictures included); a report is a few MB
MAX_DOCX_RATIO = 100  # decompressed/compressed: real documents stay far below, zip bombs far above
CONTEXT = 24  # characters of context kept either side of a candidate

CN_DIGITS = "零〇一二两三四五六七八九"
CN_NUMERAL = f"[{CN_DIGITS}十百千万]+"

# Headings: (level, pattern). The marker is excluded from the candidates.
HEADINGS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(r"^第[一二三四五六七八九十]+(?:部分|章|篇)[\s、，,：:．.]?")),
    (1, re.compile(r"^[一二三四五六七八九十]+[、．.，,]")),
    (2, re.compile(r"^[（(][一二三四五六七八九十]+[）)][、．.]?")),
    (3, re.compile(r"^\d{1,2}[、．.](?!\d)")),
    (4, re.compile(r"^[（(]\d{1,2}[）)]")),
]

# Units and 量词 a counted figure carries (longest first). "人次" before "人", "万元" before "万".
UNIT_WORDS = """
个百分点 人次 场次 户次 批次 万元 亿元 千元 平方米 公里 小时 个月 元 个 名 人 场 件 部 处 期 天 次 家 项 篇 条 所 户 支 位
批 轮 届 起 封 份 本 册 台 套 座 栋 间 类 节 课 堂 集 首 幅 米 亩 吨 辆 组 队 团 村 岁 年 月 周 日 宗
"""
UNITS = sorted(set(UNIT_WORDS.split()), key=len, reverse=True)
UNIT_RE = "|".join(re.escape(u) for u in UNITS)

# Chinese numerals count only before one of these (三批、十二届、九次); "一是" "统一" never.
CN_COUNTERS = "届|次|轮|批|期|个|名|项|件|家|场|所|支|部|处|条|天|人|位|类|篇|户|年"

# Words that make a figure part of a fixed name rather than a count.
FIXED_AFTER = re.compile(r"^(?:中全会|件实事|项规定|个百年|大精神|大报告|五规划)")
FORWARD = re.compile(r"(?:到|至|力争|争取|计划|预计|确保|明年|下一步|展望|目标|将在|将于)")
KIND_SUFFIXES = (
    "先进群体教育基地",
    "社区党群服务中心",
    "党群服务中心",
    "教育基地",
    "邻里中心",
    "县委党校",
    "纪念馆",
    "展览馆",
    "陈列馆",
    "博物馆",
    "社区",
    "街道",
    "乡",
    "镇",
    "村",
)
LIST_VERBS = re.compile(
    r"(?:邀请|选树|引入|查处了|查处|评选出|评选|表彰|推荐|命名|授予|包括|例如|如|到|赴|组织|观看|拍摄|打造了|打造|试点|涌现出|涌现)$"
)
LIST_ITEM = re.compile(r"^[\u4e00-\u9fff·]{2,12}$")
YEARLIKE = re.compile(r"^\d{4}年")
SENTENCE_END = "。！？；!?;"
OPEN_QUOTES = '“"「‘'
CLOSE_QUOTES = '”"」’'


@dataclass
class Paragraph:
    index: int
    text: str
    level: int = 0  # 0 body, 1 一、/第X部分, 2 （一）, 3 1., 4 （1）
    marker: str = ""
    blank_before: bool = (
        False  # an empty paragraph came before it (the end of a title block, a section break)
    )


@dataclass
class Candidate:
    id: str  # "段落号-起点", stable for a document
    paragraph: int
    start: int  # span of the slot's own text in the paragraph (the figure, without 余/单位; the name)
    end: int
    text: str
    kind: str  # number | percent | points | chinese | year | date | title | name
    value: Decimal | str | None
    unit: str = ""  # 量词 or unit after the figure (个、名、万元 …), 个百分点, %
    wording: str = ""  # 余 | 多 | 近 | 万余 | 万 | 第: how the prose rounds or ranks the figure
    is_slot: bool = True
    reason: str = ""
    before: str = ""  # context, same paragraph
    after: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "paragraph": self.paragraph,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "kind": self.kind,
            "value": None if self.value is None else str(self.value),
            "unit": self.unit,
            "wording": self.wording,
            "is_slot": self.is_slot,
            "reason": self.reason,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class Document:
    paragraphs: list[Paragraph]
    candidates: list[Candidate] = field(default_factory=list)

    def slots(self) -> list[Candidate]:
        return [c for c in self.candidates if c.is_slot]

    def by_id(self, cid: str) -> Candidate:
        for c in self.candidates:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def flip(self, cid: str, reason: str = "人工改判") -> Candidate:
        """Staff's decision wins: a slot becomes literal text, literal text becomes a slot."""
        c = self.by_id(cid)
        c.is_slot = not c.is_slot
        c.reason = reason
        return c


class ProseError(ValueError):
    """A text that cannot be read (Chinese message naming the place)."""


# --- reading ------------------------------------------------------------------------------------------------------


def paragraphs_of_docx(data: bytes) -> list[str]:
    """The paragraphs of a .docx (body and table cells, in order), as text. Raises ProseError."""
    import io
    import zipfile

    import docx

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ProseError(f"不是有效的 Word 文件（.docx）：{exc}") from None
    # Judged from the zip's directory before anything is decompressed (as Excel imports are): a small upload that
    # expands to gigabytes would otherwise be parsed into memory whole.
    total = sum(i.file_size for i in infos)
    packed = max(sum(i.compress_size for i in infos), 1)
    if total > MAX_DOCX_BYTES or (total > 10 * 1024 * 1024 and total / packed > MAX_DOCX_RATIO):
        raise ProseError(f"Word 文件解压后异常巨大（{total // 1024 // 1024} MB），疑似压缩炸弹，已拒绝")
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ProseError(f"不是有效的 Word 文件（.docx）：{exc}") from None
    from docx.table import Table
    from docx.text.paragraph import Paragraph as WordParagraph

    out: list[str] = []
    for block in document.element.body.iterchildren():  # paragraphs and tables, in the document's order
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            out.append(WordParagraph(block, document).text)
        elif tag == "tbl":
            for row in Table(block, document).rows:
                out.extend(cell.text for cell in row.cells)
    return out


def read_text(name: str, data: bytes) -> list[str]:
    """Paragraphs of an uploaded or given file: .docx, else UTF-8 (or GB18030) text. Raises ProseError."""
    if name.lower().endswith(".docx"):
        return paragraphs_of_docx(data)
    if name.lower().endswith(".doc"):
        raise ProseError(f"{name}：不支持旧版 .doc 文件，请在 Word 中另存为 .docx")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding).splitlines()
        except UnicodeDecodeError:
            continue
    raise ProseError(f"{name}：无法识别文字编码（应为 UTF-8 或 GBK）")


def split_paragraphs(lines: Iterable[str]) -> list[Paragraph]:
    out: list[Paragraph] = []
    total = 0
    blank = False
    for raw_line in lines:
        text = raw_line.strip().replace("\u3000", "")
        if not text:
            blank = bool(out)
            continue
        total += len(text)
        if total > MAX_TEXT or len(out) >= MAX_PARAGRAPHS:
            raise ProseError(
                f"文字过长：最多 {MAX_TEXT} 个字、{MAX_PARAGRAPHS} 段（第 {len(out) + 1} 段处超出）"
            )
        para = Paragraph(len(out), text, blank_before=blank)
        blank = False
        for level, pattern in HEADINGS:
            m = pattern.match(text)
            if m:
                para.level, para.marker = level, m.group(0)
                break
        out.append(para)
    return out


# --- finding ------------------------------------------------------------------------------------------------------


def _cn_value(text: str) -> Decimal | None:
    import cn2an

    try:
        return Decimal(str(cn2an.cn2an(text.replace("两", "二").replace("〇", "零"), "normal")))
    except (ValueError, KeyError, InvalidOperation):
        return None


def _enclosures(text: str) -> list[tuple[int, int, str]]:
    """Spans inside 《》 (kind 'title') and inside short quotes (kind 'quote'), content only."""
    spans = [(m.start(1), m.end(1), "title") for m in re.finditer(r"《([^《》]{1,60})》", text)]
    spans += [
        (m.start(1), m.end(1), "quote") for m in re.finditer(r"[“\"「‘]([^“”\"「」‘’]{1,16})[”\"」’]", text)
    ]
    return spans


def _inside(spans: list[tuple[int, int, str]], start: int, end: int, kind: str) -> bool:
    return any(a <= start and end <= b and k == kind for a, b, k in spans)


def _sentence_before(text: str, start: int) -> str:
    i = start
    while i > 0 and text[i - 1] not in SENTENCE_END:
        i -= 1
    return text[i:start]


def _numbers(para: Paragraph, report_year: int | None, spans: list[tuple[int, int, str]]) -> list[Candidate]:
    text = para.text
    out: list[Candidate] = []
    skip_to = len(para.marker)
    for m in re.finditer(r"(?<![\dA-Za-z])(?<!\d[.．])(\d+(?:\.\d+)?)(?![\d])", text):
        start, end = m.span(1)
        if start < skip_to:
            continue
        number = Decimal(m.group(1))
        rest = text[end : end + 8]
        prev = text[max(0, start - 1) : start]
        c = Candidate("", para.index, start, end, m.group(1), "number", number)
        if re.match(r"^年(?:度|\d|$|[^\d])", rest) and len(m.group(1)) == 4 and 1900 <= number <= 2100:
            c.kind, c.unit, c.is_slot = "year", "年", False
            sentence = _sentence_before(text, start)
            if (report_year and number > report_year) or FORWARD.search(sentence[-12:]):
                c.reason = "展望未来的年份"
            elif report_year and number < report_year:
                c.is_slot, c.reason = True, "往年的年份（随报告年度变化）"
            else:
                c.reason = "报告年度（照录）"
            date = re.match(r"^年(\d{1,2})月(?:(\d{1,2})日)?", rest)
            if date:  # 2019年10月1日: the whole date is one candidate
                c.kind, c.is_slot, c.reason = "date", True, "日期"
                c.end = end + date.end()
                c.text = text[start : c.end]
            out.append(c)
            continue
        date = re.match(r"^月(?:(\d{1,2})日)?", rest)
        if date and 1 <= number <= 12 and not re.search(r"\d年$", text[max(0, start - 6) : start]):
            c.kind, c.reason = "date", "月日（未写年份）"
            c.end = end + date.end()
            c.text = text[start : c.end]
            out.append(c)
            continue
        if re.search(r"\d年$|\d月$", text[max(0, start - 6) : start]):
            continue  # part of a date candidate already made
        unit_m = re.match(r"^(万余|余万|余|多|万(?!元))?(" + UNIT_RE + r"|%|％)?", rest)
        assert unit_m is not None
        wording, unit = unit_m.group(1) or "", unit_m.group(2) or ""
        if unit.startswith("余") or unit.startswith("多"):
            wording, unit = unit[0], unit[1:]
        c.wording, c.unit = wording, unit
        if unit in ("%", "％"):
            c.kind, c.unit = "percent", "%"
        elif unit == "个百分点":
            c.kind = "points"
        if prev == "近":
            c.wording = c.wording or "近"
        elif prev == "第":
            c.wording = "第"
        if text[max(0, start - 3) : start] == "百分之":
            c.kind, c.unit = "percent", "%"
        if _inside(spans, start, end, "title"):
            c.is_slot, c.reason = False, "书名中的数字"
        elif _inside(spans, start, end, "quote") and re.fullmatch(
            r"[“\"「‘]\d+[”\"」’]", text[start - 1 : end + 1]
        ):
            c.reason = "引号中的数字"
        elif _inside(spans, start, end, "quote") or re.match(r"^[+＋]\d", rest) or prev in "+＋":
            c.is_slot, c.reason = False, "引号中的固定名称（如“4+2”行动）"
        elif FIXED_AFTER.match(text[end:]) or FIXED_AFTER.match(rest[len(wording) + len(unit) :]):
            c.is_slot, c.reason = False, "固定名称的一部分"
        elif unit == "岁" and re.match(r"^岁(?:以下|以上|以内|及以下|及以上)", rest):
            c.reason = "年龄界限（如35岁以下，可随指标变化）"
        elif not unit and not wording and c.kind == "number":
            c.reason = "无单位的数字"
        else:
            c.reason = {"percent": "百分比", "points": "百分点"}.get(c.kind, "带量词的数字")
        out.append(c)
    return out


def _chinese(para: Paragraph, spans: list[tuple[int, int, str]]) -> list[Candidate]:
    text = para.text
    out: list[Candidate] = []
    skip_to = len(para.marker)
    pattern = re.compile(f"(?<![{CN_DIGITS}十百千万])({CN_NUMERAL})(?=(?:{CN_COUNTERS}))")
    for m in pattern.finditer(text):
        start, end = m.span(1)
        if start < skip_to:
            continue
        word = m.group(1)
        value = _cn_value(word)
        if value is None:
            continue
        after = text[end : end + 6]
        prev2 = text[max(0, start - 2) : start]
        c = Candidate("", para.index, start, end, word, "chinese", value, unit=after[:1])
        if prev2.endswith("第"):
            c.wording = "第"
        if _inside(spans, start, end, "title") or _inside(spans, start, end, "quote"):
            c.is_slot, c.reason = False, "书名或引号中的固定名称"
        elif re.match(r"^届[一二三四五六七八九十]+中全会", after) or FIXED_AFTER.match(after):
            c.is_slot, c.reason = False, "固定名称的一部分（如十九届四中全会、十件实事）"
        elif word in ("一", "两", "二", "万", "千", "百") and not c.wording and not after.startswith("届"):
            c.is_slot, c.reason = False, "泛指的数词（如“一批”“一名”）"
        elif (
            not c.wording
            and re.match(r"^(?:个|项|大|条)", after)
            and not re.search(r"\d", text[end : end + 12])
        ):
            # 四个意识、三项制度 without quotes: a slogan unless the sentence counts
            c.is_slot, c.reason = False, "口号式的数词（如“四个意识”）"
        else:
            c.reason = "计数的中文数字"
        if after.startswith("届") and re.search(r"党的$", text[max(0, start - 2) : start]):
            c.is_slot, c.reason = False, "党的代表大会届次（固定名称）"
        elif re.search(
            r"(?:中央纪委|中央|全国|省委|市委|省纪委|市纪委)$", text[max(0, start - 4) : start]
        ) or re.match(r"^届(?:中央|全国)", after):
            c.is_slot, c.reason = False, "中央、全国和上级会议的届次（固定名称）"
        out.append(c)
    return out


def _titles(para: Paragraph, spans: list[tuple[int, int, str]]) -> list[Candidate]:
    out = []
    for a, b, kind in spans:
        if kind != "title":
            continue
        title = para.text[a:b]
        long_doc = len(title) > 12 or re.search(
            r"(?:关于|通知|意见|办法|规定|方案|决定|条例|纲要|措施|细则|规划|报告|表|清单|手册|登记)", title
        )
        c = Candidate("", para.index, a, b, title, "title", title)
        if long_doc:
            c.is_slot, c.reason = False, "文件名称（一般照录）"
        else:
            c.reason = "书名号中的作品名称"
        out.append(c)
    return out


def strip_kind(item: str) -> tuple[str, str]:
    for suffix in KIND_SUFFIXES:
        if item.endswith(suffix) and len(item) > len(suffix) + 1:
            return item[: -len(suffix)], suffix
    return item, ""


def _name_lists(para: Paragraph, spans: list[tuple[int, int, str]]) -> list[Candidate]:
    """Items of 、-separated lists ending in 等 (A、B等…, A、B和C等…) or ending with a kind (…纪念馆、…纪念馆)."""
    text = para.text
    out: list[Candidate] = []
    for clause in re.finditer(r"[^，。；：,;:！？!?（）()“”《》\"]+", text):
        segment = clause.group(0)
        if "、" not in segment:
            continue
        parts = re.split(r"(、)", segment)  # not 和: 和平社区
        items = parts[0::2]
        offset = clause.start()
        positions = []
        pos = offset
        for i, piece in enumerate(parts):
            if i % 2 == 0:
                positions.append(pos)
            pos += len(piece)
        # the first item follows a verb: keep what comes after it
        first = items[0]
        verb = None
        for k in range(len(first) - 1, 0, -1):
            if LIST_VERBS.search(first[:k]):
                verb = k
                break
        if verb is None:
            continue
        lead = first[verb:]
        cut = lead.rfind("的") + 1  # 打造了亲民化便民化的幸福社区: the item is what follows the last 的
        items[0] = lead[cut:]
        positions[0] += verb + cut
        # the last item ends before 等 or before the clause's verb phrase
        last = items[-1]
        etc = last.find("等")
        ends_with_kind = all(strip_kind(it)[1] for it in items[:-1])
        if etc > 0:
            items[-1] = last[:etc]
        elif ends_with_kind:
            kind = strip_kind(items[0])[1]
            k = last.find(kind)
            if k <= 0:
                continue
            items[-1] = last[: k + len(kind)]
        else:
            continue
        if not all(LIST_ITEM.match(it) for it in items):
            continue
        if first[:verb].endswith(("到", "赴")) and not all(strip_kind(it)[1] for it in items):
            continue  # 到拆迁、河渠治理等一线: places are named with their kind (…纪念馆、…社区)
            continue
        for it, p in zip(items, positions, strict=True):
            name, _suffix = strip_kind(it)
            c = Candidate("", para.index, p, p + len(name), name, "name", name, reason="并列名单中的名称")
            out.append(c)
    return out


def _known(para: Paragraph, names: list[str]) -> list[Candidate]:
    out = []
    text = para.text
    for name in names:
        stem, suffix = strip_kind(name)
        # 幸福社区党群服务中心 is also named 幸福社区 in a list "幸福社区、和平社区党群服务中心"
        pattern = re.escape(name) + (
            f"|{re.escape(stem)}(?={re.escape(suffix[:2])})" if suffix and len(stem) >= 2 else ""
        )
        for m in re.finditer(pattern, text):
            found = m.group(0)
            c = Candidate(
                "", para.index, m.start(), m.end(), found, "name", found, reason="与台账中的名称相同"
            )
            edges = text[m.start() - 1 : m.start()] + text[m.end() : m.end() + 1]
            if len(found) <= 2 and (m.start() == 0 or re.search(r"[，。；：！？、,.;:!?]", edges)):
                # 作出示范。/ ，示范引领: a two-character name that is also a common word, standing alone
                c.is_slot, c.reason = False, "与台账中的名称相同，但此处是常用词"
            out.append(c)
    return out


PRIORITY = {"date": 0, "number": 1, "percent": 1, "points": 1, "year": 1, "chinese": 2, "title": 4, "name": 5}


def find(
    lines: Iterable[str] | str,
    *,
    report_year: int | None = None,
    known_names: Iterable[str] = (),
) -> Document:
    """Paragraphs and candidate slots of a text (a string, or its lines/paragraphs). Raises ProseError."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    paragraphs = split_paragraphs(lines)
    names = sorted(
        {n for n in known_names if isinstance(n, str) and 2 <= len(n) <= 60 and not YEARLIKE.match(n)},
        key=len,
        reverse=True,
    )  # a period's name (2019年度) is the year rule's to decide
    candidates: list[Candidate] = []
    for para in paragraphs:
        spans = _enclosures(para.text)
        found = _numbers(para, report_year, spans) + _chinese(para, spans)
        # names: known values first (they end exactly where the ledger's name ends), then titles, then lists
        taken: list[Candidate] = []
        for c in _known(para, names) + _titles(para, spans) + _name_lists(para, spans):
            if c.start < len(para.marker):
                continue
            if any(
                c.start < t.end and t.start < c.end for t in taken + found if t.is_slot or t.kind == "title"
            ):
                continue
            taken.append(c)
        kept = [c for c in found if not any(c.start < t.end and t.start < c.end for t in taken if t.is_slot)]
        kept += taken
        kept.sort(key=lambda c: (c.start, PRIORITY[c.kind]))
        for c in kept:
            c.id = f"{para.index + 1}-{c.start}"
            c.before = para.text[max(0, c.start - CONTEXT) : c.start]
            c.after = para.text[c.end : c.end + CONTEXT]
        candidates.extend(kept)
    return Document(paragraphs, candidates)


def with_decision(candidate: Candidate, is_slot: bool, reason: str) -> Candidate:
    return replace(candidate, is_slot=is_slot, reason=reason)
