"""Web forms for ledgers: the record form generated from a ledger's fields, and the records table's filters.

The record form only collects what the user typed: all checking is done by `services.save_record` with the
per-type validators every entry path shares, so the web form can never accept what an import would refuse.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import F, Q, QuerySet
from django.http import QueryDict

from dangjian.orgs import access
from dangjian.orgs.models import Organization
from dangjian.orgs.picker import OrgChoiceField, code_picker

from .conditions import value_order, value_q
from .fields import parse_date
from .models import FieldType, LedgerField, LedgerType, RecordQuerySet
from .workflow_definition import workflow_of

ORG_FIELD = "reporting_org"  # the reporting org (not a ledger field: it is fixed when the record is entered)
NUMERIC_TYPES = {FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY}
SEARCH_TYPES = {FieldType.TEXT, FieldType.LONGTEXT, FieldType.PERSON}
SELECT_TYPES = {FieldType.CHOICE, FieldType.MULTICHOICE, FieldType.BOOL}
BOOL_CHOICES = [("", "—"), ("是", "是"), ("否", "否")]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def form_field(spec: LedgerField, user: Any = None, current: Any = None) -> forms.Field:
    """A lenient Django field per type: it renders the right widget and passes the input on unchanged.
    An org field offers the active orgs the user sees (and the org it already names, `current`)."""
    common: dict[str, Any] = {"label": spec.label, "required": False, "help_text": spec.help_text}
    kind = spec.type
    if kind == FieldType.DATE:
        widget: forms.Widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    elif kind == FieldType.LONGTEXT:
        widget = forms.Textarea(attrs={"rows": 4})
    elif kind == FieldType.CHOICE:
        widget = forms.Select(choices=[("", "—请选择—")] + [(c, c) for c in spec.choices])
    elif kind == FieldType.MULTICHOICE:
        widget = forms.CheckboxSelectMultiple(choices=[(c, c) for c in spec.choices])
    elif kind == FieldType.BOOL:
        widget = forms.Select(choices=BOOL_CHOICES)
    elif kind == FieldType.FILE:
        widget = MultipleFileInput(attrs={"accept": _accept()})
    elif kind == FieldType.ORG:
        # A select of the user's part of the active tree (the validator still accepts a typed name or code).
        named = Q(code=current) if isinstance(current, str) and current else Q(pk__in=[])
        visible = access.scope(user).orgs().filter(is_active=True).values("pk")
        orgs = Organization.objects.filter(Q(pk__in=visible) | named).order_by("path")
        widget = code_picker(orgs, empty="—请选择—")
    elif kind in NUMERIC_TYPES:
        widget = forms.TextInput(attrs={"inputmode": "decimal" if kind != FieldType.INTEGER else "numeric"})
    else:
        widget = forms.TextInput()
    return forms.Field(widget=widget, **common)


def _accept() -> str:
    from django.conf import settings

    return ",".join(settings.ATTACHMENT_EXTENSIONS)


def initial_value(spec: LedgerField, value: Any) -> Any:
    """A stored value as the widget shows it."""
    if spec.type == FieldType.BOOL and isinstance(value, bool):
        return "是" if value else "否"
    if spec.type == FieldType.FILE:
        return None
    return value


class RecordForm(forms.Form):
    """Add/edit form built from the ledger's active fields; the reporting org is chosen only when adding."""

    def __init__(
        self,
        ledger_type: LedgerType,
        user: Any,
        data: QueryDict | None = None,
        files: Any = None,
        *,
        record: Any = None,
    ) -> None:
        super().__init__(data, files)
        self.ledger_type = ledger_type
        self.specs = ledger_type.active_fields()
        if record is None:
            orgs = access.scope(user).entry_orgs(ledger_type).order_by("path")
            only = list(orgs[:2])
            self.fields[ORG_FIELD] = OrgChoiceField(
                queryset=orgs,
                label="填报单位",
                empty_label="—请选择填报单位—",
                initial=only[0].pk if len(only) == 1 else None,
                error_messages={
                    "required": "【填报单位】为必填项",
                    "invalid_choice": "【填报单位】您无权为该单位填报，请重新选择",
                },
            )
        for spec in self.specs:
            current = record.values.get(spec.code) if record is not None else None
            self.fields[spec.code] = form_field(spec, user, current)
            if record is not None and spec.code in record.values:
                self.initial[spec.code] = initial_value(spec, record.values[spec.code])

    def org_row(self) -> forms.BoundField | None:
        return self[ORG_FIELD] if ORG_FIELD in self.fields else None

    def rows(self) -> list[tuple[forms.BoundField, LedgerField]]:
        return [(self[spec.code], spec) for spec in self.specs]

    def raw_values(self) -> dict[str, Any]:
        """What the user typed, by field code, for the shared validators (files travel separately)."""
        return {s.code: self.cleaned_data.get(s.code) for s in self.specs if s.type != FieldType.FILE}

    def uploads(self) -> dict[str, list[UploadedFile]]:
        """New files by file field code."""
        return {
            spec.code: [f for f in (self.cleaned_data.get(spec.code) or []) if f]
            for spec in self.specs
            if spec.type == FieldType.FILE
        }

    def add_errors(self, errors: dict[str, str]) -> None:
        """Put each service error beside its field; errors without a field go to the top of the form."""
        for code, message in errors.items():
            self.add_error(code if code in self.fields else None, message)


# --- the records table's filters -------------------------------------------------------------------------


