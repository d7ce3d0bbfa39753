"""Reports under attack (issue 8): who may 定稿 (finding 8), template files and template work (finding 9), report
years (low), control characters in the Word file (finding 5), case titles in the admin (finding 3) and the audit
of downloads, 定稿 and template changes. Every test here fails without its fix."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from docx import Document
from tests.reports import conftest as reports

from dangjian.audit.models import Action, AuditEvent
from dangjian.indicators.engine import Period
from dangjian.reports import sandbox
from dangjian.reports.models import ReportRun, ReportTemplate
from dangjian.reports.runs import FinaliseRefused, finalise
from dangjian.reports.templating import TemplateRefused, render_text

FakeTemplate, fake_values, study = reports.FakeTemplate, reports.fake_values, reports.study
report_pack, report_records = reports.report_pack, reports.report_records  # fixtures, used by name

VALUES = fake_values(**{"学习.次数": 23, "文化.舞台剧": ["焦裕禄", "红旗渠"]})

CONFIRM = {"confirm": "1"}  # 定稿 asks for the confirming tick (tests/reports/test_confirm.py)


def url(name: str, org: str = "root", year: int = 2019, **extra: Any) -> str:
    return reverse(f"reports:{name}", kwargs={"key": "testreport", "org": org, "year": year, **extra})


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


# --- finding 8: 定稿 only by 审核员/管理员 covering the org --------------------------------------------------


@pytest.mark.usefixtures("report_pack", "report_records")
def test_viewer_and_clerk_are_refused_finalise_with_a_chinese_403(client, world):
    for user, org in ((world.viewer, "root"), (world.clerk, "c1"), (world.sibling, "c2")):
        client.force_login(user)
        page = client.get(url("preview", org)).content.decode()
        assert url("finalise", org) not in page and "定稿须由本单位或上级单位的审核员、管理员进行" in page
        response = client.post(url("finalise", org), {"override_reason": "试图定稿"})
        assert response.status_code == 403, user
        assert "定稿须由该单位或其上级单位的审核员、管理员进行" in response.content.decode()
    assert not ReportRun.objects.exists()
    assert [e.username for e in events(Action.REFUSED)] == ["viewer", "clerk", "sibling"]


@pytest.mark.usefixtures("report_records")
def test_the_finalise_service_refuses_them_too(report_pack, world):
    for user in (world.viewer, world.clerk, world.sysadmin, world.outsider, None):
        with pytest.raises(FinaliseRefused):
            finalise(report_pack, world.c1, Period.year(2019), user, override_reason="理由")
    assert not ReportRun.objects.exists()


@pytest.mark.usefixtures("report_pack", "report_records")
def test_reviewer_and_admin_covering_the_org_may_finalise_and_it_is_audited(client, world):
    client.force_login(world.reviewer)  # 审核员 at 城关街道
    assert url("finalise", "c1") in client.get(url("preview", "c1")).content.decode()
    assert client.post(url("finalise", "c1"), CONFIRM).status_code == 302
    assert (
        client.post(url("finalise", "root"), CONFIRM).status_code == 404
    )  # the district is above his subtree
    client.force_login(world.unit_admin)  # 管理员 at the district
    assert client.post(url("finalise", "root"), CONFIRM).status_code == 302
    assert ReportRun.objects.count() == 2
    finalised = events(Action.FINALISE)
    assert [(e.username, e.target) for e in finalised] == [
        ("reviewer", "报告 testreport c1 2019"),
        ("unit_admin", "报告 testreport root 2019"),
    ]
    runs = ReportRun.objects.order_by("pk")
    assert [e.detail for e in finalised] == [{"run": r.pk, "overridden": False} for r in runs]


# --- finding 9: template files stay inside their pack -----------------------------------------------------


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A stand-in for the data dir's secret_key, beside where an attacker points the template."""
    path = tmp_path / "data" / "secret_key"
    path.parent.mkdir()
    path.write_text("SECRET-KEY-不应出现", encoding="utf-8")
    return path


def _render(template: Any) -> str:
    text, _ = render_text(template, VALUES)
    return text


