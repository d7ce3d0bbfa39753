"""报告参数 (report parameters): figures from outside the ledgers, defined once and entered per org and period.

Rules (also in docs/packs.md, section 报告参数):
- A parameter is defined in a pack (`[[parameters]]`) or in the web by a report writer (`Scope.may_write_reports`).
  Its key lives in the one catalogue of indicator keys (an Indicator of kind 报告参数 carries key, label, unit and
  pack), so templates, formulas and checks name it like any indicator and a key is never used twice.
- A value is entered for exactly one (org, period) — the period's first and last day — with a source note
  (required) and optionally one attachment (the same size and type limits as records' 佐证材料). Entering again
  makes a new current entry; the older ones stay as history. Who may enter: `Scope.may_enter_parameter`.
- The value for a report of (org, period): with 取值方式 “报告单位本身” the entry of exactly that org and period; with
  “合计” (numbers only) the sum of the entries of that period by the org and every org below it. No entry at all
  gives no value, with the note 未填报 — never a silent 0: a formula reading it has no value, a check reading it
  fails (无法核对), and the report shows the gap.
- A 填报任务 may ask its units for parameters; a unit enters them for the task's period from the task's page. Once
  the unit has 报送 (submitted), its entries for that task's parameters and period are locked like its records:
  only those who may return the submission (reviewers above) may still change them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet

from dangjian.orgs import access
from dangjian.orgs.models import Organization, Role
from dangjian.records.services import RecordInvalid, check_upload
from dangjian.tasks import collection
from dangjian.tasks.models import CollectionTask, TargetStatus, TaskTarget

from . import formulas
from .models import (
    Indicator,
    Kind,
    Parameter,
    ParameterTotal,
    ParameterType,
    ParameterValue,
)

SOURCE_LIMIT = 300  # characters of a source note (the model's max_length)
LABEL_LIMIT = 200
UNIT_LIMIT = 20
DESCRIPTION_LIMIT = 2000
MAX_DIGITS = 15  # the most digits a definition may allow (before the decimal point)
MAX_DECIMALS = 6
MAX_TEXT = 500  # the most characters a text parameter may allow (the column's size)
ROLES = [Role.CLERK, Role.REVIEWER, Role.ADMIN]  # in rising rank: a role enters, and so does every higher one

TYPE_WORDS = {t.value: t.label for t in ParameterType}


class ParameterInvalid(ValueError):
    """Refused input: `errors` maps a field name to its Chinese message; nothing was written."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("；".join(errors.values()))


# --- definitions -------------------------------------------------------------------------------------------------


