"""核稿 (checking a draft's figures against the ledgers) and 从 Word 生成模板 (a finished report becomes a pack).

Both read a document with prose.py and match its figures with figures.py, for one org and period, as the viewer
the caller set. 核稿 stores nothing: the draft is read, checked and forgotten (the command line prints the result,
the audit log records that a check was run). A template is written as a pack directory for `dangjian pack install`.

In a template, each figure matched with confidence becomes `{{ 指标 }}` with the wording filter the prose needs
(`|余` for 20余部, `|万余`, `|百分比(1)`, `|中文数字`, `[0]` and `|去尾("纪念馆")` for a name in a list). A figure
no indicator explains is 待定: it is kept as the document's text, preceded by a Jinja comment `{# 待定 … #}` naming
it, listed in the pack's 待定.md and on the command line, so that the pack still installs and renders last year's
wording until someone resolves it (the report editor is where 待定 is to block 定稿).
"""

from __future__ import annotations

import argparse
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .figures import Match, Proposal, analyse, context_words
from .prose import Candidate, Document, ProseError, read_text

MAX_FILE = 20 * 1024 * 1024  # bytes of a draft read
PACK_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,59}$")
EXIT_USAGE, EXIT_DISAGREE = 2, 1
MAX_FLIPS = 1000


@dataclass
class Checked:
    """A draft checked for (org, period): the document, every slot's match, the counts."""

    name: str
    org: Any
    period: Any
    document: Document
    matches: list[Match]

    def count(self, status: str) -> int:
        return sum(1 for m in self.matches if m.status == status)

    @property
    def disagreeing(self) -> list[Match]:
        return [m for m in self.matches if m.status == "不一致"]

    @property
    def unmatched(self) -> list[Match]:
        return [m for m in self.matches if m.status == "未匹配"]


def read_document(name: str, data: bytes) -> list[str]:
    """Paragraphs of a draft given as bytes (.docx or text). Raises ProseError with a Chinese message."""
    if len(data) > MAX_FILE:
        raise ProseError(f"{name}：文件过大（最大 {MAX_FILE // 1024 // 1024} MB）")
    return read_text(name, data)


def check(
    name: str,
    lines: list[str],
    org: Any,
    period: Any,
    flips: tuple[str, ...] = (),
    chosen: dict[str, str] | None = None,
) -> Checked:
    """`chosen` (candidate id → a target's key) makes staff's own pick one of its figure's proposals."""
    document, matches, _targets = analyse(lines, org, period, flips, chosen)
    return Checked(name, org, period, document, matches)


# --- output -------------------------------------------------------------------------------------------------------


def row(m: Match) -> dict[str, Any]:
    """One figure of a check, as the JSON output, the page and the xlsx list show it."""
    c, best = m.candidate, m.first
    return {
        "id": c.id,
        "paragraph": c.paragraph + 1,
        "text": c.text,
        "kind": c.kind,
        "unit": c.unit,
        "wording": c.wording,
        "context": f"{c.before[-12:]}【{c.text}】{c.after[:12]}",
        "status": m.status,
        "note": m.note,
        "indicator": best.target.key if best else None,
        "label": best.target.label if best else None,
        "source": ("报告参数" if best.target.source == "parameter" else "指标") if best else None,
        "right": best.right_text if best and m.status == "不一致" else None,
        "evidence": best.target.evidence_url if best else None,
        "proposals": [
            {"indicator": p.target.key, "label": p.target.label, "score": round(p.score, 2), "equal": p.equal}
            for p in m.proposals
        ],
    }


def as_json(result: Checked) -> dict[str, Any]:
    return {
        "file": result.name,
        "org": result.org.code,
        "period": result.period.code,
        "counts": {s: result.count(s) for s in ("一致", "不一致", "未匹配")},
        "figures": [row(m) for m in result.matches],
        "not_slots": [  # the candidates judged fixed wording, with why: `--flip ID` makes one a figure
            {"id": c.id, "paragraph": c.paragraph + 1, "text": c.text, "reason": c.reason}
            for c in result.document.candidates
            if not c.is_slot
        ],
    }


