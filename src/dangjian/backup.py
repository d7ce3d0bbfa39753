"""Backups and restores for the system administrator: one zip holding the database and the attachments (佐证材料).

A backup holds:
- `db.sqlite3`: SQLite copied with its online backup API (consistent while the app runs, WAL included), or
  `data.jsonl`: PostgreSQL dumped as Django fixtures in one REPEATABLE READ snapshot (loads into either database);
- `media/…`: every attachment;
- `manifest.json`: when and from what it was made, the row count of every table and the SHA-256 of every member.
It may be encrypted with a passphrase (WinZip AES-256, which 7-Zip and WinRAR open too; see docs/deploy.md).

A restore goes into an empty target only (unless forced), and changes nothing until every member has been read
back and matched its checksum. SQLite into SQLite places the database file; every other pair migrates the target
first, then loads the fixtures and resets PostgreSQL's sequences; a SQLite backup restored into PostgreSQL is
converted to fixtures on the way. Row counts are compared with the manifest's before anything is committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import pyzipper
from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.serializers import jsonl
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Model

from dangjian.audit.log import COMMAND_LINE, Action, record

FORMAT = 2
MANIFEST = "manifest.json"
SQLITE_MEMBER = "db.sqlite3"
DATA_MEMBER = "data.jsonl"
LEGACY_DATA_MEMBER = "data.json"  # backups made before the manifest (format 1)
MEDIA_PREFIX = "media/"
# Not data: rebuilt by migrate (content types, permissions) or short-lived (sessions, login-failure counters).
NOT_DATA = ("contenttypes", "auth.permission", "sessions", "axes")
MIN_PASSPHRASE = (
    12  # the zip format derives its key with only 1,000 PBKDF2 rounds: length has to make up for it
)
CHUNK = 1024 * 1024
LOAD_BATCH = 1000
_SOURCE_ALIAS = "dangjian_restore_source"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is Chinese and says what to do."""


@dataclass
class BackupResult:
    path: Path
    files: int  # attachments
    bytes: int
    tables: dict[str, int]
    encrypted: bool


@dataclass
class RestoreResult:
    files: int
    tables: dict[str, int]
    source_vendor: str
    created: str
    warnings: list[str] = field(default_factory=list)


def default_name() -> str:
    return f"dangjian-backup-{dt.datetime.now():%Y%m%d-%H%M%S}.zip"


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupError(
            f"备份口令至少需要 {MIN_PASSPHRASE} 个字符（现为 {len(passphrase)} 个）。"
            "可用 openssl rand -base64 24 生成一个随机口令。"
        )


# --- what is data, and how much of it ----------------------------------------------------------------------


def _is_data(model: type[Model]) -> bool:
    opts = model._meta
    return not (opts.proxy or not opts.managed or opts.app_label in NOT_DATA or opts.label_lower in NOT_DATA)


def data_tables() -> list[str]:
    """Tables that backups carry and restores refill: every model's table (many-to-many ones too) but NOT_DATA."""
    return sorted({m._meta.db_table for m in apps.get_models(include_auto_created=True) if _is_data(m)})


