"""Grouped indicators (分组指标): `group_by = "<单选字段>"`, `"org_kind"` or `"unit"` gives one value per group.

The groups of an indicator, in its natural order:
- a choice field: its choices in the field's own order, then 其他 (empty or retired values) when it holds records;
- `org_kind`: the org kinds in the pack's order (`order` of [[org_kinds]]; only the indicator's `org_kinds` when it
  names some), each org counted under the first of its kinds in that order, then 其他 (orgs of none of them);
- `unit`: the reporting org's direct child units in the org tree's order, each counting its whole subtree (with
  `org_kinds`: only the children that are, or hold, units of those kinds — the streets of a district, not its
  工委), then 本级 (what no listed child holds: the reporting org's own records) when it has any.
`order = "count"` puts the largest figure first; equal figures keep the natural order (never character codes).

The groups partition the records the ungrouped indicator reads, so for count and sum the parts add up to the
total. Each group is one more conditional aggregate (`FILTER (WHERE … AND <group>)`) in the SAME per-ledger query as
every other indicator (compiler.compute): no query per group. Finding the groups reads the org tree once per
evaluation for `unit` (one query, kept on the org object) and the org kinds once for `org_kind`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Q

from dangjian.orgs import access
from dangjian.orgs.models import Organization, OrgKind
from dangjian.records.conditions import is_empty, value_q

from .grouped_values import OWN, REST, Grouped, Part

if TYPE_CHECKING:
    from dangjian.records.models import LedgerField

    from .compiler import Item, Result

ORG_KIND = "org_kind"
UNIT = "unit"
SPECIAL = (ORG_KIND, UNIT)
ORDERS = ("count",)  # besides the natural order (no `order`)
GROUPABLE = {"count", "count_distinct", "count_units", "sum", "avg", "min", "max", "avg_age", "share"}
PART = "\x01"  # separates a grouped item's tag from its part's index: never in an indicator key
UNITS_CACHE = "grouped_units"  # where the org's child units are kept on the org object
KINDS_CACHE = "grouped_kind_paths"  # and the paths of its orgs of some kinds


def group_by(ind: Any) -> str:
    return str((getattr(ind, "options", None) or {}).get("group_by") or "")


def errors(ind: Any, fields: dict[str, LedgerField]) -> list[str]:
    """Problems with an indicator's group_by (and its order when grouped), each naming the indicator."""
    options = ind.options or {}
    if "group_by" not in options:
        return []
    name = f"指标“{ind.key}”"
    by = options["group_by"]
    choices = "、".join(code for code, spec in fields.items() if spec.type == "choice")
    allowed = f"可用：{choices + '、' if choices else ''}org_kind（按组织类别）、unit（按下级单位）"
    if not isinstance(by, str) or not by:
        return [f"{name}的 group_by 应为单选字段代码、org_kind 或 unit，{allowed}"]
    out = []
    if by not in SPECIAL:
        spec = fields.get(by)
        if spec is None:
            out.append(
                f"{name}的 group_by“{by}”不是台账 {ind.ledger.code}（{ind.ledger.label}）的字段，{allowed}"
            )
        elif spec.type != "choice" or not spec.choices:
            out.append(
                f"{name}的 group_by【{spec.label}】是{spec.get_type_display()}字段，只能按单选字段分组，{allowed}"
            )
    if ind.aggregate not in GROUPABLE:
        out.append(f"{name}：汇总方式 {ind.aggregate} 不能分组（group_by），取值列表请用 order 排列")
    if "order" in options and options["order"] not in ORDERS:
        out.append(f"{name}的 order 对分组指标只能为 count（按数值从大到小），不写则按分组的自然顺序")
    return out


# --- the groups -----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Group:
    name: str
    label: str
    q: Q


def child_units(org: Organization) -> list[tuple[Organization, list[int]]]:
    """The org's active direct children in tree order, each with its subtree's ids (one query, kept on `org`)."""
    cached = org.__dict__.get(UNITS_CACHE)
    if cached is not None and cached[0] == org.path:
        return cached[1]
    subtree = list(
        Organization.objects.filter(path__startswith=org.path, depth__gt=org.depth)
        .only("pk", "path", "depth", "code", "name", "short_name", "is_active")
        .order_by("path")
    )
    units: list[tuple[Organization, list[int]]] = []
    for node in subtree:
        if node.depth == org.depth + 1:
            if node.is_active:
                units.append((node, [node.pk]))
            else:
                units.append((node, []))  # its subtree still belongs to no other child: kept aside below
        elif units and node.path.startswith(units[-1][0].path):
            units[-1][1].append(node.pk)
    found = [(unit, ids) for unit, ids in units if unit.is_active]
    org.__dict__[UNITS_CACHE] = (org.path, found)
    return found


def kind_paths(org: Organization, org_kinds: list[str]) -> list[str]:
    """The paths of the orgs of these kinds below `org` (one query per set of kinds, kept on `org`)."""
    cache = org.__dict__.setdefault(KINDS_CACHE, {})
    key = (org.path, tuple(sorted(org_kinds)))
    if key not in cache:
        below = Organization.objects.filter(path__startswith=org.path, depth__gt=org.depth)
        cache[key] = list(below.filter(kinds__code__in=list(org_kinds)).values_list("path", flat=True))
    return cache[key]


def _in_subtree(unit: Organization, ids: list[int]) -> Q:
    # As compiler.subtree_q: a path prefix on SQLite, an id array on PostgreSQL.
    if connection.vendor == "postgresql":
        return Q(org_id__any=ids)
    return Q(org__path__startswith=unit.path)


