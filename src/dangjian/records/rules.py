"""Cross-field rules of a ledger, declared as data in its pack (`[[ledger_types.rules]]`) and applied by the write
service to every entry path (form, import, API, demo data):

    [[ledger_types.rules]]
    field = "present"          # the field the message names (and an import marks)
    op = "<="                  # <  <=  >  >=  =  !=
    than = "attendance"        # another field of the same kind (numbers with numbers, dates with dates) …
    message = "实到人数不能多于应到人数"   # optional: the default is built from the labels

    [[ledger_types.rules]]
    field = "date"
    op = "<="
    than = "today+31"          # … or, for a date field, today give or take whole days (today, today+31, today-1)

A rule is checked only when both sides have a value: whether a value is required is the field's own `required`.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dangjian.text import cn_date

RULE_KEYS = {"field", "op", "than", "message"}
OPS: dict[str, tuple[str, str]] = {  # op → (as numbers say it, as dates say it), the words of a failure
    "<": ("应小于", "应早于"),
    "<=": ("不能大于", "不能晚于"),
    ">": ("应大于", "应晚于"),
    ">=": ("不能小于", "不能早于"),
    "=": ("应等于", "应等于"),
    "!=": ("不能等于", "不能等于"),
}
COMPARE = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "!=": operator.ne,
}
NUMBER_TYPES = {"integer", "decimal", "money"}
TODAY = re.compile(r"^today(?:([+-])(\d{1,4}))?$")
MAX_MESSAGE = 200


class RuleError(ValueError):
    """A rule a pack declares that cannot work; the message names it, in Chinese."""


@dataclass(frozen=True)
class Rule:
    field: str
    op: str
    than: str  # a field code, or "" for today
    days: int  # for today: the margin in days
    message: str
    dates: bool  # dates compared (else numbers)

    def holds(self, left: Any, right: Any) -> bool:
        return bool(COMPARE[self.op](left, right))

    def problem(self, values: Mapping[str, Any], labels: Mapping[str, str], today: dt.date) -> str:
        """ "" when the rule holds (or a side is empty); else the message, without the field's 【label】 prefix."""
        left = values.get(self.field)
        if left is None or left == "":
            return ""
        if self.than:
            right = values.get(self.than)
            if right is None or right == "":
                return ""
            shown_right = f"【{labels.get(self.than, self.than)}】"
        else:
            right = today + dt.timedelta(days=self.days)
            shown_right = cn_date(right)
        if self.dates:
            left, right = _as_date(left), _as_date(right)
        else:
            left, right = _as_number(left), _as_number(right)
        if left is None or right is None or self.holds(left, right):
            return ""
        if self.message:
            return self.message
        words = OPS[self.op][1 if self.dates else 0]
        return f"{words}{shown_right}"


def _as_number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def parse(items: Any, types: Mapping[str, str], where: str) -> list[Rule]:
    """The rules as a pack writes them, checked against the ledger's fields (code → type); RuleError names the
    first that cannot work."""
    if not isinstance(items, list):
        raise RuleError(f"{where}的 rules 应为表的列表（[[ledger_types.rules]]）")
    rules = []
    for n, item in enumerate(items, 1):
        name = f"{where}的第 {n} 条规则"
        if not isinstance(item, dict):
            raise RuleError(f"{name}应为表")
        extra = set(item) - RULE_KEYS
        if extra:
            raise RuleError(f"{name}含有未知属性：{'、'.join(sorted(extra))}，可用：field、op、than、message")
        missing = [k for k in ("field", "op", "than") if k not in item]
        if missing:
            raise RuleError(f"{name}缺少：{'、'.join(missing)}")
        code, op, than = str(item["field"]), str(item["op"]), str(item["than"])
        message = str(item.get("message", ""))
        if code not in types:
            raise RuleError(f"{name}的字段“{code}”不是本台账的字段")
        if op not in OPS:
            raise RuleError(f"{name}的比较“{op}”不存在，可用：{' '.join(OPS)}")
        if len(message) > MAX_MESSAGE:
            raise RuleError(f"{name}的说明超过 {MAX_MESSAGE} 个字")
        kind = "number" if types[code] in NUMBER_TYPES else "date" if types[code] == "date" else ""
        if not kind:
            raise RuleError(f"{name}的字段“{code}”是{types[code]}型，只能比较数字或日期字段")
        today = TODAY.match(than)
        if today:
            if kind != "date":
                raise RuleError(f"{name}：today 只能与日期字段比较")
            days = int(today.group(2) or 0) * (-1 if today.group(1) == "-" else 1)
            rules.append(Rule(code, op, "", days, message, dates=True))
            continue
        if than not in types:
            raise RuleError(
                f"{name}的比较对象“{than}”既不是本台账的字段，也不是 today、today+天数、today-天数"
            )
        other = "number" if types[than] in NUMBER_TYPES else "date" if types[than] == "date" else ""
        if other != kind:
            raise RuleError(f"{name}：字段“{code}”与“{than}”不是同一类（数字与数字、日期与日期才能比较）")
        rules.append(Rule(code, op, than, 0, message, dates=kind == "date"))
    return rules
