"""The data dir is private to the account that runs the app (等保: 目录 0700, 文件 0600).

Everything the app writes (the SQLite database and its -wal/-shm, attachments, collected static files, the
secret key, backups, reports written by the command line) is created under a process umask of 077, so nothing new
is ever readable by other local accounts. Data dirs made by older versions (0755, files 0644) are tightened at
start: the dir, its known files and the roots of its subdirs on every start (cheap), everything inside them by
`dangjian init`, which every install and upgrade runs.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
# Only what the app itself puts in the data dir: a data dir set by mistake to a home directory must not have
# the owner's other files re-moded.
KNOWN_FILES = ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "db.sqlite3-journal", "secret_key")
KNOWN_DIRS = ("media", "static", "packs", "backups")


def private_umask() -> None:
    """Create every later file 0600 and every later directory 0700. Call before Django's settings are read."""
    os.umask(PRIVATE_UMASK)


def _tighten_one(path: Path, mode: int, problems: list[str]) -> None:
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid():
            return  # never follow links out of the data dir; another account's files are not ours to change
        if stat.S_IMODE(st.st_mode) & 0o077:
            path.chmod(mode)
    except FileNotFoundError:
        return
    except OSError as exc:
        problems.append(f"{path}：{exc.strerror}")


def tighten(data_dir: Path, *, deep: bool = False) -> list[str]:
    """Remove group and other access from the data dir and what the app keeps in it; return what failed.

    `deep` also walks media/, static/, packs/ and backups/ (every attachment), which `dangjian init` does.
    """
    problems: list[str] = []
    _tighten_one(data_dir, DIR_MODE, problems)
    for name in KNOWN_FILES:
        _tighten_one(data_dir / name, FILE_MODE, problems)
    for name in KNOWN_DIRS:
        root = data_dir / name
        _tighten_one(root, DIR_MODE, problems)
        if not deep or not root.is_dir() or root.is_symlink():
            continue
        for parent, dirs, files in os.walk(root):
            for d in dirs:
                _tighten_one(Path(parent) / d, DIR_MODE, problems)
            for f in files:
                _tighten_one(Path(parent) / f, FILE_MODE, problems)
    return problems


def tighten_or_warn(data_dir: Path, *, deep: bool = False) -> None:
    """Tighten, and say in Chinese on stderr what could not be changed (the app still starts)."""
    problems = tighten(data_dir, deep=deep)
    if problems:
        shown = "；".join(problems[:5]) + ("……" if len(problems) > 5 else "")
        print(
            f"警告：数据目录中有 {len(problems)} 处权限无法收紧为仅本账号可读写：{shown}。"
            "请以运行本系统的账号执行 chmod -R go-rwx 数据目录。",
            file=sys.stderr,
        )
