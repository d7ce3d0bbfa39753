"""The evidence page and its xlsx / JSON twins, tried by users who may and may not see the rows."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

URL = "/indicators/evidence/"


@pytest.fixture
def setup(world, make_record, define):
    for org, title in [(world.c1, '=HYPERLINK("http://x")'), (world.c2, "学习"), (world.root, "学习")]:
        make_record(
            "study_activity",
            org,
            {"date": "2019-05-01", "kind": "专题报告", "title": title, "participants": 5},
        )
    for n in range(3):
        make_record(
            "discipline_case", world.jw, {"filed_on": "2019-04-01", "case_no": f"纪案{n}", "person": "某某"}
        )
    define(
        {"key": "学习.次数", "label": "学习次数", "unit": "次", "ledger": "study_activity"},
        {"key": "纪律.立案", "label": "立案数", "unit": "件", "ledger": "discipline_case"},
        {"key": "学习.两倍", "label": "两倍", "formula": "学习.次数 * 2"},
    )
    return world


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def get(client, key, org="root", start="2019-01-01", end="2019-12-31", **extra):
    """The evidence page asked in its one link form: key, org and the period's first and last day."""
    return client.get(URL, {"key": key, "org": org, "start": start, "end": end, **extra})


def test_it_lists_the_records_behind_a_value(client, setup):
    login(client, setup.viewer)
    response = get(client, "学习.次数")
    assert response.status_code == 200
    body = response.content.decode()
    assert "学习次数" in body and "3 条" in body
    assert body.count('href="/ledgers/study_activity/') == 3


def test_json_twin(client, setup):
    login(client, setup.viewer)
    data = get(client, "学习.次数", format="json").json()
    assert data["value"] == 3 and data["count"] == 3 and len(data["records"]) == 3
    assert data["org"] == {"code": "root", "name": setup.root.name}
    assert data["records"][0]["url"].startswith("/ledgers/study_activity/")


def test_xlsx_twin_neutralises_formulas(client, setup):
    login(client, setup.viewer)
    response = get(client, "学习.次数", format="xlsx")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[3]
    assert header[:4] == ("序号", "填报单位", "日期", "活动日期")
    titles = [r[header.index("主题")] for r in rows[4:]]
    assert len(titles) == 3 and '\'=HYPERLINK("http://x")' in titles


def test_clerk_of_another_subtree_is_refused(client, setup):
    login(client, setup.sibling)  # 填报员 at c2
    assert get(client, "学习.次数", org="c1").status_code == 403
    assert get(client, "学习.次数", org="c2").status_code == 200
    login(client, setup.outsider)
    assert get(client, "学习.次数").status_code == 403


def test_anonymous_users_are_sent_to_login(client, setup):
    assert get(client, "学习.次数").status_code == 302


def test_non_member_of_a_confidential_ledger_sees_the_count_only(client, setup):
    login(client, setup.viewer)  # may run reports for root, but is not a member of 区纪委监委
    page = get(client, "纪律.立案")
    body = page.content.decode()
    assert page.status_code == 200 and "3 条" in body and "涉密" in body
    assert "纪案0" not in body and "/ledgers/discipline_case/" not in body
    data = get(client, "纪律.立案", format="json").json()
    assert data["count"] == 3 and data["rows_visible"] is False and data["records"] is None
    sheet = load_workbook(io.BytesIO(get(client, "纪律.立案", format="xlsx").content)).active
    assert not any("纪案0" in str(c) for row in sheet.iter_rows(values_only=True) for c in row)


def test_member_of_the_discipline_org_sees_the_rows(client, setup):
    login(client, setup.jiwei)
    data = get(client, "纪律.立案", org="jw", format="json").json()
    assert data["rows_visible"] and sorted(r["values"]["case_no"] for r in data["records"]) == [
        "纪案0",
        "纪案1",
        "纪案2",
    ]


def test_formula_previous_year_and_bad_input(client, setup):
    login(client, setup.viewer)
    data = get(client, "学习.两倍", format="json").json()
    assert data["value"] == 6 and data["count"] == 0 and data["records"] is None
    last_year = get(client, "学习.次数", start="2018-01-01", end="2018-12-31", format="json").json()
    assert last_year["period"]["start"] == "2018-01-01"
    assert get(client, "学习.没有").status_code == 404
    assert get(client, "学习.次数", org="nowhere").status_code == 404
    assert client.get(URL, {"key": "学习.次数", "org": "root", "year": "abc"}).status_code == 400
    bad = get(client, "学习.次数", start="2019-13-01")
    assert bad.status_code == 400 and "start=2019-01-01&end=2019-12-31" in bad.content.decode()
    backwards = get(client, "学习.次数", start="2019-12-31", end="2019-01-01")
    assert backwards.status_code == 400 and "截止日期不能早于起始日期" in backwards.content.decode()


