"""The reader's early hash pass over the accounts' ids and parents (started while the reading
rules run) gives the links the long way gives, and is never used for rows it was not made of."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore.rollup.columnar import columns_from_table
from kamcore.structure import link_codes, linked_rows
from kamcore.workspace import tables

ID = st.sampled_from(["a", "b", "c", " b", "d ", "", "   "])


def _normalised(rows: list[tuple[str, str, str]]) -> tables.RecordTable:
    """``rows`` (id, parent, tier) read by the reading rules with every table counted big."""
    columns = {name: pa.chunked_array([pa.array([r[i] or None for r in rows], pa.string())])
               for i, name in enumerate(("id", "parent", "tier"))}
    columns["name"] = pa.chunked_array([pa.array(["n"] * len(rows))])
    raw = tables.RawTable(None, list(columns), pa.table(columns), lambda: [])
    original = tables.THREADS_FROM
    tables.THREADS_FROM = 0
    try:
        return tables.normalise("account", raw, set(), [])
    finally:
        tables.THREADS_FROM = original


@settings(max_examples=120, deadline=None)
@given(rows=st.lists(st.tuples(ID, ID, st.sampled_from(["key", "Key ", "regular", "nope"])),
                     min_size=1, max_size=12))
def test_early_codes_are_the_codes_of_the_rows_kept(rows: list[tuple[str, str, str]]) -> None:
    """Padded ids, blank rows, bad tiers (rows left out): the early codes, when the reader
    keeps them, are exactly the hash pass over the table's final ids and parents."""
    read = _normalised(rows)
    early = read.early_codes("parent")
    if len(read.rows) < len(rows):
        assert early is None  # made of rows that are not all in the table
    else:
        assert early is not None
        want = link_codes(read.ids, read.text("parent"))
        assert early.tolist() == want.tolist()
        assert [a.tolist() for a in (linked_rows(read.ids, read.text("parent"), codes=early)[1])
                ] == [a.tolist() for a in linked_rows(read.ids, read.text("parent"))[1]]


def test_a_table_made_from_another_does_not_keep_its_early_codes() -> None:
    """History applied, a plan's edits: the new table's parents may differ, so it hashes its
    own."""
    read = _normalised([("a", "", "key"), ("b", "a", "regular")])
    assert read.early_codes("parent") is not None
    at = read.table.schema.get_field_index("parent")
    moved = dataclasses.replace(read, table=read.table.set_column(
        at, "parent", pa.chunked_array([pa.array(["b", None])])))
    assert moved.early_codes("parent") is None
    assert columns_from_table(moved).parent.tolist() == [1, -1]


@pytest.mark.parametrize("later", [False, True])
def test_the_rollup_links_with_the_early_codes(later: bool) -> None:
    read = _normalised([("a", "", "key"), ("b", "a", "regular"), ("c", "b", "regular")])
    assert read.early_codes("parent") is not None
    assert np.asarray(columns_from_table(read, later=later).parent).tolist() == [-1, 0, 1]
