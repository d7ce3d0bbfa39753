"""A report for any period — a quarter, a half, a month, a range — through the command line, the web and the API,
as staff use them. report_records: 中心组 sessions in 2019 on 02-10, 03-10 (Q1, c1), 04-10 (c1) and 06-01 (c2) —
Q1 has 2, Q2 has 2, the year 4; 2018 Q1 has 3 (01-15, 02-15, 03-15)."""

from __future__ import annotations

import html as htmllib
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from dangjian.cli import build_parser
from dangjian.indicators.cli import check
from dangjian.reports.cli import report
from dangjian.reports.models import ReportRun, ReportTemplate

from .conftest import study

pytestmark = pytest.mark.usefixtures("report_pack", "report_records")


def run_report(tmp_path, *period: str, org: str = "root") -> tuple[int, dict | None]:
    out = tmp_path / "r.json"
    args = ["report", "--template", "testreport", "--org", org, *period, "--format", "json", "-o", str(out)]
    code = report(build_parser().parse_args(args))
    return code, json.loads(out.read_text(encoding="utf-8")) if code == 0 else None


def slot(data: dict, key: str) -> dict:
    return next(s for s in data["slots"] if s["indicator"] == key)


# --- the command line ------------------------------------------------------------------------------------------


def test_a_quarterly_report_on_the_command_line_counts_only_that_quarters_records(tmp_path, capsys):
    code, q1 = run_report(tmp_path, "--period", "2019Q1")
    assert code == 0 and "2019年第一季度" in capsys.readouterr().out
    assert q1["period"]["start"] == "2019-01-01" and q1["period"]["end"] == "2019-03-31"
    assert slot(q1, "学习.中心组次数")["value"] == 2 and "集体学习2次" in q1["text"]
    assert slot(q1, "上年.学习.中心组次数")["value"] == 3  # 上年同期: 2018 Q1
    evidence = slot(q1, "学习.中心组次数")["evidence"]["url"]
    assert "start=2019-01-01" in evidence and "end=2019-03-31" in evidence
    _, q2 = run_report(tmp_path, "--period", "2019年第二季度")
    assert slot(q2, "学习.中心组次数")["value"] == 2 and slot(q2, "学习.舞台剧数")["value"] == 2
    _, year = run_report(tmp_path, "--year", "2019")
    assert slot(year, "学习.中心组次数")["value"] == 4  # the shorthand: the seed year, unchanged
    _, same = run_report(tmp_path, "--period", "2019")
    assert same == year
    _, march = run_report(tmp_path, "--period", "2019-03")
    assert slot(march, "学习.中心组次数")["value"] == 1
    _, span = run_report(tmp_path, "--period", "2019-02-01..2019-04-30")
    assert slot(span, "学习.中心组次数")["value"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2019Q5"], "报告期“2019Q5”无效：季度应写作 Q1 至 Q4"),
        (["--period", "2019-06-30..2019-01-01"], "截止日期不能早于起始日期"),
        (["--period", "1900"], "报告年度应在 1949 年至"),
        (["--year", "2019Q1"], "请用报告期"),
    ],
)
def test_a_bad_period_on_the_command_line_exits_2_in_chinese(tmp_path, capsys, args, message):
    assert run_report(tmp_path, *args)[0] == 2
    assert message in capsys.readouterr().err
    check_args = build_parser().parse_args(["check", "--org", "root", *args])
    assert check(check_args) == 2
    assert message in capsys.readouterr().err


def test_year_and_period_are_exclusive_and_one_is_required(capsys):
    for extra in ([], ["--year", "2019", "--period", "2019Q1"]):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args(["check", "--org", "root", *extra])
        assert exc.value.code == 2


def test_check_for_a_quarter(capsys):
    assert check(build_parser().parse_args(["check", "--org", "root", "--period", "2019Q1"])) == 1
    out = capsys.readouterr().out
    assert "2019年第一季度 核对结果" in out and "学习.中心组次数 = 2" in out  # fewer than 3 in one quarter
    assert check(build_parser().parse_args(["check", "--org", "root", "--year", "2019"])) == 0


# --- the web ----------------------------------------------------------------------------------------------------


def evidence_links(html: str) -> list[dict[str, str]]:
    """The evidence links of a page, each as its query (and `url`), in order."""
    links = []
    for href in re.findall(r'href="(/indicators/evidence/\?[^"]+)"', html):
        query = {k: v[0] for k, v in parse_qs(urlsplit(htmllib.unescape(href)).query).items()}
        links.append({**query, "url": htmllib.unescape(href)})
    return links


