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
    assert "frobnicate" in result.stderr


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
