"""Admin pages for ledger types: the system administrator defines ledgers but never sees their rows; their
confidential settings are the security administrator's."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from dangjian.records.models import LedgerField, LedgerType, Record

pytestmark = pytest.mark.django_db

FIELD_KEYS = [
    "order", "code", "label", "type", "required", "choices", "min_value", "max_value", "unit", "help_text",
    "sensitive", "is_key", "is_archived",
]  # fmt: skip


def _field(**values) -> dict:
    row = {"order": "0", "code": "", "label": "", "type": "", "choices": "", "min_value": "", "max_value": ""}
    row.update({"unit": "", "help_text": ""})
    row.update(values)
    return row


def _post_data(ledger: dict, fields: list[dict], *, initial: int = 0) -> dict:
    data = {
        "code": "",
        "label": "",
        "category": "其他",
        "description": "",
        "order": "0",
        "is_active": "on",
        "date_field": "",
        "end_date_field": "",
        "fields-TOTAL_FORMS": str(len(fields)),
        "fields-INITIAL_FORMS": str(initial),
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "1000",
    }
    data.update(ledger)
    for i, field in enumerate(fields):
        for key, value in field.items():
            if value is True:
                data[f"fields-{i}-{key}"] = "on"
            elif value is not False:
                data[f"fields-{i}-{key}"] = value
    return data


@pytest.fixture
def superuser_client(client, world):
    client.force_login(world.sysadmin)
    return client


def _errors(response) -> str:
    return response.content.decode()


def test_it_lists_ledger_types(superuser_client):
    response = superuser_client.get(reverse("admin:ledgers_ledgertype_changelist"))
    assert response.status_code == 200
    assert "学习教育活动台账" in response.content.decode()


def test_it_shows_the_change_page_with_fields(superuser_client, world):
    lt = world.ledger("study_activity")
    response = superuser_client.get(reverse("admin:ledgers_ledgertype_change", args=[lt.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "活动日期" in html
    assert "已归档" in html
    # Fields cannot be deleted in the inline: no delete checkbox is offered.
    assert 'name="fields-0-DELETE"' not in html


def test_it_does_not_register_records(superuser_client):
    assert Record not in admin.site._registry
    with pytest.raises(NoReverseMatch):
        reverse("admin:ledgers_record_changelist")
    html = superuser_client.get(reverse("admin:index")).content.decode()
    assert "台账类型" in html
    assert "台账记录" not in html


def test_it_creates_a_ledger_type_with_fields(superuser_client, world):
    data = _post_data(
        {"code": "volunteer", "label": "志愿服务台账", "category": "基层治理", "date_field": "day"},
        [
            _field(order="0", code="day", label="服务日期", type="date", required=True),
            _field(
                order="1",
                code="hours",
                label="服务时长",
                type="decimal",
                min_value="0",
                max_value="24",
                unit="小时",
            ),
            _field(order="2", code="kind", label="服务类型", type="choice", choices="助老、助残、环保"),
        ],
    )
    response = superuser_client.post(reverse("admin:ledgers_ledgertype_add"), data)
    assert response.status_code == 302, _errors(response)
    lt = LedgerType.objects.get(code="volunteer")
    assert lt.label == "志愿服务台账"
    assert [f.code for f in lt.fields.all()] == ["day", "hours", "kind"]
    assert lt.field("kind").choices == ["助老", "助残", "环保"]
    assert lt.field("hours").max_value == 24


def test_it_rejects_a_date_field_that_is_not_a_date(superuser_client):
    data = _post_data(
        {"code": "volunteer", "label": "志愿服务台账", "date_field": "hours"},
        [_field(code="hours", label="服务时长", type="decimal")],
    )
    response = superuser_client.post(reverse("admin:ledgers_ledgertype_add"), data)
    assert response.status_code == 200
    assert "【日期字段】“hours”（服务时长）不是日期型字段" in response.content.decode()
    assert not LedgerType.objects.filter(code="volunteer").exists()
    assert not LedgerField.objects.filter(code="hours").exists()


def test_it_rejects_a_date_field_that_does_not_exist(superuser_client):
    data = _post_data(
        {"code": "volunteer", "label": "志愿服务台账", "date_field": "when", "end_date_field": "until"},
        [_field(code="day", label="服务日期", type="date")],
    )
    response = superuser_client.post(reverse("admin:ledgers_ledgertype_add"), data)
    html = response.content.decode()
    assert "【日期字段】“when”不是本台账的字段" in html
    assert "【截止日期字段】“until”不是本台账的字段" in html
    assert not LedgerType.objects.filter(code="volunteer").exists()


def test_it_rejects_choices_on_a_text_field(superuser_client):
    data = _post_data(
        {"code": "volunteer", "label": "志愿服务台账", "date_field": "day"},
        [
            _field(code="day", label="服务日期", type="date"),
            _field(code="place", label="地点", type="text", choices="甲、乙"),
        ],
    )
    response = superuser_client.post(reverse("admin:ledgers_ledgertype_add"), data)
    assert "只有单选、多选字段可以设置选项" in response.content.decode()
    assert not LedgerType.objects.filter(code="volunteer").exists()


def test_it_requires_choices_for_a_choice_field(superuser_client):
    data = _post_data(
        {"code": "volunteer", "label": "志愿服务台账", "date_field": "day"},
        [_field(code="day", label="服务日期", type="date"), _field(code="kind", label="类型", type="choice")],
    )
    response = superuser_client.post(reverse("admin:ledgers_ledgertype_add"), data)
    assert "单选、多选字段须至少有一个选项" in response.content.decode()
    assert not LedgerType.objects.filter(code="volunteer").exists()


def test_it_rejects_min_above_max(superuser_client):
    data = _post_data(
        {"code": "volunteer", "label": "志愿服务台账", "date_field": "day"},
        [
            _field(code="day", label="服务日期", type="date"),
            _field(code="n", label="人数", type="integer", min_value="10", max_value="5"),
        ],
    )
    response = superuser_client.post(reverse("admin:ledgers_ledgertype_add"), data)
    assert "最大值 5 不能小于最小值 10" in response.content.decode()
    assert not LedgerType.objects.filter(code="volunteer").exists()


def _secret_ledger(superuser_client) -> LedgerType:
    """A new ledger type as the system administrator defines it: not confidential (that is not his to set)."""
    data = _post_data(
        {"code": "secret", "label": "涉密台账", "date_field": "day", "confidential": "on"},
        [_field(code="day", label="日期", type="date")],
    )
    response = superuser_client.post(reverse("admin:ledgers_ledgertype_add"), data)
    assert response.status_code == 302, _errors(response)
    lt = LedgerType.objects.get(code="secret")
    assert not lt.confidential  # the posted 涉密 is not his field: ignored
    return lt


def test_it_requires_named_orgs_for_a_confidential_ledger(superuser_client, client, duties):
    from tests.security.test_duties import confidential_form

    lt = _secret_ledger(superuser_client)
    client.force_login(duties.security)
    url = reverse("admin:ledgers_ledgertype_change", args=[lt.pk])
    response = client.post(url, confidential_form(lt, confidential=True))
    assert "涉密台账须指定可见明细的组织或组织类别" in response.content.decode()


def test_it_saves_a_confidential_ledger_with_named_kinds_and_orgs(superuser_client, client, world, duties):
    # 三员分立: the security administrator asks, a second one approves (tests/security/test_duties.py).
    from tests.security.test_duties import confidential_form

    from dangjian.orgs.approvals import approve
    from dangjian.orgs.models import OrgKind, PendingChange

    kind = OrgKind.objects.get(code="discipline")
    lt = _secret_ledger(superuser_client)
    client.force_login(duties.security)
    data = confidential_form(lt, confidential=True, kinds=[kind], orgs=[world.jw])
    response = client.post(reverse("admin:ledgers_ledgertype_change", args=[lt.pk]), data)
    assert response.status_code == 302, _errors(response)
    assert not LedgerType.objects.get(pk=lt.pk).confidential
    approve(PendingChange.objects.get(), duties.security2)
    lt = LedgerType.objects.get(pk=lt.pk)
    assert lt.confidential
    assert list(lt.confidential_kinds.all()) == [kind]
    assert list(lt.confidential_orgs.all()) == [world.jw]


def test_it_archives_instead_of_deleting_a_field(superuser_client, world, make_record):
    record = make_record(
        "organization_life", world.c1, {"date": "2019-03-05", "kind": "党课", "topic": "党章", "host": "张三"}
    )
    lt = world.ledger("organization_life")
    # A forged delete flag is ignored: the inline has no delete column.
    rows = _rows_for(lt, host={"is_archived": True, "DELETE": True})
    data = _post_data(
        {"code": lt.code, "label": lt.label, "category": lt.category, "date_field": lt.date_field},
        rows,
        initial=len(rows),
    )
    response = superuser_client.post(reverse("admin:ledgers_ledgertype_change", args=[lt.pk]), data)
    assert response.status_code == 302, _errors(response)
    host = lt.fields.get(code="host")
    assert host.is_archived
    record.refresh_from_db()
    assert record.values["host"] == "张三"


def _rows_for(lt, **changes_by_code) -> list[dict]:
    rows = []
    for f in lt.fields.all():
        row = _field(
            id=str(f.pk),
            ledger_type=str(lt.pk),
            order=str(f.order),
            code=f.code,
            label=f.label,
            type=f.type,
            required=f.required,
            choices="、".join(f.choices),
            min_value="" if f.min_value is None else str(f.min_value),
            max_value="" if f.max_value is None else str(f.max_value),
            unit=f.unit,
            is_key=f.is_key,
        )
        row.update(changes_by_code.get(f.code, {}))
        rows.append(row)
    return rows


def test_it_refuses_to_change_the_type_or_code_of_a_field_holding_data(superuser_client, world, make_record):
    record = make_record(
        "organization_life", world.c1, {"date": "2019-03-05", "kind": "党课", "topic": "党章", "host": "张三"}
    )
    lt = world.ledger("organization_life")
    url = reverse("admin:ledgers_ledgertype_change", args=[lt.pk])
    ledger = {"code": lt.code, "label": lt.label, "category": lt.category, "date_field": lt.date_field}
    for change in ({"type": "text"}, {"code": "chair"}):
        rows = _rows_for(lt, host=change)
        response = superuser_client.post(url, _post_data(ledger, rows, initial=len(rows)))
        assert response.status_code == 200
        assert "字段“主持人”已有填报数据，不能修改" in _errors(response)
    host = lt.fields.get(code="host")
    assert host.type == "person"
    record.refresh_from_db()
    assert record.values["host"] == "张三"

    # A field no record has filled in yet may still be corrected.
    rows = _rows_for(lt, attendance={"type": "decimal"})
    response = superuser_client.post(url, _post_data(ledger, rows, initial=len(rows)))
    assert response.status_code == 302, _errors(response)
    assert lt.fields.get(code="attendance").type == "decimal"


def test_it_refuses_to_delete_a_ledger_type_with_records(superuser_client, world, make_record):
    make_record("study_activity", world.c1, {"date": "2019-03-05", "kind": "专题报告", "title": "学习"})
    lt = world.ledger("study_activity")
    response = superuser_client.post(
        reverse("admin:ledgers_ledgertype_delete", args=[lt.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    response = superuser_client.post(
        reverse("admin:ledgers_ledgertype_changelist"),
        {"action": "delete_selected", "_selected_action": [str(lt.pk)], "post": "yes"},
    )
    assert "已有记录，不能删除" in response.content.decode()
    assert LedgerType.objects.filter(pk=lt.pk).exists()
    assert Record.objects.count() == 1


def test_it_refuses_a_clerk(client, world):
    client.force_login(world.clerk)
    response = client.get(reverse("admin:ledgers_ledgertype_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
