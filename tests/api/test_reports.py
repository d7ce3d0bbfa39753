"""Reports and checks through the API: the DESIGN.md JSON shape, computed for the token's account."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(world, make_record, report_pack):
    for n, kind in enumerate(["中心组集体学习", "中心组集体学习", "观看舞台剧"]):
        values = {"date": f"2019-0{n + 3}-05", "kind": kind, "title": f"活动{n}", "participants": 10}
        make_record("study_activity", world.c1, values)


def test_a_report_comes_as_the_cli_json_and_only_for_orgs_in_reach(world, api, activity):
    clerk = api(world.clerk)
    report = clerk.get("/api/reports/testreport/c1/2019").json()
    assert set(report) == {"template", "org", "period", "text", "slots", "checks"}
    assert report["org"] == {"code": "c1", "name": world.c1.name}
    assert "集体学习2次" in report["text"]
    slot = next(s for s in report["slots"] if s["indicator"] == "学习.中心组次数")
    assert (
        slot["value"] == 2
        and slot["evidence"]["records"] == 2
        and "start=2019-01-01" in slot["evidence"]["url"]
    )
    assert clerk.get("/api/reports/testreport/c2/2019").status_code == 404
    bad_year = clerk.get("/api/reports/testreport/c1/1800")
    assert bad_year.status_code == 400 and "年度" in bad_year.json()["detail"]


def test_checks_and_finalised_runs(world, api, activity):
    from dangjian.indicators.engine import Period
    from dangjian.reports.models import ReportTemplate
    from dangjian.reports.runs import finalise

    checks = api(world.clerk).get("/api/checks", org="c1", year=2019).json()["checks"]
    minimum = next(c for c in checks if c["code"] == "t_min_sessions")
    assert minimum["ok"] is False and "2" in minimum["message"]

    run = finalise(
        ReportTemplate.objects.get(key="testreport"), world.c1, Period.year(2019), world.reviewer, "测试定稿"
    )
    listed = api(world.clerk).get("/api/reports/runs").json()
    assert [r["id"] for r in listed["results"]] == [run.pk]
    one = api(world.clerk).get(f"/api/reports/runs/{run.pk}").json()
    assert one["text"] == run.text and one["created_by"] == "reviewer"
    assert api(world.sibling).get("/api/reports/runs").json()["count"] == 0
    assert api(world.sibling).get(f"/api/reports/runs/{run.pk}").status_code == 404


def test_a_report_and_its_finalised_run_have_one_shape_everywhere(world, api, activity):
    """A fresh render (API, `.json` download) and a finalised run read back (API, run `.json`) all go through
    `reports.schemas.report_out`: same keys, same values while the data has not changed."""
    import json

    from django.test import Client

    from dangjian.indicators.engine import Period
    from dangjian.reports.models import ReportTemplate
    from dangjian.reports.render_json import render_dict
    from dangjian.reports.runs import finalise
    from dangjian.reports.schemas import ReportOut, RunBrief, SlotOut
    from dangjian.reports.templating import render

    template = ReportTemplate.objects.get(key="testreport")
    run = finalise(template, world.c1, Period.year(2019), world.reviewer, "测试定稿")
    fresh = api(world.reviewer).get("/api/reports/testreport/c1/2019").json()
    assert set(fresh) == set(ReportOut.model_fields)
    assert all(set(slot) == set(SlotOut.model_fields) for slot in fresh["slots"]) and fresh["slots"]
    assert render_dict(render(template, world.c1, Period.year(2019))) == fresh

    stored = api(world.reviewer).get(f"/api/reports/runs/{run.pk}").json()
    brief = {k: stored.pop(k) for k in ("id", "created_at", "created_by")}
    assert brief["id"] == run.pk and set(brief) | set(ReportOut.model_fields) >= set(RunBrief.model_fields)
    assert stored == fresh

    web = Client()
    web.force_login(world.reviewer, backend="django.contrib.auth.backends.ModelBackend")
    download = web.get(f"/reports/runs/{run.pk}.json")
    assert download.status_code == 200 and json.loads(download.content) == fresh
    download = web.get("/reports/testreport/c1/2019.json")
    assert download.status_code == 200 and json.loads(download.content) == fresh