@dataclass
class RecordFilter:
    """Filters, search and sort of a records table, read from the query string (shared by HTML and JSON)."""

    ledger_type: LedgerType
    user: Any
    params: QueryDict
    org: Organization | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""
    values: dict[str, str] = field(default_factory=dict)
    state: str = ""  # 清单流程的状态（只对带流程的台账）
    sort: str = "-date"
    deleted: bool = False
    may_write: bool = False  # may see (and restore) deleted records: offers the 已删除 filter
    errors: list[str] = field(default_factory=list)

    RESERVED = frozenset({"org", "from", "to", "q", "sort", "page", "format", "deleted", "state"})

    @classmethod
    def from_request(cls, ledger_type: LedgerType, user: Any, params: QueryDict) -> RecordFilter:
        f = cls(ledger_type, user, params)
        scope = access.scope(user)
        f.may_write = scope.may_restore_in(ledger_type)
        if code := params.get("org", "").strip():
            # Only orgs within the user's own subtrees can be picked: an unknown code filters nothing away
            # from others' data because records() already limits the rows, but it must not reveal names.
            f.org = scope.orgs().filter(code=code).first()
            if f.org is None:
                f.errors.append("所选单位不在您的查看范围内")
        f.date_from = f._date("from", "起始日期")
        f.date_to = f._date("to", "截止日期")
        f.q = params.get("q", "").strip()[:100]
        for spec in f.filterable_fields():
            value = params.get(spec.code, "").strip()
            if value and spec.code not in cls.RESERVED:
                f.values[spec.code] = value
        state = params.get("state", "").strip()
        if state:
            if state in f.states():
                f.state = state
            else:
                f.errors.append(
                    f"没有“{state[:30]}”这个状态，可选：{'、'.join(f.states()) or '（该台账没有清单流程）'}"
                )
        sort = params.get("sort", "").strip()
        if sort and sort.lstrip("-") in f.sort_keys():
            f.sort = sort
        f.deleted = params.get("deleted") == "1" and f.may_write
        return f

    def _date(self, name: str, label: str) -> dt.date | None:
        text = self.params.get(name, "").strip()
        if not text:
            return None
        try:
            return parse_date(text)
        except (ValueError, OverflowError):
            self.errors.append(f"【{label}】格式不正确：“{text}”，请填写如 2019-03-05")
            return None

    # Sensitive fields are never offered for filtering or sorting: either would let a 查看者 probe masked values.
    def filterable_fields(self) -> list[LedgerField]:
        return [s for s in self.ledger_type.active_fields() if s.type in SELECT_TYPES and not s.sensitive]

    def states(self) -> tuple[str, ...]:
        wf = workflow_of(self.ledger_type)
        return wf.states if wf else ()

    def sort_keys(self) -> set[str]:
        keys = {"date", "org"}
        if self.states():
            keys.add("status")
        keys.update(
            s.code for s in self.ledger_type.active_fields() if not s.sensitive and s.type != FieldType.FILE
        )
        return keys

    def apply(self, qs: RecordQuerySet) -> RecordQuerySet:
        """The filters, search and order on records already limited by the scope (live or deleted ones)."""
        if self.org is not None:
            qs = qs.filter(org__path__startswith=self.org.path)
        if self.date_from:
            qs = qs.filter(date__gte=self.date_from)
        if self.date_to:
            qs = qs.filter(date__lte=self.date_to)
        for code, value in self.values.items():
            spec = self.ledger_type.field(code)
            if spec is not None:  # a multi-choice value "equals" an option when its list has it
                qs = qs.where_value(spec, "=", value == "是" if spec.type == FieldType.BOOL else value)
        if self.state:
            qs = qs.filter(status=self.state)
        if self.q:
            qs = qs.filter(self._search_q())
        return qs.order_by(*self._ordering())

    def _search_q(self) -> Q:
        q = Q(pk__in=[])
        scope = access.scope(self.user)
        for spec in self.ledger_type.active_fields():
            if spec.type not in SEARCH_TYPES:
                continue
            match = value_q(spec, "icontains", self.q)
            # A masked value must not be findable by those who see it masked.
            q |= match & scope.may_search(spec)
        return q

    def _ordering(self) -> list[Any]:
        desc = self.sort.startswith("-")
        key = self.sort.lstrip("-")
        tie = "-id" if desc else "id"
        # Date, org and status are never null: a plain order lets the record_list index give date order directly.
        column = {"date": "date", self.ledger_type.date_field: "date", "org": "org__path"}.get(key)
        if column is None and key == "status" and self.states():
            column = "status"
        if column is not None:
            return [F(column).desc() if desc else F(column).asc(), tie]
        spec = self.ledger_type.field(key)
        return [value_order(spec if spec is not None else key, desc=desc), tie]

    # --- links -----------------------------------------------------------------------------------------------

    def query(self, **overrides: Any) -> str:
        """The current query string with some parameters replaced (None drops one); `page` is reset."""
        params = {k: v for k, v in self.params.items() if k not in {"page", "format"} and v}
        params.update({k: v for k, v in overrides.items() if v is not None})
        for k, v in overrides.items():
            if v is None:
                params.pop(k, None)
        return urlencode(params)

    def org_options(self) -> QuerySet[Organization]:
        """The orgs the filter's picker offers: the account's scope, in tree order."""
        return access.scope(self.user).orgs().order_by("path")

    def select_fields(self) -> list[tuple[LedgerField, list[str], str]]:
        out = []
        for spec in self.filterable_fields():
            options = ["是", "否"] if spec.type == FieldType.BOOL else list(spec.choices)
            out.append((spec, options, self.values.get(spec.code, "")))
        return out

    @property
    def active(self) -> bool:
        return bool(self.org or self.date_from or self.date_to or self.q or self.values or self.state)
