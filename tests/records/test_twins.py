"""The records pages' JSON twins serialise through `records.schemas`: the ledger index, a record's history and a
record's detail give exactly their schema's keys, masked as the account's Scope shows them, in as few queries as
the page needs."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dangjian.orgs.models import Membership, Role
from dangjian.records import schemas
from dangjian.records.models import Attachment, LedgerType

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
SUSPECT = "赵某某"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def fields_of(schema) -> set[str]:
    return set(schema.model_fields)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_ledger_index_twin_is_ledger_summary_out(world, make_record):
    make_record("study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "学习"})
    data = client_for(world.clerk).get("/ledgers/?format=json").json()
    assert set(data) == fields_of(schemas.LedgerIndexOut)
    rows = {row["code"]: row for row in data["ledgers"]}
    assert all(set(row) == fields_of(schemas.LedgerSummaryOut) for row in rows.values())
    lt = LedgerType.objects.get(code="study_activity")
    assert rows["study_activity"] == {
        "code": "study_activity",
        "label": lt.label,
        "category": lt.category,
        "description": lt.description,
        "records": 1,
    }


def test_the_history_twin_is_record_history_out_and_masks_as_the_page(world, make_record):
    record = make_record(
        "discipline_case",
        world.jw,
        {"filed_on": "2019-04-01", "case_no": "测纪案〔2019〕42号", "person": SUSPECT, "rank": "乡科级"},
    )
    viewer = type(world.clerk).objects.create_user("jw_viewer", password="x")
    Membership.objects.create(user=viewer, org=world.jw, role=Role.VIEWER)
    url = f"/ledgers/discipline_case/{record.pk}/history"

    data = client_for(viewer).get(f"{url}.json").json()
    assert set(data) == fields_of(schemas.RecordHistoryOut)
    assert data["ledger"]["code"] == "discipline_case" and data["record"] == record.pk
    (entry,) = data["history"]
    assert set(entry) == fields_of(schemas.HistoryEntryOut) and entry["action"] == "新增"
    assert all(set(c) == fields_of(schemas.ChangeOut) for c in entry["changes"])
    person = next(c for c in entry["changes"] if c["before"] == "" and c["after"] == "＊＊")
    html = client_for(viewer).get(url).content.decode()
    assert SUSPECT not in str(data) and SUSPECT not in html and person["after"] in html

    member = client_for(world.jiwei).get(f"{url}.json").json()
    assert SUSPECT in [c["after"] for c in member["history"][0]["changes"]]


def test_the_record_twin_reads_its_attachments_once(world, make_record):
    record = make_record(
        "study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "学习"}
    )
    for name in ("甲.pdf", "乙.pdf"):
        Attachment.objects.create(record=record, file=SimpleUploadedFile(name, b"x"), name=name, size=1)
    client = client_for(world.clerk)
    with CaptureQueriesContext(connection) as queries:
        data = client.get(f"/ledgers/study_activity/{record.pk}.json").json()
    assert [a["name"] for a in data["attachments"]] == ["甲.pdf", "乙.pdf"]
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "ledgers_attachment"' in q["sql"]]
    assert len(reads) == 1, reads
    html = client.get(f"/ledgers/study_activity/{record.pk}/").content.decode()
    assert "甲.pdf" in html and "乙.pdf" in html


def test_the_xlsx_export_shows_the_twins_values_under_the_import_header(world, make_record):
    """`/ledgers/<code>.xlsx` writes each record as `RecordOut` (the `.json` twin's rows) gives it — masked alike —
    under the import template's header."""
    import io

    from openpyxl import load_workbook

    from dangjian.spreadsheets.xlsx import ORG_HEADER, columns, header

    make_record(
        "discipline_case",
        world.jw,
        {"filed_on": "2019-04-01", "case_no": "测纪案〔2019〕42号", "person": SUSPECT, "rank": "乡科级"},
    )
    viewer = type(world.clerk).objects.create_user("jw_viewer", password="x")
    Membership.objects.create(user=viewer, org=world.jw, role=Role.VIEWER)
    lt = LedgerType.objects.get(code="discipline_case")
    for user in (viewer, world.jiwei):
        client = client_for(user)
        (twin,) = client.get("/ledgers/discipline_case.json").json()["results"]
        book = load_workbook(io.BytesIO(client.get("/ledgers/discipline_case.xlsx").content))
        head, row = book.active.iter_rows(values_only=True)
        assert list(head) == [f"{ORG_HEADER}*", *[header(f) for f in columns(lt)]]
        assert row[0] == twin["org"]["name"]
        cells = {f.code: value for f, value in zip(columns(lt), row[1:], strict=True)}
        assert cells["person"] == twin["values"]["person"] == ("＊＊" if user is viewer else SUSPECT)
        assert cells["case_no"] == twin["values"]["case_no"] and cells["rank"] == twin["values"]["rank"]
        assert cells["filed_on"].date().isoformat() == twin["values"]["filed_on"]
