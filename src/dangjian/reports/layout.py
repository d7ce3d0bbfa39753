"""The structure of a report's text, read the way a 公文 is read: title, headings, body paragraphs.

Shared by the HTML preview and the .docx so that both show the same headings.
- Title: the lines before the first blank line, when the text opens with at most four short lines then a blank.
- Level-1 heading: a line starting 一、二、… ; level-2: （一）（二）… (or half-width "(一)"); level-3: "1." (or
  "1．"), not followed by a digit (a body line may start with "1.5万"); level-4: （1）（2）… (or "(1)").
  A heading may run on into body text in the same paragraph ("（一）深入学习……认同。强化理论武装。……"): the
  heading is the part up to and including the first 。, the rest is body text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

CN_NUMERALS = "一二三四五六七八九十百零"
H1_RE = re.compile(f"^[{CN_NUMERALS}]+、")
H2_RE = re.compile(f"^(（[{CN_NUMERALS}]+）|\\([{CN_NUMERALS}]+\\))")
H3_RE = re.compile(r"^[0-9]{1,2}[.．](?![0-9])")
H4_RE = re.compile(r"^(（[0-9]{1,2}）|\([0-9]{1,2}\))")
HEADINGS = (("h1", H1_RE), ("h2", H2_RE), ("h3", H3_RE), ("h4", H4_RE))
HEADING_KINDS = tuple(kind for kind, _ in HEADINGS)
MAX_TITLE_LINES = 4
MAX_TITLE_CHARS = 60


@dataclass
class Block:
    kind: str  # "title" | "blank" | "h1" | "h2" | "h3" | "h4" | "body"
    head: str  # heading part (the whole line for title/body)
    rest: str = ""  # body text after a heading's first 。


def _split_heading(line: str) -> tuple[str, str]:
    cut = line.find("。")
    if cut == -1 or cut == len(line) - 1:
        return line, ""
    return line[: cut + 1], line[cut + 1 :]


def title_line_count(lines: list[str]) -> int:
    for i, line in enumerate(lines[: MAX_TITLE_LINES + 1]):
        if not line.strip():
            ok = i > 0 and all(len(x) <= MAX_TITLE_CHARS for x in lines[:i]) and i < len(lines) - 1
            return i if ok else 0
    return 0


def blocks(text: str, strip: Callable[[str], str] = str) -> list[Block]:
    """Classify each line. `strip` maps a (possibly marked) line to the plain text the patterns look at."""
    lines = text.rstrip("\n").split("\n")
    n_title = title_line_count([strip(x) for x in lines])
    result: list[Block] = [Block("title", line) for line in lines[:n_title]]
    for line in lines[n_title:]:
        plain = strip(line)
        if not plain.strip():
            result.append(Block("blank", ""))
        else:
            kind = next((kind for kind, pattern in HEADINGS if pattern.match(plain)), "body")
            result.append(Block(kind, *_split_heading(line)) if kind != "body" else Block("body", line))
    return result
