"""Check packs before anything is loaded: every problem at once, each named by file, line and key, in Chinese.

- `pack_problems(pack)`: one pack by itself — unknown sections and keys, missing keys, field types, duplicate codes,
  reserved field labels (the import's own headers), template files, the form of `[[extends]]`.
- `conflicts(packs)`: packs together and against the database — each ledger code, indicator key, check code,
  template key and org kind is owned by one pack; another pack redefining it is refused naming both packs and files;
  an extension names its target pack and ledger, adds only new fields and new choices, and loads after its target.
"""

from __future__ import annotations

import re
from typing import Any

from .loader import Pack, Problem, sections

EXTEND_KEYS = {"ledger", "choices", "fields"}
ORG_KIND_KEYS = {"code", "label", "order"}
OWNED = {  # section → (what it is called, its identifying key)
    "org_kinds": ("组织类别", "code"),
    "ledger_types": ("台账", "code"),
    "indicators": ("指标", "key"),
    "checks": ("核对规则", "code"),
    "templates": ("报告模板", "key"),
    "dashboards": ("驾驶舱", "key"),
    "parameters": ("报告参数", "key"),  # keys in the catalogue of indicator keys (indicators/parameters.py)
}
_UNIT = re.compile(r"[（(][^）)]*[）)]$")


def head_key(label: Any) -> str:
    """A label as the import compares headers: no spaces, no required mark (*), no unit in brackets, lower case."""
    text = re.sub(r"\s+", "", str(label)).strip("*")
    return _UNIT.sub("", text).strip("*").lower()


def reserved_labels(workflow: bool) -> dict[str, str]:
    """Normalised header → what the import reads it as."""
    from dangjian.spreadsheets.imports import ORG_ALIASES
    from dangjian.spreadsheets.xlsx import ORG_CODE, ORG_HEADER, STATE_HEADER

    reserved = {
        head_key(name): f"导入时读作“{ORG_HEADER}”列" for name in (ORG_HEADER, ORG_CODE, *ORG_ALIASES)
    }
    if workflow:
        reserved[head_key(STATE_HEADER)] = f"清单台账导出时“{STATE_HEADER}”列是流程状态"
    return reserved


def _keys(section_name: str) -> tuple[set[str], tuple[str, ...]] | None:
    """(allowed keys, required keys) of a section's items, from the handlers that load them."""
    from . import handlers, handlers_dashboards, handlers_indicators, handlers_parameters, handlers_reports

    table: dict[str, tuple[set[str], tuple[str, ...]]] = {
        "org_kinds": (ORG_KIND_KEYS, ("code", "label")),
        "ledger_types": (handlers.LEDGER_KEYS, ("code", "label", "date_field")),
        "indicators": (handlers_indicators.INDICATOR_KEYS, ("key", "label")),
        # rule, or total / parts / overlap (a rule made from a 重叠类别 declaration): the handler checks which
        "checks": (handlers_indicators.CHECK_KEYS, ("code", "label", "message")),
        "templates": (handlers_reports.TEMPLATE_KEYS, ("key", "label", "file")),
        "extends": (EXTEND_KEYS, ("ledger",)),
        "parameters": (handlers_parameters.PARAMETER_KEYS, ("key", "label")),
        "dashboards": (handlers_dashboards.DASHBOARD_KEYS, handlers_dashboards.REQUIRED_KEYS),
    }
    return table.get(section_name)


class _Collector:
    def __init__(self, pack: Pack, display: str) -> None:
        self.pack = pack
        self.display = display
        self.problems: list[Problem] = []

    def line(self, section_name: str, index: int, key: str = "", sub: tuple = ()) -> tuple[str, int | None]:
        from .lines import locate

        name, at = self.pack.origin(section_name, index)
        return f"{self.display}/{name}", locate(
            self.pack.texts.get(name, ""), ((section_name, at), *sub), key
        )

    def add(
        self, section_name: str, index: int, key: str, message: str, sub: tuple = (), shown: str = ""
    ) -> None:
        file, line = self.line(section_name, index, key, sub)
        self.problems.append(Problem(file, line, shown or key, message))


def display_name(pack: Pack) -> str:
    if pack.display:
        return pack.display
    return pack.path.name if pack.path.name not in ("", ".") else pack.name


