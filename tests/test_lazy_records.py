"""The lazy org of ``kam plan`` (issue 14, item 7) is the org, only built later.

``kam plan check`` and ``apply`` build an account record only when a line asks for it
(:class:`kamcore.lazyrecords.LazyRecords`); the books and the account tree come from the
columns. These tests hold that org to the eagerly built one: the same records, books and trees,
and the same plan, findings, impact and files for the same plan lines; and the mapping itself to
a dict under any sequence of edits.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamcore.changes.batch import plan_lines
from kamcore.changes.brief import accounts_below, render_briefs
from kamcore.changes.dated import dated_files
from kamcore.changes.impact import impact
from kamcore.changes.planfile import read_plan
from kamcore.errors import PlanErrors
from kamcore.lazyrecords import LazyRecords, copy_records, field_items, prefetch
from kamcore.models import Account
from kamcore.plugins import get_plugin_manager
from kamcore.workspace.objects import org_from_tables
from kamcore.workspace.tables import as_written, read_workspace
from tests.messy_orgs import MessyWorkspace, messy_workspaces

# -- the mapping ------------------------------------------------------------------------------


class _Rows:
    """A row source of plain accounts (id ``A<row>``, parent the row before)."""

    def __init__(self, n: int) -> None:
        self.ids = [f"A{i}" for i in range(n)]
        self.built: list[int] = []

    def record(self, row: int) -> Account:
        self.built.append(row)
        return Account(id=self.ids[row], name=f"n{row}", tier="regular",
                       parent=self.ids[row - 1] if row else None, manager=f"P{row % 3}")

    def column(self, name: str) -> list[Any]:
        return [getattr(self.record(row), name) for row in range(len(self.ids))] \
            if name not in ("parent", "manager") else [
                (self.ids[r - 1] if r else None) if name == "parent" else f"P{r % 3}"
                for r in range(len(self.ids))]


_EDITS = st.lists(st.tuples(st.sampled_from(["set", "del", "get", "copy"]),
                            st.integers(0, 9), st.integers(0, 5)), max_size=30)


@settings(deadline=None)
@given(st.integers(0, 6), _EDITS)
def test_lazy_records_behave_as_a_dict_under_any_edits(n: int, edits: list[Any]) -> None:
    source = _Rows(n)
    lazy: Any = LazyRecords(source)
    plain: Any = {rid: source.record(row) for row, rid in enumerate(source.ids)}
    for what, which, value in edits:
        key = f"A{which}"
        if what == "set":
            record = Account(id=key, name=f"x{value}", tier="regular", manager=f"P{value}",
                             parent=f"A{value}")
            lazy[key] = plain[key] = record
        elif what == "del":
            if key in plain:
                del lazy[key], plain[key]
            else:
                with pytest.raises(KeyError):
                    del lazy[key]
        elif what == "get":
            assert lazy.get(key) == plain.get(key)
        else:  # a copy edited apart leaves the original as it was
            kept = list(lazy.items())
            other = copy_records(lazy)
            other[key] = Account(id=key, name="copy", tier="key")
            assert list(lazy.items()) == kept
        assert list(lazy) == list(plain)
        assert list(reversed(lazy)) == list(reversed(plain))
        assert len(lazy) == len(plain)
        assert all((f"A{i}" in lazy) == (f"A{i}" in plain) for i in range(10))
        for name in ("parent", "manager"):
            assert list(field_items(lazy, name)) == list(field_items(plain, name))
    assert dict(lazy) == plain


def test_records_are_built_when_asked_for_and_shared_by_copies() -> None:
    source = _Rows(5)
    lazy: LazyRecords[Account] = LazyRecords(source)
    assert source.built == []
    first = lazy["A3"]
    assert source.built == [3]
    assert copy_records(lazy)["A3"] is first  # a dict copy gives the same object too
    assert source.built == [3]
    assert list(field_items(lazy, "manager"))[3] == ("A3", "P0")
    assert source.built == [3]  # the column, not the records


def test_an_id_twice_is_refused() -> None:
    source = _Rows(2)
    source.ids = ["A", "A"]
    with pytest.raises(ValueError, match="one row per id"):
        LazyRecords(source)


# -- the org ----------------------------------------------------------------------------------

_SETTINGS = settings(max_examples=20, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow])


def _both(folder: Path) -> tuple[Any, Any, Any]:
    tables = read_workspace(folder)
    tables.require_readable()
    return tables, org_from_tables(tables), org_from_tables(tables, lazy=True)


@_SETTINGS
@given(messy_workspaces())
def test_the_lazy_org_has_the_records_books_and_trees_of_the_org(ws: MessyWorkspace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _, eager, lazy = _both(ws.write(Path(folder)))
    assert isinstance(lazy.accounts, LazyRecords)
    assert lazy.roots() == eager.roots()
    assert {p: lazy.book(p) for p in lazy.people} == {p: eager.book(p) for p in eager.people}
    assert list(lazy.account_graph.edges) == list(eager.account_graph.edges)
    assert list(lazy.accounts.items()) == list(eager.accounts.items())
    for aid in eager.accounts:
        assert lazy.location("account", aid) == eager.location("account", aid)


def test_an_org_with_an_account_id_twice_is_built_at_once(tmp_path: Path) -> None:
    (tmp_path / "kam.yaml").write_text("name: t\ncurrency: EUR\n", encoding="utf-8")
    (tmp_path / "accounts.csv").write_text("id,name,tier\nA,One,key\nA,Two,key\n")
    (tmp_path / "people.csv").write_text("id,name,role\n")
    _, eager, lazy = _both(tmp_path)
    assert isinstance(lazy.accounts, dict)
    assert [d.record for d in lazy.duplicates] == [d.record for d in eager.duplicates]


# -- plans on it ------------------------------------------------------------------------------


@st.composite
def _plans(draw: st.DrawFn, ws: MessyWorkspace) -> str:
    """Plan lines on ``ws``'s org: moves, assigns, tier changes, hires and leaves, good and
    bad (unknown ids, loops, conflicts), so both the plans and the refusals are compared."""
    truth = ws.truth
    accounts = list(truth.accounts)
    people = list(truth.people)
    refusals = draw(st.booleans())  # else lines that mostly go through
    used: set[tuple[str, str]] = set()
    ops = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["move", "assign", "assign", "tier", "hire", "leave",
                                     "bad"] if refusals else ["move", "assign", "hire"]))
        aid = draw(st.sampled_from(accounts))
        if not refusals:  # one line per account and field: no conflicts
            unused = [a for a in accounts if (kind, a) not in used]
            if not unused:
                continue
            aid = draw(st.sampled_from(unused))
            used.add((kind, aid))
        if kind == "move":
            # under an account of the tier above or its own (mostly no loop)
            tiers = {"regular": ("key", "regular"), "key": ("national",),
                     "national": ("global",), "global": ("global",)}[truth.accounts[aid].tier]
            below = set(truth.subtree(aid))
            targets = [a for a in accounts if truth.accounts[a].tier in tiers
                       and a not in below]
            if not targets:
                continue
            ops.append(f"{{op: move, id: {aid}, to: {draw(st.sampled_from(targets))}}}")
        elif kind == "assign":
            ops.append(f"{{op: assign, id: {aid}, to: {draw(st.sampled_from(people))}}}")
        elif kind == "tier":
            tier = draw(st.sampled_from(["key", "regular", "national"]))
            ops.append(f"{{op: tier, id: {aid}, to: {tier}}}")
        elif kind == "hire":
            pid = f"NEW{draw(st.integers(0, 3)) if refusals else len(people)}"
            boss = draw(st.sampled_from(people))
            ops.append(f"{{op: hire, id: {pid}, name: New {pid}, role: am, "
                       f"reports_to: {boss}, capacity: 50}}")
            people.append(pid)
        elif kind == "leave":
            who, to = draw(st.sampled_from(people)), draw(st.sampled_from(people))
            ops.append(f"{{op: leave, id: {who}, to: {to}}}" if draw(st.booleans())
                       else f"{{op: leave, id: {who}, spread: true}}")
        else:
            ops.append("{op: assign, id: NO-SUCH-ACCOUNT, to: NOBODY}")
    ops = ops or ["{op: hire, id: NEWX, name: X, role: am}"]
    return "lines:\n" + "".join(f"  - {op}\n" for op in ops)


def _outcome(org: Any, tables: Any, plan_path: Path) -> Any:
    try:
        made = plan_lines(org, read_plan(plan_path), source=str(plan_path), tables=tables)
    except PlanErrors as exc:
        return ("refused", [(p.message, p.hint, p.location) for p in exc.problems])
    entry: dict[str, Any] = {"id": "e1"}
    files = dated_files(made, plan_path.parent / "org", entry) if made.changes else {}
    if made.changes:  # the files as read under apply's lock give the same files, and so
        # does a plan made without tables (apply then patches the files' tables itself)
        for plan, written in ((made, as_written(tables)),
                              (dataclasses.replace(made, tables=None), None)):
            again: dict[str, Any] = {"id": "e1"}
            assert dated_files(plan, plan_path.parent / "org", again, written=written) == files
            assert again == entry
    wanted = list(made.after.accounts)
    assert accounts_below(made, wanted) == {  # the columns count what the tree holds
        aid: len(made.after.descendants(aid)) for aid in wanted}
    briefs = render_briefs(made, Path("briefs"), pm=get_plugin_manager(load_entrypoints=False))
    return (made.to_json(), [f.model_dump() for f in made.findings_after],
            impact(made).to_json(), files, entry, briefs)


@_SETTINGS
@given(st.data())
def test_a_plan_on_the_lazy_org_is_the_plan_on_the_org(data: st.DataObject) -> None:
    ws = data.draw(messy_workspaces())
    text = data.draw(_plans(ws))
    with tempfile.TemporaryDirectory() as tmp:
        folder = ws.write(Path(tmp) / "org")
        plan_path = Path(tmp) / "plan.yaml"
        plan_path.write_text(text, encoding="utf-8")
        tables, eager, lazy = _both(folder)
        assert _outcome(lazy, tables, plan_path) == _outcome(eager, tables, plan_path)


@pytest.mark.parametrize("effective", ["2026-01-05", "2999-01-01"])
def test_the_files_read_under_the_lock_write_what_a_fresh_read_writes(tmp_path: Path,
                                                                      effective: str) -> None:
    """With history.csv (a dated plan applied before) and a plan back-dated or pending:
    ``apply`` hands ``dated_files`` the tables it read under its lock, history applied, and
    the files come out as from the files read again as written."""
    from kamcore.changes.apply import apply
    from tests.test_changes_support import save_small

    ws = save_small(tmp_path / "org")
    first = tmp_path / "first.yaml"
    first.write_text("effective: 2026-01-05\nlines:\n  - {op: assign, id: K2, to: KAM3}\n")
    tables, _, lazy = _both(ws)
    apply(plan_lines(lazy, read_plan(first), source=str(first), tables=tables))
    assert (ws / "history.csv").exists()
    second = tmp_path / "second.yaml"
    second.write_text(f"effective: {effective}\nlines:\n  - {{op: move, id: R2, to: K2}}\n"
                      "  - {op: assign, id: K1, to: KAM3}\n")
    tables = read_workspace(ws, as_of=effective)
    tables.require_readable()
    assert tables.as_written is not None
    made = plan_lines(org_from_tables(tables, lazy=True), read_plan(second),
                      source=str(second), tables=tables)
    fresh: dict[str, Any] = {"id": "e2"}
    under_lock: dict[str, Any] = {"id": "e2"}
    files = dated_files(made, ws, fresh)
    assert dated_files(made, ws, under_lock, written=as_written(tables)) == files
    assert under_lock == fresh
    untabled: dict[str, Any] = {"id": "e2"}
    assert dated_files(dataclasses.replace(made, tables=None), ws, untabled) == files
    assert untabled == fresh
    assert set(files) >= {"history.csv"}


@settings(deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
                max_size=20))
def test_metric_cells_of_patched_records_are_formatted_as_each_cell_is(
        values: list[float | None]) -> None:
    """A plan's changed accounts become text columns with their metrics formatted vectorised
    (``columns.cell_text``, as exports and imports format theirs): the text ``format_cell``
    gives each value, empty for none."""
    from kamcore.workspace.csvio import format_cell
    from kamcore.workspace.objects import _raw_from_records

    records = [Account(id=f"A{i}", name="n", tier="key",
                       metrics={} if v is None else {"revenue": v}) for i, v in enumerate(values)]
    if not any(v is not None for v in values):
        return
    raw = _raw_from_records("account", records, ("id",), (None, list), None)
    assert raw.table.column("revenue").to_pylist() == [
        None if v is None else format_cell(v) or None for v in values]


def test_prefetch_builds_the_named_records_in_row_order_once() -> None:
    source = _Rows(6)
    lazy: LazyRecords[Account] = LazyRecords(source)
    first = lazy["A4"]
    prefetch(lazy, ["A5", "NOPE", "A1", "A4", "A1"])
    assert source.built == [4, 1, 5]  # A4 was built already; the rest in row order
    assert lazy["A4"] is first
    assert [lazy[f"A{i}"] for i in range(6)] == [source.record(i) for i in range(6)]
    prefetch({"A": first}, ["A"])  # a dict holds its records: nothing to do


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["DE", "FR", "Ä", ""]),
                          st.text(max_size=3)), max_size=300), st.integers(1, 4))
def test_shared_cells_are_the_columns_python_values(cells, chunks):
    """A lazy org's text columns share one str per distinct value: the same list of values."""
    import pyarrow as pa

    from kamcore.workspace.objects import _shared_cells

    size = max(1, len(cells) // chunks)
    column = pa.chunked_array([pa.array(cells[i:i + size], pa.string())
                               for i in range(0, len(cells), size)] or [pa.array([], pa.string())])
    assert _shared_cells(column) == cells


def test_with_fields_builds_only_the_plugins_accounts_and_sees_edits(tmp_path: Path) -> None:
    """A plugin rule's ``org.with_fields(namespace)`` on a lazy org gives what it gives on the
    eager org, in the same order, before and after edits, and builds only the records with a
    ``namespace.*`` cell (the rule costs its accounts, not the org's)."""
    (tmp_path / "kam.yaml").write_text("name: X\n")
    (tmp_path / "people.csv").write_text("id,name,role\nP1,Pat,am\n")
    rows = ["id,name,tier,manager,industry,retail.gln,advertising.rate"]
    for i in range(40):
        gln = "4012345000009" if i % 4 == 0 else ""
        rate = "12.5" if i % 10 == 3 else ""
        rows.append(f"A{i},A{i},regular,P1,retail,{gln},{rate}")
    (tmp_path / "accounts.csv").write_text("\n".join(rows) + "\n")
    tables = read_workspace(tmp_path, pm=get_plugin_manager())
    eager, lazy = org_from_tables(tables), org_from_tables(tables, lazy=True)
    assert isinstance(lazy.accounts, LazyRecords)

    def listed(org: Any, namespace: str) -> list[tuple[str, Any]]:
        return [(a.id, f.model_dump()) for a, f in org.with_fields(namespace)]

    for namespace in ("retail", "advertising", "manufacturing"):
        assert listed(lazy, namespace) == listed(eager, namespace)
    assert [a for a, _ in listed(lazy, "retail")] == [f"A{i}" for i in range(0, 40, 4)]
    built = set(lazy.accounts._built)
    assert built == {f"A{i}" for i in range(40) if i % 4 == 0 or i % 10 == 3}

    # an edit gives an account fields it had no cell for, or takes them away
    for org in (eager, lazy):
        gains, loses = org.accounts["A1"], org.accounts["A4"]
        org.accounts["A1"] = gains.model_copy(update={"ext": {"retail": {"gln": "4012345000016"}}})
        org.accounts["A4"] = loses.model_copy(update={"ext": {}})
    assert listed(lazy, "retail") == listed(eager, "retail")
    assert [a for a, _ in listed(lazy, "retail")][:2] == ["A0", "A1"]
    assert "A4" not in dict(listed(lazy, "retail"))


def test_serving_is_serves_over_the_accounts_and_builds_only_those(tmp_path: Path) -> None:
    """``org.serving(industry)`` lists, in order, the accounts :func:`serves` says yes to
    (aliases and case resolved), on the eager and the lazy org alike, through edits; the lazy
    org builds no other record."""
    from kamcore.helpers import serves

    (tmp_path / "kam.yaml").write_text("name: X\n")
    (tmp_path / "people.csv").write_text("id,name,role\nP1,Pat,am\n")
    cells = ["Manufacturing", "manufacturing ", "retail", "", "Health-Care", "MANUFACTURING"]
    rows = ["id,name,tier,manager,industry"] + [
        f"A{i},A{i},regular,P1,{cells[i % len(cells)]}" for i in range(30)]
    (tmp_path / "accounts.csv").write_text("\n".join(rows) + "\n")
    tables = read_workspace(tmp_path, pm=get_plugin_manager())
    eager, lazy = org_from_tables(tables), org_from_tables(tables, lazy=True)
    assert isinstance(lazy.accounts, LazyRecords)
    for industry in ("manufacturing", "healthcare", "Retail"):
        want = [a.id for a in eager.accounts.values() if serves(eager, a, industry)]
        assert [a.id for a in eager.serving(industry)] == want
        assert [a.id for a in lazy.serving(industry)] == want
    assert set(lazy.accounts._built) == {a.id for a in eager.serving("manufacturing", "healthcare",
                                                                     "retail")}
    for org in (eager, lazy):
        org.accounts["A2"] = org.accounts["A2"].model_copy(update={"industry": "manufacturing"})
        del org.accounts["A0"]
    assert [a.id for a in lazy.serving("manufacturing")] == [
        a.id for a in eager.serving("manufacturing")]
    assert [a.id for a in lazy.serving("manufacturing")][:2] == ["A1", "A2"]
