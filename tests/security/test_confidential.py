"""Finding 3 (issue 8): confidential figures could be pieced together.

The attack: a 查看者 at the district slid `start`/`end` over `/indicators/evidence/?key=…&format=json` — a list
indicator over discipline_case.title gave every case title, day-sized windows on count indicators gave each case's
date and whether it involved 留置. These tests replay it and check the confidentiality rules (保密规则,
access.figure_access) that stop it: only counts and sums, only whole years / halves / quarters, only whole subtrees,
never names (unless the pack discloses them for the annual report), small counts never recoverable — in the
evidence page and its twins and in reports — while a 纪委 member still sees every row, and is logged doing so.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
from openpyxl import load_workbook
from tests.packs.conftest import in_demo  # noqa: F401  (the demo district, built once for the module)

URL = "/indicators/evidence/"
SECRET = "密案"  # every case title carries it: no response to a non-member may contain it
PERSON = "隐名"  # nor the (sensitive) names of the people investigated
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩"

# 15 cases at 区纪委监委 in 2019: 3 / 4 / 3 / 5 a quarter; one 留置 (in February); two with an amount; three in
# 亲清政商关系 (two published by the annual report, the third not).
CASES = [
    ("2019-01-10", {}),
    ("2019-02-11", {"detained": True}),
    ("2019-03-12", {"amount": "5000.00"}),
    ("2019-04-03", {"area": "亲清政商关系"}),
    ("2019-04-20", {}),
    ("2019-05-15", {"area": "亲清政商关系"}),
    ("2019-06-30", {"amount": "7000.00"}),
    ("2019-07-01", {}),
    ("2019-08-08", {}),
    ("2019-09-30", {"area": "亲清政商关系"}),
    ("2019-10-01", {}),
    ("2019-10-15", {}),
    ("2019-11-11", {}),
    ("2019-12-01", {}),
    ("2019-12-31", {}),
]


def ind(key: str, aggregate: str = "count", **extra):
    return {
        "key": key,
        "label": key.split(".")[-1],
        "ledger": "discipline_case",
        "aggregate": aggregate,
        **extra,
    }


@pytest.fixture
def cases(world, make_record):
    from pathlib import Path

    from dangjian.packs.handlers_indicators import load_indicators
    from dangjian.packs.loader import Pack

    for n, (day, extra) in enumerate(CASES, start=1):
        make_record(
            "discipline_case",
            world.jw,
            {
                "filed_on": day,
                "case_no": f"纪案{n}",
                "person": f"{SURNAMES[n - 1]}{PERSON}",
                "title": f"第{n}号{SECRET}",
                "detained": False,
                **extra,
            },
        )
    items = [
        ind("纪律.立案"),
        ind("纪律.留置", where=[{"field": "detained", "op": "=", "value": True}]),
        ind("纪律.案件名称", "list", field="title"),
        ind(
            "纪律.公开案件",
            "list",
            field="title",
            where=[{"field": "area", "op": "=", "value": "亲清政商关系"}],
            order="first",
            limit=2,
            disclose=True,
        ),
        ind("纪律.最早立案", "min", field="filed_on"),
        ind("纪律.最大金额", "max", field="amount"),
        ind("纪律.金额", "sum", field="amount"),
        ind("纪律.件数", "count_distinct", field="case_no"),
        ind("纪律.留置占比", "share", share_where=[{"field": "detained", "op": "=", "value": True}]),
        {"key": "纪律.两倍立案", "label": "两倍立案", "formula": "纪律.立案 * 2"},
        {"key": "纪律.案均金额", "label": "案均金额", "formula": "纪律.金额 / 纪律.立案"},
    ]
    load_indicators(items, Pack("t", "t", 50, Path("."), {}))
    return world


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def window(client, key, start, end, org="root", fmt="json"):
    return client.get(
        URL, {"key": key, "org": org, "start": start.isoformat(), "end": end.isoformat(), "format": fmt}
    )


def year(client, key, org="root", fmt="json", y=2019):
    return window(client, key, dt.date(y, 1, 1), dt.date(y, 12, 31), org, fmt)


def body_of(response) -> str:
    """A response's text: the cells of an xlsx, the paragraphs of a docx, the body of anything else."""
    kind = response.get("Content-Type", "")
    if kind.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(response.content))
        return "\n".join(str(c) for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r)
    if kind.endswith("wordprocessingml.document"):
        xml = zipfile.ZipFile(io.BytesIO(response.content)).read("word/document.xml").decode()
        return re.sub(r"<[^>]+>", "", xml.replace("</w:p>", "\n"))
    return response.content.decode()


