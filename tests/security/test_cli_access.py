"""The access matrix of the command line: every `dangjian` command that reads or writes ledgers × the actors it may
act as — the system actor (no `--as`), a community clerk, a viewer (查看者 at the district) and a 纪委 member — →
its exit code and what it may output (stdout, stderr and the file it writes).

The rules under test (orgs/access.py): `--as USERNAME` gives exactly that account's scope, as on the web; without it
the command acts as the system actor, which sees every unit's rows but never a confidential ledger's rows (only the
aggregates the 保密规则 give any outsider) and always sees sensitive fields masked. No output of anyone but the 纪委
member holds a confidential value; no output of the clerk holds a sibling unit's record.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dangjian.cli import main

ACTORS = ("system", "clerk", "viewer", "jiwei")

OWN_TITLE = "幸福社区命令行学习甲乙丙"
OTHER_TITLE = "和平社区命令行学习丁戊己"
CASE_NO = "命令行纪案〔2019〕9号"
SUSPECT = "孙某某命令行"
CONFIDENTIAL = (CASE_NO, SUSPECT)
OWN_ITEM = "幸福社区命令行整改庚辛"
OTHER_ITEM = "和平社区命令行整改壬癸"
OWN_PERSON = "赵责任命令行"  # a sensitive field (责任人) of the own item
OTHER_PERSON = "钱责任命令行"
CONF_ITEM = "纪委命令行涉密整改子丑"
MASKED = "＊＊"

PACK = """
[pack]
name = "clitest"
label = "命令行权限测试"
order = 95

[[indicators]]
key = "纪律.立案数"
label = "立案数"
unit = "件"
ledger = "discipline_case"
aggregate = "count"

[[indicators]]
key = "纪律.被审查人"
label = "被审查人"
ledger = "discipline_case"
aggregate = "list"
field = "person"

[[checks]]
code = "cli_cases"
label = "立案数不少于 1 件"
rule = "纪律.立案数 >= 1"
level = "error"
message = "应至少立案 1 件"

