"""三员分立 (finding 4): the system administrator gave himself a membership at 区纪委 in the admin (or unticked 涉密 on
the ledger type) and read every case; the only trace was the admin's own log.

Now the system administrator keeps accounts; memberships, the org tree and confidential settings are the security
administrator's; a membership at a confidential org, a change of confidential settings and a new password for a
confidential member take effect only when ANOTHER security administrator approves; nobody grants a role to
himself; the security auditor reads the audit log and nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from dangjian.audit.models import Action, AuditEvent
from dangjian.orgs import access
from dangjian.orgs.models import (
    AdminDuty,
    ChangeStatus,
    Duty,
    Membership,
    Organization,
    OrgKind,
    PendingChange,
    Role,
)
from dangjian.records.models import LedgerType, Record

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def confidential_form(
    lt: LedgerType, *, confidential: bool, kinds: list[Any] = (), orgs: list[Any] = ()
) -> dict:
    """The ledger type's change form as the security administrator posts it: the confidential settings, and the
    management form of the (read-only to him) fields inline."""
    count = lt.fields.count()
    data: dict[str, Any] = {
        "confidential_kinds": [str(k.pk) for k in kinds],
        "confidential_orgs": [str(o.pk) for o in orgs],
        "fields-TOTAL_FORMS": str(count),
        "fields-INITIAL_FORMS": str(count),
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "1000",
    }
    for i, pk in enumerate(lt.fields.values_list("pk", flat=True)):
        data[f"fields-{i}-id"] = str(pk)
        data[f"fields-{i}-ledger_type"] = str(lt.pk)
    if confidential:
        data["confidential"] = "on"
    return data


def _full_form(lt: LedgerType, **changes: Any) -> dict:
    """The whole change form as a superuser posts it (every definition field and every ledger field)."""
    data: dict[str, Any] = {
        "code": lt.code,
        "label": lt.label,
        "category": lt.category,
        "description": lt.description,
        "order": str(lt.order),
        "is_active": "on",
        "date_field": lt.date_field,
        "end_date_field": lt.end_date_field,
    }
    fields = list(lt.fields.all())
    data.update(
        {
            "fields-TOTAL_FORMS": str(len(fields)),
            "fields-INITIAL_FORMS": str(len(fields)),
            "fields-MIN_NUM_FORMS": "0",
            "fields-MAX_NUM_FORMS": "1000",
        }
    )
    for i, f in enumerate(fields):
        row = {
            "id": f.pk,
            "ledger_type": lt.pk,
            "order": f.order,
            "code": f.code,
            "label": f.label,
            "type": f.type,
            "choices": "、".join(f.choices or []),
            "min_value": "" if f.min_value is None else f.min_value,
            "max_value": "" if f.max_value is None else f.max_value,
            "unit": f.unit,
            "help_text": f.help_text,
        }
        for flag in ("required", "sensitive", "is_key", "is_archived"):
            if getattr(f, flag):
                row[flag] = "on"
        data.update({f"fields-{i}-{k}": str(v) for k, v in row.items()})
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def case_ledger(world, make_record) -> LedgerType:
    lt = world.ledger("discipline_case")
    make_record(
        "discipline_case",
        world.jw,
        {"filed_on": "2019-04-01", "case_no": "纪案〔2019〕1号", "person": "钱某某", "rank": "乡科级"},
    )
    assert lt.confidential and access.confidential_orgs(lt).filter(pk=world.jw.pk).exists()
    return lt


def _sees_cases(user: Any, lt: LedgerType) -> bool:
    user = get_user_model().objects.get(pk=user.pk)  # fresh: no cached memberships
    return access.records(user, lt, Record.objects.all()).exists()


def _pending() -> PendingChange:
    return PendingChange.objects.get(status=ChangeStatus.PENDING)


def _decide(user: Any, change: PendingChange, decision: str, reason: str = "") -> Any:
    return _client(user).post(
        reverse("admin:orgs_pendingchange_change", args=[change.pk]), {"decision": decision, "reason": reason}
    )


# --- the attack as reported ---------------------------------------------------------------------------------


def test_the_system_administrator_cannot_give_himself_a_membership_at_the_discipline_commission(
    world, duties, case_ledger
):
    admin = _client(duties.system)
    grant = {"user": str(duties.system.pk), "org": str(world.jw.pk), "role": Role.VIEWER}
    assert admin.post(reverse("admin:orgs_membership_add"), grant).status_code == 403
    inline = {
        "code": "jw",
        "name": world.jw.name,
        "short_name": world.jw.short_name,
        "is_active": "on",
        "sort_order": "0",
        "treebeard_position": "sorted-child",
        "treebeard_ref_node": str(world.root.pk),
        "kinds": [str(k.pk) for k in world.jw.kinds.all()],
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-user": str(duties.system.pk),
        "memberships-0-role": Role.VIEWER,
    }
    response = admin.post(reverse("admin:orgs_organization_change", args=[world.jw.pk]), inline)
    assert response.status_code == 403
    assert not Membership.objects.filter(user=duties.system).exists()
    assert not _sees_cases(duties.system, case_ledger)


def test_superuser_status_alone_manages_no_membership_and_no_account(world, case_ledger):
    # A superuser without any of the three duties (e.g. made by createsuperuser) gets none of their pages.
    admin = _client(world.sysadmin)
    for name in ("orgs_membership_add", "orgs_membership_changelist", "auth_user_add", "orgs_adminduty_add"):
        assert admin.get(reverse(f"admin:{name}")).status_code == 403, name
    grant = {"user": str(world.sysadmin.pk), "org": str(world.jw.pk), "role": Role.VIEWER}
    assert admin.post(reverse("admin:orgs_membership_add"), grant).status_code == 403
    assert not Membership.objects.filter(user=world.sysadmin).exists()


def test_the_system_administrator_cannot_untick_confidential(world, duties, case_ledger):
    admin = _client(duties.system)
    url = reverse("admin:ledgers_ledgertype_change", args=[case_ledger.pk])
    page = admin.get(url).content.decode()
    assert 'name="confidential"' not in page  # shown, not editable
    # Posting the whole form without 涉密 (and with no named kinds) changes the definition, never the setting.
    response = admin.post(url, _full_form(case_ledger, label="纪律审查案件台账（改）", confidential_kinds=[]))
    assert response.status_code == 302, response.content.decode()[:2000]
    lt = LedgerType.objects.get(pk=case_ledger.pk)
    assert lt.label == "纪律审查案件台账（改）"
    assert lt.confidential
    assert list(lt.confidential_kinds.values_list("code", flat=True)) == ["discipline"]
    assert not PendingChange.objects.exists()
    assert not _sees_cases(world.viewer, lt)


# --- memberships at confidential orgs need a second security administrator ------------------------------------


def test_a_membership_at_the_discipline_commission_waits_for_a_second_security_administrator(
    world, duties, case_ledger
):
    first, second = _client(duties.security), _client(duties.security2)
    grant = {"user": str(world.viewer.pk), "org": str(world.jw.pk), "role": Role.VIEWER}
    response = first.post(reverse("admin:orgs_membership_add"), grant)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:orgs_pendingchange_changelist")
    assert not Membership.objects.filter(user=world.viewer, org=world.jw).exists()
    assert not _sees_cases(world.viewer, case_ledger)
    change = _pending()
    assert change.requested_by == duties.security

    # He who asked cannot approve.
    response = _decide(duties.security, change, "approve")
    assert "不能审批自己提出的申请" in response.content.decode()
    assert _pending() == change
    assert not _sees_cases(world.viewer, case_ledger)

    response = second.post(
        reverse("admin:orgs_pendingchange_change", args=[change.pk]), {"decision": "approve"}
    )
    assert response.status_code == 302
    change.refresh_from_db()
    assert (change.status, change.decided_by) == (ChangeStatus.APPROVED, duties.security2)
    assert Membership.objects.filter(user=world.viewer, org=world.jw, role=Role.VIEWER).exists()
    assert _sees_cases(world.viewer, case_ledger)
    # Both steps are in the audit log, by the one who did them.
    steps = list(
        AuditEvent.objects.filter(action__in=[Action.MEMBERSHIP_CHANGE, Action.APPROVAL])
        .order_by("pk")
        .values_list("username", "action")
    )
    assert steps == [
        ("anquan", Action.MEMBERSHIP_CHANGE),
        ("anquan2", Action.APPROVAL),
        ("anquan2", Action.MEMBERSHIP_CHANGE),
    ]
    # Deciding twice is refused.
    response = _decide(duties.security2, change, "reject", "重复")
    change.refresh_from_db()
    assert change.status == ChangeStatus.APPROVED


def test_a_membership_through_the_org_page_waits_too(world, duties, case_ledger):
    data = {
        "code": "jw",
        "name": world.jw.name,
        "short_name": world.jw.short_name,
        "is_active": "on",
        "sort_order": "0",
        "treebeard_position": "sorted-child",
        "treebeard_ref_node": str(world.root.pk),
        "kinds": [str(k.pk) for k in world.jw.kinds.all()],
        "memberships-TOTAL_FORMS": "2",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    existing = Membership.objects.get(user=world.jiwei)
    data.update(
        {
            "memberships-0-id": str(existing.pk),
            "memberships-0-org": str(world.jw.pk),
            "memberships-0-user": str(world.jiwei.pk),
            "memberships-0-role": Role.CLERK,
            "memberships-1-org": str(world.jw.pk),
            "memberships-1-user": str(world.outsider.pk),
            "memberships-1-role": Role.CLERK,
        }
    )
    response = _client(duties.security).post(
        reverse("admin:orgs_organization_change", args=[world.jw.pk]), data
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Membership.objects.filter(user=world.outsider).exists()
    assert _pending().payload["user"] == world.outsider.pk


def test_a_membership_elsewhere_takes_effect_at_once_and_is_audited(world, duties):
    grant = {"user": str(world.outsider.pk), "org": str(world.c1.pk), "role": Role.VIEWER}
    response = _client(duties.security).post(reverse("admin:orgs_membership_add"), grant)
    assert response.status_code == 302
    assert Membership.objects.filter(user=world.outsider, org=world.c1).exists()
    assert not PendingChange.objects.exists()
    event = AuditEvent.objects.get(action=Action.MEMBERSHIP_CHANGE)
    assert event.username == "anquan" and "outsider" in event.target and event.detail["org"] == "c1"


def test_a_rejection_needs_a_reason_and_changes_nothing(world, duties, case_ledger):
    grant = {"user": str(world.viewer.pk), "org": str(world.jw.pk), "role": Role.VIEWER}
    _client(duties.security).post(reverse("admin:orgs_membership_add"), grant)
    change = _pending()
    response = _decide(duties.security2, change, "reject")
    assert "驳回须填写理由" in response.content.decode()
    assert _pending() == change
    response = _decide(duties.security2, change, "reject", "未见组织部任职文件")
    change.refresh_from_db()
    assert (change.status, change.reason) == (ChangeStatus.REJECTED, "未见组织部任职文件")
    assert not _sees_cases(world.viewer, case_ledger)
    event = AuditEvent.objects.get(action=Action.APPROVAL)
    assert event.detail["decision"] == "驳回" and event.detail["reason"] == "未见组织部任职文件"


def test_the_system_administrator_cannot_approve(world, duties, case_ledger):
    grant = {"user": str(world.viewer.pk), "org": str(world.jw.pk), "role": Role.VIEWER}
    _client(duties.security).post(reverse("admin:orgs_membership_add"), grant)
    change = _pending()
    assert _decide(duties.system, change, "approve").status_code == 403
    assert _decide(world.sysadmin, change, "approve").status_code == 403
    assert _pending() == change


# --- nobody grants a role to himself ------------------------------------------------------------------------


def test_nobody_grants_himself_a_role(world, duties):
    client = _client(duties.security)
    grant = {"user": str(duties.security.pk), "org": str(world.c1.pk), "role": Role.VIEWER}
    response = client.post(reverse("admin:orgs_membership_add"), grant)
    assert "不能给自己授予角色" in response.content.decode()
    assert not Membership.objects.filter(user=duties.security).exists()
    # Nor a duty: his own row is read-only and he cannot add one for himself.
    response = client.post(
        reverse("admin:orgs_adminduty_add"), {"user": str(duties.security.pk), "duty": Duty.SYSTEM}
    )
    assert response.status_code == 200
    assert AdminDuty.objects.get(user=duties.security).duty == Duty.SECURITY
    own = AdminDuty.objects.get(user=duties.security)
    assert (
        client.post(reverse("admin:orgs_adminduty_change", args=[own.pk]), {"duty": Duty.AUDITOR}).status_code
        == 403
    )
    assert (
        client.post(reverse("admin:orgs_adminduty_delete", args=[own.pk]), {"post": "yes"}).status_code == 403
    )
    assert AdminDuty.objects.get(user=duties.security).duty == Duty.SECURITY


def test_one_account_holds_one_duty_and_no_membership(world, duties):
    client = _client(duties.security)
    response = client.post(
        reverse("admin:orgs_adminduty_add"), {"user": str(duties.auditor.pk), "duty": Duty.SYSTEM}
    )
    assert "一个账号只能担任三员中的一种" in response.content.decode()
    with pytest.raises(IntegrityError), transaction.atomic():
        AdminDuty.objects.create(user=duties.security2, duty=Duty.AUDITOR)
    # An administrator holds no membership, and a member gets no duty.
    grant = {"user": str(duties.auditor.pk), "org": str(world.c1.pk), "role": Role.VIEWER}
    assert (
        "三员账号不能兼任单位角色"
        in client.post(reverse("admin:orgs_membership_add"), grant).content.decode()
    )
    response = client.post(
        reverse("admin:orgs_adminduty_add"), {"user": str(world.clerk.pk), "duty": Duty.AUDITOR}
    )
    assert "三员账号不能兼任单位角色" in response.content.decode()
    assert not Membership.objects.filter(user=duties.auditor).exists()
    assert not AdminDuty.objects.filter(user=world.clerk).exists()


def test_a_security_administrator_grants_a_duty_and_it_is_audited(world, duties):
    response = _client(duties.security).post(
        reverse("admin:orgs_adminduty_add"), {"user": str(world.outsider.pk), "duty": Duty.AUDITOR}
    )
    assert response.status_code == 302
    outsider = get_user_model().objects.get(pk=world.outsider.pk)
    assert outsider.admin_duty.duty == Duty.AUDITOR and not outsider.is_staff
    event = AuditEvent.objects.get(action=Action.ROLE_CHANGE)
    assert (event.username, event.detail["after"]) == ("anquan", "安全审计员")


# --- confidential settings ----------------------------------------------------------------------------------


def test_unticking_confidential_waits_for_a_second_security_administrator(world, duties, case_ledger):
    url = reverse("admin:ledgers_ledgertype_change", args=[case_ledger.pk])
    response = _client(duties.security).post(url, confidential_form(case_ledger, confidential=False))
    assert response.status_code == 302, response.content.decode()[:2000]
    lt = LedgerType.objects.get(pk=case_ledger.pk)
    assert lt.confidential and lt.confidential_kinds.exists()
    assert not _sees_cases(world.viewer, lt)
    change = _pending()
    assert "不涉密" in change.summary
    assert "不能审批自己提出的申请" in _decide(duties.security, change, "approve").content.decode()
    assert LedgerType.objects.get(pk=case_ledger.pk).confidential

    assert _decide(duties.security2, change, "approve").status_code == 302
    lt = LedgerType.objects.get(pk=case_ledger.pk)
    assert not lt.confidential and not lt.confidential_kinds.exists()
    actions = list(AuditEvent.objects.order_by("pk").values_list("username", "action"))
    assert ("anquan", Action.CONFIDENTIAL_SETTING) in actions
    assert actions[-2:] == [("anquan2", Action.APPROVAL), ("anquan2", Action.CONFIDENTIAL_SETTING)]


def test_the_security_administrator_changes_nothing_else_of_a_ledger_type(world, duties, case_ledger):
    client = _client(duties.security)
    url = reverse("admin:ledgers_ledgertype_change", args=[case_ledger.pk])
    client.post(url, {**confidential_form(case_ledger, confidential=True, orgs=[world.jw]), "label": "改名"})
    assert LedgerType.objects.get(pk=case_ledger.pk).label == case_ledger.label
    assert client.get(reverse("admin:ledgers_ledgertype_add")).status_code == 403
    assert not _sees_cases(duties.security, case_ledger)


def test_moving_a_unit_under_the_discipline_commission_is_refused(world, duties, case_ledger):
    # Every member of 城关街道 would see the cases without anybody approving it.
    client = _client(duties.security)
    data = {
        "code": "s1",
        "name": world.s1.name,
        "short_name": world.s1.short_name,
        "is_active": "on",
        "sort_order": "0",
        "treebeard_position": "sorted-child",
        "treebeard_ref_node": str(world.jw.pk),
        "kinds": [str(k.pk) for k in world.s1.kinds.all()],
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    response = client.post(reverse("admin:orgs_organization_change", args=[world.s1.pk]), data)
    assert "可以查看涉密台账明细" in response.content.decode()
    # Nor by giving it the kind that the ledger names, nor by drag and drop.
    discipline = OrgKind.objects.get(code="discipline")
    data.update(treebeard_ref_node=str(world.root.pk), kinds=[str(discipline.pk)])
    response = client.post(reverse("admin:orgs_organization_change", args=[world.s1.pk]), data)
    assert "可以查看涉密台账明细" in response.content.decode()
    response = client.post(
        reverse("admin:orgs_organization_changelist") + "move/",
        {"node": str(world.s1.pk), "target": str(world.jw.pk), "relation": "child"},
    )
    assert response.status_code == 400
    s1 = Organization.objects.get(pk=world.s1.pk)
    assert (
        Organization.objects.get_parent(s1) == world.root and not s1.kinds.filter(code="discipline").exists()
    )
    assert not _sees_cases(world.reviewer, case_ledger)


# --- accounts -----------------------------------------------------------------------------------------------


def test_a_new_password_for_a_confidential_member_waits_for_approval(world, duties, case_ledger):
    from tests.conftest import PASSWORD

    url = reverse("admin:auth_user_password_change", args=[world.jiwei.pk])
    new = {"password1": "Xin#mima-2019", "password2": "Xin#mima-2019", "usable_password": "true"}
    response = _client(duties.system).post(url, new)
    assert response.status_code == 302
    jiwei = get_user_model().objects.get(pk=world.jiwei.pk)
    assert jiwei.check_password(PASSWORD) and not jiwei.check_password("Xin#mima-2019")
    change = _pending()
    assert _decide(duties.security, change, "approve").status_code == 302
    jiwei.refresh_from_db()
    assert jiwei.check_password("Xin#mima-2019")
    change.refresh_from_db()
    assert change.payload["password"] == ""  # the hash is not kept once decided


def test_a_password_elsewhere_is_reset_at_once_and_audited(world, duties):
    url = reverse("admin:auth_user_password_change", args=[world.clerk.pk])
    new = {"password1": "Xin#mima-2019", "password2": "Xin#mima-2019", "usable_password": "true"}
    assert _client(duties.system).post(url, new).status_code == 302
    assert get_user_model().objects.get(pk=world.clerk.pk).check_password("Xin#mima-2019")
    event = AuditEvent.objects.get(action=Action.ACCOUNT_CHANGE)
    assert event.detail["change"] == "重置密码" and event.username == "sysadmin"


def test_accounts_are_the_system_administrators(world, duties):
    admin = _client(duties.system)
    response = admin.post(
        reverse("admin:auth_user_add"),
        {"username": "xinren", "first_name": "新人", "usable_password": "true",
         "password1": "Xin#mima-2019", "password2": "Xin#mima-2019"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    user = get_user_model().objects.get(username="xinren")
    assert not user.is_staff and not user.is_superuser
    response = admin.post(
        reverse("admin:auth_user_changelist"), {"action": "deactivate", "_selected_action": [str(user.pk)]}
    )
    assert response.status_code == 302
    assert not get_user_model().objects.get(pk=user.pk).is_active
    changes = list(
        AuditEvent.objects.filter(action=Action.ACCOUNT_CHANGE).values_list("detail__change", flat=True)
    )
    assert sorted(changes) == ["停用账号", "新建账号"]
    # The security administrator may look (to pick accounts), not add or change.
    security = _client(duties.security)
    assert security.get(reverse("admin:auth_user_changelist")).status_code == 200
    assert security.get(reverse("admin:auth_user_add")).status_code == 403
    # Nobody changes an administrator's account in the web, nor deletes an account.
    for target in (duties.security, duties.auditor, duties.system):
        url = reverse("admin:auth_user_password_change", args=[target.pk])
        assert admin.post(url, {"password1": "X#1234567a", "password2": "X#1234567a"}).status_code == 403
    assert (
        admin.post(reverse("admin:auth_user_delete", args=[world.clerk.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert get_user_model().objects.filter(pk=world.clerk.pk).exists()


# --- the auditor's page -------------------------------------------------------------------------------------


def test_only_the_auditor_reads_the_audit_log(world, duties, client):
    from dangjian.audit.log import record

    record(Action.EXPORT, user=world.clerk, target="台账 study_activity", rows=3)
    auditor = _client(duties.auditor)
    response = auditor.get(reverse("audit:events"))
    assert response.status_code == 200
    assert "台账 study_activity" in response.content.decode()
    response = auditor.get(reverse("audit:export"))
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    for user in (
        duties.system,
        duties.security,
        world.sysadmin,
        world.unit_admin,
        world.jiwei,
        world.viewer,
        world.clerk,
    ):
        other = _client(user)
        assert other.get(reverse("audit:events")).status_code == 403, user
        assert other.get(reverse("audit:export")).status_code == 403, user
    response = client.get(reverse("audit:events"))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_auditor_sees_nothing_else(world, duties, case_ledger):
    auditor = _client(duties.auditor)
    response = auditor.get(reverse("admin:index"))
    assert response.status_code == 302 and "/login" in response["Location"]
    # Even with staff status (set on the server by mistake) the admin stays closed to him.
    get_user_model().objects.filter(pk=duties.auditor.pk).update(is_staff=True, is_superuser=True)
    assert auditor.get(reverse("admin:index")).status_code == 302
    assert auditor.get(reverse("admin:orgs_membership_changelist")).status_code == 302
    assert not _sees_cases(duties.auditor, case_ledger)
    response = auditor.get(reverse("ledgers:records", args=[case_ledger.code]))
    assert response.status_code in (403, 404)
    home = auditor.get(reverse("home")).content.decode()
    assert "安全审计员" in home and reverse("audit:events") in home