def days(y: int = 2019):
    day = dt.date(y, 1, 1)
    while day.year == y:
        yield day
        day += dt.timedelta(days=1)


# --- the attack, replayed ------------------------------------------------------------------------------------


def test_sliding_day_windows_give_a_viewer_nothing(client, cases):
    """Day windows on the count, 留置 and title-list indicators: every one refused, with a Chinese reason."""
    login(client, cases.viewer)
    bodies = []
    for key in ("纪律.立案", "纪律.留置", "纪律.案件名称"):
        for day in days():
            response = window(client, key, day, day)
            assert response.status_code == 403, (key, day)
            bodies.append(body_of(response))
    assert "整年、半年或季度" in bodies[0]
    joined = "\n".join(bodies)
    assert SECRET not in joined and PERSON not in joined and '"value"' not in joined


def test_other_windows_are_refused_in_every_format(client, cases):
    login(client, cases.viewer)
    for start, end in [
        (dt.date(2019, 1, 1), dt.date(2019, 1, 31)),  # a month
        (dt.date(2019, 1, 2), dt.date(2019, 12, 31)),  # a year less a day: year − this = 1 January
        (dt.date(2019, 2, 1), dt.date(2019, 4, 30)),  # three months that are not a quarter
        (dt.date(2019, 4, 1), dt.date(2019, 9, 30)),  # two quarters that are not a half
        (dt.date(2018, 1, 1), dt.date(2019, 12, 31)),  # two years
    ]:
        for fmt in ("json", "xlsx", ""):
            response = window(client, "纪律.立案", start, end, fmt=fmt)
            assert response.status_code == 403, (start, end, fmt)
            assert "涉密台账" in body_of(response)


def test_no_title_or_name_reaches_a_viewer_for_any_period(client, cases):
    """The title list is refused for whole periods too; no body for any indicator carries a title or a name."""
    login(client, cases.viewer)
    from dangjian.orgs.access import quarters

    halves = [(dt.date(2019, 1, 1), dt.date(2019, 6, 30)), (dt.date(2019, 7, 1), dt.date(2019, 12, 31))]
    periods = [(dt.date(2019, 1, 1), dt.date(2019, 12, 31)), *halves, *quarters(2019)]
    keys = [
        "纪律.立案", "纪律.留置", "纪律.案件名称", "纪律.公开案件", "纪律.最早立案", "纪律.最大金额", "纪律.金额",
        "纪律.件数", "纪律.留置占比", "纪律.两倍立案", "纪律.案均金额",
    ]  # fmt: skip
    published = set()
    for key in keys:
        for start, end in periods:
            for fmt in ("json", "xlsx", ""):
                body = body_of(window(client, key, start, end, fmt=fmt))
                assert PERSON not in body, (key, start, fmt)
                published |= {f"第{n}号{SECRET}" for n in range(1, 16) if f"第{n}号{SECRET}" in body}
    # Only the two names the annual report prints (disclose), and only for the whole year.
    assert published == {f"第4号{SECRET}", f"第6号{SECRET}"}
    assert year(client, "纪律.案件名称").status_code == 403
    assert year(client, "纪律.公开案件").json()["value"] == [f"第4号{SECRET}", f"第6号{SECRET}"]
    assert window(client, "纪律.公开案件", dt.date(2019, 4, 1), dt.date(2019, 6, 30)).status_code == 403


def test_whole_year_counts_and_sums_still_work(client, cases):
    login(client, cases.viewer)
    got = {
        k: year(client, k).json()
        for k in ("纪律.立案", "纪律.留置", "纪律.件数", "纪律.留置占比", "纪律.两倍立案")
    }
    assert [got[k]["value"] for k in got] == [15, 1, 15, "6.7", 30]
    # a year's figure is the annual report's, small or not; the rows stay hidden
    assert got["纪律.立案"]["rows_visible"] is False and got["纪律.立案"]["records"] is None
    assert year(client, "纪律.立案", fmt="").status_code == 200


