"""从 Word 生成模板 in a real browser, as the district's report writer (qwb) uses it: upload last year's report, mark
a figure a 报告参数 with ＋参数 (the form comes pre-filled; saving comes back to the review with it chosen), look at
＋指标's pre-filled builder and come back without making one, generate the template, and meet the 待定 left open
above the editor's live preview (a click goes to the line) and on the report page. Screenshots go to
$DANGJIAN_SCREENSHOTS when set (to be looked at)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from docx import Document

from dangjian.demo.generator import DEMO_PASSWORD

from .cdp import Browser, chromium_path, signed_in
from .test_excel_in_browser import server  # noqa: F401  (the demo app in its own process, a fixture)
from .test_reports_in_browser import shot, value

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="需要 Debian 的 chromium（apt-get install chromium）"
)

LINES = [
    "示范区2019年度党建工作情况报告",
    "",
    "一、理论武装",
    "全年区委理论学习中心组开展集体学习12次，举办专题读书班3期，收到意见建议17条。",
    "二、基层组织建设",
    "新建基层党组织23个，党组织覆盖率达98.5%，投入党建经费580余万元。",
]


@pytest.fixture(scope="module")
def writer(server) -> Iterator[Browser]:  # noqa: F811
    b = signed_in(server, "qwb", DEMO_PASSWORD)  # 区委办的管理员: writes the district's report
    yield b
    b.close()


def slot(figure: str) -> str:
    """JavaScript for the review's span of the figure `figure`."""
    return (
        "[...document.querySelectorAll('.wi-slot')].find(s => s.querySelector('mark').textContent === "
        f"{json.dumps(figure)})"
    )


def test_a_parameter_made_from_a_figure_comes_back_chosen_and_open_figures_show(writer, server, tmp_path):  # noqa: F811
    document = Document()
    for line in LINES:
        document.add_paragraph(line)
    path = tmp_path / "示范区2019年度报告.docx"
    out = io.BytesIO()
    document.save(out)
    path.write_bytes(out.getvalue())

    writer.go(f"{server}/reports/templates/from-word/")
    writer.choose_file("input[name=file]", path)
    writer.js("document.querySelector('select[name=org]').value = 'demo'")
    writer.fill("input[name=period]", "2019")
    writer.fill("input[name=key]", "browser2020")
    writer.click("form.report-form button[type=submit]")
    writer.wait_for("document.querySelector('#wi-form') !== null")
    shot(writer, "word-review")

    # ＋参数 beside 17: the 报告参数 form, pre-filled from 收到意见建议17条
    writer.js(f"{slot('17')}.querySelector('button[value^=parameter]').click()")
    writer.wait_for("location.pathname === '/indicators/parameters/new'")
    assert value(writer, "#id_label") == "收到意见建议条数"
    assert value(writer, "#id_unit") == "条" and value(writer, "#id_type") == "integer"
    assert "收到意见建议【17】条" in writer.text()
    shot(writer, "word-parameter-prefilled")
    writer.click("form.record-form button[type=submit]")
    writer.wait_for("document.querySelector('.wi-made-note') !== null")
    assert "选定新建的报告参数“收到意见建议条数”" in writer.text()
    chosen = writer.js(f"{slot('17')}.querySelector('select').value")
    assert chosen.endswith("收到意见建议条数")
    assert writer.js(f"{slot('17')}.classList.contains('wi-made')")
    assert writer.js("location.hash").startswith("#f-")
    shot(writer, "word-review-made")

    # 按原文填报: the entry form pre-filled with 17 for 示范区 2019; saved, the review shows it equal to the text
    writer.click(".wi-made-note a[href*='/indicators/parameters/']")
    writer.wait_for("document.querySelector('form[action$=\"/enter\"]') !== null")
    assert value(writer, "#id_value") == "17" and value(writer, "#id_period_start") == "2019-01-01"
    assert "示范区2019年度报告.docx 第 3 段" in value(writer, "#id_source")
    shot(writer, "word-parameter-entry")
    writer.click("form[action$='/enter'] button[type=submit]")
    writer.wait_for(
        "document.querySelector('.wi-made-note') !== null && location.pathname.includes('from-word')"
    )
    assert "与文中一致 ✓" in writer.text()
    assert writer.js(f"{slot('17')}.querySelector('select').value") == chosen

    # ＋指标 beside 23: the builder, pre-filled; 不新建，返回 leads back to the review as it was
    writer.js(f"{slot('12')}.querySelector('select').value = 'literal'")
    writer.js(f"{slot('23')}.querySelector('button[value^=indicator]').click()")
    writer.wait_for("location.pathname === '/indicators/builder/new/'")
    assert value(writer, "#b-label") == "新建基层党组织个数" and value(writer, "input[name=unit]") == "个"
    assert "新建基层党组织【23】个" in writer.text()
    writer.wait_for(
        "!document.querySelector('#preview').innerText.includes('填写定义后')"
    )  # the live preview
    shot(writer, "word-builder-prefilled")
    writer.click(".from-elsewhere a")
    writer.wait_for("document.querySelector('#wi-form') !== null")
    assert writer.js(f"{slot('12')}.querySelector('select').value") == "literal"
    assert writer.js(f"{slot('17')}.querySelector('select').value") == chosen

    # 生成模板 → the editor; the live preview lists what is still 待定, each a jump to its line
    writer.click("button[value=generate]")
    writer.wait_for("location.pathname === '/reports/templates/browser2020/edit/'")
    writer.wait_for("document.querySelector('#preview .pending-warning') !== null", timeout=60)
    assert "全部确定之前不能定稿" in writer.text()
    items = writer.js("document.querySelectorAll('#preview .pending-list li.jump').length")
    assert items >= 1
    line = int(
        writer.js("document.querySelector('#preview .pending-list li.jump').getAttribute('data-line')")
    )
    writer.click("#preview .pending-list li.jump")
    at = writer.js(
        "var s = document.getElementById('source'); s.value.slice(0, s.selectionStart).split('\\n').length"
    )
    assert at == line
    assert "待定" in writer.js(
        "var s = document.getElementById('source'); s.value.slice(s.selectionStart, s.selectionEnd)"
    )
    shot(writer, "editor-pending")

    writer.go(f"{server}/reports/browser2020/demo/2019/")
    assert "本报告的模板中还有" in writer.text() and "全部确定之前不能定稿" in writer.text()
    shot(writer, "report-pending")
