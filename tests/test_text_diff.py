"""The one diff shown wherever two versions of a text are compared (template files, indicator definitions)."""

from dangjian.orgs import access
from dangjian.text import MAX_DIFF_LINES, diff_rows


def test_same_texts_have_no_rows():
    assert diff_rows("甲\n乙\n", "甲\n乙\n") == []


def test_a_changed_line_is_shown_with_its_line_numbers_and_context():
    old = "\n".join(f"第{i}行" for i in range(1, 21))
    new = old.replace("第10行", "第十行")
    rows = diff_rows(old, new, context=2)
    assert [r["op"] for r in rows] == ["gap", "same", "same", "del", "add", "same", "same", "gap"]
    assert rows[3] == {"op": "del", "old": 10, "new": None, "text": "第10行"}
    assert rows[4] == {"op": "add", "old": None, "new": 10, "text": "第十行"}
    assert rows[2] == {"op": "same", "old": 9, "new": 9, "text": "第9行"}


def test_an_added_first_line_starts_without_a_gap():
    rows = diff_rows("乙\n", "甲\n乙\n")
    assert rows[0] == {"op": "add", "old": None, "new": 1, "text": "甲"}


def test_a_huge_text_is_not_compared_line_by_line():
    rows = diff_rows("甲\n" * (MAX_DIFF_LINES + 1), "乙\n")
    assert len(rows) == 1 and "不逐行比较" in rows[0]["text"]


def test_report_writers_are_admins_and_reviewers_of_the_reporting_org(world):
    assert access.scope(world.unit_admin).may_write_reports()
    assert access.scope(world.unit_admin).reporting_org() == world.root  # the owner of what they save
    assert access.scope(world.reviewer).reporting_org() is None
    for nobody in (
        access.SYSTEM,
        world.sysadmin,
        world.clerk,
        world.viewer,
        world.reviewer,
    ):  # reviewer: at s1
        assert not access.scope(nobody).may_write_reports()
