"""从 Word 生成模板: ＋指标 / ＋参数 beside a figure of the review. The indicator builder or the 报告参数 form opens
pre-filled from the figure; saving comes back to the review as it was, with the new target chosen for that figure
and its value shown against the document's number. Through the web, as the report writer uses it."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from dangjian.indicators.models import Indicator, Parameter
from dangjian.reports.models import ReportTemplate

from . import test_word_import as upload_page
from .test_word_import import URL, review_form, select_of, upload

data_dir, writer = upload_page.data_dir, upload_page.writer  # the upload page's fixtures

pytestmark = pytest.mark.django_db


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def field(page: str, name: str) -> str:
    m = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert m, name
    return html.unescape(m.group(1))


def world_root_pk(_param) -> int:
    from dangjian.orgs.models import Organization

    return Organization.objects.get(code="root").pk


def make(client, page: str, figure: str, kind: str, **changes):
    """Press ＋指标 (kind indicator) or ＋参数 beside `figure`, the review's other choices as `changes` say."""
    cid = select_of(page, figure)[2:]
    assert f'name="make" value="{kind}:{cid}"' in page
    form = review_form(page) | changes | {"make": f"{kind}:{cid}"}
    return cid, client.post(URL, form)


def test_make_an_indicator_from_a_figure_and_come_back_to_the_review_with_it_chosen(writer, data_dir):
    page = upload(writer).content.decode()
    kept = select_of(page, "52")
    cid, response = make(writer, page, "4", "indicator", **{kept: "literal"})
    # the builder opens pre-filled from the words around 4: 区委理论中心组集体学习4次
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(reverse("indicators:builder_new") + "?")
    asked = query_of(location)
    assert asked["label"] == "区委理论中心组集体学习次数" and asked["unit"] == "次"
    assert asked["ledger"] == "study_activity" and asked["aggregate"] == "count"
    assert (asked["where_field"], asked["where_value"]) == ("kind", "中心组集体学习")
    assert asked["preview_org"] == "root" and asked["preview_period"] == "2019"
    assert asked["next"].startswith(URL + "?resume=") and asked["next"].endswith(f"#f-{cid}")

    builder = writer.get(location).content.decode()
    assert "为第 3 段“区委理论中心组集体学习【4】次”新建指标" in builder
    assert field(builder, "label") == "区委理论中心组集体学习次数" and field(builder, "unit") == "次"
    assert re.search(r'<option value="study_activity" selected>', builder)
    assert 'name="c0-field"' in builder and "中心组集体学习" in builder
    assert re.search(r'<option value="root"[^>]* selected>', builder)  # the preview is for the document's org
    key = field(builder, "key")
    assert key.endswith(".区委理论中心组集体学习次数")
    saved = writer.post(
        reverse("indicators:builder_new"),
        {
            "key": key, "label": field(builder, "label"), "unit": "次", "kind": "aggregate",
            "ledger": "study_activity", "aggregate": "count", "c0-field": "kind", "c0-op": "=",
            "c0-value": "中心组集体学习", "scope": "subtree", "period": "within",
            "next": field(builder, "next"), "from": field(builder, "from"),
        },
    )  # fmt: skip
    assert saved.status_code == 302, saved.content.decode()[:3000]
    back = saved["Location"]
    assert back.startswith(URL + "?resume=") and back.endswith(f"#f-{cid}")
    assert query_of(back)["made"] == key and query_of(back)["figure"] == cid
    assert Indicator.objects.filter(key=key).exists()

    # back on the review: the new indicator chosen for 4, its value 4 shown against the figure, 52 still literal
    review = writer.get(back).content.decode()
    assert "已为" in review and "选定新建的指标“区委理论中心组集体学习次数”" in review
    assert "其2019年度的值 4 与文中一致 ✓" in review
    options = re.search(f'<select name="c-{cid}"[^>]*>(.*?)</select>', review).group(1)
    assert re.search(
        rf'<option value="{re.escape(key)}" selected>(建议 )?区委理论中心组集体学习次数（[^）]+）= 4 ✓',
        options,
    )
    assert f'id="f-{cid}" class="wi-cand wi-slot wi-made"' in review
    assert review_form(review)[kept] == "literal"

    # and the template generated from it prints the new indicator there
    generated = writer.post(URL, review_form(review) | {"action": "generate"})
    assert generated.status_code == 302, generated.content.decode()[:2000]
    source = (data_dir / "packs" / "annual2020" / "annual2020.j2").read_text(encoding="utf-8")
    assert "{{ " + key + " }}次" in source and "参加学习52人次" in source


