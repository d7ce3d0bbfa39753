"""The API takes any period: the report's last path segment, `period=` on values, evidence and checks; a bad
period answers 400 with the Chinese reason. Records as tests/reports' report_records (2019 Q1: 2 sessions in c1)."""

from __future__ import annotations

import pytest
from tests.reports.conftest import report_records  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("report_pack", "report_records")]


def test_the_api_takes_a_period(world, api):
    clerk = api(world.reviewer)
    q1 = clerk.get("/api/reports/testreport/s1/2019Q1").json()
    assert q1["period"]["end"] == "2019-03-31" and "集体学习2次" in q1["text"]
    assert clerk.get("/api/reports/testreport/s1/2019").json()["period"]["end"] == "2019-12-31"
    bad = clerk.get("/api/reports/testreport/s1/2019Q5")
    assert bad.status_code == 400 and "报告期“2019Q5”无效" in bad.json()["detail"]
    values = clerk.get("/api/indicators/values", org="s1", period="2019Q1", keys="学习.中心组次数").json()
    assert values["values"][0]["value"] == 2 and values["period"]["end"] == "2019-03-31"
    assert clerk.get("/api/indicators/values", org="s1", year=2019, keys="学习.中心组次数").json()["values"][0][
        "value"
    ] == 4  # fmt: skip
    wrong = clerk.get("/api/indicators/values", org="s1", period="2019年第五季度")
    assert wrong.status_code == 400 and "报告期“2019年第五季度”无效" in wrong.json()["detail"]
    both = clerk.get("/api/checks", org="s1", period="2019Q1", year=2019)
    assert both.status_code == 400 and "只能用一种" in both.json()["detail"]
    checks = clerk.get("/api/checks", org="s1", period="2019Q1").json()
    assert checks["period"]["end"] == "2019-03-31"
    evidence = clerk.get("/api/indicators/evidence", org="s1", period="2019Q1", key="学习.中心组次数").json()
    assert evidence["period"]["end"] == "2019-03-31"
    assert sorted(r["values"]["title"] for r in evidence["records"]) == ["第1次集体学习", "第2次集体学习"]


def test_year_and_start_end_are_read_by_the_same_parser_as_period(world, api):
    """`year` and `start`/`end` are bounded and worded as `period` is (1949 … next year, a range of at most ten
    years, its end not before its start)."""
    reviewer = api(world.reviewer)
    ask = dict(org="s1", keys="学习.中心组次数")
    ranged = reviewer.get("/api/indicators/values", start="2019-01-01", end="2019-03-31", **ask)
    assert ranged.status_code == 200 and ranged.json()["values"][0]["value"] == 2
    for query, said in (
        (dict(year=1900), "“1900”无效"),
        (dict(start="1900-01-01", end="1900-12-31"), "无效"),
        (dict(start="2000-01-01", end="2019-12-31"), "无效"),
        (dict(start="2019-12-31", end="2019-01-01"), "无效"),
        (dict(start="2019-01-01"), "期间参数不正确"),
    ):
        bad = reviewer.get("/api/indicators/values", **query, **ask)
        assert bad.status_code == 400 and said in bad.json()["detail"], (query, bad.json())
