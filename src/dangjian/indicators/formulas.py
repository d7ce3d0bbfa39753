"""Formulas and check rules: expressions over indicator keys, evaluated by simpleeval with exact decimals.

Keys are Chinese dotted names (`纪律审查.党纪处分`); in an expression they parse as Python attribute chains,
so a formula names an indicator by its whole chain and the evaluator sees nested namespaces. `上年.<key>` is the
value of the same span a year earlier (上年同期), `上期.<key>` that of the period just before (上期).
Arithmetic is done in Decimal (float literals become Decimal, `/` never goes through float), so that a rule
like `a + b + c == 100` holds for 33.3 + 33.3 + 33.4.
"""

from __future__ import annotations

import ast
import keyword
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from simpleeval import DEFAULT_OPERATORS, InvalidExpression, SimpleEval

from .grouped_values import count_at_least, parts_sum

PREVIOUS = "上年"  # 上年同期: the same span a year earlier (Period.same_last_year)
LAST_PERIOD = "上期"  # 上期: the period of the same kind just before (Period.previous): 2019Q1 → 2018Q4
COMPARISONS = (PREVIOUS, LAST_PERIOD)


class FormulaError(ValueError):
    """A formula or rule that cannot be used; the message is Chinese and names the problem."""


class DivisionByZero(ArithmeticError):
    def __init__(self, divisor: str) -> None:
        self.divisor = divisor
        super().__init__(divisor)


def _round(value: Any, places: int = 0) -> Any:
    if isinstance(value, int | Decimal):
        return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return round(value, places)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs, "round": _round, "min": min, "max": max, "len": len,
    # over a grouped indicator (grouped_values.py): the sum of its parts; how many groups reach a figure
    "sum": parts_sum, "count_at_least": count_at_least,
}  # fmt: skip


# --- keys -----------------------------------------------------------------------------------------------------


def key_error(key: str) -> str | None:
    """Why a key cannot be used in formulas and templates, or None. Each dotted part must read as a name."""
    if not key:
        return "指标键不能为空"
    for part in key.split("."):
        if (
            not part.isidentifier()
            or keyword.iskeyword(part)
            or part.startswith("_")
            or unicodedata.normalize("NFKC", part) != part
        ):
            return f"指标键“{key}”中的“{part}”不能作为名称（只能用汉字、字母、数字和下划线，不能以数字或下划线开头）"
    if key.split(".")[0] in COMPARISONS:
        first = key.split(".")[0]
        return f"指标键“{key}”不能以“{first}”开头（上年.<指标键> 表示上年同期的值，上期.<指标键> 表示上一期的值）"
    if key.split(".")[0] in FUNCTIONS:
        return f"指标键“{key}”不能以函数名“{key.split('.')[0]}”开头"
    return None


def key_conflicts(keys: Iterable[str]) -> list[str]:
    """A key cannot also be the prefix of another (`a.b` and `a.b.c`): `a.b` would be a number and a namespace."""
    keys = sorted(set(keys))
    return [
        f"指标键“{a}”与“{b}”冲突：前者不能同时是后者的上级名称"
        for a, b in zip(keys, keys[1:], strict=False)
        if b.startswith(a + ".")
    ]


# --- parsing --------------------------------------------------------------------------------------------------

_ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.Constant, ast.Name,
    ast.Attribute, ast.Load, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
)  # fmt: skip


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def parse(expr: str) -> tuple[ast.Expression, list[str]]:
    """Parse an expression and list the names it uses (`a.b`, `上年.a.b`), in order of appearance."""
    if not expr.strip():
        raise FormulaError("表达式为空")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"表达式“{expr}”有语法错误（第{exc.offset or 0}个字符附近）") from None
    names: list[str] = []

    def walk(node: ast.AST) -> None:
        if not isinstance(node, _ALLOWED):
            raise FormulaError(f"表达式“{expr}”中不能使用“{ast.unparse(node)}”")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
                raise FormulaError(f"表达式“{expr}”只能调用函数：{'、'.join(FUNCTIONS)}")
            for arg in node.args:
                walk(arg)
            return
        if isinstance(node, ast.Attribute | ast.Name):
            name = _dotted(node)
            if name is None:
                raise FormulaError(f"表达式“{expr}”中不能使用“{ast.unparse(node)}”")
            if name not in ("True", "False", "None") and name not in names:
                names.append(name)
            return
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(tree)
    return tree, names