def pack_problems(pack: Pack) -> list[Problem]:
    """Everything wrong with one pack by itself."""
    from dangjian.records.models import FieldType

    c = _Collector(pack, display_name(pack))
    known = set(sections())
    for name, items in pack.data.items():
        if name not in known:
            c.add(name, 0, "", f"含有未知的部分：{name}（可用：{'、'.join(sorted(known))}）", shown=name)
            continue
        spec = _keys(name)
        if spec is None:
            continue  # a section of a later stage: its handler checks its items
        allowed, required = spec
        ident_key = OWNED[name][1] if name in OWNED else "ledger"
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            ident = str(item.get(ident_key, ""))
            label = f"{name}[{ident or i + 1}]"
            for key in sorted(set(item) - allowed):
                c.add(
                    name,
                    i,
                    key,
                    f"含有未知属性：{key}（可用：{'、'.join(sorted(allowed))}）",
                    shown=f"{label}.{key}",
                )
            missing = [k for k in required if k not in item]
            if missing:
                c.add(name, i, "", f"缺少：{'、'.join(missing)}", shown=label)
            if ident and ident in seen:
                c.add(name, i, ident_key, f"{ident_key} “{ident}”在本数据包中重复定义", shown=label)
            seen.setdefault(ident, i)
            if name == "ledger_types":
                _ledger_problems(c, i, item, label, FieldType.values)
            elif name == "extends":
                _extension_problems(c, i, item, label, FieldType.values)
            elif name == "templates" and "file" in item:
                _template_file(c, pack, i, item, label)
            elif name == "parameters":
                _parameter_problems(c, i, item, label)
    return c.problems


def _fields_problems(
    c: _Collector, i: int, section_name: str, fields: Any, label: str, types: list[str], workflow: bool
) -> dict[str, str]:
    """Check the [[…fields]] of a ledger or an extension; return code → type of the well-formed ones."""
    from .handlers import FIELD_KEYS

    if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
        c.add(section_name, i, "fields", "fields 应写成 [[…fields]] 表的数组", shown=f"{label}.fields")
        return {}
    found: dict[str, str] = {}
    labels: dict[str, str] = {}
    reserved = reserved_labels(workflow)
    for j, spec in enumerate(fields):
        sub = (("fields", j),)
        code = str(spec.get("code", ""))
        where = f"{label}.fields[{code or j + 1}]"
        for key in sorted(set(spec) - FIELD_KEYS):
            c.add(
                section_name,
                i,
                key,
                f"含有未知属性：{key}（可用：{'、'.join(sorted(FIELD_KEYS))}）",
                sub,
                f"{where}.{key}",
            )
        missing = [k for k in ("code", "label", "type") if k not in spec]
        if missing:
            c.add(section_name, i, "", f"缺少：{'、'.join(missing)}", sub, where)
        if "type" in spec and spec["type"] not in types:
            c.add(
                section_name,
                i,
                "type",
                f"类型“{spec['type']}”不存在，可用：{'、'.join(types)}",
                sub,
                f"{where}.type",
            )
        if code in found:
            c.add(section_name, i, "code", f"字段代码重复：{code}", sub, f"{where}.code")
        for key, problem in _value_problems(spec):
            c.add(section_name, i, key, problem, sub, f"{where}.{key}")
        if "overlaps" in spec:  # 重叠类别: an option that belongs to others too (see indicators/compiler.py)
            from dangjian.indicators.compiler import overlap_errors

            choices = spec.get("choices") if isinstance(spec.get("choices"), list) else []
            for problem in overlap_errors(f"字段 {code}", spec["overlaps"], choices, str(spec.get("type"))):
                c.add(section_name, i, "overlaps", problem, sub, f"{where}.overlaps")
        if "label" in spec:
            norm = head_key(spec["label"])
            if norm in reserved:
                c.add(
                    section_name, i, "label",
                    f"字段名称“{spec['label']}”是保留的表头（{reserved[norm]}），用这个名称的台账无法按自己的模板导入；"
                    "请换一个名称，如“所在单位”“责任单位”",
                    sub, f"{where}.label",
                )  # fmt: skip
            elif norm in labels:
                c.add(
                    section_name, i, "label",
                    f"字段名称“{spec['label']}”与字段 {labels[norm]} 的名称相同，导入时无法区分",
                    sub, f"{where}.label",
                )  # fmt: skip
            labels.setdefault(norm, code)
        if code and code not in found:
            found[code] = str(spec.get("type", ""))
    return found


