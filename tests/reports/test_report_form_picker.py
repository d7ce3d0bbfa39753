"""The report form chooses its org with the one org picker (issue 13): the account's orgs only, indented as a tree,
each option carrying what the picker searches (data-depth, data-search) and what report-form.js reads (data-kinds:
the templates fitting the org; data-year: the year the form moves to when the org is chosen).

Tree (tests/conftest.py): root (district) → jw, s1 (street) → c1, c2 (community). Records (report_records):
2019: c1 and c2; 2018: c1; none at jw."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone
from tests.web.test_org_picker import DEPTH_INDENT, picker

from dangjian.orgs import access
from dangjian.orgs.models import Organization

pytestmark = pytest.mark.usefixtures("report_pack", "report_records")


def page(client, user, **query) -> str:
    client.force_login(user)
    response = client.get(reverse("reports:index"), query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("who", ["clerk", "reviewer", "viewer", "unit_admin", "jiwei"])
def test_the_org_options_are_the_accounts_orgs_with_what_picker_and_form_read(client, world, who):
    user = getattr(world, who)
    options = picker(page(client, user), "org")
    scope = list(access.orgs(user).filter(is_active=True).order_by("path"))
    assert [value for value, _, _ in options] == [
        o.code for o in scope
    ]  # nothing outside the scope, no blank
    top = min(o.depth for o in scope)
    last_year = str(timezone.localdate().year - 1)
    for (value, label, data), org in zip(options, scope, strict=True):
        assert label == DEPTH_INDENT * (org.depth - top) + org.name
        assert data["data-depth"] == str(org.depth)
        assert data["data-search"] == " ".join((org.name, org.short_name, org.code))
        assert data["data-kinds"].split() == [k.code for k in org.kinds.all()]
        # the org's last completed year with data in its subtree; last year for one without any (jw)
        assert data["data-year"] == ("2019" if org.code != "jw" else last_year), value


def test_an_org_taken_out_of_service_is_not_offered(client, world):
    Organization.objects.filter(pk=world.c2.pk).update(is_active=False)
    options = picker(page(client, world.reviewer), "org")
    assert [value for value, _, _ in options] == ["s1", "c1"]


def test_the_default_org_is_selected_last_on_its_option_and_asked_orgs_win(client, world):
    html = page(client, world.reviewer)
    assert re.search(r'<option value="s1" data-depth="2"[^>]* data-year="2019" selected>', html)
    html = page(client, world.reviewer, org="c2")
    assert re.search(r'<option value="c2"[^>]* selected>', html)
    assert not re.search(r'<option value="s1"[^>]* selected>', html)


def test_the_template_kinds_and_the_org_kinds_meet_in_the_markup(client, world, report_pack):
    """report-form.js disables the orgs a template is not for: the template options name their kinds and the org
    options theirs, in the same codes."""
    report_pack.org_kinds = ["community"]
    report_pack.save()
    html = page(client, world.reviewer, org="c1")  # the template fits the community asked for
    template = re.search(r'<option value="testreport" data-kinds="([^"]*)"', html)
    assert template and template.group(1) == "community"
    kinds = {value: data["data-kinds"] for value, _, data in picker(html, "org")}
    assert kinds == {"s1": "street", "c1": "community", "c2": "community"}


def test_the_outsider_gets_no_picker(client, world):
    html = page(client, world.outsider)
    assert "您没有任何组织的报告权限" in html and 'name="org"' not in html


def test_the_page_has_no_search_box_of_its_own_and_the_scripts_talk():
    form = Path(finders.find("reports/report-form.js")).read_text(encoding="utf-8")
    assert "org-filter" not in form  # the picker's search replaces it
    assert 'dispatchEvent(new Event("orgpicker:update"))' in form
    orgpicker = Path(finders.find("dangjian/orgpicker.js")).read_text(encoding="utf-8")
    assert 'addEventListener("orgpicker:update"' in orgpicker
