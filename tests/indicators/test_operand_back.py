"""A formula's evidence page (a growth on 上年, a share) lists the indicators it reads; each one's evidence leads
back to the formula's page, which still leads back to the report it was opened from (issue 13)."""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import parse_qs, urlsplit

import pytest

URL = "/indicators/evidence/"
REPORT = "/reports/testreport/root/2019/"


@pytest.fixture
def setup(world, make_record, define):
    make_record(
        "study_activity",
        world.c1,
        {"date": "2019-05-01", "kind": "专题报告", "title": "学习", "participants": 5},
    )
    define(
        {"key": "学习.次数", "label": "学习次数", "unit": "次", "ledger": "study_activity"},
        {"key": "学习.比上年", "label": "比上年增加", "formula": "学习.次数 - 上年.学习.次数"},
    )
    return world


def test_operands_lead_back_to_the_formula_and_the_formula_to_the_report(client, setup):
    client.force_login(setup.viewer)
    query = {"key": "学习.比上年", "org": "root", "start": "2019-01-01", "end": "2019-12-31", "from": REPORT}
    formula = client.get(URL, query)
    page = formula.content.decode()
    assert f'<a class="btn" href="{REPORT}">← 返回报告</a>' in page
    links = [html_lib.unescape(h) for h in re.findall(r'<a href="([^"]+)">查看佐证</a>', page)]
    assert len(links) == 2  # 本年 and 上年
    assert {parse_qs(urlsplit(link).query)["start"][0] for link in links} == {"2019-01-01", "2018-01-01"}
    for link in links:
        back = parse_qs(urlsplit(link).query)["from"][0]
        assert urlsplit(back).path == URL and parse_qs(urlsplit(back).query)["from"] == [REPORT]
        operand = client.get(link).content.decode()
        found = re.search(r'<a class="btn" href="([^"]+)">← 返回上一指标</a>', operand)
        assert found and html_lib.unescape(found.group(1)) == back
        assert client.get(back).status_code == 200