[[templates]]
key = "clitest"
label = "命令行测试报告"
file = "main.j2"
"""

TEMPLATE = "全年立案{{ 纪律.立案数 }}件，被审查人{{ 纪律.被审查人 }}。\n"


@dataclass
class Run:
    code: int
    out: str  # stdout + stderr + the text of the file written, if any


@dataclass
class Cli:
    world: Any
    tmp: Path

    def __call__(self, actor: str, *argv: str, output: str = "") -> Run:
        import io
        from contextlib import redirect_stderr, redirect_stdout

        from dangjian.orgs import access

        args = list(argv)
        if actor != "system":
            args += ["--as", actor]
        path = self.tmp / f"{actor}-{argv[0]}-{output}" if output else None
        if path is not None:
            path.unlink(missing_ok=True)
            args += ["-o", str(path)]
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(args)
        for user in vars(self.world).values():
            access.forget(user)  # the next command reads the accounts afresh, as a new process would
        return Run(code, out.getvalue() + err.getvalue() + (_text(path) if path else ""))


def _text(path: Path) -> str:
    if not path.is_file():
        return ""
    if path.suffix != ".xlsx":
        return path.read_text(encoding="utf-8")
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    return "\n".join(
        "\t".join("" if v is None else str(v) for v in row)
        for sheet in book
        for row in sheet.iter_rows(values_only=True)
    )


@pytest.fixture
def cli(world, make_record, tmp_path) -> Cli:
    from dangjian.orgs.models import OrgKind
    from dangjian.packs.loader import discover, load_pack
    from dangjian.records.models import LedgerField, LedgerType

    folder = tmp_path / "packs" / "clitest"
    folder.mkdir(parents=True)
    (folder / "pack.toml").write_text(textwrap.dedent(PACK), encoding="utf-8")
    (folder / "main.j2").write_text(TEMPLATE, encoding="utf-8")
    for pack in discover(tmp_path / "packs"):
        load_pack(pack)

    def study(org: Any, title: str) -> None:
        make_record("study_activity", org, {"date": "2019-03-05", "kind": "专题报告", "title": title})

    study(world.c1, OWN_TITLE)
    study(world.c2, OTHER_TITLE)
    make_record(
        "discipline_case", world.jw, {"filed_on": "2019-04-01", "case_no": CASE_NO, "person": SUSPECT}
    )
    # 整改任务: 责任人 made sensitive; and a confidential copy of the ledger kept by the 纪委.
    items = world.ledger("rectification_task")
    LedgerField.objects.filter(ledger_type=items, code="responsible_person").update(sensitive=True)
    secret = LedgerType.objects.create(
        code="secret_items",
        label="涉密整改台账",
        category=items.category,
        date_field=items.date_field,
        workflow=items.workflow,
        confidential=True,
    )
    secret.confidential_kinds.set(OrgKind.objects.filter(code="discipline"))
    for spec in LedgerField.objects.filter(ledger_type=items):
        spec.pk, spec.ledger_type = None, secret
        spec.save()

    def item(code: str, org: Any, title: str, person: str = "") -> None:
        values = {"issued_on": "2019-05-01", "source": "督查", "title": title, "deadline": "2019-06-30"}
        make_record(code, org, {**values, "responsible_person": person} if person else values)

    item("rectification_task", world.c1, OWN_ITEM, OWN_PERSON)
    item("rectification_task", world.c2, OTHER_ITEM, OTHER_PERSON)
    item("secret_items", world.jw, CONF_ITEM)
    return Cli(world, tmp_path)


def _no_leak(actor: str, run: Run) -> None:
    if actor != "jiwei":
        assert not [v for v in (*CONFIDENTIAL, CONF_ITEM) if v in run.out], (actor, run.out)
    if actor == "clerk":
        assert OTHER_TITLE not in run.out and OTHER_ITEM not in run.out, run.out


def _has(run: Run, *present: str, absent: tuple[str, ...] = ()) -> None:
    assert all(p in run.out for p in present), (present, run.out)
    assert not [a for a in absent if a in run.out], (absent, run.out)


# --- export ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_export_gives_what_the_actor_sees(cli, actor):
    run = cli(actor, "export", "study_activity", output="study.xlsx")
    _no_leak(actor, run)
    assert run.code == 0
    {
        "system": lambda: _has(run, OWN_TITLE, OTHER_TITLE, "已导出 2 条"),
        "clerk": lambda: _has(run, OWN_TITLE, "已导出 1 条", absent=(OTHER_TITLE,)),
        "viewer": lambda: _has(run, OWN_TITLE, OTHER_TITLE, "已导出 2 条"),
        "jiwei": lambda: _has(run, "已导出 0 条", absent=(OWN_TITLE, OTHER_TITLE)),
    }[actor]()


@pytest.mark.parametrize("actor", ACTORS)
def test_export_masks_sensitive_fields_for_all_but_who_may_change_the_record(cli, actor):
    run = cli(actor, "export", "rectification_task", output="items.xlsx")
    _no_leak(actor, run)
    assert run.code == 0
    {
        "system": lambda: _has(run, OWN_ITEM, OTHER_ITEM, MASKED, absent=(OWN_PERSON, OTHER_PERSON)),
        "clerk": lambda: _has(run, OWN_ITEM, OWN_PERSON, absent=(OTHER_ITEM, OTHER_PERSON, MASKED)),
        "viewer": lambda: _has(run, OWN_ITEM, OTHER_ITEM, MASKED, absent=(OWN_PERSON, OTHER_PERSON)),
        "jiwei": lambda: _has(run, "已导出 0 条", absent=(OWN_ITEM, OTHER_ITEM)),
    }[actor]()


@pytest.mark.parametrize("actor", ACTORS)
def test_export_of_a_confidential_ledger_only_for_its_members(cli, actor):
    run = cli(actor, "export", "discipline_case", output="cases.xlsx")
    _no_leak(actor, run)
    if actor == "jiwei":
        assert run.code == 0
        _has(run, CASE_NO, SUSPECT, "已导出 1 条")  # a clerk of the 纪委: may change it, so unmasked
    else:
        assert run.code == 1
        _has(run, "涉密台账", "无权查看其记录", "--as")


def test_export_refuses_an_org_outside_the_actor_and_an_unknown_account(cli):
    run = cli("clerk", "export", "study_activity", "--org", "c2", output="c2.xlsx")
    assert run.code == 1 and "不在账号“clerk”的范围内" in run.out and OTHER_TITLE not in run.out
    run = cli("system", "export", "study_activity", "--org", "c2", "--as", "nobody", output="x.xlsx")
    assert run.code == 2 and "账号“nobody”不存在" in run.out


# --- import ----------------------------------------------------------------------------------------------------------


def _sheet(cli: Cli, code: str, org: str, values: dict[str, Any]) -> Path:
    from openpyxl import Workbook

    from dangjian.spreadsheets.xlsx import ORG_HEADER, columns, header

    specs = columns(cli.world.ledger(code))
    book = Workbook()
    sheet = book.active
    sheet.append([ORG_HEADER, *[header(f) for f in specs]])
    sheet.append([org, *[values.get(f.code) for f in specs]])
    path = cli.tmp / f"{code}-{org}.xlsx"
    book.save(path)
    return path


IMPORTS = {  # actor → (exit code, text in its output) for one study row of c1, then one case of the 纪委
    "system": ((0, "新增 1 条记录"), (1, "涉密台账")),
    "clerk": ((0, "新增 1 条记录"), (1, "涉密台账")),
    "viewer": ((1, "无权"), (1, "涉密台账")),
    "jiwei": ((1, "无权"), (0, "新增 1 条记录")),
}


@pytest.mark.parametrize("actor", ACTORS)
def test_import_writes_only_where_the_actor_may_enter(cli, actor):
    from dangjian.records.models import Record

    row = {"date": "2019-07-01", "kind": "专题报告", "title": f"{actor}导入的学习"}
    run = cli(actor, "import", "study_activity", str(_sheet(cli, "study_activity", "c1", row)))
    _no_leak(actor, run)
    code, text = IMPORTS[actor][0]
    assert run.code == code and text in run.out, run.out
    stored = Record.objects.filter(ledger_type__code="study_activity", values__title=row["title"])
    assert stored.count() == (1 if code == 0 else 0)
    if code == 0:
        expected = None if actor == "system" else getattr(cli.world, actor)
        assert stored.get().created_by == expected  # the system actor writes as no account (命令行)

    case = {"filed_on": "2019-08-01", "case_no": f"{actor}导入案号", "person": "李某"}
    run = cli(actor, "import", "discipline_case", str(_sheet(cli, "discipline_case", "jw", case)))
    _no_leak(actor, run)
    code, text = IMPORTS[actor][1]
    assert run.code == code and text in run.out, run.out
    assert Record.objects.filter(values__case_no=case["case_no"]).count() == (1 if code == 0 else 0)


# --- template and the list of ledgers ------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_ledgers_and_templates_name_only_what_the_actor_may_see(cli, actor):
    run = cli(actor, "ledgers")
    assert run.code == 0 and "study_activity" in run.out
    assert ("discipline_case" in run.out) == (actor == "jiwei")
    assert ("未列出" in run.out) == (actor != "jiwei")  # the others are told some are not listed
    run = cli(actor, "template", "discipline_case", output="cases-template.xlsx")
    assert run.code == (0 if actor == "jiwei" else 1)
    run = cli(actor, "template", "study_activity", output="study-template.xlsx")
    assert run.code == 0
    # The template's list of units: those the actor may enter records for.
    names = {"c1": "中共城关街道幸福社区委员会", "c2": "中共城关街道和平社区委员会"}
    listed = {code for code, name in names.items() if name in run.out}
    assert listed == {"system": {"c1", "c2"}, "clerk": {"c1"}, "viewer": set(), "jiwei": set()}[actor]


# --- overdue (the daily reminder job) -------------------------------------------------------------------------------

OVERDUE = {  # (actor, org) → (exit code, items listed, items not listed)
    ("system", "root"): (0, (OWN_ITEM, OTHER_ITEM), (CONF_ITEM,)),
    ("viewer", "root"): (0, (OWN_ITEM, OTHER_ITEM), (CONF_ITEM,)),
    ("clerk", "root"): (2, (), (OWN_ITEM, OTHER_ITEM, CONF_ITEM)),
    ("clerk", "c1"): (0, (OWN_ITEM,), (OTHER_ITEM, CONF_ITEM)),
    ("jiwei", "root"): (2, (), (OWN_ITEM, OTHER_ITEM, CONF_ITEM)),
    ("jiwei", "jw"): (0, (CONF_ITEM,), (OWN_ITEM, OTHER_ITEM)),
}


@pytest.mark.parametrize(("actor", "org"), list(OVERDUE))
def test_overdue_lists_the_items_the_actor_sees(cli, actor, org):
    run = cli(actor, "overdue", "--org", org, "--format", "json")
    _no_leak(actor, run)
    code, listed, hidden = OVERDUE[(actor, org)]
    assert run.code == code, run.out
    _has(run, *listed, absent=hidden)
    if code == 0:
        assert json.loads(run.out)["count"] == len(listed)


# --- report and check ------------------------------------------------------------------------------------------------

REPORTS = {  # (actor, org) → (exit code, text in the output)
    ("system", "root"): (0, "全年立案1件"),  # a whole year's count is given to any outsider; names are not
    ("viewer", "root"): (0, "全年立案1件"),
    ("clerk", "root"): (2, "无权查看"),
    ("clerk", "c1"): (0, "全年立案0件"),
    ("jiwei", "root"): (2, "无权查看"),
    ("jiwei", "jw"): (0, SUSPECT),  # a member of the 纪委 sees the names
}


@pytest.mark.parametrize(("actor", "org"), list(REPORTS))
def test_report_gives_the_actor_its_figures_only(cli, actor, org):
    run = cli(
        actor,
        "report",
        "--template",
        "clitest",
        "--org",
        org,
        "--year",
        "2019",
        "--format",
        "txt",
        output="r.txt",
    )
    _no_leak(actor, run)
    code, text = REPORTS[(actor, org)]
    assert run.code == code and text in run.out, run.out
    if code == 0:  # the audit log names the account the report was made as
        from dangjian.audit.models import AuditEvent

        event = AuditEvent.objects.filter(target__startswith="报告 clitest").latest("pk")
        if actor == "system":
            assert event.actor is None and event.username.endswith("（命令行）")
        else:
            assert event.actor is not None and event.actor.username == actor


@pytest.mark.parametrize(("actor", "org"), list(REPORTS))
def test_check_runs_for_the_actor(cli, actor, org):
    run = cli(actor, "check", "--org", org, "--year", "2019", "--template", "clitest")
    _no_leak(actor, run)
    code, _ = REPORTS[(actor, org)]
    if code == 2:
        assert run.code == 2 and "无权查看" in run.out
    else:
        assert "立案数不少于 1 件" in run.out
        assert run.code == (1 if org == "c1" else 0)  # c1 has no case: the error-level rule fails


def test_the_system_actor_is_documented(cli):
    from dangjian.cli import build_parser

    help_text = build_parser()._subparsers._group_actions[0].choices["export"].format_help()  # type: ignore[union-attr]
    assert "--as" in help_text and "涉密台账" in help_text and "＊＊" in help_text
