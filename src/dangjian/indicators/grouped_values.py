"""A grouped value (分组指标): one indicator's value per group, with the total, as every stage reads it.

A leaf (no Django import): the engine builds it (grouped.py), formulas and checks compute with it, the reports
stage words it (其中, 分类, 排名 …) and writes it as JSON. A grouped value behaves as its total in arithmetic and
comparisons, so `x / y`, `x >= 10` and a template's `{{ x }}` read the figure the ungrouped indicator would give;
`sum(x)` adds its parts (a check `sum(x) == x` says the parts add up to the total), `count_at_least(x, n)` counts
the groups whose figure reaches n and `len(x)` counts the groups.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

# The names of the two groups that hold what no named group holds (a choice field's empty or retired values,
# the orgs of no listed kind, the reporting org's own records): never a choice, a kind code or an org code.
REST = "~其他"
OWN = "~本级"
EXTRA = (REST, OWN)


@dataclass(frozen=True)
class Part:
    """One group: `name` identifies it in an evidence link (a choice, an org kind's code, a unit's org code, or
    REST / OWN), `label` is how prose names it; `records` is the number of records behind `value`."""

    name: str
    label: str
    value: Any
    records: int | None = None
    note: str = ""

    @property
    def extra(self) -> bool:
        return self.name in EXTRA


@dataclass(frozen=True)
class Grouped:
    """An indicator's value per group, in the order the pack asks (see grouped.py), with its total."""

    by: str  # the field code, "org_kind" or "unit"
    total: Any
    parts: tuple[Part, ...]

    def part(self, name: str) -> Part | None:
        return next((p for p in self.parts if p.name == name), None)

    def reordered(self, parts: list[Part]) -> Grouped:
        return replace(self, parts=tuple(parts))

    def __iter__(self) -> Iterator[Part]:
        return iter(self.parts)

    def __len__(self) -> int:
        return sum(1 for p in self.parts if not p.extra)

    # --- the total in arithmetic and comparisons ------------------------------------------------------------
    def __str__(self) -> str:
        return "" if self.total is None else str(self.total)

    def __bool__(self) -> bool:
        return bool(self.total)

    def __eq__(self, other: object) -> bool:
        return self.total == (other.total if isinstance(other, Grouped) else other)

    __hash__ = None  # type: ignore[assignment]

    def __lt__(self, other: Any) -> bool:
        return bool(self.total < _total(other))

    def __le__(self, other: Any) -> bool:
        return bool(self.total <= _total(other))

    def __gt__(self, other: Any) -> bool:
        return bool(self.total > _total(other))

    def __ge__(self, other: Any) -> bool:
        return bool(self.total >= _total(other))

    def __add__(self, other: Any) -> Any:
        return _number(self.total) + _total(other)

    def __radd__(self, other: Any) -> Any:
        return _total(other) + _number(self.total)

    def __sub__(self, other: Any) -> Any:
        return _number(self.total) - _total(other)

    def __rsub__(self, other: Any) -> Any:
        return _total(other) - _number(self.total)

    def __mul__(self, other: Any) -> Any:
        return _number(self.total) * _total(other)

    def __rmul__(self, other: Any) -> Any:
        return _total(other) * _number(self.total)

    def __truediv__(self, other: Any) -> Any:
        return Decimal(_number(self.total)) / Decimal(_total(other))

    def __rtruediv__(self, other: Any) -> Any:
        return Decimal(_total(other)) / Decimal(_number(self.total))

    def __neg__(self) -> Any:
        return -_number(self.total)


def _number(value: Any) -> Any:
    if value is None:
        raise TypeError("分组指标没有合计数")
    return value


def _total(value: Any) -> Any:
    return _number(value.total) if isinstance(value, Grouped) else value


def parts_sum(value: Any) -> Any:
    """`sum(x)`: the sum of a grouped value's parts (an empty part counts 0); of a list, its items."""
    if isinstance(value, Grouped):
        return sum((p.value or 0 for p in value.parts), 0)
    if isinstance(value, list | tuple):
        return sum(value, 0)
    raise TypeError("sum() 需要分组指标")


def count_at_least(value: Any, n: Any) -> int:
    """`count_at_least(x, n)`: how many groups (units, kinds, choices; not 其他 or 本级) have a figure of n or more."""
    if not isinstance(value, Grouped):
        raise TypeError("count_at_least() 的第一项需要分组指标")
    return sum(1 for p in value.parts if not p.extra and p.value is not None and p.value >= n)