def as_text(result: Checked) -> str:
    lines = [
        f"核稿：{result.name}（{result.org.name}，{result.period.label}）",
        f"共 {len(result.matches)} 处数字和名称：一致 {result.count('一致')}，"
        f"不一致 {result.count('不一致')}，未匹配 {result.count('未匹配')}",
    ]
    if result.disagreeing:
        lines.append("不一致（文中数字与台账不符）：")
        for m in result.disagreeing:
            r = row(m)
            lines.append(
                f"  第 {r['paragraph']} 段 {r['context']}：文中为 {r['text']}，台账为 {r['right']}"
                f"（{r['label']}，{r['indicator']}）" + (f" 依据：{r['evidence']}" if r["evidence"] else "")
            )
    if result.unmatched:
        lines.append("未匹配（请人工核对）：")
        for m in result.unmatched:
            r = row(m)
            lines.append(f"  第 {r['paragraph']} 段 {r['context']}：{r['note']}")
    return "\n".join(lines) + "\n"


def as_xlsx(result: Checked) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "核稿结果"
    ws.append(["段落", "文中", "上下文", "结果", "台账数值", "指标", "指标名称", "说明", "依据"])
    for m in result.matches:
        r = row(m)
        ws.append(
            [
                r["paragraph"],
                r["text"],
                r["context"],
                r["status"],
                r["right"] or "",
                r["indicator"] or "",
                r["label"] or "",
                r["note"],
                r["evidence"] or "",
            ]
        )
    for column, width in zip("ABCDEFGHI", (6, 12, 40, 8, 10, 30, 30, 40, 50), strict=True):
        ws.column_dimensions[column].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- template -----------------------------------------------------------------------------------------------------


def _literal(text: str) -> str:
    """Document text as Jinja source: braces that would open a tag are printed as strings."""
    return re.sub(r"[{}]", lambda m: '{{ "' + m.group(0) + '" }}', text)


LITERAL, PENDING = "literal", "pending"  # a figure's choice besides a target's key: 保留原文, 待定


def default_choice(m: Match) -> str:
    """What the command line decides for a figure: a confident match its first proposal, a figure no indicator
    explains 待定, and a value-equal figure whose words fit no single indicator the document's text."""
    if m.confident and m.first is not None:
        return m.first.target.key
    return PENDING if m.status != "一致" else LITERAL


def chosen_proposal(m: Match, key: str) -> Proposal | None:
    return next((p for p in m.proposals if p.target.key == key), None)


def template_source(result: Checked, choices: dict[str, str] | None = None) -> tuple[str, list[Match]]:
    """The .j2 source and the 待定 figures. Each figure is what `choices` (candidate id → a proposed target's key,
    LITERAL or PENDING) says, else its `default_choice`: a target becomes `{{ expression }}`, 待定 keeps the
    document's figure after a `{# 待定 … #}` comment, literal keeps the document's words."""
    choices = choices or {}
    by_paragraph: dict[int, list[Match]] = {}
    for m in result.matches:
        by_paragraph.setdefault(m.candidate.paragraph, []).append(m)
    pending: list[Match] = []
    out_lines = []
    for para in result.document.paragraphs:
        text, pos, parts = para.text, 0, []
        for m in sorted(by_paragraph.get(para.index, []), key=lambda m: m.candidate.start):
            c = m.candidate
            if c.start < pos:
                continue
            choice = choices.get(c.id) or default_choice(m)
            proposal = chosen_proposal(m, choice) if choice not in (LITERAL, PENDING) else None
            if proposal is not None:
                parts.append(_literal(text[pos : c.start]))
                parts.append("{{ " + proposal.expression + " }}")
                pos = c.end
            elif choice != LITERAL:  # 待定 (or a key no longer proposed): the document's figure kept
                parts.append(_literal(text[pos : c.start]))
                hint = f"，可能是 {m.first.target.key}" if m.first else ""
                said = f"待定 {c.id}：“{c.text}”{hint}".replace("#}", "#")
                parts.append(f"{{# {said} #}}")
                parts.append(_literal(c.text))
                pos = c.end
                pending.append(m)
        parts.append(_literal(text[pos:]))
        if para.blank_before:
            out_lines.append(
                ""
            )  # the Word layout reads a title block as the lines before the first blank one
        out_lines.append("".join(parts))
    return "\n".join(out_lines) + "\n", pending


