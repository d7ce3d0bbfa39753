"""Demo records for the seed2019 report, part 1 (title, preamble, chapters 一 and 二: seed lines 1–16).

Two years (2018 and 2019) of records for 示范区, reproducible from the seed: random.Random(seed) and
Faker("zh_CN").seed_instance(seed). Every record is built as a dict of raw values and saved through the write service
(its field validators included), so what is stored is exactly what a clerk's entry would store. Keys start with
"demo:seed2019:p1:" so a second `dangjian init --demo` adds nothing.

The figures are chosen so that the 2019 report reads true: every blank of part 1 is positive, named things
(plays, speakers, bases, brands, communities) are realistic, and all p1_ checks hold. `scale` (1, 10, 100)
multiplies the bulk: the per-unit records grow with the number of communities and 两新 organisations that the
tree builder creates, party members and district-wide activities with the factor itself.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

from faker import Faker

from dangjian.orgs.models import Organization
from dangjian.records.models import LedgerType

from .generator import DemoRecord, demo_record, gendered_name, save_new, settled

PREFIX = "demo:seed2019:p1"
YEARS = (2018, 2019)

# --- names (2019 first; 2018 variants where the report compares years) ------------------------------------------

PLAYS = {
    2019: ["焦裕禄", "红旗渠", "大河安澜", "重渡沟"],
    2018: ["朝阳沟", "常香玉", "程婴救孤"],
}
LECTURE_TITLES = [
    "深入学习贯彻习近平新时代中国特色社会主义思想",
    "学习贯彻党的十九届四中全会精神",
    "推进国家治理体系和治理能力现代化",
    "新中国70年的伟大成就与历史经验",
    "以高质量党建推动高质量发展",
    "全面从严治党永远在路上",
]
BASES = {  # (place, date) — the report names the first 展览馆 and the first two 纪念馆 by date
    2019: [
        ("东方红农耕展览馆", 4),
        ("焦裕禄同志纪念馆", 5),
        ("红旗渠纪念馆", 6),
        ("八路军驻洛办事处纪念馆", 9),
        ("二里头夏都遗址博物馆", 10),
    ],
    2018: [("一五工业遗产展览馆", 5), ("杨靖宇将军纪念馆", 7), ("豫西抗日根据地纪念馆", 9)],
}
SPIRITS = {2019: "焦裕禄精神", 2018: "红旗渠精神"}
OTHER_SERIES = ["我和我的祖国", "脱贫攻坚", "新中国成立70周年", "扫黑除恶专项斗争", "优化营商环境"]
THEME_VIDEOS = [
    "守望初心",
    "楼院里的红管家",
    "老支书的账本",
    "一枚党徽",
    "巷子里的光",
    "我的入党志愿书",
    "匠心",
    "社区的灯",
]
OTHER_VIDEOS = [
    "新思想进万家", "理论微讲堂", "强国复兴有我", "小区里的新变化", "我们的节日", "文明新风", "百姓说变化",
    "新时代新气象", "家门口的幸福", "奋斗的青春", "红色印记", "法治小课堂",
]  # fmt: skip
DRAMA = {2019: "炉火", 2018: "车间春秋"}
TOUR_SHOW = {2019: "书记带你游家乡", 2018: "老家的味道"}
EXHIBITION_HALL = {2019: "一五工业遗产陈列馆", 2018: "区档案史料陈列馆"}
SOCIAL_ORGS = [
    "乐龄养老服务中心", "阳光社会工作服务社", "爱心助残协会", "暖阳青少年服务中心", "邻里守望志愿者协会",
    "康乐家庭服务中心", "同心调解服务社", "益家公益发展中心", "善行义工联合会", "绿色家园环保协会",
    "书香阅读推广会", "心语心理咨询服务站",
]  # fmt: skip
BRANDS = [
    "三家七社十色服务",
    "党旗下的邻里情",
    "红色细胞工程",
    "楼院红管家",
    "一刻钟便民服务圈",
    "邻里守望365",
    "红色物业联盟",
]
MEMBER_SPECIALTIES = [
    "非遗剪纸",
    "豫剧表演",
    "种植技术",
    "中医推拿",
    "电子商务",
    "书法",
    "家政服务",
    "农机维修",
    "烹饪",
]
RESEARCH_AREAS = [
    "制造业高质量发展",
    "养老服务",
    "老旧小区改造",
    "营商环境",
    "城市精细化管理",
    "教育均衡发展",
    "社区治理",
    "文旅融合",
]
GOVERNANCE_TASKS = {
    "自治": ["完善居民公约", "推行志愿者积分激励", "健全居民议事协商", "推进楼院自治", "规范业主委员会运行", "推广“四议两公开”", "建立社区协商目录", "培育居民自治组织"],
    "法治": ["完善矛盾纠纷多元化解", "推进“雪亮工程”", "开展“四官服务进社区”", "推进公共法律服务站建设", "开展法治宣传进楼院", "规范社区网格化管理"],
    "德治": ["开展党的创新理论宣讲", "评选道德模范和身边好人", "开展“快乐星期天”文化活动", "推进公益电影放映", "开展文明家庭创建"],
}  # fmt: skip
SERVICE_ONLINE = [
    "居住证办理", "老年优待证办理", "高龄津贴申请", "城乡居民医保登记", "就业登记", "失业登记", "计划生育证明", "低保申请",
    "临时救助申请", "残疾人证申请", "独生子女父母光荣证", "流动人口登记", "社区证明开具", "志愿者注册", "党员组织关系转接",
    "房屋租赁登记", "退役军人信息采集", "困难群众认定", "养老保险资格认证", "灵活就业登记", "创业担保贷款申请",
    "城乡居民养老保险参保", "慈善救助申请", "孕情登记", "出生医学证明预约", "社区活动室预约",
]  # fmt: skip
SERVICE_DOOR = [
    "高龄老人认证", "重度残疾人证件代办", "独居老人医保报销", "低保复核入户", "困难群众救助代办", "养老金领取资格认证",
    "居家养老服务申请", "特困人员供养申请", "失能老人护理补贴", "退役军人优待证代办", "房屋维修基金申请", "燃气开户代办",
]  # fmt: skip


class Builder:
    """Collects records for save_new(), which validates each through the write service."""

    def __init__(self, groups: dict[str, list[Organization]], seed: int, scale: int) -> None:
        self.rng = random.Random(seed * 7 + 1)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.scale = scale
        self.groups = groups
        self.by_code = {o.code: o for o in groups["all"]}
        self.root = groups["root"][0]
        self.zzb = self.by_code["demo-zzb"]
        self.xcb = self.by_code["demo-xcb"]
        self.lx = self.by_code.get("demo-lx", self.root)
        self.ledgers = {lt.code: lt for lt in LedgerType.objects.prefetch_related("fields")}
        self.records: list[DemoRecord] = []
        self.seen: set[str] = set()

    # --- helpers ---------------------------------------------------------------------------------------------
    def day(self, year: int, first_month: int = 1, last_month: int = 12) -> dt.date:
        start = dt.date(year, first_month, 1)
        end = dt.date(year + (last_month == 12), last_month % 12 + 1, 1) - dt.timedelta(days=1)
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))

    def street_of(self, community: Organization) -> Organization:
        return self.by_code[community.code.rsplit("-", 1)[0]]

    def add(
        self, ledger_code: str, org: Organization, key: str, values: dict[str, Any], status: str = ""
    ) -> None:
        lt = self.ledgers.get(ledger_code)
        if lt is None:  # a ledger of the other part not loaded (yet): skip its records rather than fail
            return
        full_key = f"{PREFIX}:{ledger_code}:{key}"
        if full_key in self.seen:
            raise ValueError(f"演示数据键重复：{full_key}")
        self.seen.add(full_key)
        self.records.append(demo_record(lt, org, values, full_key, status))

    def units(self, *names: str) -> list[Organization]:
        return [o for name in names for o in self.groups[name]]


def build(groups: dict[str, list[Organization]], seed: int, scale: int) -> int:
    b = Builder(groups, seed, scale)
    for year in YEARS:
        now = year == 2019
        study(b, year, now)
        publicity(b, year, now)
        meetings(b, year, now)
        theme_education(b, year, now)
        governance(b, year, now)
        grassroots(b, year, now)
    members(b)
    number_by_date(b.records)
    return save_new(b.records)


NUMBERED = re.compile(r"第(\d+)(条|项|次)")


def number_by_date(records: list[DemoRecord]) -> None:
    """Items numbered in a series (“第3条”) are numbered in the order of their dates: within one ledger, unit and
    title, the 1st comes first. Only the number changes; the records and their dates stay as drawn."""
    series: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for r in records:
        values = r.entry.values
        title = values.get("title")
        if isinstance(title, str) and NUMBERED.search(title):
            series.setdefault((r.ledger_type.code, r.entry.org.pk, NUMBERED.sub("#", title)), []).append(
                values
            )
    for items in series.values():
        date_code = "found_on" if "found_on" in items[0] else "date"
        items.sort(key=lambda v: (str(v.get(date_code, "")), _number(v["title"])))
        for k, values in enumerate(items, start=1):
            values["title"] = NUMBERED.sub(f"第{k}\\2", values["title"], count=1)


def _number(title: str) -> int:
    """The N of a title's 第N次/条/项 (titles without one sort first)."""
    found = NUMBERED.search(title)
    return int(found.group(1)) if found else 0