def _count(cursor: Any, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute('SELECT COUNT(*) FROM "{}"'.format(table.replace('"', '""')))
        counts[table] = cursor.fetchone()[0]
    return counts


def _existing_data(using: str = "default") -> tuple[str, int] | None:
    """The first data table of the database that holds rows, with its count; None for an empty database."""
    conn = connections[using]
    present = set(conn.introspection.table_names())
    with conn.cursor() as cursor:
        for table in data_tables():
            if table in present:
                rows = _count(cursor, [table])[table]
                if rows:
                    return table, rows
    return None


# --- zip files ----------------------------------------------------------------------------------------------


@contextmanager
def _writer(path: Path, passphrase: str | None) -> Iterator[pyzipper.AESZipFile]:
    if passphrase:
        zf = pyzipper.AESZipFile(path, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES)
        zf.setpassword(passphrase.encode("utf-8"))
        zf.setencryption(pyzipper.WZ_AES, nbits=256)
    else:
        zf = pyzipper.AESZipFile(path, "w", compression=pyzipper.ZIP_DEFLATED)
    with zf:
        yield zf


def _add_file(zf: pyzipper.AESZipFile, path: Path, name: str, manifest: dict[str, Any]) -> None:
    """Stream one file into the zip, taking its checksum on the way (files can be larger than memory)."""
    info = zf.zipinfo_cls.from_file(path, name, strict_timestamps=False)
    info.compress_type = pyzipper.ZIP_DEFLATED
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as src, zf.open(info, "w") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    manifest["files"][name] = {"sha256": digest.hexdigest(), "size": size}


def _version() -> str:
    try:
        return metadata.version("dangjian")
    except metadata.PackageNotFoundError:
        return ""


# --- backup -------------------------------------------------------------------------------------------------


def _data_models() -> list[type[Model]]:
    """The models backups carry, parents before the models that refer to them by natural key."""
    by_app: dict[Any, list[type[Model]]] = {}
    for model in filter(_is_data, apps.get_models()):
        by_app.setdefault(model._meta.app_config, []).append(model)
    return serializers.sort_dependencies(by_app.items(), allow_cycles=True)


class _LineSerializer(jsonl.Serializer):
    def end_object(self, obj: Any) -> None:
        # json.dumps encodes in C; the json.dump Django calls here encodes piece by piece in Python (half the time).
        self.stream.write(json.dumps(self.get_dump_object(obj), **self.json_kwargs) + "\n")
        self._current = None


def _dump(output: Path, using: str) -> None:
    """What `dumpdata --natural-foreign --all` writes (JSON lines), without its query per row and foreign key.

    Keys to users, content types and permissions are written as natural keys (their primary keys differ between
    databases); those rows are joined into the same query, and many-to-many values prefetched, so the dump costs
    a query per thousand rows. The base manager: a manager that hides rows must not drop them from a backup.
    """
    serializer = _LineSerializer()
    with open(output, "w", encoding="utf-8") as stream:
        for model in _data_models():
            opts = model._meta
            fields: list[Any] = [*opts.concrete_fields]  # django-stubs types remote_field as optional
            natural = [
                f.name
                for f in fields
                if f.is_relation and f.many_to_one and hasattr(f.remote_field.model, "natural_key")
            ]
            many_fields: list[Any] = [*opts.local_many_to_many]
            many = [f.name for f in many_fields if f.remote_field.through._meta.auto_created]
            rows = model._base_manager.using(using).order_by(opts.pk.name)
            if natural:
                rows = rows.select_related(*natural)
            if many:
                rows = rows.prefetch_related(*many)
            serializer.serialize(rows.iterator(chunk_size=1000), use_natural_foreign_keys=True, stream=stream)


_MODEL_OF_LINE = re.compile(r'^\{"model": "([^"]+)"')

# Models that moved to another app label since older backups were made: their rows, and the natural keys of their
# content types and permissions, are read under the new label. (The tables kept their names.)
MOVED_LABELS = {"ledgers": ("tasks", ("collectiontask", "tasktarget", "taskevent"))}
_MOVED = [
    (re.compile(rf'("model":\s*"){old}\.({"|".join(models)})"'), rf'\g<1>{new}.\g<2>"')
    for old, (new, models) in MOVED_LABELS.items()
] + [
    (re.compile(rf'"{old}",(\s*)"({"|".join(models)})"'), rf'"{new}",\g<1>"\g<2>"')
    for old, (new, models) in MOVED_LABELS.items()
]


def _relabelled(text: str) -> str:
    """A fixture's text with moved models under their present labels."""
    if not any(f'"{old}' in text for old in MOVED_LABELS):
        return text
    for pattern, replacement in _MOVED:
        text = pattern.sub(replacement, text)
    return text


def _runs(fixture: Path) -> Iterator[list[str]]:
    """The fixture's lines in runs of one model (at most LOAD_BATCH lines each), in file order."""
    run: list[str] = []
    label = None
    with open(fixture, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            line = _relabelled(line)
            match = _MODEL_OF_LINE.match(line)
            line_label = match.group(1) if match else json.loads(line)["model"]
            if run and (line_label != label or len(run) >= LOAD_BATCH):
                yield run
                run = []
            label = line_label
            run.append(line)
    if run:
        yield run


def _load(fixture: Path, using: str = "default", *, flush: bool = False) -> None:
    """Load a fixture written by _dump (or `dumpdata --format jsonl`) in multi-row INSERTs.

    loaddata saves row by row (an UPDATE, then an INSERT): 60 s for the demo district's 35,000 rows on PostgreSQL,
    where the whole restore takes 13 s this way (measured on the 2-core dev machine under load). Rows go
    in raw, as loaddata's do: no save() logic, no signals, auto_now fields keep their backed-up values. A run of
    one model is deserialized only after the models before it are in, so its natural keys find their rows.
    """
    conn = connections[using]
    loaded: set[type[Model]] = set()
    with transaction.atomic(using=using):
        if flush:
            call_command("flush", database=using, interactive=False, verbosity=0)
        if fixture.suffix == ".json":  # a format-1 backup's single JSON array: Django's own loader reads it
            fixture.write_text(_relabelled(fixture.read_text(encoding="utf-8")), encoding="utf-8")
            call_command("loaddata", str(fixture), database=using, verbosity=0)
            return
        with conn.constraint_checks_disabled():
            for lines in _runs(fixture):
                objects = list(serializers.deserialize("jsonl", lines, using=using))
                model = type(objects[0].object)
                fields = model._meta.local_concrete_fields
                rows = [o.object for o in objects]
                size = max(1, min(LOAD_BATCH, conn.ops.bulk_batch_size(fields, rows)))
                manager: Any = model._base_manager.db_manager(using)
                for start in range(0, len(rows), size):
                    # QuerySet._insert(raw=True) is the INSERT that save_base(raw=True) runs, for many rows.
                    manager._insert(rows[start : start + size], fields=fields, using=using, raw=True)
                loaded.add(model)
                _load_many_to_many(model, objects, using)
        conn.check_constraints(table_names=[m._meta.db_table for m in loaded])
        with conn.cursor() as cursor:
            for sql in conn.ops.sequence_reset_sql(no_style(), list(loaded)):
                cursor.execute(sql)


def _load_many_to_many(model: type[Model], objects: list[Any], using: str) -> None:
    for name in objects[0].m2m_data:
        field: Any = model._meta.get_field(name)
        through = field.remote_field.through
        source, target = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
        links = [
            through(**{source: o.object.pk, target: value})
            for o in objects
            for value in o.m2m_data.get(name, [])
        ]
        through._base_manager.db_manager(using).bulk_create(links, batch_size=LOAD_BATCH)


def make_backup(
    target: Path, passphrase: str | None = None, *, username: str = COMMAND_LINE, request: Any = None
) -> BackupResult:
    """Write the backup zip to `target` (0600, written aside and renamed: never a half-written backup). Made from the
    web (`request`), the audit event names the signed-in account; from the command line, `username`."""
    if passphrase is not None:
        check_passphrase(passphrase)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial_name = tempfile.mkstemp(prefix=".dangjian-backup-", suffix=".partial", dir=target.parent)
    os.close(fd)
    partial = Path(partial_name)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "app": "dangjian",
        "version": _version(),
        "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "vendor": connection.vendor,
        "encrypted": bool(passphrase),
        "tables": {},
        "files": {},
    }
    try:
        with tempfile.TemporaryDirectory() as tmp, _writer(partial, passphrase) as zf:
            if connection.vendor == "sqlite":
                copy = Path(tmp) / SQLITE_MEMBER
                connection.ensure_connection()
                dest = sqlite3.connect(copy)
                with dest:
                    connection.connection.backup(dest)
                    present = {
                        n for (n,) in dest.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                    }
                    manifest["tables"] = _count(dest.cursor(), [t for t in data_tables() if t in present])
                dest.close()
                _add_file(zf, copy, SQLITE_MEMBER, manifest)
            else:
                dump = Path(tmp) / DATA_MEMBER
                # One snapshot for the dump and the counts, whatever users save meanwhile.
                try:
                    with transaction.atomic():
                        with connection.cursor() as cursor:
                            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                        _dump(dump, "default")
                        with connection.cursor() as cursor:
                            manifest["tables"] = _count(cursor, data_tables())
                except DatabaseError as exc:
                    raise BackupError(
                        "读取数据库失败。若刚安装了新版本而还没有运行 dangjian init，请先用旧版本备份，"
                        f"或运行 dangjian init 升级数据库后再备份（技术信息：{exc}）。"
                    ) from exc
                _add_file(zf, dump, DATA_MEMBER, manifest)
            media = Path(settings.MEDIA_ROOT)
            if media.exists():
                for path in sorted(media.rglob("*")):
                    if path.is_file() and not path.is_symlink():
                        _add_file(zf, path, MEDIA_PREFIX + path.relative_to(media).as_posix(), manifest)
            zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True))
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    files = sum(1 for name in manifest["files"] if name.startswith(MEDIA_PREFIX))
    result = BackupResult(
        path=target,
        files=files,
        bytes=target.stat().st_size,
        tables=manifest["tables"],
        encrypted=bool(passphrase),
    )
    record(
        Action.BACKUP,
        request=request,
        username=username,
        target=str(target),
        files=result.files,
        bytes=result.bytes,
        encrypted=result.encrypted,
    )
    return result