@pytest.mark.parametrize(
    "file_path",
    ["/etc/dangjian.j2", "../../../../../../../../etc/dangjian.j2", "{data}/main.j2"],
)
def test_a_template_file_path_outside_the_packs_reads_nothing(report_pack, secret, file_path):
    report_pack.file_path = file_path.format(data=secret.parent)
    report_pack.source = "{% include 'passwd' %}{% include 'secret_key' %}\n"
    with pytest.raises(TemplateRefused, match="不在数据包目录中"):
        _render(report_pack)


@pytest.mark.parametrize(
    "include",
    [
        "{% include '../data/secret_key' %}",
        "{% include '/etc/passwd' %}",
        "{% include 'link.j2' %}",  # a symbolic link inside the pack to the secret
        "{% extends 'link.j2' %}",
        "{% import 'link.j2' as x %}",
        "{% set name = 'link.j2' %}{% include name %}",  # a name only known while rendering
    ],
)
def test_includes_cannot_leave_the_pack_folder(report_pack, secret, include):
    folder = Path(report_pack.path()).parent
    os.symlink(secret, folder / "link.j2")
    report_pack.source = include + "\n"
    with pytest.raises(TemplateRefused) as refused:
        _render(report_pack)
    assert "SECRET" not in str(refused.value)
    assert "不在本数据包的模板目录中" in str(refused.value) or "找不到该模板文件" in str(refused.value)


def test_a_template_kept_only_in_the_database_reads_no_files(report_pack):
    template = ReportTemplate(key="dbonly", label="库内模板", source="{% include 'chapter1.j2' %}\n")
    with pytest.raises(TemplateRefused, match="找不到该模板文件"):
        _render(template)
    report_pack.source = "{% include 'chapter1.j2' %}"  # its pack's chapter files stay reachable
    assert "坚持组织建设" in render_text(report_pack, fake_values(**{
        "学习.中心组次数": 4, "上年.学习.中心组次数": 5}))[0]  # fmt: skip


def test_the_admin_cannot_point_a_template_at_a_file_nor_change_it(client, world, report_pack):
    """Templates are edited in the report editor only (validated, versioned, audited); the admin shows them."""
    client.force_login(world.sysadmin)
    change = reverse("admin:reports_reporttemplate_change", args=[report_pack.pk])
    stored = (report_pack.file_path, report_pack.source)
    response = client.post(
        change,
        {"key": "testreport", "label": "测试年度党建工作报告", "source": "改过的{{ 学习.中心组次数 }}\n",
         "file_path": "/etc/passwd", "pack": "x"},
    )  # fmt: skip
    assert response.status_code == 403
    report_pack.refresh_from_db()
    assert (report_pack.file_path, report_pack.source) == stored
    assert not events(Action.TEMPLATE_CHANGE)
    shown = client.get(change)
    assert shown.status_code == 200 and "在报告模板编辑页修改" in shown.content.decode()


# --- finding 9: templates run with bounded time and size --------------------------------------------------


ATTACKS = {
    "nested range": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "repeat": "{{ 'a' * 2000000000 }}",
    "list repeat": "{{ ([1] * 2000000000)|length }}",
    "big range": "{{ range(2000000000)|length }}",
    "power": "{{ 2 ** 100000000 }}",
    "doubling": "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "center": "{{ 'a'|center(2000000000) }}",
    "format": "{{ '%2000000000d'|format(1) }}",
    "percent": "{{ '%2000000000d' % 1 }}",
    "replace": "{{ ('a' * 100000)|replace('a', 'b' * 100000) }}",
    "indent": "{{ ('a\\n' * 100000)|indent(100000) }}",
    "str method": "{{ 'a'.ljust(2000000000) }}",
    "str format": "{{ '{:>2000000000}'.format(1) }}",
    "list mutation": "{% set l = [1] %}{% for i in range(30) %}{{ l.extend(l) }}{% endfor %}",
    "macro doubling": "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% else %}0123456789{% endif %}"
    "{% endmacro %}{{ f(40) }}",
    "text in a loop": "{% set x %}{% for i in range(100000) %}" + "字" * 1000 + "{% endfor %}{% endset %}",
    "recursion": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "huge number in a filter": "{{ '1e999999999'|余 }}",
}


