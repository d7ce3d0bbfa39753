"""Every xlsx the app writes goes through the one neutraliser (spreadsheets.xlsx.neutralise): with hostile text in
every place a user or an administrator can put it, no cell of any of them is a formula or starts like one.

The xlsx the app produces (keep this list in step with the URL configuration; the last test checks it):
records export (web and command line), template, marked copy of a failed import (in place and streamed),
task progress, overdue items, evidence, the overview and a unit's page, audit log.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.test import Client
from django.urls import get_resolver
from openpyxl import Workbook, load_workbook

from dangjian.audit.models import Action, AuditEvent
from dangjian.orgs.models import Organization
from dangjian.records.models import LedgerField, Record
from dangjian.spreadsheets import imports
from dangjian.spreadsheets.xlsx import FORMULA_STARTS, neutralise
from dangjian.tasks.models import TargetStatus, TaskTarget

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
HOSTILE = ["=cmd|' /C calc'!A0", "\t=1+1", "\r@x", "+1", "-1", "@SUM(A1)"]
ORG_NAME = '=HYPERLINK("http://x")社区'


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def formula_like(content: bytes) -> list[tuple[str, str, object]]:
    """Cells that are formulas or whose text starts like one, in every sheet (hidden ones too)."""
    book = load_workbook(io.BytesIO(content))
    return [
        (sheet.title, cell.coordinate, cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS))
    ]


def texts(content: bytes) -> set[str]:
    book = load_workbook(io.BytesIO(content))
    return {
        v for s in book.worksheets for row in s.iter_rows(values_only=True) for v in row if isinstance(v, str)
    }


def assert_neutral(content: bytes, must_hold: list[str], where: str) -> None:
    """No formula, and the hostile text did reach the file (neutralised), so the check is not vacuous."""
    assert formula_like(content) == [], where
    found = texts(content)
    for text in must_hold:
        assert any(neutralise(text) in value for value in found), (where, text, sorted(found))


@pytest.fixture
def hostile(world, make_record, settings, tmp_path):
    """Hostile text in record values, an org name, a field label, a task, a return reason, an overdue item, an
    indicator label and the audit log."""
    from tests.tasks.conftest import make_task

    from dangjian.packs.handlers_indicators import load_indicators
    from dangjian.packs.loader import Pack

    settings.MEDIA_ROOT = tmp_path / "media"
    Organization.objects.filter(pk=world.c1.pk).update(name=ORG_NAME)
    LedgerField.objects.filter(ledger_type__code="study_activity", code="series").update(label="@系列")
    for i, text in enumerate(HOSTILE):
        record = make_record(
            "study_activity",
            world.c1,
            {"date": f"2019-05-0{i + 1}", "kind": "专题报告", "title": f"学习{i}", "participants": 5},
        )
        # Stored by any path at all (older data, an import before cleaning): exports meet it as it is.
        Record.objects.filter(pk=record.pk).update(
            values={**record.values, "title": text, "place": text, "speaker": text}
        )
    item = make_record(
        "rectification_task",
        world.c1,
        {
            "issued_on": "2019-03-01",
            "source": "巡察反馈",
            "title": "整改",
            "deadline": "2019-06-30",
            "measures": "x",
        },
    )
    Record.objects.filter(pk=item.pk).update(
        values={**item.values, "title": HOSTILE[0], "source": HOSTILE[3]}, status="整改中"
    )
    task = make_task(world, title=HOSTILE[1] + "任务", ledger_types=[world.ledger("study_activity")])
    TaskTarget.objects.filter(task=task).update(status=TargetStatus.RETURNED, return_reason=HOSTILE[5])
    load_indicators(
        [{"key": "学习.次数", "label": "=学习次数", "unit": "次", "ledger": "study_activity"}],
        Pack("t", "t", 50, Path("."), {}),
    )
    AuditEvent.objects.create(
        username=HOSTILE[4], action=Action.EXPORT, target=HOSTILE[2], detail={"note": HOSTILE[0]}
    )
    return task


def test_the_records_export_and_its_command_line_twin(world, hostile, tmp_path):
    from dangjian.spreadsheets.cli import export

    web = client_for(world.unit_admin).get("/ledgers/study_activity.xlsx")
    assert web.status_code == 200
    assert_neutral(web.content, [*HOSTILE, ORG_NAME, "@系列"], "records export")
    out = tmp_path / "导出.xlsx"
    args = dict(ledger="study_activity", org=None, year=2019, output=str(out), actor=world.unit_admin)
    assert export(type("Args", (), args)()) == 0
    assert_neutral(out.read_bytes(), [*HOSTILE, ORG_NAME], "command-line export")


def test_the_template_with_hostile_org_names_and_labels(world, hostile):
    response = client_for(world.clerk).get("/ledgers/study_activity/template.xlsx")
    assert response.status_code == 200
    assert_neutral(response.content, [ORG_NAME, "@系列"], "template")


def test_the_task_progress_the_overdue_list_and_the_evidence(world, hostile):
    client = client_for(world.unit_admin)
    urls = {
        f"/ledgers/tasks/{hostile.pk}.xlsx": [HOSTILE[1] + "任务", ORG_NAME, HOSTILE[5]],
        "/ledgers/overdue.xlsx": [HOSTILE[0], HOSTILE[3], ORG_NAME],
        "/indicators/evidence/?key=学习.次数&org=root&start=2019-01-01&end=2019-12-31&format=xlsx": [
            *HOSTILE,
            ORG_NAME,
            "=学习次数",
        ],
    }
    for url, must_hold in urls.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert_neutral(response.content, must_hold, url)


def test_the_overview_and_a_units_page(world, hostile):
    """概览 (every chart a sheet) and a unit's own page: task titles, org names and list items as stored."""
    client = client_for(world.unit_admin)
    urls = {
        "/overview/data.xlsx?year=2019": [HOSTILE[1] + "任务", HOSTILE[3]],
        f"/overview/units/{world.c1.code}.xlsx?month=2019-06": [HOSTILE[1] + "任务", HOSTILE[3]],
    }
    for url, must_hold in urls.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert_neutral(response.content, must_hold, url)


