"""The `demo` section: demo records a pack brings along, for the demo district of `dangjian init --demo` only.

A plain load never writes a record (a district's real database gets no demo rows): loading checks the rules and
counts them; `dangjian.demo.pack_rules` turns them into records when the demo district is built. A rule makes one
record for each org it names, in the tree's order:

    [[demo]]
    id = "review-2019"                      # unique in the pack; the records' keys are demo:<pack>:<id>:<org code>
    ledger = "secretary_review"             # a ledger code (this pack's or another's)
    org_kinds = ["street"]                  # the demo orgs of these kinds …
    orgs = ["demo"]                         # … and/or these org codes
    limit = 8                               # optional: at most this many orgs
    values = { date = "2019-01-15", post = "街道党工委书记" }   # every record; "{org}" in text is the org's short name
    cycle = { grade = ["好", "较好"] }        # the n-th org takes item n mod length (several lists stay in step)
    status = ["已销号", "整改中"]              # optional, list ledgers: the state (a text or a list cycled the same way)

Values are checked here only for their form (fields exist, states exist); the write service validates each record
when the demo is built, as it would a clerk's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dangjian.records.models import LedgerType

from .loader import Pack, PackError, section

DEMO_KEYS = {"id", "ledger", "orgs", "org_kinds", "limit", "values", "cycle", "status"}
MAX_RULES = 500  # rules in one pack
MAX_ORGS = 5000  # orgs one rule may name (a province-scale demo has a few thousand communities)
MAX_CYCLE = 200  # items in one cycle list


@dataclass(frozen=True)
class DemoRule:
    pack: str
    id: str
    ledger: LedgerType
    orgs: tuple[str, ...] = ()
    org_kinds: tuple[str, ...] = ()
    limit: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    cycle: dict[str, list[Any]] = field(default_factory=dict)
    statuses: tuple[str, ...] = ()

    def entry(self, n: int) -> tuple[dict[str, Any], str]:
        """The values and state of the record for the n-th org (before "{org}" is filled in)."""
        values = {**self.values, **{code: items[n % len(items)] for code, items in self.cycle.items()}}
        status = self.statuses[n % len(self.statuses)] if self.statuses else ""
        return {k: v for k, v in values.items() if v != ""}, status


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def parse_rules(
    items: list[dict[str, Any]], pack: str, ledgers: dict[str, LedgerType]
) -> tuple[list[DemoRule], list[str]]:
    """The rules of a pack's `demo` section and every problem with them (Chinese, each naming the rule)."""
    errors: list[str] = []
    rules: list[DemoRule] = []
    if len(items) > MAX_RULES:
        return [], [f"演示数据规则（demo）最多 {MAX_RULES} 条，数据包 {pack} 有 {len(items)} 条"]
    seen: set[str] = set()
    for i, item in enumerate(items):
        ident = item.get("id")
        name = f"演示数据规则“{ident or i + 1}”"
        found = len(errors)
        extra = set(item) - DEMO_KEYS
        if extra:
            errors.append(
                f"{name}含有未知属性：{'、'.join(sorted(extra))}（可用：{'、'.join(sorted(DEMO_KEYS))}）"
            )
        if not isinstance(ident, str) or not ident or len(ident) > 60:
            errors.append(f"{name}缺少 id（不超过 60 个字符的文字）")
        elif ident in seen:
            errors.append(f"{name}的 id 重复")
        seen.add(str(ident))
        lt = ledgers.get(str(item.get("ledger", "")))
        if lt is None:
            errors.append(f"{name}的台账“{item.get('ledger', '')}”不存在")
            continue
        orgs, kinds = item.get("orgs", []), item.get("org_kinds", [])
        if not _strings(orgs) or not _strings(kinds) or not (orgs or kinds):
            errors.append(f"{name}应有 orgs（组织代码列表）或 org_kinds（组织类别代码列表）")
        limit = item.get("limit")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_ORGS
        ):
            errors.append(f"{name}的 limit 应为 1 到 {MAX_ORGS} 之间的整数")
        codes = {f.code for f in lt.fields.all()}
        values, cycle = item.get("values", {}), item.get("cycle", {})
        if not isinstance(values, dict) or not isinstance(cycle, dict):
            errors.append(f"{name}的 values 和 cycle 应为表（{{ 字段代码 = 值 }}）")
            continue
        unknown = sorted((set(values) | set(cycle)) - codes)
        if unknown:
            errors.append(f"{name}中的字段“{'、'.join(unknown)}”不是台账 {lt.code}（{lt.label}）的字段")
        for code, listed in cycle.items():
            if not isinstance(listed, list) or not 1 <= len(listed) <= MAX_CYCLE:
                errors.append(f"{name}的 cycle.{code} 应为 1 到 {MAX_CYCLE} 项的列表")
        status = item.get("status", [])
        statuses = [status] if isinstance(status, str) else status
        if (
            not isinstance(statuses, list)
            or not all(isinstance(s, str) for s in statuses)
            or len(statuses) > MAX_CYCLE
        ):
            errors.append(f"{name}的 status 应为状态名称或状态名称的列表")
            statuses = []
        states = (lt.workflow or {}).get("states", [])
        wrong = [s for s in statuses if s not in states]
        if wrong:
            allowed = "、".join(states) if states else "（该台账没有清单流程，不能写 status）"
            errors.append(f"{name}的状态“{'、'.join(wrong)}”不存在，可用：{allowed}")
        if len(errors) == found:
            rules.append(
                DemoRule(
                    pack, str(ident), lt, tuple(orgs), tuple(kinds), limit, values, cycle, tuple(statuses)
                )
            )
    return rules, errors


def ledgers_by_code() -> dict[str, LedgerType]:
    return {lt.code: lt for lt in LedgerType.objects.prefetch_related("fields")}


@section("demo", order=90)
def load_demo(items: list[dict[str, Any]], pack: Pack) -> int:
    """Check the rules (every problem at once); the records are made only by `dangjian init --demo`."""
    rules, errors = parse_rules(items, pack.name, ledgers_by_code())
    if errors:
        shown = errors[:30]
        raise PackError(
            f"数据包 {pack.name} 的演示数据（demo）有 {len(errors)} 处错误：\n- " + "\n- ".join(shown)
        )
    return len(rules)
