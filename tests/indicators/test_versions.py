"""Staff's web versions of indicators survive `dangjian init` and pack upgrades; a changed built-in original is shown
with its difference and adopted only when staff choose; history and restore."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dangjian.indicators.models import DefinitionVersion, Indicator
from dangjian.packs.loader import load_all

KEY = "本地.学习次数"
PACK = """
[pack]
name = "mine"
label = "本区报告"
order = 60
version = "{version}"

[[indicators]]
key = "本地.学习次数"
label = "学习次数"
unit = "次"
ledger = "study_activity"
where = [{{ field = "kind", op = "=", value = "{kind}" }}]

[[indicators]]
key = "本地.其他"
label = "其他"
ledger = "study_activity"
"""
EDIT = f"/indicators/builder/{KEY}/"
HISTORY = f"/indicators/builder/{KEY}/versions/"
ADOPT = f"/indicators/builder/{KEY}/adopt/"


@pytest.fixture
def data_dir(settings, tmp_path, world):
    settings.DATA_DIR = tmp_path / "data"
    (settings.DATA_DIR / "packs").mkdir(parents=True)
    return settings.DATA_DIR


def write_pack(data_dir: Path, kind: str = "专题报告", version: str = "1.0", body: str = PACK) -> None:
    folder = data_dir / "packs" / "mine"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.toml").write_text(
        textwrap.dedent(body.format(kind=kind, version=version)), encoding="utf-8"
    )


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def edit_form(kind: str, note: str = "按本区口径") -> dict:
    return {
        "label": "学习次数",
        "unit": "次",
        "kind": "aggregate",
        "ledger": "study_activity",
        "aggregate": "count",
        "c0-field": "kind",
        "c0-op": "=",
        "c0-value": kind,
        "note": note,
    }


def where(key: str = KEY) -> list:
    return Indicator.objects.get(key=key).where


@pytest.fixture
def edited(data_dir, client, world):
    """The pack loaded, then its indicator changed in the web by the reporting org's administrator."""
    write_pack(data_dir)
    load_all()
    login(client, world.unit_admin)
    response = client.post(EDIT, edit_form("理论宣讲"))
    assert response.status_code == 302, response.content.decode()
    assert where() == [{"field": "kind", "op": "=", "value": "理论宣讲"}]
    return world


def test_a_web_edit_is_a_version_owned_by_the_writers_org(edited):
    builtin, web = DefinitionVersion.objects.filter(key=KEY).order_by("pk")
    assert (builtin.source, builtin.pack, builtin.definition["where"][0]["value"]) == (
        "builtin",
        "mine",
        "专题报告",
    )
    assert (web.source, web.org, web.created_by, web.note) == (
        "web",
        edited.root,
        edited.unit_admin,
        "按本区口径",
    )
    assert web.base == builtin.definition
    assert Indicator.objects.get(key=KEY).pack == "mine"  # still the pack's key; the definition is staff's


def test_a_web_edit_survives_dangjian_init_and_a_pack_reload(edited, capsys):
    from dangjian import cli

    assert cli.main(["init"]) == 0
    assert "已载入数据包 mine" in capsys.readouterr().out
    assert where() == [{"field": "kind", "op": "=", "value": "理论宣讲"}]
    load_all()
    assert where() == [{"field": "kind", "op": "=", "value": "理论宣讲"}]
    assert DefinitionVersion.objects.filter(key=KEY).count() == 2  # the original did not change: nothing new
    assert Indicator.objects.get(key="本地.其他").pack == "mine"  # the pack's other indicators load as before


def test_a_changed_original_is_shown_with_its_difference_and_adopted_only_when_chosen(
    edited, data_dir, client
):
    write_pack(data_dir, kind="中心组集体学习", version="1.1")
    load_all()
    assert where()[0]["value"] == "理论宣讲"  # the upgrade kept the staff version
    page = client.get(EDIT).content.decode()
    assert "内置原文已更新" in page
    history = client.get(HISTORY).content.decode()
    assert "内置原文已更新" in history
    assert "中心组集体学习" in history and "理论宣讲" in history
    assert 'class="diff-del"' in history and 'class="diff-add"' in history
    assert "采用内置新版" in history and "保留当前版本" in history

    assert client.post(ADOPT).status_code == 302
    assert where()[0]["value"] == "中心组集体学习"
    assert "内置原文已更新" not in client.get(HISTORY).content.decode()
    # Adopting is a new staff version: a later upgrade still does not overwrite it, but is shown again.
    write_pack(data_dir, kind="专题党课", version="1.2")
    load_all()
    assert where()[0]["value"] == "中心组集体学习"
    assert "内置原文已更新" in client.get(HISTORY).content.decode()


