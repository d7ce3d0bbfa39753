"""`dangjian pack list | check PATH | install PATH | export KEY -o PATH` — never a traceback, always Chinese."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .loader import PackError, PackProblems, Problem


def _print_problems(title: str, problems: list[Problem]) -> None:
    print(f"{title}，共 {len(problems)} 处问题：", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)


def pack(args: argparse.Namespace) -> int:
    try:
        return {"list": _list, "check": _check, "install": _install, "export": _export}[args.pack_command](
            args
        )
    except PackProblems as exc:
        _print_problems("数据包有误", exc.problems)
        return 1
    except PackError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"错误：{exc.filename or ''} {exc.strerror}", file=sys.stderr)
        return 1


def _list(args: argparse.Namespace) -> int:
    from .manage import installed_packs

    infos, problems = installed_packs()
    for info in infos:
        version = f" {info.version}" if info.version else ""
        print(f"{info.name}{version}  {info.label}  [{info.source}]  {info.path}")
        print(f"    定义：{info.owns_text}")
        for extension in info.extends:
            print(f"    扩展：{extension}")
    if problems:
        _print_problems("以下本地数据包无法读取", problems)
        return 1
    return 0


def _check(args: argparse.Namespace) -> int:
    from .manage import check_folder, staged

    source = Path(args.path)
    with staged(source) as folder:
        candidate, problems = check_folder(
            folder, source.stem if source.suffix.lower() == ".zip" else source.name
        )
    if problems:
        _print_problems(f"数据包 {source} 检查未通过", problems)
        return 1
    assert candidate is not None
    print(f"数据包 {candidate.name}（{candidate.label}）检查通过，可以安装。")
    return 0


def _install(args: argparse.Namespace) -> int:
    from .manage import describe, staged
    from .manage import install as install_pack

    source = Path(args.path)
    with staged(source) as folder:
        installed, counts = install_pack(
            folder, source.stem if source.suffix.lower() == ".zip" else source.name
        )
    info = describe(installed)
    print(f"已安装数据包 {installed.name}（{installed.label}）到 {installed.path}：{info.owns_text}")
    for extension in info.extends:
        print(f"  扩展：{extension}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .manage import export_zip, find

    found = find(args.key)
    if found is None:
        print(f"错误：找不到数据包“{args.key}”（dangjian pack list 列出全部数据包）", file=sys.stderr)
        return 2
    output = Path(args.output)
    output.write_bytes(export_zip(found))
    print(f"已导出数据包 {found.name} 到 {output}")
    return 0
