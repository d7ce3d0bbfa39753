"""The audit log: administrators' changes appear in it, the auditor filters, pages and exports it, and nobody —
not the application, not SQL — changes or deletes an event (finding 4's "the only trace is the admin log")."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dangjian.audit import views
from dangjian.audit.log import record
from dangjian.audit.models import Action, AppendOnlyError, AuditEvent

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def event(world) -> AuditEvent:
    return record(Action.EXPORT, user=world.clerk, target="台账 study_activity", rows=3)


# --- append-only --------------------------------------------------------------------------------------------


def test_the_application_cannot_change_or_delete_an_event(event):
    event.target = "改过"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(target="改过")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["target"])
    assert AuditEvent.objects.get(pk=event.pk).target == "台账 study_activity"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET target = 'x' WHERE id = %s",
        "UPDATE audit_auditevent SET username = 'someone' WHERE id = %s",
        "UPDATE audit_auditevent SET detail = '{}' WHERE id = %s",
    ],
)
def test_the_database_refuses_an_update(event, sql):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).target == "台账 study_activity"


def test_the_database_refuses_a_delete_on_postgresql(event):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps DELETE open: Django empties tables with it (see migration audit 0002)")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_deleted_account_keeps_its_events_under_its_name(world, event):
    get_user_model().objects.filter(pk=world.clerk.pk).delete()
    kept = AuditEvent.objects.get(pk=event.pk)
    assert kept.actor_id is None and kept.username == "clerk"


# --- events of the administrators ---------------------------------------------------------------------------


def test_the_duty_command_is_audited(world):
    call_command("duty", "outsider", "auditor", stdout=io.StringIO())
    event = AuditEvent.objects.get(action=Action.ROLE_CHANGE)
    assert (event.username, event.detail["before"], event.detail["after"]) == (
        "（命令行）",
        "无",
        "安全审计员",
    )
    assert "outsider" in event.target
    call_command("duty", "outsider", "none", stdout=io.StringIO())
    assert AuditEvent.objects.filter(action=Action.ROLE_CHANGE).count() == 2
    # A member of a unit gets no duty.
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="三员账号不能兼任单位角色"):
        call_command("duty", "clerk", "system", stdout=io.StringIO())


def test_a_pack_whose_files_changed_is_audited_once(tmp_path, packs):
    from dangjian.packs.loader import discover, load_pack

    folder = tmp_path / "packs" / "extra"
    folder.mkdir(parents=True)
    toml = '[pack]\nname = "extra"\n\n[[org_kinds]]\ncode = "extra_kind"\nlabel = "附加类别"\n'
    (folder / "pack.toml").write_text(toml, encoding="utf-8")

    def load() -> None:
        for pack in discover(tmp_path / "packs"):
            load_pack(pack)

    def events() -> list[str]:
        found = AuditEvent.objects.filter(action=Action.PACK_CHANGE, target="数据包 extra").order_by("pk")
        return [e.detail["change"] for e in found]

    load()
    load()  # the same files again: nothing changed, nothing to log
    assert events() == ["首次载入"]
    (folder / "pack.toml").write_text(toml.replace("附加类别", "附加类别（改）"), encoding="utf-8")
    load()
    assert events() == ["首次载入", "内容有变化，重新载入"]


def test_account_and_membership_changes_name_who_did_them(world, duties):
    admin = _client(duties.system)
    admin.post(
        reverse("admin:auth_user_change", args=[world.clerk.pk]),
        {"username": "clerk", "first_name": "幸福社区张三", "last_name": "", "email": "", "is_active": "on"},
    )
    event = AuditEvent.objects.get(action=Action.ACCOUNT_CHANGE)
    assert (event.username, event.detail["change"]) == ("sysadmin", "修改账号")
    assert event.detail["fields"] == ["名字"]

    from dangjian.orgs.models import Membership

    membership = Membership.objects.get(user=world.sibling)
    response = _client(duties.security).post(
        reverse("admin:orgs_membership_delete", args=[membership.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=Action.MEMBERSHIP_CHANGE)
    assert (event.username, event.detail["change"], event.detail["org"]) == ("anquan", "删除", "c2")


# --- the auditor's page -------------------------------------------------------------------------------------


def test_the_auditor_filters_and_pages(world, duties, monkeypatch):
    record(Action.LOGIN_FAILED, username="admin", target="账号 admin")
    for n in range(5):
        record(Action.EXPORT, user=world.clerk, target=f"台账 study_activity {n}")
    viewers = record(Action.EXPORT, user=world.viewer, target="台账 老记录")
    auditor = _client(duties.auditor)
    today = timezone.localtime(viewers.at).date()  # the event's own day (the run may cross midnight)

    def rows(**params: str) -> str:
        response = auditor.get(reverse("audit:events"), params)
        assert response.status_code == 200
        return response.content.decode()

    page = rows(action=Action.LOGIN_FAILED)
    assert "账号 admin" in page and "台账 study_activity" not in page
    page = rows(account="viewer")
    assert "台账 老记录" in page and "study_activity" not in page
    page = rows(target="study_activity 3")
    assert "study_activity 3" in page and "study_activity 2" not in page
    assert "台账 老记录" in rows(start=today.isoformat(), end=today.isoformat())
    assert "没有符合筛选条件的事件" in rows(end=(today - dt.timedelta(days=1)).isoformat())
    page = rows(start="2019-13-45", action="nonsense")
    assert "【起始日期】“2019-13-45”不是有效日期" in page and "【事件】“nonsense”不是可选的事件类型" in page

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    page = rows(account="clerk")
    assert "第 1 / 3 页" in page and "account=clerk&amp;page=2" in page


def test_the_export_is_neutralised_bounded_and_itself_audited(world, duties, monkeypatch):
    from openpyxl import load_workbook

    record(Action.LOGIN_FAILED, username='=HYPERLINK("http://x")', target="=1+1")
    auditor = _client(duties.auditor)
    response = auditor.get(reverse("audit:export"), {"action": Action.LOGIN_FAILED})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("时间", "账号", "地址", "事件", "对象", "详情")
    assert rows[1][1] == '\'=HYPERLINK("http://x")' and rows[1][4] == "'=1+1"
    exported = AuditEvent.objects.get(action=Action.EXPORT)
    assert (exported.username, exported.target, exported.detail["rows"]) == ("shenji", "审计日志", 1)
    assert exported.detail["filters"] == {"action": Action.LOGIN_FAILED}

    monkeypatch.setattr(views, "EXPORT_LIMIT", 1)
    response = auditor.get(reverse("audit:export"), follow=True)
    assert "超过单次导出上限 1 条" in response.content.decode()
    assert AuditEvent.objects.filter(action=Action.EXPORT).count() == 1
