"""`dangjian check --org CODE --period P|--year YYYY [--template KEY]`: print every rule; exit 1 when an error fails.

P is any period the one parser reads (periods.py): 2019, 2019H1, 2019Q1, 2019-03, 2019-01-01..2019-06-30."""

from __future__ import annotations

import argparse
import sys

from django.apps import apps

from dangjian.orgs.models import Organization

from .engine import run_checks
from .models import Check
from .periods import PeriodError, parse_choice

LEVELS = {"error": "错误", "warning": "警告"}


def template_pack(key: str) -> str | None:
    """The pack a report template comes from. Templates belong to the reports stage (to our right), so it is
    looked up through the app registry rather than imported; a pack of that name is accepted too."""
    if Check.objects.filter(pack=key).exists():
        return key
    if apps.is_installed("dangjian.reports"):
        for model in apps.get_app_config("reports").get_models():
            names = {f.name for f in model._meta.get_fields()}
            if {"key", "pack"} <= names:
                found = model._default_manager.filter(key=key).values_list("pack", flat=True).first()
                if found is not None:
                    return found
    return None


def check(args: argparse.Namespace) -> int:
    org = Organization.objects.filter(code=args.org).first()
    if org is None:
        print(f"找不到组织代码“{args.org}”", file=sys.stderr)
        return 2
    pack = None
    if getattr(args, "template", None):
        pack = template_pack(args.template)
        if pack is None:
            print(f"找不到报告模板“{args.template}”", file=sys.stderr)
            return 2
    try:
        period = parse_choice(getattr(args, "year", None), getattr(args, "period", None))
    except PeriodError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    results = run_checks(org, period, pack=pack)
    print(f"{org.name} · {period.label} 核对结果：")
    if not results:
        print("没有核对规则。")
        return 0
    for r in results:
        text = r.label if r.ok else f"{r.label}：{r.message}"
        print(f"{'✔' if r.ok else '✘'} [{LEVELS.get(r.level, r.level)}] {text}")
    errors = sum(1 for r in results if not r.ok and r.level == "error")
    warnings = sum(1 for r in results if not r.ok and r.level != "error")
    passed = sum(1 for r in results if r.ok)
    print(f"共 {len(results)} 条规则：通过 {passed} 条，错误 {errors} 条，警告 {warnings} 条。")
    return 1 if errors else 0
