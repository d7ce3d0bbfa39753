"""A ledger declares which kinds of org keep it (`kept_by`, from its pack): the ledger page lists, by default, the
ledgers that apply to the orgs within the account's subtrees; 全部台账 is one click away (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangjian.packs.handlers import load_ledger_type
from dangjian.packs.loader import Pack, PackError

PACK = Pack("t", "t", 50, Path("."), {})


def ledger(code: str, label: str, kept_by: list[str] | None = None) -> dict:
    item = {
        "code": code,
        "label": label,
        "date_field": "day",
        "fields": [{"code": "day", "label": "日期", "type": "date"}],
    }
    if kept_by is not None:
        item["kept_by"] = kept_by
    return item


@pytest.fixture
def kept(world):
    load_ledger_type(ledger("t_cadres", "测试科级干部名册", ["district", "department"]), PACK, 0)
    load_ledger_type(ledger("t_disputes", "测试矛盾纠纷台账", ["street", "community"]), PACK, 1)


def test_a_community_clerk_sees_the_ledgers_kept_by_communities_and_all_one_click_away(client, world, kept):
    client.force_login(world.clerk)
    page = client.get("/ledgers/").content.decode()
    assert "测试矛盾纠纷台账" in page and "学习教育活动台账" in page  # kept by communities; kept by every org
    assert "测试科级干部名册" not in page
    assert "另有 1 本不适用" in page and 'href="?all=1"' in page
    everything = client.get("/ledgers/?all=1").content.decode()
    assert "测试科级干部名册" in everything and "只看本单位适用的台账" in everything
    # the JSON twin lists every ledger the account may see, as the API does
    codes = {row["code"] for row in client.get("/ledgers/?format=json").json()["ledgers"]}
    assert {"t_cadres", "t_disputes"} <= codes


def test_the_district_admin_sees_every_ledger_kept_within_the_district(client, world, kept):
    client.force_login(
        world.unit_admin
    )  # 管理员 at the root: the subtree holds a district, streets, communities
    page = client.get("/ledgers/").content.decode()
    assert "测试科级干部名册" in page and "测试矛盾纠纷台账" in page
    assert "不适用" not in page


@pytest.mark.parametrize("kept_by", [["village"], "district", [1]])
def test_an_unknown_kind_is_refused_at_load_naming_the_ledger(world, kept_by):
    with pytest.raises(PackError, match="台账 t_bad 的 kept_by 应为组织类别代码的列表"):
        load_ledger_type(ledger("t_bad", "坏台账", kept_by), PACK, 0)
