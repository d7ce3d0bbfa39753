"""Shared fixtures: the built-in packs and a small org tree with one user per role (Healthchecks style).

Tree:  区委 root (district)
       ├── 区纪委监委 jw (discipline)
       └── 城关街道 s1 (street)
           ├── 幸福社区 c1 (community)
           └── 和平社区 c2 (community)
Users: clerk (填报员 at c1), sibling (填报员 at c2), reviewer (审核员 at s1), viewer (查看者 at root),
       unit_admin (管理员 at root), jiwei (填报员 at jw, sees confidential ledgers), sysadmin (superuser, no role),
       outsider (no membership at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

PASSWORD = "Test#pass-2019"


@dataclass
class World:
    root: Any
    jw: Any
    s1: Any
    c1: Any
    c2: Any
    clerk: Any
    sibling: Any
    reviewer: Any
    viewer: Any
    unit_admin: Any
    jiwei: Any
    sysadmin: Any
    outsider: Any

    def ledger(self, code: str) -> Any:
        from dangjian.records.models import LedgerType

        return LedgerType.objects.get(code=code)


@pytest.fixture(autouse=True)
def _demo_checked_once_per_test(monkeypatch):
    """The demo warning looks at the database at most once a minute, process-wide: a test that counts queries would
    see that look whenever the minute since another test's happened to run out. Each test starts without it, and
    within a test it is done once, at the first page."""
    from dangjian.web import middleware

    middleware.forget_demo_state()
    monkeypatch.setattr(middleware, "_DEMO_CHECK_SECONDS", 10**9)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # The production hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _load_core_pack() -> dict:
    from dangjian.packs.loader import discover, load_pack

    return {p.name: load_pack(p) for p in discover() if p.name == "core"}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the core pack once into the test database; each test's transaction rolls back to this state."""
    with django_db_blocker.unblock():
        _load_core_pack()


@pytest.fixture
def packs(db):
    """The core pack (org kinds, general ledgers). Report packs are loaded by the tests that need them."""
    from dangjian.records.models import LedgerType

    if not LedgerType.objects.filter(pack="core").exists():  # a transactional test flushed the database
        return _load_core_pack()
    return {"core": {}}


@pytest.fixture
def world(packs) -> World:
    from django.contrib.auth import get_user_model

    from dangjian.orgs.models import Membership, Organization, OrgKind, Role

    kind = {k.code: k for k in OrgKind.objects.all()}

    def org(parent, code, name, short, kinds):
        node = (
            Organization.objects.add_root(dict(code=code, name=name, short_name=short))
            if parent is None
            else Organization.objects.add_child(parent, dict(code=code, name=name, short_name=short))
        )
        node.kinds.set([kind[k] for k in kinds])
        if parent is not None:
            parent.refresh_from_db()
        return node

    root = org(None, "root", "中共测试区委员会", "测试区", ["district"])
    jw = org(root, "jw", "中共测试区纪律检查委员会", "区纪委监委", ["discipline"])
    s1 = org(root, "s1", "中共测试区城关街道工作委员会", "城关街道", ["street"])
    c1 = org(s1, "c1", "中共城关街道幸福社区委员会", "幸福社区", ["community"])
    s1.refresh_from_db()
    c2 = org(s1, "c2", "中共城关街道和平社区委员会", "和平社区", ["community"])

    user_model = get_user_model()

    def user(username, role=None, at=None, **extra):
        u = user_model.objects.create_user(username=username, password=PASSWORD, first_name=username, **extra)
        if role:
            Membership.objects.create(user=u, org=at, role=role)
        return u

    return World(
        root=root,
        jw=jw,
        s1=s1,
        c1=c1,
        c2=c2,
        clerk=user("clerk", Role.CLERK, c1),
        sibling=user("sibling", Role.CLERK, c2),
        reviewer=user("reviewer", Role.REVIEWER, s1),
        viewer=user("viewer", Role.VIEWER, root),
        unit_admin=user("unit_admin", Role.ADMIN, root),
        jiwei=user("jiwei", Role.CLERK, jw),
        sysadmin=user("sysadmin", is_staff=True, is_superuser=True),
        outsider=user("outsider"),
    )


@dataclass
class Duties:
    """The three administrators (三员): world.sysadmin as 系统管理员, two 安全管理员 (a request needs a second one
    to approve it) and a 安全审计员."""

    system: Any
    security: Any
    security2: Any
    auditor: Any


@pytest.fixture
def duties(world) -> Duties:
    from django.contrib.auth import get_user_model

    from dangjian.orgs.models import AdminDuty, Duty

    def holder(user, duty):
        AdminDuty.objects.create(user=user, duty=duty)
        user.is_staff = duty != Duty.AUDITOR
        user.save(update_fields=["is_staff"])
        return user

    def new(username):
        return get_user_model().objects.create_user(username=username, password=PASSWORD, first_name=username)

    return Duties(
        system=holder(world.sysadmin, Duty.SYSTEM),
        security=holder(new("anquan"), Duty.SECURITY),
        security2=holder(new("anquan2"), Duty.SECURITY),
        auditor=holder(new("shenji"), Duty.AUDITOR),
    )


@pytest.fixture
def make_record(world):
    """Create a record through the one service every entry path uses."""
    from dangjian.records.services import save_record

    def make(ledger_code: str, org, values: dict, user=None):
        lt = world.ledger(ledger_code)
        return save_record(user, lt, values, org=org, check_access=False)

    return make