def write_pack(
    result: Checked,
    folder: Path,
    source_name: str,
    choices: dict[str, str] | None = None,
    label: str = "",
) -> tuple[Path, list[Match]]:
    """Write pack.toml, <name>.j2 and 待定.md into `folder` (created; its name is the pack's and template's key)."""
    key = folder.name
    source, pending = template_source(result, choices)
    label = label or f"{result.org.name}{result.period.label}报告（由 {source_name} 生成）"
    label = label.replace('"', "“").replace("\\", "＼").replace("\n", " ")[:190]
    source_name = source_name.replace("\n", " ")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.toml").write_text(
        f"# 由 dangjian template-from-docx 从 {source_name} 生成（{result.org.code}，{result.period.code}）。\n"
        f"# 待定 {len(pending)} 处，见 待定.md 和模板中的 {{# 待定 … #}} 注释。\n\n"
        f'[pack]\nname = "{key}"\nlabel = "{label}"\norder = 200\n\n'
        f'[[templates]]\nkey = "{key}"\nlabel = "{label}"\nfile = "{key}.j2"\n',
        encoding="utf-8",
    )
    (folder / f"{key}.j2").write_text(source, encoding="utf-8")
    notes = [f"# 待定（{len(pending)} 处）", ""]
    notes += [f"- 第 {m.candidate.paragraph + 1} 段 {row(m)['context']}：{m.note}" for m in pending]
    (folder / "待定.md").write_text("\n".join(notes) + "\n", encoding="utf-8")
    return folder, pending


# --- command line -------------------------------------------------------------------------------------------------


def _fail(message: str) -> int:
    from .cli import fail

    return fail(message)


def _load(args: argparse.Namespace) -> Checked | int:
    from .cli import org_and_period

    found = org_and_period(args)
    if isinstance(found, int):
        return found
    org, period = found
    path = Path(args.file)
    try:
        if path.stat().st_size > MAX_FILE:
            return _fail(f"{path}：文件过大（最大 {MAX_FILE // 1024 // 1024} MB）")
        lines = read_document(path.name, path.read_bytes())
        return check(path.name, lines, org, period, tuple(getattr(args, "flip", None) or ())[:MAX_FLIPS])
    except OSError as exc:
        return _fail(f"无法读取文件 {path}：{exc.strerror}")
    except ProseError as exc:
        return _fail(str(exc))


def verify_command(args: argparse.Namespace) -> int:
    """`dangjian verify FILE --org CODE --period P [--format json]`: exit 1 when a figure disagrees."""
    from dangjian.audit.log import Action, record

    from .cli import os_user

    result = _load(args)
    if isinstance(result, int):
        return result
    if args.format == "json":
        print(json.dumps(as_json(result), ensure_ascii=False, indent=1))
    else:
        print(as_text(result), end="")
    record(
        Action.EXPORT,
        user=getattr(args, "actor", None),
        username=os_user(),
        target=f"核稿 {result.name} {result.org.code} {result.period.code}",
        via="命令行 dangjian verify",
        disagreeing=result.count("不一致"),
    )
    return EXIT_DISAGREE if result.disagreeing else 0


def template_from_docx_command(args: argparse.Namespace) -> int:
    """`dangjian template-from-docx FILE --org CODE --period P -o PACKDIR`."""
    folder = Path(args.output)
    if not PACK_NAME.match(folder.name):
        return _fail(
            f"目录名“{folder.name}”不能用作数据包和模板的名称：须以小写英文字母开头，只含小写字母、数字、-、_"
        )
    if folder.exists() and any(folder.iterdir()):
        return _fail(f"目录 {folder} 已存在且不为空，请换一个目录")
    result = _load(args)
    if isinstance(result, int):
        return result
    _folder, pending = write_pack(result, folder, Path(args.file).name)
    slots = sum(1 for m in result.matches if m.confident)
    print(f"已生成数据包 {folder}（模板 {folder.name}：{slots} 处换成了指标，待定 {len(pending)} 处）")
    for m in pending:
        print(f"  [待定] 第 {m.candidate.paragraph + 1} 段 {row(m)['context']}：{m.note}")
    print(f"检查并安装：dangjian pack install {folder}")
    return 0


