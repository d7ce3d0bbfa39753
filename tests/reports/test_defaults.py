"""The report page starts from something worth reading, and the preview says when the data cannot fill a report.

Tree (tests/conftest.py): root (district) → jw, s1 (street) → c1, c2 (community). Records (report_records):
2019: c1 3 中心组 + 1 play, c2 1 中心组 + 1 play; 2018: c1 5 中心组."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from dangjian.indicators.cli import check as check_command
from dangjian.reports.models import ReportRun, ReportTemplate

from .conftest import study

pytestmark = pytest.mark.usefixtures("report_pack", "report_records")


def selected(html: str, name: str) -> list[str]:
    """The values of the selected options of the form's select `name`."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    return re.findall(r'<option value="([^"]*)"[^>]*\sselected', select.group(1))


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    return re.findall(r'<option value="([^"]*)"', select.group(1))


@pytest.fixture
def district_template(report_pack):
    """A second template, meant only for districts, sharing the test pack's source."""
    return ReportTemplate.objects.create(
        key="district-only",
        label="区委年度报告",
        pack=report_pack.pack,
        source=report_pack.source,
        file_path=report_pack.file_path,
        org_kinds=["district"],
    )


def index(client, user, **query) -> str:
    client.force_login(user)
    response = client.get(reverse("reports:index"), query)
    assert response.status_code == 200
    return response.content.decode()


def test_a_clerk_starts_from_their_community_a_template_for_it_and_its_last_year_with_data(
    client, world, district_template
):
    html = index(client, world.clerk)
    assert selected(html, "org") == ["c1"]
    assert options(html, "template") == ["testreport"]  # the district template is not for a community
    assert selected(html, "template") == ["testreport"]
    assert selected(html, "year") == ["2019"]  # not the current year


def test_the_district_starts_from_the_district_and_the_template_meant_for_it(
    client, world, district_template
):
    html = index(client, world.unit_admin)
    assert selected(html, "org") == ["root"]
    assert options(html, "template") == ["district-only", "testreport"]  # meant for its kind first
    assert selected(html, "template") == ["district-only"]
    assert selected(html, "year") == ["2019"]


def test_a_reviewer_of_a_street_starts_from_the_street_with_its_communities_indented(client, world):
    html = index(client, world.reviewer)
    assert selected(html, "org") == ["s1"]
    assert options(html, "org") == ["s1", "c1", "c2"]
    assert ">中共测试区城关街道工作委员会</option>" in html
    assert ">　中共城关街道幸福社区委员会</option>" in html  # one level down, as in every org picker
    assert 'data-search="中共城关街道和平社区委员会 和平社区 c2"' in html  # the picker searches name and code
    assert "data-org-picker" in html and "reports/report-form.js" in html
    assert 'class="org-filter"' not in html  # the picker's own search replaces the page's search box


def test_an_org_without_data_starts_from_last_year(client, world, make_record):
    make_record(
        "study_activity",
        world.jw,
        {"date": str(timezone.localdate()), "kind": "中心组集体学习", "title": "今年", "participants": 3},
    )
    html = index(client, world.jiwei)
    last_year = str(timezone.localdate().year - 1)
    assert selected(html, "org") == ["jw"]
    assert selected(html, "year") == [last_year]  # this year's records do not make a completed year
    assert re.search(rf'value="jw" [^>]*data-kinds="discipline" data-year="{last_year}" selected>', html)


def test_a_few_records_dated_after_the_busy_year_do_not_move_the_default(client, world, make_record):
    for i in range(30):
        study(make_record, world.c2, "中心组集体学习", f"补充{i}", f"2019-07-{i % 28 + 1:02d}")
    study(make_record, world.c2, "中心组集体学习", "次年一月的述职", "2020-01-10")
    html = index(client, world.sibling)
    assert selected(html, "year") == ["2019"]
    for i in range(5):  # a year of real activity moves it
        study(make_record, world.c2, "中心组集体学习", f"2020年{i}", f"2020-0{i + 2}-10")
    assert selected(index(client, world.sibling), "year") == ["2020"]


def test_what_was_asked_wins_over_the_defaults(client, world, district_template):
    html = index(client, world.unit_admin, org="c1")
    assert selected(html, "org") == ["c1"] and options(html, "template") == ["testreport"]
    assert selected(html, "year") == ["2019"]
    html = index(client, world.unit_admin, template="district-only")
    assert options(html, "org") == ["root"] and selected(html, "org") == ["root"]


