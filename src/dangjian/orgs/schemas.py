"""The org resource's schemas: one shape for the API and the JSON twins (`api.schemas` re-exports them)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from dangjian.orgs.models import Organization


class OrgRef(Schema):
    code: str
    name: str


class OrgOut(Schema):
    code: str = Field(..., description="组织代码")
    name: str = Field(..., description="全称")
    short_name: str = Field(..., description="简称")
    kinds: list[str] = Field(..., description="组织类别代码，如 community")
    parent: str | None = Field(..., description="上级组织代码（最上级为 null）")
    depth: int = Field(..., description="层级（最上级为 1）")
    is_active: bool


def org_ref(org: Organization) -> dict[str, str]:
    return {"code": org.code, "name": org.name}


def org_out(org: Organization, parents: dict[str, str]) -> dict[str, Any]:
    return {
        "code": org.code,
        "name": org.name,
        "short_name": org.short_name,
        "kinds": [k.code for k in org.kinds.all()],
        "parent": parents.get(org.path[: -Organization.steplen]) if org.depth > 1 else None,
        "depth": org.depth,
        "is_active": org.is_active,
    }