@pytest.mark.parametrize("source", ATTACKS.values(), ids=ATTACKS.keys())
def test_each_attack_is_refused_in_chinese_with_file_and_line(source):
    with pytest.raises(TemplateRefused) as refused:
        render_text(FakeTemplate("t", "第一行\n" + source), VALUES)
    (problem,) = refused.value.problems
    assert problem.file == "main.j2" and problem.line == 2, str(problem)
    assert str(problem).startswith("模板“main.j2”第 2 行：")
    assert not re.search("[A-Za-z]", re.sub("“[^”]*”", "", problem.message)), problem.message  # no English


def test_the_render_time_is_bounded(monkeypatch):
    """The deadline is checked inside loops: a clock running 1 s a reading stops the loop at 10 s."""
    readings = iter(range(10**9))
    monkeypatch.setattr(sandbox, "clock", lambda: float(next(readings)))
    with pytest.raises(TemplateRefused, match="模板运行超过 10 秒"):
        render_text(FakeTemplate("t", "{% for i in range(1000) %}{% endfor %}"), VALUES)
    assert next(readings) < 30  # stopped after about ten turns, not a thousand


def test_an_output_bound_names_the_template(monkeypatch):
    monkeypatch.setattr(sandbox, "LIMITS", sandbox.Limits(output=100))
    with pytest.raises(TemplateRefused, match="输出超过 100 个字符"):
        render_text(FakeTemplate("t", "字" * 101), VALUES)


def test_ordinary_templates_still_render():
    text, slots = render_text(
        FakeTemplate(
            "t",
            "{% for x in 文化.舞台剧 %}《{{ x }}》{% endfor %}{{ 文化.舞台剧|join('、') }}"
            "{{ 学习.次数 * 2 }}{{ '%.1f' % 3.14159 }}{{ '中' ~ '文' }}{{ (文化.舞台剧|list)[:1]|join }}",
        ),
        VALUES,
    )
    assert len(slots) == 2 and text.endswith("46" + "3.1" + "中文" + "焦裕禄")


# --- low: report years ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("report_pack", "report_records")
@pytest.mark.parametrize("year", [0, 1, 1900, 99999])
def test_a_senseless_year_is_a_chinese_400_not_a_500(client, world, year):
    client.force_login(world.unit_admin)
    for response in (
        client.get(url("preview", year=year)),
        client.get(url("download", year=year, fmt="docx")),
        client.post(url("finalise", year=year)),
    ):
        assert response.status_code == 400
        assert "报告年度应在 1949 年至" in response.content.decode()
    assert not ReportRun.objects.exists()


@pytest.mark.usefixtures("report_pack")
@pytest.mark.parametrize("year", ["0", "1", "99999"])
def test_a_senseless_year_on_the_command_line_exits_2(tmp_path, capsys, year):
    from dangjian.cli import build_parser
    from dangjian.reports.cli import report

    args = ["report", "--template", "testreport", "--org", "root", "--year", year, "--format", "docx"]
    assert report(build_parser().parse_args([*args, "-o", str(tmp_path / "r.docx")])) == 2
    assert "报告年度应在 1949 年至" in capsys.readouterr().err


# --- finding 5: a control character in a value ------------------------------------------------------------


@pytest.mark.usefixtures("report_pack", "report_records")
def test_a_control_character_in_a_value_still_gives_the_word_file_and_finalise(client, world, make_record):
    play = study(make_record, world.c1, "观看舞台剧", "东方红", "2019-01-02")
    # As an old import or the API could have stored it: straight into the row, past today's input cleaning.
    type(play).objects.filter(pk=play.pk).update(values={**play.values, "title": "东\x01方\x0b红\ufffe"})
    client.force_login(world.unit_admin)
    response = client.get(url("download", fmt="docx"))
    assert response.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    assert "《东方红》" in text
    assert client.post(url("finalise"), CONFIRM).status_code == 302
    run = ReportRun.objects.get()
    assert "东方红" in run.text and "\x01" not in run.text
    assert (
        client.get(reverse("reports:run_download", kwargs={"pk": run.pk, "fmt": "docx"})).status_code == 200
    )


