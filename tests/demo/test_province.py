"""Scale P (issue 14): the units under the root cloned on the database server, with their kinds, records and
history, so that 5 million records can be had for a benchmark without 5 million passes through Python."""

from __future__ import annotations

import pytest

from dangjian.demo import province
from dangjian.indicators import compiler
from dangjian.orgs.models import Organization
from dangjian.records.models import Record
from dangjian.records.services import NewRecord, create_records

MEETING = {"date": "2019-03-05", "kind": "党课", "topic": "学习党章", "attendance": "30", "host": "张三"}


@pytest.fixture
def loaded(world):
    lt = world.ledger("organization_life")
    rows = [NewRecord(org, {**MEETING, "topic": f"{org.code}的党课"}, key=f"k:{org.code}") for org in
            (world.c1, world.c2, world.s1, world.root)]  # fmt: skip
    create_records(None, lt, rows, check_access=False)
    return lt


def test_every_unit_under_the_root_is_cloned_with_kinds_records_and_history(world, loaded):
    units = Organization.objects.exclude(pk=world.root.pk).count()
    originals = Record.objects.exclude(org=world.root).count()
    created = province.clone_units(world.root, copies=2)
    assert created == 2 * originals
    assert Organization.objects.count() == 1 + 3 * units
    assert Record.objects.count() == Record.history.model.objects.count() == 3 * originals + 1
    c1_copy = Organization.objects.get(code="c1" + province.suffix(2))
    assert c1_copy.name == world.c1.name and list(c1_copy.kinds.values_list("code", flat=True)) == [
        "community"
    ]
    # in the tree where the original is: under the copy of its street, itself under the root
    assert Organization.objects.get_parent(c1_copy).code == "s1" + province.suffix(2)
    assert Organization.objects.get_parent(Organization.objects.get_parent(c1_copy)) == world.root
    assert Organization.objects.find_problems() == (
        [],
        [],
        [],
        [],
        [],
    )  # paths, depths and child counts are sound
    record = Record.objects.get(org=c1_copy)
    assert record.values["topic"] == "c1的党课" and record.key == "k:c1" + province.suffix(2)
    assert [h.history_change_reason for h in record.history.all()] == [province.REASON]
    # the root's report counts every copy; a copied street's, its own units only
    root = Organization.objects.get(pk=world.root.pk)
    assert compiler.base_records(loaded, root).count() == 3 * originals + 1
    street = Organization.objects.get(code="s1" + province.suffix(1))
    assert (
        compiler.base_records(loaded, street).count()
        == Record.objects.filter(org__path__startswith=world.s1.path).count()
    )


def test_the_path_steps_are_the_trees_own():
    assert (
        province._step(1) == Organization.alphabet[0] * (Organization.steplen - 1) + Organization.alphabet[1]
    )
    for n in (1, 35, 36, 37, 1295, 1296, 40000):
        assert province._number(province._step(n)) == n
    with pytest.raises(ValueError):
        province._step(len(Organization.alphabet) ** Organization.steplen)


def test_scale_p_is_its_base_scale_cloned_once_however_often_it_is_built(db, monkeypatch):
    from dangjian.demo import generator
    from dangjian.packs.loader import load_all

    load_all()
    monkeypatch.setattr(
        generator, "CLONED", {"P": "S"}
    )  # the real P is M and 32 copies: minutes, not seconds
    monkeypatch.setattr(province, "COPIES", 1)
    result = generator.build_demo(scale="P")
    root = Organization.objects.get(code=generator.ROOT_CODE)
    units = Organization.objects.exclude(pk=root.pk).count()
    assert result.orgs == Organization.objects.count() == 1 + units and units % 2 == 0
    assert Organization.objects.filter(code="demo-jd01-sq01" + province.suffix(1)).exists()
    own = Record.objects.filter(org=root).count()
    assert result.records_created == Record.objects.count() and (result.records_created - own) % 2 == 0
    assert Record.history.model.objects.count() == Record.objects.count()
    again = generator.build_demo(scale="P")
    assert again.records_created == 0 and Organization.objects.count() == 1 + units