# --- restore ------------------------------------------------------------------------------------------------


def _open_backup(source: Path, passphrase: str | None) -> pyzipper.AESZipFile:
    if not source.is_file():
        raise BackupError(f"找不到备份文件 {source}。")
    try:
        zf = pyzipper.AESZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"{source} 不是有效的备份文件（无法作为 zip 打开），未恢复任何数据。") from exc
    encrypted = any(info.flag_bits & 0x1 for info in zf.infolist())
    if encrypted and not passphrase:
        zf.close()
        raise BackupError(
            f"备份文件 {source} 已加密，请用 --passphrase-file 口令文件 或环境变量 "
            "DANGJIAN_BACKUP_PASSPHRASE 提供备份口令。"
        )
    if passphrase:
        zf.setpassword(passphrase.encode("utf-8"))
    return zf


@contextmanager
def _reading(name: str) -> Iterator[None]:
    """Say in Chinese which member could not be read back, and why."""
    try:
        yield
    except RuntimeError as exc:  # pyzipper: wrong password
        raise BackupError("备份口令不正确，无法解密备份文件，未恢复任何数据。") from exc
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise BackupError(f"备份文件中的 {name} 已损坏，无法读取，未恢复任何数据。") from exc


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        name.startswith(MEDIA_PREFIX)
        and not path.is_absolute()
        and "\\" not in name
        and all(part not in ("", ".", "..") for part in name.split("/"))
    )


