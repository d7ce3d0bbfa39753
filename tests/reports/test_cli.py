from __future__ import annotations

import json

import pytest
from docx import Document

from dangjian.cli import build_parser
from dangjian.reports.cli import report


def run_cli(*argv: str) -> int:
    return report(build_parser().parse_args(["report", *argv]))


@pytest.mark.parametrize("fmt", ["json", "txt", "html", "docx"])
def test_report_writes_each_format(report_pack, report_records, tmp_path, fmt, capsys):
    out = tmp_path / f"r.{fmt}"
    assert (
        run_cli(
            "--template", "testreport", "--org", "root", "--year", "2019", "--format", fmt, "-o", str(out)
        )
        == 0
    )
    assert "已生成" in capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out.read_text(encoding="utf-8"))["slots"][1]["value"] == 4
    elif fmt == "txt":
        assert "集体学习4次" in out.read_text(encoding="utf-8")
    elif fmt == "html":
        assert 'class="slot"' in out.read_text(encoding="utf-8")
    else:
        assert Document(str(out)).paragraphs[0].text == "测试区年度党建工作"


def test_unknown_template_or_org_exits_2_with_a_chinese_message(report_pack, tmp_path, capsys):
    out = str(tmp_path / "r.txt")
    assert run_cli("--template", "nope", "--org", "root", "--year", "2019", "--format", "txt", "-o", out) == 2
    assert "报告模板“nope”不存在" in capsys.readouterr().err
    assert (
        run_cli("--template", "testreport", "--org", "nope", "--year", "2019", "--format", "txt", "-o", out)
        == 2
    )
    assert "组织代码“nope”不存在" in capsys.readouterr().err


def test_a_broken_template_exits_2_naming_the_line(report_pack, tmp_path, capsys):
    report_pack.source = "第一行\n{{ 学习.不存在 }}\n"
    report_pack.save()
    out = str(tmp_path / "r.txt")
    assert (
        run_cli("--template", "testreport", "--org", "root", "--year", "2019", "--format", "txt", "-o", out)
        == 2
    )
    err = capsys.readouterr().err
    assert "第 2 行" in err and "学习.不存在" in err