def split(name: str) -> tuple[str, str]:
    """`上年.a.b` → ("上年", "a.b"); `上期.a.b` → ("上期", "a.b"); `a.b` → ("", "a.b"). The first part is true
    exactly when the name is a comparison's (another period's value)."""
    for prefix in COMPARISONS:
        if name.startswith(prefix + "."):
            return prefix, name[len(prefix) + 1 :]
    return "", name


def rule_errors(expr: str, known: set[str]) -> list[str]:
    """Problems with an expression: syntax, or names that are not indicators."""
    try:
        _, names = parse(expr)
    except FormulaError as exc:
        return [str(exc)]
    unknown = [n for n in names if split(n)[1] not in known]
    return [f"表达式引用了不存在的指标：{'、'.join(unknown)}"] if unknown else []


def order(dependencies: Mapping[str, Iterable[str]]) -> list[str]:
    """Keys in an order where each comes after the keys it depends on; a cycle raises FormulaError naming it."""
    done: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(key: str, path: list[str]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            cycle = path[path.index(key) :] + [key]
            raise FormulaError(f"公式循环引用：{' → '.join(cycle)}")
        state[key] = 1
        for dep in dependencies.get(key, ()):
            if dep in dependencies:
                visit(dep, [*path, key])
        state[key] = 2
        done.append(key)

    for key in dependencies:
        visit(key, [])
    return done


# --- evaluation -----------------------------------------------------------------------------------------------


class Namespace:
    """Nested names for the evaluator: only item access, so no attribute of a Python object is reachable."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        return self._items[name]

    def put(self, dotted: str, value: Any) -> None:
        node = self
        *parents, last = dotted.split(".")
        for part in parents:
            child = node._items.get(part)
            if not isinstance(child, Namespace):
                child = node._items[part] = Namespace()
            node = child
        node._items[last] = value


def _decimal(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


_OPERATORS = dict(DEFAULT_OPERATORS)
_OPERATORS[ast.Div] = lambda a, b: _decimal(a) / _decimal(b)
_OPERATORS[ast.FloorDiv] = lambda a, b: _decimal(a) // _decimal(b)
_OPERATORS[ast.Mod] = lambda a, b: _decimal(a) % _decimal(b)
_OPERATORS[ast.Pow] = lambda a, b: _decimal(a) ** b if isinstance(b, int) else _decimal(a) ** _decimal(b)
_OPERATORS.pop(ast.BitXor, None)  # `^` is a common slip for a power; refuse it rather than XOR integers
for _bit in (ast.BitOr, ast.BitAnd, ast.Invert, ast.LShift, ast.RShift, ast.Is, ast.IsNot):
    _OPERATORS.pop(_bit, None)


class _Evaluator(SimpleEval):
    def __init__(self, names: Namespace) -> None:
        super().__init__(operators=_OPERATORS, functions=dict(FUNCTIONS), names=names)
        self.nodes[ast.Constant] = self._constant

    def _constant(self, node: ast.Constant) -> Any:
        return _decimal(node.value) if isinstance(node.value, float) else node.value

    def _eval_name(self, node: ast.Name) -> Any:
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        return super()._eval_name(node)

    def _eval_binop(self, node: ast.BinOp) -> Any:
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod):
            right = self._eval(node.right)
            if not isinstance(right, str) and right == 0:
                raise DivisionByZero(ast.unparse(node.right))
            return self.operators[type(node.op)](self._eval(node.left), right)
        return super()._eval_binop(node)


def evaluate(expr: str | ast.Expression, values: Mapping[str, Any]) -> Any:
    """Evaluate with `values` keyed by dotted name (`a.b`, `上年.a.b`). Raises DivisionByZero or FormulaError."""
    tree = parse(expr)[0] if isinstance(expr, str) else expr
    names = Namespace()
    for name, value in values.items():
        names.put(name, _decimal(value) if isinstance(value, float) else value)
    evaluator = _Evaluator(names)
    try:
        return evaluator.eval(ast.unparse(tree), previously_parsed=tree.body)
    except DivisionByZero:
        raise
    except (InvalidExpression, TypeError, ArithmeticError, KeyError, ValueError) as exc:
        raise FormulaError(f"无法计算“{ast.unparse(tree)}”：{exc}") from None