def test_mark_a_figure_a_parameter_and_come_back_with_it_chosen(writer, data_dir):
    page = upload(writer).content.decode()
    cid, response = make(writer, page, "17", "parameter")
    location = response["Location"]
    assert location.startswith(reverse("indicators:parameter_new") + "?")
    form_page = writer.get(location).content.decode()
    assert "新建报告参数" in form_page and "收到意见【17】条" in form_page
    assert field(form_page, "label") == "收到意见条数" and field(form_page, "unit") == "条"
    assert re.search(r'<option value="integer" selected>', form_page)
    saved = writer.post(
        reverse("indicators:parameter_new"),
        {
            "key": field(form_page, "key"), "label": "收到意见条数", "unit": "条", "type": "integer",
            "max_digits": "12", "decimals": "0", "max_length": "200", "role": "clerk", "total": "self",
            "next": field(form_page, "next"),
        },
    )  # fmt: skip
    assert saved.status_code == 302, saved.content.decode()[:3000]
    param = Parameter.objects.get(indicator__label="收到意见条数")
    assert query_of(saved["Location"])["made"] == param.key

    review = writer.get(saved["Location"]).content.decode()
    assert "选定新建的报告参数“收到意见条数”" in review and "尚无中共测试区委员会2019年度的数值" in review
    assert f'id="f-{cid}" class="wi-cand wi-slot wi-made"' in review, re.findall(r'id="f-[^>]*>', review)
    # 按原文填报: the entry form pre-filled with the document's figure for its org and period; saved, back here
    enter = html.unescape(
        re.search(r'<a href="([^"]+)">按原文填报中共测试区委员会2019年度的值</a>', review).group(1)
    )
    assert enter.startswith(reverse("indicators:parameter", args=[param.key]) + "?")
    entry = writer.get(enter).content.decode()
    assert "单位、统计期和数值已按原文预填" in entry and "收到意见【17】条" in entry
    assert field(entry, "value") == "17" and field(entry, "period_start") == "2019-01-01"
    assert re.search(rf'<option value="{world_root_pk(param)}"[^>]* selected>', entry)
    source = html.unescape(re.search(r'<textarea name="source"[^>]*>\s*([^<]*)</textarea>', entry).group(1))
    assert source == "2019年报告.docx 第 4 段“学习贯彻党的十九届四中全会精神，收到意见【17】条”"
    entered = writer.post(
        reverse("indicators:parameter_enter", args=[param.key]),
        {
            "org": str(world_root_pk(param)), "period_start": "2019-01-01", "period_end": "2019-12-31",
            "value": field(entry, "value"), "source": source, "next": field(entry, "next"),
        },
    )  # fmt: skip
    assert entered.status_code == 302 and entered["Location"].startswith(URL + "?resume=")
    review = writer.get(entered["Location"]).content.decode()
    assert "选定新建的报告参数“收到意见条数”" in review and "其2019年度的值 17 与文中一致 ✓" in review
    generated = writer.post(URL, review_form(review) | {"action": "generate"})
    assert generated.status_code == 302
    source = (data_dir / "packs" / "annual2020" / "annual2020.j2").read_text(encoding="utf-8")
    assert "{{ " + param.key + " }}条" in source and "待定" not in source


def test_going_back_without_making_anything_keeps_the_review(writer, data_dir):
    page = upload(writer).content.decode()
    kept = select_of(page, "52")
    _cid, response = make(writer, page, "17", "indicator", **{kept: "pending"})
    builder = writer.get(response["Location"]).content.decode()
    back = field(builder, "next")
    assert f'<a href="{html.escape(back)}">不新建，返回</a>' in builder
    review = writer.get(back).content.decode()
    assert review_form(review)[kept] == "pending" and "wi-made-note" not in review


def test_a_made_key_that_cannot_stand_there_is_refused_naming_the_figure(writer, data_dir):
    page = upload(writer).content.decode()
    cid, response = make(writer, page, "4", "indicator")
    back = query_of(response["Location"])["next"]
    review = writer.get(back.replace("#", "&made=本区.简称#"))  # a name for a number
    assert review.status_code == 400
    assert "新建的“本区.简称”不能用于第 3 段“4”" in review.content.decode()


def test_a_stale_or_foreign_review_token_is_refused_in_chinese(writer, data_dir, client, world):
    response = writer.get(URL + "?resume=nosuchtoken&figure=3-11&made=x")
    assert response.status_code == 400 and "这次审阅已不在" in response.content.decode()
    # a review kept in one account's session is not another's, even with the link
    page = upload(writer).content.decode()
    _cid, made = make(writer, page, "4", "indicator")
    back = query_of(made["Location"])["next"]
    client.force_login(world.reviewer)
    assert client.get(back).status_code == 403


# --- hostile pre-fills --------------------------------------------------------------------------------------------


