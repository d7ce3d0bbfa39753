"""Files the app writes are its own account's only: data dir 0700, database, attachments, key and backups 0600.

Reproduces the finding: a data dir made by `dangjian init` was 0755 and its database, attachments and backups 0644,
so any local account could copy the whole database.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from dangjian.backup import make_backup


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DANGJIAN_DATABASE_URL"}
    env["DANGJIAN_DATA_DIR"] = str(data_dir)
    # The umask a login shell usually has: the app must not rely on the caller's.
    return subprocess.run(
        args,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        preexec_fn=lambda: os.umask(0o022),
    )


def test_init_makes_the_data_dir_and_its_files_private(tmp_path):
    data = tmp_path / "data"
    run([sys.executable, "-m", "dangjian", "init"], data)

    assert mode(data) == 0o700
    for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "secret_key"):
        if (data / name).exists():
            assert mode(data / name) == 0o600, name
    assert mode(data / "db.sqlite3") == 0o600
    assert mode(data / "static") == 0o700


def test_an_existing_open_data_dir_is_tightened_by_init(tmp_path):
    data = tmp_path / "data"
    attachment = data / "media" / "attachments" / "2019" / "03" / "12-101010.pdf"
    attachment.parent.mkdir(parents=True)
    attachment.write_bytes(b"%PDF-1.4 minutes")
    (data / "secret_key").write_text("k" * 50)
    for path in (data, *data.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    other = tmp_path / "not-ours.txt"  # beside the data dir: left alone
    other.write_text("x")
    other.chmod(0o644)

    run([sys.executable, "-m", "dangjian", "init"], data)

    assert mode(data) == 0o700
    assert mode(data / "secret_key") == 0o600
    assert mode(attachment) == 0o600
    assert {mode(d) for d in (data / "media").rglob("*") if d.is_dir()} == {0o700}
    assert mode(other) == 0o644


def test_the_web_server_tightens_the_data_dir_at_start(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    run([sys.executable, "-c", "import dangjian.wsgi"], data)
    assert mode(data) == 0o700
    assert mode(data / "secret_key") == 0o600


def test_uploaded_attachments_are_private_whatever_the_umask(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    old = os.umask(0o022)
    try:
        name = default_storage.save("attachments/2019/03/1-1.pdf", ContentFile(b"%PDF-1.4 scan"))
    finally:
        os.umask(old)
    assert mode(tmp_path / "media" / name) == 0o600
    assert mode(tmp_path / "media" / "attachments" / "2019") == 0o700


@pytest.mark.django_db(transaction=True)
def test_backups_are_private_whatever_the_umask(settings, tmp_path, packs):
    settings.MEDIA_ROOT = tmp_path / "media"
    old = os.umask(0o022)
    try:
        result = make_backup(tmp_path / "backups" / "b.zip")
    finally:
        os.umask(old)
    assert mode(result.path) == 0o600
    assert not list((tmp_path / "backups").glob("*.partial"))  # written aside, then renamed
