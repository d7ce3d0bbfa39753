"""The demo district 示范区: an org tree, one demo user per role, and records, reproducible from a seed.

Running it twice changes nothing: orgs and users are found by code/username, records by their `key`.
Records are created through the write service (`services.create_records`), like a clerk's: every value passes
its field's validator, and each record gets its history entry ("演示数据").
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from faker import Faker

from dangjian.orgs import access
from dangjian.orgs.approvals import set_duty
from dangjian.orgs.models import AdminDuty, Duty, Membership, Organization, OrgKind, Role
from dangjian.records import services
from dangjian.records.models import LedgerType, Record

ROOT_CODE = "demo"
DEMO_PASSWORD = "Demo#2019dj"
SCALES = {"S": 1, "M": 10, "L": 100}
# P: a province of about 5 million records for benchmarks (issue 14): scale M, its units cloned (demo/province.py).
CLONED = {"P": "M"}

STREETS = ["城关", "东关", "西关", "南关", "北郊", "新华", "滨河", "高新"]
COMMUNITY_WORDS = [
    "幸福", "和平", "建设", "光明", "文化", "春晖", "朝阳", "新村", "花园", "振兴", "民主", "团结", "长青",
    "锦绣", "翠苑", "桃园", "丰收", "育才", "兴隆", "安居", "河畔", "青年", "金水", "明珠", "瑞祥", "康乐",
]  # fmt: skip
AGENCIES = [
    "区委办公室", "区人大常委会机关", "区政府办公室", "区政协机关", "区发展和改革委员会", "区教育局", "区科技局",
    "区工业和信息化局", "区公安分局", "区民政局", "区司法局", "区财政局", "区人力资源和社会保障局", "区自然资源局",
    "区生态环境分局", "区住房和城乡建设局", "区交通运输局", "区水利局", "区农业农村局", "区商务局",
    "区文化广电和旅游局", "区卫生健康委员会", "区退役军人事务局", "区应急管理局", "区审计局", "区市场监督管理局",
    "区统计局", "区医疗保障局", "区城市管理局", "区信访局", "区总工会", "团区委", "区妇联", "区科协", "区工商联",
    "区残联", "区红十字会", "区档案馆", "区融媒体中心", "区人民法院",
]  # fmt: skip
SCHOOLS = [
    "区第一高级中学", "区第二高级中学", "区实验中学", "区第三初级中学", "区第五初级中学", "区实验小学",
    "区第一小学", "区第二小学", "区东关小学", "区西关小学", "区滨河小学", "区新华小学", "区职业教育中心",
    "区特殊教育学校", "区第一幼儿园",
]  # fmt: skip


def cn_ordinal(n: int) -> str:
    import cn2an

    return cn2an.an2cn(n + 1)


@dataclass
class DemoResult:
    orgs: int = 0
    users: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role text, org)
    records_created: int = 0

    def summary(self) -> str:
        lines = [
            f"示范区已就绪：组织 {self.orgs} 个，新增演示记录 {self.records_created} 条。",
            "演示账号（密码均为 " + DEMO_PASSWORD + "）：",
        ]
        lines += [f"  {u:<10} {r:<8} {o}" for u, r, o in self.users]
        return "\n".join(lines)


class TreeBuilder:
    def __init__(self) -> None:
        self.kinds = {k.code: k for k in OrgKind.objects.all()}
        self.count = 0

    def node(
        self, parent: Organization | None, code: str, name: str, short: str, kinds: list[str], order: int = 0
    ) -> Organization:
        org = Organization.objects.filter(code=code).first()
        if org is None:
            fields = {"code": code, "name": name, "short_name": short, "sort_order": order}
            org = (
                Organization.objects.add_root(fields)
                if parent is None
                else Organization.objects.add_child(parent, fields)
            )
            org.kinds.set([self.kinds[k] for k in kinds if k in self.kinds])
            if parent is not None:
                parent.refresh_from_db()
        self.count += 1
        return org


def build_tree(scale: int) -> dict[str, list[Organization]]:
    t = TreeBuilder()
    root = t.node(None, ROOT_CODE, "示范区", "示范区", ["district"])
    groups: dict[str, list[Organization]] = {
        "root": [root],
        "streets": [],
        "communities": [],
        "agencies": [],
        "new_orgs": [],
        "schools": [],
    }
    groups["discipline"] = [
        t.node(root, "demo-jw", "中共示范区纪律检查委员会、示范区监察委员会", "区纪委监委", ["discipline"], 1)
    ]
    groups["departments"] = [
        t.node(root, "demo-zzb", "中共示范区委组织部", "区委组织部", ["department"], 2),
        t.node(root, "demo-xcb", "中共示范区委宣传部", "区委宣传部", ["department"], 3),
    ]
    # Beyond the word list (scales M, L and P) names repeat with a number: 幸福二社区 ….
    words = (
        w + (cn_ordinal(k // len(COMMUNITY_WORDS)) if k >= len(COMMUNITY_WORDS) else "")
        for k, w in enumerate(COMMUNITY_WORDS * (8 * scale // 3 + 1))
    )
    for i, street in enumerate(STREETS * 1, start=1):
        s = t.node(
            root, f"demo-jd{i:02d}", f"中共示范区{street}街道工作委员会", f"{street}街道", ["street"], 10 + i
        )
        groups["streets"].append(s)
        per_street = (8 if i <= 4 else 7) * scale
        for j in range(1, per_street + 1):
            word = next(words)
            groups["communities"].append(
                t.node(
                    s,
                    f"demo-jd{i:02d}-sq{j:02d}",
                    f"中共示范区{street}街道{word}社区委员会",
                    f"{word}社区",
                    ["community"],
                    j,
                )
            )
    jg = t.node(root, "demo-jg", "中共示范区直属机关工作委员会", "区直机关工委", ["working_committee"], 30)
    for i, name in enumerate(AGENCIES, start=1):
        groups["agencies"].append(
            t.node(
                jg,
                f"demo-jg{i:02d}",
                f"中共{name.replace('区', '示范区', 1)}党组（党委）",
                name,
                ["agency"],
                i,
            )
        )
    lx = t.node(
        root,
        "demo-lx",
        "中共示范区非公有制经济组织和社会组织工作委员会",
        "两新工委",
        ["working_committee"],
        40,
    )
    fake = Faker("zh_CN")
    fake.seed_instance(7)
    for i in range(1, 100 * scale + 1):
        company = fake.company()
        groups["new_orgs"].append(
            t.node(lx, f"demo-lx{i:03d}", f"中共{company}支部委员会", company, ["new_org"], i)
        )
    jy = t.node(root, "demo-jy", "中共示范区教育工作委员会", "区教育工委", ["working_committee"], 50)
    for i, name in enumerate(SCHOOLS, start=1):
        groups["schools"].append(t.node(jy, f"demo-xx{i:02d}", f"中共示范{name}委员会", name, ["school"], i))
    groups["all"] = list(Organization.objects.filter(path__startswith=root.path))
    return groups


DEMO_USERS: list[tuple[str, str, str, str | None]] = [
    # username, full name, role (a Duty for the three administrators, who hold no membership), org code
    ("admin", "系统管理员", Duty.SYSTEM, None),
    ("anquan", "安全管理员", Duty.SECURITY, None),
    ("anquan2", "安全管理员（复核）", Duty.SECURITY, None),
    ("shenji", "安全审计员", Duty.AUDITOR, None),
    ("qwb", "区委办管理员", Role.ADMIN, ROOT_CODE),
    ("lingdao", "区委领导", Role.VIEWER, ROOT_CODE),
    ("shenhe", "城关街道审核员", Role.REVIEWER, "demo-jd01"),
    ("tianbao", "幸福社区填报员", Role.CLERK, "demo-jd01-sq01"),
    ("tianbao2", "和平社区填报员", Role.CLERK, "demo-jd01-sq02"),
    ("jiwei", "区纪委监委填报员", Role.CLERK, "demo-jw"),
]


DUTY_SCOPES = {
    Duty.SYSTEM: "（账号与备份，不可查看台账）",
    Duty.SECURITY: "（组织、角色与涉密设置，须另一名安全管理员审批）",
    Duty.AUDITOR: "（只查阅审计日志）",
}


def build_users() -> list[tuple[str, str, str]]:
    users = []
    model = get_user_model()
    for username, full_name, role, org_code in DEMO_USERS:
        user, _ = model.objects.get_or_create(username=username, defaults={"first_name": full_name})
        user.first_name = full_name
        # The demo's system administrator is also a superuser, for the definitions (ledgers, indicators, templates).
        user.is_superuser = role == Duty.SYSTEM
        user.set_password(DEMO_PASSWORD)
        user.save()
        if role in Duty.values:
            if getattr(AdminDuty.objects.filter(user=user).first(), "duty", None) != role:
                set_duty(None, user, role, source="（演示数据）")
            users.append((username, Duty(role).label, DUTY_SCOPES[Duty(role)]))
            continue
        org = Organization.objects.get(code=org_code)
        Membership.objects.get_or_create(user=user, org=org, role=role)
        access.forget(user)
        users.append((username, Role(role).label, org.name))
    return users


def gendered_name(fake: Faker, gender: str) -> str:
    """A Chinese name whose given name is one used for that gender (Faker's zh_CN name() mixes both lists)."""
    return fake.last_name() + (fake.first_name_female() if gender == "女" else fake.first_name_male())


def _meeting(rng: random.Random, fake: Faker, day: dt.date) -> dict:
    attendance = rng.randint(10, 60)
    return {
        "date": day.isoformat(),
        "kind": rng.choice(["支部党员大会", "支委会", "党小组会", "党课", "主题党日"]),
        "topic": rng.choice(
            ["传达学习上级会议精神", "研究发展党员工作", "开展主题党日活动", "讨论年度工作计划"]
        ),
        "attendance": attendance,
        "present": attendance - rng.randint(0, 3),
        "host": fake.name(),
    }


def _day(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


@dataclass
class DemoRecord:
    """A demo record before it is saved: its ledger and what a clerk would have entered."""

    ledger_type: LedgerType
    entry: services.NewRecord

    @property
    def key(self) -> str:
        return self.entry.key


def build_records(groups: dict[str, list[Organization]], seed: int, scale: int) -> int:
    """Generic records for ledgers no report pack fills (组织生活台账)."""
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    meeting = LedgerType.objects.prefetch_related("fields").get(code="organization_life")
    units = (
        groups["communities"] + groups["agencies"] + groups["schools"] + groups["streets"] + groups["root"]
    )
    wanted: list[DemoRecord] = []
    for year in (2018, 2019):
        for org in units:
            for n in range(rng.randint(3, 6)):
                day = _day(rng, year)
                wanted.append(
                    demo_record(
                        meeting, org, _meeting(rng, fake, day), f"demo:{meeting.code}:{org.code}:{year}:{n}"
                    )
                )
    return save_new(wanted)


def demo_record(lt: LedgerType, org: Organization, values: dict, key: str, status: str = "") -> DemoRecord:
    """A demo record to save: its values as a clerk would type them (dates as ISO text), and for an item of a list
    ledger the state it has reached (its steps are not replayed: such items have no step log)."""
    raw = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items() if v is not None}
    return DemoRecord(lt, services.NewRecord(org, raw, key=key, status=status))


CARRIED_OVER_FROM = dt.date(
    2020, 1, 6
)  # items still open at the end of 2019 were finished in the following months


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def settled(values: dict, done: bool, key: str, finished_field: str = "rectified_on") -> str:
    """A 2018–2019 list item as it stands years later: closed (已销号), with its 销号日期 and whether that was on time.
    An item done in its year (`done`, its `finished_field` set then) was closed by the level above a few days after;
    one still open at the end of 2019 was finished in the first half of 2020 and closed then — after the year, so
    the 2019 report (which counts items finished within the year, by that field) reads as it did. Draws from its own
    generator (seeded by `key`), so the records built before and after it do not change."""
    rng = random.Random(key)
    deadline = _as_date(values["deadline"])
    if not done:
        values[finished_field] = CARRIED_OVER_FROM + dt.timedelta(days=rng.randrange(150))
        values["measures"] = values.get("measures") or "制定整改方案，明确责任人和完成时限，逐项整改到位。"
    closed = _as_date(values[finished_field]) + dt.timedelta(days=rng.randint(2, 12))
    values["closed_on"], values["on_time"] = closed, closed <= deadline
    return "已销号"


def save_new(wanted: list[DemoRecord]) -> int:
    """Save the records whose key is not stored yet (so a second run adds nothing) through the write service, one
    batch per ledger; a value that fails its validator stops the demo with the service's message."""
    keys = [r.key for r in wanted]
    existing: set[str] = set()
    for i in range(0, len(keys), 500):
        existing |= set(Record.objects.with_keys(keys[i : i + 500]).values_list("key", flat=True))
    by_ledger: dict[int, tuple[LedgerType, list[services.NewRecord]]] = {}
    for r in wanted:
        if r.key not in existing:
            by_ledger.setdefault(r.ledger_type.pk, (r.ledger_type, []))[1].append(r.entry)
    created = 0
    for lt, entries in by_ledger.values():
        try:
            created += len(
                services.create_records(None, lt, entries, reason="演示数据", check_access=False, seeded=True)
            )
        except services.RecordInvalid as exc:
            raise ValueError(f"演示数据不合法（{lt.label}）：{exc}") from None
    return created


# Report packs add their own demo records: each module has build(groups, seed, scale) -> int (records created).
# pack_rules: the demo rows any pack declares as data ([[demo]], see packs/handlers_demo.py).
PACK_DEMOS = ["dangjian.demo.seed2019_part1", "dangjian.demo.seed2019_part2", "dangjian.demo.pack_rules"]


def build_pack_records(groups: dict[str, list[Organization]], seed: int, scale: int) -> int:
    import importlib
    import importlib.util

    created = 0
    for name in PACK_DEMOS:
        if importlib.util.find_spec(name) is not None:
            created += importlib.import_module(name).build(groups, seed, scale)
    return created


DEMO_TASK = "2019年度社区党建工作台账报送"
DEMO_TASK_LEDGERS = ("organization_life", "mass_visit", "service_activity")
DEMO_RETURN_REASON = "走访台账缺少入户照片等佐证材料，请补充后重新报送"


def build_task(seed: int) -> bool:
    """The 填报任务 the district sent its communities for 2019, long finished as it would be in a real district: every
    community submitted in the first half of January 2020, before the deadline, so their 2019 records are locked.
    和平社区 (tianbao2) keeps a history: submitted, returned with a reason the next day, resubmitted a few days later.
    The demo clerks' open work is this quarter's task (`build_current_task`). Built once (by title)."""
    from dangjian.tasks import collection
    from dangjian.tasks.models import CollectionTask, TargetStatus, TaskEvent

    if CollectionTask.objects.filter(title=DEMO_TASK).exists():
        return False
    ledgers = list(LedgerType.objects.filter(code__in=DEMO_TASK_LEDGERS))
    if not ledgers:
        return False
    root = Organization.objects.get(code=ROOT_CODE)
    users = get_user_model().objects
    admin = users.get(username="qwb")
    clerks = {  # the demo clerks submit for their own communities; other submitters are not demo accounts
        code: users.get(username=name) for name, _, role, code in DEMO_USERS if role == Role.CLERK and code
    }
    deadline = dt.date(2020, 1, 15)
    task = collection.create_task(
        admin,
        title=DEMO_TASK,
        creator_org=root,
        ledger_types=ledgers,
        period_start=dt.date(2019, 1, 1),
        period_end=dt.date(2019, 12, 31),
        scope_root=root,
        kinds=OrgKind.objects.filter(code="community"),
        deadline=deadline,
        instructions="请各社区党组织核对本社区 2019 年组织生活、走访群众和服务群众活动记录，确认无误后报送。",
    )
    created = dt.datetime(2019, 12, 20, 1, 30, tzinfo=dt.timezone.utc)  # 09:30 in Beijing
    CollectionTask.objects.filter(pk=task.pk).update(created_at=created)
    TaskEvent.objects.filter(target__task=task).update(at=created)
    rng = random.Random(seed)
    first_day = dt.datetime(2020, 1, 3, 1, 0, tzinfo=dt.timezone.utc)  # 09:00 in Beijing
    for target in task.targets.select_related("org").order_by("org__path"):
        code, by = target.org.code, clerks.get(target.org.code)
        # Submitted within office hours in Beijing (09:00–17:00, i.e. 01:00–09:00 UTC) by 12 January.
        at = first_day + dt.timedelta(days=rng.randrange(10), minutes=rng.randrange(480))
        events = [
            TaskEvent(
                target=target, from_status=target.status, to_status=TargetStatus.SUBMITTED, at=at, by=by
            )
        ]
        if code == "demo-jd01-sq02":  # returned the next morning, resubmitted three or four days after that
            at = first_day + dt.timedelta(days=rng.randrange(2), minutes=rng.randrange(480))
            back = at.replace(hour=2, minute=rng.randrange(60)) + dt.timedelta(days=1)
            again = back + dt.timedelta(days=rng.choice([3, 4]), hours=rng.randrange(6))
            events = [
                TaskEvent(target=target, from_status=target.status, to_status=TargetStatus.SUBMITTED, at=at, by=by),
                TaskEvent(target=target, from_status=TargetStatus.SUBMITTED, to_status=TargetStatus.RETURNED,
                          reason=DEMO_RETURN_REASON, at=back, by=admin),
                TaskEvent(target=target, from_status=TargetStatus.RETURNED, to_status=TargetStatus.SUBMITTED,
                          at=again, by=by),
            ]  # fmt: skip
            at = again
        target.status, target.submitted_at, target.submitted_by = TargetStatus.SUBMITTED, at, by
        TaskEvent.objects.bulk_create(events)
        target.save()
    return True


# --- this year: the demo as a district looks on the day it is built ---------------------------------------------

CURRENT_PREFIX = "demo:current"
CURRENT_PROBLEMS = [
    ("巡察", "党组织“三会一课”记录不规范"), ("巡察", "发展党员程序材料不完整"), ("监督检查", "党费收缴台账不健全"),
    ("监督检查", "党建阵地功能发挥不充分"), ("群众意见", "小区楼道照明设施损坏"), ("群众意见", "老旧小区停车难"),
    ("群众意见", "垃圾分类投放点设置不合理"), ("调研", "流动党员管理服务不到位"), ("民主生活会", "联系服务群众不够经常"),
    ("调研", "志愿服务积分兑换不及时"),
]  # fmt: skip
CURRENT_RETURN_REASONS = [
    "组织生活记录缺少会议签到表，请补充后重新报送",
    "服务群众活动台账中服务人数与活动记录不符，请核实后重新报送",
    "走访台账缺少入户照片等佐证材料，请补充后重新报送",
]


def _current_problem(
    rng: random.Random, found: dt.date, deadline: dt.date, today: dt.date, state: str
) -> dict:
    """The values and state of one of this year's items, consistent with the day: what is finished has its date,
    what is closed its 销号日期 — never a date after today."""
    values: dict = {"deadline": deadline}
    if state in ("整改中", "已整改", "已销号"):
        values["measures"] = "召开专题会议研究整改措施，明确责任人和完成时限，逐项整改。"
    if state in ("已整改", "已销号"):
        latest = min(deadline, today - dt.timedelta(days=1 if state == "已整改" else 3))
        values["rectified_on"] = max(
            found + dt.timedelta(days=5), latest - dt.timedelta(days=rng.randrange(15))
        )
    if state == "已销号":
        closed = min(values["rectified_on"] + dt.timedelta(days=rng.randint(2, 10)), today)
        values["closed_on"], values["on_time"] = closed, closed <= deadline
    return values


def build_current(groups: dict[str, list[Organization]], seed: int, today: dt.date) -> int:
    """This year's slice, dated relative to `today` (the day `init --demo` runs): 问题清单 items found in the last ten
    months, most
    of those whose deadline has passed closed, a few late with the unit (整改中 past the deadline) and a few finished
    on time but waiting for the street to check and close them; and the same months' 组织生活 records of the
    communities. Keys carry the year, so a second run in the same year adds nothing."""
    rng = random.Random(seed * 13 + today.year)
    fake = Faker("zh_CN")
    fake.seed_instance(seed + today.year)
    ledgers = {
        lt.code: lt for lt in LedgerType.objects.filter(code__in=("problem_list", "organization_life"))
    }
    # The last ten months: as many items whatever the month the demo is built in (in January too).
    window_start = today - dt.timedelta(days=300)
    wanted: list[DemoRecord] = []
    problems = ledgers.get("problem_list")
    units = groups["communities"] + groups["streets"] + groups["agencies"]
    for org in units if problems is not None else []:
        assert problems is not None
        count = 2 if org in groups["communities"] or org in groups["streets"] else 1
        for n in range(count):
            source, title = CURRENT_PROBLEMS[rng.randrange(len(CURRENT_PROBLEMS))]
            found = window_start + dt.timedelta(days=rng.randrange(290))
            deadline = found + dt.timedelta(days=rng.choice([30, 60, 90]))
            r = rng.random()
            if deadline < today:
                state = "已销号" if r < 0.8 else "已整改" if r < 0.88 else "整改中"
            else:
                state = "已销号" if r < 0.15 else "已整改" if r < 0.3 else "整改中" if r < 0.75 else "待整改"
            if (
                org.code == "demo-jd01-sq01"
            ):  # the demo clerk's community: one late, one waiting for its street
                state = ("整改中", "已整改")[n]
                found = today - dt.timedelta(days=80 + 10 * n)
                deadline = found + dt.timedelta(days=60)
            values = {
                "found_on": found, "source": source, "title": f"{org.short_name}{title}", "kind": "",
                "responsible_org": org.code,
            } | _current_problem(rng, found, deadline, today, state)  # fmt: skip
            values.pop("kind")
            key = f"{CURRENT_PREFIX}:{today.year}:problem_list:{org.code}:{n}"
            wanted.append(demo_record(problems, org, values, key, state))
    meeting = ledgers.get("organization_life")
    for org in groups["communities"] if meeting is not None else []:
        assert meeting is not None
        for n in range(rng.randint(3, 6)):
            day = window_start + dt.timedelta(days=rng.randrange(301))
            key = f"{CURRENT_PREFIX}:{today.year}:organization_life:{org.code}:{n}"
            wanted.append(demo_record(meeting, org, _meeting(rng, fake, day), key))
    return save_new(wanted)


def last_quarter(today: dt.date) -> tuple[dt.date, dt.date, str]:
    """The last quarter that has ended by `today`: its first and last day and its name (“2026年第三季度”)."""
    q = (today.month - 1) // 3  # the current quarter's index 0..3; the last ended one is q-1
    year, q = (today.year - 1, 3) if q == 0 else (today.year, q - 1)
    start = dt.date(year, 3 * q + 1, 1)
    end = dt.date(year + (q == 3), (3 * q + 3) % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end, f"{year}年第{'一二三四'[q]}季度"


def build_current_task(seed: int, today: dt.date) -> bool:
    """This quarter's live 填报任务: the district asked its communities two weeks ago for last quarter's ledgers, due
    in a week; about half have submitted, a few were returned with a reason (和平社区 among them), the rest — 幸福社区
    (tianbao) among them — have not yet. Built once (by title)."""
    from dangjian.tasks import collection
    from dangjian.tasks.models import CollectionTask, TargetStatus, TaskEvent

    start, end, name = last_quarter(today)
    title = f"{name}社区党建工作台账报送"
    if CollectionTask.objects.filter(title=title).exists():
        return False
    ledgers = list(LedgerType.objects.filter(code__in=DEMO_TASK_LEDGERS))
    if not ledgers:
        return False
    root = Organization.objects.get(code=ROOT_CODE)
    admin = get_user_model().objects.get(username="qwb")
    task = collection.create_task(
        admin,
        title=title,
        creator_org=root,
        ledger_types=ledgers,
        period_start=start,
        period_end=end,
        scope_root=root,
        kinds=OrgKind.objects.filter(code="community"),
        deadline=today + dt.timedelta(days=7),
        instructions=f"请各社区党组织核对本社区{name}组织生活、走访群众和服务群众活动记录，确认无误后报送。",
    )
    created = dt.datetime.combine(today - dt.timedelta(days=14), dt.time(1, 30), tzinfo=dt.timezone.utc)
    CollectionTask.objects.filter(pk=task.pk).update(created_at=created)
    TaskEvent.objects.filter(target__task=task).update(at=created)
    rng = random.Random(seed * 17 + today.toordinal())
    targets = list(task.targets.select_related("org").order_by("org__path"))
    others = [t for t in targets if t.org.code not in ("demo-jd01-sq01", "demo-jd01-sq02")]
    pending = {t.pk for t in rng.sample(others, round(len(others) * 0.4))}
    pending.add(next((t.pk for t in targets if t.org.code == "demo-jd01-sq01"), 0))
    submitting = [t for t in others if t.pk not in pending]
    returned = {t.pk for t in rng.sample(submitting, min(2, len(submitting)))}
    returned.add(next((t.pk for t in targets if t.org.code == "demo-jd01-sq02"), 0))
    reasons = iter(CURRENT_RETURN_REASONS * len(targets))
    for target in targets:
        if target.pk in pending:
            continue  # not yet submitted
        # Submitted in office hours in Beijing (09:00–17:00) on one of the 13 days since the task was sent.
        at = created + dt.timedelta(days=1 + rng.randrange(12), minutes=rng.randrange(480) - 30)
        events = [
            TaskEvent(target=target, from_status=target.status, to_status=TargetStatus.SUBMITTED, at=at)
        ]
        target.status, target.submitted_at = TargetStatus.SUBMITTED, at
        if target.pk in returned:
            reason = next(reasons)
            events.append(
                TaskEvent(target=target, from_status=TargetStatus.SUBMITTED, to_status=TargetStatus.RETURNED,
                          reason=reason, at=min(at + dt.timedelta(hours=20), timezone.now()), by=admin)
            )  # fmt: skip
            target.status, target.return_reason = TargetStatus.RETURNED, reason
        TaskEvent.objects.bulk_create(events)
        target.save()
    return True


@transaction.atomic
def build_demo(scale: str = "S", seed: int = 2019, today: dt.date | None = None) -> DemoResult:
    factor = SCALES[CLONED.get(scale, scale)]
    groups = build_tree(factor)
    result = DemoResult(orgs=len(groups["all"]))
    result.users = build_users()
    result.records_created = build_records(groups, seed, factor) + build_pack_records(groups, seed, factor)
    day = today or timezone.localdate()
    result.records_created += build_current(groups, seed, day)
    build_task(seed)
    build_current_task(seed, day)
    if scale in CLONED and result.records_created:  # a second run finds the clones there already
        from dangjian.demo.province import clone_units

        result.records_created += clone_units(groups["root"][0])
        result.orgs = Organization.objects.filter(path__startswith=groups["root"][0].path).count()
    return result
