"""Conditions and ordering on record fields: the one way to ask about `Record.values` (a JSONField) in SQL.

The records table's filters, search and sort, the indicator compiler (which puts every indicator of a ledger
into ONE query of conditional aggregates, so it needs `Q` objects rather than querysets) and the list
workflows' overdue queries all build on these; `RecordQuerySet.where_value` / `.order_by_value` are thin
over them.

The dialect, in one place:
- a field's value is read as text (`KeyTextTransform`: `->>` on PostgreSQL and SQLite alike; JSON booleans
  read as 'true'/'false' once cast to text), and cast to DECIMAL for numeric fields;
- dates are ISO strings, so they compare as text;
- a multi-choice value is a JSON list: "has this option" is `@>` on PostgreSQL and `EXISTS (… json_each …)` on
  SQLite;
- "not equal" / "not in" also match records without the value (SQL's NULL would drop them);
- ordering by a field puts records without the value last, in either direction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import NotSupportedError
from django.db.models import BooleanField, DecimalField, Expression, F, Func, JSONField, Q, TextField
from django.db.models.expressions import OrderBy
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django.db.models.lookups import (
    Contains,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
)

NUMERIC = frozenset({"integer", "decimal", "money"})
OPS = (
    "=", "!=", "in", "not_in", "contains", "icontains", ">", ">=", "<", "<=", "between", "empty", "not_empty",
)  # fmt: skip
_COMPARE = {">": GreaterThan, ">=": GreaterThanOrEqual, "<": LessThan, "<=": LessThanOrEqual}


class FieldRef(Protocol):
    """What a condition needs of a field: its code and its type (a LedgerField has both)."""

    code: str
    type: str


Field = FieldRef | str  # a bare code is a text (or date) field


def _code_and_type(field: Field) -> tuple[str, str]:
    return (field, "text") if isinstance(field, str) else (field.code, str(field.type))


# Read once (PostgreSQL's indicator queries): while `read_once()` is active, a field's value is not read from the JSON
# where it is used but named as a column (`ReadColumn`) that the caller computes once per record in a subquery; the
# context collects {alias: the JSON read}. See `dangjian.indicators.compiler._Plan`.
@dataclass
class Reads:
    """What `read_once` collected: {alias: the JSON read} (one per field and kind of read), and how many times the
    conditions used them (a read used about once per aggregate gains nothing from being read once per record)."""

    columns: dict[str, Expression] = field(default_factory=dict)
    uses: int = 0
    aliases: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind of read, field code) -> alias


_READ_ONCE: ContextVar[Reads | None] = ContextVar("dangjian_read_once", default=None)


@contextmanager
def read_once() -> Iterator[Reads]:
    """Within it, `text`, `number`, `is_empty` and `JsonListHas` name their JSON reads as columns (`ReadColumn`);
    the `Reads` given collects them."""
    reads = Reads()
    token = _READ_ONCE.set(reads)
    try:
        yield reads
    finally:
        _READ_ONCE.reset(token)


class ReadColumn(Expression):
    """A field read once: the column `alias` of the subquery the query reads records from (the compiler's
    `_Plan`). Unqualified: only that subquery has it."""

    def __init__(self, alias: str, output_field: Any) -> None:
        super().__init__(output_field=output_field)
        self.alias = alias

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        return connection.ops.quote_name(self.alias), ()

    def get_group_by_cols(self) -> list[Any]:
        return [self]


def _read(kind: str, code: str, expression: Expression) -> Expression:
    reads = _READ_ONCE.get()
    if reads is None:
        return expression
    reads.uses += 1
    alias = reads.aliases.get((kind, code))
    if alias is None:
        # Made of the read's position, never of the code (a field code may be Chinese).
        alias = reads.aliases[kind, code] = f"read_{kind}_{len(reads.aliases)}"
        reads.columns[alias] = expression
    return ReadColumn(alias, JSONField() if kind == "json" else TextField())


def text(code: str) -> Expression:
    """values[code] as text."""
    return _read("text", code, KeyTextTransform(code, "values"))


def number(code: str) -> Expression:
    """values[code] as a decimal: the one cast every sum, average, comparison and sort of a number uses. (Read once,
    the text is what is read once; the cast stays where it is used, so a record outside a condition is not cast.)"""
    return Cast(text(code), DecimalField(max_digits=30, decimal_places=6))


def is_empty(code: str) -> Q:
    """No value: the key missing, JSON null, "" or an empty list."""
    # SQLite renders a JSON null as 'null' and a list as its JSON text; PostgreSQL gives NULL / the JSON text.
    value = text(code)
    return Q(IsNull(value, True)) | Q(In(Cast(value, TextField()), ["", "[]", "null"]))


class JsonListHas(Func):
    """True when the JSON list in values[code] has the item (multi-choice "has this option")."""

    output_field = BooleanField()

    def __init__(self, code: str, item: str) -> None:
        # Read once, the source is values[code] itself (a JSON column of the subquery) rather than `values`.
        source = _read("json", code, KeyTransform(code, "values"))
        super().__init__(F("values") if isinstance(source, KeyTransform) else source)
        self.code, self.item = code, item
        self.whole = isinstance(source, KeyTransform)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.source_expressions[0])
        if not self.whole:
            return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = %s)", (
                *params,
                self.item,
            )
        sql = f"EXISTS (SELECT 1 FROM json_each({column}, %s) WHERE json_each.value = %s)"
        return sql, (*params, f'$."{self.code}"', self.item)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.source_expressions[0])
        if not self.whole:
            return f"({column} @> %s::jsonb)", (*params, json.dumps([self.item]))
        return f"(({column} -> %s) @> %s::jsonb)", (*params, self.code, json.dumps([self.item]))

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        raise NotSupportedError("多选字段的“含有”条件只支持 SQLite 和 PostgreSQL")


def value_q(field: Field, op: str, value: Any = None) -> Q:
    """The records whose value of `field` meets `op value`.

    `value` is already in the stored form: a Decimal (or int) for numbers, an ISO string for dates, a bool for
    yes/no fields, an option for choices; a list for "in", "not_in" and "between".
    """
    code, kind = _code_and_type(field)
    if op == "empty":
        return is_empty(code)
    if op == "not_empty":
        return ~is_empty(code)
    if op in ("!=", "not_in"):
        return ~value_q(field, "=" if op == "!=" else "in", value) | is_empty(code)
    if kind == "multichoice":
        if op in ("=", "contains"):  # a list "equals" an option when it has it
            return Q(JsonListHas(code, value))
        if op == "in":
            return Q(*[Q(JsonListHas(code, v)) for v in value], _connector=Q.OR)
        raise ValueError(f"多选字段不支持运算符 {op}")
    lhs: Expression
    if kind in NUMERIC:
        lhs = number(code)
    elif kind == "bool":
        lhs = Cast(text(code), TextField())
        value = [_bool_text(v) for v in value] if isinstance(value, list) else _bool_text(value)
    else:
        lhs = text(code)
    if op == "=":
        return Q(Exact(lhs, value))
    if op == "in":
        return Q(In(lhs, value))
    if op == "contains":
        return Q(Contains(lhs, value))
    if op == "icontains":
        return Q(IContains(lhs, value))
    if op in _COMPARE:
        return Q(_COMPARE[op](lhs, value))
    if op == "between":
        return Q(GreaterThanOrEqual(lhs, value[0])) & Q(LessThanOrEqual(lhs, value[1]))
    raise ValueError(f"未知的运算符 {op}，可用：{' '.join(OPS)}")


def _bool_text(value: Any) -> str:
    return "true" if value else "false"


def value_order(field: Field, *, desc: bool = False) -> OrderBy:
    """Order by `field` (numbers as numbers, the rest as text), records without the value last either way."""
    code, kind = _code_and_type(field)
    expr = number(code) if kind in NUMERIC else text(code)
    return expr.desc(nulls_last=True) if desc else expr.asc(nulls_last=True)
