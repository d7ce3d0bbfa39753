"""`dangjian report --template KEY --org CODE --period P|--year YYYY --format docx|html|json|txt -o PATH`.

P is any period the one parser reads (indicators.periods): 2019, 2019H1, 2019Q1, 2019-03, 2019-01-01..2019-06-30."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from dangjian.audit.log import COMMAND_LINE, Action, record
from dangjian.orgs.models import Organization

from . import values as sources
from .models import ReportTemplate
from .render_docx import render_docx
from .render_html import render_html, site_url
from .render_json import render_json, render_txt
from .templating import TemplateRefused, render

EXIT_USAGE = 2


def os_user() -> str:
    """The command line has no signed-in user: the audit log names the operating-system account instead."""
    try:
        return f"{getpass.getuser()}（{COMMAND_LINE}）"
    except (OSError, KeyError):  # no such account name in a container
        return f"（{COMMAND_LINE}）"


def fail(message: str) -> int:
    """A usage problem told in Chinese; the exit code for it."""
    print(f"错误：{message}", file=sys.stderr)
    return EXIT_USAGE


def org_and_period(args: argparse.Namespace) -> tuple[Organization, Any] | int:
    """A command's `--org` and `--period`/`--year`, or the exit code after a message naming what is wrong."""
    org = Organization.objects.filter(code=args.org).first()
    if org is None:
        return fail(f"组织代码“{args.org}”不存在")
    try:
        return org, sources.choose_period(getattr(args, "year", None), getattr(args, "period", None))
    except sources.PeriodError as exc:
        return fail(str(exc))


def report(args: argparse.Namespace) -> int:
    template = ReportTemplate.objects.filter(key=args.template).first()
    if template is None:
        known = (
            "、".join(ReportTemplate.objects.values_list("key", flat=True))
            or "（无，请先运行 dangjian init）"
        )
        return fail(f"报告模板“{args.template}”不存在。现有模板：{known}")
    found = org_and_period(args)
    if isinstance(found, int):
        return found
    org, period = found
    try:
        rendered = render(template, org, period)
    except TemplateRefused as exc:
        return fail(f"报告模板“{template.key}”无法使用：\n{exc}")
    fmt = args.format
    content: bytes | str
    if fmt == "docx":
        content = render_docx(rendered)
    elif fmt == "html":
        content = render_html(rendered, site_url())
    elif fmt == "json":
        content = render_json(rendered) + "\n"
    else:
        content = render_txt(rendered)
    output = Path(args.output)
    try:
        if isinstance(content, bytes):
            output.write_bytes(content)
        else:
            output.write_text(content, encoding="utf-8")
    except OSError as exc:
        return fail(f"无法写入文件 {output}：{exc.strerror}")
    record(
        Action.EXPORT,
        user=getattr(
            args, "actor", None
        ),  # the --as account; without it the operating-system account is named
        username=os_user(),
        target=f"报告 {template.key} {org.code} {period.code}",
        format=fmt,
        via="命令行 dangjian report",
        output=str(output.resolve()),
    )
    failed = rendered.failed_checks()
    print(
        f"已生成 {output}（{period.label}，{len(rendered.slots)} 处数字和名称，核对规则 {len(rendered.checks)} 条，未通过 {len(failed)} 条）"
    )
    for check in failed:
        level = "错误" if check.level == "error" else "警告"
        print(f"  [{level}] {check.message}", file=sys.stderr)
    return 0