def definition_errors(
    *,
    key: str,
    label: str,
    unit: str,
    type: str,
    role: str,
    total: str,
    max_digits: int,
    decimals: int,
    max_length: int,
    description: str = "",
) -> dict[str, str]:
    """Every problem with a definition, by field, each message naming the parameter."""
    name = f"报告参数“{key}”"
    errors: dict[str, str] = {}
    problem = formulas.key_error(key) if key else "报告参数缺少键（key）"
    if problem:
        errors["key"] = problem
    elif len(key) > 120:
        errors["key"] = f"{name}的键超过 120 字"
    if not label.strip():
        errors["label"] = f"{name}缺少名称（label）"
    elif len(label) > LABEL_LIMIT:
        errors["label"] = f"{name}的名称超过 {LABEL_LIMIT} 字"
    if len(unit) > UNIT_LIMIT:
        errors["unit"] = f"{name}的单位超过 {UNIT_LIMIT} 字"
    if len(description) > DESCRIPTION_LIMIT:
        errors["description"] = f"{name}的说明超过 {DESCRIPTION_LIMIT} 字"
    if type not in ParameterType.values:
        errors["type"] = f"{name}的类型“{type}”不存在，可用：{'、'.join(ParameterType.values)}"
    if role not in [r.value for r in ROLES]:
        errors["role"] = f"{name}的填报角色“{role}”不存在，可用：{'、'.join(r.value for r in ROLES)}"
    if total not in ParameterTotal.values:
        errors["total"] = f"{name}的取值方式“{total}”不存在，可用：{'、'.join(ParameterTotal.values)}"
    elif total == ParameterTotal.SUM and type in (ParameterType.TEXT, ParameterType.DATE):
        errors["total"] = f'{name}是{TYPE_WORDS.get(type, type)}，不能合计（total = "sum" 只用于整数和小数）'
    for field, value, low, high in (
        ("max_digits", max_digits, 1, MAX_DIGITS),
        ("decimals", decimals, 0, MAX_DECIMALS),
        ("max_length", max_length, 1, MAX_TEXT),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[field] = f"{name}的 {field} 应为 {low} 到 {high} 之间的整数"
    return errors


def key_owner(key: str) -> Indicator | None:
    return Indicator.objects.filter(key=key).first()


@transaction.atomic
def define(
    *,
    key: str,
    label: str,
    unit: str = "",
    type: str = ParameterType.INTEGER,
    role: str = Role.CLERK,
    total: str = ParameterTotal.SELF,
    max_digits: int = 12,
    decimals: int = 2,
    max_length: int = 200,
    description: str = "",
    pack: str = "",
    owner_org: Organization | None = None,
) -> Parameter:
    """Create or update one parameter. Raises ParameterInvalid (nothing written) for a bad definition or a key that
    is another indicator's, or another pack's parameter."""
    errors = definition_errors(
        key=key,
        label=label,
        unit=unit,
        type=type,
        role=role,
        total=total,
        max_digits=max_digits,
        decimals=decimals,
        max_length=max_length,
        description=description,
    )
    existing = key_owner(key) if "key" not in errors else None
    if existing is not None:
        if existing.kind != Kind.PARAMETER:
            where = f"数据包 {existing.pack}" if existing.pack else "网页中定义"
            errors["key"] = f"键“{key}”已是指标“{existing.label}”（{where}），报告参数不能与指标同名"
        elif existing.pack != pack:
            errors["key"] = (
                f"报告参数“{key}”已由{_owner_words(existing.pack)}定义，不能由{_owner_words(pack)}重新定义"
            )
    if not errors:
        known = set(Indicator.objects.exclude(key=key).values_list("key", flat=True))
        conflict = [e for e in formulas.key_conflicts(known | {key}) if f"“{key}”" in e]
        if conflict:
            errors["key"] = conflict[0]
    if errors:
        raise ParameterInvalid(errors)
    ind, _ = Indicator.objects.update_or_create(
        key=key,
        defaults={
            "label": label.strip(),
            "unit": unit.strip(),
            "pack": pack,
            "kind": Kind.PARAMETER,
            "description": description,
            "ledger": None,
            "aggregate": "",
            "field": "",
            "formula": "",
            "attribute": "",
        },
    )
    param, _ = Parameter.objects.update_or_create(
        indicator=ind,
        defaults={
            "type": type,
            "role": role,
            "total": total,
            "max_digits": max_digits,
            "decimals": decimals,
            "max_length": max_length,
            **({"owner_org": owner_org} if owner_org is not None else {}),
        },
    )
    return param


def _owner_words(pack: str) -> str:
    return f"数据包 {pack}" if pack else "网页"


def remove(params: Iterable[Parameter]) -> None:
    """Remove definitions (a pack no longer lists them) with their values."""
    for param in params:
        ind = param.indicator
        param.delete()
        ind.delete()


def get(key: str) -> Parameter | None:
    return Parameter.objects.select_related("indicator").filter(indicator__key=key).first()


# --- values ------------------------------------------------------------------------------------------------------

_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+)(?:\.(\d+))?")
_CN_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


