"""Matching the figures found in prose (prose.py) to indicators, for 核稿 and for making a template of a document.

For every candidate slot, `propose()` ranks the targets — every indicator (报告参数 included: they are indicators of
kind 报告参数, evaluated with the rest), and whatever `TARGET_SOURCES` adds — by two things: how well the words around the figure match the target's label and unit, and,
strongest, whether the target's value for the org and period equals the figure as the prose words it (23 is
"20余", 23456 is "2万余", 37.46 is "37.5%"). The values are evaluated once, through `values.evaluate` inside
whatever `viewing_as` the caller set (the command line's `--as` or the system actor), so a viewer never learns a
figure the 保密规则 withhold.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from dangjian.indicators.grouped_values import Grouped
from dangjian.text import cn_date, cn_month_day

from . import values as sources
from .filters import round_figure
from .prose import Candidate, Document, strip_kind

EXACT, APPROX = 10.0, 8.0  # score of a value equal to the figure, and of one the prose rounds (余、近、万余)
STRONG_CONTEXT = 4.0  # words around a figure that name one target this well make a disagreeing value a flag
PROPOSALS = 5  # kept per candidate
AGREEING_WORDS = 3.0  # context enough for a value-equal proposal to become a template slot on its own


@dataclass(frozen=True)
class Target:
    """Something a figure can be: an indicator's value (or, through the hook, a report parameter's)."""

    key: str
    label: str
    unit: str
    value: Any
    aggregate: str = ""
    source: str = "indicator"  # indicator | parameter
    evidence_url: str | None = None


@dataclass
class Proposal:
    target: Target
    score: float
    equal: bool  # the target's value, worded as the prose words it, is the figure
    expression: str  # what the template prints, e.g. 理论学习.微视频部数|余
    right_text: str  # the target's value worded as the prose words it (for a 核稿 flag)
    context: float = 0.0  # the part of the score that comes from the words around the figure


@dataclass
class Match:
    candidate: Candidate
    proposals: list[Proposal] = field(default_factory=list)

    @property
    def first(self) -> Proposal | None:
        return self.proposals[0] if self.proposals else None

    equal_count: int = 0  # how many targets' values equal the figure
    status: str = "未匹配"  # 一致 | 不一致 | 未匹配, decided by judge() over the whole document
    note: str = ""
    confident: bool = False  # 一致 and the words agree too (or no other value is the same): a template slot


# --- targets ------------------------------------------------------------------------------------------------------

TargetSource = Callable[[Any, Any], Iterable[Target]]
TARGET_SOURCES: list[TargetSource] = []  # append a function (org, period) → targets to match figures to more


def indicator_targets(org: Any, period: Any) -> list[Target]:
    out = []
    for key, v in sources.evaluate(org, period).items():
        value = None if getattr(v, "refused", "") else v.value
        if isinstance(value, Grouped):  # a figure in the text is the grouped indicator's total
            value = value.total
        url = sources.evidence_url(key, org, period, v.aggregate)
        # 报告参数 are indicators of their own kind (aggregate "parameter") once the parameters stage is in: they
        # come with the evaluation and are named as such
        source = "parameter" if v.aggregate == "parameter" else "indicator"
        out.append(Target(key, v.label, v.unit or "", value, v.aggregate, source, url))
    return out


def targets_for(org: Any, period: Any) -> list[Target]:
    found = indicator_targets(org, period)
    for source in TARGET_SOURCES:
        found.extend(source(org, period))
    return found


def known_names(targets: Iterable[Target]) -> set[str]:
    """The names the ledgers hold for this org and period: string values and the items of list values."""
    names: set[str] = set()
    for t in targets:
        if t.key.startswith(tuple(f"{p}." for p in sources.COMPARISONS)):
            continue
        if isinstance(t.value, str):
            names.add(t.value)
        elif isinstance(t.value, list):
            names.update(x for x in t.value[:50] if isinstance(x, str))
    return names


# --- values worded as prose ---------------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _places(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def worded(c: Candidate, value: Any, unit: str = "") -> tuple[str, str] | None:
    """(the value as the prose would word it at this place, the template expression's filter part), or None when
    the value cannot stand here (a name where a number is, no data)."""
    if c.kind in ("number", "percent", "points", "chinese", "year"):
        n = _decimal(value)
        if n is None:
            return None
        if c.kind == "percent" or (c.kind == "points" and _places(c.text)):
            places = _places(c.text)
            text = format(n.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")
            return text, f"|百分比({places})"
        in_wan = c.unit == "万元" and unit and not unit.startswith("万")  # 580万元 of a figure kept in 元
        if c.wording == "余万" and unit.startswith("万"):  # 580余万元 of a figure kept in 万元
            return str(round_figure(int(n.to_integral_value(ROUND_FLOOR)))), "|余"
        if c.wording in ("万余", "余万") or (c.wording == "万" or in_wan) and "." not in c.text:
            return str(int((n / 10000).to_integral_value(ROUND_FLOOR))), "|万余"
        if c.wording in ("余", "多"):
            return str(round_figure(int(n.to_integral_value(ROUND_FLOOR)))), "|余"
        if c.wording == "万" or in_wan:
            return format((n / 10000).normalize(), "f"), ""  # no filter words 1.2万 yet: exact only
        if c.kind == "chinese":
            import cn2an

            if n != n.to_integral_value() or n < 0:
                return None
            return cn2an.an2cn(str(int(n)), "low"), "|中文数字"
        if n == n.to_integral_value():
            return str(int(n)), ""
        return format(n.normalize(), "f"), ""
    if c.kind == "date":
        if not isinstance(value, dt.date):
            return None
        if "年" in c.text:
            return cn_date(value), ""
        return cn_month_day(value), ""
    return None


def _name_expression(c: Candidate, t: Target) -> tuple[str, bool] | None:
    """(expression, equal) for a name candidate: the value, an item of a list value, or either without its kind."""
    text = c.text
    items: list[tuple[str, Any]]
    if isinstance(t.value, str):
        items = [("", t.value)]
    elif isinstance(t.value, list):
        items = [(f"[{i}]", x) for i, x in enumerate(t.value[:50])]
    else:
        return None
    for index, item in items:
        if not isinstance(item, str):
            continue
        if item == text:
            return f"{t.key}{index}", True
        stem, suffix = strip_kind(item)
        if suffix and stem == text:
            return f'{t.key}{index}|去尾("{suffix}")', True
        if item.startswith(text) and len(text) >= 2:
            return f'{t.key}{index}|去尾("{item[len(text) :]}")', True
    return None


# --- context ------------------------------------------------------------------------------------------------------

STOP = set("的了和与及在对为把将等是有中年度全区我区本区开展组织工作进行累计共计其中")


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"[^\u4e00-\u9fff]", " ", text)
    grams: set[str] = set()
    for word in text.split():
        grams.update(word[i : i + 2] for i in range(len(word) - 1))
        grams.update(ch for ch in word if ch not in STOP)
    return grams


def context_words(text: str) -> set[str]:
    """The words of a text as the ranking compares them (two-character words and single characters)."""
    return _bigrams(text)


def _context(c: Candidate) -> tuple[set[str], set[str]]:
    """The words that speak of this figure: its clause before it, and what follows (unit and the noun after)."""
    before = re.split(r"[，。；：、,;:]", c.before)[-1][-16:]
    after = re.split(r"[，。；：、,;:]", c.after)[0][:10]
    return _bigrams(before), _bigrams(after)


def _label_grams(t: Target) -> tuple[set[str], set[str]]:
    key = t.key.split(".", 1)[-1] if t.key.startswith(tuple(sources.COMPARISONS)) else t.key
    group, _, name = key.rpartition(".")
    return _bigrams(name + " " + t.label), _bigrams(group)


def _context_score(c: Candidate, t: Target, before: set[str], after: set[str]) -> float:
    name_grams, group_grams = _label_grams(t)
    words = before | after
    score = sum(1.0 if len(g) == 2 else 0.25 for g in words & name_grams)
    score += 0.5 * sum(1 for g in words & group_grams if len(g) == 2)
    unit = c.unit.lstrip("余多万") if c.unit else ""
    if unit and t.unit:
        if unit == t.unit or unit.startswith(t.unit) or t.unit.startswith(unit) or t.unit.endswith(unit):
            score += 2.0
        else:
            score -= 1.0
    if c.kind == "percent" and t.unit in ("%", "％"):
        score += 2.0
    if t.key.startswith(tuple(f"{p}." for p in sources.COMPARISONS)):
        score -= 0.0 if re.search(r"上年|去年|同比|上期|比上", c.before[-16:]) else 3.0
    return score


def propose_one(c: Candidate, targets: list[Target]) -> Match:
    before, after = _context(c)
    proposals = []
    for t in targets:
        if c.kind in ("name", "title"):
            found = _name_expression(c, t)
            if found is None:
                continue
            expression, equal = found
            context = _context_score(c, t, before, after)
            score = context + (EXACT if equal else 0.0)
            proposals.append(Proposal(t, score, equal, expression, str(t.value), context))
            continue
        if isinstance(t.value, list | str) and not isinstance(t.value, bool):
            continue  # a name is never a figure
        expected = worded(c, t.value, t.unit) if t.value is not None else None
        context = _context_score(c, t, before, after)
        if expected is None:
            if context >= STRONG_CONTEXT and t.value is None and c.kind != "date":
                filt = {"万余": "|万余", "余": "|余", "多": "|余", "": ""}.get(c.wording, "")
                proposals.append(Proposal(t, context, False, t.key + filt, "", context))
            continue
        right, filt = expected
        equal = right == c.text or (c.kind == "chinese" and _decimal(t.value) == c.value)
        approx = c.wording == "近" and _decimal(t.value) is not None and c.value is not None
        if approx and not equal:
            n = _decimal(t.value)
            assert n is not None and isinstance(c.value, Decimal)
            equal = c.value * Decimal("0.9") <= n <= c.value
        score = context + ((APPROX if c.wording else EXACT) if equal else 0.0)
        if score <= 0 and not equal:
            continue
        proposals.append(Proposal(t, score, equal, t.key + filt, right, context))
    proposals.sort(key=lambda p: (-p.score, p.target.key.startswith(sources.COMPARISONS), p.target.key))
    kept = proposals[:PROPOSALS]
    named = max(proposals, key=lambda p: p.context, default=None)  # the target the words name best
    if named is not None and named not in kept:
        kept.append(named)
    return Match(c, kept, equal_count=sum(1 for p in proposals if p.equal))


def _concept(t: Target) -> str:
    """What a target counts, across packs: its label, for the same period (上年. and 上期. twins share labels)."""
    prefix = t.key.split(".", 1)[0] if t.key.startswith(tuple(f"{p}." for p in sources.COMPARISONS)) else ""
    return f"{prefix}:{t.label}"


def _named_instead(m: Match) -> Proposal | None:
    """A disagreeing target the words name far better than the value-equal one, if any."""
    best = m.proposals[0]
    named = max(m.proposals, key=lambda p: p.context)
    if m.candidate.kind in ("name", "title") or named.equal or not named.right_text:
        return None
    if best.context >= AGREEING_WORDS:  # the words agree with the equal value too
        return None
    if named.context >= STRONG_CONTEXT and named.context >= best.context + 3.0:
        return named
    return None


def judge(matches: list[Match]) -> list[Match]:
    """Decide each figure's status. 一致: a proposal's value, worded as the prose words it, is the figure.
    不一致 (a flag): the words around it name one target strongly and its value differs. A disagreeing figure is
    only listed (未匹配, with a note), not flagged, when it is an ordinal (第一批), or when the document states that
    target's value correctly elsewhere — a part of the whole (中心组开展10次集体学习 beside 中心组集体学习16次)."""
    # what the document states correctly, by key and by label (two packs may count the same thing)
    agreed = {
        w
        for m in matches
        if m.first is not None and m.first.equal
        for w in (m.first.target.key, _concept(m.first.target))
    }
    for m in matches:
        best = m.first
        if best is None:
            m.status, m.note = "未匹配", "没有名称或数值相符的指标"
        elif (
            best.equal
            and (named := _named_instead(m)) is not None
            and m.candidate.wording != "第"
            and named.target.key not in agreed
            and _concept(named.target) not in agreed
        ):
            # 选拔优秀选手39名: 39 is some other indicator's value, but the words name one whose value is 29
            m.proposals.remove(named)
            m.proposals.insert(0, named)
            m.status, m.note = "不一致", f"台账为 {named.right_text}（文中数字恰与“{best.target.label}”相同）"
        elif best.equal:
            m.status, m.note = "一致", ""
            c = m.candidate
            m.confident = (
                c.kind in ("name", "title")  # a name the ledgers hold, found as it is
                or best.context >= AGREEING_WORDS
                or (m.equal_count == 1 and best.context >= -1.5 and c.wording != "第")
            )
            if not m.confident:
                m.note = f"数值与“{best.target.label}”等 {m.equal_count} 项相同，但上下文不符"
        elif best.score < STRONG_CONTEXT or not best.right_text:
            m.status, m.note = "未匹配", f"可能是“{best.target.label}”，但上下文不足以确定"
        elif m.candidate.wording == "第":
            m.status, m.note = "未匹配", "序数（第几批、第几届），请人工核对"
        elif best.target.key in agreed or _concept(best.target) in agreed:
            m.status, m.note = "未匹配", f"“{best.target.label}”在文中别处已与台账一致，此处可能是其中一部分"
        else:
            m.status, m.note = "不一致", f"台账为 {best.right_text}"
    return matches


def chosen_proposal_for(c: Candidate, t: Target) -> Proposal | None:
    """A proposal for a target staff chose for this figure themselves (one they just made with the indicator
    builder or as a 报告参数, which may have no value yet): how the template prints it here, or None when it cannot
    stand here at all (a name where a number is, a number where a date is)."""
    before, after = _context(c)
    context = _context_score(c, t, before, after)
    if c.kind in ("name", "title"):
        found = _name_expression(c, t)
        if found is not None:
            return Proposal(t, context, found[1], found[0], str(t.value), context)
        if t.value is None or isinstance(t.value, str):
            return Proposal(t, context, False, t.key, "" if t.value is None else t.value, context)
        if isinstance(t.value, list):
            return Proposal(t, context, False, f"{t.key}|顿号", "、".join(map(str, t.value[:5])), context)
        return None
    if isinstance(t.value, list | str) and not isinstance(t.value, bool):
        return None  # a name is never a figure
    if t.value is not None:
        expected = worded(c, t.value, t.unit)
        if expected is None:
            return None
        right, filt = expected
        equal = right == c.text or (c.kind == "chinese" and _decimal(t.value) == c.value)
        return Proposal(t, context, equal, t.key + filt, right, context)
    if c.kind == "date":
        return Proposal(t, context, False, t.key, "", context)
    if c.kind == "percent" or (c.kind == "points" and _places(c.text)):
        filt = f"|百分比({_places(c.text)})"
    elif c.kind == "chinese":
        filt = "|中文数字"
    else:
        filt = {"万余": "|万余", "余万": "|万余", "余": "|余", "多": "|余"}.get(c.wording, "")
    return Proposal(t, context, False, t.key + filt, "", context)


def pin(matches: list[Match], targets: list[Target], chosen: dict[str, str]) -> None:
    """Make each chosen target (candidate id → key) one of its figure's proposals when the ranking left it out:
    staff may pick any target that can stand there, not only the five ranked best. Appended, so the ranking's
    first stays the one proposed; a key that is no target, or cannot stand there, is left out (and refused)."""
    by_key = {t.key: t for t in targets}
    for m in matches:
        key = chosen.get(m.candidate.id)
        t = by_key.get(key or "")
        if t is None or any(p.target.key == key for p in m.proposals):
            continue
        proposal = chosen_proposal_for(m.candidate, t)
        if proposal is not None:
            m.proposals.append(proposal)


def propose(document: Document, targets: list[Target], *, slots_only: bool = True) -> list[Match]:
    candidates = document.slots() if slots_only else document.candidates
    return judge([propose_one(c, targets) for c in candidates])


def analyse(
    lines: Iterable[str],
    org: Any,
    period: Any,
    flips: Iterable[str] = (),
    chosen: dict[str, str] | None = None,
) -> tuple[Document, list[Match], list[Target]]:
    """Find the candidates of a text (names the ledgers hold for this org and period included), flip staff's
    decisions (candidate ids), and propose targets for each slot — with the target staff chose for a figure
    (`chosen`: candidate id → key) among its proposals even when the ranking left it out. Raises
    prose.ProseError for a text that cannot be read or an id that names no candidate."""
    from .prose import ProseError, find

    targets = targets_for(org, period)
    document = find(lines, report_year=period.end.year, known_names=known_names(targets))
    for cid in flips:
        try:
            document.flip(cid)
        except KeyError:
            raise ProseError(
                f"文稿中没有编号为“{cid}”的候选（编号形如 7-120：第 7 段第 120 个字起）"
            ) from None
    matches = propose(document, targets)
    if chosen:
        pin(matches, targets, chosen)
    return document, matches, targets
