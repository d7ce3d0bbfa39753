"""API tokens: made on the web page or by `dangjian token create`, shown once, stored hashed, expiring, revocable;
refused with 401 and a Chinese reason once they no longer let anyone in."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from dangjian.api.models import ApiToken
from dangjian.audit.models import Action, AuditEvent
from dangjian.records.models import Record

pytestmark = pytest.mark.django_db
LEDGERS = "/api/ledgers"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_the_web_page_shows_a_new_token_once_and_stores_only_its_digest(world):
    client = signed_in(world.clerk)
    page = client.get("/account/tokens/")
    assert page.status_code == 200 and "创建令牌" in page.content.decode()
    assert (
        "/account/tokens/" in client.get("/account/password/").content.decode()
    )  # linked from the account page

    made = client.post("/account/tokens/", {"name": "智慧社区平台", "days": "30"})
    assert made.status_code == 200
    token = ApiToken.objects.get(user=world.clerk)
    (secret,) = set(re.findall(r"djt_[A-Za-z0-9_-]{43}", made.content.decode()))
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    assert Client().get(LEDGERS, headers=bearer(secret)).status_code == 200
    assert secret not in client.get("/account/tokens/").content.decode()  # shown once only
    assert token.prefix in client.get("/account/tokens/").content.decode()
    event = AuditEvent.objects.get(action=Action.API_TOKEN)
    assert (
        event.username == "clerk"
        and event.detail["change"] == "创建"
        and event.detail["name"] == "智慧社区平台"
    )

    empty = client.post("/account/tokens/", {"name": "  ", "days": "30"})
    assert empty.status_code == 400 and "【用途】为必填项" in empty.content.decode()


def test_revoking_on_the_web_page_stops_the_token_and_only_ones_own(world, token_for):
    secret = token_for(world.clerk)
    token = ApiToken.objects.get(user=world.clerk)
    assert signed_in(world.sibling).post(f"/account/tokens/{token.pk}/revoke").status_code == 404
    assert Client().get(LEDGERS, headers=bearer(secret)).status_code == 200
    client = signed_in(world.clerk)
    assert client.post(f"/account/tokens/{token.pk}/revoke").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = Client().get(LEDGERS, headers=bearer(secret))
    assert refused.status_code == 401 and "吊销" in refused.json()["detail"]
    assert "已吊销" in client.get("/account/tokens/").content.decode()
    assert AuditEvent.objects.filter(action=Action.API_TOKEN, detail__change="吊销").exists()


def test_expired_and_unknown_tokens_and_locked_accounts_get_401_in_chinese(world, token_for):
    expired = token_for(world.clerk, days=1)
    ApiToken.objects.filter(user=world.clerk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = Client().get(LEDGERS, headers=bearer(expired))
    assert response.status_code == 401 and "过期" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")

    locked = token_for(world.reviewer)
    world.reviewer.is_active = False
    world.reviewer.save()
    response = Client().get(LEDGERS, headers=bearer(locked))
    assert response.status_code == 401 and "停用" in response.json()["detail"]

    for header in ("Bearer djt_" + "x" * 43, "Bearer nonsense", "Basic Y2xlcms6cGFzcw=="):
        response = Client().get(LEDGERS, headers={"Authorization": header})
        assert response.status_code == 401 and response.json()["detail"]
    response = Client().get(LEDGERS)
    assert response.status_code == 401 and "Authorization: Bearer" in response.json()["detail"]
    assert AuditEvent.objects.filter(action=Action.REFUSED, username="clerk").exists()


def test_a_token_notes_its_last_use(world, token_for):
    secret = token_for(world.clerk)
    assert ApiToken.objects.get().last_used_at is None
    Client().get(LEDGERS, headers=bearer(secret))
    assert ApiToken.objects.get().last_used_at is not None


def test_a_token_writes_without_csrf_but_a_session_never_writes(world, token_for):
    body = {"org": "c1", "values": {"date": "2019-03-05", "kind": "专题报告", "title": "平台推送"}}
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        f"{LEDGERS}/study_activity/records",
        json.dumps(body),
        content_type="application/json",
        headers=bearer(token_for(world.clerk)),
    )
    assert response.status_code == 201
    strict.force_login(world.clerk, backend="django.contrib.auth.backends.ModelBackend")
    response = strict.post(
        f"{LEDGERS}/study_activity/records", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 403
    assert Record.objects.count() == 1


def test_a_session_reads_but_never_writes_through_the_api(world):
    client = signed_in(world.clerk)
    assert client.get(LEDGERS).status_code == 200
    body = {"org": "c1", "values": {"date": "2019-03-05", "kind": "专题报告", "title": "经会话写入"}}
    response = client.post(
        f"{LEDGERS}/study_activity/records", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 403 and "令牌" in response.json()["detail"]
    assert not Record.objects.exists()


def test_the_cli_prints_a_working_token(world, capsys):
    from dangjian.cli import main

    assert main(["token", "create", "clerk", "--days", "7", "--name", "平台"]) == 0
    out, err = capsys.readouterr()
    secret = out.strip()
    assert secret.startswith("djt_") and "只显示这一次" in err
    token = ApiToken.objects.get(user=world.clerk)
    assert token.name == "平台" and token.expires_at is not None
    assert Client().get(LEDGERS, headers=bearer(secret)).json()["count"] >= 1
    assert AuditEvent.objects.get(action=Action.API_TOKEN).username == "命令行"

    assert main(["token", "create", "nobody"]) == 1
    assert "nobody" in capsys.readouterr().err
    assert main(["token", "create", "clerk", "--days", "0"]) == 1
    world.viewer.is_active = False
    world.viewer.save()
    assert main(["token", "create", "viewer"]) == 1
    assert ApiToken.objects.count() == 1