def test_a_formula_lists_the_indicators_it_reads_each_linked_to_its_evidence(client, setup):
    from dangjian.indicators import Period, evidence_url

    login(client, setup.viewer)
    data = get(client, "学习.两倍", format="json").json()
    assert data["formula"] == "学习.次数 * 2"
    url = evidence_url("学习.次数", setup.root, Period.year(2019))
    assert data["operands"] == [{"key": "学习.次数", "label": "学习次数", "value": 3, "url": url}]
    page = get(client, "学习.两倍").content.decode()
    assert "公式中的指标" in page and f'<a href="{url.replace("&", "&amp;")}&amp;from=' in page
    # Last year's formula is the formula asked for last year: its operands are last year's, linked as such.
    last_year = get(client, "学习.两倍", start="2018-01-01", end="2018-12-31", format="json").json()
    assert last_year["value"] == 0 and last_year["operands"][0]["key"] == "学习.次数"
    assert last_year["operands"][0]["url"] == evidence_url("学习.次数", setup.root, Period.year(2018))


def test_the_evidence_link_names_the_key_the_org_and_the_exact_period(setup):
    from dangjian.indicators import Period, evidence_url

    url = evidence_url("学习.次数", setup.root, Period.year(2019))
    assert url == (
        f"{URL}?key=%E5%AD%A6%E4%B9%A0.%E6%AC%A1%E6%95%B0&org=root&start=2019-01-01&end=2019-12-31"
    )
    # A report's 上年 value is the key computed for the year before: its link says so, with that year's days.
    previous = evidence_url("上年.学习.次数", setup.root, Period(dt.date(2019, 1, 1), dt.date(2019, 6, 30)))
    assert previous.endswith(
        "key=%E5%AD%A6%E4%B9%A0.%E6%AC%A1%E6%95%B0&org=root&start=2018-01-01&end=2018-06-30"
    )


def test_old_links_are_redirected_permanently_to_the_one_form(client, setup):
    """Links saved in finalised reports before the one form (year=2019, 上年. keys) still open the same records."""
    login(client, setup.viewer)
    old = client.get(URL, {"key": "学习.次数", "org": "root", "year": 2019, "format": "json", "page": 2})
    assert old.status_code == 301
    assert old["Location"] == (
        f"{URL}?key=%E5%AD%A6%E4%B9%A0.%E6%AC%A1%E6%95%B0&org=root&start=2019-01-01&end=2019-12-31"
        "&format=json&page=2"
    )
    assert client.get(old["Location"]).json()["count"] == 3
    previous = client.get(URL, {"key": "上年.学习.两倍", "org": "root", "year": 2020})
    assert previous.status_code == 301 and previous["Location"].endswith(
        "org=root&start=2019-01-01&end=2019-12-31"
    )
    assert "key=%E5%AD%A6%E4%B9%A0.%E4%B8%A4%E5%80%8D&" in previous["Location"]  # 学习.两倍
    followed = client.get(URL, {"key": "学习.次数", "org": "root", "year": 2019}, follow=True)
    assert followed.status_code == 200 and "3 条" in followed.content.decode()
    client.logout()  # the sign-in comes first; the login page sends the reader back to the old link
    assert client.get(URL, {"key": "学习.次数", "org": "root", "year": 2019}).status_code == 302


def _record_aggregates(queries) -> list[str]:
    """The queries that aggregate over records: the value's own query, or a recount of it."""
    return [q["sql"] for q in queries if 'FROM "ledgers_record"' in q["sql"] and "COUNT(" in q["sql"].upper()]


def _definition_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "indicators_indicator"' in q["sql"]]


@pytest.mark.parametrize("fmt", ["", "json", "xlsx"])
def test_the_page_resolves_the_indicator_once_and_computes_it_once(client, setup, fmt):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, setup.viewer)
    with CaptureQueriesContext(connection) as page:
        response = get(client, "学习.次数", format=fmt)
    assert response.status_code == 200
    aggregates = _record_aggregates(page.captured_queries)
    assert len(aggregates) == 1, aggregates  # the value's aggregate query, and no count after it
    assert "FILTER" in aggregates[0] or "CASE WHEN" in aggregates[0]
    assert len(_definition_reads(page.captured_queries)) == 1  # the indicator is looked up once


def test_a_share_and_a_confidential_count_are_computed_once_too(client, setup, define):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    define(STUDY_SHARE, pack="t2")
    login(client, setup.viewer)
    for key in ("学习.本社区占比", "纪律.立案"):
        with CaptureQueriesContext(connection) as page:
            assert get(client, key).status_code == 200
        assert len(_record_aggregates(page.captured_queries)) == 1, key
        assert len(_definition_reads(page.captured_queries)) == 1, key


STUDY_SHARE = {
    "key": "学习.本社区占比",
    "label": "社区开展的学习占比",
    "unit": "%",
    "ledger": "study_activity",
    "aggregate": "share",
    "share_where": [{"field": "title", "op": "=", "value": "学习"}],
}


