"""One org picker wherever an org is chosen (issue 13): a select of the account's orgs only, indented as a tree,
marked for orgpicker.js (search by name, short name or code) and working as a plain select without it."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from tests.indicators.test_parameters import param_pack, registered  # noqa: F401 (a fixture)

from dangjian.orgs.models import Organization
from dangjian.orgs.picker import OrgChoiceField, render_picker

DEPTH_INDENT = "\u3000"


def picker(page: str, name: str) -> list[tuple[str, str, dict[str, str]]]:
    """(value, label, data attributes) of the options of the picker named `name` on a page."""
    found = re.search(rf'<select name="{name}"([^>]*)>(.*?)</select>', page, re.S)
    assert found is not None, f"no select named {name}"
    assert "data-org-picker" in found.group(1)
    out = []
    for attrs, label in re.findall(r"<option([^>]*)>([^<]*)</option>", found.group(2)):
        data = dict(re.findall(r'(data-[a-z]+|value)="([^"]*)"', attrs))
        out.append((data.pop("value"), html_lib.unescape(label), data))
    return out


def codes(options) -> list[str]:
    return [value for value, _, _ in options if value]


def test_a_form_field_offers_its_queryset_as_an_indented_tree(world):
    field = OrgChoiceField(queryset=Organization.objects.order_by("path"))
    field.widget.choices = field.choices
    page = field.widget.render("org", world.c1.pk)
    options = picker(page, "org")
    labels = {label.strip(DEPTH_INDENT): label for _, label, _ in options[1:]}
    assert labels["中共测试区委员会"] == "中共测试区委员会"  # the top org offered: no indent
    assert labels["中共测试区城关街道工作委员会"] == DEPTH_INDENT + "中共测试区城关街道工作委员会"
    assert labels["中共城关街道幸福社区委员会"] == DEPTH_INDENT * 2 + "中共城关街道幸福社区委员会"
    c1 = next(data for value, _, data in options if value == str(world.c1.pk))
    assert c1 == {"data-depth": "3", "data-search": "中共城关街道幸福社区委员会 幸福社区 c1"}
    assert re.search(rf'<option value="{world.c1.pk}"[^>]* selected>', page)


def test_indentation_starts_at_the_shallowest_org_offered(world):
    field = OrgChoiceField(
        queryset=Organization.objects.filter(path__startswith=world.s1.path).order_by("path")
    )
    field.widget.choices = field.choices
    labels = [label for _, label, _ in picker(field.widget.render("org", None), "org")[1:]]
    assert labels == [
        "中共测试区城关街道工作委员会",
        DEPTH_INDENT + "中共城关街道幸福社区委员会",
        DEPTH_INDENT + "中共城关街道和平社区委员会",
    ]


def test_a_template_picker_escapes_names_and_keeps_the_choice(world):
    world.c2.name = '和平社区<script>"x"</script>'
    world.c2.save()
    page = render_picker(
        "org", Organization.objects.order_by("path"), "c2", empty="全部", attrs={"required": True}
    )
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert re.search(r'<option value="c2"[^>]* selected>', page) and " required" in page
    assert picker(page, "org")[0][:2] == ("", "全部")


def test_a_page_may_add_attributes_to_each_option_before_selected(world):
    extra = {
        "c1": {"data-year": '2019"><b>', "data-kinds": "community", "selected": False},
        "s1": {"data-kinds": "street"},
    }
    page = render_picker("org", Organization.objects.order_by("path"), "c1", option_attrs=extra)
    options = {value: data for value, _, data in picker(page, "org")}
    assert options["c1"]["data-kinds"] == "community" and options["s1"] == {
        "data-depth": "2",
        "data-search": "中共测试区城关街道工作委员会 城关街道 s1",
        "data-kinds": "street",
    }
    assert "<b>" not in page and 'data-year="2019&quot;&gt;&lt;b&gt;"' in page  # escaped like the rest
    assert re.search(
        r'<option value="c1" data-depth="3" data-search="[^"]*" data-year="[^"]*" data-kinds="community" selected>',
        page,
    )
    assert options["root"] == {
        "data-depth": "1",
        "data-search": "中共测试区委员会 测试区 root",
    }  # none given: none


def test_a_form_field_may_add_attributes_from_the_org(world):
    field = OrgChoiceField(queryset=Organization.objects.order_by("path"))
    field.widget.option_attrs = lambda org: {"data-code": org.code}
    field.widget.choices = field.choices
    options = picker(field.widget.render("org", world.s1.pk), "org")
    assert [data.get("data-code") for _, _, data in options] == [None, "root", "jw", "s1", "c1", "c2"]
    assert re.search(
        rf'<option value="{world.s1.pk}"[^>]* data-code="s1" selected>',
        field.widget.render("org", world.s1.pk),
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("who", "expected"),
    [("clerk", ["c1"]), ("reviewer", ["s1", "c1", "c2"]), ("viewer", ["root", "jw", "s1", "c1", "c2"])],
)
def test_the_records_filter_offers_only_the_accounts_orgs(world, who, expected):
    page = client_for(getattr(world, who)).get("/ledgers/study_activity/").content.decode()
    assert codes(picker(page, "org")) == expected


@pytest.mark.parametrize(
    ("url", "name", "who", "expected"),
    [
        ("/ledgers/study_activity/new", "reporting_org", "reviewer", "s1 c1 c2"),  # values: primary keys
        ("/ledgers/tasks/new", "creator_org", "reviewer", "s1 c1 c2"),
        ("/ledgers/tasks/new", "scope_root", "reviewer", "s1 c1 c2"),
        ("/ledgers/study_activity/import", "org", "reviewer", "s1 c1 c2"),
        ("/reports/verify/", "org", "reviewer", "s1 c1 c2"),
        ("/reports/templates/from-word/", "org", "unit_admin", "root jw s1 c1 c2"),
        ("/indicators/builder/new/", "preview_org", "unit_admin", "root jw s1"),
    ],
)
def test_every_org_choice_is_the_picker_within_the_scope(world, url, name, who, expected):
    response = client_for(getattr(world, who)).get(url)
    assert response.status_code == 200, url
    options = picker(response.content.decode(), name)
    by_pk = {str(o.pk): o.code for o in Organization.objects.all()}
    got = [by_pk.get(value, value) for value in codes(options)]
    assert got == expected.split()
    assert all(data.get("data-depth") for value, _, data in options if value)


def test_the_picker_script_is_on_every_page_and_the_select_works_without_it(world):
    page = client_for(world.clerk).get("/").content.decode()
    assert "dangjian/orgpicker.js" in page
    script = Path(finders.find("dangjian/orgpicker.js")).read_text(encoding="utf-8")
    assert "select[data-org-picker]" in script and "data-search" in script
    # without the script the plain select still submits: the filter by org works
    response = client_for(world.reviewer).get("/ledgers/study_activity/", {"org": "c1"})
    assert re.search(r'<option value="c1"[^>]* selected>', response.content.decode())


@pytest.mark.usefixtures("param_pack")
def test_the_parameter_entry_offers_the_picker_of_the_orgs_that_may_enter_it(world):
    page = client_for(world.reviewer).get(f"/indicators/parameters/{quote(registered().key)}/")
    assert page.status_code == 200
    options = picker(page.content.decode(), "org")
    by_pk = {str(o.pk): o.code for o in Organization.objects.all()}
    got = {by_pk[value] for value in codes(options)}
    assert got and got <= {"s1", "c1", "c2"}  # within the reviewer's street, nothing else