def _read_manifest(zf: pyzipper.AESZipFile, source: Path) -> dict[str, Any] | None:
    names = set(zf.namelist())
    if MANIFEST not in names:
        if not names & {SQLITE_MEMBER, LEGACY_DATA_MEMBER}:
            raise BackupError(
                f"{source} 中既没有数据库也没有备份清单，不是本系统的备份文件，未恢复任何数据。"
            )
        return None
    with _reading(MANIFEST):
        manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
    if not isinstance(manifest, dict) or manifest.get("app") != "dangjian":
        raise BackupError(f"{source} 的备份清单无法识别，不是本系统的备份文件，未恢复任何数据。")
    if int(manifest.get("format", 0)) > FORMAT:
        raise BackupError(
            f"{source} 由更新版本的系统（{manifest.get('version', '')}）生成，请先升级本系统再恢复。"
        )
    return manifest


def _extract_verified(zf: pyzipper.AESZipFile, manifest: dict[str, Any] | None, into: Path) -> int:
    """Extract every member under `into`, refusing unsafe paths and any member whose checksum disagrees."""
    expected: dict[str, dict[str, Any]] = manifest["files"] if manifest else {}
    seen = set()
    files = 0
    for info in zf.infolist():
        name = info.filename
        if name == MANIFEST or name.endswith("/"):
            continue
        if name not in (SQLITE_MEMBER, DATA_MEMBER, LEGACY_DATA_MEMBER) and not _safe_member(name):
            raise BackupError(f"备份文件中有不安全的路径“{name}”，已拒绝恢复，未恢复任何数据。")
        if manifest is not None and name not in expected:
            raise BackupError(f"备份文件中的 {name} 不在备份清单中，备份可能被改动过，未恢复任何数据。")
        out = into / name
        out.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with _reading(name), zf.open(info) as src, open(out, "wb") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
        if manifest is not None and digest.hexdigest() != expected[name]["sha256"]:
            what = "附件" if name.startswith(MEDIA_PREFIX) else "数据库"
            raise BackupError(
                f"{what} {name} 的校验值与备份清单不一致，备份可能已损坏或被改动，未恢复任何数据。"
            )
        seen.add(name)
        files += name.startswith(MEDIA_PREFIX)
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(
            f"备份清单中的 {missing[0]} 不在备份文件中（共缺 {len(missing)} 个），未恢复任何数据。"
        )
    return files


def _target_problem(media: Path) -> str | None:
    """Why the target is not empty, in Chinese; None when it is."""
    if media.is_dir() and any(p.is_file() for p in media.rglob("*")):
        return f"附件目录 {media} 中已有文件"
    if connection.vendor == "sqlite":
        db = Path(settings.DATABASES["default"]["NAME"])
        if not db.exists() or db.stat().st_size == 0:
            return None
    try:
        found = _existing_data()
    except Exception:  # noqa: BLE001 - an unreadable database is not an empty one
        return "数据库无法读取"
    if found:
        return f"数据库中已有数据（表 {found[0]} 有 {found[1]} 行）"
    return None


