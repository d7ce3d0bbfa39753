"""The access matrix, generated from the URL configuration.

Every URL pattern of the app × five roles (system administrator, 纪委 member, district admin, community clerk,
viewer) × the object it is asked about (the clerk's own unit's, a sibling unit's, the confidential ledger's) →
the expected status, no confidential value in any body that is not the 纪委 member's, and no sensitive value in
a body of a role that sees it masked (all but those who may change the record). A URL pattern without
an entry in `EXPECTED` fails `test_every_url_pattern_has_an_entry`: a new page, JSON twin or export cannot be
added without deciding who may reach it.

Run with `ACCESS_MATRIX_DUMP=1` to print the statuses the app gives today, as rows to paste and review.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
ROLES = ("sysadmin", "jiwei", "unit_admin", "clerk", "viewer")

OWN_TITLE = "幸福社区本单位学习主题子丑寅"
OTHER_TITLE = "和平社区外单位学习主题卯辰巳"
CASE_NO = "矩阵纪案〔2019〕7号"
SUSPECT = "钱某某矩阵"
CASE_FILE = "矩阵案件审理报告正文"
OWN_ITEM = "幸福社区整改事项午未申"
OTHER_ITEM = "和平社区整改事项酉戌亥"
CONFIDENTIAL = (CASE_NO, SUSPECT, CASE_FILE)
# The own record's 主讲人, made a sensitive field: only the clerk and the admin (who may change it) see it.
SENSITIVE = "赵主讲人矩阵甲"
MASKED_FOR = ("sysadmin", "jiwei", "viewer")

# Statuses in the order of ROLES. "own" is the community clerk's unit (幸福社区), "other" a sibling community
# (和平社区), "conf" the confidential ledger kept by 区纪委监委; "-" is a page that is about no object.
# 302 to the login page counts as refused for pages that need a login; 403/404 as refused for the rest.
EXPECTED: dict[tuple[str, str], tuple[int, ...]] = {}


def expect(name: str, **rows: tuple[int, ...]) -> None:
    for obj, statuses in rows.items():
        assert len(statuses) == len(ROLES)
        EXPECTED[(name, obj.replace("none", "-"))] = statuses


# -- the shell ------------------------------------------------------------------------------------------------
expect("login", none=(302, 302, 302, 302, 302))  # signed in already: on to the home page
expect("logout", none=(405, 405, 405, 405, 405))
expect("home", none=(200, 200, 200, 200, 200))
expect("password_change", none=(200, 200, 200, 200, 200))  # one's own password: every signed-in user
# -- 提醒 (reminders): one's own messages only (tests/lists/test_reminders.py: another's cannot be read or marked)
expect("messages", none=(200, 200, 200, 200, 200))
expect("message_read", none=(405, 405, 405, 405, 405))  # POST only
# -- the audit log: the security auditor's alone (none of these roles) -------------------------------------------
expect("audit:events", none=(403, 403, 403, 403, 403))
expect("audit:export", none=(403, 403, 403, 403, 403))
# -- i13d: the system administrator's backups (三员分立: the 系统管理员 duty alone). The matrix's sysadmin is a superuser
# without the duty, so every role here is refused; tests/web/test_backup_pages.py checks the duty holder's side, the
# CSRF-protected POST, the audit events and the download names (no path outside the backup folder).
expect("backups", none=(403, 403, 403, 403, 403))
expect("backup_make", none=(405, 405, 405, 405, 405))  # POST only (the POST itself: 403 for all but the duty)
expect("backup_download", none=(403, 403, 403, 403, 403))
# -- end i13d --------------------------------------------------------------------------------------------------
# -- ledgers --------------------------------------------------------------------------------------------------
expect("ledgers:index", none=(200, 200, 200, 200, 200))
expect(
    "ledgers:attachment",
    own=(404, 404, 200, 200, 200),
    other=(404, 404, 200, 404, 200),
    conf=(404, 200, 404, 404, 404),
)
expect("ledgers:records", own=(404, 200, 200, 200, 200), conf=(404, 200, 404, 404, 404))
expect("ledgers:records_json", own=(404, 200, 200, 200, 200), conf=(404, 200, 404, 404, 404))
expect("ledgers:records_xlsx", own=(404, 200, 200, 200, 200), conf=(404, 200, 404, 404, 404))
expect("ledgers:new", own=(404, 200, 200, 200, 403), conf=(404, 200, 404, 404, 404))
expect("ledgers:template", own=(404, 200, 200, 200, 403), conf=(404, 200, 404, 404, 404))
expect("ledgers:import", own=(404, 200, 200, 200, 403), conf=(404, 200, 404, 404, 404))
expect(
    "ledgers:import_status", own=(200, 200, 200, 200, 200), conf=(200, 200, 200, 200, 200)
)  # a progress count by random token
expect("ledgers:import_errors", own=(404, 404, 404, 404, 404), conf=(404, 404, 404, 404, 404))
expect(
    "ledgers:record",
    own=(404, 404, 200, 200, 200),
    other=(404, 404, 200, 404, 200),
    conf=(404, 200, 404, 404, 404),
)
expect(
    "ledgers:record_json",
    own=(404, 404, 200, 200, 200),
    other=(404, 404, 200, 404, 200),
    conf=(404, 200, 404, 404, 404),
)
expect(
    "ledgers:edit",
    own=(404, 404, 200, 200, 403),
    other=(404, 404, 200, 404, 403),
    conf=(404, 200, 404, 404, 404),
)
expect("ledgers:delete", own=(405, 405, 405, 405, 405), conf=(405, 405, 405, 405, 405))
expect("ledgers:restore", own=(405, 405, 405, 405, 405), conf=(405, 405, 405, 405, 405))
expect(
    "ledgers:history",
    own=(404, 404, 200, 200, 200),
    other=(404, 404, 200, 404, 200),
    conf=(404, 200, 404, 404, 404),
)
expect(
    "ledgers:history_json",
    own=(404, 404, 200, 200, 200),
    other=(404, 404, 200, 404, 200),
    conf=(404, 200, 404, 404, 404),
)
expect("ledgers:workflow_bulk", own=(404, 200, 200, 200, 200))  # the list; its steps are refused on POST
expect("ledgers:workflow_step", own=(404, 404, 200, 200, 403), other=(404, 404, 200, 404, 403))
expect("ledgers:tasks", none=(200, 200, 200, 200, 200))
expect("ledgers:task_new", none=(403, 403, 200, 403, 403))
expect("ledgers:task", own=(404, 404, 200, 200, 200))
expect("ledgers:task_json", own=(404, 404, 200, 200, 200))
expect("ledgers:task_xlsx", own=(404, 404, 200, 200, 200))
expect("ledgers:target_log", own=(404, 404, 200, 200, 200), other=(404, 404, 200, 404, 200))
expect("ledgers:target_submit", own=(405, 405, 405, 405, 405))
expect("ledgers:target_return", own=(405, 405, 405, 405, 405))
expect("ledgers:overdue", none=(200, 200, 200, 200, 200))
expect("ledgers:overdue_json", none=(200, 200, 200, 200, 200))
expect("ledgers:overdue_xlsx", none=(200, 200, 200, 200, 200))
# -- indicators -----------------------------------------------------------------------------------------------
expect(
    "indicators:evidence",
    own=(403, 403, 200, 200, 200),
    other=(403, 403, 200, 403, 200),
    conf=(403, 403, 200, 403, 200),  # aggregates only, at the district for a whole year
)
# -- indicator builder (指标构建器): definitions, versions and TOML, for 管理员/审核员 of the reporting org alone ------
WRITERS = (403, 403, 200, 403, 403)
expect("indicators:builder", none=WRITERS)
expect("indicators:builder_new", none=WRITERS)
expect("indicators:builder_preview", none=(405, 405, 405, 405, 405))  # POST only
expect("indicators:builder_edit", own=WRITERS, conf=WRITERS)  # a definition, never a confidential row
expect("indicators:builder_export", own=WRITERS, conf=WRITERS)
expect("indicators:builder_history", own=WRITERS, conf=WRITERS)
expect("indicators:builder_adopt", own=(405, 405, 405, 405, 405))  # POST only
expect("indicators:builder_restore", own=(405, 405, 405, 405, 405))  # POST only
expect("indicators:checks", none=WRITERS)
expect("indicators:check_new", none=WRITERS)
expect("indicators:check_edit", own=WRITERS)
expect("indicators:check_export", own=WRITERS)
expect("indicators:check_history", own=WRITERS)
expect("indicators:check_adopt", own=(405, 405, 405, 405, 405))  # POST only
expect("indicators:check_restore", own=(405, 405, 405, 405, 405))  # POST only
# -- 报告参数 (report parameters): listed for every role, defined by report writers, entered by the parameter's
# role (a POST), an entry's file for those who may run the report of the entry's org ------------------------------
expect("indicators:parameters", none=(403, 200, 200, 200, 200))
expect("indicators:parameters_json", none=(403, 200, 200, 200, 200))
expect("indicators:parameter_new", none=(403, 403, 200, 403, 403))
expect("indicators:parameter", none=(403, 200, 200, 200, 200))
expect("indicators:parameter_json", none=(403, 200, 200, 200, 200))  # entries of the account's own units only
expect("indicators:parameter_enter", none=(405, 405, 405, 405, 405))
expect("indicators:parameter_edit", none=(403, 403, 200, 403, 403))
expect("indicators:parameter_file", own=(404, 404, 200, 200, 200), other=(404, 404, 200, 404, 200))
PARAMETER_KEY = "矩阵.参数"


def _parameter_entries(fx: Fixture) -> dict[str, Any]:
    """A parameter with an entry (and its file) at the clerk's unit and at the sibling unit, made once."""
    from dangjian.indicators import parameters

    param = parameters.get(PARAMETER_KEY) or parameters.define(key=PARAMETER_KEY, label="矩阵参数")
    made = {v.org_id: v for v in param.values.all()}
    for obj in ("own", "other"):
        org = fx.objects[obj]["org"]
        if org.pk not in made:
            upload = SimpleUploadedFile(f"{obj}.pdf", f"{obj} 参数佐证".encode())
            source = OWN_TITLE if obj == "own" else OTHER_TITLE  # the clerk must never see the sibling's
            args = (param, org, dt.date(2019, 1, 1), dt.date(2019, 12, 31), "7", source, upload)
            made[org.pk] = parameters.enter(fx.world.unit_admin, *args)
    return {"own": made[fx.objects["own"]["org"].pk], "other": made[fx.objects["other"]["org"].pk]}