def _value_problems(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """Values of the wrong kind: a text where a number, a list or true/false belongs."""
    found: list[tuple[str, str]] = []
    for key in ("code", "label", "type", "unit", "help"):
        if key in spec and not isinstance(spec[key], str):
            found.append((key, f"{key} 应为文字"))
    for key in ("min", "max"):
        if key in spec and (isinstance(spec[key], bool) or not isinstance(spec[key], int | float)):
            found.append((key, f"{key} 应为数字"))
    for key in ("required", "sensitive", "key"):
        if key in spec and not isinstance(spec[key], bool):
            found.append((key, f"{key} 应为 true 或 false"))
    if "choices" in spec and not (
        isinstance(spec["choices"], list) and all(isinstance(x, str) and x for x in spec["choices"])
    ):
        found.append(("choices", 'choices 应为文字的列表，如 ["甲", "乙"]'))
    return found


def _ledger_problems(c: _Collector, i: int, item: dict[str, Any], label: str, types: list[str]) -> None:
    fields = _fields_problems(
        c, i, "ledger_types", item.get("fields", []), label, types, bool(item.get("workflow"))
    )
    for key, what in (("date_field", "日期字段"), ("end_date_field", "截止日期字段")):
        value = item.get(key)
        if value and value not in fields:
            c.add("ledger_types", i, key, f"{what}“{value}”不是它的字段", shown=f"{label}.{key}")
        elif value and fields[value] != "date":
            c.add("ledger_types", i, key, f"{what}“{value}”不是日期型字段", shown=f"{label}.{key}")


def _extension_problems(c: _Collector, i: int, item: dict[str, Any], label: str, types: list[str]) -> None:
    target = item.get("ledger")
    if target is not None and (
        not isinstance(target, str) or target.count(":") != 1 or target.startswith(":")
    ):
        c.add("extends", i, "ledger", f"ledger 应写成“数据包:台账代码”，如 \"core:study_activity\"，而不是“{target}”",
              shown=f"{label}.ledger")  # fmt: skip
    fields = item.get("fields", [])
    _fields_problems(c, i, "extends", fields, label, types, False)
    for j, spec in enumerate(fields if isinstance(fields, list) else []):
        for key in ("required", "key"):
            if isinstance(spec, dict) and spec.get(key):
                c.add("extends", i, key, f"扩展别的数据包的台账时不能增加{'必填' if key == 'required' else '查重关键'}"
                      "字段（已有的记录和对方的导入模板没有它）", (("fields", j),), f"{label}.fields.{key}")  # fmt: skip
    choices = item.get("choices", {})
    if not isinstance(choices, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) and x for x in v) for v in choices.values()
    ):
        c.add(
            "extends", i, "choices", 'choices 应写成 { 字段代码 = ["新选项", …] }', shown=f"{label}.choices"
        )
    if not fields and not choices:
        c.add("extends", i, "", "扩展没有增加任何字段或可选项", shown=label)


def _parameter_problems(c: _Collector, i: int, item: dict[str, Any], label: str) -> None:
    """A 报告参数's type, role, bounds, named with file and line (the handler checks the same when loading)."""
    from dangjian.indicators.parameters import definition_errors

    from .handlers_parameters import DEFAULTS, PARAMETER_KEYS

    spec = {**DEFAULTS, **{k: v for k, v in item.items() if k in PARAMETER_KEYS}}
    texts = ("key", "label", "unit", "type", "role", "total", "description")
    if not item.get("key") or not item.get("label") or not all(isinstance(spec.get(k), str) for k in texts):
        return  # missing (named above) or a value of the wrong kind (the handler names it)
    for key, message in definition_errors(**spec).items():
        c.add("parameters", i, key if key in item else "", message, shown=f"{label}.{key}")


def _template_file(c: _Collector, pack: Pack, i: int, item: dict[str, Any], label: str) -> None:
    relative = str(item["file"])
    path = (pack.path / relative).resolve()
    if not path.is_relative_to(pack.path.resolve()):
        c.add("templates", i, "file", f"模板文件“{relative}”不在数据包目录中", shown=f"{label}.file")
    elif not path.is_file():
        c.add("templates", i, "file", f"模板文件“{relative}”不存在", shown=f"{label}.file")


# --- packs together -----------------------------------------------------------------------------------------


def _where(pack: Pack, section_name: str, index: int, key: str = "") -> str:
    from .lines import locate

    name, at = pack.origin(section_name, index)
    line = locate(pack.texts.get(name, ""), ((section_name, at),), key)
    return f"{display_name(pack)}/{name}" + (f" 第 {line} 行" if line else "")


