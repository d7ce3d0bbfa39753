"""Settings come from DANGJIAN_* environment variables with safe defaults (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json
from dangjian import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "data_dir": str(s.DATA_DIR), "secret_key": s.SECRET_KEY, "debug": s.DEBUG, "hosts": s.ALLOWED_HOSTS,
    "engine": db["ENGINE"], "name": str(db["NAME"]), "options": {k: str(v) for k, v in db.get("OPTIONS", {}).items()},
    "host": db.get("HOST", ""), "media": str(s.MEDIA_ROOT),
}))
"""


def _settings(cwd: Path, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
    clean.update({f"DANGJIAN_{k}": v for k, v in env.items()})
    cmd = [sys.executable, "-c", SCRIPT]
    out = subprocess.run(cmd, cwd=cwd, env=clean, capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_the_defaults_are_safe(tmp_path):
    first = _settings(tmp_path)
    assert first["data_dir"] == str(tmp_path / "data")
    assert first["debug"] is False
    assert first["engine"] == "django.db.backends.sqlite3"
    assert first["name"] == str(tmp_path / "data" / "db.sqlite3")
    assert first["media"] == str(tmp_path / "data" / "media")
    assert "journal_mode=WAL" in first["options"]["init_command"]
    assert "busy_timeout" in first["options"]["init_command"]
    assert int(first["options"]["timeout"]) > 0
    # A secret key is generated into the data dir, readable by its owner only, and reused.
    key_file = tmp_path / "data" / "secret_key"
    assert key_file.read_text().strip() == first["secret_key"]
    assert len(first["secret_key"]) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _settings(tmp_path)["secret_key"] == first["secret_key"]


def test_it_reads_dangjian_variables(tmp_path):
    data = tmp_path / "elsewhere"
    values = _settings(
        tmp_path,
        DATA_DIR=str(data),
        SECRET_KEY="from-the-environment",
        DEBUG="true",
        ALLOWED_HOSTS="dj.example.cn, 10.0.0.5 ,",
        DATABASE_URL="postgres://dj:pw@db.internal:5432/dangjian",
    )
    assert values["data_dir"] == str(data)
    assert data.is_dir()
    assert values["secret_key"] == "from-the-environment"
    assert not (data / "secret_key").exists()
    assert values["debug"] is True
    assert values["hosts"] == ["dj.example.cn", "10.0.0.5"]
    assert values["engine"] == "django.db.backends.postgresql"
    assert (values["name"], values["host"]) == ("dangjian", "db.internal")
    assert (
        values["options"]["options"] == "-c jit=off -c work_mem=64MB"
    )  # issue 14: JIT compiling a ledger query costs seconds
    given = _settings(tmp_path, DATABASE_URL="postgres://dj@db/dangjian?options=-c%20jit%3Don")
    assert (
        given["options"]["options"] == "-c jit=off -c work_mem=64MB -c jit=on"
    )  # the URL's own come last, win
    assert _settings(tmp_path, DEBUG="0", DATA_DIR=str(data))["debug"] is False
