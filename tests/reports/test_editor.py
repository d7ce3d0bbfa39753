"""The report editor, through the web as the people who write the report use it: every file of a template edited
beside a live preview of the unsaved draft, saves validated (file and line named, nothing saved when refused),
the picker, who may reach it, and the org kinds a template is for on the report page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dangjian.audit.models import Action, AuditEvent
from dangjian.reports.models import ReportTemplate, TemplateFileVersion
from dangjian.reports.templating import MAX_FILE_BYTES

from .conftest import CHAPTER1_J2

pytestmark = pytest.mark.django_db


def edit_url(file: str = "chapter1.j2") -> str:
    return reverse("reports:template_edit", args=["testreport"]) + f"?file={file}&org=root&period=2019"


def draft(client, text: str, file: str = "chapter1.j2", org: str = "root", period: str = "2019"):
    url = reverse("reports:template_draft", args=["testreport"])
    return client.post(url, {"file": file, "text": text, "org": org, "period": period})


def save(client, text: str, file: str = "chapter1.j2", note: str = ""):
    url = reverse("reports:template_edit", args=["testreport"])
    return client.post(url, {"file": file, "text": text, "note": note, "org": "root", "period": "2019"})


@pytest.fixture
def writer(client, world, report_pack):
    client.force_login(world.unit_admin)
    return client


def test_the_editor_lists_the_main_file_and_its_chapters(writer):
    response = writer.get(reverse("reports:template_edit", args=["testreport"]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "main.j2（主文件）" in body and "chapter1.j2" in body
    assert "测试区年度党建工作" in body  # the main file's text in the textarea
    chapter = writer.get(edit_url()).content.decode()
    assert "二、坚持组织建设" in chapter and "内置原文" in chapter


@pytest.mark.parametrize("who", ["sysadmin", "reviewer", "viewer", "clerk", "outsider"])
def test_only_administrators_and_reviewers_of_the_reporting_org_reach_the_editor(
    client, world, report_pack, who
):
    client.force_login(getattr(world, who))
    assert client.get(edit_url()).status_code == 403
    assert draft(client, "x\n").status_code == 403
    assert save(client, "改了\n").status_code == 403
    assert client.get(reverse("reports:template_picker") + "?q=学习").status_code == 403
    assert not TemplateFileVersion.objects.exists()


def test_a_reviewer_of_the_reporting_org_may_edit(client, world, report_pack):
    from dangjian.orgs.models import Membership, Role

    Membership.objects.create(user=world.reviewer, org=world.root, role=Role.REVIEWER)
    client.force_login(world.reviewer)
    assert client.get(edit_url()).status_code == 200


def test_the_preview_shows_the_unsaved_draft_for_the_chosen_org_and_period(writer, report_records):
    response = draft(writer, "二、草稿里的新段落，中心组学习{{ 学习.中心组次数 }}次。\n")
    body = response.content.decode()
    assert response.status_code == 200
    assert "草稿里的新段落" in body and "中心组学习" in body
    assert 'class="slot"' in body and ">4<" in body  # the figure, with its evidence link
    assert "今年以来" in body  # the main file rendered around the draft chapter
    assert not TemplateFileVersion.objects.exists()
    c2 = draft(writer, "二、{{ 学习.中心组次数 }}次\n", org="c2").content.decode()
    assert ">1<" in c2  # 和平社区's own subtree


def test_the_preview_refuses_with_file_and_line(writer, report_records):
    response = draft(writer, "二、正文\n{{ 学习.不存在 }}\n")
    body = response.content.decode()
    assert response.status_code == 422
    assert "chapter1.j2" in body and "第 2 行" in body and "学习.不存在" in body


def test_the_preview_is_only_for_orgs_the_user_may_run_reports_for(writer, world):
    assert draft(writer, "x\n", org="nope").status_code == 404
    world.c1.is_active = False
    world.c1.save()
    assert draft(writer, "x\n", org="c1").status_code == 404
    bad = draft(writer, "x\n", period="2019Q5")
    assert bad.status_code == 400 and "季度" in bad.content.decode()


def test_save_validates_names_file_and_line_and_saves_nothing_when_refused(writer):
    response = save(writer, "二、正文\n第二行\n{{ 学习.不存在 }}\n")
    body = response.content.decode()
    assert response.status_code == 422
    assert "未保存" in body and "chapter1.j2" in body and "第 3 行" in body
    assert "{{ 学习.不存在 }}" in body  # the draft stays in the textarea to be fixed
    syntax = save(writer, "二、\n{% if 学习.中心组次数 %}\n没有结束\n")
    assert syntax.status_code == 422 and "语法错误" in syntax.content.decode()
    assert not TemplateFileVersion.objects.exists()


def test_a_template_reaching_for_python_internals_is_refused(writer, report_records):
    for text in (
        "{{ 学习.中心组次数.__class__ }}\n",
        "{{ ''.__class__.__mro__ }}\n",
        "{{ cycler.__init__ }}\n",
    ):
        response = save(writer, text)
        assert response.status_code == 422 and "不允许访问内部属性" in response.content.decode(), text
        preview = draft(writer, text)
        assert preview.status_code == 422, text
    assert not TemplateFileVersion.objects.exists()


def test_an_oversize_file_is_refused(writer):
    big = "字" * (MAX_FILE_BYTES // 3 + 10)
    response = save(writer, big)
    assert response.status_code == 422 and "超过" in response.content.decode()
    assert draft(writer, big).status_code == 422
    assert not TemplateFileVersion.objects.exists()


def test_a_save_is_a_new_version_owned_by_the_reporting_org_and_audited(writer, world):
    response = save(writer, "二、网页上改过的第二章\n", note="改写第二章")
    assert response.status_code == 302
    (version,) = TemplateFileVersion.objects.all()
    assert version.name == "chapter1.j2" and version.text == "二、网页上改过的第二章\n"
    assert (
        version.base == CHAPTER1_J2 and version.org == world.root and version.created_by == world.unit_admin
    )
    assert version.note == "改写第二章"
    page = writer.get(response["Location"]).content.decode()
    assert "网页上改过的第二章" in page and "改写第二章" in page
    event = AuditEvent.objects.filter(action=Action.TEMPLATE_CHANGE).get()
    assert event.target == "报告模板 testreport" and event.detail["file"] == "chapter1.j2"


def test_the_report_page_uses_the_saved_version(writer, report_records):
    save(writer, "二、网页版本的第二章{{ 学习.中心组次数 }}次\n")
    page = writer.get(reverse("reports:preview", args=["testreport", "root", 2019])).content.decode()
    assert "网页版本的第二章" in page and "坚持组织建设" not in page


def test_the_main_file_can_be_edited_and_can_include_only_the_packs_files(writer, report_records):
    ok = save(writer, "新的标题\n{% include 'chapter1.j2' %}\n", file="main.j2")
    assert ok.status_code == 302
    outside = save(writer, "{% include '../../etc/passwd' %}\n", file="main.j2")
    assert outside.status_code == 422 and "找不到该模板文件" in outside.content.decode()
    assert TemplateFileVersion.objects.count() == 1


def test_the_picker_finds_indicators_and_filters_by_chinese_label(writer):
    url = reverse("reports:template_picker")
    items = writer.get(url, {"q": "中心组"}).json()["items"]
    found = {i["code"]: i for i in items}
    assert found["学习.中心组次数"]["insert"] == "{{ 学习.中心组次数 }}"
    assert (
        found["学习.中心组次数"]["label"] == "中心组集体学习次数"
        and found["学习.中心组次数"]["kind"] == "指标"
    )
    filters = writer.get(url, {"q": "书名号"}).json()["items"]
    assert [(i["kind"], i["insert"]) for i in filters] == [("过滤器", "|书名号")]
    by_description = writer.get(url, {"q": "中文数字"}).json()["items"]
    assert any(i["code"] == "中文数字" for i in by_description)
    assert writer.get(url, {"q": "没有这种东西"}).json()["items"] == []


def test_the_picker_finds_report_parameters_by_their_label(writer):
    from dangjian.indicators import parameters

    parameters.define(key="学习强国.注册人数", label="学习强国注册人数", unit="人")
    items = writer.get(reverse("reports:template_picker"), {"q": "学习强国"}).json()["items"]
    assert [(i["kind"], i["code"], i["insert"]) for i in items] == [
        ("报告参数", "学习强国.注册人数", "{{ 学习强国.注册人数 }}")
    ]


def test_the_admin_shows_templates_but_does_not_edit_them(client, world, report_pack):
    client.force_login(world.sysadmin)
    change = reverse("admin:reports_reporttemplate_change", args=[report_pack.pk])
    assert client.get(change).status_code == 200
    response = client.post(change, {"key": "testreport", "label": "x", "source": "改过的\n"})
    assert response.status_code == 403
    report_pack.refresh_from_db()
    assert report_pack.label == "测试年度党建工作报告" and not report_pack.source.startswith("改过的")


# --- org kinds ------------------------------------------------------------------------------------------------


@pytest.fixture
def district_only(report_pack):
    report_pack.org_kinds = ["district"]
    report_pack.save()
    ReportTemplate.objects.create(key="community", label="社区报告", source="社区\n", org_kinds=["community"])
    ReportTemplate.objects.create(key="anyone", label="通用报告", source="通用\n")
    return report_pack


def _options(body: str, name: str) -> list[str]:
    import re

    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', body, re.S)
    assert select is not None
    return re.findall(r'<option value="([^"]+)"', select.group(1))


def test_the_report_page_offers_the_orgs_a_template_is_for(client, world, district_only):
    client.force_login(world.unit_admin)
    body = client.get(reverse("reports:index"), {"template": "testreport"}).content.decode()
    assert _options(body, "org") == ["root"]
    body = client.get(reverse("reports:index"), {"template": "anyone"}).content.decode()
    assert set(_options(body, "org")) == {"root", "jw", "s1", "c1", "c2"}


def test_the_report_page_offers_the_templates_fitting_an_org(client, world, district_only):
    client.force_login(world.unit_admin)
    body = client.get(reverse("reports:index"), {"org": "c1"}).content.decode()
    assert set(_options(body, "template")) == {"community", "anyone"}
    body = client.get(reverse("reports:index"), {"org": "root"}).content.decode()
    assert set(_options(body, "template")) == {"testreport", "anyone"}


def test_a_template_not_for_the_org_is_refused_on_the_form(client, world, district_only):
    client.force_login(world.unit_admin)
    response = client.get(reverse("reports:index"), {"template": "testreport", "org": "c1", "year": "2019"})
    assert response.status_code == 400
    assert "不适用于“中共城关街道幸福社区委员会”" in response.content.decode()
    assert "区（县）委" in response.content.decode()
    ok = client.get(reverse("reports:index"), {"template": "testreport", "org": "root", "year": "2019"})
    assert ok.status_code == 302


def test_the_editor_previews_only_fitting_orgs(writer, district_only):
    body = writer.get(reverse("reports:template_edit", args=["testreport"])).content.decode()
    assert _options(body.replace('id="preview-org"', 'name="preview-org"'), "preview-org") == ["root"]


def test_a_new_chapter_file_is_made_in_the_web_and_included_by_the_main_file(writer, report_records):
    url = reverse("reports:template_edit", args=["testreport"])
    for bad in ("../x.j2", "章节", "chapter1.j2", "a/b.j2"):
        writer.post(url, {"new_file": bad})
    assert not TemplateFileVersion.objects.exists()
    response = writer.post(url, {"new_file": "第三章.j2"})
    assert response.status_code == 302 and "file=%E7%AC%AC%E4%B8%89%E7%AB%A0.j2" in response["Location"]
    assert (
        save(writer, "三、新的一章：中心组学习{{ 学习.中心组次数 }}次。\n", file="第三章.j2").status_code
        == 302
    )
    main = '测试区年度党建工作\n报告\n\n{% include "chapter1.j2" %}\n{% include "第三章.j2" %}\n'
    assert save(writer, main, file="main.j2").status_code == 302
    page = writer.get(reverse("reports:preview", args=["testreport", "root", 2019])).content.decode()
    assert "三、新的一章：中心组学习" in page
    tabs = writer.get(reverse("reports:template_edit", args=["testreport"])).content.decode()
    assert tabs.index("chapter1.j2") < tabs.index("第三章.j2")
