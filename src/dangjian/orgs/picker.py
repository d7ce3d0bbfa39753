"""The one way an org is chosen: a select of the orgs in the account's scope, indented as a tree, that
static/dangjian/orgpicker.js turns into a searchable picker (type part of a name, code or short name; arrows and
Enter). Without JavaScript it stays a plain select that still reads as a tree.

Forms use `OrgChoiceField` (a ModelChoiceField, values are primary keys); templates that build their own
`<select name="org">` of org codes use the `{% org_picker %}` tag (web/templatetags/dangjian.py), which renders
the same widget. Either way the caller passes the scope's queryset: the picker offers nothing else.

A page that needs more on each option (the report form's org kinds and last year with data, read by its own script)
passes `option_attrs`: org -> extra attributes, written after data-depth/data-search and before `selected`. A
script that disables or hides options (an org that does not fit the page's other choices) tells orgpicker.js by
dispatching `orgpicker:update` on the select; the search then skips those options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django import forms

from .models import Organization

INDENT = "\u3000"  # a full-width space per level below the top org offered

OptionAttrs = Callable[[Organization], Mapping[str, Any]]  # an org's extra option attributes (data-kinds, …)


def org_label(org: Organization, top_depth: int) -> str:
    return INDENT * max(org.depth - top_depth, 0) + org.name


def _search_text(org: Organization) -> str:
    return " ".join(filter(None, (org.name, org.short_name, org.code)))


class OrgPicker(forms.Select):
    """A select whose options carry their depth and search text; `data-org-picker` marks it for orgpicker.js."""

    def __init__(self, attrs: dict[str, Any] | None = None, option_attrs: OptionAttrs | None = None) -> None:
        super().__init__({"data-org-picker": "", **(attrs or {})})
        self.orgs: dict[
            str, Organization
        ] = {}  # option value -> org, for options given as plain (code, label)
        self.option_attrs = option_attrs

    def create_option(
        self,
        name: str,
        value: Any,
        label: int | str,
        selected: bool,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        org = getattr(value, "instance", None) or self.orgs.get(str(value))
        if isinstance(org, Organization):
            found = {"data-depth": str(org.depth), "data-search": _search_text(org)}
            extra = dict(self.option_attrs(org)) if self.option_attrs else {}
            extra.pop("selected", None)  # the choice is the widget's value, never an extra attribute
            # `selected` stays last, as Django writes it
            option["attrs"] = {**found, **extra, **option["attrs"]}
        return option


class OrgChoiceField(forms.ModelChoiceField):
    """Orgs from a scope queryset, indented by their depth below the shallowest one offered, in the picker."""

    widget = OrgPicker
    top_depth: int | None = None  # the depth shown unindented; None: the shallowest org of the queryset

    def label_from_instance(self, obj: Organization) -> str:  # type: ignore[override]
        return org_label(obj, self._top())

    def _top(self) -> int:
        if self.top_depth is not None:
            return self.top_depth
        qs: Any = self.queryset
        cached = getattr(self, "_top_of", None)
        if cached is None or cached[0] is not qs:  # the form may set another queryset after __init__
            cached = self._top_of = (qs, min(qs.values_list("depth", flat=True), default=1))
        return cached[1]


def code_picker(
    orgs: Iterable[Organization],
    *,
    empty: str | None = None,
    attrs: dict[str, Any] | None = None,
    option_attrs: OptionAttrs | None = None,
) -> OrgPicker:
    """The picker as a widget whose values are org codes (a record's org field, the selects templates write by
    hand): the same indentation as OrgChoiceField; `empty`, when given, labels a first option with no value."""
    listed = list(orgs)
    top = min((o.depth for o in listed), default=1)
    widget = OrgPicker(attrs, option_attrs)
    widget.orgs = {o.code: o for o in listed}
    choices: list[tuple[str, str]] = [("", empty)] if empty is not None else []
    widget.choices = choices + [(o.code, org_label(o, top)) for o in listed]
    return widget


def render_picker(
    name: str,
    orgs: Iterable[Organization],
    selected: str = "",
    *,
    empty: str | None = None,
    attrs: dict[str, Any] | None = None,
    option_attrs: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """A `<select name=…>` of org codes for a template's own form ({% org_picker %}); `option_attrs`: org code ->
    extra attributes of its option (a mapping, as a template can pass it)."""
    extra = None if option_attrs is None else _by_code(option_attrs)
    return code_picker(orgs, empty=empty, attrs=attrs, option_attrs=extra).render(name, selected or "")


def _by_code(attrs: Mapping[str, Mapping[str, Any]]) -> OptionAttrs:
    return lambda org: attrs.get(org.code, {})