def groups(
    ind: Any, org: Organization, fields: dict[str, LedgerField], kinds: list[OrgKind] | None = None
) -> list[Group]:
    """The groups of a grouped indicator for `org`, in their natural order (the extra 其他 / 本级 last)."""
    by = group_by(ind)
    out: list[Group] = []
    if by == UNIT:
        units = child_units(org)
        if ind.org_kinds:  # only the children holding units of those kinds (e.g. the streets, not the 工委)
            holding = kind_paths(org, ind.org_kinds)
            units = [(u, ids) for u, ids in units if any(p.startswith(u.path) for p in holding)]
        out = [Group(u.code, u.short_name or u.name, _in_subtree(u, ids)) for u, ids in units]
        # 本级: the org's own records (and those of a retired child's subtree): what no child holds
        own = ~Q(*[g.q for g in out], _connector=Q.OR) if out else Q()
        return [*out, Group(OWN, "本级", own)]
    if by == ORG_KIND:
        if kinds is None:
            kinds = list(OrgKind.objects.order_by("order", "code"))
        if ind.org_kinds:
            kinds = [k for k in kinds if k.code in ind.org_kinds]
        earlier: list[str] = []
        for kind in kinds:
            q = Q(org_id__in=Organization.objects.filter(kinds__code=kind.code).values("pk"))
            if earlier:
                q &= ~Q(org_id__in=Organization.objects.filter(kinds__code__in=list(earlier)).values("pk"))
            out.append(Group(kind.code, kind.label, q))
            earlier.append(kind.code)
        codes = [k.code for k in kinds]
        rest = ~Q(org_id__in=Organization.objects.filter(kinds__code__in=codes).values("pk"))
        return [*out, Group(REST, "其他", rest)]
    spec = fields[by]
    out = [Group(c, c, value_q(spec, "=", c)) for c in spec.choices]
    return [*out, Group(REST, "其他", value_q(spec, "not_in", list(spec.choices)) | is_empty(by))]


def group_q(ind: Any, org: Organization, name: str) -> tuple[str, Q] | None:
    """The label and condition of the group `name` of a grouped indicator (for its evidence page), or None."""
    if ind.ledger is None or not group_by(ind):
        return None
    fields = {f.code: f for f in ind.ledger.fields.all()}
    for group in groups(ind, org, fields):
        if group.name == name:
            return group.label, group.q
    return None


# --- the hook in compiler.compute -------------------------------------------------------------------------------


def expand(items: Sequence[Item], org: Organization, fields: dict[str, LedgerField]) -> list[Item]:
    """The items plus, for each grouped one, one item per group: the same indicator with the group's condition
    (`Item.extra`), computed as one more aggregate of the same query."""
    out = list(items)
    kinds: list[OrgKind] | None = None
    for item in items:
        if not group_by(item.ind):
            continue
        if group_by(item.ind) == ORG_KIND and kinds is None:
            kinds = list(OrgKind.objects.order_by("order", "code"))
        for i, group in enumerate(groups(item.ind, org, fields, kinds)):
            out.append(
                dataclasses.replace(
                    item, tag=f"{item.tag}{PART}{i}", extra=group.q, group=(group.name, group.label)
                )
            )
    return out


def _by_value(part: Part) -> tuple[bool, Any]:
    value = part.value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return True, 0  # no figure (or not a number): after the figures, in the natural order
    return False, -value


def assemble(items: Sequence[Item], results: dict[str, Result]) -> dict[str, Result]:
    """The results of `expand`'s items folded back: a grouped item's value becomes a Grouped (its total is the
    ungrouped value), and the part items are dropped."""
    parts: dict[str, list[Part]] = {}
    for item in items:
        if item.group is None:
            continue
        tag = item.tag.split(PART, 1)[0]
        result = results.pop(item.tag)
        name, label = item.group
        if name in (REST, OWN) and not result.evidence_count:
            continue  # 其他 / 本级 only when it holds records
        parts.setdefault(tag, []).append(Part(name, label, result.value, result.evidence_count, result.note))
    for tag, found in parts.items():
        result = results[tag]
        ind = next(i.ind for i in items if i.tag == tag)
        if (ind.options or {}).get("order") == "count":
            found = sorted(found, key=_by_value)  # a stable sort: equal figures keep the natural order
        result.value = Grouped(group_by(ind), result.value, tuple(found))
    return results


# --- confidential ledgers (保密规则, access.figure_rule) -----------------------------------------------------------


def figure_rule(ind: Any, span: Any, rule: access.FigureAccess) -> access.FigureAccess:
    """What an outsider of a confidential ledger may have of a grouped figure, on top of the rule for the
    ungrouped one: whole years only (a half or quarter part cannot be checked quarter by quarter), never per
    child unit (a unit inside a named org would let one subtract), and a grouped sum's every part rests on
    0 or at least SMALL_COUNT records (Scope.small_count_refusal, applied in engine._SmallCheck)."""
    by = group_by(ind)
    if not by:
        return rule
    what = f"“{ind.ledger.label}”为涉密台账"
    if by == UNIT:
        return access.FigureAccess(False, f"{what}，其汇总数不按下级单位分组提供")
    if access.whole_period(span.start, span.end) != access.YEAR:
        return access.FigureAccess(False, f"{what}，其分组数只按整年提供")
    return rule


def part_counts(value: Any) -> list[int]:
    """The record counts behind each part of a grouped value (none for another value)."""
    if not isinstance(value, Grouped):
        return []
    return [p.records or 0 for p in value.parts]
