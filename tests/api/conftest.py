"""API test helpers: a bearer token per user and a client that sends it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client


class ApiClient:
    """Django's test client with `Authorization: Bearer TOKEN` on every request and JSON bodies."""

    def __init__(self, secret: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, url: str, **params: Any) -> Any:
        return self.client.get(url, params, headers=self.headers)

    def send(self, method: str, url: str, body: Any) -> Any:
        call = getattr(self.client, method)
        return call(
            url, json.dumps(body, ensure_ascii=False), content_type="application/json", headers=self.headers
        )

    def post(self, url: str, body: Any) -> Any:
        return self.send("post", url, body)

    def patch(self, url: str, body: Any) -> Any:
        return self.send("patch", url, body)

    def delete(self, url: str) -> Any:
        return self.client.delete(url, headers=self.headers)


@pytest.fixture
def token_for():
    """The secret of a new token for a user (optionally expiring in `days`)."""
    from dangjian.api import tokens

    def make(user: Any, days: int | None = None) -> str:
        return tokens.create(user, "测试", days=days).secret

    return make


@pytest.fixture
def api(world, token_for):
    """api(user) → an ApiClient with a fresh token of that user."""

    def make(user: Any) -> ApiClient:
        return ApiClient(token_for(user))

    return make


@pytest.fixture
def report_pack(tmp_path):
    """The reports tests' own pack: indicators over study_activity (学习.中心组次数 …)."""
    from tests.reports.conftest import write_pack

    from dangjian.packs.loader import discover, load_pack

    write_pack(tmp_path / "packs")
    for pack in discover(tmp_path / "packs"):
        load_pack(pack)
