"""提醒: `dangjian remind` writes one digest per unit and day for those who may act, by email when configured."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core import mail
from django.test import Client

from dangjian.audit.models import Action, AuditEvent
from dangjian.records import services
from dangjian.records.models import Record
from dangjian.tasks.models import TargetStatus, TaskTarget
from dangjian.web import reminders
from dangjian.web.models import Reminder

DAY = dt.date(2019, 6, 25)
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _item(world, org, title, deadline, status):
    values = {"issued_on": "2019-03-01", "source": "巡察反馈", "title": title, "deadline": deadline}
    record = services.save_record(
        None, world.ledger("rectification_task"), values, org=org, check_access=False
    )
    Record.objects.filter(pk=record.pk).update(status=status)
    return record


@pytest.fixture
def due(world):
    from dangjian.orgs.models import OrgKind
    from dangjian.tasks import collection

    made = {
        "soon": _item(world, world.c1, "档案整理甲", "2019-06-30", "待整改"),
        "overdue": _item(world, world.c1, "会议记录乙", "2019-06-01", "整改中"),
        "supervisor": _item(world, world.c1, "等待销号丙", "2019-06-20", "已整改"),
        "closed": _item(world, world.c1, "已经销号丁", "2019-06-20", "已销号"),
        "far": _item(world, world.c1, "远期事项戊", "2019-08-30", "待整改"),
        "sibling": _item(world, world.c2, "和平社区事项己", "2019-06-30", "待整改"),
    }
    task = collection.create_task(
        world.reviewer,
        title="2019年上半年组织生活填报",
        creator_org=world.s1,
        ledger_types=[world.ledger("organization_life")],
        period_start=dt.date(2019, 1, 1),
        period_end=dt.date(2019, 6, 30),
        scope_root=world.s1,
        kinds=OrgKind.objects.filter(code="community"),
        deadline=dt.date(2019, 6, 28),
    )
    TaskTarget.objects.filter(task=task, org=world.c2).update(status=TargetStatus.SUBMITTED)
    return made


def _client(user) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def test_a_digest_lists_exactly_what_the_unit_must_act_on(world, due):
    outcome = reminders.remind(DAY, 7)
    assert outcome.messages == 2 and outcome.units == {world.c1.pk, world.c2.pk}
    mine = Reminder.objects.get(recipient=world.clerk)
    assert mine.org == world.c1 and mine.day == DAY
    titles = [i["title"] for i in mine.items]
    assert titles == [
        "整改任务台账：会议记录乙",
        "填报任务：2019年上半年组织生活填报",
        "整改任务台账：档案整理甲",
    ]
    assert [i["days_left"] for i in mine.items] == [-24, 3, 5]  # soonest deadline first
    for absent in ("等待销号丙", "已经销号丁", "远期事项戊", "和平社区事项己"):
        assert absent not in mine.body
    assert "已逾期（1 项）" in mine.body and "7 天内到期（2 项）" in mine.body and "已逾期 24 天" in mine.body
    assert "1 项已逾期" in mine.subject
    # the sibling unit's clerk: its item, not its task (submitted), nothing of 幸福社区
    theirs = Reminder.objects.get(recipient=world.sibling)
    assert [i["title"].split("：")[-1] for i in theirs.items] == ["和平社区事项己"]
    # no one without a role at the unit itself (the district admin, the viewer, the reviewer) is written to
    assert Reminder.objects.count() == 2
    # fewer days: only what is overdue or due within them
    Reminder.objects.all().delete()
    reminders.remind(DAY, 2)
    assert [i["days_left"] for i in Reminder.objects.get(recipient=world.clerk).items] == [-24]


def test_running_twice_the_same_day_sends_nothing_new(world, due, settings):
    settings.EMAIL_HOST = "smtp.example.org"
    world.clerk.email = "clerk@example.org"
    world.clerk.save()
    first = reminders.remind(DAY, 7)
    second = reminders.remind(DAY, 7)
    assert (first.messages, second.messages, second.already) == (2, 0, 2)
    assert len(mail.outbox) == 1 and Reminder.objects.count() == 2
    next_day = reminders.remind(DAY + dt.timedelta(days=1), 7)
    assert next_day.messages == 2 and Reminder.objects.count() == 4


def test_email_is_sent_only_when_configured(world, due, settings):
    world.clerk.email = "clerk@example.org"
    world.clerk.save()
    settings.EMAIL_HOST = ""
    assert reminders.remind(DAY, 7).emails == 0 and mail.outbox == []
    assert not Reminder.objects.get(recipient=world.clerk).emailed
    settings.EMAIL_HOST = "smtp.example.org"
    outcome = reminders.remind(DAY + dt.timedelta(days=1), 7)
    assert outcome.emails == 1  # the sibling has no address: in-app only
    (message,) = mail.outbox
    assert message.to == ["clerk@example.org"] and "幸福社区" in message.subject
    assert "会议记录乙" in message.body and "和平社区事项己" not in message.body
    assert Reminder.objects.get(recipient=world.clerk, day=DAY + dt.timedelta(days=1)).emailed


def test_a_failing_email_is_logged_and_does_not_stop_the_others(world, due, settings, monkeypatch):
    settings.EMAIL_HOST = "smtp.example.org"
    for user, address in ((world.clerk, "bad@example.org"), (world.sibling, "good@example.org")):
        user.email = address
        user.save()
    real = reminders.send_mail

    def flaky(subject, body, sender, to):
        if to == ["bad@example.org"]:
            raise OSError("连接被拒绝")
        return real(subject, body, sender, to)

    monkeypatch.setattr(reminders, "send_mail", flaky)
    outcome = reminders.remind(DAY, 7)
    assert outcome.messages == 2 and outcome.emails == 1 and outcome.email_failures == ["clerk"]
    assert [m.to for m in mail.outbox] == [["good@example.org"]]
    event = AuditEvent.objects.get(action=Action.REMIND)
    assert event.detail["email_failures"] == ["clerk"] and event.detail["messages"] == 2
    assert {s["user"] for s in event.detail["sent"]} == {"clerk", "sibling"}


def test_messages_are_seen_and_marked_read_only_by_their_recipient(world, due):
    reminders.remind(DAY, 7)
    mine = Reminder.objects.get(recipient=world.clerk)
    clerk, sibling = _client(world.clerk), _client(world.sibling)
    home = clerk.get("/").content.decode()
    assert "未读提醒" in home and mine.subject in home
    page = clerk.get("/messages/").content.decode()
    assert "会议记录乙" in page and "和平社区事项己" not in page and "标为已读" in page
    assert f'href="/ledgers/rectification_task/{due["overdue"].pk}/"' in page and "已逾期 24 天" in page
    assert "/ledgers/tasks/" in page and "还有 5 天" in page
    other = sibling.get("/messages/").content.decode()
    assert "会议记录乙" not in other and "和平社区事项己" in other
    assert "会议记录乙" not in _client(world.unit_admin).get("/messages/").content.decode()
    # another's message cannot be marked read; GET changes nothing
    assert sibling.post(f"/messages/{mine.pk}/read/").status_code == 404
    assert clerk.get(f"/messages/{mine.pk}/read/").status_code == 405
    mine.refresh_from_db()
    assert mine.read_at is None
    assert clerk.post(f"/messages/{mine.pk}/read/").status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert "未读提醒" not in clerk.get("/").content.decode()
    assert "标为已读" not in clerk.get("/messages/").content.decode()


def test_the_command_prints_a_chinese_summary_and_logs_it(world, due, capsys):
    from dangjian.cli import cmd_remind

    args = SimpleNamespace(date="2019-06-25", days=7)
    assert cmd_remind(args) == 0  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert "2019年6月25日提醒（7 天内到期及已逾期）：2 个单位，新发站内消息 2 条，邮件 0 封" in out
    assert cmd_remind(args) == 0  # type: ignore[arg-type]
    assert "新发站内消息 0 条" in (again := capsys.readouterr().out) and "今日已发过 2 条" in again
    assert AuditEvent.objects.filter(action=Action.REMIND, target="2019-06-25").count() == 2
    assert cmd_remind(SimpleNamespace(date="2019-13-40", days=7)) == 2  # type: ignore[arg-type]
    assert "--date" in capsys.readouterr().err
    assert cmd_remind(SimpleNamespace(date=None, days=365)) == 2  # type: ignore[arg-type]
    assert "--days" in capsys.readouterr().err
    assert AuditEvent.objects.filter(action=Action.REMIND).count() == 2  # bad input changes nothing
