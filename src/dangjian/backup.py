"""Backups for the system administrator: one zip holding the database and the attachments (佐证材料).

SQLite is copied with its online backup API (consistent while the app runs, WAL included); PostgreSQL is dumped
as Django JSON fixtures, which load into either database (`dangjian manage loaddata`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection


def default_name() -> str:
    return f"dangjian-backup-{dt.datetime.now():%Y%m%d-%H%M%S}.zip"


def make_backup(target: Path) -> dict[str, int]:
    """Write the backup zip to `target`; return what went in (files, bytes)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    media = Path(settings.MEDIA_ROOT)
    counts = {"files": 0}
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        if connection.vendor == "sqlite":
            copy = Path(tmp) / "db.sqlite3"
            connection.ensure_connection()
            dest = sqlite3.connect(copy)
            with dest:
                connection.connection.backup(dest)
            dest.close()
            zf.write(copy, "db.sqlite3")
        else:
            dump = Path(tmp) / "data.json"
            call_command(
                "dumpdata",
                natural_foreign=True,
                exclude=["contenttypes", "auth.permission", "sessions", "axes"],
                output=str(dump),
                verbosity=0,
            )
            zf.write(dump, "data.json")
        if media.exists():
            for path in sorted(media.rglob("*")):
                if path.is_file():
                    zf.write(path, f"media/{path.relative_to(media)}")
                    counts["files"] += 1
    counts["bytes"] = target.stat().st_size
    return counts
