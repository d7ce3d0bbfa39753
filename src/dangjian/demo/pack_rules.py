"""Demo records that packs declare as data (`[[demo]]`, see packs/handlers_demo.py): one record per org a rule
names, created through the write service like every demo record. Any pack — built-in or the district's own — can
bring demo rows this way without a line of Python."""

from __future__ import annotations

from typing import Any

from dangjian.orgs.models import Organization
from dangjian.packs.handlers_demo import DemoRule, ledgers_by_code, parse_rules
from dangjian.packs.loader import discover

from .generator import DemoRecord, demo_record, save_new


def _orgs(rule: DemoRule, root: Organization) -> list[Organization]:
    """The demo orgs a rule names, in the tree's order; a code that is not in the demo tree is an error."""
    tree = Organization.objects.filter(path__startswith=root.path)
    named = list(tree.filter(code__in=rule.orgs))
    missing = sorted(set(rule.orgs) - {o.code for o in named})
    if missing:
        raise ValueError(
            f"数据包 {rule.pack} 的演示数据规则“{rule.id}”：示范区中没有组织 {'、'.join(missing)}"
        )
    if rule.org_kinds:
        named += list(tree.filter(kinds__code__in=rule.org_kinds).exclude(code__in=rule.orgs).distinct())
    named.sort(key=lambda o: o.path)
    return named[: rule.limit] if rule.limit else named


def _filled(value: Any, org: Organization) -> Any:
    return value.replace("{org}", org.short_name or org.name) if isinstance(value, str) else value


def build(groups: dict[str, list[Organization]], seed: int, scale: int) -> int:
    """Every pack's demo rules, pack by pack in loading order. Returns the records created."""
    root = groups["root"][0]
    ledgers = ledgers_by_code()
    wanted: list[DemoRecord] = []
    for pack in discover():
        rules, errors = parse_rules(pack.data.get("demo", []), pack.name, ledgers)
        if errors:
            raise ValueError(f"数据包 {pack.name} 的演示数据有误：" + "；".join(errors))
        for rule in rules:
            for n, org in enumerate(_orgs(rule, root)):
                values, status = rule.entry(n)
                values = {code: _filled(v, org) for code, v in values.items()}
                key = f"demo:{pack.name}:{rule.id}:{org.code}"
                wanted.append(demo_record(rule.ledger, org, values, key, status))
    return save_new(wanted)
