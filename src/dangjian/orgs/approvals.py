"""Changes that need a second administrator (双人审批), and the audited paths for memberships.

Granting a membership at a confidential org (one named by a confidential ledger type, directly or by kind, or
below it), changing a ledger type's confidential settings, and resetting the password of an account that holds
such a membership open access to confidential rows. None of them takes effect on one administrator's word: each
is stored as a PendingChange and applied only when ANOTHER 安全管理员 approves it. Nobody grants a role to
himself, asks for it or approves it. Every step is written to the audit log.

Ledger types live right of this stage: they are read through the `confidential_ledgers` relations and, to apply an
approved change, through the app registry (duck typing, as in access.py).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from dangjian.audit.log import Action, record

from . import access
from .duties import is_security_admin
from .models import (
    AdminDuty,
    ChangeKind,
    ChangeStatus,
    Duty,
    Membership,
    Organization,
    OrgKind,
    PendingChange,
    Role,
)


class ApprovalRefused(Exception):
    """A request, approval or rejection that the rules refuse; the message is for the user (Chinese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def account_label(user: Any) -> str:
    name = user.get_full_name()
    return f"{user.get_username()}（{name}）" if name else user.get_username()


# --- which orgs are confidential ----------------------------------------------------------------------------


def _named_paths(exclude_under: str | None = None) -> set[str]:
    """Paths of the orgs named by a confidential ledger type, directly or by kind."""
    named = Organization.objects.filter(
        Q(confidential_ledgers__confidential=True) | Q(kinds__confidential_ledgers__confidential=True)
    )
    if exclude_under:
        named = named.exclude(path__startswith=exclude_under)
    return set(named.values_list("path", flat=True))


def confidential_paths() -> list[str]:
    """Subtrees whose members see confidential rows (access.may_see_rows: a membership at a named org or below)."""
    return sorted(_named_paths())


def is_confidential_org(org: Organization, paths: list[str] | None = None) -> bool:
    return any(org.path.startswith(p) for p in (confidential_paths() if paths is None else paths))


def exposed_by_move(
    org: Organization, new_parent: Organization | None, kinds: list[OrgKind] | QuerySet[OrgKind] | None
) -> QuerySet[Membership]:
    """Memberships that would start seeing confidential rows if `org` moved under `new_parent` with `kinds`.

    Moving an org under 区纪委 (or giving it a kind a confidential ledger names) turns every membership in its
    subtree into a confidential one without anybody approving it; the admin refuses such a change while the subtree
    holds memberships that were not confidential before.
    """
    if org.pk is None:
        return Membership.objects.none()
    before = _named_paths()
    if any(org.path.startswith(p) for p in before):
        return Membership.objects.none()
    outside = _named_paths(exclude_under=org.path)  # named orgs that do not move with the subtree
    named_itself = org.confidential_ledgers.filter(confidential=True).exists()
    kind_ids = [k.pk for k in (kinds if kinds is not None else org.kinds.all())]
    named_by_kind = OrgKind.objects.filter(pk__in=kind_ids, confidential_ledgers__confidential=True).exists()
    under_named = new_parent is not None and any(new_parent.path.startswith(p) for p in outside)
    if not (named_itself or named_by_kind or under_named):
        return Membership.objects.none()
    inside = [p for p in before if p.startswith(org.path)]  # descendants that were confidential already
    exposed = Membership.objects.filter(org__path__startswith=org.path)
    for path in inside:
        exposed = exposed.exclude(org__path__startswith=path)
    return exposed.select_related("user", "org")


def exposure_message(org: Organization, exposed: QuerySet[Membership]) -> str:
    names = [f"{account_label(m.user)}（{m.org.display_name}·{m.get_role_display()}）" for m in exposed[:5]]
    more = "等" if exposed.count() > 5 else ""
    return (
        f"此变更会使“{org.name}”及其下级组织可以查看涉密台账明细，其中已有成员角色 {'、'.join(names)}{more}"
        "未经审批即可查看涉密明细。请先删除这些成员角色，调整组织后再按审批流程重新授予。"
    )


# --- memberships --------------------------------------------------------------------------------------------


def check_grantee(by: Any, user: Any) -> None:
    """Nobody grants himself a role; an administrator (三员) holds no membership."""
    if by is not None and user.pk == by.pk:
        raise ApprovalRefused("不能给自己授予角色，请由另一名安全管理员办理。")
    duty = AdminDuty.objects.filter(user=user).first()
    if duty is not None:
        raise ApprovalRefused(
            f"账号“{account_label(user)}”担任{duty.get_duty_display()}，三员账号不能兼任单位角色。"
        )


def _membership_detail(user: Any, org: Organization, role: str) -> dict[str, Any]:
    return {"account": user.get_username(), "org": org.code, "role": Role(role).label}


def _membership_target(user: Any, org: Organization, role: str) -> str:
    return f"{account_label(user)} · {org.name} · {Role(role).label}"


def save_membership(
    by: Any, membership: Membership, *, old: Membership | None = None, request: Any = None
) -> PendingChange | None:
    """Save a new or changed membership from the admin: at a confidential org it becomes a request instead.

    `old` is the stored row for a change (None for a new one). Returns the request when one was made.
    """
    user, org, role = membership.user, membership.org, membership.role
    if old is not None and (old.user_id, old.org_id, old.role) == (user.pk, org.pk, role):
        return None
    check_grantee(by, user)
    if is_confidential_org(org):
        return request_membership(by, user, org, role, replaces=old, request=request)
    membership.save()
    access.forget(user)
    detail = _membership_detail(user, org, role)
    if old is not None:
        detail["before"] = f"{old.org.code} · {old.get_role_display()}"
    record(
        Action.MEMBERSHIP_CHANGE,
        request=request,
        user=by,
        target=_membership_target(user, org, role),
        change="修改" if old is not None else "授予",
        **detail,
    )
    return None


def delete_membership(by: Any, membership: Membership, *, request: Any = None, why: str = "删除") -> None:
    """Taking a role away needs no approval (it opens nothing), but it is audited."""
    target = _membership_target(membership.user, membership.org, membership.role)
    detail = _membership_detail(membership.user, membership.org, membership.role)
    if membership.pk is not None:
        membership.delete()
    access.forget(membership.user)
    record(Action.MEMBERSHIP_CHANGE, request=request, user=by, target=target, change=why, **detail)


def request_membership(
    by: Any,
    user: Any,
    org: Organization,
    role: str,
    *,
    replaces: Membership | None = None,
    request: Any = None,
) -> PendingChange:
    check_grantee(by, user)
    if Membership.objects.filter(user=user, org=org, role=role).exists():
        raise ApprovalRefused(f"账号“{account_label(user)}”已在“{org.name}”担任{Role(role).label}。")
    payload = {"user": user.pk, "org": org.pk, "role": role, "replaces": replaces.pk if replaces else None}
    duplicate = PendingChange.objects.filter(
        kind=ChangeKind.MEMBERSHIP, status=ChangeStatus.PENDING, payload__user=user.pk, payload__org=org.pk
    ).filter(payload__role=role)
    if duplicate.exists():
        raise ApprovalRefused(
            f"已有相同的待审批申请（{_membership_target(user, org, role)}），请勿重复提交。"
        )
    summary = _membership_target(user, org, role)
    if replaces is not None:
        summary += f"（替换原角色：{replaces.org.name} · {replaces.get_role_display()}）"
    change = PendingChange.objects.create(
        kind=ChangeKind.MEMBERSHIP, summary=summary[:300], payload=payload, requested_by=by
    )
    record(
        Action.MEMBERSHIP_CHANGE,
        request=request,
        user=by,
        target=summary,
        change="申请授予（涉密单位，待审批）",
        request_id=change.pk,
        **_membership_detail(user, org, role),
    )
    return change


def _apply_membership(change: PendingChange, by: Any) -> tuple[str, str, dict[str, Any]]:
    data = change.payload
    user = get_user_model().objects.filter(pk=data.get("user")).first()
    org = Organization.objects.filter(pk=data.get("org")).first()
    if user is None or org is None:
        raise ApprovalRefused("申请中的账号或组织已不存在，请驳回此申请。")
    if not user.is_active:
        raise ApprovalRefused(f"账号“{account_label(user)}”已停用，请驳回此申请。")
    if user.pk == by.pk:
        raise ApprovalRefused("不能审批授予自己的角色。")
    check_grantee(None, user)
    role = data["role"]
    if data.get("replaces"):
        Membership.objects.filter(pk=data["replaces"], user=user).delete()
    Membership.objects.get_or_create(user=user, org=org, role=role)
    access.forget(user)
    return (
        Action.MEMBERSHIP_CHANGE,
        _membership_target(user, org, role),
        {"change": "授予（已批准生效）", **_membership_detail(user, org, role)},
    )


# --- confidential settings of ledger types ------------------------------------------------------------------


def confidential_state(ledger_type: Any) -> dict[str, Any]:
    return {
        "confidential": bool(ledger_type.confidential),
        "kinds": sorted(ledger_type.confidential_kinds.values_list("pk", flat=True)),
        "orgs": sorted(ledger_type.confidential_orgs.values_list("pk", flat=True)),
    }


def describe_state(state: dict[str, Any]) -> str:
    if not state["confidential"] and not state["kinds"] and not state["orgs"]:
        return "不涉密"
    kinds = "、".join(OrgKind.objects.filter(pk__in=state["kinds"]).values_list("label", flat=True))
    orgs = "、".join(Organization.objects.filter(pk__in=state["orgs"]).values_list("name", flat=True))
    parts = [p for p in (f"组织类别：{kinds}" if kinds else "", f"组织：{orgs}" if orgs else "") if p]
    return ("涉密" if state["confidential"] else "不涉密") + (f"（{'；'.join(parts)}）" if parts else "")


def _check_state(state: dict[str, Any]) -> None:
    named = bool(state["kinds"] or state["orgs"])
    if state["confidential"] and not named:
        raise ApprovalRefused("涉密台账须指定可见明细的组织或组织类别。")
    if not state["confidential"] and named:
        raise ApprovalRefused("已指定可见明细的组织（类别），请勾选“涉密”，或清空这些指定。")


def check_no_pending_confidential(ledger_type: Any) -> None:
    duplicate = PendingChange.objects.filter(
        kind=ChangeKind.CONFIDENTIAL, status=ChangeStatus.PENDING, payload__ledger_type=ledger_type.pk
    )
    if duplicate.exists():
        raise ApprovalRefused(f"台账“{ledger_type.label}”已有待审批的涉密设置变更，请先审批或驳回该申请。")


def request_confidential(
    by: Any,
    ledger_type: Any,
    *,
    confidential: bool,
    kinds: Any,
    orgs: Any,
    request: Any = None,
) -> PendingChange | None:
    """Ask for new confidential settings of a ledger type; None when they are the same as now."""
    before = confidential_state(ledger_type)
    after = {
        "confidential": bool(confidential),
        "kinds": sorted(k.pk for k in kinds),
        "orgs": sorted(o.pk for o in orgs),
    }
    if before == after:
        return None
    _check_state(after)
    check_no_pending_confidential(ledger_type)
    summary = f"台账“{ledger_type.label}”：{describe_state(before)} → {describe_state(after)}"
    change = PendingChange.objects.create(
        kind=ChangeKind.CONFIDENTIAL,
        summary=summary[:300],
        payload={"ledger_type": ledger_type.pk, "before": before, "after": after},
        requested_by=by,
    )
    record(
        Action.CONFIDENTIAL_SETTING,
        request=request,
        user=by,
        target=summary,
        change="申请变更（待审批）",
        request_id=change.pk,
        ledger=ledger_type.code,
    )
    return change


def _apply_confidential(change: PendingChange, by: Any) -> tuple[str, str, dict[str, Any]]:
    ledger_model = apps.get_model("ledgers", "LedgerType")
    data = change.payload
    ledger_type = ledger_model.objects.select_for_update().filter(pk=data.get("ledger_type")).first()
    if ledger_type is None:
        raise ApprovalRefused("申请中的台账已不存在，请驳回此申请。")
    if confidential_state(ledger_type) != data["before"]:
        raise ApprovalRefused(
            f"申请提交后，台账“{ledger_type.label}”的涉密设置已被修改，请驳回此申请后按现状重新申请。"
        )
    after = data["after"]
    _check_state(after)
    ledger_type.confidential = after["confidential"]
    ledger_type.save(update_fields=["confidential"])
    ledger_type.confidential_kinds.set(OrgKind.objects.filter(pk__in=after["kinds"]))
    ledger_type.confidential_orgs.set(Organization.objects.filter(pk__in=after["orgs"]))
    return (
        Action.CONFIDENTIAL_SETTING,
        change.summary,
        {"change": "变更（已批准生效）", "ledger": ledger_type.code},
    )


# --- passwords of confidential members ----------------------------------------------------------------------


def holds_confidential_membership(user: Any) -> bool:
    paths = confidential_paths()
    return any(
        any(path.startswith(p) for p in paths)
        for path in Membership.objects.filter(user=user).values_list("org__path", flat=True)
    )


def request_password(by: Any, user: Any, password_hash: str, *, request: Any = None) -> PendingChange:
    """A system administrator who resets the password of a confidential member could log in as him: the new
    password takes effect only when a 安全管理员 approves. Only the hash is kept, and dropped once decided."""
    if user.pk == by.pk:
        raise ApprovalRefused("不能在此重置自己的密码，请使用“修改密码”。")
    summary = f"重置账号“{account_label(user)}”的密码（该账号在涉密单位任职）"
    change = PendingChange.objects.create(
        kind=ChangeKind.PASSWORD,
        summary=summary[:300],
        payload={"user": user.pk, "password": password_hash},
        requested_by=by,
    )
    record(
        Action.ACCOUNT_CHANGE,
        request=request,
        user=by,
        target=account_label(user),
        change="申请重置密码（涉密单位成员，待审批）",
        request_id=change.pk,
    )
    return change


def _apply_password(change: PendingChange, by: Any) -> tuple[str, str, dict[str, Any]]:
    user = get_user_model().objects.filter(pk=change.payload.get("user")).first()
    if user is None:
        raise ApprovalRefused("申请中的账号已不存在，请驳回此申请。")
    if user.pk == by.pk:
        raise ApprovalRefused("不能审批重置自己密码的申请。")
    user.password = change.payload["password"]
    user.save(update_fields=["password"])
    return Action.ACCOUNT_CHANGE, account_label(user), {"change": "重置密码（已批准生效）"}


# --- deciding -----------------------------------------------------------------------------------------------

_APPLY = {
    ChangeKind.MEMBERSHIP: _apply_membership,
    ChangeKind.CONFIDENTIAL: _apply_confidential,
    ChangeKind.PASSWORD: _apply_password,
}


def _check_decider(change: PendingChange, by: Any) -> None:
    if not is_security_admin(by):
        raise ApprovalRefused("只有安全管理员可以审批。")
    if change.requested_by_id == by.pk:
        raise ApprovalRefused("不能审批自己提出的申请，请由另一名安全管理员审批。")


def _locked(change: PendingChange) -> PendingChange:
    current = PendingChange.objects.select_for_update().get(pk=change.pk)
    if current.status != ChangeStatus.PENDING:
        raise ApprovalRefused(f"该申请已{current.get_status_display()}，不能再次审批。")
    return current


def _forget_secret(change: PendingChange) -> None:
    if change.kind == ChangeKind.PASSWORD:
        change.payload = {**change.payload, "password": ""}


@transaction.atomic
def approve(change: PendingChange, by: Any, *, request: Any = None) -> PendingChange:
    _check_decider(change, by)
    current = _locked(change)
    action, target, detail = _APPLY[ChangeKind(current.kind)](current, by)
    _decide(current, by, ChangeStatus.APPROVED, "批准", request=request)
    record(action, request=request, user=by, target=target, request_id=current.pk, **detail)
    return current


@transaction.atomic
def reject(change: PendingChange, by: Any, reason: str, *, request: Any = None) -> PendingChange:
    reason = (reason or "").strip()
    if not reason:
        raise ApprovalRefused("驳回须填写理由。")
    _check_decider(change, by)
    current = _locked(change)
    current.reason = reason
    _decide(current, by, ChangeStatus.REJECTED, "驳回", request=request, reason=reason)
    return current


def _decide(
    current: PendingChange, by: Any, status: str, decision: str, *, request: Any, **extra: Any
) -> None:
    """Close the request (who, when, the secret wiped) and log the decision; shared by approve and reject."""
    current.status = status
    current.decided_by = by
    current.decided_at = timezone.now()
    _forget_secret(current)
    current.save()
    record(
        Action.APPROVAL,
        request=request,
        user=by,
        target=current.summary,
        decision=decision,
        **extra,
        request_id=current.pk,
        kind=current.get_kind_display(),
        requested_by=current.requested_by.get_username() if current.requested_by else "",
    )


# --- the three duties ---------------------------------------------------------------------------------------


def set_duty(by: Any, user: Any, duty: str | None, *, request: Any = None, source: str = "") -> None:
    """Grant (or with None take away) an administrator duty; `by` is None from the command line.

    Admin access follows the duty: system and security administrators are staff, the auditor is not (he reads
    the audit log only). A security or audit duty drops superuser status, whose permissions would cut across duties.
    """
    if by is not None and not is_security_admin(by):
        raise ApprovalRefused("只有安全管理员可以授予或撤销三员角色。")
    if by is not None and user.pk == by.pk:
        raise ApprovalRefused("不能给自己授予或撤销三员角色，请由另一名安全管理员办理。")
    if duty is not None and Membership.objects.filter(user=user).exists():
        raise ApprovalRefused(
            f"账号“{account_label(user)}”已有单位角色，三员账号不能兼任单位角色；请先删除其单位角色。"
        )
    before = AdminDuty.objects.filter(user=user).values_list("duty", flat=True).first()
    if duty is None:
        AdminDuty.objects.filter(user=user).delete()
        user.is_staff = False
    else:
        AdminDuty.objects.update_or_create(
            user=user, defaults={"duty": duty, "granted_by": by, "granted_at": timezone.now()}
        )
        user.is_staff = duty in (Duty.SYSTEM, Duty.SECURITY)
        if duty != Duty.SYSTEM:
            user.is_superuser = False
    user.save(update_fields=["is_staff", "is_superuser"])
    user.refresh_from_db()  # drops the cached duty
    record(
        Action.ROLE_CHANGE,
        request=request,
        user=by,
        username=source,
        target=account_label(user),
        before=Duty(before).label if before else "无",
        after=Duty(duty).label if duty else "无",
    )
