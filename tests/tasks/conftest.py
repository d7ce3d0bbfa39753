"""A 填报任务 for tests (tasks, records, spreadsheets, api and security tests use it)."""

from __future__ import annotations

import datetime as dt

from dangjian.orgs.models import OrgKind
from dangjian.tasks import collection


def make_task(world, user=None, **extra):
    """A 填报任务 from 城关街道 (s1) to its communities for 2019, due far in the future; `extra` overrides."""
    options = dict(
        title="2019年度党建工作数据",
        creator_org=world.s1,
        ledger_types=[world.ledger("organization_life")],
        period_start=dt.date(2019, 1, 1),
        period_end=dt.date(2019, 12, 31),
        scope_root=world.s1,
        kinds=OrgKind.objects.filter(code="community"),
        deadline=dt.date(2099, 1, 15),
    )
    options.update(extra)
    return collection.create_task(user or world.reviewer, **options)
