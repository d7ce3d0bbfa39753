"""概览: the district's overview (tasks, overdue items by unit and source, closure by month, 驾驶舱, ranking), a unit's
own page, the items closed in a month, their JSON and xlsx twins, the 查看者's home, and who sees which counts."""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
DASHBOARD_PACK = """
[pack]
name = "cockpit"
label = "驾驶舱测试"
order = 95

[[indicators]]
key = "纪律.立案数"
label = "立案数"
unit = "件"
ledger = "discipline_case"
aggregate = "count"

[[dashboards]]
key = "test"
label = "测试驾驶舱"
cockpit = ["学习.中心组次数", "纪律.立案数"]
ranking = ["学习.中心组次数", "纪律.立案数"]
"""


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def chart(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(c for c in data["charts"] if c["key"] == key)


def table(data: dict[str, Any], key: str) -> dict[str, list[Any]]:
    """A chart's rows by their first cell's text: the other cells' texts."""
    return {row[0]["text"]: [c["text"] for c in row[1:]] for row in chart(data, key)["rows"]}


@pytest.fixture
def dashboard(world, tmp_path):
    """The test report pack (indicators on the core ledgers) and a pack naming a 驾驶舱 over two of them."""
    from tests.reports.conftest import write_pack

    from dangjian.packs.loader import discover, load_pack

    write_pack(tmp_path / "packs")
    (tmp_path / "packs" / "cockpit").mkdir()
    (tmp_path / "packs" / "cockpit" / "pack.toml").write_text(
        textwrap.dedent(DASHBOARD_PACK), encoding="utf-8"
    )
    for pack in sorted(discover(tmp_path / "packs"), key=lambda p: p.order):
        load_pack(pack)
    return world


def study(make_record, org, date: str, title: str = "集体学习") -> Any:
    values = {"date": date, "kind": "中心组集体学习", "title": title, "participants": 9}
    return make_record("study_activity", org, values)


def item(make_record, org, title: str, deadline: str, source: str = "督查") -> Any:
    values = {"issued_on": "2019-05-01", "source": source, "title": title, "deadline": deadline}
    return make_record("rectification_task", org, values)


def close(record, day: str, on_time: bool) -> None:
    """An item closed (销号) on `day`, as the workflow leaves it (closed_on, on_time stamped)."""
    from dangjian.records.models import Record

    values = {**record.values, "closed_on": day, "on_time": on_time}
    Record.objects.filter(pk=record.pk).update(status="已销号", values=values)


# --- who sees it ---------------------------------------------------------------------------------------------------


def test_a_viewer_at_the_district_has_the_overview_as_home_and_in_the_top_bar(world):
    response = client_for(world.viewer).get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "测试区概览" in body and "逾期事项（按单位）" in body
    assert f'href="{reverse("overview:index")}"' in body and ">概览</a>" in body


def test_a_clerk_keeps_the_home_page_and_has_no_overview_link(world):
    body = client_for(world.clerk).get("/").content.decode()
    assert "您好" in body and "测试区概览" not in body
    assert ">概览</a>" not in body


def test_an_admin_at_the_district_keeps_home_but_reaches_the_overview(world):
    client = client_for(world.unit_admin)
    assert "测试区概览" not in client.get("/").content.decode()
    assert client.get(reverse("overview:index")).status_code == 200


def test_a_unit_account_is_sent_to_its_own_units_page(world):
    response = client_for(world.clerk).get(reverse("overview:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("overview:unit", args=["c1"])
    assert client_for(world.clerk).get(reverse("overview:index_json")).status_code == 403


def test_a_unit_page_outside_the_accounts_units_is_not_found(world):
    assert client_for(world.clerk).get(reverse("overview:unit", args=["c2"])).status_code == 404
    assert client_for(world.reviewer).get(reverse("overview:unit", args=["c2"])).status_code == 200


# --- the district's charts -----------------------------------------------------------------------------------------


def test_task_completion_counts_the_units_that_have_not_submitted(world):
    from dangjian.orgs.models import OrgKind
    from dangjian.tasks import collection

    task = collection.create_task(
        world.unit_admin,
        title="2019年度台账报送",
        creator_org=world.root,
        ledger_types=[world.ledger("organization_life")],
        period_start=dt.date(2019, 1, 1),
        period_end=dt.date(2019, 12, 31),
        scope_root=world.root,
        kinds=OrgKind.objects.filter(code="community"),
        deadline=dt.date(2019, 12, 31),
    )
    collection.submit(world.clerk, task.targets.get(org=world.c1))
    data = client_for(world.viewer).get(reverse("overview:index_json"), {"year": 2019}).json()
    assert table(data, "tasks")["2019年度台账报送"] == ["1", "1", "2019年12月31日", "2个单位中1个未报送"]
    row = chart(data, "tasks")["rows"][0]
    assert row[0]["url"] == reverse("ledgers:task", args=[task.pk])
    assert table(data, "task_units") == {"城关街道": ["1", "1"]}  # both communities lie in 城关街道
    assert chart(data, "task_units")["rows"][0][0]["url"] == reverse("overview:unit", args=["s1"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client_for(world.viewer).get(reverse("overview:index_json"), {"year": 2019})
        return len(captured)

    one = queries()
    for n in range(3):  # more tasks cost no more queries
        collection.create_task(
            world.unit_admin,
            title=f"第{n}项",
            creator_org=world.root,
            ledger_types=[world.ledger("organization_life")],
            period_start=dt.date(2019, 1, 1),
            period_end=dt.date(2019, 12, 31),
            scope_root=world.root,
            kinds=OrgKind.objects.filter(code="community"),
            deadline=dt.date(2019, 12, 30),
        )
    assert queries() == one
    assert (
        len(
            table(
                client_for(world.viewer).get(reverse("overview:index_json"), {"year": 2019}).json(), "tasks"
            )
        )
        == 4
    )


def test_overdue_items_count_for_the_districts_direct_units_and_by_source(world, make_record):
    today = timezone.localdate()
    past, future = (today - dt.timedelta(days=9)).isoformat(), (today + dt.timedelta(days=9)).isoformat()
    item(make_record, world.c1, "幸福社区逾期一", past, "巡察反馈")
    item(make_record, world.c2, "和平社区逾期", past, "巡察反馈")
    item(make_record, world.c1, "幸福社区逾期二", past, "督查")
    item(make_record, world.c1, "未到期", future, "督查")
    close(item(make_record, world.c2, "已销号", past, "督查"), past, True)
    item(make_record, world.root, "区本级逾期", past, "其他")
    data = client_for(world.viewer).get(reverse("overview:index_json")).json()
    assert table(data, "overdue_units") == {"城关街道": ["3"], "测试区本级": ["1"]}
    assert table(data, "overdue_sources") == {"巡察反馈": ["2"], "督查": ["1"], "其他": ["1"]}
    s1_row = chart(data, "overdue_units")["rows"][0]
    assert s1_row[1]["url"] == reverse("ledgers:overdue") + "?org=s1"
    page = client_for(world.viewer).get(reverse("overview:index")).content.decode()
    assert "逾期未销号的清单事项" in page and ">4</a>" in page


def test_closure_by_month_counts_due_closed_and_on_time_items(world, make_record):
    close(item(make_record, world.c1, "三月到期三月销号", "2019-03-20"), "2019-03-15", True)
    close(item(make_record, world.c1, "三月到期四月销号", "2019-03-31"), "2019-04-02", False)
    item(make_record, world.c2, "三月到期未销号", "2019-03-10")
    data = client_for(world.viewer).get(reverse("overview:index_json"), {"year": 2019}).json()
    months = table(data, "closure")
    # 到期事项, 到期已销号, 销号事项, 按时销号, 销号率, 按时销号率
    assert months["3月"] == ["3", "2", "1", "1", "66.7%", "100%"]
    assert months["5月"] == ["0", "0", "0", "0", "—", "—"]
    assert months["4月"] == ["0", "0", "1", "0", "—", "0%"]
    april = chart(data, "closure")["rows"][3][0]["url"]
    listed = client_for(world.viewer).get(april).content.decode()
    assert "三月到期四月销号" in listed and "三月到期三月销号" not in listed


def test_closure_is_empty_for_a_year_without_items(world):
    data = client_for(world.viewer).get(reverse("overview:index_json"), {"year": 2001}).json()
    assert chart(data, "closure")["rows"] == []


def test_the_cockpit_compares_this_year_with_the_last_and_links_each_value_to_its_evidence(
    dashboard, make_record
):
    world = dashboard
    for day in ("2019-02-01", "2019-03-01", "2019-04-01"):
        study(make_record, world.c1, day)
    study(make_record, world.c2, "2018-05-01")
    data = client_for(world.viewer).get(reverse("overview:index_json"), {"year": 2019}).json()
    rows = {row[0]["text"]: row for row in chart(data, "cockpit")["rows"]}
    session = rows["中心组集体学习次数"]
    assert [c["text"] for c in session[2:]] == ["3", "1", "增加 2"]
    assert "key=" in session[2]["url"] and "start=2019-01-01" in session[2]["url"]
    assert "start=2018-01-01" in session[3]["url"]
    evidence = client_for(world.viewer).get(session[2]["url"])
    assert evidence.status_code == 200 and "集体学习" in evidence.content.decode()
    page = client_for(world.viewer).get(reverse("overview:index"), {"year": 2019}).content.decode()
    assert "驾驶舱" in page and session[2]["url"].replace("&", "&amp;") in page


def test_units_are_ranked_with_one_query_whatever_their_number(dashboard, make_record):
    from dangjian.orgs.models import Organization

    world = dashboard
    for day in ("2019-02-01", "2019-03-01"):
        study(make_record, world.c1, day)
    study(make_record, world.jw, "2019-02-01")
    client = client_for(world.viewer)
    url = reverse("overview:index_json")

    def ranking() -> tuple[dict[str, list[Any]], int]:
        with CaptureQueriesContext(connection) as queries:
            data = client.get(url, {"year": 2019, "rank": "学习.中心组次数"}).json()
        return table(data, "ranking"), len(queries)

    ranking()  # the first request also saves the session
    ranked, before = ranking()
    assert list(ranked.items())[:2] == [("城关街道", ["2"]), ("区纪委监委", ["1"])]
    for i in range(4):
        root = Organization.objects.get(pk=world.root.pk)
        Organization.objects.add_child(root, dict(code=f"x{i}", name=f"新增单位{i}", short_name=f"新增{i}"))
    ranked, after = ranking()
    assert len(ranked) == 6 and ranked["新增0"] == ["0"]
    assert after == before, "ranking more units must not cost more queries"


def test_grouped_unit_values_equal_each_units_own_evaluation(dashboard, make_record):
    from dangjian.indicators import engine
    from dangjian.indicators.periods import Period

    world = dashboard
    study(make_record, world.c1, "2019-02-01")
    study(make_record, world.c2, "2019-03-01")
    make_record(
        "discipline_case",
        world.jw,
        {"filed_on": "2019-04-01", "case_no": "甲", "person": "某", "rank": "乡科级"},
    )
    units = [world.jw, world.s1]
    keys = ["学习.中心组次数", "学习.参加人数", "学习.舞台剧", "纪律.立案数"]
    for viewer in (None, world.viewer, world.clerk, world.jiwei):
        for period in (Period.year(2019), Period.quarter(2019, 1)):
            grouped = engine.evaluate_units(world.root, units, period, keys, viewer=viewer)
            for unit in units:
                alone = engine.evaluate(unit, period, keys, previous=False, viewer=viewer)
                for key in keys:
                    a, b = grouped[unit.pk][key], alone[key]
                    assert (a.value, a.refused, a.evidence_count) == (b.value, b.refused, b.evidence_count), (
                        viewer,
                        period,
                        unit.code,
                        key,
                    )


# --- a unit's own page ---------------------------------------------------------------------------------------------


def test_a_units_page_compares_this_months_entries_with_the_same_month_last_year(world, make_record):
    for day in ("2019-03-02", "2019-03-20"):
        study(make_record, world.c1, day)
    study(make_record, world.c1, "2018-03-05")
    study(make_record, world.c1, "2019-04-01")  # another month
    make_record(
        "discipline_case",
        world.jw,
        {"filed_on": "2019-03-01", "case_no": "乙", "person": "某", "rank": "乡科级"},
    )
    data = (
        client_for(world.clerk).get(reverse("overview:unit_json", args=["c1"]), {"month": "2019-03"}).json()
    )
    assert data["month"] == "2019-03"
    assert table(data, "entries") == {"学习教育活动台账": ["2", "1"]}
    row = chart(data, "entries")["rows"][0]
    assert (
        "from=2019-03-01" in row[1]["url"] and "to=2019-03-31" in row[1]["url"] and "org=c1" in row[1]["url"]
    )
    assert "from=2018-03-01" in row[2]["url"]
    # The confidential ledger's entries count for its members only.
    viewer = (
        client_for(world.viewer).get(reverse("overview:unit_json", args=["jw"]), {"month": "2019-03"}).json()
    )
    member = (
        client_for(world.jiwei).get(reverse("overview:unit_json", args=["jw"]), {"month": "2019-03"}).json()
    )
    assert table(viewer, "entries") == {}
    assert list(table(member, "entries").values()) == [["1", "0"]]


def test_a_units_page_lists_its_overdue_items_and_tasks(world, make_record):
    past = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    item(make_record, world.c1, "幸福社区的逾期事项", past, "巡察反馈")
    item(make_record, world.c2, "和平社区的逾期事项", past, "巡察反馈")
    body = client_for(world.clerk).get(reverse("overview:unit", args=["c1"])).content.decode()
    assert "幸福社区的逾期事项" in body and "和平社区的逾期事项" not in body
    assert "逾期事项（按来源）" in body and "填报任务完成情况" in body


def test_a_month_that_cannot_be_read_is_named_and_this_month_shown(world):
    response = client_for(world.clerk).get(reverse("overview:unit", args=["c1"]), {"month": "2019-13"})
    assert response.status_code == 400
    assert "月份“2019-13”无效" in response.content.decode()
    response = client_for(world.viewer).get(reverse("overview:index"), {"year": "19x"})
    assert response.status_code == 400 and "年度“19x”无效" in response.content.decode()


# --- charts, tables, downloads -------------------------------------------------------------------------------------


def test_each_chart_has_its_table_and_its_data_for_the_script(world, make_record):
    past = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    item(make_record, world.c1, "逾期", past, "巡察反馈")
    body = client_for(world.viewer).get(reverse("overview:index")).content.decode()
    assert body.count('<table class="grid compact chart-table">') >= 2  # charts without rows say so instead
    assert "本年度没有填报任务。" in body
    assert 'data-chart="chart-data-overdue_units"' in body and 'id="chart-data-overdue_units"' in body
    assert "vendor/echarts/echarts.min.js" in body and "dangjian/overview.js" in body
    assert "cdn" not in body.lower()


def test_the_xlsx_holds_every_chart_or_one_under_a_chinese_name(world, make_record):
    from openpyxl import load_workbook

    from dangjian.orgs.models import Organization

    past = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    root = Organization.objects.get(pk=world.root.pk)
    odd = Organization.objects.add_child(root, dict(code="odd", name="=HYPERLINK(1)", short_name=""))
    item(make_record, odd, "逾期", past)
    client = client_for(world.viewer)
    whole = client.get(reverse("overview:index_xlsx"), {"year": 2019})
    assert whole.status_code == 200
    assert "filename*=UTF-8''" in whole["Content-Disposition"]
    assert "%E6%B5%8B%E8%AF%95%E5%8C%BA" in whole["Content-Disposition"]  # 测试区
    book = load_workbook(io.BytesIO(whole.content))
    assert {
        "填报任务完成情况",
        "逾期事项（按单位）",
        "逾期事项（按来源）",
        "清单事项销号情况（按月）",
    } <= set(book.sheetnames)
    one = client.get(reverse("overview:index_xlsx"), {"chart": "overdue_units"})
    sheet = load_workbook(io.BytesIO(one.content)).active
    assert [c.value for c in sheet[1]] == ["单位", "逾期事项"]
    assert [c.value for c in sheet[2]] == ["'=HYPERLINK(1)", 1]  # neutralised, the count a number
    assert client.get(reverse("overview:index_xlsx"), {"chart": "nothing"}).status_code == 404


def test_the_unit_xlsx_is_named_after_the_unit(world):
    response = client_for(world.clerk).get(reverse("overview:unit_xlsx", args=["c1"]), {"chart": "entries"})
    assert response.status_code == 200
    from urllib.parse import unquote

    name = unquote(response["Content-Disposition"].split("''", 1)[1])
    assert name.startswith("幸福社区台账记录（本月与上年同月）") and name.endswith(".xlsx")


# --- the pack declaration ------------------------------------------------------------------------------------------


def test_a_pack_names_its_dashboard_and_an_unknown_indicator_is_refused(dashboard, tmp_path):
    from dangjian.packs.loader import PackError, discover, load_pack
    from dangjian.web.models import Dashboard

    board = Dashboard.objects.get(key="test")
    assert board.pack == "cockpit" and board.cockpit == ["学习.中心组次数", "纪律.立案数"]
    bad = tmp_path / "bad" / "cockpit"
    bad.mkdir(parents=True)
    (bad / "pack.toml").write_text(
        textwrap.dedent(DASHBOARD_PACK).replace('"纪律.立案数"]\nranking', '"没有.这个"]\nranking'),
        encoding="utf-8",
    )
    with pytest.raises(PackError, match="驾驶舱 test 的 cockpit 含有不存在的指标：没有.这个"):
        load_pack(next(iter(discover(tmp_path / "bad"))))
    assert Dashboard.objects.get(key="test").cockpit == ["学习.中心组次数", "纪律.立案数"]  # nothing changed


def test_the_definitions_a_page_asks_for_include_what_their_formulas_read(dashboard):
    from dangjian.indicators import engine
    from dangjian.indicators.models import Indicator, Kind

    Indicator.objects.create(key="学习.两倍", label="两倍", kind=Kind.FORMULA, formula="学习.中心组次数 * 2")
    Indicator.objects.create(key="学习.四倍", label="四倍", kind=Kind.FORMULA, formula="学习.两倍 * 2")
    assert set(engine.definitions(["学习.四倍"])) == {"学习.两倍", "学习.四倍", "学习.中心组次数"}
    assert sorted(engine.definitions(["没有.这个"])) == []
    assert len(engine.definitions()) > 3
