"""The index arrays of kamcore.structure: one hash pass gives what one lookup per column gave."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore.structure import linked_rows, row_of, stable_order

IDS = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=12)
LINKS = st.lists(st.sampled_from(["a", "b", "c", "d", "zz", None]), max_size=12)


@settings(max_examples=200, deadline=None)  # a shared machine: no timing in tests
@given(IDS, st.lists(LINKS, max_size=3))
def test_linked_rows_agrees_with_one_lookup_per_column(ids: list[str],
                                                       links: list[list[str | None]]) -> None:
    column = pa.array(ids, pa.string())
    arrays = [pa.array(link, pa.string()) for link in links]
    first, linked = linked_rows(column, *arrays)
    assert first.tolist() == row_of(column, column).tolist()
    assert [rows.tolist() for rows in linked] == [row_of(column, a).tolist() for a in arrays]


def test_linked_rows_names_the_first_of_duplicate_ids() -> None:
    first, (bosses,) = linked_rows(pa.array(["x", "y", "x"]), pa.array(["x", None, "q"]))
    assert first.tolist() == [0, 1, 0]
    assert bosses.tolist() == [0, -1, -1]
    assert isinstance(first, np.ndarray)


def test_the_account_index_links_ids_and_parents_in_one_pass(tmp_path) -> None:
    """first_row, first and parent are what one lookup per column gave."""
    from kamcore.structure import account_index
    from kamcore.workspace.tables import read_workspace

    (tmp_path / "kam.yaml").write_text("name: X\n")
    (tmp_path / "accounts.csv").write_text(
        "id,name,tier,parent\nA,A,global,\nB,B,national,A\nA,Again,key,B\nC,C,key,Z\nD,D,key,A\n")
    (tmp_path / "people.csv").write_text("id,name,role,reports_to\nP,P,vp,\nQ,Q,gam,P\nP,P2,am,Q\n")
    tables = read_workspace(tmp_path)
    index = account_index(tables)
    ids, parents = tables.accounts.ids, tables.accounts.text("parent")
    assert index.first_row.tolist() == row_of(ids, ids).tolist() == [0, 1, 0, 3, 4]
    assert index.first.tolist() == [True, True, False, True, True]
    assert index.parent.tolist() == np.where(index.first, row_of(ids, parents), -1).tolist()
    assert index.parent.tolist() == [-1, 0, -1, -1, 0]
    assert index.person_first_row.tolist() == [0, 1, 0]
    assert index.boss.tolist() == [-1, 0, -1]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3000).flatmap(lambda limit: st.tuples(
    st.just(limit), st.lists(st.integers(0, limit - 1), max_size=400))))
def test_stable_order_is_a_stable_argsort(case: tuple[int, list[int]]) -> None:
    """Rows by key, ties in row order: what a stable argsort gives, by a quicker sort."""
    limit, keys = case
    key = np.array(keys, dtype=np.int64)
    assert stable_order(key, limit).tolist() == np.argsort(key, kind="stable").tolist()


@pytest.mark.parametrize("early", [False, True])
def test_contacts_link_to_accounts_in_the_accounts_own_hash_pass(
        acme_path, tmp_path, monkeypatch: pytest.MonkeyPatch, early: bool) -> None:
    """In one pass with the ids and parents; or, when the reader hashed those early (a big
    org), looked up on their own: the same rows either way."""
    import dataclasses
    import shutil

    from kamcore.plugins import get_plugin_manager
    from kamcore.structure import account_index, contact_index
    from kamcore.workspace import tables as reader

    folder = tmp_path / "org"
    shutil.copytree(acme_path, folder)
    with (folder / "contacts.csv").open("a", encoding="utf-8") as handle:
        handle.write("X1,NOPE,Lost,,user,,,,,GAM1,\nX2,ACME-DE,Here,,user,,,,,GAM1,\n")
    if early:  # every table counted big: the reader starts the accounts' hash pass
        monkeypatch.setattr(reader, "THREADS_FROM", 0)
    tables = reader.read_workspace(folder, pm=get_plugin_manager(load_entrypoints=False))
    assert tables.contacts is not None
    assert (tables.accounts.early_codes("parent") is not None) == early
    expected = row_of(tables.accounts.ids, tables.contacts.text("account")).tolist()
    assert -1 in expected  # the unknown account
    assert contact_index(tables).account.tolist() == expected
    assert (account_index(tables)._account_links[2] is None) == early
    assert account_index(tables).parent.tolist() == np.where(
        account_index(tables).first,
        row_of(tables.accounts.ids, tables.accounts.text("parent")), -1).tolist()
    # contacts set after the accounts were linked are looked up on their own
    fewer = dataclasses.replace(tables.contacts, table=tables.contacts.table.slice(0, 3))
    account_index(tables)  # built, with the old contacts
    tables.contacts = fewer
    tables.__dict__.pop("_contact_index", None)
    assert contact_index(tables).account.tolist() == expected[:3]


def test_an_empty_link_column_links_nothing_and_hashes_nothing() -> None:
    """A column not read (coverage reads no reports_to) gives -1 for every row."""
    ids = pa.array(["x", "y", "x"])
    bosses_in = pa.array(["y", None, "x"])
    first, (nothing, bosses) = linked_rows(ids, pa.nulls(3, pa.string()), bosses_in)
    assert first.tolist() == [0, 1, 0]
    assert nothing.tolist() == [-1, -1, -1] and nothing.dtype == np.int64
    assert bosses.tolist() == [1, -1, 0]


def test_started_gives_the_jobs_value_or_raises_its_error() -> None:
    import pytest

    from kamcore.perf import started

    assert started(lambda: 6 * 7)() == 42

    def fail() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        started(fail)()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["global", "national", "key", "regular"]),
                          st.integers(-1, 30), st.sampled_from(["DE", "FR", "US", ""])),
                min_size=1, max_size=30))
def test_global_spans_countries_counts_the_countries_below_each_global(
        tmp_path_factory, rows: list[tuple[str, int, str]]) -> None:
    """KAM109 against a walk up the tree: the countries of every account whose nearest
    global account (itself included) is G; loops aside. An account without a country adds
    none (before 2026-12-03 an empty cell counted as a country of its own)."""
    from kamcore.builtin.core_rules import global_spans_countries
    from kamcore.workspace.tables import read_workspace

    folder = tmp_path_factory.mktemp("spans")
    (folder / "kam.yaml").write_text("name: X\n")
    lines = ["id,name,tier,parent,country"] + [
        f"A{i},A{i},{tier},{f'A{parent}' if 0 <= parent < len(rows) else ''},{country}"
        for i, (tier, parent, country) in enumerate(rows)]
    (folder / "accounts.csv").write_text("\n".join(lines) + "\n")
    (folder / "people.csv").write_text("id,name,role\n")
    tables = read_workspace(folder)

    def top(row: int) -> int | None:
        seen = set()
        while row not in seen:
            seen.add(row)
            if rows[row][0] == "global":
                return row
            parent = rows[row][1]
            if not 0 <= parent < len(rows):
                return None
            row = parent
        return None  # a loop

    def in_loop(row: int) -> bool:
        seen = set()
        while 0 <= row < len(rows) and row not in seen:
            seen.add(row)
            row = rows[row][1]
        return 0 <= row < len(rows)

    below: dict[int, set[str]] = {}
    for row in range(len(rows)):
        found = None if in_loop(row) else top(row)
        if found is not None:
            below.setdefault(found, set())
            if rows[row][2]:
                below[found].add(rows[row][2])
    want = []
    for row, (tier, _, _) in enumerate(rows):
        countries = below.get(row, set())
        if tier == "global" and len(countries) < 2:
            only = f" (only {min(countries)})" if countries else ""
            want.append(f"global account spans {len(countries)} "
                        f"countr{'y' if countries else 'ies'}{only}")
    got = [v.message.split(";")[0] for v in global_spans_countries(tables)]
    assert got == want
