"""The README is the operator's reference: every setting and every command must be in it."""

from __future__ import annotations

import re
from pathlib import Path

from dangjian.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    source = (ROOT / "src" / "dangjian" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r'env(?:bool|int|list)?\("([A-Z_]+)"', source))
    assert "DATA_DIR" in names and "DATABASE_URL" in names
    missing = sorted(n for n in names if f"DANGJIAN_{n}" not in README)
    assert not missing, f"README 未说明这些配置：{missing}"


def test_every_command_is_documented():
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    missing = sorted(c for c in commands if f"dangjian {c}" not in README)
    assert not missing, f"README 未说明这些命令：{missing}"