def test_values_that_point_at_one_record_are_refused(client, cases):
    """min/max give one record's value (the earliest 立案日期, the largest amount); a sum over two records is
    their money; a formula made from a refused value is refused too."""
    login(client, cases.viewer)
    for key in ("纪律.最早立案", "纪律.最大金额", "纪律.金额", "纪律.案均金额"):
        response = year(client, key)
        assert response.status_code == 403, key
        assert "2019-01-10" not in response.content.decode() and "7000" not in response.content.decode()


def test_quarters_only_when_no_quarter_is_small(client, cases):
    """立案 has 3/4/3/5 a quarter: quarters and halves are given. 留置 has one, in Q1: only the year is, so that
    year − other quarters cannot reveal when the detention was."""
    from dangjian.orgs.access import quarters

    login(client, cases.viewer)
    assert [window(client, "纪律.立案", a, b).json()["value"] for a, b in quarters(2019)] == [3, 4, 3, 5]
    assert window(client, "纪律.立案", dt.date(2019, 7, 1), dt.date(2019, 12, 31)).json()["value"] == 8
    for a, b in [*quarters(2019), (dt.date(2019, 1, 1), dt.date(2019, 6, 30))]:
        response = window(client, "纪律.留置", a, b)
        assert response.status_code == 403 and "少于3" in response.json()["error"]
        assert window(client, "纪律.留置占比", a, b).status_code == 403


def test_subtrees_that_would_allow_subtracting(client, cases):
    """Halves and quarters only for the top org (no other subtree to subtract them from); an org inside the
    纪委 that is not itself named is refused outright."""
    from dangjian.orgs.models import Organization

    login(client, cases.viewer)
    assert year(client, "纪律.立案", org="jw").json()["value"] == 15
    assert window(client, "纪律.立案", dt.date(2019, 1, 1), dt.date(2019, 3, 31), org="jw").status_code == 403
    office = Organization.objects.add_child(
        cases.jw, {"code": "jw1", "name": "第一审查室", "short_name": "一室"}
    )
    assert year(client, "纪律.立案", org=office.code).status_code == 403


def test_a_member_of_the_discipline_org_still_sees_everything_and_is_logged(client, cases):
    from dangjian.audit.models import Action, AuditEvent

    login(client, cases.jiwei)
    day = dt.date(2019, 2, 11)
    data = window(client, "纪律.案件名称", day, day, org="jw").json()
    assert data["value"] == [f"第2号{SECRET}"] and data["records"][0]["values"]["detained"] is True
    assert window(client, "纪律.最早立案", day, day, org="jw").json()["value"] == "2019-02-11"
    assert year(client, "纪律.金额", org="jw").json()["value"] == "12000.00"
    assert year(client, "纪律.立案", org="jw", fmt="xlsx").status_code == 200
    events = AuditEvent.objects.filter(username="jiwei")
    assert events.filter(action=Action.CONFIDENTIAL_READ).count() == 4
    assert events.filter(action=Action.EVIDENCE_DOWNLOAD).count() == 4
    assert "纪律.案件名称" in events.filter(action=Action.EVIDENCE_DOWNLOAD).last().target


def test_a_members_reads_of_confidential_records_are_logged(client, cases):
    from dangjian.audit.models import Action, AuditEvent
    from dangjian.records.models import Record

    case = Record.objects.filter(ledger_type__code="discipline_case").first()
    login(client, cases.jiwei)
    for url in (
        "/ledgers/discipline_case/",
        f"/ledgers/discipline_case/{case.pk}/",
        f"/ledgers/discipline_case/{case.pk}/history",
    ):
        assert client.get(url).status_code == 200, url
    reads = AuditEvent.objects.filter(username="jiwei", action=Action.CONFIDENTIAL_READ)
    assert reads.count() == 3 and all("discipline_case" in e.target for e in reads)
    # reading an ordinary ledger is not a confidential read
    login(client, cases.viewer)
    client.get("/ledgers/study_activity/")
    assert not AuditEvent.objects.filter(username="viewer", action=Action.CONFIDENTIAL_READ).exists()


