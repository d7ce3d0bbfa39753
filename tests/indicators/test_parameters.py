"""报告参数 through the web as staff use them: defined in a pack and in the web, collected from a unit through a
填报任务, shown in a report with its source on the evidence page; bad input refused in Chinese; access."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from dangjian.indicators import engine, parameters
from dangjian.indicators.models import Indicator, Kind, Parameter, ParameterValue
from dangjian.indicators.periods import Period
from dangjian.tasks.models import CollectionTask, TargetStatus

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
YEAR = Period(dt.date(2019, 1, 1), dt.date(2019, 12, 31))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

PACK_TOML = """
[pack]
name = "paramtest"
label = "报告参数测试包"
order = 90

[[parameters]]
key = "学习强国.注册人数"
label = "学习强国注册人数"
unit = "人"
type = "integer"
max_digits = 6
total = "sum"
description = "各单位从学习强国后台导出的注册人数，全区合计"

[[parameters]]
key = "学习强国.人均积分"
label = "学习强国人均积分"
unit = "分"
type = "decimal"
decimals = 1
role = "reviewer"

[[indicators]]
key = "学习强国.人均积分翻倍"
label = "人均积分的两倍"
formula = "学习强国.人均积分 * 2"

[[checks]]
code = "xxqg_registered"
label = "学习强国注册人数已填报"
rule = "学习强国.注册人数 >= 1"
message = "学习强国注册人数应至少为 1"

