"""Who may see and change what, through every ledger page and its JSON twin (Healthchecks style).

Each view is tried by the owning unit's clerk, a sibling unit's clerk, a viewer, a member of the confidential
ledger's org (纪委), the system administrator and a user without any role. Every refusal is a 403 or 404 whose
body — HTML or JSON — holds none of the row's content.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dangjian.orgs.models import Membership, Role
from dangjian.records.models import Attachment, Record

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
TITLE = "幸福社区独有的学习主题甲乙丙"
PLACE = "幸福社区三楼会议室"
FILE_BYTES = "幸福社区会议纪要正文".encode()
CASE_NO = "测纪案〔2019〕42号"
SUSPECT = "赵某某"
CASE_FILE_BYTES = "案件审理报告正文".encode()

LISTS = ["list", "list_json", "list_format_json"]
ROW_VIEWS = ["detail", "detail_json", "detail_format_json", "history", "history_json", "edit", "attachment"]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode()


def urls(record: Record, attachment: Attachment) -> dict[str, str]:
    code, pk = record.ledger_type.code, record.pk
    return {
        "list": f"/ledgers/{code}/",
        "list_json": f"/ledgers/{code}.json",
        "list_format_json": f"/ledgers/{code}/?format=json",
        "detail": f"/ledgers/{code}/{pk}/",
        "detail_json": f"/ledgers/{code}/{pk}.json",
        "detail_format_json": f"/ledgers/{code}/{pk}/?format=json",
        "history": f"/ledgers/{code}/{pk}/history",
        "history_json": f"/ledgers/{code}/{pk}/history.json",
        "edit": f"/ledgers/{code}/{pk}/edit",
        "attachment": f"/ledgers/attachments/{attachment.pk}",
    }


def attach(record: Record, name: str, content: bytes) -> Attachment:
    return Attachment.objects.create(
        record=record, file=SimpleUploadedFile(name, content), name=name, size=len(content)
    )


@pytest.fixture
def study(world, make_record, settings, tmp_path):
    """A record of the owning unit 幸福社区 (c1) with a file."""
    settings.MEDIA_ROOT = tmp_path / "media"
    record = make_record(
        "study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": TITLE, "place": PLACE}
    )
    return record, urls(record, attach(record, "会议纪要.pdf", FILE_BYTES))


@pytest.fixture
def case(world, make_record, settings, tmp_path):
    """A record of the confidential ledger, kept by 区纪委监委 (jw)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    record = make_record(
        "discipline_case",
        world.jw,
        {"filed_on": "2019-04-01", "case_no": CASE_NO, "person": SUSPECT, "rank": "乡科级"},
    )
    return record, urls(record, attach(record, "审理报告.pdf", CASE_FILE_BYTES))


def assert_refused(response, *secrets: str, status: tuple[int, ...] = (403, 404)) -> None:
    assert response.status_code in status, response.status_code
    text = body(response)
    for secret in secrets:
        assert secret not in text


def assert_listed_without(response, *secrets: str) -> None:
    """A list the user may open, but in which the row must not appear."""
    assert response.status_code == 200
    text = body(response)
    for secret in secrets:
        assert secret not in text


# --- a unit's record ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("view", LISTS + ROW_VIEWS)
def test_owning_clerk_sees_the_record_in_every_view(world, study, view):
    _, url = study
    response = client_for(world.clerk).get(url[view])
    assert response.status_code == 200
    text = body(response)
    if view == "attachment":
        assert text.encode() == FILE_BYTES
    elif view.startswith("history"):
        assert "新增" in text
    else:
        assert TITLE in text


@pytest.mark.parametrize("view", LISTS)
def test_sibling_clerk_does_not_see_the_record_in_lists(world, study, view):
    _, url = study
    assert_listed_without(client_for(world.sibling).get(url[view]), TITLE, PLACE)


@pytest.mark.parametrize("view", ROW_VIEWS)
def test_sibling_clerk_cannot_see_record(world, study, view):
    _, url = study
    assert_refused(client_for(world.sibling).get(url[view]), TITLE, PLACE, FILE_BYTES.decode(), status=(404,))


def test_sibling_clerk_cannot_see_record_json(world, study):
    record, url = study
    client = client_for(world.sibling)
    assert client.get(url["list_json"]).json()["results"] == []
    assert_refused(client.get(url["detail_json"]), TITLE, status=(404,))
    assert_refused(client.get(url["history_json"]), TITLE, status=(404,))


@pytest.mark.parametrize("view", LISTS + ["detail", "detail_json", "history", "history_json", "attachment"])
def test_viewer_sees_the_record_read_only(world, study, view):
    _, url = study
    response = client_for(world.viewer).get(url[view])
    assert response.status_code == 200
    if view in ("list", "detail"):
        html = body(response)
        assert "/edit" not in html and "删除" not in html


def test_viewer_cannot_open_the_edit_form(world, study):
    _, url = study
    assert_refused(client_for(world.viewer).get(url["edit"]), TITLE, PLACE, status=(403,))


@pytest.mark.parametrize("view", LISTS)
def test_confidential_org_member_does_not_see_other_units_record_in_lists(world, study, view):
    _, url = study
    assert_listed_without(client_for(world.jiwei).get(url[view]), TITLE, PLACE)


