"""The 核稿 page (/reports/verify/): paste or upload a draft, see every figure checked, download the list."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from docx import Document
from openpyxl import load_workbook

URL = "/reports/verify/"
DRAFT = "今年以来,区委理论中心组集体学习6次,上年为5次。观看《焦裕禄》《红旗渠》等舞台剧2部,参加学习50余人次。"


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_the_form_lists_the_orgs_one_may_report_on(report_pack, world, client_for):
    page = client_for(world.clerk).get(URL).content.decode()
    assert "核稿：逐个核对文稿中的数字" in page
    assert 'value="c1"' in page and 'value="c2"' not in page and 'value="root"' not in page
    page = client_for(world.sysadmin).get(URL).content.decode()
    assert "您没有任何组织的报告权限" in page


def test_a_pasted_draft_is_checked_figure_by_figure(report_pack, report_records, client_for):
    response = client_for(report_records.viewer).post(URL, {"org": "root", "period": "2019", "text": DRAFT})
    assert response.status_code == 200
    page = response.content.decode()
    assert "一致 5，" in page and "不一致 1" in page
    assert "区委理论中心组集体学习【6】次" in page
    assert '<a href="/indicators/evidence/?key=' in page and ">4</a>" in page


def test_an_uploaded_word_file_is_checked_and_the_list_downloads_as_xlsx(
    report_pack, report_records, client_for
):
    from dangjian.audit.models import AuditEvent

    document = Document()
    document.add_paragraph(DRAFT)
    data = io.BytesIO()
    document.save(data)
    client = client_for(report_records.viewer)
    upload = SimpleUploadedFile("草稿.docx", data.getvalue())
    page = client.post(URL, {"org": "root", "period": "2019年", "file": upload}).content.decode()
    assert "草稿.docx" in page and "不一致 1" in page
    assert not AuditEvent.objects.filter(target__startswith="核稿").exists()  # nothing stored for a look

    response = client.post(
        URL, {"org": "root", "period": "2019", "text": DRAFT, "name": "草稿.docx", "format": "xlsx"}
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("段落", "文中", "上下文", "结果", "台账数值")
    assert ("6", "不一致", "4") in [(r[1], r[3], r[4]) for r in rows[1:]]
    assert AuditEvent.objects.filter(target="核稿 草稿.docx root 2019").exists()


def test_an_org_outside_ones_scope_is_refused_and_nothing_is_checked(report_pack, report_records, client_for):
    response = client_for(report_records.clerk).post(URL, {"org": "root", "period": "2019", "text": DRAFT})
    assert response.status_code == 400
    page = response.content.decode()
    assert "请选择一个您有权查看报告的组织" in page and "共 " not in page


@pytest.mark.parametrize(
    "form, message",
    [
        ({"period": "2019Q9", "text": DRAFT}, "2019Q9"),
        ({"period": "2019", "text": "  "}, "请粘贴文稿"),
        ({"period": "2019", "text": "字" * 400_001}, "粘贴的文字过长"),
        ({"period": "2019", "file": SimpleUploadedFile("旧.doc", b"x")}, "另存为 .docx"),
        ({"period": "2019", "file": SimpleUploadedFile("坏.docx", b"not a zip")}, "不是有效的 Word 文件"),
    ],
)
def test_bad_input_is_named_in_chinese(report_pack, report_records, client_for, form, message):
    response = client_for(report_records.viewer).post(URL, {"org": "root", **form})
    assert response.status_code == 400
    assert message in response.content.decode()
