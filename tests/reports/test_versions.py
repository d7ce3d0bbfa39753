"""Web edits survive upgrades: a template file saved in the web is a version owned by the reporting org; the CLI
renders it, `dangjian init` and pack reloads keep it, a changed built-in original is shown (内置原文已更新, with
the difference) and adopted only by choice; history, diff between versions, restore."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dangjian.cli import build_parser, cmd_init
from dangjian.packs.loader import PackError, discover, load_pack
from dangjian.reports.cli import report
from dangjian.reports.models import ReportTemplate, TemplateFileVersion

from .conftest import CHAPTER1_J2, write_pack

pytestmark = pytest.mark.django_db

EDITED = "二、网页上改写的组织建设\n中心组集体学习{{ 学习.中心组次数 }}次。\n"
NEW_BUILTIN = CHAPTER1_J2.replace("二、坚持组织建设", "二、坚持和加强组织建设")


@pytest.fixture
def local_pack(world, settings, tmp_path):
    """The test pack as a district's own pack in DANGJIAN_DATA_DIR/packs, loaded as `dangjian init` would."""
    settings.DATA_DIR = tmp_path
    folder = write_pack(tmp_path / "packs")
    for pack in discover(tmp_path / "packs"):
        load_pack(pack)
    return folder


@pytest.fixture
def writer(client, world, local_pack):
    client.force_login(world.unit_admin)
    return client


def save(client, text: str, file: str = "chapter1.j2"):
    url = reverse("reports:template_edit", args=["testreport"])
    return client.post(url, {"file": file, "text": text, "org": "root", "period": "2019"})


def cli_text(tmp_path, capsys) -> str:
    out = tmp_path / "r.txt"
    argv = ["report", "--template", "testreport", "--org", "root", "--year", "2019", "--format", "txt"]
    assert report(build_parser().parse_args([*argv, "-o", str(out)])) == 0, capsys.readouterr().err
    return out.read_text(encoding="utf-8")


def init(capsys) -> None:
    assert cmd_init(build_parser().parse_args(["init"])) == 0, capsys.readouterr().err
    assert "已载入数据包 testreport" in capsys.readouterr().out  # the local pack was reloaded


def edit_page(client) -> str:
    url = reverse("reports:template_edit", args=["testreport"]) + "?file=chapter1.j2"
    return client.get(url).content.decode()


def test_a_web_edit_is_rendered_by_the_cli_and_survives_dangjian_init(
    writer, report_records, tmp_path, capsys
):
    assert "坚持组织建设" in cli_text(tmp_path, capsys)
    assert save(writer, EDITED).status_code == 302
    assert "网页上改写的组织建设" in cli_text(tmp_path, capsys)
    init(capsys)
    text = cli_text(tmp_path, capsys)
    assert "网页上改写的组织建设" in text and "中心组集体学习4次" in text and "坚持组织建设" not in text
    assert "内置原文已更新" not in edit_page(writer)  # the pack did not change: nothing to adopt


def test_a_changed_builtin_original_is_shown_and_adopted_by_choice(
    writer, local_pack, report_records, tmp_path, capsys
):
    save(writer, EDITED)
    (local_pack / "chapter1.j2").write_text(NEW_BUILTIN, encoding="utf-8")
    init(capsys)  # the upgrade: the pack's file changed
    assert "网页上改写的组织建设" in cli_text(tmp_path, capsys)  # still theirs
    page = edit_page(writer)
    assert "内置原文已更新" in page and "采用内置新版" in page and "保留当前版本" in page
    assert "坚持和加强组织建设" in page and 'class="diff-add"' in page and 'class="diff-del"' in page
    listing = writer.get(reverse("reports:templates")).content.decode()
    assert "内置原文已更新：chapter1.j2" in listing

    url = reverse("reports:template_builtin", args=["testreport"])
    assert writer.post(url, {"file": "chapter1.j2", "choice": "adopt"}).status_code == 302
    latest = TemplateFileVersion.objects.first()
    assert latest is not None and latest.text == NEW_BUILTIN and latest.base == NEW_BUILTIN
    assert latest.note == "采用内置新版"
    assert "坚持和加强组织建设" in cli_text(tmp_path, capsys)
    assert "内置原文已更新" not in edit_page(writer)
    assert TemplateFileVersion.objects.count() == 2  # history kept