# -- reports --------------------------------------------------------------------------------------------------
expect("reports:index", none=(200, 200, 200, 200, 200))
expect("reports:preview", own=(404, 404, 200, 200, 200), other=(404, 404, 200, 404, 200))
expect("reports:download", own=(404, 404, 200, 200, 200), other=(404, 404, 200, 404, 200))
expect("reports:finalise", own=(405, 405, 405, 405, 405))
expect("reports:run", own=(404, 404, 200, 200, 200), other=(404, 404, 200, 404, 200))
expect("reports:run_download", own=(404, 404, 200, 200, 200), other=(404, 404, 200, 404, 200))
expect("reports:compare", own=(404, 404, 200, 200, 200), other=(404, 404, 200, 404, 200))
# -- the report editor: the people who write the report (管理员/审核员 of the reporting org), not the sysadmin ------
expect("reports:templates", none=(403, 403, 200, 403, 403))
expect("reports:template_picker", none=(403, 403, 200, 403, 403))
expect("reports:template_edit", none=(403, 403, 200, 403, 403))
expect("reports:template_history", none=(403, 403, 200, 403, 403))
expect("reports:template_draft", none=(405, 405, 405, 405, 405))  # POST only: a draft's preview
expect("reports:template_restore", none=(405, 405, 405, 405, 405))
expect("reports:template_builtin", none=(405, 405, 405, 405, 405))
# -- 核稿 (issue 11): a GET shows the form with the orgs one may report on; a draft is checked by POST (see
# tests/reports/test_verify_page.py for the org refused to those outside it)
expect("reports:verify", none=(200, 200, 200, 200, 200))
# -- 从 Word 生成模板 (issue 11): the people who write the report, as the editor (the upload and generation by
# POST are tested in tests/reports/test_word_import.py for every other role)
expect("reports:from_word", none=(403, 403, 200, 403, 403))

