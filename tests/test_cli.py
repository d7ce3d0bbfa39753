"""The `dangjian` command, run as users run it: in a fresh process."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def _run(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
    env["DANGJIAN_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "dangjian", *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_it_shows_help_in_chinese(tmp_path):
    result = _run("--help", data_dir=tmp_path)
    assert result.returncode == 0
    for word in ("init", "serve", "report", "check", "党建台账"):
        assert word in result.stdout


def test_it_refuses_an_unknown_command(tmp_path):
    result = _run("frobnicate", data_dir=tmp_path)
    assert result.returncode == 2
    assert "frobnicate" in result.stderr and "不是可用的选项" in result.stderr


def test_usage_mistakes_are_told_in_chinese(tmp_path):
    """argparse's own messages (missing, clashing and unknown arguments, usage and headings) read in Chinese."""
    cases = {
        ("report", "--template", "seed2019"): "缺少必填参数：--org",
        ("check", "--org", "demo", "--year", "2019", "--period", "2019Q1"): "不能与参数 --year 同时使用",
        ("check", "--org", "demo"): "须填写其中一个",
        ("ledgers", "--colour"): "无法识别的参数：--colour",
        ("serve", "--port", "八千"): "不是有效的值",
    }
    for argv, said in cases.items():
        result = _run(*argv, data_dir=tmp_path)
        assert result.returncode == 2 and said in result.stderr, (argv, result.stderr)
        assert "用法：" in result.stderr and "error:" not in result.stderr and "required" not in result.stderr
    result = _run("check", "--help", data_dir=tmp_path)
    assert "用法：" in result.stdout and "显示本帮助并退出" in result.stdout and "usage:" not in result.stdout


def test_init_creates_the_database_and_loads_packs(tmp_path):
    result = _run("init", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "已载入数据包 core" in result.stdout
    db = tmp_path / "db.sqlite3"
    assert db.exists()
    with sqlite3.connect(db) as conn:
        codes = {row[0] for row in conn.execute("SELECT code FROM ledgers_ledgertype")}
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert {"study_activity", "organization_life", "discipline_case"} <= codes
    assert mode == "wal"
