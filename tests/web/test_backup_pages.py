"""The system administrator's backups in the web (issue 13): listed, made (POST with CSRF) and downloaded (streamed,
a Chinese name) by the 系统管理员 alone, each made or downloaded backup in the audit log, and no file outside the
backup folder reachable by its name."""

from __future__ import annotations

import io
import os
import re
import zipfile
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from dangjian.audit.models import Action, AuditEvent

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def folder(tmp_path, monkeypatch, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "佐证.pdf").write_bytes(b"%PDF-1.4 evidence")
    path = tmp_path / "backups"
    monkeypatch.setenv("DANGJIAN_BACKUP_DIR", str(path))
    monkeypatch.delenv("DANGJIAN_BACKUP_PASSPHRASE", raising=False)
    return path


def client_for(user, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def _csrf(client: Client) -> str:
    html = client.get(reverse("backups")).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


# SQLite's online backup waits for the test's own transaction: these run outside one, as a request does.
@pytest.mark.django_db(transaction=True)
def test_the_system_administrator_makes_lists_and_downloads_a_backup(world, duties, folder):
    client = client_for(duties.system, csrf=True)
    page = client.get(reverse("backups")).content.decode()
    assert "立即备份" in page and "还没有备份" in page and "不加密" in page

    # Without the CSRF token the POST is refused and nothing is written.
    assert client.post(reverse("backup_make")).status_code == 403
    assert not folder.exists() or not list(folder.iterdir())
    response = client.post(reverse("backup_make"), {"csrfmiddlewaretoken": _csrf(client)})
    assert response.status_code == 302
    (made,) = folder.iterdir()
    assert re.fullmatch(r"dangjian-backup-\d{8}-\d{6}\.zip", made.name)
    assert oct(made.stat().st_mode & 0o777) == "0o600"
    event = AuditEvent.objects.filter(action=Action.BACKUP).latest("pk")
    assert event.actor == duties.system and event.target == str(made)

    page = client.get(reverse("backups")).content.decode()
    shown = "党建台账备份-" + made.name.removeprefix("dangjian-backup-")
    assert "已备份：" + shown in page and shown in page  # the message, then the list
    download = client.get(reverse("backup_download", args=[made.name]))
    assert download.status_code == 200 and download.streaming
    assert download["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(shown)}"
    body = b"".join(download.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert {"manifest.json", "media/佐证.pdf"} <= set(zf.namelist())
    downloaded = AuditEvent.objects.filter(action=Action.BACKUP).latest("pk")
    assert (
        downloaded.actor == duties.system and downloaded.pk != event.pk and "下载" in str(downloaded.detail)
    )


def test_no_one_else_may_list_make_or_download(world, duties, folder):
    folder.mkdir()
    (folder / "dangjian-backup-20191231-083000.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    from django.contrib.auth import get_user_model

    superuser = get_user_model().objects.create_superuser("root2", password="x" * 16)  # no duty: no backups
    for user in (duties.security, duties.auditor, superuser, world.unit_admin, world.clerk, world.viewer):
        client = client_for(user)
        assert client.get(reverse("backups")).status_code == 403, user
        assert client.post(reverse("backup_make")).status_code == 403, user
        download = client.get(reverse("backup_download", args=["dangjian-backup-20191231-083000.zip"]))
        assert download.status_code == 403, user
    assert len(list(folder.iterdir())) == 1
    assert not AuditEvent.objects.filter(action=Action.BACKUP).exists()
    assert Client().get(reverse("backups")).status_code == 302  # signed out: to the login page


def test_a_download_name_cannot_reach_outside_the_backup_folder(world, duties, folder, tmp_path):
    folder.mkdir()
    secret = tmp_path / "secret_key"
    secret.write_text("不可外泄的密钥")
    (folder / "secret.zip").write_text("not a backup the web made")
    os.symlink(secret, folder / "dangjian-backup-20200101-000000.zip")
    client = client_for(duties.system)
    for name in (
        "../secret_key",
        "..%2Fsecret_key",
        "%2e%2e%2fsecret_key",
        "..%5Csecret_key",
        "secret.zip",
        "dangjian-backup-20200101-000000.zip",  # a link named like a backup
        "dangjian-backup-20191231-083000.zip",  # well formed, not there
        "dangjian-backup-20191231-083000.zip%00.txt",
    ):
        response = client.get(f"/system/backups/{name}/")
        assert response.status_code == (400 if "%00" in name else 404), name  # NUL: refused by Django itself
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert "不可外泄的密钥".encode() not in body
    assert not AuditEvent.objects.filter(action=Action.BACKUP).exists()


# SQLite's online backup waits for the test's own transaction: these run outside one, as a request does.
@pytest.mark.django_db(transaction=True)
def test_a_backup_made_with_the_servers_passphrase_is_encrypted(world, duties, folder, monkeypatch):
    monkeypatch.setenv("DANGJIAN_BACKUP_PASSPHRASE", "一个足够长的备份口令abc")
    client = client_for(duties.system)
    assert "口令加密" in client.get(reverse("backups")).content.decode()
    client.post(reverse("backup_make"))
    (made,) = folder.iterdir()
    with zipfile.ZipFile(made) as zf:
        assert all(info.flag_bits & 0x1 for info in zf.infolist())  # every member encrypted
