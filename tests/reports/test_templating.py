from __future__ import annotations

import pytest

from dangjian.reports.slots import strip_markers
from dangjian.reports.templating import TemplateRefused, render_text

from .conftest import FakeTemplate, fake_values

VALUES = fake_values(
    **{
        "学习.次数": 23,
        "上年.学习.次数": 30,
        "文化.舞台剧": ["焦裕禄", "红旗渠", "朝阳沟"],
        "本区.简称": "测试区",
    }
)


def render(source: str, values=VALUES, folder=None, **files: str):
    if folder is not None:
        (folder / "pack.toml").write_text(
            '[pack]\nname = "t"\n', encoding="utf-8"
        )  # includes read only in a pack
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
    marked, slots = render_text(FakeTemplate("t", source, folder), values)
    return strip_markers(marked), slots


def test_chinese_dotted_names_resolve_and_are_slots():
    text, slots = render("学习{{ 学习.次数 }}次，约{{ 学习.次数|余 }}余次，上年{{ 上年.学习.次数 }}次。")
    assert text == "学习23次，约20余次，上年30次。"
    assert [(s._key, str(s)) for s in slots] == [
        ("学习.次数", "23"),
        ("学习.次数", "20"),
        ("上年.学习.次数", "30"),
    ]


def test_list_element_keeps_indicator_key():
    text, slots = render("观看《{{ 文化.舞台剧[0] }}》《{{ 文化.舞台剧[2] }}》{{ 文化.舞台剧|前(2)|顿号 }}")
    assert text == "观看《焦裕禄》《朝阳沟》焦裕禄、红旗渠"
    assert [s._key for s in slots] == ["文化.舞台剧"] * 3
    assert slots[0]._value == "焦裕禄"
    assert slots[0]._info.evidence_count == 3


def test_a_missing_list_element_shows_no_data_rather_than_failing():
    text, _ = render("{{ 文化.舞台剧[5] }}")
    assert text == "（无数据）"


def test_line_breaks_are_reproduced_exactly(tmp_path):
    source = "标题\n\n一、第一章\n{% if 学习.次数 > 10 %}\n多\n{% endif %}\n{% include 'c.j2' %}\n末行\n"
    text, _ = render(source, folder=tmp_path, **{"c.j2": "第二章{{ 学习.次数 }}\n"})
    assert text == "标题\n\n一、第一章\n多\n第二章23\n末行\n"


def test_template_cannot_reach_python_internals():
    for source in ("{{ ''.__class__ }}", "{{ ''.__class__.__mro__ }}", "{{ 学习.次数.__class__ }}"):
        with pytest.raises(TemplateRefused, match="不允许访问内部属性"):
            render(source)


def test_sandbox_refuses_internals_at_runtime_too():
    with pytest.raises(TemplateRefused, match="不允许"):
        render("{{ (''|attr('__class__')) }}")
    with pytest.raises(TemplateRefused):
        render("{{ 学习.次数._info }}")


def test_unknown_indicator_is_refused_with_name_and_line():
    with pytest.raises(TemplateRefused) as exc:
        render("第一行\n第二行{{ 学习.次数 }}\n第三行{{ 学习.次数2 }}")
    assert "学习.次数2" in str(exc.value)
    assert exc.value.problems[0].line == 3
    assert "第 3 行" in str(exc.value)


def test_unknown_indicator_in_an_included_file_names_that_file(tmp_path):
    with pytest.raises(TemplateRefused) as exc:
        render("{% include 'chapter.j2' %}", folder=tmp_path, **{"chapter.j2": "一\n二\n{{ 组织.不存在 }}\n"})
    problem = exc.value.problems[0]
    assert (problem.file, problem.line) == ("chapter.j2", 3)
    assert "组织.不存在" in problem.message


def test_unknown_root_name_and_unknown_filter_are_refused():
    with pytest.raises(TemplateRefused, match="不存在的指标“宣传”"):
        render("{{ 宣传 }}")
    with pytest.raises(TemplateRefused, match="没有名为“四舍五入”的过滤器"):
        render("{{ 学习.次数|四舍五入 }}")


def test_syntax_error_names_the_line():
    with pytest.raises(TemplateRefused) as exc:
        render("一\n{{ 学习.次数 ")
    assert exc.value.problems[0].line == 2
    assert "语法错误" in str(exc.value)


def test_locally_set_names_are_allowed():
    text, slots = render("{% set n = 学习.次数 %}{% for x in 文化.舞台剧 %}{{ x }}{% endfor %}{{ n }}")
    assert text == "焦裕禄红旗渠朝阳沟23"
    assert len(slots) == 4