# -- packs: installed and uploaded by a 管理员 of the reporting org (a root of the tree) alone -------------------
expect("packs:index", none=(403, 403, 200, 403, 403))

# -- the HTTP API (/api/): the same rows hold for the session (reads only) and for each role's bearer token,
# see test_api_rows_hold_for_bearer_tokens. The schema and the doc page show no data and need no login.
expect("api:index", none=(302, 302, 302, 302, 302))  # to the doc page
expect("api:api-root", none=(302, 302, 302, 302, 302))
expect("api:docs", none=(200, 200, 200, 200, 200))
expect("api:openapi-json", none=(200, 200, 200, 200, 200))
expect("api:orgs", none=(200, 200, 200, 200, 200))  # each sees its own subtrees (none for the sysadmin)
expect("api:ledgers", none=(200, 200, 200, 200, 200))
expect("api:ledger", own=(404, 200, 200, 200, 200), conf=(404, 200, 404, 404, 404))
expect("api:records", own=(404, 200, 200, 200, 200), conf=(404, 200, 404, 404, 404))
expect("api:records_batch", own=(405, 405, 405, 405, 405))  # POST only
expect("api:record_restore", own=(405, 405, 405, 405, 405))  # POST only
expect(
    "api:record",
    own=(404, 404, 200, 200, 200),
    other=(404, 404, 200, 404, 200),
    conf=(404, 200, 404, 404, 404),
)
expect(
    "api:attachment",
    own=(404, 404, 200, 200, 200),
    other=(404, 404, 200, 404, 200),
    conf=(404, 200, 404, 404, 404),
)
expect("api:indicators", none=(200, 200, 200, 200, 200))  # definitions only, no figures
expect(
    "api:values",
    own=(404, 404, 200, 200, 200),
    other=(404, 404, 200, 404, 200),
    conf=(404, 404, 200, 404, 200),  # aggregates only, at the district for a whole year
)
expect(
    "api:evidence",
    own=(404, 404, 200, 200, 200),
    other=(404, 404, 200, 404, 200),
    conf=(404, 404, 200, 404, 200),  # the count without rows
)
expect("api:checks", own=(404, 404, 200, 200, 200), other=(404, 404, 200, 404, 200))
expect("api:report", own=(404, 404, 200, 200, 200), other=(404, 404, 200, 404, 200))
expect("api:runs", none=(200, 200, 200, 200, 200))
expect("api:run", own=(404, 404, 200, 200, 200), other=(404, 404, 200, 404, 200))
expect("api:tasks", none=(200, 200, 200, 200, 200))
expect("api:task", own=(404, 404, 200, 200, 200))
expect("api:list_items", none=(200, 200, 200, 200, 200))
expect("api:list_item", own=(404, 404, 200, 200, 200), other=(404, 404, 200, 404, 200))
expect("api:list_step", own=(405, 405, 405, 405, 405))  # POST only
# -- one's own API tokens (the page lists only the signed-in account's; revoking is a POST) ---------------------
expect("tokens:index", none=(200, 200, 200, 200, 200))
expect("tokens:revoke", none=(405, 405, 405, 405, 405))
# -- 概览 (i13o): the district's overview for a role at the district (the 纪委 clerk and the community clerk are
# sent to their own unit's page; its twins refuse them); a unit's page for any role covering the unit, a
# confidential ledger's entries counted only for its members; the items closed in a month, within one's own orgs.
expect("overview:index", none=(403, 302, 200, 302, 200))
expect("overview:index_json", none=(403, 403, 200, 403, 200))
expect("overview:index_xlsx", none=(403, 403, 200, 403, 200))
expect("overview:closed", none=(404, 200, 200, 200, 200))
for _name in ("overview:unit", "overview:unit_json", "overview:unit_xlsx"):
    expect(
        _name, own=(404, 404, 200, 200, 200), other=(404, 404, 200, 404, 200), conf=(404, 200, 200, 404, 200)
    )