def test_refused_attempts_are_logged(client, cases):
    from dangjian.audit.models import Action, AuditEvent

    login(client, cases.viewer)
    window(client, "纪律.案件名称", dt.date(2019, 2, 11), dt.date(2019, 2, 11))
    event = AuditEvent.objects.get(username="viewer", action=Action.REFUSED)
    assert "纪律.案件名称" in event.target and "涉密台账" in event.detail["reason"]


# --- reports: the same rules, for whoever reads the report ----------------------------------------------------

REPORT = (
    "立案{{ 纪律.立案 }}件，留置{{ 纪律.留置 }}人，点名{{ 纪律.公开案件|顿号 }}。"
    "名单：{{ 纪律.案件名称|顿号 }}。最早{{ 纪律.最早立案 }}。案均{{ 纪律.案均金额 }}。"
)


@pytest.fixture
def report(cases):
    from dangjian.reports.models import ReportTemplate

    return ReportTemplate.objects.create(key="conf", label="涉密测试报告", source=REPORT)


def test_a_report_gives_a_viewer_only_what_the_rules_allow(client, report, cases):
    login(client, cases.viewer)
    report_text = client.get("/reports/conf/root/2019.txt").content.decode()
    assert report_text.startswith(
        f"立案15件，留置1人，点名第4号{SECRET}、第6号{SECRET}。名单：。最早（无数据）。案均（无数据）。"
    )
    for url in ("/reports/conf/root/2019/", "/reports/conf/root/2019.json", "/reports/conf/root/2019.docx"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = body_of(response) if url.endswith("docx") else response.content.decode()
        for n in set(range(1, 16)) - {4, 6}:
            assert f"第{n}号{SECRET}" not in body, (url, n)
        assert "2019年1月10日" not in body and PERSON not in body


def test_the_command_line_and_a_member_get_the_whole_report(cases, report):
    """Without a request there is no viewer (whoever runs the command holds the database)."""
    from dangjian.indicators.engine import Period, viewing_as
    from dangjian.reports.templating import render

    whole = render(report, cases.root, Period.year(2019)).text
    assert "第1号密案" in whole and "2019年1月10日" in whole
    with viewing_as(cases.jiwei):
        assert render(report, cases.jw, Period.year(2019)).text == whole
    with viewing_as(cases.viewer):
        assert "第1号密案" not in render(report, cases.root, Period.year(2019)).text


# --- the built-in report still reads word for word for the district's readers ---------------------------------


@pytest.fixture(scope="module")
def seed_reports(in_demo):  # noqa: F811  (the fixture imported above)
    """seed2019 for 示范区 2019: from the command line (no viewer), and through the web as the district's admin
    (qwb) and leader (lingdao), neither of them a member of 区纪委监委."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from dangjian.indicators.engine import Period
    from dangjian.orgs.models import Organization
    from dangjian.reports.models import ReportTemplate
    from dangjian.reports.render_json import render_dict
    from dangjian.reports.templating import render

    def gather() -> dict:
        template = ReportTemplate.objects.get(key="seed2019")
        out = {"cli": render_dict(render(template, Organization.objects.get(code="demo"), Period.year(2019)))}
        for username in ("qwb", "lingdao"):
            client = Client()
            user = get_user_model().objects.get(username=username)
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            response = client.get("/reports/seed2019/demo/2019.json")
            out[username] = response.json() if response.status_code == 200 else response.status_code
        return out

    return in_demo(gather)


@pytest.mark.django_db
def test_the_seed_report_reads_word_for_word_for_the_districts_readers(seed_reports):
    whole = seed_reports["cli"]
    confidential = [
        s for s in whole["slots"] if s["indicator"].startswith(("纪律审查.", "作风.", "监督.政商"))
    ]
    assert len(confidential) > 20 and all(s["value"] is not None for s in confidential)
    for username in ("qwb", "lingdao"):
        assert seed_reports[username]["text"] == whole["text"], username
        assert seed_reports[username]["slots"] == whole["slots"], username
        assert seed_reports[username]["checks"] == whole["checks"], username