# --- chapter 一 (一)：理论学习、宣讲 ------------------------------------------------------------------------------


def study(b: Builder, year: int, now: bool) -> None:
    rng, fake, root = b.rng, b.fake, b.root
    # 区委理论学习中心组集体学习；2019 年其中 3 期结合主题教育集中学习（2、2、1 天）。
    sessions = 16 if now else 14
    theme_days = [2, 2, 1] if now else []
    days = [
        dt.date(year, 6 + n, 10)
        if n < len(theme_days)
        else dt.date(year, 1 + n * 11 // sessions, 8 + n % 3 * 6)
        for n in range(sessions)
    ]
    number = {d: k + 1 for k, d in enumerate(sorted(days))}  # the sessions are numbered in the order held
    for n in range(sessions):
        theme = n < len(theme_days)
        day = days[n]
        b.add(
            "study_activity", root, f"{year}:zxz:{n}",
            {
                "date": day, "kind": "中心组集体学习", "title": f"区委理论学习中心组{year}年第{number[day]}次集体学习",
                "speaker": fake.name(), "place": "区委常委会议室", "days": str(theme_days[n]) if theme else "0.5",
                "participants": rng.randint(28, 42), "theme_education": theme,
            },
        )  # fmt: skip
    for n, play in enumerate(PLAYS[year]):
        b.add(
            "study_activity", root, f"{year}:play:{n}",
            {"date": dt.date(year, 3 + n * 2, 15), "kind": "观看舞台剧", "title": play, "place": "区文化艺术中心", "participants": rng.randint(80, 200)},
        )  # fmt: skip
    for n in range(5 if now else 4):
        b.add(
            "study_activity", root, f"{year}:lecture:{n}",
            {
                "date": dt.date(year, 2 + n * 2, 20), "kind": "专题报告", "title": LECTURE_TITLES[n], "speaker": fake.name(),
                "place": "区委党校报告厅", "participants": rng.randint(150, 300),
            },
        )  # fmt: skip
    for n, (place, month) in enumerate(BASES[year]):
        b.add(
            "study_activity", root, f"{year}:base:{n}",
            {"date": dt.date(year, month, 18), "kind": "参观教育基地", "title": f"赴{place}开展现场教学", "place": place, "participants": rng.randint(30, 45)},
        )  # fmt: skip

    # 基层理论宣讲：街道、社区、区直单位；其中一部分属于“××精神”专题。
    lecture_units = b.units("streets", "communities", "agencies")
    n = 0
    for org in lecture_units:
        for _ in range(rng.randint(2, 4) if now else rng.randint(1, 3)):
            series = SPIRITS[year] if rng.random() < 0.18 else rng.choice(OTHER_SERIES + [""])
            b.add(
                "study_activity", org, f"{year}:xj:{n}",
                {
                    "date": b.day(year), "kind": "理论宣讲", "title": f"{series or '党的创新理论'}进基层宣讲（{org.short_name}）",
                    "speaker": fake.name(), "series": series, "participants": rng.randint(30, 120),
                    "theme_education": now and rng.random() < 0.3,
                },
            )  # fmt: skip
            n += 1
    # “我和我的祖国”微型党课比赛：各街道和部分区直单位各一场，选拔优秀选手参加全区比赛。
    for n, org in enumerate(b.units("streets") + b.groups["agencies"][: 6 if now else 4]):
        b.add(
            "study_activity", org, f"{year}:wxdk:{n}",
            {
                "date": b.day(year, 6, 9), "kind": "微型党课比赛", "title": f"“我和我的祖国”微型党课比赛（{org.short_name}）",
                "series": "我和我的祖国", "participants": rng.randint(40, 90), "awarded": rng.randint(1, 3),
            },
        )  # fmt: skip
    # “学习强国”答题挑战赛。
    for n, org in enumerate(b.units("streets") + b.groups["agencies"][: 9 if now else 3]):
        b.add(
            "study_activity", org, f"{year}:xxqg:{n}",
            {"date": b.day(year, 7, 10), "kind": "知识竞赛", "title": "“学习强国——我和我的祖国”答题挑战赛", "participants": rng.randint(30, 80)},
        )  # fmt: skip
    # 党务工作者外出学习培训：分四批，到成都、新乡先进群体教育基地和兰考县委党校。
    batches = (
        [("成都市委党校", 5), ("新乡先进群体教育基地", 6), ("兰考县委党校", 9), ("新乡先进群体教育基地", 10)]
        if now
        else [("井冈山干部学院", 6), ("延安干部学院", 9)]
    )
    for n, (place, month) in enumerate(batches):
        b.add(
            "study_activity", b.zzb, f"{year}:dwgz:{n}",
            {
                "date": dt.date(year, month, 12), "kind": "培训班", "title": f"全区各领域党务工作者学习培训（第{n + 1}批）",
                "place": place, "days": "5", "participants": rng.randint(55, 70) * b.scale,
            },
        )  # fmt: skip


# --- chapter 一 (一)(二)：宣传文化作品、会议、重要讲话精神 ------------------------------------------------------------


def publicity(b: Builder, year: int, now: bool) -> None:
    rng = b.rng
    streets = b.groups["streets"]
    theme = THEME_VIDEOS if now else []
    videos = (
        [(t, True) for t in theme]
        + [(t, False) for t in OTHER_VIDEOS]
        + [(f"{s.short_name}新风貌", False) for s in streets]
    )
    if not now:
        videos = videos[:14]
    for n, (title, is_theme) in enumerate(videos):
        org = b.xcb if is_theme or n % 3 == 0 else streets[n % len(streets)]
        day = dt.date(year, 7 + n % 3, 5 + n) if is_theme else b.day(year)
        b.add(
            "publicity_work", org, f"{year}:video:{n}",
            {"date": day, "kind": "微视频", "title": title, "producer": org.short_name, "theme_education": is_theme, "views": rng.randint(2000, 60000)},
        )  # fmt: skip
    for n, (kind, title, month) in enumerate(
        [
            ("话剧", DRAMA[year], 9),
            ("文旅节目", TOUR_SHOW[year], 8),
            ("文艺汇演", "辉煌七十载 筑梦新时代" if now else "改革开放四十年", 9),
            ("合唱活动", "颂歌献祖国 唱响新时代" if now else "唱支山歌给党听", 6),
            ("书画展", "辉煌七十载，筑梦新时代" if now else "翰墨颂改革", 9),
        ]
    ):
        b.add(
            "publicity_work", b.xcb, f"{year}:work:{n}",
            {"date": dt.date(year, month, 20 + n), "kind": kind, "title": title, "producer": "区委宣传部", "theme_education": now and kind == "话剧"},
        )  # fmt: skip


def meetings(b: Builder, year: int, now: bool) -> None:
    root = b.root
    plenaries = [8, 9] if now else [6, 7]
    for n, no in enumerate(plenaries):
        b.add(
            "important_meeting", root, f"{year}:plenary:{n}",
            {"date": dt.date(year, 1 + n * 11, 10), "kind": "区委全会", "title": f"中共示范区第十二届委员会第{no}次全体会议", "term": 12, "plenary_no": no, "participants": 60},
        )  # fmt: skip
    b.add(
        "important_meeting",
        root,
        f"{year}:jw",
        {"date": dt.date(year, 2, 1), "kind": "区纪委全会", "title": "区纪委全体会议", "participants": 120},
    )
    b.add(
        "important_meeting",
        root,
        f"{year}:cadres",
        {
            "date": dt.date(year, 3, 2),
            "kind": "全区领导干部大会",
            "title": "全区领导干部大会",
            "participants": 400,
        },
    )
    b.add(
        "important_meeting", root, f"{year}:review",
        {"date": dt.date(year, 2, 26), "kind": "党建工作责任制述职评议会议", "title": f"{year - 1}年度党建工作责任制述职评议会议", "review_year": year - 1, "participants": 150},
    )  # fmt: skip
    if now:
        b.add(
            "directive_followup", root, f"{year}:henan",
            {
                "date": dt.date(year, 9, 20), "kind": "考察调研重要讲话", "title": "习近平总书记在河南考察调研时的重要讲话", "place": "河南",
                "document": "关于学习宣传贯彻习近平总书记考察调研河南时重要讲话精神的通知", "measures": "区委常委会专题传达学习，印发通知，部署贯彻落实。",
            },
        )  # fmt: skip
        b.add(
            "directive_followup", root, f"{year}:4zqh",
            {"date": dt.date(year, 11, 5), "kind": "重要讲话", "title": "习近平总书记在党的十九届四中全会上的重要讲话", "document": "关于认真学习宣传贯彻十九届四中全会精神的通知"},
        )  # fmt: skip
    else:
        b.add(
            "directive_followup",
            root,
            f"{year}:zg",
            {
                "date": dt.date(year, 3, 15),
                "kind": "重要讲话",
                "title": "习近平总书记在全国两会期间的重要讲话",
            },
        )


# --- chapter 一 (三)：主题教育 ------------------------------------------------------------------------------------


def theme_education(b: Builder, year: int, now: bool) -> None:
    rng, fake, root = b.rng, b.fake, b.root
    units = b.units("discipline", "departments", "streets", "agencies", "schools")
    basic = b.units("communities", "new_orgs")
    # 典型：2019 年其中 8 名在主题教育中选树（“党员榜样”初心故事）。
    total_models = 26 if now else 18
    for n in range(total_models):
        is_theme = now and n < 8
        org = b.xcb if is_theme else rng.choice(b.units("streets", "communities"))
        b.add(
            "role_model", org, f"{year}:model:{n}",
            {
                "date": dt.date(year, 7, 1 + n) if is_theme else b.day(year), "name": fake.name(), "unit": org.short_name,
                "kind": "党员榜样" if is_theme else rng.choice(["优秀共产党员", "道德模范", "身边好人", "最美人物"]),
                "theme_education": is_theme, "story": "扎根基层、服务群众的初心故事。",
            },
        )  # fmt: skip
    if not now:
        return  # 主题教育始于 2019 年

    # 各级党组织集中学习、交流研讨（主题教育）：参与党员人次。
    n = 0
    for org in units + basic:
        for kind in ("中心组集体学习" if org in units else "交流研讨", "交流研讨"):
            b.add(
                "study_activity", org, f"{year}:ztjy:{n}",
                {
                    "date": b.day(year, 6, 11), "kind": kind, "title": f"“不忘初心、牢记使命”主题教育集中学习研讨（{org.short_name}）",
                    "participants": rng.randint(20, 90), "theme_education": True,
                },
            )  # fmt: skip
            n += 1
    # 专题党课：区委书记带头，各级领导干部到分管领域、基层联系点讲党课。
    for n, org in enumerate([root] + units):
        b.add(
            "study_activity", org, f"{year}:ztdk:{n}",
            {"date": b.day(year, 7, 11), "kind": "专题党课", "title": "“不忘初心、牢记使命”专题党课", "speaker": fake.name(), "participants": rng.randint(30, 120), "theme_education": True},
        )  # fmt: skip

    # 调研：28 名县处级干部确定 35 个主题，科级干部确定课题（区直单位、街道）。
    leaders = [fake.name() for _ in range(28)]
    for n in range(35):
        leader = leaders[n % len(leaders)]
        area = RESEARCH_AREAS[n % len(RESEARCH_AREAS)]
        b.add(
            "research_topic", root, f"{year}:county:{n}",
            {
                "date": b.day(year, 6, 7), "title": f"关于{area}的调研（{n + 1}）", "leader": leader, "rank": "县处级", "area": area,
                "suggestions": rng.randint(3, 8), "blockages": rng.randint(1, 4), "deeds": rng.randint(1, 4),
                "experiences": rng.randint(0, 3), "report_done": n < 32,
            },
        )  # fmt: skip
    for n, org in enumerate(b.units("streets", "agencies", "departments", "schools") * 3):
        area = rng.choice(RESEARCH_AREAS)
        b.add(
            "research_topic", org, f"{year}:section:{n}",
            {"date": b.day(year, 6, 8), "title": f"{org.short_name}关于{area}的调研课题（{n + 1}）", "leader": fake.name(), "rank": "乡科级", "area": area, "report_done": rng.random() < 0.8},
        )  # fmt: skip

    # 征求意见：问卷、座谈、网络征集、入户走访；下沉调研征集物业管理、小区环境卫生等方面的问题建议。
    n = 0
    for org in b.units("streets", "agencies"):
        for channel in ("问卷调查", "座谈会", "网络征集", "入户走访"):
            b.add(
                "opinion_collection", org, f"{year}:opinion:{n}",
                {
                    "date": b.day(year, 6, 8), "channel": channel, "questionnaires": rng.randint(80, 300) if channel == "问卷调查" else 0,
                    "opinions": rng.randint(3, 15), "theme_education": True,
                },
            )  # fmt: skip
            n += 1
    for org in b.units("streets"):
        for _ in range(3):
            b.add(
                "opinion_collection", org, f"{year}:opinion:{n}",
                {"date": b.day(year, 7, 10), "channel": "下沉调研", "opinions": rng.randint(8, 20), "topics": "物业管理、小区环境卫生", "theme_education": True},
            )  # fmt: skip
            n += 1

    # 问题清单（problem_list，第二部分定义）。
    def problem(
        org: Organization, tag: str, source: str, kind: str, title: str, done: bool, found: dt.date
    ) -> None:
        deadline = found + dt.timedelta(days=rng.randint(30, 90))
        values = {
            "found_on": found, "source": source, "title": title, "kind": kind, "responsible_org": org.code, "deadline": deadline,
            "measures": "明确责任人和整改时限，逐项整改，对账销号。",
        }  # fmt: skip
        if done:
            values["rectified_on"] = min(deadline, dt.date(year, 12, 20))
        rng.choice(
            ["已整改", "已销号"] if done else ["待整改", "整改中"]
        )  # the 2019 state; drawn to keep the sequence
        status = settled(values, done, f"{PREFIX}:problem_list:{year}:{tag}")
        b.add("problem_list", org, f"{year}:{tag}", values, status)

    for n in range(142):
        problem(
            root,
            f"county:{n}",
            "主题教育",
            "县处级领导干部检视问题",
            f"县处级领导干部检视问题（第{n + 1}条）",
            rng.random() < 0.7,
            b.day(year, 7, 9),
        )
    for kind, count in (("遗留历史问题", 26), ("民生问题工作事项", 41), ("限期提升工作事项", 33)):
        for n in range(count):
            org = rng.choice(b.units("streets", "agencies"))
            problem(
                org,
                f"4+2:{kind}:{n}",
                "主题教育",
                kind,
                f"{kind}（{org.short_name}第{n + 1}项）",
                rng.random() < 0.78,
                b.day(year, 7, 10),
            )
    for n, org in enumerate(b.groups["communities"] * 5):
        problem(
            org,
            f"mass:{n}",
            "群众意见",
            "联系群众问题建议",
            f"群众反映问题建议（{org.short_name}）",
            rng.random() < 0.86,
            b.day(year, 7, 12),
        )
    for n in range(12):
        problem(
            root,
            f"team:{n}",
            "民主生活会",
            "班子问题",
            f"区委常委班子专题民主生活会查摆问题（第{n + 1}条）",
            rng.random() < 0.6,
            dt.date(year, 12, 10),
        )
    for n in range(64):
        problem(
            root,
            f"member:{n}",
            "民主生活会",
            "班子成员问题",
            f"区委常委班子成员查摆问题（第{n + 1}条）",
            rng.random() < 0.5,
            dt.date(year, 12, 10),
        )

    # 党员联系群众走访：各社区按月汇总。
    ranks = ["县处级干部", "科级干部", "社区干部", "普通党员"]
    for org in b.groups["communities"]:
        for month in range(6, 13):
            for rank in ranks:
                b.add(
                    "mass_visit", org, f"{year}:{org.code}:{month}:{rank}",
                    {"date": dt.date(year, month, 28), "rank": rank, "visits": rng.randint(3, 12) if rank == "县处级干部" else rng.randint(15, 45)},
                )  # fmt: skip

    # 专题民主生活会（区委和参学单位班子）和专题组织生活会（社区、两新组织等基层党组织）。
    for n, org in enumerate([root] + units):
        b.add(
            "democratic_life",
            org,
            f"{year}:mzsh:{n}",
            {
                "date": b.day(year, 11, 12),
                "kind": "专题民主生活会",
                "topic": "主题教育",
                "attendees": rng.randint(5, 15),
                "host": fake.name(),
            },
        )
    for n, org in enumerate(basic):
        b.add(
            "democratic_life",
            org,
            f"{year}:zzsh:{n}",
            {
                "date": b.day(year, 12, 12),
                "kind": "专题组织生活会",
                "topic": "主题教育",
                "attendees": rng.randint(5, 40),
                "host": fake.name(),
            },
        )


# --- chapter 二 (一)：以党建引领基层治理 -------------------------------------------------------------------------------


def governance(b: Builder, year: int, now: bool) -> None:
    rng, fake = b.rng, b.fake
    communities = b.groups["communities"]
    if now:
        for category, titles in GOVERNANCE_TASKS.items():
            for n, title in enumerate(titles):
                b.add(
                    "governance_task",
                    b.root,
                    f"{year}:{category}:{n}",
                    {
                        "date": dt.date(year, 4, 2),
                        "category": category,
                        "title": title,
                        "lead_unit": "区委组织部",
                        "deadline": dt.date(year, 12, 31),
                    },
                )
    # 志愿服务积分储户（累计）和志愿服务。
    for org in communities:
        for n in range(rng.randint(3, 5) if now else rng.randint(2, 4)):
            kind = rng.choice(["爱心商家", "党员居民", "党员居民", "普通居民"])
            name = (
                fake.company_prefix() + rng.choice(["超市", "药房", "餐馆", "理发店"])
                if kind == "爱心商家"
                else fake.name()
            )
            b.add(
                "volunteer_account",
                org,
                f"{year}:{org.code}:{n}",
                {"date": b.day(year), "name": name, "kind": kind, "points": rng.randint(10, 300)},
            )
    n = 0
    streets = b.groups["streets"]
    teams = [f"{s.short_name}四官服务队" for s in streets]
    social = SOCIAL_ORGS if now else SOCIAL_ORGS[:5]
    for org in communities:
        street = b.street_of(org)
        for kind, times, served in (
            ("志愿服务", (4, 7), (20, 80)),
            ("法律咨询", (2, 4) if now else (1, 2), (60, 120)),
            ("三社联动", (3, 6) if now else (1, 3), (40, 100)),
            ("文化惠民", (2, 4), (50, 200)),
            ("实践活动", (1, 2), (20, 80)),
        ):
            for _ in range(rng.randint(*times)):
                team = {"法律咨询": teams[streets.index(street)], "三社联动": rng.choice(social)}.get(
                    kind, ""
                )
                b.add(
                    "service_activity", org, f"{year}:{n}",
                    {"date": b.day(year), "kind": kind, "title": f"{kind}进社区（{org.short_name}）", "team": team, "served": rng.randint(*served)},
                )  # fmt: skip
                n += 1
        for k in range(rng.randint(3, 6)):
            day = b.day(year)
            closed = rng.random() < 0.92 and day < dt.date(year, 12, 1)
            b.add(
                "dispute", org, f"{year}:{org.code}:{k}",
                {"date": day, "case_no": f"{org.code}-{year}-{k + 1:03d}", "kind": rng.choice(["邻里纠纷", "家庭纠纷", "物业纠纷", "劳资纠纷", "其他纠纷"]), "closed_on": day + dt.timedelta(days=rng.randint(3, 25)) if closed else None},
            )  # fmt: skip
    if now:
        for n, name in enumerate(SOCIAL_ORGS):
            b.add(
                "social_org",
                streets[n % len(streets)],
                f"{year}:{n}",
                {
                    "date": dt.date(year, 2 + n % 10, 1 + n),
                    "name": name,
                    "area": "养老、助残、青少年、调解",
                    "community": communities[n % len(communities)].short_name,
                },
            )
        pilot = streets[0]
        for n, title in enumerate(SERVICE_ONLINE):
            b.add(
                "service_item",
                pilot,
                f"{year}:online:{n}",
                {
                    "date": dt.date(year, 9, 1),
                    "title": title,
                    "mode": "网上办理",
                    "street": pilot.short_name,
                    "platform": "智慧社区",
                },
            )
        for n, title in enumerate(SERVICE_DOOR):
            b.add(
                "service_item",
                pilot,
                f"{year}:door:{n}",
                {
                    "date": dt.date(year, 9, 1),
                    "title": title,
                    "mode": "上门代办",
                    "street": pilot.short_name,
                    "platform": "智慧社区",
                },
            )
    # 党建阵地：2019 年新建或改扩建党群服务中心、邻里中心，其中示范点两个党群服务中心、一个邻里中心；陈列馆建成开放。
    centres = communities[: 12 if now else 6]
    for n, org in enumerate(centres):
        b.add(
            "position", org, f"{year}:centre:{n}",
            {"date": dt.date(year, 3 + n % 9, 10 + n % 15), "name": f"{org.short_name}党群服务中心", "kind": "党群服务中心", "build": rng.choice(["新建", "改扩建"]), "investment": str(rng.randint(18, 45)), "featured": now and n < 2},
        )  # fmt: skip
    for n, street in enumerate(streets[: 4 if now else 2]):
        b.add(
            "position", street, f"{year}:linli:{n}",
            {"date": dt.date(year, 5 + n, 16), "name": f"{street.short_name.removesuffix('街道')}{'滨河' if n == 0 else '和畅'}邻里中心", "kind": "邻里中心", "build": "新建", "investment": str(rng.randint(30, 60)), "featured": now and n == 0},
        )  # fmt: skip
    b.add(
        "position",
        b.xcb,
        f"{year}:museum",
        {
            "date": dt.date(year, 9, 26),
            "name": EXHIBITION_HALL[year],
            "kind": "陈列馆",
            "build": "新建",
            "investment": str(rng.randint(80, 120)),
        },
    )


# --- chapter 二 (二)(三)：基层党建 ------------------------------------------------------------------------------------


def grassroots(b: Builder, year: int, now: bool) -> None:
    rng, fake = b.rng, b.fake
    communities = b.groups["communities"]
    for n, org in enumerate(rng.sample(communities + b.groups["agencies"], 30 if now else 18)):
        b.add(
            "branch_rating",
            org,
            f"{year}:{n}",
            {"date": b.day(year, 3, 5), "branch": f"{org.short_name}党支部", "target": "五星支部"},
        )
    for org in communities:
        for n in range(rng.randint(1, 3) if now else rng.randint(1, 2)):
            b.add(
                "local_talent",
                org,
                f"{year}:{org.code}:{n}",
                {
                    "date": b.day(year),
                    "name": fake.name(),
                    "specialty": rng.choice(MEMBER_SPECIALTIES),
                    "community": org.short_name,
                },
            )
    if now:
        # 社区党组织书记区级备案：每个社区一名；另有学历教育、社工师职业津贴、招录公务员和事业编。
        for n, org in enumerate(communities):
            street = b.street_of(org)
            common = {"street": street.short_name, "community": org.short_name}
            b.add(
                "community_worker_event",
                org,
                f"{year}:filing:{n}",
                {
                    "date": dt.date(year, 4, 15),
                    "name": fake.name(),
                    "post": "党组织书记",
                    "kind": "区级备案",
                    **common,
                },
            )
            if n % 3 == 0:
                b.add(
                    "community_worker_event",
                    org,
                    f"{year}:degree:{n}",
                    {
                        "date": dt.date(year, 9, 1),
                        "name": fake.name(),
                        "post": "两委委员",
                        "kind": "学历教育",
                        **common,
                    },
                )
            if n % 2 == 0:
                b.add(
                    "community_worker_event",
                    org,
                    f"{year}:sgs:{n}",
                    {
                        "date": dt.date(year, 7, 1),
                        "name": fake.name(),
                        "post": "社区工作者",
                        "kind": "社工师职业津贴",
                        **common,
                    },
                )
            if n in (3, 17):
                b.add(
                    "community_worker_event",
                    org,
                    f"{year}:gwy:{n}",
                    {
                        "date": dt.date(year, 8, 20),
                        "name": fake.name(),
                        "post": "党组织书记",
                        "kind": "招录公务员",
                        **common,
                    },
                )
            if n in (5, 11, 29):
                b.add(
                    "community_worker_event",
                    org,
                    f"{year}:syb:{n}",
                    {
                        "date": dt.date(year, 8, 20),
                        "name": fake.name(),
                        "post": "党组织书记",
                        "kind": "招录事业编",
                        **common,
                    },
                )
    # 软弱涣散社区党组织整顿：2019 年两个社区，均已全面完成整顿。
    weak = communities[20:22] if now else communities[30:33]
    for n, org in enumerate(weak):
        b.add(
            "weak_org", b.zzb, f"{year}:{n}",
            {"date": dt.date(year, 3, 1 + n), "unit": org.short_name, "reasons": "班子凝聚力不强、服务群众能力弱", "measures": "“四个一”措施：一名县级领导联系、一个部门帮扶、一名第一书记、一套整顿方案。", "completed_on": dt.date(year, 11, 20 + n)},
        )  # fmt: skip
    # 党建品牌：社区“一社区一特色”（原文点名的三个品牌依次命名），另有机关、学校品牌。
    if now:
        for n, brand in enumerate(BRANDS):
            org = communities[n * 3 + 1]
            b.add(
                "party_brand",
                org,
                f"{year}:{n}",
                {"date": dt.date(year, 4 + n, 8), "unit": org.short_name, "brand": brand, "domain": "社区"},
            )
        for n, (org, brand) in enumerate(
            zip(b.groups["agencies"][:3], ["先锋机关", "红色税务", "清风政务"], strict=True)
        ):
            b.add(
                "party_brand",
                org,
                f"{year}:jg:{n}",
                {"date": dt.date(year, 5, 20 + n), "unit": org.short_name, "brand": brand, "domain": "机关"},
            )
    # 新建“两新”组织党组织：单独组建的每个下拨奖补资金 5000 元。
    for n in range((15 if now else 11) * b.scale):
        alone = n % 3 != 2
        b.add(
            "new_org_party", b.lx, f"{year}:{n}",
            {"date": b.day(year), "company": fake.company(), "form": "单独组建" if alone else "联合组建", "subsidy": 5000 if alone else 0},
        )  # fmt: skip


# --- 党员名册（“学习强国”注册） ---------------------------------------------------------------------------------------


def members(b: Builder) -> None:
    rng, fake = b.rng, b.fake
    per_unit = {
        "communities": 22,
        "agencies": 30,
        "schools": 20,
        "new_orgs": 4,
        "streets": 10,
        "departments": 25,
        "discipline": 25,
    }
    n = 0
    for group, count in per_unit.items():
        for org in b.groups[group]:
            for _ in range(
                count
                * (b.scale if group in ("agencies", "schools", "streets", "departments", "discipline") else 1)
            ):
                birth = dt.date(rng.randint(1940, 1998), rng.randint(1, 12), rng.randint(1, 28))
                joined = dt.date(
                    min(2019, birth.year + rng.randint(18, 40)), rng.randint(1, 12), rng.randint(1, 28)
                )
                left = None
                if rng.random() < 0.03:
                    left = dt.date(rng.choice([2018, 2019]), rng.randint(1, 12), rng.randint(1, 28))
                    if left <= joined:
                        left = None
                old = birth.year < 1950
                id_tail, gender = f"{rng.randint(0, 9999):04d}", rng.choice(["男", "女"])
                name = gendered_name(fake, gender)  # a given name that fits the gender
                b.add(
                    "party_member", org, f"{org.code}:{n}",
                    {
                        "joined_on": joined, "name": name, "id_tail": id_tail, "gender": gender,
                        "birth_date": birth, "xuexi_registered": rng.random() < (0.6 if old else 0.985), "left_on": left,
                    },
                )  # fmt: skip
                n += 1