def test_keeping_ones_own_version_silences_the_notice(edited, data_dir, client):
    write_pack(data_dir, kind="中心组集体学习", version="1.1")
    load_all()
    assert client.post(ADOPT, {"keep": "1"}).status_code == 302
    assert where()[0]["value"] == "理论宣讲"
    assert "内置原文已更新" not in client.get(HISTORY).content.decode()


def test_history_compares_and_restores_as_a_new_version(edited, client):
    client.post(EDIT, edit_form("微型党课", note="第二次修改"))
    assert where()[0]["value"] == "微型党课"
    first_web = DefinitionVersion.objects.filter(key=KEY, source="web").order_by("pk").first()
    history = client.get(HISTORY, {"v": first_web.pk}).content.decode()
    assert "第二次修改" in history and "按本区口径" in history
    assert "所选版本" in history and "理论宣讲" in history and "微型党课" in history
    before = DefinitionVersion.objects.filter(key=KEY).count()
    response = client.post(f"/indicators/builder/{KEY}/restore/{first_web.pk}/")
    assert response.status_code == 302
    assert where()[0]["value"] == "理论宣讲"
    assert DefinitionVersion.objects.filter(key=KEY).count() == before + 1
    newest = DefinitionVersion.objects.filter(key=KEY).order_by("-pk").first()
    assert newest.source == "web" and newest.note.startswith("恢复")
    # The built-in original can be restored too.
    builtin = DefinitionVersion.objects.get(key=KEY, source="builtin")
    client.post(f"/indicators/builder/{KEY}/restore/{builtin.pk}/")
    assert where()[0]["value"] == "专题报告"


def test_an_unchanged_save_makes_no_version(edited, client):
    before = DefinitionVersion.objects.count()
    response = client.post(EDIT, edit_form("理论宣讲"), follow=True)
    assert "定义没有改变" in response.content.decode()
    assert DefinitionVersion.objects.count() == before


def test_a_pack_dropping_an_edited_indicator_does_not_remove_it(edited, data_dir):
    head = PACK.split("[[indicators]]")[0]
    write_pack(
        data_dir, body=head + '[[indicators]]\nkey = "本地.新"\nlabel = "新"\nledger = "study_activity"\n'
    )
    load_all()
    assert Indicator.objects.filter(key=KEY).exists()  # staff's version stays
    assert not Indicator.objects.filter(key="本地.其他").exists()  # the untouched one goes with the pack
    assert Indicator.objects.get(key="本地.新").pack == "mine"


def test_a_web_born_indicator_survives_pack_loading(data_dir, client, world):
    write_pack(data_dir)
    load_all()
    login(client, world.unit_admin)
    form = {**edit_form("专题报告"), "key": "本区.专题报告次数"}
    assert client.post("/indicators/builder/new/", form).status_code == 302
    write_pack(data_dir, kind="中心组集体学习", version="1.1")
    load_all()
    made = Indicator.objects.get(key="本区.专题报告次数")
    assert made.pack == "" and made.where[0]["value"] == "专题报告"
    assert DefinitionVersion.objects.get(key="本区.专题报告次数").base == {}
    assert "还没有" not in client.get("/indicators/builder/本区.专题报告次数/versions/").content.decode()


def test_only_report_writers_may_adopt_or_restore(edited, client):
    version = DefinitionVersion.objects.filter(key=KEY).first()
    for user in (edited.reviewer, edited.viewer, edited.sysadmin, edited.clerk):
        login(client, user)
        assert client.post(ADOPT).status_code == 403
        assert client.post(f"/indicators/builder/{KEY}/restore/{version.pk}/").status_code == 403
        assert client.post(EDIT, edit_form("培训班")).status_code == 403
    assert where()[0]["value"] == "理论宣讲"


