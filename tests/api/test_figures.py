"""The evidence page's JSON twin and the API's evidence serialise through `indicators.schemas`: the same keys and
values, the API only adding its page numbers; the indicator definitions and checks come from the same module."""

from __future__ import annotations

import pytest
from django.test import Client

from dangjian.indicators import schemas

pytestmark = pytest.mark.django_db


def study(title: str, kind: str = "中心组集体学习") -> dict:
    return {"date": "2019-03-05", "kind": kind, "title": title, "participants": 9}


def web(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.usefixtures("report_pack")
@pytest.mark.parametrize("key", ["学习.中心组次数", "学习.舞台剧", "本区.简称"])
def test_the_evidence_twin_gives_the_apis_evidence(world, api, make_record, key):
    make_record("study_activity", world.c1, study("中心组学习"))
    make_record("study_activity", world.c2, study("外单位学习"))
    make_record("study_activity", world.c1, study("《焦裕禄》", kind="观看舞台剧"))
    for user in (world.clerk, world.unit_admin):
        org = "c1" if user is world.clerk else "root"
        period = {"start": "2019-01-01", "end": "2019-12-31"}
        from_api = api(user).get("/api/indicators/evidence", key=key, org=org, page_size=200, **period).json()
        twin = web(user).get("/indicators/evidence/", {"key": key, "org": org, "format": "json", **period})
        assert twin.status_code == 200
        assert {k: from_api.pop(k) for k in ("page", "pages", "page_size")} == {
            "page": 1,
            "pages": 1,
            "page_size": 200,
        }
        assert twin.json() == from_api
        assert set(from_api) == set(schemas.EvidenceDetail.model_fields)
    if key != "本区.简称":
        assert from_api["records"] and set(from_api["records"][0]) == set(
            schemas.EvidenceRecordOut.model_fields
        )


@pytest.mark.usefixtures("report_pack")
def test_values_and_checks_link_to_the_evidence_the_twin_shows(world, api, make_record):
    make_record("study_activity", world.c1, study("中心组学习"))
    clerk = api(world.clerk)
    (value,) = clerk.get("/api/indicators/values", org="c1", year=2019, keys="学习.中心组次数").json()[
        "values"
    ]
    assert set(value) == set(schemas.ValueOut.model_fields) and value["value"] == 1
    twin = web(world.clerk).get(value["evidence"]["url"] + "&format=json").json()
    assert twin["count"] == value["evidence"]["records"] == 1 and twin["value"] == value["value"]
    checks = clerk.get("/api/checks", org="c1", year=2019).json()
    assert checks["checks"] and all(set(c) == set(schemas.CheckOut.model_fields) for c in checks["checks"])
    listed = clerk.get("/api/indicators", q="学习.中心组次数").json()["results"]
    assert listed == [
        {
            "key": "学习.中心组次数",
            "label": "中心组集体学习次数",
            "unit": "次",
            "kind": "aggregate",
            "aggregate": "count",
            "ledger": "study_activity",
            "pack": "testreport",
        }
    ]