def _owner_where(pack: Pack, section_name: str, ident: str) -> str:
    key = OWNED[section_name][1]
    for i, item in enumerate(pack.data.get(section_name, [])):
        if str(item.get(key, "")) == ident:
            return _where(pack, section_name, i, key)
    return display_name(pack)


def conflicts(packs: list[Pack], *, database: bool = True) -> list[Problem]:
    """Problems between the packs (in loading order) and with definitions already in the database."""
    problems: list[Problem] = []
    by_name: dict[str, Pack] = {}
    for pack in packs:
        other = by_name.get(pack.name)
        if other is not None:
            problems.append(
                Problem(
                    f"{display_name(pack)}/pack.toml",
                    None,
                    "pack.name",
                    f"数据包名称“{pack.name}”已被{other.source_label}数据包（{other.path}）使用",
                )  # fmt: skip
            )
            continue
        by_name[pack.name] = pack
    owners: dict[tuple[str, str], Pack] = {}
    for pack in by_name.values():
        for section_name, (what, key) in OWNED.items():
            for i, item in enumerate(pack.data.get(section_name, [])):
                ident = str(item.get(key, ""))
                if not ident:
                    continue
                owner = owners.setdefault((section_name, ident), pack)
                if owner is not pack:
                    problems.append(
                        _conflict(
                            pack,
                            section_name,
                            i,
                            what,
                            ident,
                            owner.name,
                            _owner_where(owner, section_name, ident),
                        )
                    )
    if database:
        problems += _database_conflicts(list(by_name.values()), owners)
    problems += _extension_conflicts(list(by_name.values()), owners)
    return problems


def _conflict(
    pack: Pack, section_name: str, i: int, what: str, ident: str, owner: str, owner_where: str
) -> Problem:
    key = OWNED[section_name][1]
    file, _, rest = _where(pack, section_name, i, key).partition(" 第 ")
    line = int(rest.removesuffix(" 行")) if rest else None
    hint = (
        "；要给它增加字段或可选项，请用 [[extends]]（见 docs/packs.md）"
        if section_name == "ledger_types"
        else ""
    )
    owned = f"数据包 {owner}（{owner_where}）" if owner else f"系统管理中（{owner_where}）"
    return Problem(
        file,
        line,
        f"{section_name}.{ident}",
        f"{what}“{ident}”已由{owned}定义，数据包 {pack.name} 不能重新定义{hint}",
    )


def _database_conflicts(packs: list[Pack], owners: dict[tuple[str, str], Pack]) -> list[Problem]:
    """A definition in the database owned by a pack not among these (or made in the admin pages) is not theirs."""
    from dangjian.indicators.models import Check, Indicator
    from dangjian.records.models import LedgerType
    from dangjian.reports.models import ReportTemplate
    from dangjian.web.models import Dashboard

    models: dict[str, tuple[Any, str]] = {
        "dashboards": (Dashboard, "key"),
        "ledger_types": (LedgerType, "code"),
        "indicators": (Indicator, "key"),
        "checks": (Check, "code"),
        "templates": (ReportTemplate, "key"),
        "parameters": (Indicator, "key"),
    }
    problems = []
    for section_name, (model, key) in models.items():
        wanted = {ident: pack for (s, ident), pack in owners.items() if s == section_name}
        if not wanted:
            continue
        rows = model.objects.filter(**{f"{key}__in": list(wanted)}).values_list(key, "pack")
        for ident, owner in rows:
            pack = wanted[ident]
            if owner == pack.name:
                continue
            index = next(i for i, item in enumerate(pack.data[section_name]) if str(item.get(key)) == ident)
            where = "数据库中，该数据包已不在" if owner else "在网页或系统管理中建立，不属于任何数据包"
            problems.append(_conflict(pack, section_name, index, OWNED[section_name][0], ident, owner, where))
    return problems