@contextmanager
def _sqlite_source(db: Path) -> Iterator[str]:
    """A second connection alias over a SQLite backup's database file, to dump it as fixtures."""
    configured = connections.configure_settings(
        {
            "default": dict(connections.settings["default"]),
            _SOURCE_ALIAS: {"ENGINE": "django.db.backends.sqlite3", "NAME": str(db)},
        }
    )
    connections.settings[_SOURCE_ALIAS] = configured[_SOURCE_ALIAS]
    try:
        yield _SOURCE_ALIAS
    finally:
        connections[_SOURCE_ALIAS].close()
        del connections[_SOURCE_ALIAS]
        del connections.settings[_SOURCE_ALIAS]


def _check_counts(manifest: dict[str, Any] | None) -> dict[str, int]:
    tables = [t for t in data_tables() if manifest is None or t in manifest["tables"]]
    with connection.cursor() as cursor:
        counts = _count(cursor, tables)
    if manifest is not None:
        for table, rows in counts.items():
            if rows != manifest["tables"][table]:
                raise BackupError(
                    f"恢复后表 {table} 有 {rows} 行，与备份清单的 {manifest['tables'][table]} 行不一致，"
                    "请检查数据库后用 --force 重新恢复。"
                )
    return counts


def restore_backup(
    source: Path, passphrase: str | None = None, *, force: bool = False, username: str = COMMAND_LINE
) -> RestoreResult:
    """Restore `source` into this data dir and database (see the module's docstring)."""
    media = Path(settings.MEDIA_ROOT)
    with _open_backup(source, passphrase) as zf:
        manifest = _read_manifest(zf, source)
        problem = _target_problem(media)
        if problem and not force:
            raise BackupError(
                f"恢复目标不是空的：{problem}。恢复会覆盖现有数据；确认要覆盖时请加 --force，"
                "或换一个空的数据目录（PostgreSQL：换一个空数据库）。"
            )
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        # Extracted inside the data dir: the attachments then move into place by renaming, not copying.
        with tempfile.TemporaryDirectory(prefix=".restore-", dir=settings.DATA_DIR) as tmp_name:
            tmp = Path(tmp_name)
            files = _extract_verified(zf, manifest, tmp)
            result = _restore_database(tmp, manifest, force=force)
            result.files = files
            if media.exists():
                media.rename(tmp / "replaced-media")  # removed with the temporary directory
            if (tmp / "media").exists():
                (tmp / "media").rename(media)
            else:
                media.mkdir(parents=True, exist_ok=True)
    if manifest is None:
        result.warnings.append("这是旧版本生成的备份（没有备份清单），附件未做校验值核对。")
    record(
        Action.RESTORE,
        username=username,
        target=str(source),
        created=result.created,
        source=result.source_vendor,
        files=files,
        rows=sum(result.tables.values()),
        force=force,
    )
    return result


def _restore_database(tmp: Path, manifest: dict[str, Any] | None, *, force: bool) -> RestoreResult:
    source_vendor = manifest["vendor"] if manifest else ("sqlite" if (tmp / SQLITE_MEMBER).exists() else "")
    created = manifest["created"] if manifest else ""
    if connection.vendor == "sqlite" and (tmp / SQLITE_MEMBER).exists():
        # Same vendor: the file itself, exactly as it was backed up; migrate afterwards upgrades an older one.
        connection.close()
        db = Path(settings.DATABASES["default"]["NAME"])
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        os.replace(tmp / SQLITE_MEMBER, db)
        counts = _check_counts(manifest)
        call_command("migrate", interactive=False, verbosity=0)
        return RestoreResult(files=0, tables=counts, source_vendor=source_vendor, created=created)

    if (tmp / SQLITE_MEMBER).exists():
        fixture = tmp / DATA_MEMBER
        with _sqlite_source(tmp / SQLITE_MEMBER) as alias:
            call_command("migrate", database=alias, interactive=False, verbosity=0)
            _dump(fixture, alias)
        (tmp / SQLITE_MEMBER).unlink()
    elif (tmp / DATA_MEMBER).exists():
        fixture = tmp / DATA_MEMBER
    else:
        fixture = tmp / LEGACY_DATA_MEMBER
    # Tables first, at this version's schema; then the rows, all or nothing (--force: in place of the old ones).
    call_command("migrate", interactive=False, verbosity=0)
    try:
        with transaction.atomic():
            _load(fixture, flush=force)
            counts = _check_counts(manifest)
    except (DeserializationError, DatabaseError) as exc:
        raise BackupError(f"载入备份数据失败，数据库未改动（技术信息：{exc}）。") from exc
    fixture.unlink()
    return RestoreResult(files=0, tables=counts, source_vendor=source_vendor, created=created)
