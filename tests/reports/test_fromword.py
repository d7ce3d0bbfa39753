"""`dangjian verify` (核稿) and `dangjian template-from-docx` on the small test pack, as staff run them."""

from __future__ import annotations

import json

import pytest
from docx import Document

from dangjian.cli import main

# The test pack's values for root, 2019 (see conftest.report_records): 4 中心组 sessions, plays 焦裕禄 and 红旗渠,
# 52 participants ("50余人次"), 2018: 5 sessions.
DRAFT = [
    "测试区2019年度党建工作报告",
    "一、坚持思想建设",
    "今年以来,区委理论中心组集体学习4次,上年为5次。观看《焦裕禄》《红旗渠》等舞台剧2部,参加学习50余人次。",
    "（一）强化“{学习}”意识。持续办好十件实事，到2020年实现全覆盖。",
]


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out, out.err


def _docx(path, lines) -> str:
    document = Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(str(path))
    return str(path)


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    (settings.DATA_DIR / "packs").mkdir(parents=True)
    return settings.DATA_DIR


def test_verify_finds_every_figure_agreeing(report_pack, report_records, tmp_path, capsys):
    path = tmp_path / "草稿.txt"
    path.write_text("\n".join(DRAFT), encoding="utf-8")
    code, out, err = _cli(capsys, "verify", str(path), "--org", "root", "--year", "2019", "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    statuses = {f["text"]: (f["status"], f["indicator"]) for f in result["figures"]}
    assert statuses["4"] == ("一致", "学习.中心组次数")
    assert statuses["5"] == ("一致", "上年.学习.中心组次数")  # 上年为5次: the words say last year
    assert statuses["焦裕禄"][0] == statuses["红旗渠"][0] == "一致"
    assert statuses["2"] == ("一致", "学习.舞台剧数")
    assert statuses["50"] == ("一致", "学习.参加人数")
    assert "十" not in statuses and "2020" not in statuses  # fixed names and the future are not figures
    assert statuses["测试区"] == ("一致", "本区.简称")  # a name the ledgers hold
    assert result["counts"] == {"一致": 7, "不一致": 0, "未匹配": 0}


def test_verify_flags_a_wrong_figure_with_the_right_value_and_exits_1(
    report_pack, report_records, tmp_path, capsys
):
    from dangjian.audit.models import AuditEvent

    draft = [DRAFT[0], DRAFT[2].replace("集体学习4次", "集体学习6次").replace("50余人次", "80余人次")]
    path = _docx(tmp_path / "草稿.docx", draft)
    code, out, err = _cli(capsys, "verify", path, "--org", "root", "--period", "2019")
    assert code == 1, err
    assert "不一致 2" in out
    assert "文中为 6，台账为 4（中心组集体学习次数，学习.中心组次数）" in out
    assert "文中为 80，台账为 50（参加学习人次，学习.参加人数）" in out
    assert "依据：/indicators/evidence/?key=" in out
    assert AuditEvent.objects.filter(target__startswith="核稿 草稿.docx root 2019").exists()


def test_template_from_docx_writes_a_pack_that_installs_and_renders_the_document(
    report_pack, report_records, tmp_path, data_dir, capsys
):
    path = _docx(tmp_path / "2019年报告.docx", DRAFT)
    pack_dir = tmp_path / "out" / "mine2019"
    code, out, err = _cli(
        capsys, "template-from-docx", path, "--org", "root", "--year", "2019", "-o", str(pack_dir)
    )
    assert code == 0, err
    assert "待定 0 处" in out
    source = (pack_dir / "mine2019.j2").read_text(encoding="utf-8")
    assert "集体学习{{ 学习.中心组次数 }}次" in source
    assert "上年为{{ 上年.学习.中心组次数 }}次" in source
    assert "《{{ 学习.舞台剧[0] }}》《{{ 学习.舞台剧[1] }}》" in source
    assert "参加学习{{ 学习.参加人数|余 }}余人次" in source
    assert "十件实事" in source and "2020年" in source
    assert 'key = "mine2019"' in (pack_dir / "pack.toml").read_text(encoding="utf-8")

    code, out, err = _cli(capsys, "pack", "install", str(pack_dir))
    assert code == 0, out + err
    report = tmp_path / "r.txt"
    code, out, err = _cli(
        capsys, "report", "--template", "mine2019", "--org", "root", "--year", "2019", "--format", "txt",
        "-o", str(report),
    )  # fmt: skip
    assert code == 0, err
    assert [x for x in report.read_text(encoding="utf-8").splitlines() if x] == DRAFT  # braces kept as text


def test_a_figure_nothing_explains_is_left_pending_and_named(report_pack, report_records, tmp_path, capsys):
    draft = [DRAFT[2], "组建志愿服务队17支，开展志愿服务活动17场。"]
    pack_dir = tmp_path / "pending"
    path = tmp_path / "稿.txt"
    path.write_text("\n".join(draft), encoding="utf-8")
    code, out, _err = _cli(
        capsys, "template-from-docx", str(path), "--org", "root", "--year", "2019", "-o", str(pack_dir)
    )
    assert code == 0
    assert "待定 2 处" in out and "[待定] 第 2 段" in out
    source = (pack_dir / "pending.j2").read_text(encoding="utf-8")
    assert "组建志愿服务队{# 待定 2-7：“17” #}17支" in source
    assert "组建志愿服务队【17】支" in (pack_dir / "待定.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--org", "nope", "--year", "2019"], "组织代码“nope”不存在"),
        (["--org", "root", "--period", "2019Q9"], "2019Q9"),
    ],
)
def test_bad_org_or_period_exit_2_in_chinese(report_pack, tmp_path, capsys, argv, message):
    path = tmp_path / "稿.txt"
    path.write_text(DRAFT[2], encoding="utf-8")
    for command in (["verify", str(path)], ["template-from-docx", str(path), "-o", str(tmp_path / "p")]):
        code, _out, err = _cli(capsys, *command, *argv)
        assert code == 2 and message in err