[[templates]]
key = "xxqgreport"
label = "学习强国情况报告"
file = "main.j2"
"""

MAIN_J2 = "全区注册学习强国{{ 学习强国.注册人数 }}人。\n"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def write_pack(root: Path, toml: str = PACK_TOML, main: str = MAIN_J2, name: str = "paramtest") -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.toml").write_text(textwrap.dedent(toml), encoding="utf-8")
    (folder / "main.j2").write_text(main, encoding="utf-8")
    return folder


@pytest.fixture
def param_pack(world, tmp_path):
    from dangjian.packs.loader import discover, load_pack

    write_pack(tmp_path)
    for pack in discover(tmp_path):
        load_pack(pack)
    return world


def registered() -> Parameter:
    return Parameter.objects.get(indicator__key="学习强国.注册人数")


def score() -> Parameter:
    return Parameter.objects.get(indicator__key="学习强国.人均积分")


def enter_url(param: Parameter) -> str:
    return f"/indicators/parameters/{quote(param.key)}/enter"


def entry(org, value="120", source="学习强国后台 2019年12月31日导出", **extra) -> dict:
    return {
        "org": org.pk,
        "period_start": "2019-01-01",
        "period_end": "2019-12-31",
        "value": value,
        "source": source,
        **extra,
    }


def create_task(world) -> CollectionTask:
    """The district's administrator asks the street's units for the registered count, through the task form."""
    response = client_for(world.unit_admin).post(
        "/ledgers/tasks/new",
        {
            "title": "2019年度学习强国数据",
            "creator_org": world.root.pk,
            "period_start": "2019-01-01",
            "period_end": "2019-12-31",
            "scope_root": world.s1.pk,
            "deadline": "2099-12-31",
            "report_parameters": [registered().pk],
        },
    )
    assert response.status_code == 302, response.content.decode()
    task = CollectionTask.objects.get(title="2019年度学习强国数据")
    assert list(task.parameters.all()) == [registered()]
    assert not task.ledger_types.exists()
    return task


# --- the acceptance path -----------------------------------------------------------------------------------------


def test_a_unit_enters_a_parameter_through_a_task_and_the_report_shows_it_with_its_source(param_pack):
    world = param_pack
    task = create_task(world)
    target = task.targets.get(org=world.c1)
    page_url = f"/ledgers/tasks/{task.pk}/targets/{target.pk}/"

    clerk = client_for(world.clerk)
    page = clerk.get(page_url).content.decode()
    assert "学习强国注册人数" in page and "未填报" in page and enter_url(registered()) in page
    assert (
        "学习强国注册人数" in client_for(world.unit_admin).get(f"/ledgers/tasks/{task.pk}/").content.decode()
    )

    upload = SimpleUploadedFile("后台截图.png", PNG, content_type="image/png")
    response = clerk.post(enter_url(registered()), entry(world.c1, task=task.pk, next=page_url, file=upload))
    assert response.status_code == 302 and response["Location"] == page_url
    saved = ParameterValue.objects.get()
    assert (saved.org, saved.value, saved.entered_by, saved.task) == (world.c1, "120", world.clerk, task)
    target.refresh_from_db()
    assert target.status == TargetStatus.DRAFT  # 未填报 → 暂存, as when a record is entered
    page = clerk.get(page_url).content.decode()
    assert "120人" in page and "学习强国后台 2019年12月31日导出" in page and "后台截图.png" in page
    progress = client_for(world.unit_admin).get(f"/ledgers/tasks/{task.pk}/").content.decode()
    assert "collected-parameters" in progress and ">120<" in progress and "未填报" in progress  # c2 not yet

    # The district's report: the units' entries summed (total = "sum"), each number linked to its evidence.
    admin = client_for(world.unit_admin)
    report = admin.get("/reports/xxqgreport/root/2019.json").json()
    assert "全区注册学习强国120人。" in report["text"]
    slot = next(s for s in report["slots"] if s["indicator"] == "学习强国.注册人数")
    assert slot["value"] == 120 and slot["evidence"]["url"]
    assert next(c for c in report["checks"] if c["rule"].startswith("学习强国"))["ok"] is True

    evidence = admin.get(slot["evidence"]["url"])
    html = evidence.content.decode()
    assert evidence.status_code == 200
    for shown in (
        "学习强国注册人数",
        "幸福社区",
        "120人",
        "学习强国后台 2019年12月31日导出",
        "clerk",
        "后台截图.png",
    ):
        assert shown in html, shown
    assert f"{saved.entered_at.astimezone().year}年" in html  # when: 2026年12月1日 10:05
    assert "2019年度学习强国数据" in html  # through which task

    file_url = f"/indicators/parameters/files/{saved.pk}"
    assert file_url in html
    download = admin.get(file_url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG

    twin = admin.get(slot["evidence"]["url"] + "&format=json").json()
    assert twin["value"] == 120 and twin["entries"][0]["source"] == "学习强国后台 2019年12月31日导出"
    assert twin["entries"][0]["entered_by"] == "clerk" and twin["entries"][0]["file_url"] == file_url
    book = load_workbook(
        __import__("io").BytesIO(admin.get(slot["evidence"]["url"] + "&format=xlsx").content)
    )
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row if c]
    assert "学习强国后台 2019年12月31日导出" in cells and "后台截图.png" in cells


def test_a_sibling_unit_sees_neither_the_value_nor_its_file(param_pack):
    world = param_pack
    task = create_task(world)
    upload = SimpleUploadedFile("截图.png", PNG, content_type="image/png")
    client_for(world.clerk).post(
        enter_url(registered()), entry(world.c1, source="幸福社区导出表", task=task.pk, file=upload)
    )
    saved = ParameterValue.objects.get()

    sibling = client_for(world.sibling)
    assert sibling.get(f"/indicators/parameters/files/{saved.pk}").status_code == 404
    link = engine.evidence_url("学习强国.注册人数", world.c1, YEAR)
    assert sibling.get(link).status_code == 403
    page = sibling.get(f"/indicators/parameters/{quote(registered().key)}/").content.decode()
    assert "幸福社区导出表" not in page  # c1's entry is not listed for c2's clerk
    twin = f"/indicators/parameters/{quote(registered().key)}.json"
    assert sibling.get(twin).json()["entries"] == []
    assert client_for(world.clerk).get(twin).json()["entries"][0]["source"] == "幸福社区导出表"
    # … nor can the sibling enter for c1, through the task or directly
    response = sibling.post(enter_url(registered()), entry(world.c1, value="999"))
    assert response.status_code == 400 and "【填报单位】" in response.content.decode()
    target = task.targets.get(org=world.c1)
    assert sibling.get(f"/ledgers/tasks/{task.pk}/targets/{target.pk}/").status_code == 404
    assert ParameterValue.objects.get().value == "120"


# --- defining ----------------------------------------------------------------------------------------------------


def test_a_report_writer_defines_a_parameter_in_the_web(world):
    admin = client_for(world.unit_admin)
    form = {
        "key": "通知.示范点数",
        "label": "省级示范点数",
        "unit": "个",
        "type": "integer",
        "max_digits": 4,
        "decimals": 0,
        "max_length": 200,
        "role": "clerk",
        "total": "self",
        "description": "省委组织部通知中的数字",
    }
    response = admin.post("/indicators/parameters/new", form)
    assert response.status_code == 302
    param = Parameter.objects.get(indicator__key="通知.示范点数")
    assert (param.label, param.unit, param.pack, param.owner_org) == ("省级示范点数", "个", "", world.root)
    assert param.indicator.kind == Kind.PARAMETER
    listing = admin.get("/indicators/parameters/").content.decode()
    assert "省级示范点数" in listing and "网页定义" in listing
    assert admin.get("/indicators/parameters.json").json()["parameters"][0]["key"] == "通知.示范点数"

    # The same key again, or an indicator's key, is refused naming the field; nothing changes.
    again = admin.post("/indicators/parameters/new", {**form, "label": "别的"})
    assert again.status_code == 400 and "【键】“通知.示范点数”已被使用" in again.content.decode()
    Indicator.objects.create(key="学习.次数", label="学习次数", kind=Kind.ATTRIBUTE, attribute="period.year")
    clash = admin.post("/indicators/parameters/new", {**form, "key": "学习.次数"})
    assert clash.status_code == 400 and "已被使用" in clash.content.decode()
    bad = admin.post("/indicators/parameters/new", {**form, "key": "坏 键", "type": "text", "total": "sum"})
    text = bad.content.decode()
    assert bad.status_code == 400 and "坏 键" in text and "不能合计" in text
    assert Parameter.objects.count() == 1 and Parameter.objects.get().label == "省级示范点数"


def test_a_web_parameter_is_changed_in_the_web_and_a_packs_is_not(param_pack):
    world = param_pack
    admin = client_for(world.unit_admin)
    form = {"key": "通知.示范点数", "label": "示范点数", "unit": "个", "type": "integer", "max_digits": 4,
            "decimals": 0, "max_length": 200, "role": "clerk", "total": "self"}  # fmt: skip
    assert admin.post("/indicators/parameters/new", form).status_code == 302
    url = f"/indicators/parameters/{quote('通知.示范点数')}/edit"
    changed = admin.post(url, {**form, "key": "别的.键", "label": "省级示范点数", "max_digits": 5})
    assert changed.status_code == 302
    param = Parameter.objects.get(indicator__key="通知.示范点数")  # the key stays
    assert (param.label, param.max_digits) == ("省级示范点数", 5)
    parameters.enter(world.unit_admin, param, world.root, YEAR.start, YEAR.end, "3", "省委组织部通知")
    retype = admin.post(url, {**form, "type": "text"})
    assert retype.status_code == 400 and "已有填报值，不能改变类型" in retype.content.decode()
    assert Parameter.objects.get(pk=param.pk).type == "integer"
    pack_owned = f"/indicators/parameters/{quote(registered().key)}/edit"
    assert admin.get(pack_owned).status_code == 403
    assert client_for(world.clerk).post(url, {**form, "label": "x"}).status_code == 403


@pytest.mark.parametrize("who", ["clerk", "reviewer", "viewer", "sysadmin"])
def test_only_report_writers_of_the_reporting_org_define_parameters(world, who):
    client = client_for(getattr(world, who))
    assert client.get("/indicators/parameters/new").status_code == 403
    response = client.post("/indicators/parameters/new", {"key": "x.y", "label": "x", "type": "integer"})
    assert response.status_code == 403 and not Parameter.objects.exists()


# --- entering: bad input, roles, locks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("param_key", "value", "source", "message"),
    [
        ("学习强国.注册人数", "十二", "后台", "【学习强国注册人数】应为整数"),
        ("学习强国.注册人数", "1234567", "后台", "【学习强国注册人数】最多 6 位数字"),
        ("学习强国.注册人数", "12.5", "后台", "应为整数"),
        ("学习强国.人均积分", "12.25", "后台", "【学习强国人均积分】最多 1 位小数"),
        ("学习强国.注册人数", "12", "", "【来源说明】为必填项"),
        ("学习强国.注册人数", "12", "来" * 301, "【来源说明】最多 300 字"),
        ("学习强国.注册人数", "", "后台", "【数值】为必填项"),
    ],
)
def test_bad_values_are_refused_naming_the_field(param_pack, param_key, value, source, message):
    world = param_pack
    param = Parameter.objects.get(indicator__key=param_key)
    response = client_for(world.unit_admin).post(
        enter_url(param), entry(world.root, value=value, source=source)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ParameterValue.objects.exists()


def test_bad_attachments_are_refused_and_nothing_is_saved(param_pack, settings):
    world = param_pack
    settings.MAX_UPLOAD_MB = 1
    admin = client_for(world.unit_admin)
    big = SimpleUploadedFile("大.png", b"\x00" * (1024 * 1024 + 1), content_type="image/png")
    response = admin.post(enter_url(registered()), entry(world.root, file=big))
    assert response.status_code == 400 and "超过 1 MB" in response.content.decode()
    exe = SimpleUploadedFile("病毒.exe", b"MZ", content_type="application/octet-stream")
    response = admin.post(enter_url(registered()), entry(world.root, file=exe))
    text = response.content.decode()
    assert response.status_code == 400 and "【佐证材料】" in text and "类型不支持" in text
    assert not ParameterValue.objects.exists()


def test_a_role_below_the_parameters_role_may_not_enter_it(param_pack):
    world = param_pack  # 人均积分 is entered by 审核员 and above; clerk is 填报员 at c1
    clerk = client_for(world.clerk)
    page = clerk.get(f"/indicators/parameters/{quote(score().key)}/").content.decode()
    assert enter_url(score()) not in page
    assert clerk.post(enter_url(score()), entry(world.c1, value="12.5")).status_code == 403
    viewer = client_for(world.viewer)  # 查看者 enters nothing
    assert viewer.post(enter_url(registered()), entry(world.root)).status_code == 403
    reviewer = client_for(world.reviewer)  # 审核员 at s1: not for the district itself
    response = reviewer.post(enter_url(score()), entry(world.root, value="12.5"))
    assert (
        response.status_code == 400
        and "【填报单位】不在您可以填报该参数的单位之中" in response.content.decode()
    )
    assert not ParameterValue.objects.exists()
    assert reviewer.post(enter_url(score()), entry(world.c1, value="12.5")).status_code == 302
    assert ParameterValue.objects.get().value == "12.5"


def test_entering_again_keeps_the_history(param_pack):
    world = param_pack
    admin = client_for(world.unit_admin)
    admin.post(enter_url(registered()), entry(world.root, value="100", source="第一次"))
    admin.post(enter_url(registered()), entry(world.root, value="110", source="更正"))
    assert list(ParameterValue.objects.order_by("id").values_list("value", "is_current")) == [
        ("100", False),
        ("110", True),
    ]
    param = registered()
    assert [v.value for v in parameters.history(param, world.root, YEAR.start, YEAR.end)] == ["110", "100"]
    page = admin.get(engine.evidence_url(param.key, world.root, YEAR)).content.decode()
    assert "110人" in page and "此前的填报" in page and "第一次" in page  # the correction stays visible
    assert engine.evaluate(world.root, YEAR, [param.key])[param.key].value == 110


def test_a_submitted_unit_cannot_change_its_parameters_but_the_reviewer_above_can(param_pack):
    world = param_pack
    task = create_task(world)
    target = task.targets.get(org=world.c1)
    clerk = client_for(world.clerk)
    submit = f"/ledgers/tasks/{task.pk}/targets/{target.pk}/submit"
    refused = clerk.post(submit, follow=True).content.decode()  # nothing entered yet: 报送 refused
    assert "尚未填报：报告参数“学习强国注册人数”" in refused
    target.refresh_from_db()
    assert target.status == TargetStatus.PENDING
    clerk.post(enter_url(registered()), entry(world.c1, task=task.pk))
    assert clerk.post(submit).status_code == 302
    target.refresh_from_db()
    assert target.status == TargetStatus.SUBMITTED

    page_url = f"/ledgers/tasks/{task.pk}/targets/{target.pk}/"
    response = clerk.post(enter_url(registered()), entry(world.c1, value="130", task=task.pk, next=page_url))
    assert response.status_code == 302
    shown = clerk.get(page_url).content.decode()
    assert "未保存" in shown and "已锁定" in shown
    assert ParameterValue.objects.get(is_current=True).value == "120"

    reviewer = client_for(world.reviewer)  # 审核员 of s1, strictly above c1: may return, so may correct
    assert reviewer.post(enter_url(registered()), entry(world.c1, value="125")).status_code == 302
    assert ParameterValue.objects.get(is_current=True).value == "125"


def test_the_task_must_ask_for_the_parameter_and_match_its_period(param_pack):
    world = param_pack
    task = create_task(world)
    clerk = client_for(world.clerk)
    reviewer = client_for(world.reviewer)  # may enter 人均积分 for c1, but the task does not ask for it
    assert reviewer.post(enter_url(score()), entry(world.c1, value="1.5", task=task.pk)).status_code == 404
    other_year = {**entry(world.c1, task=task.pk), "period_start": "2018-01-01", "period_end": "2018-12-31"}
    response = clerk.post(enter_url(registered()), other_year)
    assert response.status_code == 400 and "与填报任务不符" in response.content.decode()
    assert not ParameterValue.objects.exists()


def test_a_task_without_ledgers_or_parameters_is_refused(param_pack):
    world = param_pack
    response = client_for(world.unit_admin).post(
        "/ledgers/tasks/new",
        {
            "title": "空任务",
            "creator_org": world.root.pk,
            "period_start": "2019-01-01",
            "period_end": "2019-12-31",
            "scope_root": world.s1.pk,
            "deadline": "2099-12-31",
        },
    )
    assert response.status_code == 200 and "请至少选择一个台账或报告参数" in response.content.decode()
    assert not CollectionTask.objects.exists()


# --- formulas, checks, comparisons, a missing value -----------------------------------------------------------------


def test_formulas_checks_and_comparisons_read_parameters(param_pack):
    world = param_pack
    admin = world.unit_admin
    values = engine.evaluate(world.root, YEAR, ["学习强国.人均积分翻倍", "学习强国.注册人数"])
    assert values["学习强国.注册人数"].value is None
    assert "未填报" in values["学习强国.注册人数"].note
    assert values["学习强国.人均积分翻倍"].value is None and "未填报" in values["学习强国.人均积分翻倍"].note
    check = next(c for c in engine.run_checks(world.root, YEAR, pack="paramtest"))
    assert not check.ok and "未填报" in check.message  # a missing figure fails the check: never a silent 0

    parameters.enter(admin, score(), world.root, YEAR.start, YEAR.end, "36.5", "学习强国后台")
    parameters.enter(admin, score(), world.root, dt.date(2018, 1, 1), dt.date(2018, 12, 31), "30", "去年报告")
    parameters.enter(admin, registered(), world.c1, YEAR.start, YEAR.end, "7", "后台")
    parameters.enter(admin, registered(), world.c2, YEAR.start, YEAR.end, "5", "后台")
    parameters.enter(admin, registered(), world.c2, dt.date(2019, 1, 1), dt.date(2019, 6, 30), "99", "半年")
    values = engine.evaluate(
        world.root, YEAR, ["学习强国.人均积分翻倍", "学习强国.注册人数", "上年.学习强国.人均积分"]
    )
    assert (
        str(values["学习强国.人均积分翻倍"].value) == "73"
    )  # a whole result is an int (issue 12: no "73.0")
    assert values["学习强国.注册人数"].value == 12  # c1 + c2 of exactly this period, the half-year left out
    assert values["上年.学习强国.人均积分"].value == 30
    assert engine.evaluate(world.c1, YEAR, ["学习强国.注册人数"])["学习强国.注册人数"].value == 7
    # 人均积分 is the reporting org's own figure (total = "self"): a sub-unit has none
    assert engine.evaluate(world.s1, YEAR, ["学习强国.人均积分"])["学习强国.人均积分"].value is None
    check = next(c for c in engine.run_checks(world.root, YEAR, pack="paramtest"))
    assert check.ok


def test_a_report_with_a_missing_parameter_says_so_and_its_check_fails(param_pack):
    world = param_pack
    report = client_for(world.unit_admin).get("/reports/xxqgreport/root/2019.json").json()
    assert "注册学习强国120人" not in report["text"]
    slot = next(s for s in report["slots"] if s["indicator"] == "学习强国.注册人数")
    assert slot["value"] is None
    assert not next(c for c in report["checks"] if c["rule"].startswith("学习强国"))["ok"]
    evidence = client_for(world.unit_admin).get(engine.evidence_url("学习强国.注册人数", world.root, YEAR))
    assert evidence.status_code == 200 and "未填报" in evidence.content.decode()


def test_an_indicator_of_kind_parameter_needs_a_parameter_definition(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="是报告参数，请在“报告参数”页面"):
        Indicator(key="手工.参数", label="手工", kind=Kind.PARAMETER).clean()
    Indicator.objects.create(key="手工.参数", label="手工", kind=Kind.PARAMETER)  # e.g. an old database row
    value = engine.evaluate(world.root, YEAR, ["手工.参数"])["手工.参数"]
    assert value.value is None and value.note == "报告参数没有定义"


def test_each_type_reads_its_values_and_refuses_others(world):
    day = parameters.define(key="通知.印发日期", label="通知印发日期", type="date")
    name = parameters.define(key="通知.文号", label="通知文号", type="text", max_length=12)
    count = parameters.define(key="通知.人数", label="人数", type="integer", max_digits=5)
    assert parameters.parse(day, "2019年12月31日") == ("2019-12-31", dt.date(2019, 12, 31))
    assert parameters.parse(day, " 2019-03-05 ")[1] == dt.date(2019, 3, 5)
    assert parameters.parse(name, "  省委组〔2019〕7号 ") == ("省委组〔2019〕7号", "省委组〔2019〕7号")
    assert parameters.parse(count, "1,260") == ("1260", 1260)
    for param, text, message in (
        (day, "2019-13-01", "【通知印发日期】应为日期"),
        (name, "字" * 13, "【通知文号】最多 12 字"),
        (count, "123456", "【人数】最多 5 位数字"),
        (count, "  ", "【人数】为必填项"),
    ):
        with pytest.raises(parameters.ParameterInvalid, match=message):
            parameters.parse(param, text)