def test_a_template_for_none_of_the_accounts_orgs_is_named_and_the_form_still_offered(
    client, world, district_template
):
    client.force_login(world.clerk)
    response = client.get(reverse("reports:index"), {"template": "district-only"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "报告模板“区委年度报告”适用于区（县）委，您可选的组织中没有这类组织，请另选模板。" in html
    assert selected(html, "org") == ["c1"] and selected(html, "template") == ["testreport"]


def preview(client, user, org="root", period="2019", key="testreport"):
    client.force_login(user)
    return client.get(reverse("reports:preview", kwargs={"key": key, "org": org, "period": period}))


def test_a_period_with_data_has_no_warning(client, world):
    html = preview(client, world.viewer).content.decode()
    assert "report-warnings" not in html


def test_a_period_without_records_is_named_with_the_year_that_has_data(client, world):
    response = preview(client, world.viewer, period="2017")
    html = response.content.decode()
    assert response.status_code == 200
    assert "“中共测试区委员会”及其下级组织在2017年度（2017年1月1日至2017年12月31日）没有任何台账记录" in html
    assert "有台账数据的最近一个完整年度是2019年度" in html
    assert reverse("reports:preview", kwargs={"key": "testreport", "org": "root", "period": "2019"}) in html


def test_an_org_without_records_is_warned_about(client, world):
    html = preview(client, world.viewer, org="jw").content.decode()
    assert "“中共测试区纪律检查委员会”及其下级组织在2019年度" in html and "没有任何台账记录" in html


def test_a_period_not_begun_or_not_finished_is_named(client, world, make_record):
    next_year = timezone.localdate().year + 1
    html = preview(client, world.viewer, period=str(next_year)).content.decode()
    assert f"报告期{next_year}年度尚未开始" in html
    study(make_record, world.c1, "中心组集体学习", "今年", str(timezone.localdate()))
    html = preview(client, world.viewer, period=str(next_year - 1)).content.decode()
    assert f"报告期{next_year - 1}年度尚未结束，报告中的数字截至今天" in html


def test_a_year_outside_the_data_is_refused_in_chinese(client, world):
    response = preview(client, world.viewer, period="1900")
    assert response.status_code == 400
    assert "报告年度应在 1949 年至" in response.content.decode()
    client.force_login(world.viewer)
    response = client.get(
        reverse("reports:preview", kwargs={"key": "testreport", "org": "root", "year": 1900})
    )
    assert response.status_code == 400 and "报告期无效" in response.content.decode()


def test_a_template_not_meant_for_the_org_is_named(client, world, district_template):
    html = preview(client, world.clerk, org="c1", key="district-only").content.decode()
    assert "报告模板“区委年度报告”适用于区（县）委，不适用于“中共城关街道幸福社区委员会”" in html


RULE = "学习.中心组次数 &gt;= 3"  # the rule of t_min_sessions as the page would escape it
MESSAGE = "区委理论学习中心组全年集体学习应不少于 3 次"


def test_failed_checks_show_their_chinese_message_not_the_rule(client, world):
    html = preview(client, world.reviewer, org="c2").content.decode()  # c2: 1 session
    assert MESSAGE in html and RULE not in html and "学习.中心组次数 >= 3" not in html


def test_a_finalised_run_shows_the_message_not_the_rule(client, world):
    client.force_login(world.reviewer)
    url = reverse("reports:finalise", kwargs={"key": "testreport", "org": "c2", "period": "2019"})
    response = client.post(url, {"override_reason": "社区只开展了一次", "confirm": "1"})
    assert response.status_code == 302
    run = ReportRun.objects.get()
    html = client.get(reverse("reports:run", kwargs={"pk": run.pk})).content.decode()
    assert MESSAGE in html and RULE not in html


def test_the_check_command_prints_the_message_not_the_rule(world, capsys):
    from dangjian.cli import build_parser

    code = check_command(build_parser().parse_args(["check", "--org", "c2", "--year", "2019"]))
    out = capsys.readouterr().out
    assert code == 1
    assert f"✘ [错误] 中心组学习不少于 3 次：{MESSAGE}" in out and "学习.中心组次数 >= 3" not in out


def test_an_empty_list_of_names_reads_as_none_in_a_failed_check(client, world):
    from dangjian.indicators.models import Check

    Check.objects.create(
        code="t_names",
        label="列出舞台剧",
        rule="len(学习.舞台剧) >= 1",
        message="应列出观看的舞台剧",
        pack="testreport",
    )
    html = preview(client, world.jiwei, org="jw").content.decode()  # no records at 区纪委监委
    assert "应列出观看的舞台剧（学习.舞台剧 = （无））" in html
