"""待定 left by 从 Word 生成模板, as the report writer meets them: above the editor's live preview of the unsaved draft
(how many, which figure on which line, each a jump to its line, 定稿 blocked), on the editor page, and on the report
page itself (with a link to the line for those who may edit)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from . import test_word_import as upload_page
from .test_word_import import URL, review_form, upload

pytestmark = pytest.mark.django_db

data_dir, writer = upload_page.data_dir, upload_page.writer  # the upload page's fixtures
DRAFT = reverse("reports:template_draft", args=["annual2020"])
EDIT = reverse("reports:template_edit", args=["annual2020"])


@pytest.fixture
def made(writer, data_dir):
    """annual2020 generated from the test document: 收到意见17条 is its one 待定. Returns the template's text."""
    page = upload(writer).content.decode()
    assert writer.post(URL, review_form(page) | {"action": "generate"}).status_code == 302
    return (data_dir / "packs" / "annual2020" / "annual2020.j2").read_text(encoding="utf-8")


def draft(client, text: str) -> str:
    response = client.post(DRAFT, {"file": "annual2020.j2", "text": text, "org": "root", "period": "2019"})
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def line_of(text: str, words: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), start=1) if words in line)


def test_the_live_preview_warns_of_each_open_figure_with_its_line(writer, made):
    body = draft(writer, made)
    assert "草稿中还有 1 处待定，全部确定之前不能定稿。" in body
    line = line_of(made, "{# 待定")
    item = re.search(r'<li data-file="annual2020.j2" data-line="(\d+)">(.*?)</li>', body, re.S)
    assert item and int(item.group(1)) == line  # the editor's script makes the item jump to that line
    assert f"第 {line} 行" in item.group(2) and "<strong>“17”</strong>" in item.group(2)
    assert "收到意见【17】条" in item.group(2)  # the words around it, the comment left out
    assert "收到意见17条" in body  # and the preview still shows last year's wording

    # a second open figure in the draft, not yet saved: counted at once, on its own line
    more = made.replace("参加学习", "参加学习{# 待定 9-9：“52”，可能是 学习.参加人数 #}", 1)
    body = draft(writer, more)
    assert "草稿中还有 2 处待定" in body and "（可能是 学习.参加人数）" in body
    assert len(re.findall(r'<li data-file="annual2020.j2" data-line="\d+">', body)) == 2

    # resolved in the draft (the comment removed): the warning goes
    resolved = re.sub(r"\{# 待定 .*?#\}", "", made)
    body = draft(writer, resolved)
    assert "待定" not in body and "收到意见17条" in body


def test_a_draft_that_does_not_render_still_lists_its_open_figures(writer, made):
    broken = made + "{{ 没有这个指标 }}\n"
    response = writer.post(DRAFT, {"file": "annual2020.j2", "text": broken, "org": "root", "period": "2019"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "草稿无法生成报告" in body and "草稿中还有 1 处待定" in body


def test_what_a_draft_says_in_a_pending_comment_is_escaped(writer, made):
    hostile = made.replace(
        "{# 待定", "{# 待定 1-1：“<script>alert(1)</script>”<img src=x onerror=alert(2)> #}{# 待定", 1
    )
    body = draft(writer, hostile)
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "草稿中还有 2 处待定" in body


def test_the_editor_lists_the_saved_open_figures_and_opens_at_a_line(writer, made):
    page = writer.get(EDIT + "?org=root&period=2019&line=7").content.decode()
    line = line_of(made, "{# 待定")
    assert "待定 1 处（定稿前须逐一确定）" in page
    assert f'data-file="annual2020.j2" data-line="{line}"' in page and "收到意见【17】条" in page
    assert 'data-line="7">' in page  # the editor form: editor.js selects line 7 in the textarea
    assert 'data-line="x' not in writer.get(EDIT + "?line=x%22").content.decode()


def test_the_report_page_lists_the_open_figures_linking_writers_to_their_lines(writer, made, client, world):
    line = line_of(made, "{# 待定")
    page = writer.get("/reports/annual2020/root/2019/").content.decode()
    assert "本报告的模板中还有 1 处待定，全部确定之前不能定稿。" in page
    link = f"{EDIT}?org=root&amp;period=2019&amp;file=annual2020.j2&amp;line={line}"
    assert f'<a class="pending-where" href="{link}">annual2020.j2 第 {line} 行</a>' in page
    assert "收到意见【17】条" in page and "模板还有 1 处待定" in page  # and beside 定稿

    # a reader who may see the report but not edit it: told, without the editor's link
    client.force_login(world.viewer)
    page = client.get("/reports/annual2020/root/2019/").content.decode()
    assert "本报告的模板中还有 1 处待定" in page and "收到意见【17】条" in page
    assert EDIT not in page
