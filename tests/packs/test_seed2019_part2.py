"""seed2019 part 2 (chapters 三 and 四) on the demo district: checks pass, the words stay true, data is valid and
confidential discipline rows stay hidden from everyone but members of 区纪委监委.

The demo is built once for the module inside a transaction that is rolled back afterwards.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

pytestmark = pytest.mark.django_db

PART2_LEDGERS = [
    "problem_list", "cadre_roster", "cadre_adjustment", "cadre_training", "cadre_affairs", "cadre_practice",
    "cadre_goal", "talent_project", "supervision_check", "accountability", "discipline_clue", "discipline_form",
    "integrity_activity", "rectification_project", "inspection", "inspection_plan", "discipline_case",
]  # fmt: skip
PART2_PREFIXES = ("干部.", "人才.", "选人用人.", "纪律审查.", "巡察.", "作风.", "监督.", "廉政.")
CONFIDENTIAL = ["discipline_case", "discipline_clue", "discipline_form", "accountability"]


@pytest.fixture(scope="module")
def demo(in_demo):
    from django.contrib.auth import get_user_model

    from dangjian.demo import seed2019_part2
    from dangjian.demo.generator import build_tree
    from dangjian.indicators.engine import Period, evaluate, run_checks
    from dangjian.orgs import access
    from dangjian.orgs.models import Organization
    from dangjian.records.fields import validate_values
    from dangjian.records.models import LedgerType, Record

    def gather() -> dict:
        out: dict = {}
        org = Organization.objects.get(code="demo")
        period = Period.year(2019)
        from dangjian.indicators.models import Indicator

        keys = [
            k
            for k in Indicator.objects.filter(pack="seed2019").values_list("key", flat=True)
            if k.startswith(PART2_PREFIXES)
        ]
        out["keys"] = keys
        out["values"] = {k: v.value for k, v in evaluate(org, period, keys).items()}
        out["checks"] = [c for c in run_checks(org, period, pack="seed2019") if c.code.startswith("p2_")]
        # every demo record of these ledgers passes the field validators
        errors = []
        for code in PART2_LEDGERS:
            lt = LedgerType.objects.get(code=code)
            fields = lt.active_fields()
            for r in Record.objects.filter(ledger_type=lt, key__startswith="demo:seed2019:p2:").iterator():
                clean, errs = validate_values(fields, r.values)
                if errs or clean != r.values:
                    errors.append(
                        (
                            code,
                            r.key,
                            errs
                            or {
                                k: (r.values.get(k), clean.get(k))
                                for k in set(r.values) | set(clean)
                                if r.values.get(k) != clean.get(k)
                            },
                        )
                    )
        out["invalid"] = errors[:5]
        out["counts"] = {
            c: Record.objects.filter(ledger_type__code=c, key__startswith="demo:seed2019:p2:").count()
            for c in PART2_LEDGERS
        }
        # a second run adds nothing
        out["second_run"] = seed2019_part2.build(build_tree(1), 2019, 1)
        # confidential rows: visible to 区纪委监委 members only
        users = get_user_model().objects
        visible = {}
        for username in ("jiwei", "lingdao", "qwb", "admin"):
            user = users.get(username=username)
            access.forget(user)
            visible[username] = {
                code: access.records(user, LedgerType.objects.get(code=code), Record.objects.all()).count()
                for code in CONFIDENTIAL
            }
        out["visible"] = visible
        return out

    return in_demo(gather)


def test_part2_checks_all_pass(demo):
    assert len(demo["checks"]) >= 10
    failed = [(c.code, c.message) for c in demo["checks"] if not c.ok]
    assert not failed


def test_every_part2_indicator_has_a_positive_value(demo):
    missing = []
    for key in demo["keys"]:
        value = demo["values"][key]
        if value is None or value == [] or value == "" or (isinstance(value, int | Decimal) and value <= 0):
            missing.append((key, value))
    assert not missing


def test_ages_fall_and_young_share_rises(demo):
    v = demo["values"]
    assert v["干部.正科级平均年龄"] < v["上年.干部.正科级平均年龄"]
    assert v["干部.副科级平均年龄"] < v["上年.干部.副科级平均年龄"]
    assert v["干部.年轻干部占比"] > v["上年.干部.年轻干部占比"]
    assert 25 < v["干部.副科级平均年龄"] < v["干部.正科级平均年龄"] < 60


def test_sanctions_and_forms_add_up(demo):
    v = demo["values"]
    assert v["纪律审查.处分人数"] == v["纪律审查.党纪处分"] + v["纪律审查.政务处分"] + v["纪律审查.双重处分"]
    total = sum(v[f"纪律审查.第{n}种形态占比"] for n in "一二三四")
    assert abs(total - 100) <= Decimal("0.2")
    assert v["选人用人.调整干部人次"] >= v["选人用人.调整分项合计"]
    assert v["作风.整治成果项数"] <= v["作风.整治问题清单项数"]
    assert 0 < v["巡察.社区覆盖率"] <= 100


def test_demo_records_are_valid_and_idempotent(demo):
    assert demo["invalid"] == []
    assert all(n > 0 for n in demo["counts"].values()), demo["counts"]
    assert demo["second_run"] == 0


def test_confidential_rows_hidden_from_non_members(demo):
    visible = demo["visible"]
    assert all(n > 0 for n in visible["jiwei"].values()), visible["jiwei"]
    for username in ("lingdao", "qwb", "admin"):
        assert all(n == 0 for n in visible[username].values()), (username, visible[username])
