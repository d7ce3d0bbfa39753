"""Slots: the values a template prints, each still knowing which indicator it came from.

Two kinds of object, for two readers. The template sees `Slot`s; every renderer (text, JSON, HTML, Word, a
finalised run) sees `SlotValue`s — typed, frozen, built once per render after the template ran (see the end of
this module), so nothing downstream looks an indicator up again or reads an untyped dict.

A `Slot` wraps one indicator value. It behaves like its value in comparisons, arithmetic and loops, and when it
(or a filter's result, itself a Slot) is printed, the environment's `finalize` records it and writes a private
marker around its text, so that every renderer knows which characters of the report came from which indicator.

Its attributes start with an underscore on purpose: the sandbox refuses such names, so a template sees a slot's
value but never the objects behind it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dangjian.indicators.grouped_values import Grouped, Part
from dangjian.text import cn_date, number_text, xml_safe  # xml_safe: "\x01" would fail the Word file

from .values import COMPARISONS, computed_for

# Private-use characters: never typed by users, stripped from any value text, removed by every renderer.
OPEN, MID, CLOSE = "\ue000", "\ue001", "\ue002"
MARKER_RE = re.compile(f"{OPEN}(\\d+){MID}([^{CLOSE}]*){CLOSE}")
MARKER_CHARS_RE = re.compile(f"[{OPEN}{MID}{CLOSE}]")
EMPTY = "（无数据）"
INCOMPUTABLE = (
    "无法计算"  # a value that cannot be computed (a ratio whose denominator is 0), not a missing one
)


def display_value(value: Any) -> str:
    """The default wording of a value in Chinese prose."""
    if isinstance(value, Grouped):  # a grouped value printed whole reads as its total
        value = value.total
    if value is None:
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal | float):
        return number_text(value)
    if isinstance(value, dt.date):
        return cn_date(value)
    if isinstance(value, list | tuple):
        return "、".join(display_value(v) for v in value)
    # a marked text (a filter such as 排名 prints other slots inside its own) reads as the text it shows
    return xml_safe(MARKER_CHARS_RE.sub("", strip_markers(str(value))))


class SlotError(Exception):
    """A template uses a value in a way it cannot be used (not a LookupError: Jinja would swallow that)."""


class Slot:
    """One indicator value (or an element of a list value, or a filter's wording of it) as a template sees it."""

    __slots__ = ("_key", "_info", "_value", "_display")

    def __init__(self, key: str, info: Any, value: Any, display: str | None = None) -> None:
        self._key = key  # the indicator key, `上年.`-prefixed for previous-period values
        self._info = info  # the indicators stage's Value: label, unit, aggregate, evidence count …
        self._value = value
        self._display = display

    def _derive(self, value: Any = None, display: str | None = None, *, keep_value: bool = False) -> Slot:
        return Slot(self._key, self._info, self._value if keep_value else value, display)

    def _part(self, part: Part) -> Slot:
        """One group of a grouped value: the same indicator, that group's figure and records (its own evidence)."""
        info = self._info
        group = GroupInfo(
            getattr(info, "label", "") or self._key,
            getattr(info, "unit", "") or "",
            getattr(info, "aggregate", "") or "",
            part.records,
            part.name,
            part.label,
        )
        return Slot(self._key, group, part.value)

    @property
    def _text(self) -> str:
        if self._display is not None:
            return self._display
        if self._value is None and getattr(self._info, "incomputable", False):
            return INCOMPUTABLE
        return display_value(self._value)

    # --- behave like the value -----------------------------------------------------------------------------
    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"<指标 {self._key}={self._value!r}>"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value) if isinstance(self._value, list | tuple | str | Grouped) else 0

    def __iter__(self) -> Iterator[Slot]:
        if isinstance(self._value, list | tuple):
            for item in self._value:
                yield self._derive(item)

    def __getitem__(self, index: Any) -> Slot:
        # `{{ 文化.舞台剧[0] }}`: an element keeps the indicator's key and evidence. A missing element (fewer
        # records than the prose names) prints as （无数据） rather than stopping the whole report.
        if isinstance(index, str):
            raise KeyError(index)  # lets the sandbox report an unknown attribute
        value = self._value
        if value is None:
            value = []
        if not isinstance(value, list | tuple):
            raise SlotError(f"指标“{self._key}”的值不是列表，不能取第 {index} 项")
        if isinstance(index, slice):
            return self._derive(list(value[index]))
        if not isinstance(index, int) or isinstance(index, bool):
            raise SlotError(f"指标“{self._key}”的下标应当是整数，而不是“{index}”")
        return self._derive(value[index] if -len(value) <= index < len(value) else None)

    def _compare(self, other: Any, op: Any) -> bool:
        mine, theirs = self._value, raw(other)
        if mine is None or theirs is None:
            return False
        return bool(op(mine, theirs))

    def __eq__(self, other: object) -> bool:
        return raw(other) == self._value

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __lt__(self, other: Any) -> bool:
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other: Any) -> bool:
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other: Any) -> bool:
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other: Any) -> bool:
        return self._compare(other, lambda a, b: a >= b)

    __hash__ = None  # type: ignore[assignment]

    # Arithmetic gives plain numbers: a computed figure is the template's, not an indicator's.
    def __add__(self, other: Any) -> Any:
        return _num(self._value) + _num(raw(other))

    def __radd__(self, other: Any) -> Any:
        return _num(raw(other)) + _num(self._value)

    def __sub__(self, other: Any) -> Any:
        return _num(self._value) - _num(raw(other))

    def __rsub__(self, other: Any) -> Any:
        return _num(raw(other)) - _num(self._value)

    def __mul__(self, other: Any) -> Any:
        return _num(self._value) * _num(raw(other))

    def __rmul__(self, other: Any) -> Any:
        return _num(raw(other)) * _num(self._value)

    def __truediv__(self, other: Any) -> Any:
        return _num(self._value) / _num(raw(other))

    def __rtruediv__(self, other: Any) -> Any:
        return _num(raw(other)) / _num(self._value)

    def __floordiv__(self, other: Any) -> Any:
        return _num(self._value) // _num(raw(other))

    def __int__(self) -> int:
        return int(_num(self._value))

    def __float__(self) -> float:
        return float(_num(self._value))


