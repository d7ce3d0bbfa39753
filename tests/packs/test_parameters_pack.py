"""The `[[parameters]]` section of a pack (报告参数): loaded, checked, owned by one pack."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dangjian.indicators import parameters
from dangjian.indicators.models import Indicator, Kind, Parameter, ParameterValue
from dangjian.packs.loader import PackError, PackProblems, load_pack, read_pack

ONE = """
[pack]
name = "{name}"
label = "{name}"

[[parameters]]
key = "学习强国.注册人数"
label = "学习强国注册人数"
unit = "人"
type = "integer"
max_digits = 6
role = "clerk"
total = "sum"
"""


def write(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.toml").write_text(textwrap.dedent(body), encoding="utf-8")
    return folder


def load(tmp_path: Path, name: str, body: str):
    pack, problems = read_pack(write(tmp_path / name, body.replace("{name}", name)))
    assert not problems, problems
    return load_pack(pack)


def test_a_pack_defines_parameters(packs, tmp_path):
    counts = load(tmp_path, "xxqg", ONE)
    assert counts["parameters"] == 1
    param = Parameter.objects.select_related("indicator").get()
    assert (param.key, param.label, param.unit, param.pack) == (
        "学习强国.注册人数",
        "学习强国注册人数",
        "人",
        "xxqg",
    )
    assert (param.type, param.max_digits, param.role, param.total) == ("integer", 6, "clerk", "sum")
    assert param.indicator.kind == Kind.PARAMETER
    # Loading again is idempotent; a changed label is taken.
    load(tmp_path, "xxqg", ONE.replace('label = "学习强国注册人数"', 'label = "注册人数"'))
    assert Parameter.objects.get().label == "注册人数"


def test_another_pack_may_not_redefine_a_parameter_naming_both_packs(packs, tmp_path):
    load(tmp_path, "xxqg", ONE)
    with pytest.raises((PackError, PackProblems)) as info:
        load(tmp_path, "district", ONE.replace('label = "学习强国注册人数"', 'label = "抢走"'))
    text = str(info.value) + "".join(str(p) for p in getattr(info.value, "problems", []))
    assert "学习强国.注册人数" in text and "xxqg" in text and "district" in text
    assert Parameter.objects.get().label == "学习强国注册人数" and Parameter.objects.get().pack == "xxqg"


def test_a_parameter_may_not_take_an_indicators_key_nor_an_indicator_a_parameters(packs, tmp_path):
    Indicator.objects.create(
        key="本区.名称", label="名称", kind=Kind.ATTRIBUTE, attribute="org.name", pack="core"
    )
    clash = ONE.replace("学习强国.注册人数", "本区.名称")
    with pytest.raises((PackError, PackProblems)) as info:
        load(tmp_path, "xxqg", clash)
    text = str(info.value) + "".join(str(p) for p in getattr(info.value, "problems", []))
    assert "本区.名称" in text and "core" in text and "xxqg" in text
    assert not Parameter.objects.exists()

    load(tmp_path, "xxqg", ONE)
    same_pack = ONE + '\n[[indicators]]\nkey = "学习强国.注册人数"\nlabel = "x"\nattribute = "org.name"\n'
    with pytest.raises((PackError, PackProblems)) as info:
        load(tmp_path, "xxqg", same_pack)
    assert "学习强国.注册人数" in str(info.value)
    assert Indicator.objects.get(key="学习强国.注册人数").kind == Kind.PARAMETER


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('type = "integer"', 'type = "money"'), "类型“money”不存在"),
        (('role = "clerk"', 'role = "boss"'), "填报角色“boss”不存在"),
        (('type = "integer"', 'type = "text"'), "不能合计"),
        (("max_digits = 6", "max_digits = 99"), "max_digits 应为 1 到 15"),
        (('unit = "人"', 'unit = "人"\ncolour = "red"'), "colour"),
    ],
)
def test_bad_definitions_are_refused_in_chinese_naming_the_parameter(packs, tmp_path, change, message):
    with pytest.raises((PackError, PackProblems)) as info:
        load(tmp_path, "xxqg", ONE.replace(*change))
    text = str(info.value) + "".join(str(p) for p in getattr(info.value, "problems", []))
    assert message in text and "Traceback" not in text
    assert not Parameter.objects.exists()


def test_an_unknown_key_is_named_with_file_and_line(packs, tmp_path):
    pack, problems = read_pack(write(tmp_path / "xxqg", ONE.replace("{name}", "xxqg") + 'colour = "red"\n'))
    from dangjian.packs.validate import pack_problems

    found = [str(p) for p in pack_problems(pack)]
    assert any("colour" in p and "xxqg/pack.toml" in p and "行" in p for p in found), found
    pack, _ = read_pack(write(tmp_path / "bad", ONE.replace("{name}", "bad").replace('"integer"', '"float"')))
    found = [str(p) for p in pack_problems(pack)]
    assert found == [
        "bad/pack.toml 第 10 行（parameters[学习强国.注册人数].type）：报告参数“学习强国.注册人数”的类型“float”不存在，可用：integer、decimal、text、date"
    ]


def test_a_parameter_dropped_from_its_pack_is_removed_unless_values_were_entered(world, tmp_path):
    load(tmp_path, "xxqg", ONE)
    empty = '[pack]\nname = "xxqg"\nlabel = "xxqg"\n\n[[parameters]]\nkey = "其他.数"\nlabel = "其他"\n'
    load(tmp_path, "xxqg", empty)
    assert list(Parameter.objects.values_list("indicator__key", flat=True)) == ["其他.数"]
    assert not Indicator.objects.filter(key="学习强国.注册人数").exists()

    load(tmp_path, "xxqg", ONE)
    import datetime as dt

    param = Parameter.objects.get(indicator__key="学习强国.注册人数")
    parameters.enter(
        world.unit_admin, param, world.root, dt.date(2019, 1, 1), dt.date(2019, 12, 31), "5", "后台"
    )
    with pytest.raises(PackError, match="学习强国.注册人数”已有填报值"):
        load(tmp_path, "xxqg", empty)
    assert ParameterValue.objects.count() == 1