# --- a figure made an indicator or a 报告参数 (the review's 新建指标 / 设为参数) -----------------------------------

# Words that open a clause but name nothing (全年共开展 …) and verbs that lead up to a figure (覆盖率达 98%).
_OPENING = re.compile(r"^(?:全年|全区|年内|今年|本年度|年度|其中|共|累计|先后|已|还|并|同时|全面|积极|深入)+")
_LEADING_UP = re.compile(r"(?:达到|达|为|占|约|超过|共计|共|计|近|逾|累计|总数|合计)+$")
# a counting word after a figure → how a label names the count (学习4次 → 学习次数)
_COUNTED = {
    "次": "次数", "场": "场数", "部": "部数", "个": "个数", "件": "件数", "条": "条数", "名": "人数", "人": "人数",
    "期": "期数", "批": "批数", "篇": "篇数", "项": "项数", "家": "家数", "所": "所数", "处": "处数", "户": "户数",
    "本": "本数", "份": "份数", "轮": "轮数", "起": "起数", "人次": "人次", "万元": "金额", "元": "金额",
    "余万元": "金额", "万余元": "金额",
}  # fmt: skip
MAX_GUESS = 30  # characters of a guessed label


def _cjk(text: str) -> str:
    return re.sub(r"[^\u4e00-\u9fff]", "", text)


def figure_words(c: Candidate) -> tuple[str, str]:
    """The words that name a figure: its clause before it (without 全年共…, 达/为) and the noun right after its
    unit (新建23个【基层党组织】)."""
    before = re.split(r"[，。；：、,;:！？!?（）()《》“”\"]", c.before.rstrip('《“"'))[-1]
    before = _LEADING_UP.sub("", _OPENING.sub("", _cjk(before)[-16:]))
    after = c.after
    after = after[len(c.wording) :] if c.wording and after.startswith(c.wording) else after
    after = after.lstrip("余多万")
    unit = c.unit.lstrip("余多万")
    if unit and after.startswith(unit):
        after = after[len(unit) :]
    elif c.kind in ("percent", "points"):
        after = ""
    noun = (
        re.split(r"[，。；：、,;:！？!?（）()《》“”\"\s\d]", after)[0][:10]
        if c.kind in ("number", "chinese")
        else ""
    )
    return before, _cjk(noun) if unit else ""


def guess_label(c: Candidate) -> str:
    """A label for what the figure counts, from the words around it: 学习4次 → 学习次数, 新建23个基层党组织 →
    新建基层党组织数, 覆盖率达98.5% → 覆盖率, 观看《榜样4》→ 观看名称. Staff correct it before saving."""
    before, noun = figure_words(c)
    unit = c.unit.lstrip("余多")
    if c.kind in ("title", "name"):
        label = f"{before}名称" if before else "名称"
    elif c.kind == "date":
        label = f"{before}日期" if before else "日期"
    elif c.kind in ("percent", "points"):
        label = before or "比例"
    elif noun:
        label = before + noun + ("" if noun.endswith(("数", "率", "人次", "次", "额")) else "数")
    else:
        counted = _COUNTED.get(unit, "数" if unit else "")
        label = (
            before if counted == "金额" and before.endswith(("资金", "经费", "金额")) else before + counted
        )
    return label[:MAX_GUESS] or "新指标"


def guess_unit(c: Candidate) -> str:
    """The unit a target of this figure keeps: the 量词 (个、名、人次), 万元 for 580余万元, % for a percentage."""
    if c.kind == "percent":
        return "%"
    if c.kind in ("date", "name", "title"):
        return ""
    if c.kind == "points":
        return "个百分点"
    unit = c.unit.lstrip("余多")
    if c.wording in ("余万", "万余") and unit == "元":
        unit = "万元"
    return unit[:20]


def guess_decimals(c: Candidate) -> int | None:
    """The places the figure is written with (98.5% → 1), None for a whole number."""
    if c.kind not in ("number", "percent", "points") or "." not in c.text:
        return None
    return min(len(c.text.split(".", 1)[1]), 6)