def raw(value: Any) -> Any:
    """The plain value behind a slot (anything else is returned as it is)."""
    return value._value if isinstance(value, Slot) else value


def _num(value: Any) -> Any:
    if isinstance(value, Grouped):
        value = value.total
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    if value is None:
        raise TypeError("该指标没有数值（无数据），不能参与计算")
    raise TypeError(f"“{display_value(value)}”不是数字，不能参与计算")


class Namespace:
    """A group of indicators by a dotted-key prefix (`理论学习`), looked up by name from the template."""

    __slots__ = ("_path", "_items")

    def __init__(self, path: str) -> None:
        self._path = path
        self._items: dict[str, Namespace | Slot] = {}

    def __getitem__(self, name: str) -> Namespace | Slot:
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __str__(self) -> str:
        raise TypeError(f"“{self._path}”是一组指标，不是一个指标，请写出完整的指标名称")


def build_namespace(values: dict[str, Any]) -> dict[str, Namespace | Slot]:
    """Nest dotted keys: `理论学习.中心组集体学习次数` → context["理论学习"]["中心组集体学习次数"]."""
    root = Namespace("")
    for key, info in values.items():
        parts = key.split(".")
        node = root
        for i, part in enumerate(parts[:-1]):
            child = node._items.get(part)
            if child is None:
                child = node._items[part] = Namespace(".".join(parts[: i + 1]))
            # A key that is also the prefix of another key: the shorter one wins.
            if not isinstance(child, Namespace):
                break
            node = child
        else:
            if parts[-1] not in node._items:
                node._items[parts[-1]] = Slot(key, info, getattr(info, "value", info))
    return dict(root._items)


class SlotRecorder:
    """The environment's `finalize`: remember each printed slot and mark its text."""

    def __init__(self) -> None:
        self.slots: list[Slot] = []

    def __call__(self, obj: Any) -> Any:
        if isinstance(obj, Slot):
            self.slots.append(obj)
            return f"{OPEN}{len(self.slots) - 1}{MID}{MARKER_CHARS_RE.sub('', obj._text)}{CLOSE}"
        if isinstance(obj, Namespace):
            str(obj)  # raises the Chinese explanation
        if obj is None:
            return ""
        return obj

    def in_order(self, marked: str) -> tuple[str, list[Slot]]:
        """Slots in order of appearance in the output (and renumber the markers to match)."""
        ordered: list[Slot] = []

        def renumber(m: re.Match[str]) -> str:
            ordered.append(self.slots[int(m.group(1))])
            return f"{OPEN}{len(ordered) - 1}{MID}{m.group(2)}{CLOSE}"

        return MARKER_RE.sub(renumber, marked), ordered


def strip_markers(marked: str) -> str:
    return MARKER_RE.sub(lambda m: m.group(2), marked)


# --- what a renderer gets: typed slot values ---------------------------------------------------------------------


@dataclass(frozen=True)
class GroupInfo:
    """What a group's slot knows of its indicator (as the engine's Value does) and of its group."""

    label: str
    unit: str
    aggregate: str
    evidence_count: int | None
    group: str  # the group's name (grouped_values.Part.name): what its evidence link asks
    group_label: str


def jsonable(value: Any) -> Any:
    """Decimal → number, date → ISO text, lists item by item; a grouped value as its total (each group printed by
    其中, 分类 or 排名 is a slot row of its own, its evidence link naming the group)."""
    if isinstance(value, Grouped):
        value = value.total
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def kind_of(aggregate: str) -> str:
    """The indicator's kind from the engine's aggregate: a formula, an org/period attribute, or a ledger aggregate."""
    return aggregate if aggregate in ("formula", "attribute") else "aggregate"