def test_bad_files_and_folders_are_refused_naming_them(report_pack, tmp_path, capsys):
    code, _out, err = _cli(capsys, "verify", str(tmp_path / "无.docx"), "--org", "root", "--year", "2019")
    assert code == 2 and "无法读取文件" in err
    broken = tmp_path / "坏.docx"
    broken.write_bytes(b"not a zip")
    code, _out, err = _cli(capsys, "verify", str(broken), "--org", "root", "--year", "2019")
    assert code == 2 and "不是有效的 Word 文件" in err
    old = tmp_path / "旧.doc"
    old.write_bytes(b"x")
    code, _out, err = _cli(capsys, "verify", str(old), "--org", "root", "--year", "2019")
    assert code == 2 and "另存为 .docx" in err

    text = tmp_path / "稿.txt"
    text.write_text(DRAFT[2], encoding="utf-8")
    code, _out, err = _cli(
        capsys,
        "template-from-docx",
        str(text),
        "--org",
        "root",
        "--year",
        "2019",
        "-o",
        str(tmp_path / "My Pack"),
    )
    assert code == 2 and "目录名“My Pack”不能用作数据包和模板的名称" in err
    full = tmp_path / "full"
    full.mkdir()
    (full / "x.txt").write_text("x", encoding="utf-8")
    code, _out, err = _cli(
        capsys, "template-from-docx", str(text), "--org", "root", "--year", "2019", "-o", str(full)
    )
    assert code == 2 and "已存在且不为空" in err
    assert [p.name for p in full.iterdir()] == ["x.txt"]


def test_verify_as_a_user_outside_the_org_is_refused(report_pack, report_records, tmp_path, capsys):
    path = tmp_path / "稿.txt"
    path.write_text(DRAFT[2], encoding="utf-8")
    code, _out, err = _cli(capsys, "verify", str(path), "--org", "root", "--year", "2019", "--as", "sibling")
    assert code == 2 and "无权查看" in err
    code, out, _err = _cli(capsys, "verify", str(path), "--org", "c2", "--year", "2019", "--as", "sibling")
    assert code == 1 and "核稿：稿.txt（中共城关街道和平社区委员会，2019年度）" in out


def test_staff_flip_decisions_by_id(report_pack, report_records, tmp_path, capsys):
    path = tmp_path / "稿.txt"
    path.write_text("\n".join(DRAFT), encoding="utf-8")
    code, out, _err = _cli(capsys, "verify", str(path), "--org", "root", "--year", "2019", "--format", "json")
    result = json.loads(out)
    fixed = next(c for c in result["not_slots"] if c["text"] == "十")
    assert "固定名称" in fixed["reason"]
    four = next(f for f in result["figures"] if f["text"] == "4")

    argv = ["verify", str(path), "--org", "root", "--year", "2019", "--format", "json"]
    code, out, _err = _cli(capsys, *argv, "--flip", fixed["id"], "--flip", four["id"])
    result = json.loads(out)
    texts = [f["text"] for f in result["figures"]]
    assert "十" in texts and "4" not in texts
    assert next(f for f in result["figures"] if f["text"] == "十")["status"] == "未匹配"

    code, _out, err = _cli(capsys, *argv, "--flip", "99-1")
    assert code == 2 and "没有编号为“99-1”的候选" in err

    pack_dir = tmp_path / "flipped"
    code, _out, _err = _cli(
        capsys, "template-from-docx", str(path), "--org", "root", "--year", "2019", "-o", str(pack_dir),
        "--flip", four["id"],
    )  # fmt: skip
    assert code == 0
    assert "集体学习4次" in (pack_dir / "flipped.j2").read_text(
        encoding="utf-8"
    )  # kept as the document's words


def test_a_report_parameter_is_matched_and_checked_like_an_indicator(
    report_pack, report_records, tmp_path, capsys
):
    import datetime as dt

    from dangjian.indicators import parameters

    param = parameters.define(key="学习强国.注册人数", label="“学习强国”注册人数", unit="人")
    parameters.enter(
        report_records.unit_admin, param, report_records.root, dt.date(2019, 1, 1), dt.date(2019, 12, 31),
        "3040", "学习强国后台导出",
    )  # fmt: skip
    path = tmp_path / "稿.txt"
    argv = ["verify", str(path), "--org", "root", "--year", "2019", "--format", "json"]
    path.write_text("我区“学习强国”注册人数3040人。", encoding="utf-8")
    code, out, _err = _cli(capsys, *argv)
    (figure,) = json.loads(out)["figures"]
    assert code == 0
    assert (figure["status"], figure["indicator"], figure["source"]) == (
        "一致",
        "学习强国.注册人数",
        "报告参数",
    )
    path.write_text("我区“学习强国”注册人数3050人。", encoding="utf-8")
    code, out, _err = _cli(capsys, *argv)
    (figure,) = json.loads(out)["figures"]
    assert code == 1
    assert (figure["status"], figure["right"], figure["indicator"]) == ("不一致", "3040", "学习强国.注册人数")
