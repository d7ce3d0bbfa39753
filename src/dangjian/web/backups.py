"""The system administrator's backups in the web (系统管理员 only, 三员分立): list the backups in the backup folder,
make one (POST with CSRF), download one (streamed, under a Chinese name). The same backup as `dangjian backup`
(dangjian.backup.make_backup), encrypted when the server has DANGJIAN_BACKUP_PASSPHRASE; each one made or
downloaded is written to the audit log.

The folder is `DANGJIAN_BACKUP_DIR` if set, else `backups/` in the data directory. A download is named by the file
name only, which must have the form the web gives its backups (dangjian-backup-YYYYmmdd-HHMMSS.zip) and lie in that
folder itself: no path, no other file of the server can be asked for.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dangjian.orgs import access

from .responses import content_disposition

NAME_RE = re.compile(r"dangjian-backup-(\d{8})-(\d{6})(?:-(\d{1,3}))?\.zip")
LISTED = 100  # the newest backups shown; older ones stay on disk for the administrator's own rotation


def backup_dir() -> Path:
    configured = os.environ.get("DANGJIAN_BACKUP_DIR", "").strip()
    return Path(configured).resolve() if configured else Path(settings.DATA_DIR) / "backups"


@dataclass
class BackupFile:
    name: str
    size: int
    made: dt.datetime

    @property
    def download_name(self) -> str:
        """党建台账备份-20191231-083000.zip: Chinese, and the time it was made (as in the stored name)."""
        m = NAME_RE.fullmatch(self.name)
        assert m is not None
        return f"党建台账备份-{m.group(1)}-{m.group(2)}{'-' + m.group(3) if m.group(3) else ''}.zip"


def _allowed(request: HttpRequest) -> None:
    if not access.scope(request.user).may_manage_backups():
        raise PermissionDenied("只有系统管理员可以管理备份")


def list_backups(folder: Path | None = None) -> list[BackupFile]:
    folder = folder or backup_dir()
    if not folder.is_dir():
        return []
    found = []
    for entry in os.scandir(folder):
        if NAME_RE.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            st = entry.stat(follow_symlinks=False)
            found.append(
                BackupFile(entry.name, st.st_size, dt.datetime.fromtimestamp(st.st_mtime).astimezone())
            )
    found.sort(key=lambda b: b.name, reverse=True)
    return found[:LISTED]


def _new_path(folder: Path) -> Path:
    """A new name in the web's form; a second backup within the same second gets -2, -3, …"""
    stem = f"dangjian-backup-{dt.datetime.now():%Y%m%d-%H%M%S}"
    path = folder / f"{stem}.zip"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.zip"
    return path


def _passphrase() -> str | None:
    return os.environ.get("DANGJIAN_BACKUP_PASSPHRASE") or None


@login_required
def backups(request: HttpRequest) -> HttpResponse:
    _allowed(request)
    folder = backup_dir()
    return render(
        request,
        "web/backups.html",
        {"backups": list_backups(folder), "folder": folder, "encrypted": _passphrase() is not None,
         "limit": LISTED},
    )  # fmt: skip


@login_required
@require_POST
def make(request: HttpRequest) -> HttpResponse:
    from dangjian.backup import BackupError, make_backup

    _allowed(request)
    folder = backup_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        result = make_backup(_new_path(folder), _passphrase(), request=request)
    except (BackupError, OSError) as exc:
        messages.error(request, f"备份没有完成，原有数据和备份都未改变：{exc}")
        return redirect("backups")
    made = BackupFile(result.path.name, result.bytes, dt.datetime.now().astimezone())
    messages.success(
        request,
        f"已备份：{made.download_name}（附件 {result.files} 个，{'已加密' if result.encrypted else '未加密'}）",
    )
    return redirect("backups")


@login_required
def download(request: HttpRequest, name: str) -> HttpResponseBase:
    from dangjian.audit.log import Action, record

    _allowed(request)
    if not NAME_RE.fullmatch(name):
        raise Http404("没有这个备份文件")
    folder = backup_dir()
    path = folder / name
    if path.is_symlink() or not path.is_file() or path.resolve().parent != folder.resolve():
        raise Http404("没有这个备份文件")
    item = BackupFile(name, path.stat().st_size, dt.datetime.now())
    record(Action.BACKUP, request=request, target=str(path), operation="下载", bytes=item.size)
    response = FileResponse(path.open("rb"), content_type="application/zip")
    response["Content-Disposition"] = content_disposition(item.download_name)
    return response