def test_a_quarterly_report_in_the_web_counts_only_that_quarter_and_its_evidence_is_that_quarters(
    client, world
):
    client.force_login(world.viewer)
    index = reverse("reports:index")
    chosen = client.get(index, {"template": "testreport", "org": "root", "year": "2019", "span": "Q1"})
    assert chosen.status_code == 302 and chosen.url == "/reports/testreport/root/2019Q1/"
    typed = client.get(index, {"template": "testreport", "org": "root", "period": "2019年第一季度"})
    assert typed.url == chosen.url
    response = client.get(chosen.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "2019年第一季度" in html
    text = re.sub(r"<[^>]+>", "", html)
    assert "集体学习2次" in text and "上年为3次" in text
    assert "上期（2018年第四季度）" in text and "上年同期（2018年第一季度）" in text
    links = [q for q in evidence_links(html) if q["key"] == "学习.中心组次数"]
    assert {(q["start"], q["end"]) for q in links} == {
        ("2019-01-01", "2019-03-31"),
        ("2018-01-01", "2018-03-31"),
    }
    link = next(q for q in links if q["start"] == "2019-01-01")
    evidence = client.get(link["url"])
    page = evidence.content.decode()
    assert evidence.status_code == 200 and "2019年第一季度" in page
    assert "第1次集体学习" in page and "第2次集体学习" in page and "第3次集体学习" not in page
    canonical = link["url"].split("&from=")[0]  # the preview's links also carry the way back to it
    assert client.get("/indicators/evidence/?key=学习.中心组次数&org=root&period=2019Q1").url == canonical


def test_each_kind_of_period_from_the_form(client, world):
    client.force_login(world.viewer)
    index = reverse("reports:index")
    asked = {"template": "testreport", "org": "root", "year": "2019"}
    for span, code in [("", "2019"), ("H2", "2019H2"), ("Q4", "2019Q4"), ("-03", "2019-03")]:
        assert client.get(index, {**asked, "span": span}).url == f"/reports/testreport/root/{code}/"
    ranged = client.get(index, {**asked, "span": "range", "start": "2019-02-01", "end": "2019-04-30"})
    assert ranged.url == "/reports/testreport/root/2019-02-01..2019-04-30/"
    page = client.get(ranged.url).content.decode()
    assert "2019年2月1日至2019年4月30日" in page and "集体学习3次" in re.sub(r"<[^>]+>", "", page)
    for typed, code in [("2019年上半年", "2019H1"), ("2019年3月", "2019-03"), ("2019年", "2019")]:
        assert client.get(index, {**asked, "period": typed}).url == f"/reports/testreport/root/{code}/"


def test_a_bad_period_in_the_web_is_refused_in_chinese(client, world):
    client.force_login(world.viewer)
    form = client.get(reverse("reports:index"), {"template": "testreport", "org": "root", "period": "2019Q5"})
    assert form.status_code == 400
    page = form.content.decode()
    assert "报告期“2019Q5”无效：季度应写作 Q1 至 Q4" in page and 'value="2019Q5"' in page
    reversed_range = client.get(
        reverse("reports:index"),
        {
            "template": "testreport",
            "org": "root",
            "span": "range",
            "start": "2019-06-30",
            "end": "2019-01-01",
        },
    )
    assert reversed_range.status_code == 400 and "截止日期不能早于起始日期" in reversed_range.content.decode()
    no_dates = client.get(
        reverse("reports:index"), {"template": "testreport", "org": "root", "span": "range"}
    )
    assert no_dates.status_code == 400 and "请填写起始日期和截止日期" in no_dates.content.decode()
    for bad in ("2019Q5", "2019-13", "1900"):
        response = client.get(f"/reports/testreport/root/{bad}/")
        assert response.status_code == 400 and f"报告期“{bad}”无效" in response.content.decode()


def test_the_year_list_reaches_next_year_and_the_earliest_record(client, world, make_record):
    from dangjian.indicators.periods import last_year

    study(make_record, world.c1, "中心组集体学习", "很早的学习", "1990-05-04")
    client.force_login(world.viewer)
    page = client.get(reverse("reports:index")).content.decode()
    years = [int(y) for y in re.findall(r'<option value="(\d{4})"', page)]
    assert years[0] == last_year() and years[-1] == 1990 and len(years) == last_year() - 1990 + 1


def test_a_quarter_is_downloaded_finalised_and_compared(client, world):
    client.force_login(world.unit_admin)
    url = "/reports/testreport/root/2019Q1"
    download = client.get(f"{url}.json")
    assert download.status_code == 200 and json.loads(download.content)["period"]["end"] == "2019-03-31"
    assert (
        "2019%E5%B9%B4%E7%AC%AC%E4%B8%80%E5%AD%A3%E5%BA%A6" in download["Content-Disposition"]
    )  # 2019年第一季度
    assert client.post(f"{url}/finalise/", {"override_reason": "季度测试", "confirm": "1"}).status_code == 302
    run = ReportRun.objects.get()
    assert (str(run.period_start), str(run.period_end), run.period_label) == (
        "2019-01-01", "2019-03-31", "2019年第一季度",
    )  # fmt: skip
    assert "集体学习2次" in run.text
    assert client.get(reverse("reports:run", kwargs={"pk": run.pk})).status_code == 200
    compare = client.get(reverse("reports:compare", kwargs={"pk": run.pk})).content.decode()
    assert f'href="{url}/"' in compare and "没有变化" in compare
    preview = client.get(f"{url}/").content.decode()
    assert reverse("reports:run", kwargs={"pk": run.pk}) in preview  # the quarter's run, not the year's


def test_year_urls_and_year_runs_are_unchanged(client, world):
    from dangjian.indicators.engine import Period
    from dangjian.reports.runs import finalise
    from dangjian.reports.templating import render

    template = ReportTemplate.objects.get(key="testreport")
    run = finalise(template, world.root, Period.year(2019), world.unit_admin, "年度")
    assert run.period_label == "2019年度"
    assert render(template, world.root, Period.parse("2019")).text == run.text
    year_url = reverse("reports:preview", kwargs={"key": "testreport", "org": "root", "year": 2019})
    assert year_url == "/reports/testreport/root/2019/"
    client.force_login(world.viewer)
    page = client.get(year_url).content.decode()
    assert "2019年度" in page and reverse("reports:run", kwargs={"pk": run.pk}) in page
    assert client.get(reverse("reports:run", kwargs={"pk": run.pk})).status_code == 200
    assert client.get(reverse("reports:compare", kwargs={"pk": run.pk})).status_code == 200


# --- comparisons: 上期 and 上年同期 -------------------------------------------------------------------------------

COMPARING = """\
本季度集体学习{{ 学习.中心组次数 }}次，上期{{ 上期.学习.中心组次数 }}次，上年同期{{ 上年.学习.中心组次数 }}次，\
环比增加{{ 学习.环比增加 }}次。报告期{{ 期间.名称 }}，上期为{{ 上期.期间.名称 }}，上年同期为{{ 上年.期间.名称 }}。
"""


@pytest.fixture
def comparing(world, tmp_path, report_pack):
    from dangjian.indicators.models import Check, Indicator, Kind
    from dangjian.packs.loader import discover, load_pack

    from .conftest import write_pack

    Indicator.objects.create(key="期间.名称", label="报告期", kind=Kind.ATTRIBUTE, attribute="period.label")
    Indicator.objects.create(
        key="学习.环比增加", label="中心组学习环比增加", unit="次", kind=Kind.FORMULA,
        formula="学习.中心组次数 - 上期.学习.中心组次数",
    )  # fmt: skip
    write_pack(tmp_path / "cmp", chapter=COMPARING)
    for pack in discover(tmp_path / "cmp"):
        load_pack(pack)  # the same pack again, its chapter now comparing
    Check.objects.create(
        code="t_not_fewer", label="不少于上期", rule="学习.中心组次数 >= 上期.学习.中心组次数", level="warning",
        message="集体学习次数少于上期", pack="testreport",
    )  # fmt: skip


@pytest.mark.usefixtures("comparing")
def test_a_template_a_formula_and_a_check_compare_with_the_period_before_and_the_same_period_last_year(
    tmp_path, client, world
):
    from dangjian.indicators.engine import Period, evaluate, run_checks

    _, q2 = run_report(tmp_path, "--period", "2019Q2")
    text = q2["text"]
    # 2019Q2: 2 sessions; 上期 2019Q1: 2; 上年同期 2018Q2: 2 (04-15, 05-15)
    assert "本季度集体学习2次，上期2次，上年同期2次，环比增加0次" in text
    assert "报告期2019年第二季度，上期为2019年第一季度，上年同期为2018年第二季度" in text
    last = slot(q2, "上期.学习.中心组次数")
    assert last["value"] == 2 and "start=2019-01-01" in last["evidence"]["url"]
    assert "end=2019-03-31" in last["evidence"]["url"]
    values = evaluate(world.root, Period.parse("2019Q1"), ["学习.环比增加", "上期.学习.中心组次数"])
    assert values["上期.学习.中心组次数"].value == 0 and values["学习.环比增加"].value == 2  # 2018Q4 had none
    march = {r.code: r for r in run_checks(world.root, Period.parse("2019-03"), pack="testreport")}
    assert march["t_not_fewer"].ok  # March 1, February 1
    may = {r.code: r for r in run_checks(world.root, Period.parse("2019-05"), pack="testreport")}
    assert (
        not may["t_not_fewer"].ok and "上期.学习.中心组次数 = 1" in may["t_not_fewer"].message
    )  # May 0, April 1
    client.force_login(world.viewer)
    asked = {"key": "上期.学习.中心组次数", "org": "root", "start": "2019-04-01", "end": "2019-06-30"}
    evidence = client.get("/indicators/evidence/", asked)
    assert (
        evidence.status_code == 301
        and "start=2019-01-01" in evidence.url
        and "end=2019-03-31" in evidence.url
    )