# --- checks (核对规则): the same versions ------------------------------------------------------------------------

CHECK_PACK = """
[pack]
name = "mine"
label = "本区报告"
order = 60
version = "{version}"

[[indicators]]
key = "本地.学习次数"
label = "学习次数"
ledger = "study_activity"

[[checks]]
code = "study_positive"
label = "学习次数不为负"
rule = "本地.学习次数 >= {bound}"
message = "学习次数应不小于 {bound}"
"""
CHECK = "/indicators/checks/study_positive/"


def write_check_pack(data_dir: Path, bound: int = 0, version: str = "1.0") -> None:
    folder = data_dir / "packs" / "mine"
    folder.mkdir(parents=True, exist_ok=True)
    text = CHECK_PACK.replace("{version}", version).replace("{bound}", str(bound))
    (folder / "pack.toml").write_text(textwrap.dedent(text), encoding="utf-8")


def check_form(rule: str = "本地.学习次数 >= 1", **extra: str) -> dict:
    return {
        "label": "学习次数至少一次",
        "rule": rule,
        "level": "warning",
        "message": "至少应有一次学习",
        **extra,
    }


def test_a_web_edit_of_a_check_survives_init_and_upgrades_and_can_be_adopted(data_dir, client, world, capsys):
    from dangjian import cli
    from dangjian.indicators.models import Check

    write_check_pack(data_dir)
    load_all()
    login(client, world.unit_admin)
    assert client.post(CHECK, check_form()).status_code == 302
    assert Check.objects.get(code="study_positive").rule == "本地.学习次数 >= 1"
    assert cli.main(["init"]) == 0
    capsys.readouterr()
    check = Check.objects.get(code="study_positive")
    assert (check.rule, check.level) == ("本地.学习次数 >= 1", "warning")

    write_check_pack(data_dir, bound=2, version="1.1")
    load_all()
    assert Check.objects.get(code="study_positive").rule == "本地.学习次数 >= 1"
    assert "内置原文已更新" in client.get(CHECK).content.decode()
    history = client.get(CHECK + "versions/").content.decode()
    assert (
        "内置原文已更新" in history and "本地.学习次数 &gt;= 2" in history and 'class="diff-add"' in history
    )
    assert client.post(CHECK + "adopt/").status_code == 302
    check = Check.objects.get(code="study_positive")
    assert (check.rule, check.level) == ("本地.学习次数 >= 2", "error")

    first = DefinitionVersion.objects.filter(kind="check", source="web").order_by("pk").first()
    client.post(f"{CHECK}restore/{first.pk}/")
    assert Check.objects.get(code="study_positive").rule == "本地.学习次数 >= 1"
    exported = client.get(CHECK + "export.toml").content.decode()
    assert exported.startswith("[[checks]]") and 'rule = "本地.学习次数 >= 1"' in exported


def test_a_bad_check_is_refused_in_chinese_and_nothing_changes(data_dir, client, world):
    from dangjian.indicators.models import Check

    write_check_pack(data_dir)
    load_all()
    login(client, world.unit_admin)
    response = client.post(CHECK, check_form(rule="本地.没有 >= 1"))
    assert response.status_code == 400
    assert "定义有误，未保存" in response.content.decode() and "本地.没有" in response.content.decode()
    response = client.post("/indicators/checks/new/", {**check_form(), "code": "坏 代码"})
    assert response.status_code == 400 and "代码" in response.content.decode()
    assert Check.objects.get(code="study_positive").rule == "本地.学习次数 >= 0"
    assert not DefinitionVersion.objects.filter(kind="check").exists()
    ok = client.post("/indicators/checks/new/", {**check_form(), "code": "my_rule"})
    assert ok.status_code == 302 and Check.objects.get(code="my_rule").pack == ""
    load_all()
    assert Check.objects.filter(code="my_rule").exists()  # a web-born check survives pack loading
    for user in (world.reviewer, world.viewer, world.sysadmin):
        login(client, user)
        assert client.get("/indicators/checks/").status_code == 403
        assert client.post(CHECK, check_form(rule="本地.学习次数 >= 5")).status_code == 403
    assert Check.objects.get(code="study_positive").rule == "本地.学习次数 >= 0"