def test_keeping_ones_own_version_acknowledges_the_update(writer, local_pack):
    save(writer, EDITED)
    (local_pack / "chapter1.j2").write_text(NEW_BUILTIN, encoding="utf-8")
    for pack in discover(local_pack.parent):
        load_pack(pack)
    assert "内置原文已更新" in edit_page(writer)
    url = reverse("reports:template_builtin", args=["testreport"])
    writer.post(url, {"file": "chapter1.j2", "choice": "keep"})
    latest = TemplateFileVersion.objects.first()
    assert latest is not None and latest.text == EDITED and latest.base == NEW_BUILTIN
    assert "内置原文已更新" not in edit_page(writer)


def test_an_edit_of_the_main_file_survives_a_reload_that_rewrites_the_source(writer, local_pack):
    save(writer, "网页主文件\n{% include 'chapter1.j2' %}\n", file="main.j2")
    (local_pack / "main.j2").write_text("新的内置主文件\n", encoding="utf-8")
    for pack in discover(local_pack.parent):
        load_pack(pack)
    template = ReportTemplate.objects.get(key="testreport")
    assert template.source == "新的内置主文件\n"  # the built-in original, as the pack has it now
    page = writer.get(
        reverse("reports:template_edit", args=["testreport"]) + "?file=main.j2"
    ).content.decode()
    assert "网页主文件" in page and "内置原文已更新" in page


def test_a_pack_reload_validates_the_packs_own_text_not_the_web_version(writer, local_pack):
    save(writer, "网页版本{{ 学习.中心组次数 }}\n")
    (local_pack / "chapter1.j2").write_text("{{ 学习.没有这个 }}\n", encoding="utf-8")
    with pytest.raises(PackError, match="学习.没有这个"):
        for pack in discover(local_pack.parent):
            load_pack(pack)


def test_history_shows_each_version_its_difference_and_restores(writer, world):
    save(writer, "第一版\n")
    save(writer, "第二版\n")
    first, second = TemplateFileVersion.objects.order_by("created_at", "id")
    url = reverse("reports:template_history", args=["testreport"]) + "?file=chapter1.j2"
    page = writer.get(url).content.decode()
    assert page.count("恢复</button>") == 1  # every version but the one in effect
    assert "−</span>第一版" in page and "+</span>第二版" in page  # the latest against the one before
    earliest = writer.get(url + f"&version={first.pk}").content.decode()
    assert "内置原文" in earliest and "+</span>第一版" in earliest and "二、坚持组织建设" in earliest
    restore = reverse("reports:template_restore", args=["testreport"])
    assert writer.post(restore, {"version": first.pk}).status_code == 302
    latest = TemplateFileVersion.objects.first()
    assert latest is not None and latest.text == "第一版\n" and latest.pk not in (first.pk, second.pk)
    assert latest.note.startswith("恢复") and latest.created_by == world.unit_admin
    assert TemplateFileVersion.objects.count() == 3


def test_versions_are_append_only(writer):
    save(writer, "第一版\n")
    version = TemplateFileVersion.objects.get()
    version.text = "偷偷改"
    with pytest.raises(Exception, match="不可修改"):
        version.save()


def test_only_writers_restore_or_adopt(client, world, local_pack):
    client.force_login(world.unit_admin)
    save(client, "第一版\n")
    version = TemplateFileVersion.objects.get()
    client.force_login(world.sysadmin)
    assert (
        client.post(
            reverse("reports:template_restore", args=["testreport"]), {"version": version.pk}
        ).status_code
        == 403
    )
    builtin = reverse("reports:template_builtin", args=["testreport"])
    assert client.post(builtin, {"file": "chapter1.j2", "choice": "adopt"}).status_code == 403
    assert client.get(reverse("reports:template_history", args=["testreport"])).status_code == 403
    assert TemplateFileVersion.objects.count() == 1


def test_a_pack_declares_the_org_kinds_of_its_templates(world, tmp_path):
    folder = write_pack(tmp_path)
    toml = (folder / "pack.toml").read_text(encoding="utf-8")
    (folder / "pack.toml").write_text(toml + 'org_kinds = ["district", "street"]\n', encoding="utf-8")
    for pack in discover(tmp_path):
        load_pack(pack)
    assert ReportTemplate.objects.get(key="testreport").org_kinds == ["district", "street"]
    (folder / "pack.toml").write_text(toml + 'org_kinds = ["planet"]\n', encoding="utf-8")
    with pytest.raises(PackError, match="未知的组织类别：planet"):
        for pack in discover(tmp_path):
            load_pack(pack)


def test_the_seed_template_is_for_the_district(world):
    from dangjian.packs.loader import discover as discover_all

    for pack in discover_all():
        if pack.name == "seed2019":
            load_pack(pack)
    template = ReportTemplate.objects.get(key="seed2019")
    assert template.org_kinds == ["district"] and template.fits(world.root) and not template.fits(world.c1)
