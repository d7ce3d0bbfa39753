"""A district's own packs: in DANGJIAN_DATA_DIR/packs, owned definitions, explicit extensions, every problem named.

In-process tests call the `dangjian pack` command's function with the test database; the reinstall test runs the
real command in fresh processes on a data dir of its own.
"""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from dangjian.packs.loader import PackError, discover, load_all, read_pack
from dangjian.records.models import LedgerField, LedgerType

pytestmark = pytest.mark.django_db

EXTENSION = """
[pack]
name = "halfyear"
label = "半年基层党建报告"
order = 30
version = "1.0"

[[extends]]
ledger = "core:study_activity"
choices = { kind = ["网上学习"] }

  [[extends.fields]]
  code = "platform"
  label = "学习平台"
  type = "text"

[[ledger_types]]
code = "volunteer"
label = "志愿服务台账"
date_field = "day"

  [[ledger_types.fields]]
  code = "day"
  label = "服务日期"
  type = "date"

[[indicators]]
key = "半年.网上学习次数"
label = "网上学习次数"
ledger = "study_activity"
where = [{ field = "kind", op = "=", value = "网上学习" }]
"""


def write(folder: Path, body: str, **more: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.toml").write_text(textwrap.dedent(body), encoding="utf-8")
    for name, text in more.items():
        (folder / name.replace("_toml", ".toml")).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


@pytest.fixture
def data_dir(settings, tmp_path, packs):
    settings.DATA_DIR = tmp_path / "data"
    (settings.DATA_DIR / "packs").mkdir(parents=True)
    return settings.DATA_DIR


def run(capsys, *argv: str) -> tuple[int, str]:
    from dangjian.cli import build_parser
    from dangjian.packs.cli import pack

    code = pack(build_parser().parse_args(["pack", *argv]))
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out + out.err


def test_a_pack_in_the_data_dir_is_found_with_the_built_in_ones(data_dir):
    write(data_dir / "packs" / "halfyear", EXTENSION)
    found = {p.name: p for p in discover()}
    assert found["core"].source_label == "内置"
    assert found["halfyear"].source_label == "本地"
    assert [p.name for p in discover()][-1] == "halfyear"


def test_install_loads_it_and_the_extension_is_listed_and_applied(data_dir, capsys, tmp_path):
    from dangjian.audit.models import AuditEvent

    code, out = run(capsys, "install", str(write(tmp_path / "src" / "halfyear", EXTENSION)))
    assert code == 0, out
    assert (data_dir / "packs" / "halfyear" / "pack.toml").is_file()
    lt = LedgerType.objects.get(code="study_activity")
    assert lt.pack == "core"  # still core's
    assert lt.field("platform").label == "学习平台" and not lt.field("platform").is_archived
    assert lt.field("kind").choices[-1] == "网上学习"
    assert lt.extensions == {"halfyear": {"fields": ["platform"], "choices": {"kind": ["网上学习"]}}}
    assert LedgerType.objects.get(code="volunteer").pack == "halfyear"
    assert any(
        "安装" in e.detail.get("change", "") for e in AuditEvent.objects.filter(target="数据包 halfyear")
    )

    code, out = run(capsys, "list")
    assert code == 0
    assert "halfyear 1.0  半年基层党建报告  [本地]" in out
    assert "扩展：core:study_activity（增加字段 platform；kind 的可选项 网上学习）" in out
    assert "core  基础数据包  [内置]" in out

    # The owner reloads (dangjian init, an upgrade): the extension's field and choice stay.
    load_all()
    lt.refresh_from_db()
    assert not lt.field("platform").is_archived and "网上学习" in lt.field("kind").choices


def test_withdrawing_an_extension_archives_its_field_and_removes_its_choice(data_dir, capsys, tmp_path):
    write(data_dir / "packs" / "halfyear", EXTENSION)
    load_all()
    without = EXTENSION.split("[[extends]]")[0] + "[[ledger_types]]" + EXTENSION.split("[[ledger_types]]")[1]
    write(data_dir / "packs" / "halfyear", without.split("[[indicators]]")[0])
    load_all()
    lt = LedgerType.objects.get(code="study_activity")
    assert lt.field("platform").is_archived
    assert "网上学习" not in lt.field("kind").choices
    assert lt.extensions == {}


def test_export_gives_a_zip_that_installs_again(data_dir, capsys, tmp_path):
    write(data_dir / "packs" / "halfyear", EXTENSION)
    load_all()
    code, out = run(capsys, "export", "halfyear", "-o", str(tmp_path / "h.zip"))
    assert code == 0, out
    assert zipfile.ZipFile(tmp_path / "h.zip").namelist() == ["halfyear/pack.toml"]
    code, out = run(capsys, "check", str(tmp_path / "h.zip"))
    assert code == 0 and "检查通过" in out
    assert run(capsys, "export", "nosuch", "-o", str(tmp_path / "x.zip"))[0] == 2


CONFLICT = """
[pack]
name = "district"

[[ledger_types]]
code = "study_activity"
label = "我区学习台账"
date_field = "date"

  [[ledger_types.fields]]
  code = "date"
  label = "日期"
  type = "date"
"""


def test_a_conflicting_pack_is_refused_naming_both_packs_and_files(data_dir, capsys, tmp_path):
    before = LedgerType.objects.get(code="study_activity")
    code, out = run(capsys, "install", str(write(tmp_path / "district", CONFLICT)))
    assert code == 1
    assert "台账“study_activity”已由数据包 core（core/pack.toml 第" in out
    assert "数据包 district 不能重新定义" in out
    assert "district/pack.toml 第 6 行" in out
    assert not (data_dir / "packs" / "district").exists()
    after = LedgerType.objects.get(code="study_activity")
    assert (after.label, after.pack, after.fields.count()) == (before.label, "core", before.fields.count())


def test_a_pack_loaded_directly_cannot_take_over_another_packs_definition(packs, tmp_path):
    from dangjian.packs.loader import load_pack

    pack, _ = read_pack(write(tmp_path / "district", CONFLICT))
    with pytest.raises(PackError, match="已由数据包 core（core/pack.toml 第 .* 行）定义，数据包 district"):
        load_pack(pack)
    assert LedgerType.objects.get(code="study_activity").label == "学习教育活动台账"


def test_an_extension_may_not_retype_or_redefine_a_field(data_dir, capsys, tmp_path):
    body = EXTENSION.replace('code = "platform"', 'code = "kind"').replace(
        'choices = { kind = ["网上学习"] }', 'choices = { kind = ["专题报告"], title = ["x"] }'
    )
    code, out = run(capsys, "check", str(write(tmp_path / "halfyear", body)))
    assert code == 1
    assert "字段“kind”是数据包 core 的台账“study_activity”已有的字段" in out
    assert "“专题报告”已是字段“kind”的可选项" in out
    assert "字段“title”不是单选或多选字段" in out
    assert LedgerField.objects.filter(ledger_type__code="study_activity", code="kind", type="choice").exists()


BAD = {
    "pack.toml": """\
        [pack]
        name = "bad"
        colour = "red"

        [[ledger_types]]
        code = "party_fee"
        label = "党费台账"
        date_field = "paid_on"

          [[ledger_types.fields]]
          code = "paid_on"
          label = "缴纳日期"
          type = "date"

          [[ledger_types.fields]]
          code = "unit_name"
          label = "单位"
          type = "text"

          [[ledger_types.fields]]
          code = "amount"
          label = "金额"
          type = "money"
          maxx = 3
        """,
    "more.toml": """\
        [[indicators]]
        key = "党费.笔数"
        label = "笔数"
        ledger = "party_fee"
        flavour = 1
        """,
    "broken.toml": """\
        [[checks]]
        code = "x"
        rule = "1 ==
        """,
}


def test_check_lists_every_problem_at_once_with_file_line_and_key(data_dir, capsys, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    for name, text in BAD.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    code, out = run(capsys, "check", str(folder))
    assert code == 1
    expected = [
        "bad/broken.toml 第 3 行：TOML 格式错误",
        "bad/pack.toml 第 3 行（pack.colour）：含有未知属性：colour",
        "bad/pack.toml 第 17 行（ledger_types[party_fee].fields[unit_name].label）：字段名称“单位”是保留的表头",
        "bad/pack.toml 第 24 行（ledger_types[party_fee].fields[amount].maxx）：含有未知属性：maxx",
        "bad/more.toml 第 5 行（indicators[党费.笔数].flavour）：含有未知属性：flavour",
    ]
    for line in expected:
        assert line in out, out
    assert "共 5 处问题" in out


def test_a_local_pack_may_not_take_a_built_in_name_and_values_of_the_wrong_kind_are_named(
    data_dir, capsys, tmp_path
):
    code, out = run(
        capsys, "install", str(write(tmp_path / "core", EXTENSION.replace('"halfyear"', '"core"')))
    )
    assert code == 1 and "“core”" in out
    body = EXTENSION.replace('type = "text"', 'type = "text"\nmin = "abc"\nsensitive = "yes"')
    code, out = run(capsys, "check", str(write(tmp_path / "halfyear", body)))
    assert code == 1
    assert "fields[platform].min）：min 应为数字" in out and "sensitive 应为 true 或 false" in out


def test_load_refuses_unknown_keys_and_the_reserved_label_naming_file_and_key(packs, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "pack.toml").write_text(textwrap.dedent(BAD["pack.toml"]), encoding="utf-8")
    with pytest.raises(PackError) as info:
        load_all(tmp_path)
    message = str(info.value)
    assert "bad/pack.toml 第 17 行" in message and "“单位”是保留的表头" in message
    assert "fields[amount].maxx" in message and "pack.colour" in message
    assert not LedgerType.objects.filter(code="party_fee").exists()


def test_the_reserved_labels_cover_every_alias_the_import_reads_as_the_org(db):
    from dangjian.packs.validate import head_key, reserved_labels
    from dangjian.spreadsheets import imports
    from dangjian.spreadsheets.xlsx import ORG_CODE

    aliases = {name for name, code in imports._header_names([]).items() if code == ORG_CODE}
    assert aliases and {head_key(a) for a in aliases} <= set(reserved_labels(False))
    assert "状态" in reserved_labels(True) and "状态" not in reserved_labels(False)


def test_the_built_in_packs_pass_every_check(db):
    from dangjian.packs.loader import PACKS_DIR, all_problems

    assert all_problems(discover(PACKS_DIR), database=False) == []


# --- hostile zips ---------------------------------------------------------------------------------------------


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


GOOD_TOML = EXTENSION.encode()
HOSTILE = [
    ({"pack.toml": GOOD_TOML, "../evil.toml": b"x"}, "指向数据包目录之外"),
    ({"pack.toml": GOOD_TOML, "/etc/evil.toml": b"x"}, "指向数据包目录之外"),
    ({"pack.toml": GOOD_TOML, "run.py": b"import os"}, "“run.py”的类型不接受"),
    ({"pack.toml": GOOD_TOML, **{f"f{i}.md": b"" for i in range(201)}}, "最多 200 个"),
    ({"pack.toml": GOOD_TOML, "bomb.txt": b"0" * (30 * 1024 * 1024)}, "解压后"),
    ({"readme.md": b"x"}, "找不到 pack.toml"),
]


@pytest.mark.parametrize(("members", "message"), HOSTILE)
def test_a_hostile_zip_is_refused_and_changes_nothing(data_dir, capsys, tmp_path, members, message):
    path = tmp_path / "upload.zip"
    path.write_bytes(_zip(members))
    before = (LedgerType.objects.count(), LedgerField.objects.count())
    code, out = run(capsys, "install", str(path))
    assert code == 1
    assert message in out
    assert list((data_dir / "packs").iterdir()) == []
    assert (LedgerType.objects.count(), LedgerField.objects.count()) == before
    assert not (tmp_path / "evil.toml").exists()


def test_a_zip_whose_sizes_lie_is_stopped_while_unpacking(tmp_path):
    from dangjian.packs.manage import PackRefused, unpack_zip

    data = bytearray(_zip({"pack.toml": b"x" * (6 * 1024 * 1024)}))
    # Make the central directory claim the member is 10 bytes long.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    with pytest.raises(PackRefused, match="疑为压缩炸弹|无法解压"):
        unpack_zip(io.BytesIO(bytes(data)), len(data), tmp_path / "out", "lie.zip")


# --- the web page ---------------------------------------------------------------------------------------------


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_the_page_lists_packs_and_installs_an_upload(world, data_dir):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from dangjian.audit.models import AuditEvent

    client = _client(world.unit_admin)
    page = client.get("/packs/")
    assert page.status_code == 200
    assert "core" in page.content.decode() and "内置" in page.content.decode()
    upload = SimpleUploadedFile("halfyear.zip", _zip({"halfyear/pack.toml": GOOD_TOML}))
    response = client.post("/packs/", {"files": [upload]})
    assert response.status_code == 302
    page = client.get("/packs/").content.decode()
    assert "已安装数据包 halfyear" in page and "本地" in page and "core:study_activity" in page
    event = AuditEvent.objects.filter(target="数据包 halfyear").first()
    assert event.username == world.unit_admin.username and "网页上传" in event.detail["change"]


def test_the_page_installs_single_files_and_refuses_a_bad_one_naming_it(world, data_dir):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _client(world.unit_admin)
    bad = SimpleUploadedFile("pack.toml", CONFLICT.encode())
    response = client.post("/packs/", {"files": [bad]})
    assert response.status_code == 400
    text = response.content.decode()
    assert "已由数据包 core" in text and "没有做任何改变" in text
    exe = SimpleUploadedFile("tool.exe", b"MZ")
    response = client.post("/packs/", {"files": [SimpleUploadedFile("pack.toml", GOOD_TOML), exe]})
    assert response.status_code == 400 and "“tool.exe”的类型不接受" in response.content.decode()
    assert list((data_dir / "packs").iterdir()) == []
    response = client.post("/packs/", {"files": [SimpleUploadedFile("pack.toml", GOOD_TOML)]})
    assert response.status_code == 302
    assert (data_dir / "packs" / "halfyear" / "pack.toml").is_file()


def test_only_an_admin_of_the_reporting_org_may_use_the_page(world, data_dir):
    link = 'href="/packs/"'
    assert link in _client(world.unit_admin).get("/ledgers/").content.decode()  # the top bar offers it
    for user in (world.sysadmin, world.reviewer, world.clerk, world.viewer, world.jiwei):
        assert _client(user).get("/packs/").status_code == 403
        assert _client(user).post("/packs/", {}).status_code == 403
        page = _client(user).get("/ledgers/" if user != world.sysadmin else "/")
        assert link not in page.content.decode()


# --- the command in fresh processes: init with a local pack, a reinstall, a bad local pack ------------------------


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
    env["DANGJIAN_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "dangjian", *args], env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.django_db(transaction=False)
def test_a_local_pack_survives_a_reinstall_and_a_bad_one_stops_init_in_chinese(tmp_path):
    data = tmp_path / "data"
    source = write(tmp_path / "src" / "halfyear", EXTENSION)
    assert _cli("init", data_dir=data).returncode == 0
    result = _cli("pack", "install", str(source), data_dir=data)
    assert result.returncode == 0, result.stderr
    # A reinstall of the code keeps the data dir: init loads the local pack again with the built-in ones.
    result = _cli("init", data_dir=data)
    assert result.returncode == 0, result.stderr
    assert "已载入数据包 halfyear" in result.stdout
    with sqlite3.connect(data / "db.sqlite3") as conn:
        rows = conn.execute(
            "SELECT f.code, f.is_archived FROM ledgers_ledgerfield f JOIN ledgers_ledgertype t"
            " ON f.ledger_type_id = t.id WHERE t.code = 'study_activity' AND f.code = 'platform'"
        ).fetchall()
    assert rows == [("platform", 0)]

    (data / "packs" / "halfyear" / "pack.toml").write_text(EXTENSION + "\nflavour = 1\n", encoding="utf-8")
    result = _cli("init", data_dir=data)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "halfyear/pack.toml 第" in result.stderr and "flavour" in result.stderr
    assert "全部数据包都没有载入" in result.stderr
