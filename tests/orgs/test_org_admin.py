"""Admin pages for the organisation tree: add, move, rename, deactivate; never delete an org with records.

The tree and its memberships are the security administrator's (三员分立); the system administrator only looks.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from dangjian.orgs.models import Membership, Organization, OrgKind, Role
from dangjian.records.models import Record


@pytest.fixture
def admin_client(client, duties):
    client.force_login(duties.security)
    return client


def _form(org: Organization | None = None, **changes) -> dict:
    data = {
        "code": "",
        "name": "",
        "short_name": "",
        "is_active": "on",
        "sort_order": "0",
        "treebeard_position": "sorted-child",
        "treebeard_ref_node": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    if org is not None:
        parent = Organization.objects.get_parent(org)
        data.update(
            code=org.code,
            name=org.name,
            short_name=org.short_name,
            sort_order=str(org.sort_order),
            treebeard_ref_node=str(parent.pk) if parent else "",
            kinds=[str(k.pk) for k in org.kinds.all()],
        )
        if not org.is_active:
            del data["is_active"]
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_tree_and_its_pages_load(admin_client, world):
    for name in ("orgs_organization_changelist", "orgs_organization_add", "orgs_orgkind_changelist"):
        response = admin_client.get(reverse(f"admin:{name}"))
        assert response.status_code == 200, name
    response = admin_client.get(reverse("admin:orgs_membership_changelist"))
    assert response.status_code == 200
    assert "clerk" in response.content.decode()
    response = admin_client.get(reverse("admin:orgs_organization_change", args=[world.c1.pk]))
    assert response.status_code == 200
    assert "幸福社区" in response.content.decode()


def test_it_adds_an_org_under_a_parent(admin_client, world):
    street = OrgKind.objects.get(code="street")
    data = _form(
        code="s2", name="中共测试区东关街道工作委员会", short_name="东关街道", kinds=[str(street.pk)]
    )
    data["treebeard_ref_node"] = str(world.root.pk)
    response = admin_client.post(reverse("admin:orgs_organization_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    s2 = Organization.objects.get(code="s2")
    assert Organization.objects.get_parent(s2) == world.root
    assert list(s2.kinds.all()) == [street]
    assert s2.is_within(world.root)


def test_it_renames_an_org_without_moving_it(admin_client, world):
    path = world.c1.path
    response = admin_client.post(
        reverse("admin:orgs_organization_change", args=[world.c1.pk]),
        _form(world.c1, name="中共城关街道幸福里社区委员会", short_name="幸福里社区"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    c1 = Organization.objects.get(pk=world.c1.pk)
    assert (c1.name, c1.short_name, c1.path) == ("中共城关街道幸福里社区委员会", "幸福里社区", path)


def test_it_moves_an_org_with_its_subtree_and_records(admin_client, world, make_record):
    record = make_record(
        "study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "学习"}
    )
    # Under another unit that is not confidential: moving under 区纪委 is refused (tests/security/test_duties.py).
    s2 = Organization.objects.add_child(world.root, dict(code="s2", name="中共测试区东关街道工作委员会"))
    response = admin_client.post(
        reverse("admin:orgs_organization_change", args=[world.s1.pk]),
        _form(world.s1, treebeard_ref_node=str(s2.pk)),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    s1 = Organization.objects.get(pk=world.s1.pk)
    c1 = Organization.objects.get(pk=world.c1.pk)
    assert Organization.objects.get_parent(s1).code == "s2"
    assert c1.is_within(s1)
    record.refresh_from_db()
    assert record.org_id == c1.pk


def test_it_deactivates_orgs(admin_client, world):
    response = admin_client.post(
        reverse("admin:orgs_organization_changelist"),
        {"action": "deactivate", "_selected_action": [str(world.c2.pk)]},
    )
    assert response.status_code == 302
    assert not Organization.objects.get(pk=world.c2.pk).is_active
    assert Organization.objects.get(pk=world.c1.pk).is_active


def test_deactivating_a_street_deactivates_its_communities(admin_client, world):
    admin_client.post(
        reverse("admin:orgs_organization_changelist"),
        {"action": "deactivate", "_selected_action": [str(world.s1.pk)]},
    )
    inactive = set(Organization.objects.filter(is_active=False).values_list("code", flat=True))
    assert inactive == {"s1", "c1", "c2"}


def test_it_deletes_an_org_without_records(admin_client, world):
    response = admin_client.post(
        reverse("admin:orgs_organization_delete", args=[world.c2.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Organization.objects.filter(code="c2").exists()
    assert not Membership.objects.filter(user=world.sibling).exists()


def test_it_refuses_to_delete_an_org_with_records(admin_client, world, make_record):
    make_record("study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "学习"})
    response = admin_client.post(
        reverse("admin:orgs_organization_delete", args=[world.c1.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Organization.objects.filter(code="c1").exists()


def test_it_refuses_to_delete_an_org_whose_subtree_has_records(admin_client, world, make_record):
    make_record("study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "学习"})
    count = Organization.objects.count()
    response = admin_client.post(
        reverse("admin:orgs_organization_delete", args=[world.s1.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    response = admin_client.post(
        reverse("admin:orgs_organization_changelist"),
        {"action": "delete_selected", "_selected_action": [str(world.s1.pk)], "post": "yes"},
    )
    assert response.status_code == 200
    assert "已有台账记录，不能删除" in response.content.decode()
    assert Organization.objects.count() == count
    assert Record.objects.count() == 1


def test_the_system_administrator_only_looks_at_the_tree(client, world, duties):
    client.force_login(duties.system)
    assert client.get(reverse("admin:orgs_organization_changelist")).status_code == 200
    response = client.post(
        reverse("admin:orgs_organization_change", args=[world.c1.pk]), _form(world.c1, name="改名")
    )
    assert response.status_code == 403
    assert Organization.objects.get(pk=world.c1.pk).name == world.c1.name
    assert client.get(reverse("admin:orgs_membership_changelist")).status_code == 403


def test_it_refuses_members_without_staff_status(client, world):
    client.force_login(world.unit_admin)
    response = client.get(reverse("admin:orgs_organization_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_memberships_can_be_granted_in_the_admin(admin_client, world):
    data = _form(world.c2)
    data.update(
        {
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-user": str(world.outsider.pk),
            "memberships-0-role": Role.VIEWER,
        }
    )
    # The sibling's existing membership is an initial form of the inline.
    existing = Membership.objects.get(user=world.sibling)
    data.update(
        {
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": str(existing.pk),
            "memberships-0-org": str(world.c2.pk),
            "memberships-0-user": str(world.sibling.pk),
            "memberships-0-role": Role.CLERK,
            "memberships-1-org": str(world.c2.pk),
            "memberships-1-user": str(world.outsider.pk),
            "memberships-1-role": Role.VIEWER,
        }
    )
    response = admin_client.post(reverse("admin:orgs_organization_change", args=[world.c2.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Membership.objects.filter(user=world.outsider, org=world.c2, role=Role.VIEWER).exists()
