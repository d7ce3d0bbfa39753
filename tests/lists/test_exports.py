"""The overdue overview's xlsx and `dangjian overdue --format json` show what its JSON twin shows: the same
`lists.schemas.ItemOut` rows, the xlsx under `ITEM_COLUMNS`' Chinese titles."""

from __future__ import annotations

import io
import json

from openpyxl import load_workbook
from tests.lists.test_workflow import TASK, _item, client_for

from dangjian.lists import schemas, workflow
from dangjian.records import services


def test_the_overdue_workbook_has_the_twins_items_column_by_column(world):
    _item(world, status="整改中", title="=cmd|' /C calc'!A0")
    _item(world, status="待整改", title="第二项", deadline="2019-07-31")
    lt = world.ledger("rectification_task")
    services.save_record(world.sibling, lt, {**TASK, "source": "审计"}, org=world.c2)
    client = client_for(world.unit_admin)
    twin = client.get("/ledgers/overdue.json").json()
    book = load_workbook(io.BytesIO(client.get("/ledgers/overdue.xlsx").content))
    head, *rows = book["逾期事项"].iter_rows(values_only=True)
    assert list(head) == [c.title for c in schemas.ITEM_COLUMNS] == [
        "台账", "编号", "填报单位", "事项", "来源", "状态", "时限", "逾期天数", "说明"
    ]  # fmt: skip
    assert len(rows) == len(twin["items"]) == 3
    for row, item in zip(rows, twin["items"], strict=True):
        expected = [c.value(item) for c in schemas.ITEM_COLUMNS]
        expected[3] = "'" + expected[3] if expected[3].startswith("=") else expected[3]  # neutralised
        assert list(row) == expected
    assert {r[3] for r in rows} >= {"'=cmd|' /C calc'!A0", "第二项"}
    units = [tuple(r) for r in book["按单位"].iter_rows(min_row=2, values_only=True)]
    assert units == [tuple(u) for u in twin["by_unit"]]


def test_the_overdue_command_gives_the_twins_items(world):
    _item(world, status="整改中")
    code, text = workflow.overdue_command("s1", "json", actor=world.unit_admin)
    data = json.loads(text)
    twin = client_for(world.unit_admin).get("/ledgers/overdue.json").json()
    assert code == 0 and data["count"] == 1 and data["items"] == twin["items"]
    assert set(data["items"][0]) == set(schemas.ItemOut.model_fields)
