"""核稿与从 Word 生成模板 on the seed (issue 11, "how it is checked").

The demo district is built once for the module (see conftest.in_demo). Inside it, as staff would from the command
line: the seed2019 report is rendered to .docx; the engine reads that Word file back without looking at the
template, and is measured against the template's own 213 slots (where each printed value lies in the text is known
from the render's markers):
  - recall: every slot is found (a candidate overlaps it);
  - precision: of what the import proposes as a slot (an indicator or 待定), at most 5% is not a slot;
  - the first proposal is the template's own indicator for at least 90% of the number slots.
Then `dangjian template-from-docx` writes a pack, `dangjian pack install` loads it and its report is the seed's
text word for word; `dangjian verify` passes the report as rendered and flags the 5 figures changed in the .docx,
each with the right value and its evidence link, and nothing else.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.django_db

# (text in the report as rendered, the same place changed by hand, the figure written, the right value)
CHANGES = [
    ("选拔优秀选手29名", "选拔优秀选手39名", "39", "29"),
    ("拍摄微视频20余部", "拍摄微视频30余部", "30", "20"),
    ("注册率已达93.1%", "注册率已达95.1%", "95.1", "93.1"),
    ("基层理论宣讲308场次", "基层理论宣讲318场次", "318", "308"),
    ("挽回经济损失301余万元", "挽回经济损失350余万元", "350", "301"),
]


def _cli(*argv: str) -> tuple[int, str, str]:
    from dangjian.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _truth(marked: str) -> list[tuple[int, int, int, int]]:
    """(paragraph, start, end, slot index) of every printed value, paragraphs as the non-empty lines."""
    from dangjian.reports.slots import MARKER_CHARS_RE, MARKER_RE

    spans: list[tuple[int, int, int, int]] = []
    paragraph = 0
    for line in marked.split("\n"):
        if not MARKER_CHARS_RE.sub("", MARKER_RE.sub(lambda m: m.group(2), line)).strip():
            continue
        text, pos = "", 0
        lead = len(line) - len(line.lstrip())
        for m in MARKER_RE.finditer(line):
            text += line[pos : m.start()]
            start = len(text) - lead
            text += m.group(2)
            spans.append((paragraph, start, len(text) - lead, int(m.group(1))))
            pos = m.end()
        paragraph += 1
    return spans


def _edit_docx(source: Path, target: Path) -> None:
    """Change the figures as a person would in Word: the text of the run that holds them."""
    import docx

    document = docx.Document(str(source))
    for old, new, _written, _right in CHANGES:
        hits = 0
        for paragraph in document.paragraphs:
            for run in paragraph.runs:
                if old in run.text:
                    run.text = run.text.replace(old, new)
                    hits += 1
        assert hits == 1, old
    document.save(str(target))


@pytest.fixture(scope="module")
def roundtrip(in_demo, tmp_path_factory) -> dict[str, Any]:
    from django.test import override_settings

    from dangjian.orgs.models import Organization
    from dangjian.reports import figures
    from dangjian.reports import values as sources
    from dangjian.reports.models import ReportTemplate
    from dangjian.reports.prose import paragraphs_of_docx
    from dangjian.reports.templating import render

    tmp = tmp_path_factory.mktemp("fromword")
    (tmp / "data" / "packs").mkdir(parents=True)
    seed_docx, changed_docx = tmp / "seed2019.docx", tmp / "changed.docx"

    def gather() -> dict[str, Any]:
        result: dict[str, Any] = {}
        with override_settings(DATA_DIR=tmp / "data"):
            org, period = Organization.objects.get(code="demo"), sources.period_for_year(2019)
            rendered = render(ReportTemplate.objects.get(key="seed2019"), org, period)
            code, out, err = _cli(
                "report", "--template", "seed2019", "--org", "demo", "--year", "2019", "--format", "docx",
                "-o", str(seed_docx),
            )  # fmt: skip
            assert code == 0, err
            truth = _truth(rendered.marked)
            lines = paragraphs_of_docx(seed_docx.read_bytes())
            document, matches, _targets = figures.analyse(lines, org, period)

            def slots_under(c: Any) -> list[int]:
                return [t[3] for t in truth if t[0] == c.paragraph and c.start < t[2] and t[1] < c.end]

            found = {i for c in document.slots() for i in slots_under(c)}
            proposed = [m for m in matches if m.confident or m.status != "一致"]  # a slot or 待定
            wrong = [m.candidate for m in proposed if not slots_under(m.candidate)]
            numbers = [
                (m, rendered.slots[slots_under(m.candidate)[0]].key)
                for m in matches
                if m.candidate.kind not in ("name", "title") and slots_under(m.candidate)
            ]
            first_right = [m for m, key in numbers if m.first is not None and m.first.target.key == key]
            number_slots = {i for m, _key in numbers for i in slots_under(m.candidate)}
            result["measures"] = {
                "slots": len(truth),
                "recall": len(found) / len(truth),
                "missed": [rendered.slots[t[3]].text for t in truth if t[3] not in found],
                "proposed": len(proposed),
                "precision": 1 - len(wrong) / len(proposed),
                "not_slots": [f"{c.before[-8:]}【{c.text}】{c.after[:6]}" for c in wrong],
                "number_slots": len(number_slots),
                "first_right": len(first_right) / len(numbers),
            }

            code, out, err = _cli(
                "verify", str(seed_docx), "--org", "demo", "--period", "2019", "--format", "json"
            )
            result["verify_seed"] = (code, json.loads(out), err)
            _edit_docx(seed_docx, changed_docx)
            code, out, err = _cli(
                "verify", str(changed_docx), "--org", "demo", "--period", "2019", "--format", "json"
            )
            result["verify_changed"] = (code, json.loads(out), err)
            result["verify_text"] = _cli("verify", str(changed_docx), "--org", "demo", "--year", "2019")

            pack_dir = tmp / "out" / "fromseed"
            result["from_docx"] = _cli(
                "template-from-docx", str(seed_docx), "--org", "demo", "--period", "2019", "-o", str(pack_dir)
            )
            result["pack_files"] = sorted(p.name for p in pack_dir.iterdir())
            result["install"] = _cli("pack", "install", str(pack_dir))
            result["installed_key"] = ReportTemplate.objects.filter(key="fromseed").values_list(
                "key", flat=True
            )[:1]
            result["installed_key"] = list(result["installed_key"])
            for key in ("seed2019", "fromseed"):
                code, out, err = _cli(
                    "report", "--template", key, "--org", "demo", "--year", "2019", "--format", "txt",
                    "-o", str(tmp / f"{key}.txt"),
                )  # fmt: skip
                assert code == 0, err
                result[key] = (tmp / f"{key}.txt").read_text(encoding="utf-8")
        return result

    return in_demo(gather)


def test_every_slot_of_the_seed_is_found(roundtrip):
    m = roundtrip["measures"]
    print(
        f"\n核稿/从 Word 生成模板（seed2019，示范区）：{m['slots']} 个空，召回率 {m['recall']:.1%}，"
        f"提议为空的 {m['proposed']} 处中准确率 {m['precision']:.1%}，"
        f"数字空 {m['number_slots']} 个中首选即模板原指标 {m['first_right']:.1%}"
    )
    assert m["slots"] == 213
    assert m["recall"] == 1.0, m["missed"]


def test_at_most_five_percent_of_what_is_proposed_is_not_a_slot(roundtrip):
    m = roundtrip["measures"]
    assert m["precision"] >= 0.95, m["not_slots"]


def test_the_first_proposal_is_the_templates_own_indicator(roundtrip):
    m = roundtrip["measures"]
    assert m["number_slots"] >= 160
    assert m["first_right"] >= 0.9


def test_verify_passes_the_report_as_rendered(roundtrip):
    code, result, err = roundtrip["verify_seed"]
    assert code == 0, err
    assert result["counts"]["不一致"] == 0
    assert result["counts"]["一致"] >= 213
    assert result["org"] == "demo" and result["period"] == "2019"


def _order(figure: dict[str, Any]) -> int:
    return [written for _o, _n, written, _r in CHANGES].index(figure["text"])


def test_verify_flags_exactly_the_five_changed_figures_with_the_right_value(roundtrip):
    code, result, _err = roundtrip["verify_changed"]
    assert code == 1
    flagged = [f for f in result["figures"] if f["status"] == "不一致"]
    assert len(flagged) == len(CHANGES), [f["context"] for f in flagged]
    assert {f["text"]: f["right"] for f in flagged} == {written: right for _o, _n, written, right in CHANGES}
    for (_old, new, _written, _right), figure in zip(CHANGES, sorted(flagged, key=_order), strict=True):
        assert new in figure["context"].replace("【", "").replace("】", "")
        assert figure["evidence"].startswith("/indicators/evidence/?key=")
    code, text, _err = roundtrip["verify_text"]
    assert code == 1
    assert "不一致 5" in text and "文中为 39，台账为 29" in text and "依据：/indicators/evidence/" in text


def test_template_from_docx_writes_a_pack_that_installs_and_renders_the_seed(roundtrip):
    code, out, err = roundtrip["from_docx"]
    assert code == 0, err
    assert "已生成数据包" in out and "待定" in out
    assert roundtrip["pack_files"] == ["fromseed.j2", "pack.toml", "待定.md"]
    code, out, err = roundtrip["install"]
    assert code == 0, out + err
    assert roundtrip["installed_key"] == ["fromseed"]

    def plain(text: str) -> list[str]:
        return [line for line in text.split("\n") if line.strip()]

    assert plain(roundtrip["fromseed"]) == plain(roundtrip["seed2019"])
    assert (
        roundtrip["fromseed"].strip() == roundtrip["seed2019"].strip()
    )  # the blank line after the title too
    assert len(re.findall(r"\d", roundtrip["seed2019"])) > 300
