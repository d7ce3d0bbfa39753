"""The report templates' sandbox with bounds: a template can neither reach Python internals nor run the server out of
time or memory.

Jinja's sandbox stops access to internals but not work: `{% for i in range(100000) %}{% for j in range(100000) %}`
runs for hours and `{{ 'a' * 2000000000 }}` asks for gigabytes. `BoundedSandbox` meters every place where a
template can make work or data, and stops with `LimitExceeded` (a Chinese message; the renderer adds the template
file and line from the traceback) as soon as one bound is passed:

- time: every operation checks a deadline (a clock, not a signal, so it works in any thread under waitress);
- loops: every turn of every `{% for %}` counts, and also charges the literal text of the loop's body;
- values: no string or list a template makes (operator, filter, call, `~`, slice) may exceed `Limits.value`
  characters or items, checked *before* `*`, `**`, `%`, `center`, `indent`, `join`, `replace`, `format`, `batch` …
  make them, and all of them together may not exceed `Limits.work`;
- output: everything printed, wherever it goes (`{% set %}` blocks and macros included), may not exceed
  `Limits.output` characters;
- string methods that multiply text (`center`, `ljust`, `zfill`, `replace`, `join`, `format` …) and those that
  change lists or dicts are refused outright: the report filters and Jinja's own filters do the same work, bounded;
- `range()` gives at most `Limits.range_items` numbers and `lipsum()` is not available.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import pass_context
from jinja2.visitor import NodeTransformer

from .slots import Slot, raw


@dataclass(frozen=True)
class Limits:
    seconds: float = 10.0  # a district's report renders in well under a second
    output: int = 2_000_000  # characters printed: about 100 times a district's annual report
    value: int = 2_000_000  # characters (or items) of any one string or list a template makes
    work: int = 20_000_000  # characters and items made by all operations of one rendering together
    iterations: int = 1_000_000  # turns of all loops together
    range_items: int = 100_000  # numbers one range() may give (Jinja's own sandbox bound)
    int_bits: int = 4096  # whole numbers up to about 1,200 digits
    format_width: int = 1000  # widths and precisions in "%10s" and |format


LIMITS = Limits()
clock = time.monotonic  # a module attribute so that tests can run the clock fast instead of waiting


class LimitExceeded(SecurityError):
    """A bound was passed; the message is Chinese and for the template writer as it is."""


class MethodRefused(SecurityError):
    """A method a template may not call; the message is Chinese."""


# str methods whose result can be far larger than their input; the filters `center`, `replace`, `join`, `format`
# do the same work with bounds checked first.
STR_METHODS_REFUSED = frozenset(
    {
        "center",
        "ljust",
        "rjust",
        "zfill",
        "expandtabs",
        "format",
        "format_map",
        "join",
        "replace",
        "translate",
    }
)

# "%5d", "%-10.3f", "%*d": the widths and precisions a %-format asks for.
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_NUMBER = re.compile(r"\d+")

ITERATE = "_有界循环"
CONCAT = "_有界拼接"
MADE = "_有界取值"


def size(value: Any, cap: int) -> int:
    """About how many characters `value` prints as (strings: their length; lists, tuples, sets, dicts: one per
    item plus their items' sizes). Stops counting once past `cap`: the caller only needs to know that."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Slot):
        return size(value._value, cap)
    if isinstance(value, dict):
        value = list(value.items())
    if isinstance(value, list | tuple | set | frozenset):
        total = len(value)
        for item in value:
            if total > cap:
                break
            if isinstance(item, str | list | tuple | set | frozenset | dict | Slot):
                total += size(item, cap - total)
        return total
    return 0


def literal_chars(node: nodes.Node) -> int:
    """Characters of template text (outside `{{ }}` and `{% %}`) inside a node."""
    return sum(len(data.data) for data in node.find_all(nodes.TemplateData))


class Meter:
    """What one rendering has used so far. One per environment, and one environment per rendering."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.clock = clock
        self.deadline = clock() + limits.seconds
        self.work = 0
        self.printed = 0
        self.turns = 0

    def tick(self) -> None:
        if self.clock() >= self.deadline:
            raise LimitExceeded(f"模板运行超过 {self.limits.seconds:g} 秒，已停止（请检查循环和宏）")

    def allow(self, chars: int, what: str) -> None:
        """Refuse before making a value of about `chars` characters or items."""
        if chars > self.limits.value:
            raise LimitExceeded(
                f"{what}的结果约有 {chars} 个字符（或项），超过上限 {self.limits.value}，已停止"
            )

    def made(self, value: Any, what: str = "运算结果") -> Any:
        self.tick()
        n = size(value, self.limits.value)
        self.allow(n, what)
        self.work += n
        if self.work > self.limits.work:
            raise LimitExceeded(f"模板生成的内容累计超过 {self.limits.work} 个字符，已停止（请检查循环和宏）")
        return value

    def print(self, chars: int) -> None:
        self.tick()
        self.printed += chars
        if self.printed > self.limits.output:
            raise LimitExceeded(f"模板输出超过 {self.limits.output} 个字符，已停止（请检查循环和宏）")

    def turn(self, body_chars: int) -> None:
        self.turns += 1
        if self.turns > self.limits.iterations:
            raise LimitExceeded(f"模板中的循环累计超过 {self.limits.iterations} 次，已停止")
        self.print(body_chars)

    def iterate(self, iterable: Iterable[Any], body_chars: int = 0) -> Iterator[Any]:
        for item in iterable:
            self.turn(body_chars)
            yield item

    def bounded_list(self, iterable: Iterable[Any]) -> list[Any]:
        """A generator (from `map`, `select`, `batch` …) made into a list, stopping at the bound."""
        items: list[Any] = []
        total = 0
        for item in iterable:
            total += 1 + size(item, self.limits.value)
            self.allow(total, "列表")
            items.append(item)
            if len(items) % 1024 == 0:
                self.tick()
        return items


def _text_len(value: Any) -> int:
    return len(value) if isinstance(value, str) else size(value, LIMITS.value) + 2


def _check_widths(meter: Meter, template: Any, what: str) -> None:
    """A %-format (or |format) string may not ask for more than `format_width` characters per field."""
    if not isinstance(template, str):
        return
    for width, precision in _PERCENT_SPEC.findall(template):
        for n in (width, precision):
            if n == "*" or (n and int(n) > meter.limits.format_width):
                raise LimitExceeded(f"{what}中的宽度或精度“{n}”超过上限 {meter.limits.format_width}，已停止")


def _int_arg(value: Any, default: int = 0) -> int:
    value = raw(value)
    return value if isinstance(value, int) else default


# Checks run before Jinja's own filters that can make far more than they are given. Each gets the meter, the
# value and the filter's other arguments, and raises LimitExceeded or returns nothing.
def _center(meter: Meter, value: Any, args: tuple, kwargs: dict) -> None:
    width = _int_arg(args[0] if args else kwargs.get("width", 80))
    meter.allow(max(width, _text_len(value)), "过滤器“center”")


def _indent(meter: Meter, value: Any, args: tuple, kwargs: dict) -> None:
    width = args[0] if args else kwargs.get("width", 4)
    per_line = len(width) if isinstance(width, str) else _int_arg(width)
    lines = str(value).count("\n") + 1
    meter.allow(_text_len(value) + per_line * lines, "过滤器“indent”")


def _format(meter: Meter, value: Any, args: tuple, kwargs: dict) -> None:
    _check_widths(meter, str(value), "过滤器“format”")


def _join(meter: Meter, value: Any, args: tuple, kwargs: dict) -> None:
    separator = str(args[0] if args else kwargs.get("d", ""))
    items = raw(value)
    if isinstance(items, str | list | tuple | set | frozenset | dict):
        count = len(items)
        meter.allow(size(items, meter.limits.value) + count * len(separator), "过滤器“join”")


def _replace(meter: Meter, value: Any, args: tuple, kwargs: dict) -> None:
    text = str(value)
    old = str(args[0]) if args else str(kwargs.get("old", ""))
    new = str(args[1]) if len(args) > 1 else str(kwargs.get("new", ""))
    count = args[2] if len(args) > 2 else kwargs.get("count")
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    meter.allow(len(text) + hits * max(0, len(new) - len(old)), "过滤器“replace”")


def _wordwrap(meter: Meter, value: Any, args: tuple, kwargs: dict) -> None:
    width = max(1, _int_arg(args[0] if args else kwargs.get("width", 79), 79))
    wrapstring = args[2] if len(args) > 2 else kwargs.get("wrapstring") or "\n"
    text = str(value)
    meter.allow(len(text) + (len(text) // width + 1) * len(str(wrapstring)), "过滤器“wordwrap”")


def _batch(meter: Meter, value: Any, args: tuple, kwargs: dict) -> None:
    meter.allow(_int_arg(args[0] if args else kwargs.get("linecount", 0)), "过滤器“batch”")


def _slice(meter: Meter, value: Any, args: tuple, kwargs: dict) -> None:
    meter.allow(_int_arg(args[0] if args else kwargs.get("slices", 0)), "过滤器“slice”")


def _int(meter: Meter, value: Any, args: tuple, kwargs: dict) -> None:
    # Python reads a long digit string in quadratic time (3.10 before 3.10.7 has no limit of its own).
    if isinstance(value, str) and len(value) > 4300:
        raise LimitExceeded(f"过滤器“int”收到 {len(value)} 位的数字，超过上限 4300 位，已停止")


FILTER_CHECKS: dict[str, Callable[[Meter, Any, tuple, dict], None]] = {
    "center": _center,
    "indent": _indent,
    "format": _format,
    "join": _join,
    "replace": _replace,
    "wordwrap": _wordwrap,
    "batch": _batch,
    "slice": _slice,
    "int": _int,
}


class _Bounds(NodeTransformer):
    """Rewrites a parsed template so that loops, `~` and slices go through the meter (see the filters below)."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        body = sum(literal_chars(n) for n in (*node.body, *node.else_))
        node.iter = nodes.Filter(node.iter, ITERATE, [nodes.Const(body)], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        parts = nodes.List(list(node.nodes), lineno=node.lineno)
        return nodes.Filter(parts, CONCAT, [], [], None, None, lineno=node.lineno)

    def visit_Getitem(self, node: nodes.Getitem) -> nodes.Node:
        self.generic_visit(node)
        if isinstance(node.arg, nodes.Slice):  # slices bypass the sandbox's getitem
            return nodes.Filter(node, MADE, [], [], None, None, lineno=node.lineno)
        return node


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The report templates' environment; create one per rendering (the meter lives on it)."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, *args: Any, limits: Limits | None = None, **kwargs: Any) -> None:
        finalize = kwargs.pop("finalize", None)
        super().__init__(*args, **kwargs)
        self.meter = Meter(limits or LIMITS)
        self.literal: dict[str | None, int] = {}
        self.finalize = self._printing(finalize)
        self.globals.pop("lipsum", None)
        self.globals["range"] = self._range
        meter = self.meter
        self.filters = {name: self._bounded(name, f) for name, f in self.filters.items()}
        self.filters[ITERATE] = pass_context(lambda _c, it, body: meter.iterate(it, body))
        self.filters[CONCAT] = pass_context(lambda _c, parts: self._concat(parts))
        self.filters[MADE] = pass_context(lambda _c, value: meter.made(value, "切片（[:]）"))

    def add_filters(self, filters: Mapping[str, Callable[..., Any]]) -> None:
        self.filters.update({name: self._bounded(name, f) for name, f in filters.items()})

    # --- what a template prints ----------------------------------------------------------------------------

    def _printing(self, finalize: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
        meter = self.meter

        def printing(value: Any) -> Any:
            out = finalize(value) if finalize is not None else value
            meter.print(_text_len(out) if out is not None else 0)
            return out

        return printing

    def render_bounded(self, template: jinja2.Template, context: dict[str, Any]) -> str:
        """Render, stopping once the output passes the bound (top-level text is not printed through finalize)."""
        pieces: list[str] = []
        total = 0
        for piece in template.generate(context):
            total += len(piece)
            if total > self.meter.limits.output:
                raise LimitExceeded(
                    f"模板输出超过 {self.meter.limits.output} 个字符，已停止（请检查循环和宏）"
                )
            pieces.append(piece)
        return "".join(pieces)

    # --- compiling and loading -----------------------------------------------------------------------------

    def _generate(
        self, source: nodes.Template, name: str | None, filename: str | None, defer_init: bool = False
    ) -> str:  # type: ignore[override]
        self.literal[name] = literal_chars(source)
        return super()._generate(_Bounds().visit(source), name, filename, defer_init=defer_init)

    def _load_template(self, name: str, globals: Any) -> jinja2.Template:  # type: ignore[override]
        # Every {% include %}, {% import %} and {% extends %} runs through here: charge its text each time, so
        # that an include inside a loop counts like the loop's own text.
        template = super()._load_template(name, globals)
        self.meter.print(self.literal.get(name, 0))
        return template

    # --- operators, calls, attributes ----------------------------------------------------------------------

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        meter = self.meter
        meter.tick()
        a, b = raw(left), raw(right)
        if operator == "*":
            for seq, times in ((a, b), (b, a)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    meter.allow(size(seq, meter.limits.value) * max(times, 0), "重复（*）")
            self._check_int(a, b, a.bit_length() + b.bit_length() if _ints(a, b) else 0)
        elif operator == "**" and _ints(a, b) and b > 0 and abs(a) > 1:
            self._check_int(a, b, a.bit_length() * b)
        elif operator == "%" and isinstance(a, str):
            _check_widths(meter, a, "格式化（%）")
        return meter.made(self.binop_table[operator](left, right))

    def _check_int(self, a: Any, b: Any, bits: int) -> None:
        if bits > self.meter.limits.int_bits:
            raise LimitExceeded(
                f"运算结果的整数超过 {self.meter.limits.int_bits} 位二进制（约 1200 位十进制），已停止"
            )

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        __self.meter.tick()
        if isinstance(__obj, LoopContext) and args:  # loop(children) in a recursive loop: count its turns too
            args = (__self.meter.iterate(args[0]), *args[1:])
        return __self.meter.made(super().call(__context, __obj, *args, **kwargs), "调用结果")

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.meter.tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.meter.tick()
        return super().getitem(obj, argument)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in STR_METHODS_REFUSED:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> None:
        return (
            None  # str.format is refused (is_safe_attribute) rather than sandboxed: its widths are unbounded
        )

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        return self.undefined(
            f"模板中不能使用“{attribute}”（内部属性、修改列表或字典的方法、可能生成超长文字的方法都不允许）",
            name=attribute,
            obj=obj,
            exc=MethodRefused,
        )

    # --- globals and filters ---------------------------------------------------------------------------------

    def _range(self, *args: int) -> range:
        numbers = range(*args)
        if len(numbers) > self.meter.limits.range_items:
            raise LimitExceeded(
                f"“range()”将给出 {len(numbers)} 个数，超过上限 {self.meter.limits.range_items}，已停止"
            )
        return numbers

    def _concat(self, parts: list[Any]) -> str:
        texts = [str(p) for p in parts]
        self.meter.allow(sum(len(t) for t in texts), "拼接（~）")
        return self.meter.made("".join(texts), "拼接（~）")

    def _bounded(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        meter = self.meter
        check = FILTER_CHECKS.get(name)
        takes_first = getattr(func, "jinja_pass_arg", None) is not None  # context/environment comes first

        @functools.wraps(func)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            meter.tick()
            # Generators (from map, select …) become lists here, bounded, before any filter walks them.
            args = tuple(meter.bounded_list(a) if isinstance(a, Iterator) else a for a in args)
            first = 1 if takes_first else 0
            if check is not None and len(args) > first:
                check(meter, args[first], args[first + 1 :], kwargs)
            result = func(*args, **kwargs)
            if isinstance(result, Iterator):
                result = meter.bounded_list(result)
            return meter.made(result, f"过滤器“{name}”")

        return bounded


def _ints(a: Any, b: Any) -> bool:
    return isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool) and not isinstance(b, bool)