def test_a_share_shows_its_numerator_and_which_records_count(client, setup, define):
    """42.4% is answered with “97 of 229, on this condition”, and each row says whether it counts."""
    define(
        STUDY_SHARE,
        {
            "key": "纪律.某某占比",
            "label": "某某案件占比",
            "unit": "%",
            "ledger": "discipline_case",
            "aggregate": "share",
            "share_where": [{"field": "case_no", "op": "=", "value": "纪案1"}],
        },
        pack="t2",
    )
    login(client, setup.viewer)
    body = get(client, "学习.本社区占比").content.decode()
    assert "其中符合条件" in body and "<strong>2 条</strong>：【主题】为 学习" in body and "66.7%" in body
    assert body.count("<strong>是</strong>") == 2 and body.count('<span class="muted">否</span>') == 1
    data = get(client, "学习.本社区占比", format="json").json()
    assert data["share"] == {"matched": 2, "of": 3, "condition": "【主题】为 学习"}
    assert sorted((r["values"]["title"], r["in_share"]) for r in data["records"]) == [
        ('=HYPERLINK("http://x")', False),
        ("学习", True),
        ("学习", True),
    ]
    rows = list(
        load_workbook(io.BytesIO(get(client, "学习.本社区占比", format="xlsx").content)).active.values
    )
    assert (
        rows[2][1] == "2 条"
        and rows[4][3] == "符合条件"
        and sorted(r[3] for r in rows[5:]) == ["否", "是", "是"]
    )
    # A confidential ledger's share: the counts, never which rows.
    secret = get(client, "纪律.某某占比", format="json").json()
    assert secret["share"]["matched"] == 1 and secret["records"] is None


def test_a_share_on_a_sensitive_field_hides_each_rows_mark_where_the_field_is_masked(client, setup, define):
    from dangjian.records.models import LedgerField

    define(
        STUDY_SHARE,
        pack="t2",
    )
    LedgerField.objects.filter(ledger_type__code="study_activity", code="title").update(sensitive=True)
    login(client, setup.viewer)  # 查看者: sensitive fields are masked for him
    data = get(client, "学习.本社区占比", format="json").json()
    assert data["share"]["matched"] == 2 and [r["in_share"] for r in data["records"]] == [None, None, None]
    body = get(client, "学习.本社区占比").content.decode()
    assert "<strong>是</strong>" not in body and body.count('title="条件涉及您无权查看的敏感字段">—<') == 3
    login(client, setup.unit_admin)  # 管理员 of the district: sees the field, so sees which rows count
    data = get(client, "学习.本社区占比", format="json").json()
    assert sorted(r["in_share"] for r in data["records"]) == [False, True, True]


def test_a_list_says_how_its_names_were_picked(client, setup, define):
    define(
        {
            "key": "学习.主题",
            "label": "学习主题",
            "ledger": "study_activity",
            "aggregate": "list",
            "field": "title",
            "order": "first",
            "limit": 1,
        },
        pack="t2",
    )
    login(client, setup.viewer)
    data = get(client, "学习.主题", format="json").json()
    assert data["count"] == 3 and len(data["value"]) == 1
    assert data["list_rule"] == "按日期先后取前 1 个（记录中共有 2 个不同的“主题”）"
    assert "取值方式" in get(client, "学习.主题").content.decode()


def test_the_xlsx_writes_the_twins_records_column_by_column(client, setup, define):
    """The evidence workbook's rows are the `.json` twin's records (`indicators.schemas.EvidenceRecordOut`) under
    `evidence_columns`: unit, date, a share's mark, each field in words — masked alike."""
    from dangjian.records.models import LedgerField
    from dangjian.text import cn_date

    define(STUDY_SHARE, pack="t2")
    LedgerField.objects.filter(ledger_type__code="study_activity", code="title").update(sensitive=True)
    for user, masked in ((setup.viewer, True), (setup.unit_admin, False)):
        login(client, user)
        twin = get(client, "学习.本社区占比", format="json").json()["records"]
        rows = list(
            load_workbook(io.BytesIO(get(client, "学习.本社区占比", format="xlsx").content)).active.values
        )
        header = rows.index(next(r for r in rows if r and r[0] == "序号"))
        head, body = rows[header], rows[header + 1 :]
        assert head[:4] == ("序号", "填报单位", "日期", "符合条件") and "主题" in head and "参加人数" in head
        assert [r[0] for r in body] == [1, 2, 3] and len(twin) == 3
        for row, record in zip(body, twin, strict=True):
            cells = dict(zip(head, row, strict=True))
            assert cells["填报单位"] == record["org"]["name"]
            assert cells["日期"].date().isoformat() == record["date"]
            assert cells["符合条件"] == {True: "是", False: "否", None: "—"}[record["in_share"]]
            title = record["values"]["title"]
            assert cells["主题"] == (title if title == "＊＊" else title.replace("=", "'=", 1))
            assert cells["活动日期"] == cn_date(record["values"]["date"])
            assert cells["参加人数"] == str(record["values"]["participants"])
        assert all(r["values"]["title"] == "＊＊" for r in twin) is masked