@dataclass(frozen=True)
class IndicatorRef:
    """An indicator as the report printed it, resolved once per key from the engine's value and shared by every
    blank printing that key (an element of a list, a filter's wording)."""

    key: str  # `上年.`-prefixed for the previous period's value
    label: str  # `上年` prepended for the previous period's value
    unit: str
    kind: str  # aggregate | formula | attribute
    aggregate: str  # count, sum, … as the engine names it (formula, attribute for those kinds)
    group: str = ""  # one group of a grouped indicator (its name), printed by 其中, 分类, 排名 …
    group_label: str = ""

    @classmethod
    def of(cls, key: str, info: Any) -> IndicatorRef:
        """From the engine's Value (a test may pass a bare value: then only the key is known)."""
        aggregate = getattr(info, "aggregate", "") or ""
        group, group_label = getattr(info, "group", "") or "", getattr(info, "group_label", "") or ""
        label = slot_label(key, info) + (f"（{group_label}）" if group else "")
        unit = getattr(info, "unit", "") or ""
        return cls(key, label, unit, kind_of(aggregate), aggregate, group, group_label)


def slot_label(key: str, info: Any) -> str:
    label = getattr(info, "label", "") or key
    for prefix in COMPARISONS:
        if key.startswith(prefix + ".") and not label.startswith(prefix):
            label = f"{prefix}{label}"
    return label


@dataclass(frozen=True)
class EvidenceRef:
    """The way back: how many records stand behind the value and the page listing them (None: no records, e.g.
    an org's name, or the evidence page is not installed)."""

    records: int | None
    url: str | None


@dataclass(frozen=True)
class SlotValue:
    """One blank of the report as printed, with all any renderer needs and nothing to look up again: the key, the
    indicator (resolved once), the value this blank prints, its text, the org and the exact period the value was
    computed for, and its evidence link. Built once per render (`resolve_slots`), or read back from a finalised
    run's stored rows (`from_stored`)."""

    indicator: IndicatorRef
    value: Any  # what this blank prints: the value, or one element of a list value
    text: str  # as printed (after the template's filters)
    org: Any  # the Organization whose subtree was summed
    period: Any  # the Period the value was computed for: the year before the report's for `上年.` keys
    evidence: EvidenceRef

    @property
    def key(self) -> str:
        return self.indicator.key

    @property
    def kind(self) -> str:
        return self.indicator.kind

    def as_json(self) -> dict[str, Any]:
        """The slot row of the JSON report (DESIGN.md): `schemas.SlotOut`, which `schemas.report_out` validates for
        a fresh render and a finalised run alike (the one place the row is built)."""
        return {
            "indicator": self.key,
            "aggregate": self.indicator.aggregate,
            "value": jsonable(self.value),
            "display": self.text,
            "evidence": {"records": self.evidence.records, "url": self.evidence.url},
        }

    def as_stored(self) -> dict[str, Any]:
        """The row a finalised run keeps: the JSON row plus the indicator's label and unit."""
        row = {**self.as_json(), "label": self.indicator.label, "unit": self.indicator.unit}
        if self.indicator.group:  # one group of a grouped indicator (its evidence link names it too)
            row["group"] = {"name": self.indicator.group, "label": self.indicator.group_label}
        return row

    @classmethod
    def from_stored(cls, row: dict[str, Any], org: Any, period: Any) -> SlotValue:
        """A stored row read back for the run's (org, period); links stored in an older form stay as stored (the
        evidence page redirects them)."""
        key = row["indicator"]
        aggregate = row.get("aggregate") or ""
        group = row.get("group") or {}
        indicator = IndicatorRef(
            key,
            row.get("label") or key,
            row.get("unit") or "",
            kind_of(aggregate),
            aggregate,
            group.get("name") or "",
            group.get("label") or "",
        )
        evidence = row.get("evidence") or {}
        span = computed_for(key, period)
        return cls(
            indicator,
            row.get("value"),
            row.get("display") or "",
            org,
            span,
            EvidenceRef(evidence.get("records"), evidence.get("url")),
        )


def resolve_slots(
    printed: list[Slot], org: Any, period: Any, link: Callable[[IndicatorRef], str | None]
) -> list[SlotValue]:
    """The typed slot values of a render, in order of appearance: each indicator resolved once (with its
    evidence link from `link`), shared by every blank that prints it."""
    resolved: dict[tuple[str, str], tuple[IndicatorRef, EvidenceRef, Any]] = {}
    out = []
    for slot in printed:
        key = slot._key
        group = getattr(slot._info, "group", "") if isinstance(slot._info, GroupInfo) else ""
        if (key, group) not in resolved:
            ref = IndicatorRef.of(key, slot._info)
            records = getattr(slot._info, "evidence_count", None)
            span = computed_for(key, period)
            resolved[key, group] = (ref, EvidenceRef(records, link(ref)), span)
        ref, evidence, span = resolved[key, group]
        out.append(SlotValue(ref, slot._value, slot._text, org, span, evidence))
    return out
