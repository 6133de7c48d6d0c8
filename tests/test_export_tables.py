"""kam export from the reader's tables: the vectorised cells and writers give the bytes the
row-by-row rules give, in one chunk or many, and the Org API gives the same as the tables."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore import Account, Org, Person, load
from kamcore.exporters import FORMATS, columns, export, export_tables
from kamcore.exporters.salesforce import id15_keys
from kamcore.importers import id15, id18
from kamcore.plugins import get_plugin_manager
from kamcore.registry import registry_for
from kamcore.settings import Settings
from kamcore.workspace.csvio import format_cell, render_csv
from kamcore.workspace.tables import read_workspace

CELLS = st.text(alphabet=st.sampled_from(list('ab,"\r\n \t=+-@1.e\'é\x01\\')), max_size=8)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(CELLS, CELLS, CELLS), max_size=6), st.booleans(), st.integers(1, 4))
def test_csv_writer_matches_the_row_writer(rows, safe, chunk):
    header = ["id", "=x", "c"]
    cells = [pa.array([r[i] for r in rows], pa.string()) for i in range(3)]
    out = io.BytesIO()
    old, columns.CHUNK = columns.CHUNK, chunk
    try:
        columns.write_csv(out, header, cells, safe=safe)
    finally:
        columns.CHUNK = old
    assert out.getvalue().decode() == render_csv(header, rows, safe=safe)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False),
                          st.integers(-10**17, 10**17).map(float),
                          st.sampled_from([-0.0, 0.0, 1e15, 1e16, -1e16, 5e-5])), max_size=8))
def test_float_cells_match_format_cell_and_repr(values):
    arr = pa.array(values, pa.float64())
    assert columns.cell_text(arr, len(values)).to_pylist() == [format_cell(v) for v in values]
    assert columns.json_literals(arr).to_pylist() == [None if v is None else json.dumps(v)
                                                      for v in values]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), CELLS, st.text(max_size=5)), max_size=8))
def test_json_strings_match_json_dumps(values):
    assert columns.json_strings(pa.array(values, pa.string())).to_pylist() == [
        None if v is None else json.dumps(v, ensure_ascii=False) for v in values]


ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(
    st.text(alphabet=ALNUM, min_size=15, max_size=15).map(id18),
    st.text(alphabet=ALNUM, min_size=15, max_size=15),
    st.text(alphabet=ALNUM, min_size=15, max_size=15).map(lambda t: id18(t).lower()),
    st.text(alphabet=ALNUM + " ", min_size=13, max_size=19)), max_size=8))
def test_id15_keys_match_id15(values):
    def one(value):
        try:
            return id15(value)
        except ValueError:
            return None

    assert id15_keys(pa.array(values, pa.string())).to_pylist() == [one(v) for v in values]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("people", [False, True])
def test_tables_and_org_give_the_same_bytes(acme_path: Path, fmt: str, people: bool):
    if fmt == "salesforce" and people:
        return
    registry = registry_for(get_plugin_manager(load_entrypoints=False))
    org = load(acme_path, registry=registry)
    tables = read_workspace(acme_path, registry=registry)
    assert export_tables(tables, fmt, people=people) == export(org, fmt, people=people)


def test_an_org_built_in_python_keeps_its_metrics():
    org = Org.build(accounts=[Account(id="A", name="A", tier="global", manager="P",
                                      metrics={"revenue": 2.5, "orders": 3.0})],
                    people=[Person(id="P", name="Ada", role="gam")])
    data = json.loads(export(org, "json"))
    assert data["accounts"][0]["metrics"] == {"revenue": 2.5, "orders": 3.0}
    assert data["accounts"][0]["extra"] == {}
    assert data["people"][0] == {"id": "P", "name": "Ada", "role": "gam", "active": True,
                                 "ext": {}, "extra": {}}


def test_duplicates_are_left_out_as_the_org_leaves_them(tmp_path: Path):
    (tmp_path / "kam.yaml").write_text("name: Dup\ncurrency: EUR\n")
    (tmp_path / "accounts.csv").write_text(
        "id,name,tier,parent\nA,First,global,\nB,Child,national,A\nA,Second,global,\n")
    (tmp_path / "people.csv").write_text("id,name,role\n")
    tables = read_workspace(tmp_path, registry=registry_for(
        get_plugin_manager(load_entrypoints=False)))
    text = export_tables(tables, "csv")
    assert "Second" not in text and text.count("\n") == 3
    assert [a["name"] for a in json.loads(export_tables(tables, "json"))["accounts"]] == [
        "First", "Child"]


HOSTILE = st.text(alphabet=st.sampled_from(list('ab "\\\n\r\t\x00\x01\x1f\x7f\u2028é{}[],:')),
                  min_size=1, max_size=6).filter(lambda t: t == t.strip())
# (-0.0 left out: an Org's -0.0 metric exports as 0.0, through tables_from_org's cell text
# "0", since before the columnar writer; the tables read from files keep it)
NUMBER = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                   st.integers(-10**17, 10**17).map(float)).filter(
    lambda x: x != 0 or str(x) == "0.0")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(HOSTILE, st.booleans(), st.booleans(), NUMBER, NUMBER,
                          st.tuples(HOSTILE, HOSTILE)), min_size=1, max_size=7),
       st.lists(st.tuples(HOSTILE, st.booleans()), min_size=1, max_size=3), st.integers(1, 3))
def test_json_export_is_json_dumps_of_the_records(accounts, people, chunk):
    """The document is ``json.dumps(indent=2, ensure_ascii=False)`` of the records'
    ``model_dump``, byte for byte, whatever the cells hold (quotes, backslashes, control
    characters) and whichever metrics a record lacks (the first, or all), in chunks of any
    size."""
    records = []
    for i, (name, has_revenue, has_employees, revenue, employees, extra) in enumerate(accounts):
        metrics = {"revenue": revenue, "employees": employees} if i == 0 else {
            k: v for k, v, given in (("revenue", revenue, has_revenue),
                                     ("employees", employees, has_employees)) if given}
        records.append(Account(id=f"A{i}", name=name, tier="global" if i == 0 else "national",
                               parent=None if i == 0 else "A0", manager="P0" if i % 2 else None,
                               metrics=metrics, extra={"Type": extra[0], "Note": extra[1]}))
    persons = [Person(id=f"P{i}", name=name, role="gam", active=active,
                      reports_to=None if i == 0 else "P0")
               for i, (name, active) in enumerate(people)]
    org = Org.build(accounts=records, people=persons,
                    settings=Settings(name='Org "x"\\', currency="EUR"))
    old, columns.CHUNK = columns.CHUNK, chunk * 4
    try:
        text = export(org, "json")
    finally:
        columns.CHUNK = old
    dump = {"org": org.settings.name, "currency": org.settings.currency,
            "accounts": [a.model_dump(mode="json", exclude_none=True)
                         for a in org.accounts.values()],
            "people": [p.model_dump(mode="json", exclude_none=True)
                       for p in org.people.values()]}
    assert text == json.dumps(dump, indent=2, ensure_ascii=False) + "\n"


def test_the_writers_give_pyarrow_typed_scalars(acme_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A Python str handed to a compute function makes pyarrow infer its type, and the
    inference looks for dateutil each time: on a machine without it, a failed import
    (~0.1 ms) per call, 2,000 of them in the 1M-account JSON export."""
    import sys

    tables = read_workspace(acme_path, registry=registry_for(
        get_plugin_manager(load_entrypoints=False)))
    export_tables(tables, "json")  # the modules the writers import are not the point
    looked_up: list[str] = []

    class Spy:
        def find_spec(self, name: str, *args: object) -> None:
            looked_up.append(name)

    monkeypatch.setattr(sys, "meta_path", [Spy(), *sys.meta_path])
    for fmt in ("json", "csv"):
        export_tables(tables, fmt)
    assert looked_up == []
