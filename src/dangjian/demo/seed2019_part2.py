"""Demo records for the seed2019 pack, part 2 (chapters 三 and 四): cadres, talent, supervision, discipline, inspection.

Two years (2018 and 2019) for 示范区, reproducible from the seed. Figures are shaped so that every blank of
chapters 三 and 四 gets a plausible positive value in 2019 and the report's words stay true: the cadre roster is
simulated as tenures over both years (promotions of young cadres, older leaders moving to non-leading posts or
retiring), so that average ages really fall and the share of young cadres really rises; discipline figures keep
处分 = 党纪 + 政务 + 双重 (双重 = both a party and a government sanction).

`scale` multiplies the bulk: cadres per unit, cases, clues, problems, activities per unit, applicants.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from faker import Faker

from dangjian.orgs.models import Organization
from dangjian.records.models import LedgerType

from .generator import DemoRecord, demo_record, gendered_name, save_new, settled

YEARS = (2018, 2019)
PREFIX = "demo:seed2019:p2"

AREAS = [
    "重大决策部署",
    "环保攻坚",
    "亲清政商关系",
    "群众身边腐败和作风问题",
    "违反中央八项规定精神",
    "形式主义官僚主义",
    "重要节点",
]
OFFENCES = {
    "亲清政商关系": [
        "违规插手企业经营",
        "收受企业礼金",
        "在企业报销应由个人支付的费用",
        "违规入股企业",
        "吃拿卡要企业",
    ],
    "其他": ["违规发放津补贴", "挪用专项资金", "收受礼金", "违规公款吃喝", "失职失责", "优亲厚友骗取补贴"],
}
PROJECTS = [
    "洛河生态廊道工程", "高新区智能装备产业园", "城市快速路二期", "老旧小区改造工程", "综合物流港", "新材料产业园",
    "区人民医院新院区", "智慧城市一期", "污水处理厂提标改造", "保障性住房项目", "文化旅游综合体", "科技企业孵化器",
]  # fmt: skip
RECTIFY_CATEGORIES = ["教育", "医疗", "住房保障", "食品药品安全", "养老社保", "扶贫救助"]
RECTIFY_PROBLEMS = {
    "教育": ["学校违规收费", "校外培训机构乱象", "学生营养餐质量不高"],
    "医疗": ["群众看病排队时间长", "医保报销流程繁琐", "乡村医生服务不到位"],
    "住房保障": ["保障房分配不公", "老旧小区物业服务差", "房产证办理难"],
    "食品药品安全": ["农贸市场食品抽检不到位", "小餐饮无证经营", "过期药品销售"],
    "养老社保": ["养老金发放不及时", "高龄补贴申领难", "社保经办窗口服务差"],
    "扶贫救助": ["低保评定不精准", "救助资金发放滞后", "扶贫项目效益不高"],
}


class Builder:
    def __init__(self, groups: dict[str, list[Organization]], seed: int, scale: int) -> None:
        self.g = groups
        self.scale = scale
        self.rng = random.Random(seed * 7 + 2)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed + 2)
        self.types = {t.code: t for t in LedgerType.objects.prefetch_related("fields")}
        self.records: list[DemoRecord] = []
        self.root = groups["root"][0]
        self.zzb = Organization.objects.get(code="demo-zzb")
        self.jw = Organization.objects.get(code="demo-jw")
        self.seq: dict[str, int] = {}

    # --- helpers ---------------------------------------------------------------------------------------------
    def add(self, ledger: str, org: Organization, values: dict[str, Any], tag: str, status: str = "") -> None:
        lt = self.types[ledger]
        n = self.seq[f"{ledger}:{tag}"] = self.seq.get(f"{ledger}:{tag}", 0) + 1
        values = {k: v for k, v in values.items() if v is not None}
        self.records.append(demo_record(lt, org, values, f"{PREFIX}:{ledger}:{tag}:{n}", status))

    def next_key(self, ledger: str, tag: str) -> str:
        """The key the next add() of this ledger and tag will give its record."""
        return f"{PREFIX}:{ledger}:{tag}:{self.seq.get(f'{ledger}:{tag}', 0) + 1}"

    def day(self, year: int, first: int = 1, last: int = 12) -> dt.date:
        start = dt.date(year, first, 1)
        end = dt.date(year, last, 28)
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))

    def n(self, base: int) -> int:
        return max(1, base * self.scale)

    def name(self) -> str:
        return self.fake.name()

    def anon(self) -> str:
        return self.fake.last_name() + "某某"

    # --- 干部：名册（任期）和调整 -------------------------------------------------------------------------
    def cadres(self) -> None:
        rng = self.rng
        units = (
            self.g["streets"]
            + self.g["agencies"]
            + self.g["schools"]
            + self.g["departments"]
            + self.g["discipline"]
        )
        current: list[dict[str, Any]] = []  # open tenures

        def birth(lo: int, hi: int) -> dt.date:
            return dt.date(rng.randint(lo, hi), rng.randint(1, 12), rng.randint(1, 28))

        def person(lo: int, hi: int) -> dict[str, Any]:
            gender = "女" if rng.random() < 0.3 else "男"
            return {
                "person": gendered_name(self.fake, gender),  # a given name that fits the gender
                "gender": gender,
                "ethnicity": "回族" if rng.random() < 0.05 else "汉族",
                "birth": birth(lo, hi),
            }

        def team_of(org: Organization, level: str, leading: bool) -> str:
            if org in self.g["streets"]:
                return (
                    "街道办事处领导班子" if level == "副科级" or rng.random() < 0.5 else "街道党工委领导班子"
                )
            if org in self.g["schools"]:
                return "学校领导班子"
            return "部门领导班子" if leading else "其他"

        def post_name(org: Organization, level: str, leading: bool) -> str:
            if not leading:
                return "一级主任科员" if level == "正科级" else "三级主任科员"
            if org in self.g["streets"]:
                return (
                    rng.choice(["办事处主任", "党工委书记"])
                    if level == "正科级"
                    else rng.choice(["办事处副主任", "党工委副书记", "党工委委员"])
                )
            if org in self.g["schools"]:
                return "校长" if level == "正科级" else "副校长"
            return "局长（主任）" if level == "正科级" else "副局长（副主任）"

        def start(
            p: dict[str, Any], org: Organization, level: str, leading: bool, on: dt.date
        ) -> dict[str, Any]:
            t = {**p, "org": org, "level": level, "leading": leading, "start": on, "end": None,
                 "post": post_name(org, level, leading), "team": team_of(org, level, leading)}  # fmt: skip
            current.append(t)
            return t

        def end(t: dict[str, Any], on: dt.date) -> None:
            t["end"] = on
            current.remove(t)
            ended.append(t)

        ended: list[dict[str, Any]] = []
        for org in units:
            street = org in self.g["streets"]
            for _ in range((2 if street else 1) * self.scale):
                start(person(1962, 1980), org, "正科级", True, self.day(rng.randint(2009, 2017)))
            for _ in range((5 if street else 2) * self.scale):
                start(person(1965, 1986), org, "副科级", True, self.day(rng.randint(2010, 2017)))
            if not street and rng.random() < 0.6:
                for _ in range(self.scale):
                    start(
                        person(1961, 1970),
                        org,
                        rng.choice(["正科级", "副科级"]),
                        False,
                        self.day(rng.randint(2012, 2017)),
                    )

        def age(t: dict[str, Any], on: dt.date) -> int:
            b = t["birth"]
            return on.year - b.year - ((on.month, on.day) < (b.month, b.day))

        def pick(
            level: str | None, leading: bool, on: dt.date, *, young: bool | None = None, min_age: int = 0
        ) -> dict[str, Any] | None:
            pool = [
                t
                for t in current
                if (level is None or t["level"] == level)
                and t["leading"] == leading
                and t["start"] < on
                and age(t, on) >= min_age
            ]
            if not pool:
                return None
            pool.sort(key=lambda t: t["birth"])  # oldest first
            if young is True:
                pool = pool[len(pool) // 2 :]
            elif young is False:
                pool = pool[: max(1, len(pool) // 3)]
            return rng.choice(pool)

        adjust_n = 0

        def adjust(
            on: dt.date, t: dict[str, Any], kind: str, level: str, leading: bool, from_post: str, to_post: str
        ) -> None:
            nonlocal adjust_n
            adjust_n += 1
            self.add("cadre_adjustment", self.zzb, {
                "date": on.isoformat(), "person": t["person"], "kind": kind, "level": level,
                "post_type": "领导职务" if leading else "非领导职务", "from_post": from_post, "to_post": to_post or None,
                "doc_no": f"示组干〔{on.year}〕{adjust_n}号",
            }, str(on.year))  # fmt: skip

        def other_unit(org: Organization) -> Organization:
            return rng.choice([u for u in units if u != org])

        # Per year: how many of each move (times scale). 2019 (机构改革) renews far more than 2018.
        plans = {
            2018: {"提拔正科": 3, "提拔非领导": 2, "重用正科": 2, "提拔副科": 8, "重用副科": 2, "交流": 3, "转任": 4, "免职": 3, "免兼职": 1, "重组": 0, "其他": 1},
            2019: {"提拔正科": 9, "提拔非领导": 5, "重用正科": 5, "提拔副科": 24, "重用副科": 6, "交流": 8, "转任": 12, "免职": 7, "免兼职": 2, "重组": 6, "其他": 2},
        }  # fmt: skip
        for year in YEARS:
            events = [k for k, v in plans[year].items() for _ in range(v * self.scale)]
            days = sorted(self.day(year, 2, 12) for _ in events)
            rng.shuffle(events)
            for kind, on in zip(events, days, strict=True):
                if kind == "提拔正科":
                    t = pick("副科级", True, on, young=True)
                    if t:
                        end(t, on)
                        n = start(
                            {k: t[k] for k in ("person", "gender", "ethnicity", "birth")},
                            other_unit(t["org"]),
                            "正科级",
                            True,
                            on,
                        )
                        adjust(on, t, "提拔", "正科级", True, t["post"], n["post"])
                elif kind == "提拔非领导":
                    t = pick("副科级", True, on, young=False, min_age=50)
                    if t:
                        end(t, on)
                        n = start(
                            {k: t[k] for k in ("person", "gender", "ethnicity", "birth")},
                            t["org"],
                            "正科级",
                            False,
                            on,
                        )
                        adjust(on, t, "提拔", "正科级", False, t["post"], n["post"])
                elif kind in ("重用正科", "重用副科", "交流", "重组"):
                    level = (
                        "正科级"
                        if kind == "重用正科"
                        else "副科级"
                        if kind == "重用副科"
                        else rng.choice(["正科级", "副科级"])
                    )
                    t = pick(level, True, on)
                    if t:
                        end(t, on)
                        n = start(
                            {k: t[k] for k in ("person", "gender", "ethnicity", "birth")},
                            other_unit(t["org"]),
                            level,
                            True,
                            on,
                        )
                        label = {
                            "重用正科": "重用",
                            "重用副科": "重用",
                            "交流": "交流任职",
                            "重组": "机构重组转任",
                        }[kind]
                        adjust(on, t, label, level, True, t["post"], n["post"])
                elif kind == "提拔副科":
                    p = person(on.year - 38, on.year - 28)
                    org = rng.choice(units)
                    n = start(p, org, "副科级", True, on)
                    adjust(on, n, "提拔", "副科级", True, "科员", n["post"])
                elif kind == "转任":
                    t = pick(rng.choice(["正科级", "副科级"]), True, on, young=False, min_age=50)
                    if t:
                        end(t, on)
                        start(
                            {k: t[k] for k in ("person", "gender", "ethnicity", "birth")},
                            t["org"],
                            t["level"],
                            False,
                            on,
                        )
                        adjust(on, t, "转任非领导职务", t["level"], True, t["post"], "一级主任科员")
                elif kind == "免职":
                    t = pick(rng.choice(["正科级", "副科级"]), True, on, young=False, min_age=52)
                    if t:
                        end(t, on)
                        adjust(on, t, "免职", t["level"], True, t["post"], "")
                elif kind == "免兼职":
                    t = pick("正科级", True, on)
                    if t:
                        adjust(on, t, "免兼职", "正科级", True, t["post"] + "（兼）", "")
                else:
                    t = pick(None, True, on)
                    if t:
                        adjust(on, t, "其他", t["level"], True, t["post"], t["post"])
        for t in ended + current:
            self.add("cadre_roster", t["org"], {
                "start_on": t["start"].isoformat(), "end_on": t["end"].isoformat() if t["end"] else None,
                "person": t["person"], "gender": t["gender"], "ethnicity": t["ethnicity"],
                "birth_date": t["birth"].isoformat(), "level": t["level"],
                "post_type": "领导职务" if t["leading"] else "非领导职务", "post": t["post"], "team": t["team"],
            }, "all")  # fmt: skip
        # 个人有关事项报告：每年年末在职的科级干部都填报。
        for year in YEARS:
            close = dt.date(year, 12, 31)
            for t in ended + current:
                if t["start"] <= close and (t["end"] is None or t["end"] >= close):
                    on = min(close, max(dt.date(year, 3, 15), t["start"] + dt.timedelta(days=30)))
                    self.add(
                        "cadre_affairs",
                        self.zzb,
                        {
                            "date": on.isoformat(),
                            "kind": "个人有关事项报告",
                            "person": t["person"],
                            "unit": t["org"].code,
                        },
                        str(year),
                    )

    # --- 干部：培训、历练、日常管理、配备目标 --------------------------------------------------------------
    def cadre_work(self) -> None:
        rng, s = self.rng, self.scale
        for year in YEARS:
            y = str(year)
            events = [
                (
                    "专题宣讲",
                    "党的十九大精神专题宣讲" if year == 2018 else "习近平新时代中国特色社会主义思想专题宣讲",
                    "区委组织部",
                    rng.randint(280, 360),
                ),
                ("专题讲座", "自贸区建设专题讲座", "区委组织部", rng.randint(150, 220)),
                ("干部培训班", "第一期党政干部综合能力提升培训班", "区委党校", rng.randint(90, 130)),
                ("干部培训班", "第二期党政干部综合能力提升培训班", "区委党校", rng.randint(90, 130)),
            ]
            if year == 2019:
                events[0] = ("专题宣讲", "党的十九大精神专题宣讲", "区委组织部", rng.randint(280, 360))
            for kind, title, host, n in events:
                self.add(
                    "cadre_training",
                    self.zzb,
                    {
                        "date": self.day(year, 3, 11).isoformat(),
                        "kind": kind,
                        "title": title,
                        "host": host,
                        "days": "1" if kind != "干部培训班" else "5",
                        "trainees": n * s,
                    },
                    y,
                )
            upper = [
                "市委党校中青年干部培训班",
                "县（市、区）委局长进修班",
                "市委党校科级干部进修班",
                "市委党校乡镇（街道）党委书记培训班",
                "市委党校年轻干部培训班",
                "市委党校统战干部培训班",
                "市委党校纪检监察干部培训班",
            ]
            for title in upper[: 5 + (year - 2018) * 2]:
                self.add(
                    "cadre_training",
                    self.zzb,
                    {
                        "date": self.day(year, 3, 11).isoformat(),
                        "kind": "选派参加上级调训",
                        "title": f"{year}年{title}",
                        "host": "中共市委党校",
                        "trainees": rng.randint(1, 4) * s,
                    },
                    y,
                )
            for title in ["科级干部进修班", "中青年干部培训班", "新任科级干部培训班", "基层党组织书记培训班"][
                : 3 + (year - 2018)
            ]:
                self.add(
                    "cadre_training",
                    self.zzb,
                    {
                        "date": self.day(year, 4, 11).isoformat(),
                        "kind": "区级主体班次",
                        "title": f"{year}年{title}",
                        "host": "区委党校",
                        "days": "10",
                        "trainees": rng.randint(55, 110) * s,
                    },
                    y,
                )
            # 基层一线历练
            for _ in range(self.n(18 + (year - 2018) * 14)):
                sent = self.day(year, 1, 9)
                promoted = sent + dt.timedelta(days=rng.randint(60, 100)) if rng.random() < 0.25 else None
                self.add(
                    "cadre_practice",
                    self.zzb,
                    {
                        "sent_on": sent.isoformat(),
                        "person": self.name(),
                        "post": rng.choice(["拆迁", "河渠治理", "环保攻坚", "信访维稳", "项目建设"]),
                        "promoted_on": promoted.isoformat() if promoted else None,
                    },
                    y,
                )
            # 日常管理
            for _ in range(self.n(120 + (year - 2018) * 40)):
                self.add(
                    "cadre_affairs",
                    self.zzb,
                    {"date": self.day(year).isoformat(), "kind": "出入境备案信息更新", "person": self.name()},
                    y,
                )
            for _ in range(self.n(8 + (year - 2018) * 6)):
                self.add(
                    "cadre_affairs",
                    self.zzb,
                    {
                        "date": self.day(year).isoformat(),
                        "kind": "补收出入境证件",
                        "person": self.name(),
                        "quantity": rng.randint(1, 3),
                    },
                    y,
                )
            for org in rng.sample(self.g["agencies"], 6 + (year - 2018) * 3):
                self.add(
                    "cadre_affairs",
                    self.zzb,
                    {
                        "date": self.day(year).isoformat(),
                        "kind": "离任经济责任审计",
                        "person": self.name(),
                        "unit": org.code,
                    },
                    y,
                )
            if year == 2019:  # 公务员职务与职级并行（2019年6月起）
                for _ in range(self.n(236)):
                    self.add(
                        "cadre_affairs",
                        self.zzb,
                        {
                            "date": self.day(year, 6, 9).isoformat(),
                            "kind": "职级套转",
                            "person": self.name(),
                            "unit": rng.choice(self.g["agencies"]).code,
                        },
                        y,
                    )
            for kind in ("科级干部综合考核", "科级党政领导班子考核", "区属学校领导班子考核"):
                self.add(
                    "cadre_affairs",
                    self.zzb,
                    {
                        "date": self.day(year, 1, 3).isoformat(),
                        "kind": kind,
                        "assess_year": year - 1,
                        "quantity": rng.randint(200, 300) * s,
                    },
                    y,
                )
        for target, line, doc in (
            ("街道办事处领导班子", 35, "关于街道办事处领导班子常态化配备的通知"),
            ("科级领导干部队伍", 40, "关于加强优秀年轻干部培养选拔工作的意见"),
        ):
            self.add(
                "cadre_goal",
                self.zzb,
                {
                    "date": "2018-05-20",
                    "target": target,
                    "young_age": line,
                    "young_min": 1,
                    "female_min": 1,
                    "minority_min": 1 if target.startswith("街道") else 0,
                    "doc": doc,
                },
                "all",
            )

    # --- 人才 ---------------------------------------------------------------------------------------------
    def talent(self) -> None:
        rng = self.rng
        companies = [o.short_name for o in self.g["new_orgs"][:30]]
        self.add(
            "talent_project",
            self.zzb,
            {
                "date": "2018-04-16",
                "program": "英才计划",
                "batch": "第三批",
                "name": "柴永军",
                "is_team": True,
                "employer": companies[0],
                "result": "已入驻",
                "funds": "2000000.00",
            },
            "2018",
        )
        self.add(
            "talent_project",
            self.zzb,
            {
                "date": "2018-05-08",
                "program": "英才计划",
                "batch": "第三批",
                "name": "房大维",
                "is_team": True,
                "employer": companies[1],
                "result": "已入驻",
                "funds": "1500000.00",
            },
            "2018",
        )
        for i in range(4):
            self.add(
                "talent_project",
                self.zzb,
                {
                    "date": self.day(2018, 3, 6).isoformat(),
                    "program": "省优秀专家",
                    "batch": "第九批",
                    "name": self.name(),
                    "employer": rng.choice(companies),
                    "result": "获选" if i == 0 else "未获选",
                },
                "2018",
            )
        for i in range(7):
            self.add(
                "talent_project",
                self.zzb,
                {
                    "date": self.day(2019, 3, 6).isoformat(),
                    "program": "省优秀专家",
                    "batch": "第十批",
                    "name": self.name(),
                    "employer": rng.choice(companies),
                    "result": "获选" if i < 2 else "未获选",
                },
                "2019",
            )
        for _ in range(3):
            self.add(
                "talent_project",
                self.zzb,
                {
                    "date": self.day(2019, 5, 9).isoformat(),
                    "program": "英才计划",
                    "batch": "第四批",
                    "name": self.name(),
                    "is_team": True,
                    "employer": rng.choice(companies),
                    "result": "已申报",
                },
                "2019",
            )
        for _ in range(self.n(86)):
            self.add(
                "talent_project",
                self.zzb,
                {
                    "date": self.day(2019, 11, 12).isoformat(),
                    "program": "公开引进研究生",
                    "batch": "2019年",
                    "name": self.name(),
                    "result": "已申报",
                },
                "2019",
            )

    # --- 监督检查、问题清单、问责 ---------------------------------------------------------------------------
    def supervision(self) -> None:
        rng = self.rng
        owners = self.g["agencies"] + self.g["streets"]
        for year in YEARS:
            y, k = str(year), 1 + (year - 2018) * 0.4
            for i in range(self.n(int(12 * k))):
                self.add(
                    "supervision_check",
                    self.jw,
                    {
                        "date": self.day(year).isoformat(),
                        "area": "重大决策部署",
                        "team": f"第{i % 4 + 1}监督检查组",
                        "project": PROJECTS[i % (8 + (year - 2018) * 4)],
                    },
                    y,
                )
            for i in range(self.n(int(25 * k))):
                self.add(
                    "supervision_check",
                    self.jw,
                    {
                        "date": self.day(year, 3, 11).isoformat(),
                        "area": "环保攻坚",
                        "team": f"环保监督第{i % 5 + 1}组",
                    },
                    y,
                )
            for team in range(1, int(9 * k) + 1):
                for _ in range(self.n(rng.randint(3, 5))):
                    first = rng.choice([1, 4, 9])
                    on = self.day(year, first, first + 1)
                    self.add(
                        "supervision_check",
                        self.jw,
                        {
                            "date": on.isoformat(),
                            "area": "重要节点",
                            "team": f"节点检查第{team}组",
                            "places": rng.randint(4, 9),
                            "vehicles": rng.randint(8, 20),
                        },
                        y,
                    )
            for area, base in (("重大决策部署", 18), ("环保攻坚", 30), ("重要节点", 12)):
                for _ in range(self.n(int(base * k))):
                    self.problem(
                        year,
                        "监督检查",
                        area,
                        f"{area}监督检查发现："
                        + rng.choice(
                            [
                                "责任落实不到位",
                                "工作推进迟缓",
                                "台账资料不健全",
                                "整改不彻底",
                                "履职尽责不到位",
                            ]
                        ),
                        rng.choice(owners),
                    )
            # 问责和问题查处
            plan = {
                "重大决策部署": 9,
                "环保攻坚": 10,
                "群众身边腐败和作风问题": 28,
                "违反中央八项规定精神": 14,
                "形式主义官僚主义": 8,
                "重要节点": 6,
            }
            for area, base in plan.items():
                for p in range(self.n(int(base * k))):
                    no = f"{year}-{AREAS.index(area) + 1}-{p + 1:03d}"
                    bulletin = (
                        f"{year}年第{rng.randint(1, 6)}期"
                        if area == "违反中央八项规定精神" and rng.random() < 0.7
                        else None
                    )
                    on = self.day(year)
                    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
                        handling = rng.choice(
                            [
                                "批评教育",
                                "谈话提醒",
                                "诫勉",
                                "通报批评",
                                "组织处理",
                                "党纪处分",
                                "党纪处分",
                                "政务处分",
                            ]
                        )
                        if area == "违反中央八项规定精神" and rng.random() < 0.5:
                            handling = "党纪处分"
                        self.add(
                            "accountability",
                            self.jw,
                            {
                                "date": on.isoformat(),
                                "problem_no": no,
                                "person": self.name(),
                                "area": area,
                                "handling": handling,
                                "bulletin": bulletin,
                            },
                            y,
                        )

    def problem(
        self, year: int, source: str, kind: str, title: str, owner: Organization, done: float = 0.7
    ) -> None:
        rng = self.rng
        found = self.day(year, 1, 10)
        deadline = found + dt.timedelta(days=rng.choice([30, 60, 90]))
        r = rng.random()
        status = (
            "已销号" if r < done * 0.6 else "已整改" if r < done else "整改中" if r < done + 0.2 else "待整改"
        )
        rectified = (
            min(deadline, dt.date(year, 12, 31)) - dt.timedelta(days=rng.randint(0, 20))
            if status in ("已整改", "已销号")
            else None
        )
        values = {
            "found_on": found.isoformat(), "source": source, "title": title, "kind": kind, "responsible_org": owner.code,
            "deadline": deadline.isoformat(), "rectified_on": rectified.isoformat() if rectified else None,
            "measures": "制定整改方案，明确责任人和完成时限，建立长效机制。" if rectified else None,
        }  # fmt: skip
        status = settled(values, rectified is not None, self.next_key("problem_list", f"{year}:{source}"))
        self.add("problem_list", owner, values, f"{year}:{source}", status)

    def rectification(self) -> None:
        rng = self.rng
        owners = self.g["agencies"] + self.g["streets"]
        for cat in RECTIFY_CATEGORIES:
            for j in range(2):
                self.add(
                    "rectification_project",
                    self.jw,
                    {
                        "date": self.day(2019, 9, 10).isoformat(),
                        "campaign": "漠视侵害群众利益问题专项整治",
                        "category": cat,
                        "title": f"{cat}领域突出问题整治（{'一' if j == 0 else '二'}）",
                        "measures_count": rng.randint(3, 6),
                    },
                    "2019",
                )
        for cat in RECTIFY_CATEGORIES:
            for _ in range(self.n(rng.randint(5, 8))):
                title = rng.choice(RECTIFY_PROBLEMS[cat])
                found = self.day(2019, 9, 10)
                published = cat != "扶贫救助" and rng.random() < 0.6  # 第一批公布的成果
                status = rng.choice(["已整改", "已销号"]) if published else rng.choice(["整改中", "待整改"])
                rectified = found + dt.timedelta(days=rng.randint(20, 60)) if published else None
                owner = rng.choice(owners)
                values = {
                    "found_on": found.isoformat(), "source": "专项整治", "title": f"{owner.short_name}{title}", "kind": cat,
                    "responsible_org": owner.code, "deadline": "2019-12-31", "rectified_on": rectified.isoformat() if rectified else None,
                    "measures": f"开展{cat}领域专项整治，逐项整改到位。",
                }  # fmt: skip
                status = settled(values, published, self.next_key("problem_list", "2019:专项整治"))
                self.add("problem_list", owner, values, "2019:专项整治", status)

    # --- 纪律审查 -------------------------------------------------------------------------------------------
    def discipline(self) -> None:
        rng = self.rng
        for year in YEARS:
            y, k = str(year), 1 + (year - 2018) * 0.3
            for i in range(self.n(int(150 * k))):
                source = rng.choice(
                    ["信访举报", "信访举报", "巡察移交", "监督检查", "审计移交", "上级交办", "其他"]
                )
                self.add(
                    "discipline_clue",
                    self.jw,
                    {
                        "received_on": self.day(year).isoformat(),
                        "clue_no": f"XS{year}{i + 1:04d}",
                        "source": source,
                        "person": self.name(),
                        "disposal": rng.choice(["谈话函询", "初步核实", "暂存待查", "予以了结", "立案审查"]),
                    },
                    y,
                )
            persons = 0
            for c in range(self.n(int(48 * k))):
                no = f"示纪案〔{year}〕{c + 1}号"
                on = self.day(year, 1, 11)
                area = (
                    "亲清政商关系"
                    if c % 12 == 3
                    else rng.choice(["群众身边腐败和作风问题", "违反中央八项规定精神", "其他", "其他"])
                )
                offence = rng.choice(OFFENCES.get(area, OFFENCES["其他"]))
                for _ in range(rng.choice([1, 1, 1, 2])):
                    persons += 1
                    r = rng.random()
                    party = (
                        rng.choice(["警告", "严重警告", "撤销党内职务", "留党察看", "开除党籍"])
                        if r < 0.75
                        else None
                    )
                    gov = (
                        rng.choice(["警告", "记过", "记大过", "降级", "撤职", "开除"])
                        if 0.45 < r < 0.92
                        else None
                    )
                    sanctions = [s for s, v in (("党纪处分", party), ("政务处分", gov)) if v]
                    self.add("discipline_case", self.jw, {
                        "filed_on": on.isoformat(), "case_no": no, "person": self.name(),
                        "rank": rng.choice(["乡科级", "一般干部", "一般干部", "其他人员"]),
                        "sanctions": sanctions or None, "party_sanction": party, "gov_sanction": gov,
                        "org_handling": rng.choice(["停职检查", "调整职务", "免职", "降职"]) if rng.random() < 0.15 else None,
                        "detained": rng.random() < 0.06, "transferred": rng.random() < 0.05,
                        "amount": f"{rng.randint(1, 80) * 1000}.00" if rng.random() < 0.4 else None,
                        "area": area, "title": f"{self.anon()}{offence}",
                    }, y)  # fmt: skip
            forms = {"第一种形态": 260, "第二种形态": 70, "第三种形态": 14, "第四种形态": 9}
            measures = {
                "第一种形态": ["谈话提醒", "批评教育", "诫勉", "责令检查"],
                "第二种形态": ["党内警告", "严重警告", "组织调整"],
                "第三种形态": ["留党察看", "撤职", "重大职务调整"],
                "第四种形态": ["开除党籍并移送司法机关"],
            }
            for form, base in forms.items():
                for _ in range(self.n(int(base * k))):
                    self.add(
                        "discipline_form",
                        self.jw,
                        {
                            "date": self.day(year).isoformat(),
                            "person": self.name(),
                            "form": form,
                            "measure": rng.choice(measures[form]),
                        },
                        y,
                    )

    # --- 廉政教育和以案促改 ---------------------------------------------------------------------------------
    def integrity(self) -> None:
        rng = self.rng
        units = self.g["agencies"] + self.g["streets"] + self.g["schools"]
        for year in YEARS:
            y = str(year)
            for org in units:
                for _ in range(self.scale):
                    self.add(
                        "integrity_activity",
                        org,
                        {
                            "date": self.day(year, 3, 11).isoformat(),
                            "kind": "以案促改警示教育",
                            "title": "以案促改警示教育大会",
                            "participants": rng.randint(20, 80),
                        },
                        y,
                    )
                    if org in self.g["agencies"] or org in self.g["streets"]:
                        self.add(
                            "integrity_activity",
                            org,
                            {
                                "date": self.day(year, 4, 11).isoformat(),
                                "kind": "专题民主生活会",
                                "title": "以案促改专题民主生活会",
                            },
                            y,
                        )
                    self.add(
                        "integrity_activity",
                        org,
                        {
                            "date": self.day(year, 4, 11).isoformat(),
                            "kind": "专题组织生活会",
                            "title": "以案促改专题组织生活会",
                            "participants": rng.randint(10, 40),
                        },
                        y,
                    )
                    self.add("integrity_activity", org, {
                        "date": self.day(year, 6, 12).isoformat(), "kind": "以案促改制度建设", "title": "以案促改查纠问题和完善制度",
                        "problems": rng.randint(2, 6), "rules_abolished": rng.randint(0, 2), "rules_revised": rng.randint(1, 3), "rules_created": rng.randint(1, 3),
                    }, y)  # fmt: skip
                    if rng.random() < 0.7:
                        self.add(
                            "integrity_activity",
                            org,
                            {
                                "date": self.day(year).isoformat(),
                                "kind": "家风建设活动",
                                "title": rng.choice(["家风家训分享会", "廉内助座谈会", "清廉家庭评选"]),
                                "participants": rng.randint(30, 120),
                            },
                            y,
                        )
                    for _ in range(rng.randint(1, 3)):
                        self.add(
                            "integrity_activity",
                            org,
                            {
                                "date": self.day(year).isoformat(),
                                "kind": "廉政文化集中活动",
                                "title": rng.choice(
                                    ["廉政文化进机关", "观看廉政教育片", "参观廉政教育基地", "廉政知识测试"]
                                ),
                                "participants": rng.randint(30, 150),
                            },
                            y,
                        )

    # --- 巡察 -----------------------------------------------------------------------------------------------
    def inspection(self) -> None:
        rng = self.rng
        communities = list(self.g["communities"])
        agencies = self.g["agencies"] + self.g["streets"]
        for org in communities:
            self.add(
                "inspection_plan",
                self.root,
                {"listed_on": "2017-03-01", "target": org.code, "target_type": "社区党组织"},
                "all",
            )
        for org in agencies:
            self.add(
                "inspection_plan",
                self.root,
                {"listed_on": "2017-03-01", "target": org.code, "target_type": "党组（党工委）"},
                "all",
            )
        rng.shuffle(communities)
        per_year = {
            2017: len(communities) * 15 // 100,
            2018: len(communities) * 25 // 100,
            2019: len(communities) * 38 // 100,
        }
        taken = 0
        for year in (2017, 2018, 2019):
            y = str(year)
            targets = communities[taken : taken + per_year[year]]
            taken += per_year[year]
            parties = rng.sample(agencies, 10 + (year - 2017) * 2)
            rounds = 3 if year == 2019 else 2
            names = ["第一轮", "第二轮", "第三轮"]
            for i, org in enumerate(parties + targets):
                rnd = i % rounds
                on = dt.date(year, 3 + rnd * 3, 10) + dt.timedelta(days=rng.randint(0, 20))
                kind = "常规巡察"
                values = {
                    "date": on.isoformat(), "round": f"{year}年{names[rnd]}", "kind": kind, "target": org.code,
                    "target_type": "党组（党工委）" if org in agencies else "社区党组织",
                    "notices_explain": rng.randint(1, 2), "notices_fix": rng.randint(0, 2), "clues": rng.randint(0, 2),
                    "handled": rng.randint(0, 4), "recovered": f"{rng.randint(0, 30) * 5000}.00",
                }  # fmt: skip
                self.add("inspection", self.root, values, y)
                for _ in range(rng.randint(3, 6)):
                    self.problem(
                        year,
                        "巡察",
                        "巡察发现问题",
                        f"{org.short_name}"
                        + rng.choice(
                            [
                                "党建责任落实不到位",
                                "三会一课不规范",
                                "财务管理不规范",
                                "选人用人程序不严",
                                "整改不到位",
                            ]
                        ),
                        org,
                        done=0.75,
                    )
            if year == 2019:  # 两轮巡察“回头看”
                for rnd, org in enumerate(rng.sample(agencies, 4)):
                    on = dt.date(year, 9 + rnd % 2 * 2, 12)
                    self.add("inspection", self.root, {
                        "date": on.isoformat(), "round": f"{year}年回头看第{'一二'[rnd % 2]}轮", "kind": "巡察“回头看”", "target": org.code,
                        "target_type": "党组（党工委）", "notices_explain": 1, "notices_fix": rng.randint(0, 1), "clues": rng.randint(0, 1),
                        "handled": rng.randint(0, 2), "recovered": f"{rng.randint(0, 10) * 5000}.00",
                    }, y)  # fmt: skip

    def build(self) -> int:
        self.cadres()
        self.cadre_work()
        self.talent()
        self.supervision()
        self.rectification()
        self.discipline()
        self.integrity()
        self.inspection()
        return save_new(self.records)


def build(groups: dict[str, list[Organization]], seed: int, scale: int) -> int:
    return Builder(groups, seed, scale).build()