def parse(param: Parameter, text: str) -> tuple[str, Any]:
    """The canonical text and the typed value of an entry; raises ParameterInvalid({"value": …}) naming the field."""
    raw = (text or "").strip()
    if param.type in (ParameterType.INTEGER, ParameterType.DECIMAL):
        raw = raw.replace(",", "").replace("，", "")  # 1,260 as Excel and WPS write it
    label = f"【{param.label}】"
    if not raw:
        raise ParameterInvalid({"value": f"{label}为必填项"})
    if param.type == ParameterType.INTEGER:
        if not _INTEGER.fullmatch(raw):
            raise ParameterInvalid({"value": f"{label}应为整数，“{raw[:40]}”不是整数"})
        digits = len(raw.lstrip("+-").lstrip("0") or "0")
        if digits > param.max_digits:
            raise ParameterInvalid({"value": f"{label}最多 {param.max_digits} 位数字，填写的有 {digits} 位"})
        number = int(raw)
        return str(number), number
    if param.type == ParameterType.DECIMAL:
        match = _DECIMAL.fullmatch(raw)
        if not match:
            raise ParameterInvalid({"value": f"{label}应为数字，“{raw[:40]}”不是数字"})
        whole, fraction = match.group(1).lstrip("0") or "0", match.group(2) or ""
        if len(whole) > param.max_digits:
            raise ParameterInvalid(
                {"value": f"{label}整数部分最多 {param.max_digits} 位，填写的有 {len(whole)} 位"}
            )
        if len(fraction) > param.decimals:
            raise ParameterInvalid(
                {"value": f"{label}最多 {param.decimals} 位小数，填写的有 {len(fraction)} 位"}
            )
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            raise ParameterInvalid({"value": f"{label}应为数字"}) from None
        return str(amount), amount
    if param.type == ParameterType.DATE:
        day = _date(raw)
        if day is None:
            raise ParameterInvalid({"value": f"{label}应为日期，如 2019-12-31，“{raw[:40]}”不是日期"})
        return day.isoformat(), day
    if len(raw) > param.max_length:
        raise ParameterInvalid({"value": f"{label}最多 {param.max_length} 字，填写的有 {len(raw)} 字"})
    return raw, raw


def _date(raw: str) -> dt.date | None:
    match = _CN_DATE.fullmatch(raw)
    try:
        if match:
            return dt.date(*(int(g) for g in match.groups()))
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def typed(param: Parameter, text: str) -> Any:
    """The typed value of a stored entry (stored entries are canonical; a definition changed later may still
    read them: an unreadable one is None)."""
    try:
        return parse(param, text)[1]
    except ParameterInvalid:
        return None


def lock(user: Any, param: Parameter, org: Organization, start: dt.date, end: dt.date) -> TaskTarget | None:
    """The submitted task target that locks this entry against this user, or None."""
    targets = TaskTarget.objects.filter(
        status=TargetStatus.SUBMITTED,
        org=org,
        task__parameters=param,
        task__period_start=start,
        task__period_end=end,
    ).select_related("task", "org", "task__creator_org")
    scope = access.scope(user)
    return next((t for t in targets if not scope.may_return(t)), None)


