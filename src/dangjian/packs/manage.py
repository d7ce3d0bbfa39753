"""A district's own packs: list, check, install (all or nothing) and export; uploads are hostile input.

A pack to check or install comes as a folder, a .zip or loose files (the web form). It is first unpacked into a
private temporary folder — a zip bounded in size, member count and uncompressed size, every member name checked
(no absolute path, no `..`, no link, only .toml/.j2/.md/.txt) — then checked together with the installed packs, then
copied to DANGJIAN_DATA_DIR/packs/<name>/ and every pack reloaded in one transaction; on any problem the folder
and the database are left as they were.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
import uuid
import zipfile
from collections.abc import Iterable
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from django.db import transaction

from .loader import (
    BUILTIN,
    LOCAL,
    Pack,
    PackError,
    PackProblems,
    Problem,
    all_problems,
    discover,
    load_all,
    local_dir,
    read_pack,
)

ALLOWED_SUFFIXES = (".toml", ".j2", ".md", ".txt")
MAX_ZIP_BYTES = 5 * 1024 * 1024  # the upload itself
MAX_MEMBERS = 200
MAX_TOTAL_BYTES = 20 * 1024 * 1024  # all members unpacked
MAX_FILE_BYTES = 5 * 1024 * 1024  # one member unpacked
MAX_DEPTH = 4


class PackRefused(PackError):
    """An upload refused before it is read as a pack (its size, its members, their names)."""


@dataclass
class Upload:
    name: str
    stream: BinaryIO
    size: int


def _member_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:  # not marked UTF-8: Windows' zip writes names in the local code page (GBK)
        with suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("gbk")
    return name


def _safe_relative(name: str, where: str) -> PurePosixPath:
    if "\\" in name or "\x00" in name:
        raise PackRefused(f"{where}：文件名“{name}”含有不允许的字符")
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and ":" in path.parts[0]) or ".." in path.parts:
        raise PackRefused(f"{where}：文件“{name}”的路径指向数据包目录之外，已拒绝")
    if len(path.parts) > MAX_DEPTH:
        raise PackRefused(f"{where}：文件“{name}”的目录层次过深（最多 {MAX_DEPTH} 层）")
    if any(part.startswith(".") for part in path.parts):
        raise PackRefused(f"{where}：不接受隐藏文件“{name}”")
    return path


def _suffix_ok(name: str, where: str) -> None:
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise PackRefused(
            f"{where}：文件“{name}”的类型不接受，数据包只能含 {'、'.join(ALLOWED_SUFFIXES)} 文件"
        )


def unpack_zip(stream: BinaryIO, size: int, target: Path, where: str) -> None:
    """Unpack a pack zip into `target`, refusing anything outside the bounds; raises PackRefused."""
    if size > MAX_ZIP_BYTES:
        raise PackRefused(
            f"{where}：文件过大（{size / 1024 / 1024:.1f} MB），数据包最大 {MAX_ZIP_BYTES // 1024 // 1024} MB"
        )
    try:
        archive = zipfile.ZipFile(stream)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise PackRefused(f"{where}：不是有效的 zip 文件") from None
    if len(members) > MAX_MEMBERS:
        raise PackRefused(f"{where}：zip 中有 {len(members)} 个文件，数据包最多 {MAX_MEMBERS} 个")
    declared = sum(m.file_size for m in members)
    if declared > MAX_TOTAL_BYTES:
        raise PackRefused(
            f"{where}：解压后共 {declared / 1024 / 1024:.1f} MB，数据包最多 {MAX_TOTAL_BYTES // 1024 // 1024} MB"
        )
    plan: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    for info in members:
        name = _member_name(info)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise PackRefused(f"{where}：文件“{name}”是符号链接，已拒绝")
        path = _safe_relative(name, where)
        if info.is_dir():
            continue
        _suffix_ok(name, where)
        if info.flag_bits & 0x1:
            raise PackRefused(f"{where}：文件“{name}”已加密，无法读取")
        plan.append((info, path))
    total = 0
    for info, path in plan:
        out = target / Path(*path.parts)
        if out.exists():
            raise PackRefused(f"{where}：文件“{path}”在 zip 中出现了两次")
        out.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            with archive.open(info) as source, open(out, "xb") as sink:
                while chunk := source.read(64 * 1024):
                    # The sizes a zip declares may lie: what is actually unpacked is counted.
                    written += len(chunk)
                    total += len(chunk)
                    if written > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                        raise PackRefused(
                            f"{where}：文件“{path}”解压后过大（单个文件最多 {MAX_FILE_BYTES // 1024 // 1024} MB，"
                            f"全部最多 {MAX_TOTAL_BYTES // 1024 // 1024} MB），疑为压缩炸弹，已拒绝"
                        )
                    sink.write(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
            if isinstance(exc, PackRefused):
                raise
            raise PackRefused(f"{where}：文件“{path}”无法解压") from None


def _pack_root(folder: Path, where: str) -> Path:
    """The folder holding pack.toml: the unpacked folder itself or its one subfolder."""
    if (folder / "pack.toml").is_file():
        return folder
    subs = [p for p in folder.iterdir() if p.is_dir()]
    if (
        len(subs) == 1
        and (subs[0] / "pack.toml").is_file()
        and not [p for p in folder.iterdir() if p.is_file()]
    ):
        return subs[0]
    raise PackRefused(f"{where}：找不到 pack.toml（应在 zip 的最上层，或在唯一的一个文件夹中）")


@contextmanager
def staged(source: Path | None = None, uploads: Iterable[Upload] = ()):
    """A private temporary copy of a pack (folder, zip, or uploaded files) → the folder that holds its pack.toml."""
    with tempfile.TemporaryDirectory(prefix="dangjian-pack-") as tmp:
        work = Path(tmp) / "pack"
        work.mkdir()
        if source is not None:
            where = str(source)
            if source.is_dir():
                if not (source / "pack.toml").is_file():
                    raise PackRefused(f"{where}：目录中没有 pack.toml")
                _copy_folder(source, work, where)
            elif source.is_file() and source.suffix.lower() == ".zip":
                with open(source, "rb") as f:
                    unpack_zip(f, source.stat().st_size, work, where)
            elif source.is_file():
                raise PackRefused(f"{where}：应为数据包目录或 .zip 文件")
            else:
                raise PackRefused(f"{where}：不存在")
        else:
            _save_uploads(list(uploads), work)
        yield _pack_root(work, source.name if source is not None else "上传的文件")


def _copy_folder(source: Path, work: Path, where: str) -> None:
    count = total = 0
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if "__pycache__" in relative.parts or any(p.startswith(".") for p in relative.parts):
            continue
        if path.is_symlink():
            raise PackRefused(f"{where}：文件“{relative}”是符号链接，已拒绝")
        if path.is_dir():
            continue
        _safe_relative(relative.as_posix(), where)
        _suffix_ok(relative.as_posix(), where)
        count += 1
        total += path.stat().st_size
        if count > MAX_MEMBERS or total > MAX_TOTAL_BYTES:
            raise PackRefused(
                f"{where}：数据包过大（最多 {MAX_MEMBERS} 个文件、共 {MAX_TOTAL_BYTES // 1024 // 1024} MB）"
            )
        out = work / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)


def _save_uploads(uploads: list[Upload], work: Path) -> None:
    if not uploads:
        raise PackRefused("没有选择文件")
    if len(uploads) == 1 and uploads[0].name.lower().endswith(".zip"):
        unpack_zip(uploads[0].stream, uploads[0].size, work, uploads[0].name)
        return
    if len(uploads) > MAX_MEMBERS:
        raise PackRefused(f"一次最多上传 {MAX_MEMBERS} 个文件")
    total = 0
    for upload in uploads:
        name = PurePosixPath(
            upload.name.replace("\\", "/")
        ).name  # a browser sends the base name; never a path
        if name.lower().endswith(".zip"):
            raise PackRefused(f"{upload.name}：zip 文件请单独上传")
        _safe_relative(name, upload.name)
        _suffix_ok(name, upload.name)
        total += upload.size
        if upload.size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise PackRefused(f"{upload.name}：文件过大（单个文件最多 {MAX_FILE_BYTES // 1024 // 1024} MB）")
        out = work / name
        if out.exists():
            raise PackRefused(f"{upload.name}：同名文件上传了两次")
        with open(out, "xb") as sink:
            shutil.copyfileobj(upload.stream, sink)
    if not (work / "pack.toml").is_file():
        raise PackRefused("上传的文件中没有 pack.toml")


# --- check and install ---------------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def _with(installed: list[Pack], candidate: Pack) -> list[Pack]:
    """The installed packs with the candidate in place of a local pack of the same name."""
    kept = [p for p in installed if not (p.name == candidate.name and p.source == LOCAL)]
    return sorted([*kept, candidate], key=lambda p: (p.order, p.name))


def check_folder(folder: Path, display: str) -> tuple[Pack | None, list[Problem]]:
    """Every problem of the pack in `folder`, checked with the installed packs and loaded in a transaction that
    is rolled back (so a formula, a template or a workflow is checked as loading would)."""
    candidate, problems = read_pack(folder, LOCAL, display)
    if candidate is None:
        return candidate, problems
    # A file that does not parse is one problem; the others are still checked, so every problem shows at once.
    installed = discover(strict=False)
    together = _with(installed, candidate)
    problems += [
        p for p in all_problems(together) if p.file.startswith(f"{display}/") or candidate.name in p.message
    ]
    if problems:
        return candidate, problems
    try:
        with transaction.atomic():
            load_all(packs=together)
            raise _Rollback
    except _Rollback:
        pass
    except PackProblems as exc:
        problems = exc.problems
    except PackError as exc:
        problems = [Problem(display, None, "", str(exc))]
    return candidate, problems


def _renamed(pack: Pack, folder: Path) -> Pack:
    again, _ = read_pack(folder, LOCAL)
    return again if again is not None else pack


def install(
    folder: Path, display: str, *, actor: Any = None, request: Any = None
) -> tuple[Pack, dict[str, int]]:
    """Check the pack in `folder` and install it into DATA_DIR/packs/<name>/, reloading every pack: all or nothing.
    Raises PackProblems (every problem) or PackError."""
    candidate, problems = check_folder(folder, display)  # every problem at once, before anything moves
    if candidate is not None:
        builtin = {p.name for p in discover(strict=False) if p.source == BUILTIN}
        if candidate.name in builtin:
            problems = problems + [Problem(f"{display}/pack.toml", None, "pack.name",
                                f"数据包名称“{candidate.name}”是内置数据包的名称，请换一个名称")]  # fmt: skip
    if candidate is None or problems:
        raise PackProblems(problems, f"数据包有 {len(problems)} 处问题，没有安装")
    root = local_dir()
    root.mkdir(parents=True, exist_ok=True)
    final = root / candidate.name
    token = uuid.uuid4().hex[:12]
    incoming = root / f".incoming-{token}"
    old = root / f".old-{token}"
    shutil.copytree(folder, incoming)
    moved_old = False
    try:
        if final.exists():
            os.replace(final, old)
            moved_old = True
        os.replace(incoming, final)
        with transaction.atomic():
            counts = load_all()
            installed = _renamed(candidate, final)
            _audit_install(installed, counts.get(installed.name, {}), actor, request, replaced=moved_old)
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        if moved_old:
            os.replace(old, final)
        shutil.rmtree(incoming, ignore_errors=True)
        raise
    if moved_old:
        shutil.rmtree(old, ignore_errors=True)
    return installed, counts.get(installed.name, {})


def _audit_install(pack: Pack, counts: dict[str, int], actor: Any, request: Any, *, replaced: bool) -> None:
    from dangjian.audit.log import Action, record

    from .loader import fingerprint

    record(
        Action.PACK_CHANGE,
        request=request,
        user=actor,
        username="命令行" if actor is None and request is None else "",
        target=f"数据包 {pack.name}",
        change=("网页上传" if request is not None else "命令行")
        + ("，替换已安装的同名数据包" if replaced else "，安装"),
        version=pack.version,
        counts=counts,
        fingerprint=fingerprint(pack),
    )


# --- list and export -----------------------------------------------------------------------------------------


@dataclass
class PackInfo:
    name: str
    label: str
    version: str
    source: str
    path: Path
    owns: dict[str, int]
    extends: list[str]

    @property
    def owns_text(self) -> str:
        names = {"org_kinds": "组织类别", "ledger_types": "台账", "indicators": "指标", "checks": "核对规则",
                 "templates": "报告模板", "parameters": "报告参数"}  # fmt: skip
        return "、".join(f"{names.get(k, k)} {v} 个" for k, v in self.owns.items() if v) or "（无）"


def describe(pack: Pack) -> PackInfo:
    owns = {
        k: len(pack.data.get(k, []))
        for k in ("org_kinds", "ledger_types", "parameters", "indicators", "checks", "templates")
    }
    extends = []
    for item in pack.data.get("extends", []):
        fields = [f.get("code", "") for f in item.get("fields", []) if isinstance(f, dict)]
        choices = item.get("choices", {}) if isinstance(item.get("choices"), dict) else {}
        parts = []
        if fields:
            parts.append(f"字段 {'、'.join(fields)}")
        for code, values in choices.items():
            parts.append(f"{code} 的可选项 {'、'.join(map(str, values))}")
        extends.append(f"{item.get('ledger')}（增加{'；'.join(parts)}）")
    return PackInfo(pack.name, pack.label, pack.version, pack.source_label, pack.path, owns, extends)


def installed_packs() -> tuple[list[PackInfo], list[Problem]]:
    """Every pack found (built-in, then local) and the problems that keep any of them from reading."""
    from .loader import pack_folders

    problems = []
    for folder in pack_folders(local_dir()):
        problems += read_pack(folder, LOCAL)[1]
    return [describe(p) for p in discover(strict=False)], problems


def find(name: str) -> Pack | None:
    return next((p for p in discover(strict=False) if p.name == name), None)


def export_zip(pack: Pack) -> bytes:
    """The pack's files (those an install accepts) in a zip, under a folder named after the pack."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(pack.path.rglob("*")):
            relative = path.relative_to(pack.path)
            if (
                path.is_file()
                and not path.is_symlink()
                and path.suffix.lower() in ALLOWED_SUFFIXES
                and "__pycache__" not in relative.parts
                and not any(p.startswith(".") for p in relative.parts)
            ):
                archive.write(path, f"{pack.name}/{relative.as_posix()}")
    return buffer.getvalue()