def _target_fields(target: Pack | None, ledger: str, extender: str = "") -> dict[str, dict[str, Any]] | None:
    """The fields of ledger `ledger` as its owner defines it: from the pack's files, else from the database."""
    if target is not None:
        for item in target.data.get("ledger_types", []):
            if item.get("code") == ledger:
                return {str(f.get("code")): f for f in item.get("fields", []) if isinstance(f, dict)}
        return None
    from dangjian.records.models import LedgerType

    lt = LedgerType.objects.filter(code=ledger).prefetch_related("fields").first()
    if lt is None:
        return None
    # What this pack itself added last time is not the owner's: a reload may declare it again.
    mine = (lt.extensions or {}).get(extender, {})
    return {
        f.code: {
            "code": f.code,
            "type": f.type,
            "choices": [c for c in f.choices if c not in mine.get("choices", {}).get(f.code, [])],
        }
        for f in lt.fields.all()
        if f.code not in mine.get("fields", [])
    }


def _extension_conflicts(packs: list[Pack], owners: dict[tuple[str, str], Pack]) -> list[Problem]:
    from dangjian.records.models import LedgerType

    problems: list[Problem] = []
    names = {p.name: p for p in packs}
    added: dict[tuple[str, str], str] = {}  # (ledger, field code) → the extending pack
    added_choices: dict[tuple[str, str, str], str] = {}
    for pack in packs:
        for i, item in enumerate(pack.data.get("extends", [])):
            target_ref = item.get("ledger")
            if not isinstance(target_ref, str) or target_ref.count(":") != 1:
                continue  # pack_problems names it
            owner_name, ledger = target_ref.split(":")
            file, _, rest = _where(pack, "extends", i, "ledger").partition(" 第 ")
            line = int(rest.removesuffix(" 行")) if rest else None
            shown = f"extends[{target_ref}]"

            def problem(
                message: str, key: str = "", *, f: str = file, n: int | None = line, s: str = shown
            ) -> None:
                problems.append(Problem(f, n, f"{s}.{key}" if key else s, message))

            if owner_name == pack.name:
                problem("不能扩展本数据包自己的台账：请直接在 [[ledger_types]] 中修改")
                continue
            target = names.get(owner_name)
            actual = owners.get(("ledger_types", ledger))
            if actual is None and target is None:
                db_owner = LedgerType.objects.filter(code=ledger).values_list("pack", flat=True).first()
                if db_owner is None:
                    problem(f"要扩展的台账“{ledger}”不存在")
                    continue
                if db_owner != owner_name:
                    problem(
                        f"台账“{ledger}”属于数据包 {db_owner or '（无，在系统管理中建立）'}，不是 {owner_name}"
                    )
                    continue
            elif actual is None or actual.name != owner_name:
                problem(
                    f"数据包 {owner_name} 没有台账“{ledger}”"
                    + (f"（它属于数据包 {actual.name}）" if actual is not None else "")
                )
                continue
            elif (actual.order, actual.name) > (pack.order, pack.name):
                problem(f"扩展要在被扩展的数据包之后载入：数据包 {pack.name} 的 order（{pack.order}）应大于 "
                        f"{owner_name} 的 order（{actual.order}）")  # fmt: skip
            fields = _target_fields(target if target is not None else actual, ledger, pack.name) or {}
            for spec in item.get("fields", []) if isinstance(item.get("fields"), list) else []:
                code = spec.get("code") if isinstance(spec, dict) else None
                if not code:
                    continue
                if code in fields:
                    problem(
                        f"字段“{code}”是数据包 {owner_name} 的台账“{ledger}”已有的字段：扩展只能增加新字段，"
                        "不能修改、改类型或删除别的数据包的字段",
                        "fields",
                    )
                elif (ledger, code) in added:
                    problem(f"字段“{code}”已由数据包 {added[(ledger, code)]} 扩展到台账“{ledger}”", "fields")
                else:
                    added[(ledger, code)] = pack.name
            choices = item.get("choices", {})
            for code, values in choices.items() if isinstance(choices, dict) else []:
                spec = fields.get(code)
                if spec is None:
                    problem(f"台账“{ledger}”没有字段“{code}”", f"choices.{code}")
                    continue
                if spec.get("type") not in ("choice", "multichoice"):
                    problem(f"字段“{code}”不是单选或多选字段，不能增加可选项", f"choices.{code}")
                    continue
                for value in values if isinstance(values, list) else []:
                    if value in (spec.get("choices") or []):
                        problem(f"“{value}”已是字段“{code}”的可选项", f"choices.{code}")
                    elif (ledger, code, value) in added_choices:
                        problem(
                            f"可选项“{value}”已由数据包 {added_choices[(ledger, code, value)]} 增加",
                            f"choices.{code}",
                        )
                    else:
                        added_choices[(ledger, code, value)] = pack.name
    return problems