@dataclass
class Fixture:
    world: Any
    objects: dict[str, dict[str, Any]]


def _patterns(
    resolver: URLResolver | None = None, prefix: str = "", ns: str = ""
) -> Iterator[tuple[str, str]]:
    """(qualified name, route) of every named URL pattern, admin excluded (it has its own rule below)."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            child_ns = f"{ns}{entry.namespace}:" if entry.namespace else ns
            if entry.namespace == "admin" or child_ns.startswith("admin:"):
                continue
            yield from _patterns(entry, prefix + str(entry.pattern), child_ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{ns}{entry.name}", prefix + str(entry.pattern)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


@pytest.fixture
def matrix(world, make_record, settings, tmp_path) -> Fixture:
    from tests.reports.conftest import write_pack

    from dangjian.indicators.engine import Period
    from dangjian.orgs.models import OrgKind
    from dangjian.packs.loader import discover, load_pack
    from dangjian.records.models import Attachment, LedgerField
    from dangjian.reports.models import ReportTemplate
    from dangjian.reports.runs import finalise
    from dangjian.tasks import collection

    settings.MEDIA_ROOT = tmp_path / "media"
    write_pack(tmp_path / "packs")
    for pack in discover(tmp_path / "packs"):
        load_pack(pack)

    def study(org: Any, title: str, **more: Any) -> Any:
        return make_record(
            "study_activity",
            org,
            {"date": "2019-03-05", "kind": "中心组集体学习", "title": title, "participants": 9, **more},
        )

    def attach(record: Any, text: str) -> Any:
        content = text.encode()
        return Attachment.objects.create(
            record=record, file=SimpleUploadedFile("a.pdf", content), name="a.pdf", size=len(content)
        )

    LedgerField.objects.filter(ledger_type__code="study_activity", code="speaker").update(sensitive=True)
    own, other = study(world.c1, OWN_TITLE, speaker=SENSITIVE), study(world.c2, OTHER_TITLE)
    case = make_record(
        "discipline_case",
        world.jw,
        {"filed_on": "2019-04-01", "case_no": CASE_NO, "person": SUSPECT, "rank": "乡科级"},
    )

    def item(org: Any, title: str) -> Any:
        values = {"issued_on": "2019-05-01", "source": "督查", "title": title, "deadline": "2019-06-30"}
        return make_record("rectification_task", org, values)

    task = collection.create_task(
        world.reviewer,
        title="2019年度矩阵任务",
        creator_org=world.s1,
        ledger_types=[world.ledger("organization_life")],
        period_start=dt.date(2019, 1, 1),
        period_end=dt.date(2019, 12, 31),
        scope_root=world.s1,
        kinds=OrgKind.objects.filter(code="community"),
        deadline=dt.date(2099, 1, 15),
    )
    targets = {t.org_id: t for t in task.targets.all()}
    template = ReportTemplate.objects.get(key="testreport")
    runs = {
        key: finalise(template, org, Period.year(2019), world.unit_admin, override_reason="矩阵测试")
        for key, org in (("own", world.c1), ("other", world.c2))
    }
    items = {"own": item(world.c1, OWN_ITEM), "other": item(world.c2, OTHER_ITEM)}
    return Fixture(
        world=world,
        objects={
            "own": {"record": own, "attachment": attach(own, OWN_TITLE), "org": world.c1, "item": items["own"],
                    "target": targets[world.c1.pk], "task": task, "run": runs["own"]},
            "other": {"record": other, "attachment": attach(other, OTHER_TITLE), "org": world.c2,
                      "item": items["other"], "target": targets[world.c2.pk], "task": task, "run": runs["other"]},
            "conf": {"record": case, "attachment": attach(case, CASE_FILE), "org": world.jw},
        },
    )  # fmt: skip


def _url(name: str, route: str, obj: str, fx: Fixture) -> str:
    """The URL of pattern `name` about object `obj`, with query strings where the page needs them."""
    o = fx.objects.get(obj, {})
    record = o.get("record")
    code = record.ledger_type.code if record is not None else ""
    if "item" in o and (name.startswith("ledgers:workflow") or name in ("api:list_item", "api:list_step")):
        record = o["item"]
        code = "rectification_task"
    values: dict[str, Any] = {
        "<slug:code>": code,
        "<int:pk>": record.pk if record is not None else 0,
        "<str:token>": "0" * 32,
        "<slug:step_code>": "start",
        "<slug:step>": "start",
        "<slug:key>": "testreport",
        "<str:org>": o["org"].code if "org" in o else "",
        "<int:year>": 2019,
        "<period:period>": "2019Q1",
        "<str:period>": "2019Q1",  # any period (reports, indicators.periods): the matrix asks for a quarter
        "<fmt:fmt>": "json",
        "<str:key>": "纪律.立案数" if obj == "conf" else "学习.中心组次数",  # an indicator (builder)
        "<int:version>": 0,
    }
    if "task" in o and (name.startswith(("ledgers:task", "ledgers:target")) or name == "api:task"):
        values["<int:pk>"] = o["task"].pk
        values["<int:target_pk>"] = o["target"].pk
    if "run" in o and (name.startswith("reports:run") or name in ("reports:compare", "api:run")):
        values["<int:pk>"] = o["run"].pk
    if name.startswith("indicators:check_"):
        values["<slug:code>"] = "t_min_sessions"  # a check of the test pack
    if name in ("ledgers:attachment", "api:attachment"):
        values["<int:pk>"] = o["attachment"].pk
    if name.startswith("indicators:parameter"):  # 报告参数
        values["<str:key>"] = PARAMETER_KEY
        entries = _parameter_entries(fx)
        if name == "indicators:parameter_file":
            values["<int:pk>"] = entries[obj].pk
    url = "/" + route
    for placeholder, value in values.items():
        url = url.replace(placeholder, str(value))
    if name in ("indicators:evidence", "api:evidence", "api:values", "api:checks"):
        key = "纪律.立案数" if obj == "conf" else "学习.中心组次数"
        org = "root" if obj == "conf" else o["org"].code
        url += f"?key={key}&keys={key}&org={org}&start=2019-01-01&end=2019-12-31"  # the one link form
    return url


def _objects_for(name: str) -> list[str]:
    return sorted(obj for (n, obj) in EXPECTED if n == name)


def test_every_url_pattern_has_an_entry():
    names = {name for name, _ in _patterns()}
    missing = sorted(names - {n for n, _ in EXPECTED})
    assert not missing, f"URL patterns with no row in the access matrix: {missing}"
    stale = sorted({n for n, _ in EXPECTED} - names)
    assert not stale, f"Rows for URL patterns that no longer exist: {stale}"


@pytest.fixture
def confidential_indicator(matrix):
    from dangjian.indicators.models import Indicator

    Indicator.objects.get_or_create(
        key="纪律.立案数",
        defaults=dict(
            label="立案数", unit="件", ledger=matrix.world.ledger("discipline_case"), aggregate="count"
        ),
    )


def test_the_matrix(matrix, confidential_indicator):
    """Each pattern × object × role gives the expected status, and no body leaks a value it must not."""
    clients = {role: _client(getattr(matrix.world, role)) for role in ROLES}
    seen: dict[tuple[str, str], tuple[int, ...]] = {}
    failures: list[str] = []
    shown_sensitive: set[str] = set()
    for name, route in sorted(_patterns()):
        for obj in _objects_for(name):
            statuses = []
            url = _url(name, route, obj, matrix)
            for role in ROLES:
                response = clients[role].get(url)
                statuses.append(response.status_code)
                text = _body(response)
                if role != "jiwei":
                    leaked = [v for v in CONFIDENTIAL if v in text]
                    if leaked:
                        failures.append(f"{role} GET {url}: confidential {leaked}")
                if role == "clerk" and OTHER_TITLE in text:
                    failures.append(f"clerk GET {url}: a sibling unit's record")
                if role in MASKED_FOR and SENSITIVE in text:
                    failures.append(f"{role} GET {url}: a sensitive value it sees masked")
                if SENSITIVE in text:
                    shown_sensitive.add(role)
            seen[(name, obj)] = tuple(statuses)
            if tuple(statuses) != EXPECTED[(name, obj)]:
                failures.append(
                    f"{name} [{obj}] {url}: {tuple(statuses)} != expected {EXPECTED[(name, obj)]}"
                )
    # The check above is not vacuous: the roles that may change the record do get its sensitive value.
    assert shown_sensitive == {"clerk", "unit_admin"}, shown_sensitive
    if os.environ.get("ACCESS_MATRIX_DUMP"):
        for (name, obj), statuses in sorted(seen.items()):
            print(f'expect("{name}", {obj.replace("-", "none")}={statuses})')
    assert not failures, "\n".join(failures)


def test_admin_pages_are_only_for_staff(matrix):
    """Every admin URL without arguments: roles without staff status are sent to the login page, and no admin
    page — whoever reads it — shows a confidential value."""
    from django.contrib import admin

    urls = ["/admin/"] + [f"/admin/{m._meta.app_label}/{m._meta.model_name}/" for m in admin.site._registry]
    for role in ROLES:
        client = _client(getattr(matrix.world, role))
        for url in urls:
            response = client.get(url)
            if not getattr(matrix.world, role).is_staff:
                assert response.status_code == 302 and "/login" in response["Location"], (role, url)
            text = _body(response)
            assert not [v for v in CONFIDENTIAL if v in text], (role, url)


API_PUBLIC = {"api:index", "api:api-root", "api:docs", "api:openapi-json"}  # no data: the schema and its docs


def test_api_rows_hold_for_bearer_tokens(matrix, confidential_indicator):
    """The API rows again, with each role's bearer token and no session: the same statuses and the same leak
    checks. Without any credentials every data endpoint answers 401 (with a reason in Chinese)."""
    from dangjian.api import tokens

    headers = {
        role: {"Authorization": f"Bearer {tokens.create(getattr(matrix.world, role), '矩阵').secret}"}
        for role in ROLES
    }
    failures: list[str] = []
    for name, route in sorted(set(_patterns())):
        if not name.startswith("api:"):
            continue
        for obj in _objects_for(name):
            url = _url(name, route, obj, matrix)
            statuses = []
            for role in ROLES:
                response = Client().get(url, headers=headers[role])
                statuses.append(response.status_code)
                text = _body(response)
                if role != "jiwei" and [v for v in CONFIDENTIAL if v in text]:
                    failures.append(f"{role} token GET {url}: confidential value")
                if role == "clerk" and (OTHER_TITLE in text or OTHER_ITEM in text):
                    failures.append(f"clerk token GET {url}: a sibling unit's record")
                if role in MASKED_FOR and SENSITIVE in text:
                    failures.append(f"{role} token GET {url}: a sensitive value it sees masked")
            if tuple(statuses) != EXPECTED[(name, obj)]:
                failures.append(
                    f"{name} [{obj}] {url} with tokens: {tuple(statuses)} != {EXPECTED[(name, obj)]}"
                )
            anonymous = Client().get(url)
            wanted = EXPECTED[(name, obj)][0] if name in API_PUBLIC or 405 in EXPECTED[(name, obj)] else 401
            if anonymous.status_code != wanted:
                failures.append(
                    f"{name} [{obj}] {url} without credentials: {anonymous.status_code} != {wanted}"
                )
    assert not failures, "\n".join(failures)