def test_prefill_parameters_are_bounded_escaped_and_unknown_values_ignored(writer, data_dir):
    script = "<script>alert(1)</script>"
    query = {
        "key": "学习." + "长" * 500, "label": script + "名" * 500, "unit": "次" * 50, "ledger": "no_such",
        "aggregate": "drop_table", "decimals": "99", "where_field": "kind", "where_value": script,
        "from": script * 20, "next": "https://evil.example/steal", "preview_org": script,
    }  # fmt: skip
    page = writer.get(reverse("indicators:builder_new"), query).content.decode()
    assert script not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert len(field(page, "label")) <= 200 + 60  # escaped characters aside, at most 200 characters
    assert len(html.unescape(field(page, "label"))) == 200
    assert len(field(page, "key")) == 120 and field(page, "unit") == "次" * 20
    assert 'value="no_such"' not in page and "drop_table" not in page
    assert 'name="next"' not in page and "evil.example" not in page  # no way back to another site
    assert 'name="c0-field"' not in page  # a condition on a ledger that does not exist is left out

    param = writer.get(
        reverse("indicators:parameter_new"),
        {
            "label": script,
            "type": "<b>text</b>",
            "decimals": "-1",
            "unit": "x" * 500,
            "next": "//evil.example",
        },
    ).content.decode()
    assert script not in param and "&lt;script&gt;" in param
    assert field(param, "unit") == "x" * 20
    assert "evil.example" not in param and 'name="next"' not in param
    assert " selected>" not in param.split('name="type"')[1].split("</select>")[0]  # the unknown type ignored


def test_saving_through_a_prefill_sends_back_only_to_this_site(writer, data_dir):
    saved = writer.post(
        reverse("indicators:parameter_new"),
        {
            "key": "报告参数.测试", "label": "测试", "type": "integer", "max_digits": "12", "decimals": "0",
            "max_length": "200", "role": "clerk", "total": "self", "next": "https://evil.example/x",
        },
    )  # fmt: skip
    assert saved.status_code == 302 and saved["Location"] == reverse(
        "indicators:parameter", args=["报告参数.测试"]
    )


@pytest.mark.parametrize("who", ["reviewer", "viewer", "clerk", "sysadmin"])
def test_without_report_writing_rights_the_prefill_saves_nothing(client, world, data_dir, who):
    client.force_login(getattr(world, who))
    query = {"label": "收到意见条数", "next": URL + "?resume=x"}
    assert client.get(reverse("indicators:builder_new"), query).status_code == 403
    assert client.get(reverse("indicators:parameter_new"), query).status_code == 403
    post = {
        "key": "报告参数.偷偷", "label": "偷偷", "type": "integer", "max_digits": "12", "decimals": "0",
        "max_length": "200", "role": "clerk", "total": "self", "kind": "aggregate", "ledger": "study_activity",
        "aggregate": "count", "next": URL + "?resume=x",
    }  # fmt: skip
    assert client.post(reverse("indicators:parameter_new"), post).status_code == 403
    assert client.post(reverse("indicators:builder_new"), post | {"key": "学习.偷偷"}).status_code == 403
    assert client.post(URL, {"make": "indicator:3-11", "org": "root", "period": "2019"}).status_code == 403
    assert not Indicator.objects.filter(key__in=["报告参数.偷偷", "学习.偷偷"]).exists()
    assert not ReportTemplate.objects.filter(key="annual2020").exists()


def test_an_entry_prefill_takes_only_an_org_one_may_enter_for_and_escapes_the_rest(writer, data_dir, world):
    from dangjian.indicators import parameters

    param = parameters.define(
        key="报告参数.测试", label="测试", unit="", type="integer", max_digits=12, decimals=0, max_length=200,
        role="clerk", total="self", description="", pack="",
    )  # fmt: skip
    script = "<script>alert(1)</script>"
    query = {
        "org": "nowhere", "start": "2019-13-45", "end": script, "value": script + "9" * 500,
        "source": "源" * 1000, "from": script, "next": URL + "?resume=x",
    }  # fmt: skip
    page = writer.get(reverse("indicators:parameter", args=[param.key]), query).content.decode()
    assert script not in page and "&lt;script&gt;" in page
    assert len(html.unescape(field(page, "value"))) == 200
    assert "源" * 300 in page and "源" * 301 not in page
    assert field(page, "period_start").endswith("-01-01")  # the default period, not the broken date
    assert (
        re.search(r'<option value="\d+" selected>', page.split('name="org"')[1].split("</select>")[0]) is None
    )
    # opened without a way back, nothing is pre-filled
    plain = writer.get(reverse("indicators:parameter", args=[param.key]), {"value": "123"}).content.decode()
    assert 'value="123"' not in plain and 'name="next"' not in plain