@transaction.atomic
def enter(
    user: Any,
    param: Parameter,
    org: Organization,
    start: dt.date,
    end: dt.date,
    text: str,
    source: str,
    upload: UploadedFile | None = None,
    task: CollectionTask | None = None,
) -> ParameterValue:
    """Enter a value: checks who may, the value, the source and the file; raises ParameterInvalid (Chinese, by
    field) or PermissionDenied, and writes nothing then. A task target still 未填报 becomes 暂存."""
    from django.core.exceptions import PermissionDenied

    if not access.scope(user).may_enter_parameter(param, org):
        raise PermissionDenied(f"无权为“{org.name}”填报报告参数“{param.label}”")
    errors: dict[str, str] = {}
    if end < start:
        errors["period_end"] = "【统计期止】不能早于统计期起"
    canonical = ""
    try:
        canonical, _ = parse(param, text)
    except ParameterInvalid as exc:
        errors.update(exc.errors)
    source = (source or "").strip()
    if not source:
        errors["source"] = "【来源说明】为必填项：请写明数值从何而来（如 学习强国后台 2019年12月31日导出）"
    elif len(source) > SOURCE_LIMIT:
        errors["source"] = f"【来源说明】最多 {SOURCE_LIMIT} 字，填写的有 {len(source)} 字"
    if upload is not None:
        try:
            check_upload(upload)
        except RecordInvalid as exc:
            errors["file"] = f"【佐证材料】{exc}"
        if len(upload.name or "") > 200:
            errors["file"] = "【佐证材料】文件名超过 200 字"
    if errors:
        raise ParameterInvalid(errors)
    target = lock(user, param, org, start, end)
    if target is not None:
        raise ParameterInvalid({"__all__": collection.lock_message(target) + "，该单位本期的报告参数已锁定"})
    current = ParameterValue.objects.select_for_update().filter(
        parameter=param, org=org, period_start=start, period_end=end, is_current=True
    )
    current.update(is_current=False)
    entry = ParameterValue(
        parameter=param,
        org=org,
        period_start=start,
        period_end=end,
        value=canonical,
        source=source,
        entered_by=user if getattr(user, "is_authenticated", False) else None,
        task=task,
    )
    if upload is not None:
        entry.file_name = (upload.name or "")[:200]
        entry.file_size = upload.size or 0
        entry.file.save(upload.name or "file", upload, save=False)
    entry.save()
    if task is not None:
        collection.note_entered(user, task, org, f"已填报报告参数“{param.label}”")
    return entry


def current_values(
    params: Iterable[Parameter], org: Organization, start: dt.date, end: dt.date
) -> dict[int, ParameterValue]:
    """The current entries of exactly (org, period), by parameter id."""
    qs = ParameterValue.objects.filter(
        parameter__in=list(params), org=org, period_start=start, period_end=end, is_current=True
    ).select_related("entered_by")
    return {v.parameter_id: v for v in qs}


def entries(param: Parameter, org: Organization, start: dt.date, end: dt.date) -> QuerySet[ParameterValue]:
    """The current entries a report's value of `param` for (org, period) rests on: the org's own, or (合计) those
    of its whole subtree."""
    qs = ParameterValue.objects.filter(
        parameter=param, period_start=start, period_end=end, is_current=True
    ).select_related("org", "entered_by", "task")
    if param.total == ParameterTotal.SUM:
        return qs.filter(org__path__startswith=org.path).order_by("org__path")
    return qs.filter(org=org)


def superseded(rows: list[ParameterValue], limit: int = 50) -> list[ParameterValue]:
    """Earlier entries that the current ones (`rows`) replaced, newest first: corrections stay visible."""
    if not rows:
        return []
    first = rows[0]
    qs = ParameterValue.objects.filter(
        parameter_id=first.parameter_id,
        org__in=[r.org_id for r in rows],
        period_start=first.period_start,
        period_end=first.period_end,
        is_current=False,
    ).select_related("org", "entered_by", "task")
    return list(qs.order_by("-entered_at", "-id")[:limit])


def history(param: Parameter, org: Organization, start: dt.date, end: dt.date) -> QuerySet[ParameterValue]:
    return ParameterValue.objects.filter(
        parameter=param, org=org, period_start=start, period_end=end
    ).select_related("entered_by")


def report_value(param: Parameter, rows: list[ParameterValue]) -> tuple[Any, str]:
    """The value a report shows from the entries `entries()` gave, and a note: why there is none (未填报), or how
    it was made (合计 of n units)."""
    if not rows:
        return None, "未填报：该单位本期没有填报这个报告参数"
    if param.total != ParameterTotal.SUM:
        value = typed(param, rows[0].value)
        return value, "" if value is not None else "填报值与参数的类型不符，请重新填报"
    numbers = [typed(param, r.value) for r in rows]
    if any(n is None for n in numbers):
        return None, "有单位的填报值与参数的类型不符，请重新填报"
    return sum(numbers), f"{len(rows)} 个单位填报值合计"