def test_the_audit_log(duties, hostile):
    response = client_for(duties.auditor).get("/audit/export.xlsx")
    assert response.status_code == 200
    assert_neutral(response.content, [HOSTILE[4], HOSTILE[2]], "audit export")


@pytest.mark.parametrize("in_place", [True, False], ids=["marked in place", "streamed copy"])
def test_the_marked_copy_of_a_failed_import(world, tmp_path, monkeypatch, settings, in_place):
    """The uploader's own hostile text comes back neutralised in either kind of marked copy."""
    settings.MEDIA_ROOT = tmp_path / "media"
    if not in_place:
        monkeypatch.setattr(imports, "IN_PLACE_BYTES", 0)
    book = Workbook()
    sheet = book.active
    sheet.append(["填报单位", "活动日期*", "活动类型*", "主题*", "地点"])
    for text in HOSTILE:
        sheet.append(["幸福社区", "不是日期", "专题报告", text, text])  # every row has an error: the date
        for cell in sheet[sheet.max_row][3:]:
            cell.data_type = "s"  # typed as text (openpyxl would take "=…" for a formula)
    path = tmp_path / "导入.xlsx"
    book.save(path)
    client = client_for(world.clerk)
    with path.open("rb") as handle:
        page = client.post("/ledgers/study_activity/import", {"file": handle})
    token = page.context["token"]
    assert page.context.get("error_copy"), page.content.decode()[:2000]
    response = client.get(f"/ledgers/study_activity/import/{token}/errors.xlsx")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert_neutral(content, HOSTILE, "marked copy")


def test_this_file_covers_every_xlsx_url():
    """A new xlsx URL must be added above (and write its cells through neutralise)."""
    covered = {
        "ledgers:records_xlsx",
        "ledgers:template",
        "ledgers:import_errors",
        "ledgers:task_xlsx",
        "ledgers:overdue_xlsx",
        "audit:export",
        "overview:index_xlsx",
        "overview:unit_xlsx",
    }  # fmt: skip  (evidence xlsx is ?format=xlsx on the evidence page, covered above)

    def names(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                ns = f"{pattern.namespace}:" if pattern.namespace else prefix
                yield from names(pattern, ns)
            elif "xlsx" in str(pattern.pattern) and pattern.name:
                yield f"{prefix}{pattern.name}"

    assert set(names(get_resolver())) <= covered
