"""The `dangjian` command. Thin: it parses arguments, sets Django up, and calls the apps."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {}


def command(fn: Command) -> Command:
    COMMANDS[fn.__name__.removeprefix("cmd_")] = fn
    return fn


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    import django

    django.setup()


@command
def cmd_init(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from dangjian.packs.loader import PackError, PackProblems, load_all

    call_command("migrate", interactive=False, verbosity=0)
    try:
        loaded = load_all()
    except PackError as exc:
        # All or nothing: no pack is (re)loaded; the definitions stay as they were before this init.
        problems = [f"  - {p}" for p in exc.problems] if isinstance(exc, PackProblems) else [f"  - {exc}"]
        print(
            "数据包有误，全部数据包都没有载入（数据库中的定义保持不变）：",
            *problems,
            sep="\n",
            file=sys.stderr,
        )
        print(
            "请改正或移走有问题的本地数据包（dangjian pack check 目录 可先检查），再运行 dangjian init。",
            file=sys.stderr,
        )
        return 1
    for name, counts in loaded.items():
        summary = "，".join(f"{k} {v}" for k, v in counts.items())
        print(f"已载入数据包 {name}：{summary}")
    if args.demo:
        from dangjian.demo.generator import build_demo
        from dangjian.records.services import refresh_statistics

        result = build_demo(scale=args.scale, seed=args.seed)
        refresh_statistics(
            every_table=True
        )  # the first report and records page after the load plan as well as the tenth
        print(result.summary())
    return 0


@command
def cmd_serve(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from dangjian.web.middleware import DEMO_WARNING, demo_database_in_use, note_bind_address
    from dangjian.wsgi import application

    call_command("collectstatic", interactive=False, verbosity=0)
    if note_bind_address(args.host) and demo_database_in_use():
        # Every page shows the same warning in red (DemoWarningMiddleware); the console says it first.
        line = "！" * 40
        print(
            f"{line}\n警告：{DEMO_WARNING}。\n当前监听 {args.host}，本机以外的计算机也能访问。\n{line}",
            file=sys.stderr,
            flush=True,
        )
    print(f"党建台账已启动：http://{args.host}:{args.port}/  （Ctrl+C 停止）", flush=True)
    proxy: dict[str, object] = {}
    if args.trusted_proxy:
        # Behind nginx: REMOTE_ADDR (audit log, login limits per address) and https come from the proxy's headers,
        # believed only from that address; the same headers from anyone else are dropped.
        proxy = dict(
            trusted_proxy=args.trusted_proxy,
            trusted_proxy_count=1,
            trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
            clear_untrusted_proxy_headers=True,
        )
    from dangjian.web.server import default_workers, serve

    workers = args.workers or default_workers()
    serve(
        application,
        host=args.host,
        port=args.port,
        workers=workers,
        threads=args.threads,
        ident="dangjian",
        **proxy,
    )
    return 0


def _passphrase(args: argparse.Namespace) -> str | None:
    """The backup passphrase: --passphrase-file (first line), else DANGJIAN_BACKUP_PASSPHRASE, else none."""
    from dangjian.backup import BackupError

    if args.passphrase_file:
        try:
            with open(args.passphrase_file, encoding="utf-8") as f:
                return f.readline().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise BackupError(f"无法读取口令文件 {args.passphrase_file}。") from exc
    return os.environ.get("DANGJIAN_BACKUP_PASSPHRASE") or None


@command
def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dangjian.backup import BackupError, default_name, make_backup

    try:
        result = make_backup(Path(args.output or default_name()), _passphrase(args))
    except BackupError as exc:
        print(f"备份失败：{exc}", file=sys.stderr)
        return 1
    rows = sum(result.tables.values())
    print(
        f"备份完成：{result.path}（{'已加密，' if result.encrypted else ''}数据库 {len(result.tables)} 个表 "
        f"{rows} 行 + {result.files} 个附件，共 {result.bytes / 1024 / 1024:.1f} MB）"
    )
    return 0


@command
def cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dangjian.backup import BackupError, restore_backup

    try:
        result = restore_backup(Path(args.file), _passphrase(args), force=args.force)
    except BackupError as exc:
        print(f"恢复失败：{exc}", file=sys.stderr)
        return 1
    from dangjian.records.services import refresh_statistics

    refresh_statistics(every_table=True)  # a restored PostgreSQL database has no planner statistics yet
    for warning in result.warnings:
        print(f"注意：{warning}", file=sys.stderr)
    print(
        f"恢复完成：{args.file}（{result.created} 的备份）→ 数据库 {len(result.tables)} 个表 "
        f"{sum(result.tables.values())} 行，{result.files} 个附件；行数和附件校验值与备份清单一致。"
    )
    return 0


@command
def cmd_manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["dangjian manage", *args.rest])
    return 0


def _as_viewer(args: argparse.Namespace, run: Command) -> int:
    """Run a report or check command for its actor: refused for an org outside the actor's scope, and every figure
    evaluated as the actor may have it (保密规则: the system actor, like any outsider, gets only the aggregates a
    confidential ledger may give)."""
    from dangjian.indicators.engine import viewing_as
    from dangjian.orgs import access
    from dangjian.orgs.models import Organization

    who = getattr(args, "actor", None) or access.SYSTEM
    org = Organization.objects.filter(code=args.org).first()
    if org is not None and not access.scope(who).may_run_report(org):
        print(f"错误：账号“{who.get_username()}”无权查看“{org.name}”的报告和核对结果", file=sys.stderr)
        return 2
    with viewing_as(who):
        return run(args)


@command
def cmd_report(args: argparse.Namespace) -> int:
    from dangjian.reports.cli import report

    return _as_viewer(args, report)


@command
def cmd_check(args: argparse.Namespace) -> int:
    from dangjian.indicators.cli import check

    return _as_viewer(args, check)


@command
def cmd_verify(args: argparse.Namespace) -> int:
    from dangjian.reports.fromword import verify_command

    return _as_viewer(args, verify_command)


def cmd_template_from_docx(args: argparse.Namespace) -> int:
    from dangjian.reports.fromword import template_from_docx_command

    return _as_viewer(args, template_from_docx_command)


COMMANDS["template-from-docx"] = cmd_template_from_docx


@command
def cmd_ledgers(args: argparse.Namespace) -> int:
    from dangjian.records.cli import ledgers

    return ledgers(args)


@command
def cmd_template(args: argparse.Namespace) -> int:
    from dangjian.spreadsheets.cli import template

    return template(args)


@command
def cmd_import(args: argparse.Namespace) -> int:
    from dangjian.spreadsheets.cli import import_

    return import_(args)


@command
def cmd_export(args: argparse.Namespace) -> int:
    from dangjian.spreadsheets.cli import export

    return export(args)


@command
def cmd_overdue(args: argparse.Namespace) -> int:
    from dangjian.lists.workflow import overdue_command

    code, output = overdue_command(args.org, args.format, actor=getattr(args, "actor", None))
    print(output, file=sys.stdout if code == 0 else sys.stderr)
    return code


@command
def cmd_remind(args: argparse.Namespace) -> int:
    from dangjian.web.reminders import remind_command

    code, output = remind_command(args.date, args.days)
    print(output, file=sys.stdout if code == 0 else sys.stderr)
    return code


@command
def cmd_pack(args: argparse.Namespace) -> int:
    from dangjian.packs.cli import pack

    return pack(args)


@command
def cmd_token(args: argparse.Namespace) -> int:
    from dangjian.api.cli import token

    return token(args)


AS_HELP = (
    "以该账号的权限执行（看到和写入的与该账号在网页上相同）；不填则以系统身份执行："
    "可见全部单位，但不显示涉密台账的记录，敏感字段一律显示为＊＊"
)
ACTOR_COMMANDS = (
    "report",
    "check",
    "verify",
    "template-from-docx",
    "ledgers",
    "template",
    "import",
    "export",
    "overdue",
)


def _actor_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as", dest="as_user", metavar="USERNAME", help=AS_HELP)


def resolve_actor(args: argparse.Namespace) -> str:
    """Set `args.actor` from `--as USERNAME` (None: the system actor). Returns why it cannot be used ("" if it can)."""
    args.actor = None
    username = getattr(args, "as_user", None)
    if username is None:
        return ""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        return f"账号“{username}”不存在"
    if not user.is_active:
        return f"账号“{username}”已停用"
    args.actor = user
    return ""


def _flip_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--flip",
        action="append",
        metavar="ID",
        help="改判一处候选（编号见 --format json 的 id 和 not_slots）：把识别为数字的当作原文，或把固定写法当作数字；可重复",
    )


PERIOD_HELP = (
    "报告期：年度 2019、半年 2019H1、季度 2019Q1、月份 2019-03 或起止日期 2019-01-01..2019-06-30"
    "（也可写 2019年上半年、2019年第一季度、2019年3月）"
)


def _period_options(p: argparse.ArgumentParser) -> None:
    """`--period P` or its shorthand `--year YYYY`, exactly one; both read by the one parser (indicators.periods)."""
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--period", metavar="P", help=PERIOD_HELP)
    group.add_argument("--year", metavar="YYYY", help="年度，如 2019（即 --period 2019）")


# argparse's own words (usage, headings, errors) in Chinese: it ships no translation, and looks each message up through
# the module's `_` when it is needed, so the command line's messages are the Chinese ones below; any other message is
# left as argparse has it.
ARGPARSE_WORDS = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "the following arguments are required: %s": "缺少必填参数：%s",
    "one of the arguments %s is required": "参数 %s 须填写其中一个",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "invalid choice: %(value)r (choose from %(choices)s)": "%(value)r 不是可用的选项（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "%(value)r 不是有效的值（应为 %(type)s）",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "expected one argument": "需要填写一个值",
    "expected at most one argument": "最多填写一个值",
    "expected at least one argument": "至少填写一个值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确，可能是 %(matches)s",
}


def _argparse_in_chinese() -> None:
    english = argparse._  # type: ignore[attr-defined]
    if getattr(english, "chinese", False):
        return

    def chinese(message: str) -> str:
        return ARGPARSE_WORDS.get(message) or english(message)

    chinese.chinese = True  # type: ignore[attr-defined]
    argparse._ = chinese  # type: ignore[attr-defined]


def build_parser() -> argparse.ArgumentParser:
    _argparse_in_chinese()
    parser = argparse.ArgumentParser(prog="dangjian", description="党建台账命令行工具")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令")

    p = sub.add_parser("init", help="创建/升级数据库，载入数据包，可选生成示范区数据")
    p.add_argument("--demo", action="store_true", help="生成示范区（代码 demo）演示数据")
    p.add_argument(
        "--scale",
        choices=["S", "M", "L", "P"],
        default="S",
        help="演示数据规模：S 区、M 市（10倍）、L 省（100倍）、P 大省（M 的单位再复制 32 份，约 500 万条记录，供性能测试）",
    )
    p.add_argument("--seed", type=int, default=2019, help="随机种子（相同种子生成相同数据）")

    p = sub.add_parser("serve", help="以 WSGI 服务器（waitress）运行网站")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        help="工作进程数（默认每个 CPU 核两个，最多 8 个；1 为单进程）",
    )
    p.add_argument("--threads", type=int, default=8, help="每个工作进程的线程数")
    p.add_argument(
        "--trusted-proxy",
        metavar="ADDR",
        help="反向代理（nginx）的地址，如 127.0.0.1：从它转来的 X-Forwarded-For/-Proto 给出真实客户端地址和 https",
    )

    p = sub.add_parser("report", help="生成报告：docx / html / json / txt")
    p.add_argument("--template", required=True, help="模板代码，如 seed2019")
    p.add_argument("--org", required=True, help="组织代码，如 demo")
    _period_options(p)
    p.add_argument("--format", choices=["docx", "html", "json", "txt"], default="docx")
    p.add_argument("-o", "--output", required=True, help="输出文件路径")

    p = sub.add_parser("check", help="运行核对规则；有错误级规则不通过时退出码为 1")
    p.add_argument("--org", required=True, help="组织代码")
    _period_options(p)
    p.add_argument("--template", help="只运行该模板所在数据包的规则（可选）")

    # 核稿与从 Word 生成模板 (issue 11)
    p = sub.add_parser(
        "verify", help="核稿：逐个核对文稿（.docx/.txt）中的数字和名称与台账是否一致；有不一致时退出码为 1"
    )
    p.add_argument("file", help="文稿文件（.docx 或 UTF-8/GBK 文本）")
    p.add_argument("--org", required=True, help="组织代码，如 demo")
    _period_options(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    _flip_option(p)
    p = sub.add_parser(
        "template-from-docx", help="从 Word 报告生成模板数据包：数字和名称换成指标，其余文字照录"
    )
    p.add_argument("file", help="Word 报告（.docx，也可为文本）")
    p.add_argument("--org", required=True, help="组织代码：按该组织该报告期的台账数值匹配指标")
    _period_options(p)
    p.add_argument(
        "-o", "--output", required=True, help="数据包目录（目录名即数据包和模板的名称，如 mydistrict2019）"
    )
    _flip_option(p)

    sub.add_parser("ledgers", help="列出全部台账的代码和名称")

    p = sub.add_parser("template", help="生成台账的 Excel 导入模板")
    p.add_argument("ledger", help="台账代码，如 study_activity")
    p.add_argument("-o", "--output", required=True, help="输出文件路径（.xlsx）")

    p = sub.add_parser("import", help="从 Excel 导入台账记录（全部成功或全部不导入）；有错误时退出码为 1")
    p.add_argument("ledger", help="台账代码")
    p.add_argument("file", help="Excel 文件（.xlsx、.xls、.ods）")
    p.add_argument("--org", help="默认填报单位的组织代码（表格中未写填报单位的行使用）")
    p.add_argument("--sheet", help="要导入的工作表名称（默认：第一个表头能认出的工作表）")
    dup = p.add_mutually_exclusive_group()
    dup.add_argument("--skip-duplicates", action="store_true", help="跳过疑似重复的记录")
    dup.add_argument("--allow-duplicates", action="store_true", help="疑似重复的记录也导入")

    p = sub.add_parser("export", help="把台账记录导出为 Excel（表头与导入模板相同）")
    p.add_argument("ledger", help="台账代码")
    p.add_argument("--org", help="只导出该组织及其下级的记录")
    p.add_argument("--year", type=int, help="只导出该年度的记录")
    p.add_argument("-o", "--output", required=True, help="输出文件路径（.xlsx）")

    p = sub.add_parser("overdue", help="列出逾期未销号的清单事项（每日提醒用），退出码为 0")
    p.add_argument("--org", required=True, help="组织代码：列出该组织及其下级的事项")
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = sub.add_parser("remind", help="生成每日提醒（站内消息，已配置邮件时同时发邮件），供 cron 每日运行")
    p.add_argument("--days", type=int, default=7, help="提醒多少天内到期的事项（默认 7，0 到 90）")
    p.add_argument("--date", help="按该日期生成（YYYY-MM-DD，默认今天）")

    p = sub.add_parser("backup", help="备份数据库和附件到一个 zip 文件（可用口令加密）")
    p.add_argument("-o", "--output", help="备份文件路径（默认在当前目录按时间命名）")
    p.add_argument(
        "--passphrase-file",
        help="口令文件（第一行为口令，至少 12 个字符）：备份以 AES-256 加密；也可用环境变量 DANGJIAN_BACKUP_PASSPHRASE",
    )

    p = sub.add_parser("restore", help="把备份恢复到空的数据目录或空数据库（先核对附件校验值）")
    p.add_argument("file", help="备份文件（dangjian backup 生成的 zip）")
    p.add_argument("--force", action="store_true", help="目标已有数据时也恢复（覆盖现有数据和附件）")
    p.add_argument("--passphrase-file", help="加密备份的口令文件；也可用环境变量 DANGJIAN_BACKUP_PASSPHRASE")

    p = sub.add_parser("pack", help="数据包：列出、检查、安装（到数据目录 packs/）、导出")
    packs = p.add_subparsers(dest="pack_command", required=True, metavar="操作")
    packs.add_parser("list", help="列出全部数据包（内置和本地）及其定义和扩展")
    p = packs.add_parser("check", help="检查数据包目录或 .zip，一次列出全部问题；有问题时退出码为 1")
    p.add_argument("path", help="数据包目录（含 pack.toml）或 .zip 文件")
    p = packs.add_parser("install", help="检查后安装到数据目录的 packs/ 并载入（全部成功或不做任何改变）")
    p.add_argument("path", help="数据包目录（含 pack.toml）或 .zip 文件")
    p = packs.add_parser("export", help="把数据包的文件导出为 zip")
    p.add_argument("key", help="数据包名称，如 seed2019")
    p.add_argument("-o", "--output", required=True, help="输出文件路径（.zip）")

    p = sub.add_parser("token", help="API 令牌：为账号创建令牌（只打印一次，系统只存摘要）")
    token = p.add_subparsers(dest="token_command", required=True, metavar="操作")
    p = token.add_parser("create", help="为账号创建一个新令牌，打印到标准输出")
    p.add_argument("username", help="账号的用户名")
    p.add_argument("--days", type=int, help="有效天数（不填为长期有效，直到吊销）")
    p.add_argument("--name", help="用途，如“智慧社区平台”（显示在该账号的令牌列表中）")

    for name in ACTOR_COMMANDS:
        _actor_option(sub.choices[name])

    p = sub.add_parser("manage", help="运行 Django 管理命令，如 createsuperuser")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


CLI_URLCONF = "dangjian.cli_urls"
SERVES_PAGES = {
    "serve",
    "manage",
}  # the whole site, and Django's own commands (check, show_urls …), as configured


def main(argv: Sequence[str] | None = None) -> int:
    from dangjian.datadir import private_umask, tighten_or_warn

    private_umask()  # before the settings create the data dir and the secret key
    args = build_parser().parse_args(argv)
    setup_django()
    from django.conf import settings

    # Data dirs made by older versions are tightened: every file inside them by init (run at every upgrade).
    tighten_or_warn(settings.DATA_DIR, deep=args.command == "init")
    problem = resolve_actor(args)
    if problem:
        print(f"错误：{problem}（--as）", file=sys.stderr)
        return 2
    if args.command in SERVES_PAGES:
        return COMMANDS[args.command](args)
    from django.urls import set_urlconf

    # A command's links (a report's evidence) resolve against the few patterns they can name, not the whole site:
    # loading every page's views is most of a command's start-up (dangjian/cli_urls.py, bench/bench_startup.py).
    set_urlconf(CLI_URLCONF)
    try:
        return COMMANDS[args.command](args)
    finally:
        set_urlconf(None)  # back to the site's (tests run commands in-process, then ask for pages)


if __name__ == "__main__":
    sys.exit(main())