def guess_ledger(c: Candidate, ledgers: list[Any]) -> tuple[Any, tuple[str, str] | None]:
    """The ledger the words around the figure name best, and a (field, choice) of it they name outright
    (中心组集体学习 as the kind of activity); or (None, None). A choice named outright weighs most; then the
    two-character words shared with the ledger's label (台账 aside), a short label sharing as many ahead."""
    before, noun = figure_words(c)
    clause = re.split(r"[，。；：,;:]", c.before)[-1]
    words = context_words(before + " " + noun) | context_words(clause[-20:])
    best, best_score, best_choice = None, 0.0, None
    for lt in ledgers:
        grams = {g for g in context_words(lt.label.replace("台账", "")) if len(g) == 2}
        shared = len(words & grams)
        choice = None
        for f in lt.fields.all():
            if f.type not in ("choice", "multichoice") or f.is_archived:
                continue
            named = [str(x) for x in f.choices or [] if len(str(x)) >= 2 and str(x) in clause]
            if named and (choice is None or len(max(named, key=len)) > len(choice[1])):
                choice = (f.code, max(named, key=len))
        score = shared + shared / max(len(grams), 1) + (3.0 if choice else 0.0)
        if score > best_score:
            best, best_score, best_choice = lt, score, choice
    return best, best_choice


def where_words(m: Match) -> str:
    """Where a figure stands, as a note says it: 第 5 段“新建基层党组织【23】个” (its clause, the figure marked)."""
    c = m.candidate
    before = re.split(r"[。；！？]", c.before)[-1][-20:]
    after = re.split(r"[，。；！？,;]", c.after)[0][:15]
    return f"第 {c.paragraph + 1} 段“{before}【{c.text}】{after}”"


def _free_key(group: str, label: str, taken: Any) -> str:
    base = f"{group}.{label}"[:110]
    key, n = base, 2
    while taken(key) and n < 100:
        key, n = f"{base}{n}", n + 1
    return key


def builder_prefill(c: Candidate, where: str) -> dict[str, str]:
    """The indicator builder's form filled from a figure (query parameters of /indicators/builder/new/): key,
    label, unit, decimals, and the ledger (with a condition on a choice the words name) when they name one; a
    percentage is a share, a name a list of values. `where` says where the figure stands, for the page's note."""
    from dangjian.indicators.models import Indicator
    from dangjian.records.models import LedgerType

    ledgers = list(
        LedgerType.objects.filter(is_active=True).prefetch_related("fields").order_by("order", "code")
    )
    ledger, condition = guess_ledger(c, ledgers)
    label = guess_label(c)
    group = "报告"
    if ledger is not None:
        keys = Indicator.objects.filter(ledger=ledger).values_list("key", flat=True)[:200]
        groups = [k.split(".", 1)[0] for k in keys if "." in k]
        group = max(set(groups), key=groups.count) if groups else ledger.label.replace("台账", "")[:10]
    out = {
        "key": _free_key(group, label, lambda k: Indicator.objects.filter(key=k).exists()),
        "label": label,
        "unit": guess_unit(c),
        "aggregate": "share" if c.kind == "percent" else "list" if c.kind in ("name", "title") else "count",
        "from": where,
    }
    if ledger is not None:
        out["ledger"] = ledger.code
        if condition is not None:
            out["where_field"], out["where_value"] = condition
    decimals = guess_decimals(c)
    if decimals is not None:
        out["decimals"] = str(decimals)
    return {k: v for k, v in out.items() if v}


def parameter_prefill(c: Candidate, where: str) -> dict[str, str]:
    """The 报告参数 form filled from a figure: key, label, unit, type (a name is text, a date a date, 98.5 a
    decimal with its places) and, as its description, where the figure stood."""
    from dangjian.indicators.models import Indicator

    label = guess_label(c)
    if c.kind in ("name", "title"):
        kind = "text"
    elif c.kind == "date":
        kind = "date"
    elif "." in c.text:
        kind = "decimal"
    else:
        kind = "integer"
    out = {
        "key": _free_key("报告参数", label, lambda k: Indicator.objects.filter(key=k).exists()),
        "label": label,
        "unit": guess_unit(c) if kind in ("integer", "decimal") else "",
        "type": kind,
        "from": where,
    }
    decimals = guess_decimals(c)
    if decimals is not None:
        out["decimals"] = str(decimals)
    return {k: v for k, v in out.items() if v}
