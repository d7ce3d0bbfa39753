"""`{% workflow_panel record %}`: the state, the steps the user may take and the timeline, on the record page.

A tag rather than view code so that the record page only includes it: ledgers without a workflow show nothing.
"""

from __future__ import annotations

from typing import Any

from django import template

from dangjian.lists import workflow

register = template.Library()


@register.inclusion_tag("lists/_workflow.html", takes_context=True)
def workflow_panel(context: Any, record: Any) -> dict[str, Any]:
    wf = workflow.workflow_of(record.ledger_type)
    if wf is None:
        return {"wf": None}
    user = context["request"].user
    return {
        "wf": wf,
        "record": record,
        "deadline": record.values.get(wf.deadline_field),
        "overdue": workflow.is_overdue(record),
        "steps": workflow.available(user, record),
        "timeline": workflow.timeline(record),
    }
