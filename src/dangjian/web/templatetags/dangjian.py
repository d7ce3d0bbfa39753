"""Template filters for the way dates and durations read in Chinese office documents."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

from django import template
from django.contrib.staticfiles import finders
from django.utils.safestring import SafeString, mark_safe

from dangjian import text

register = template.Library()


@register.filter
def cn_date(value: Any) -> str:
    """2019年3月5日 — no zero padding, as in 公文 (dangjian.text.cn_date)."""
    return text.cn_date(value or None)


@register.filter
def cn_datetime(value: Any) -> str:
    """2019年3月5日 14:05 in the local time zone (dangjian.text.cn_datetime)."""
    return text.cn_datetime(value or None)


@register.filter
def who(user: Any, empty: str = "系统") -> str:
    """A person as the log shows them (dangjian.text.person); `empty` when there is none (a step taken by the
    system, or an account since deleted — the foreign keys are SET_NULL)."""
    return text.person(user, empty)


@register.filter
def minutes(value: dt.timedelta | None) -> int:
    return int(value.total_seconds() // 60) if value else 0


@register.filter
def filesize(value: int | None) -> str:
    size = float(value or 0)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


@register.simple_tag
def static_text(path: str) -> SafeString:
    """A static file's text, for a page opened from disk where /static/ cannot be reached (the standalone report).

    Pages the server sends link their styles instead: the Content-Security-Policy allows no inline style there.
    """
    return mark_safe(_read_static(path))  # noqa: S308 - our own file from the app's static directory


@functools.lru_cache(maxsize=8)
def _read_static(path: str) -> str:
    found = finders.find(path)
    if not isinstance(found, str):
        raise FileNotFoundError(f"static file {path} not found")
    return Path(found).read_text(encoding="utf-8")


@register.simple_tag(takes_context=True)
def may_manage_packs(context: dict[str, Any]) -> bool:
    """Whether the top bar offers 数据包: the account's Scope says (a 管理员 of the reporting org)."""
    from dangjian.orgs import access

    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and access.scope(user).may_manage_packs())


@register.simple_tag(takes_context=True)
def may_manage_backups(context: dict[str, Any]) -> bool:
    """Whether the top bar offers 备份: the account's Scope says (the 系统管理员 alone)."""
    from dangjian.orgs import access

    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and access.scope(user).may_manage_backups())


@register.simple_tag(takes_context=True)
def has_unit_role(context: dict[str, Any]) -> bool:
    """Whether the top bar offers the unit sections (台账 · 填报任务 · 清单 · 报告): the account holds a role at some
    org. The three administrators hold none, and those pages would only tell them so."""
    from dangjian.orgs import access

    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and access.scope(user).has_role)


@register.filter
def record_title(record: Any, user: Any) -> str:
    """{{ record|record_title:user }}: the record named by its key fields, as the account may see them."""
    from dangjian.records.titles import record_title as title

    return title(user, record)


@register.simple_tag
def org_picker(
    name: str,
    orgs: Any,
    selected: str = "",
    empty: str | None = None,
    option_attrs: Any = None,
    **attrs: Any,
) -> SafeString:
    """{% org_picker "org" orgs chosen.org empty="—全部—" id="id_org" required=True %}: a `<select>` of org codes as
    the one org picker (dangjian.orgs.picker): indented as a tree, searchable with orgpicker.js, a plain select
    without it. `orgs`: the scope's orgs for this choice, in tree order; `option_attrs` (optional): org code ->
    extra attributes of its option, e.g. {"data-year": "2019"} for a page's own script."""
    from dangjian.orgs.picker import render_picker

    return mark_safe(  # noqa: S308 - Django's widget escapes
        render_picker(
            name, orgs, str(selected or ""), empty=empty, attrs=attrs, option_attrs=option_attrs or None
        )
    )


@register.simple_tag(takes_context=True)
def may_see_overview(context: dict[str, Any]) -> bool:
    """Whether the top bar offers 概览: the account holds a role at the district (`Scope.district`)."""
    from dangjian.orgs import access

    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and access.scope(user).district() is not None)