# --- finding 3 (admin part): a finalised report's content is not in the admin ---------------------------


@pytest.mark.usefixtures("report_records")
def test_the_admin_shows_a_finalised_report_by_its_metadata_only(client, world, report_pack):
    run = finalise(report_pack, world.root, Period.year(2019), world.unit_admin, override_reason="理由甲乙丙")
    assert "焦裕禄" in run.text
    client.force_login(world.sysadmin)
    for page in (
        reverse("admin:reports_reportrun_changelist"),
        reverse("admin:reports_reportrun_change", args=[run.pk]),
    ):
        response = client.get(page)
        body = response.content.decode()
        assert response.status_code == 200
        assert "焦裕禄" not in body and "集体学习" not in body and "理由甲乙丙" not in body
    assert reverse("reports:run", kwargs={"pk": run.pk}) in body
    assert client.get(reverse("reports:run", kwargs={"pk": run.pk})).status_code == 404  # no ledger access


# --- audit of exports -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("report_pack", "report_records")
def test_every_download_is_audited(client, world, tmp_path):
    from dangjian.cli import build_parser
    from dangjian.reports.cli import report

    client.force_login(world.viewer)
    for fmt in ("docx", "json", "html", "txt"):
        assert client.get(url("download", fmt=fmt)).status_code == 200
    run = finalise(report_pack_of(), world.root, Period.year(2019), world.unit_admin)
    for fmt in ("docx", "json", "txt"):
        client.get(reverse("reports:run_download", kwargs={"pk": run.pk, "fmt": fmt}))
    args = ["report", "--template", "testreport", "--org", "root", "--year", "2019", "--format", "txt"]
    assert report(build_parser().parse_args([*args, "-o", str(tmp_path / "r.txt")])) == 0
    exported = events(Action.EXPORT)
    assert [e.detail["format"] for e in exported] == [
        "docx",
        "json",
        "html",
        "txt",
        "docx",
        "json",
        "txt",
        "txt",
    ]
    assert {e.username for e in exported[:7]} == {"viewer"}
    assert exported[0].target == "报告 testreport root 2019"
    assert exported[4].target.startswith(f"定稿报告 {run.pk}")
    assert (
        exported[7].username.endswith("（命令行）") and exported[7].detail["via"] == "命令行 dangjian report"
    )


def report_pack_of() -> ReportTemplate:
    return ReportTemplate.objects.get(key="testreport")


def test_a_finalised_run_holds_only_what_any_reader_may_see(world, report_pack, make_record):
    """A 纪委 member who also reviews the district finalises: the stored run — read by every viewer of the
    district — must not hold the case numbers his own access shows him."""
    from dangjian.indicators.engine import viewing_as
    from dangjian.indicators.models import Indicator
    from dangjian.orgs.models import Membership, Role
    from dangjian.reports.templating import render

    case_no = "定稿纪案〔2019〕9号"
    make_record(
        "discipline_case",
        world.jw,
        {"filed_on": "2019-04-01", "case_no": case_no, "person": "孙某某", "rank": "乡科级"},
    )
    Indicator.objects.create(
        key="纪律.案号",
        label="案号",
        ledger=world.ledger("discipline_case"),
        aggregate="list",
        field="case_no",
    )
    report_pack.source = "案件：{{ 纪律.案号|顿号 }}。\n"
    report_pack.save()
    Membership.objects.create(user=world.jiwei, org=world.root, role=Role.REVIEWER)
    with viewing_as(world.jiwei):
        assert case_no in render(report_pack, world.root, Period.year(2019)).text  # his own view has it
    run = finalise(report_pack, world.root, Period.year(2019), world.jiwei, "测试")
    assert case_no not in run.text
    assert case_no not in str(run.slots) and case_no not in str(run.values)