@pytest.mark.parametrize("view", ROW_VIEWS)
def test_confidential_org_member_cannot_see_other_units_record(world, study, view):
    _, url = study
    assert_refused(client_for(world.jiwei).get(url[view]), TITLE, PLACE, status=(404,))


@pytest.mark.parametrize("user", ["sysadmin", "outsider"])
@pytest.mark.parametrize("view", LISTS + ROW_VIEWS)
def test_users_without_role_cannot_see_record(world, study, user, view):
    _, url = study
    assert_refused(client_for(getattr(world, user)).get(url[view]), TITLE, PLACE, status=(404,))


def test_reviewer_of_the_parent_street_may_edit(world, study):
    _, url = study
    assert client_for(world.reviewer).get(url["edit"]).status_code == 200


# --- changes by those who may not make them -------------------------------------------------------------------

CHANGE = {"date": "2019-03-05", "kind": "专题报告", "title": "被篡改的主题"}


@pytest.mark.parametrize(
    ("user", "status"), [("sibling", 404), ("jiwei", 404), ("sysadmin", 404), ("viewer", 403)]
)
def test_others_cannot_edit_delete_or_restore_the_record(world, study, user, status):
    record, url = study
    client = client_for(getattr(world, user))
    assert_refused(client.post(url["edit"], CHANGE), TITLE, status=(status,))
    assert_refused(client.post(url["detail"] + "delete"), TITLE, status=(status,))
    record.refresh_from_db()
    assert record.values["title"] == TITLE and not record.is_deleted
    client_for(world.clerk).post(url["detail"] + "delete")
    assert_refused(client.post(url["detail"] + "restore"), TITLE, status=(403, 404))
    record.refresh_from_db()
    assert record.is_deleted


def test_new_record_for_another_unit_is_refused_by_the_service_too(world, study):
    # Even a forged POST naming a sibling unit saves nothing.
    response = client_for(world.sibling).post(
        "/ledgers/study_activity/new", {**CHANGE, "reporting_org": world.c1.pk}
    )
    assert response.status_code == 200
    assert Record.objects.filter(values__title="被篡改的主题").count() == 0


# --- the confidential ledger ---------------------------------------------------------------------------------


@pytest.mark.parametrize("view", LISTS + ROW_VIEWS)
def test_confidential_org_member_sees_the_case(world, case, view):
    _, url = case
    response = client_for(world.jiwei).get(url[view])
    assert response.status_code == 200
    if view == "attachment":
        assert body(response).encode() == CASE_FILE_BYTES
    elif not view.startswith("history"):
        assert CASE_NO in body(response) and SUSPECT in body(response)


@pytest.mark.parametrize(
    "user", ["clerk", "sibling", "viewer", "unit_admin", "reviewer", "sysadmin", "outsider"]
)
@pytest.mark.parametrize("view", LISTS + ROW_VIEWS)
def test_non_members_cannot_see_the_confidential_case(world, case, user, view):
    _, url = case
    response = client_for(getattr(world, user)).get(url[view])
    assert_refused(response, CASE_NO, SUSPECT, CASE_FILE_BYTES.decode(), "纪律审查案件台账", status=(404,))


@pytest.mark.parametrize("user", ["clerk", "viewer", "unit_admin", "sysadmin"])
def test_non_members_cannot_change_the_confidential_case(world, case, user):
    record, url = case
    client = client_for(getattr(world, user))
    assert_refused(
        client.post(url["edit"], {"filed_on": "2019-04-01", "case_no": "X", "person": "X"}), CASE_NO
    )
    assert_refused(client.post(url["detail"] + "delete"), CASE_NO)
    assert_refused(client.get("/ledgers/discipline_case/new"), CASE_NO, status=(404,))
    record.refresh_from_db()
    assert record.values["case_no"] == CASE_NO and not record.is_deleted


def test_confidential_ledger_is_absent_from_the_ledger_list(world, case):
    for user in ("clerk", "viewer", "unit_admin", "sysadmin"):
        client = client_for(getattr(world, user))
        assert "纪律审查案件台账" not in body(client.get("/ledgers/"))
        assert "discipline_case" not in body(client.get("/ledgers/?format=json"))


# --- sensitive values -------------------------------------------------------------------------------------------


@pytest.fixture
def jw_viewer(world):
    user = type(world.clerk).objects.create_user("jw_viewer", password="x")
    Membership.objects.create(user=user, org=world.jw, role=Role.VIEWER)
    return user


def test_viewer_sees_sensitive_values_masked_in_html_and_json(world, case, jw_viewer):
    record, url = case
    client = client_for(jw_viewer)
    for view in ("list", "list_json", "detail", "detail_json", "history", "history_json"):
        text = body(client.get(url[view]))
        assert CASE_NO in text or view.startswith("history"), view
        assert SUSPECT not in text, view
        assert "＊＊" in text, view
    assert client.get(url["list_json"]).json()["results"][0]["values"]["person"] == "＊＊"


def test_viewer_cannot_find_a_record_by_a_masked_value(world, case, jw_viewer):
    _, url = case
    assert client_for(jw_viewer).get(url["list_json"] + f"?q={SUSPECT}").json()["count"] == 0
    assert client_for(world.jiwei).get(url["list_json"] + f"?q={SUSPECT}").json()["count"] == 1


def test_viewer_cannot_sort_by_a_masked_field(world, case, jw_viewer):
    _, url = case
    html = body(client_for(jw_viewer).get(url["list"]))
    assert "sort=person" not in html
