"""The reader's tables as a Python API: what docs/python.md shows, and the reading rules."""

from __future__ import annotations

import pytest

import kamcore
from kamcore.errors import RecordErrors
from kamcore.plugins import get_plugin_manager
from kamcore.validation import validate_tables
from kamcore.workspace.objects import org_from_tables, tables_from_org
from kamcore.workspace.tables import read_workspace


@pytest.fixture
def pm():
    return get_plugin_manager(load_entrypoints=False)


def findings(items):
    return sorted((f.code, f.subject, f.file, f.line, f.column, f.message) for f in items)


@pytest.mark.parametrize("name", ["acme", "broken"])
def test_tables_and_objects_give_the_same_findings(acme_path, pm, name):
    folder = acme_path.parent / name
    tables = read_workspace(folder, pm=pm)
    tables.require_readable()
    from_tables = validate_tables(tables)
    from_org = kamcore.validate(kamcore.load(folder, pm=pm))
    round_trip = kamcore.validate(org_from_tables(tables_from_org(org_from_tables(tables))))
    assert findings(from_tables) == findings(from_org) == findings(round_trip)


def test_reading_rules(tmp_path, pm):
    (tmp_path / "kam.yaml").write_text("name: Messy\ncurrency: EUR\n")
    (tmp_path / "accounts.csv").write_bytes(
        "\ufeffid , name,tier,parent,manager,country,currency,revenue\r\n"
        ' G ,"Globex, Inc.",Global,,  P1 ,de,eur, 1e3 \r\n'
        "N,Globex DE,NATIONAL, G ,P1,DE,EUR,\r\n"
        ",,,,,,,\r\n".encode())
    (tmp_path / "people.csv").write_text("id,name,role,active,capacity\nP1 ,Ada,Gam,YES, 7\n")
    tables = read_workspace(tmp_path, pm=pm)
    assert tables.problems == []
    rows = tables.accounts.table.to_pylist()
    first = rows[0]
    assert tuple(first[c] for c in ("id", "name", "tier", "parent", "manager", "country",
                                    "currency", "revenue")) == (
        "G", "Globex, Inc.", "global", None, "P1", "DE", "EUR", 1000.0)
    assert rows[1]["parent"] == "G" and rows[1]["tier"] == "national" and len(rows) == 2
    person = tables.people.table.to_pylist()[0]
    assert (person["id"], person["role"], person["active"], person["capacity"]) == (
        "P1", "gam", True, 7)
    org = org_from_tables(tables)
    assert org.accounts["N"].parent == "G" and org.book("P1") == ["G", "N"]
    assert kamcore.rollup(tables, ["revenue"], by="manager").rows[0]["revenue_team"] == 1000


def test_bad_cells_are_all_located(tmp_path, pm):
    (tmp_path / "kam.yaml").write_text("name: Bad\n")
    (tmp_path / "accounts.csv").write_text(
        "id,name,tier,country,revenue\nA,a,nationall,DE,1\nB,b,key,XX,1\nC,c,key,DE,lots\n")
    (tmp_path / "people.csv").write_text("id,name,role\n")
    tables = read_workspace(tmp_path, pm=pm)
    assert [(p.location.line, p.location.column) for p in tables.problems] == [
        (2, "tier"), (3, "country"), (4, "revenue")]
    assert tables.accounts.table.num_rows == 0
    with pytest.raises(RecordErrors):
        tables.require_readable()


def test_columns_limits_what_is_read_not_how(tmp_path, pm):
    (tmp_path / "kam.yaml").write_text("name: Few\n")
    (tmp_path / "accounts.csv").write_text(
        "id,name,tier,country,Phone,note\nA,a,key, de ,555, x \n")
    (tmp_path / "people.csv").write_text("id,name,role\n")
    some = read_workspace(tmp_path, pm=pm, columns=["note"])
    every = read_workspace(tmp_path, pm=pm)
    assert "Phone" not in some.accounts.table.column_names
    assert some.accounts.table.to_pylist()[0]["note"] == "x"
    assert every.accounts.table.select(some.accounts.table.column_names).equals(
        some.accounts.table)
