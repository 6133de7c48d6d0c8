"""The reader's shortcuts give what the long way gives: blocks split at any line end (a quoted
value holding a line break still comes out whole), and columns left untrimmed only when
trimming would change nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore.workspace import tables

# no CR inside cells: pyarrow's own multi-line reader keeps "a\r" of a quoted "a\r\n" when a
# block ends between the two (as before these shortcuts); a lone CR has its own test below
CELL = st.text(alphabet=st.sampled_from(list('ab ,"\n\x7fé')), max_size=12)


def _csv_bytes(rows: list[list[str]], line_end: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=line_end).writerows(rows)
    return out.getvalue().encode()


def _cells(raw: tables.RawTable) -> list[dict[str, str | None]]:
    return list(raw.table.to_pylist())


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=25),
       block=st.integers(min_value=16, max_value=200),
       line_end=st.sampled_from(["\n", "\r\n"]),
       wanted=st.sampled_from([None, ("id",), ("id", "note")]))
def test_fast_read_equals_the_exact_parser_wherever_blocks_split(
        tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], block: int,
        line_end: str, wanted: tuple[str, ...] | None) -> None:
    # values that are only spaces or empty read as null on both paths; keep rows non-blank
    rows = [[f"r{i}", *row[1:]] for i, row in enumerate(rows)]
    data = _csv_bytes([["id", "name", "note"], *rows], line_end)
    path = tmp_path_factory.mktemp("blocks") / "accounts.csv"
    path.write_bytes(data)
    exact = tables._slow_csv(path, data)
    if wanted is not None:
        exact.table = exact.table.select(list(wanted))
    original = tables.BLOCK_SIZE
    tables.BLOCK_SIZE = block
    try:
        fast = tables._fast_csv(path, data, wanted)
    finally:
        tables.BLOCK_SIZE = original
    if fast is None:  # refused: the exact parser reads it, which is just as right
        return
    assert fast.header == exact.header
    assert _cells(fast) == _cells(exact)


def test_a_value_split_across_blocks_is_read_whole(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    note = "first line\nsecond line, with a comma\nthird"
    rows = [["id", "note", "name"]] + [[f"A{i}", note if i % 3 == 0 else "plain", f"N{i}"]
                                       for i in range(60)]
    data = _csv_bytes(rows, "\n")
    path = tmp_path / "accounts.csv"
    path.write_bytes(data)
    monkeypatch.setattr(tables, "BLOCK_SIZE", 50)  # many splits fall inside the notes
    raw = tables.read_csv_file(path, ["id"])
    assert raw.table.column("note").to_pylist() == [row[1] for row in rows[1:]]
    assert raw.table.column("name").to_pylist() == [row[2] for row in rows[1:]]


def test_a_value_in_the_last_column_split_across_blocks_is_read_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a split value in the last column leaves rows of the right width on both sides
    rows = [["id", "note"]] + [[f"A{i}", "x\ny,z" if i % 2 else "plain"] for i in range(40)]
    data = _csv_bytes(rows, "\n")
    path = tmp_path / "accounts.csv"
    path.write_bytes(data)
    monkeypatch.setattr(tables, "BLOCK_SIZE", 24)
    raw = tables.read_csv_file(path, ["id"], wanted={"id"})
    assert raw.table.column_names == ["id"]
    assert raw.table.column("id").to_pylist() == [row[0] for row in rows[1:]]


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_a_lone_cr_in_a_quoted_value_is_not_a_row_end(tmp_path: Path, line_end: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [["id", "name", "note"], ["r0", "", ""], ["r1", "", 'a\r,,"é']]
    data = _csv_bytes(rows, line_end)
    path = tmp_path / "accounts.csv"
    path.write_bytes(data)
    monkeypatch.setattr(tables, "BLOCK_SIZE", 16)
    raw = tables.read_csv_file(path, ["id"])
    assert raw.table.column("note").to_pylist() == [None, 'a\r,,"é']


def test_every_character_trimming_removes_is_a_suspect_first_byte() -> None:
    codepoints = [c for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF]
    trimmed: set[int] = set()
    for cells in (pa.array([chr(c) + "x" for c in codepoints]),
                  pa.array(["x" + chr(c) for c in codepoints])):
        changed = pc.not_equal(pc.utf8_trim_whitespace(cells), cells)
        trimmed |= {codepoints[i] for i in changed.to_numpy(zero_copy_only=False).nonzero()[0]}
    assert trimmed  # the kernel does trim something
    assert {chr(c).encode()[0] for c in trimmed} <= set(tables._SPACE_FIRST)


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), st.text(max_size=6)), max_size=12),
       start=st.integers(min_value=0, max_value=3))
def test_a_column_is_left_untrimmed_only_when_trimming_changes_nothing(
        cells: list[str | None], start: int) -> None:
    column = pa.array(cells, pa.string())[start:]  # a slice: offsets start mid-buffer
    if not tables._may_need_trim(column):
        assert tables._trim(column).to_pylist() == column.to_pylist()


TEXT = st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(list('a=+-"\n,é ')),
                                             max_size=5)), max_size=10)


@settings(max_examples=300, deadline=None)
@given(cells=TEXT, start=st.integers(min_value=0, max_value=3), chunked=st.booleans())
def test_byte_questions_answer_what_the_cells_say(cells: list[str | None], start: int,
                                                  chunked: bool) -> None:
    from kamcore.textcolumns import any_byte_of, only_bytes_of, rows_with_any_byte, starts_with_any

    column: pa.Array | pa.ChunkedArray = pa.array(cells, pa.string())[start:]
    shown = cells[start:]
    if chunked:
        column = pa.chunked_array([column[:2], column[2:]], pa.string())
    texts = [cell for cell in shown if cell]
    assert any_byte_of(column, b'",\n') == any(mark in cell for cell in texts
                                                for mark in '",\n')
    assert starts_with_any(column, b"=+-") == any(cell[0] in "=+-" for cell in texts)
    assert only_bytes_of(column, b"a=+-") == all(set(cell) <= set("a=+-") for cell in texts)
    whole = column.combine_chunks() if chunked else column
    assert rows_with_any_byte(whole, b'"\n').tolist() == [
        row for row, cell in enumerate(shown) if cell and ('"' in cell or "\n" in cell)]


IDS = st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(list('ab ,\n\r\t\x0b\xa0é')),
                                            min_size=1, max_size=6)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(cells=IDS, chunked=st.booleans())
def test_ids_skip_the_pattern_only_when_it_would_pass_every_trimmed_id(
        cells: list[str | None], chunked: bool) -> None:
    trimmed = tables._trim(pa.array(cells, pa.string()))
    # as the reader does: a cell of only spaces is an empty cell
    column: pa.Array | pa.ChunkedArray = pc.if_else(pc.equal(trimmed, ""), None, trimmed)
    if chunked:
        column = pa.chunked_array([column[:3], column[3:]], pa.string())
    if not tables._may_be_bad_id(column):
        matched = pc.match_substring_regex(column, tables.ID_PATTERN)
        assert all(m is not False for m in matched.to_pylist())  # null: an empty cell


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), st.sampled_from(["user", "User", "ÉTÉ", "été", ""])),
                      max_size=8))
def test_folding_is_skipped_only_when_it_changes_nothing(cells: list[str | None]) -> None:
    column = pa.chunked_array([pa.array(cells, pa.string())])
    for case in (pc.utf8_lower, pc.utf8_upper):
        assert tables._folded(column, case).to_pylist() == case(column).to_pylist()


def test_an_empty_date_column_reads_as_null_dates() -> None:
    dates, wrong = tables._dates(pa.chunked_array([pa.nulls(3, pa.string())]))
    assert dates.type == pa.date32() and dates.to_pylist() == [None] * 3
    assert not wrong.any()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("019.eE+-")),
                                             max_size=7)), max_size=8))
def test_numbers_read_by_pyarrow_follow_the_number_pattern(cells: list[str | None]) -> None:
    """A column of digits, dots, signs and exponents is parsed by pyarrow in one cast; the
    values and the bad cells are those of the pattern's path (re.fullmatch, then float)."""
    import math
    import re

    column = pa.array([c or None for c in cells], pa.string())
    numbers, wrong, nonfinite = tables._numbers(column)
    for cell, value, bad, infinite in zip(cells, numbers.to_pylist(), wrong, nonfinite,
                                          strict=True):
        plain = bool(cell) and re.fullmatch(tables.NUMBER_PATTERN, cell) is not None
        assert bad == (bool(cell) and not plain)
        assert infinite == (plain and not math.isfinite(float(cell)))
        assert (value == float(cell)) if plain else math.isnan(value)


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.lists(st.one_of(st.none(), st.text(alphabet=" ab\u00a0\t", max_size=4)),
                              min_size=3, max_size=3), min_size=1, max_size=12))
def test_columns_checked_on_threads_read_as_one_by_one(rows: list[list[str | None]]) -> None:
    """Big tables have their columns trimmed on a thread per core: the same tables, the same
    problems, as one column after another."""
    columns = {name: pa.chunked_array([pa.array([r[i] for r in rows], pa.string())] * 2)
               for i, name in enumerate(("id", "name", "note"))}
    raw = tables.RawTable(None, list(columns), pa.table(columns), lambda: [])
    threaded, one_by_one = _on_threads_and_not("territory", raw, set())
    assert threaded == one_by_one


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["a", "b", " c", None]),
                               st.sampled_from(["key", "Key ", "nope", None]),
                               *[st.one_of(st.none(), st.text(alphabet="12.e-x inf", max_size=5))]
                               * 2), min_size=1, max_size=12))
def test_metrics_read_on_threads_read_as_one_by_one(rows: list[tuple]) -> None:
    """Big account tables have their metrics read on a thread per core: the same numbers and
    the same problems, in the same order, as one metric after the other."""
    names = ("id", "tier", "revenue", "employees")
    columns = {name: pa.chunked_array([pa.array([r[i] for r in rows], pa.string())] * 2)
               for i, name in enumerate(names)}
    columns["name"] = pa.chunked_array([pa.array(["n"] * len(rows))] * 2)
    raw = tables.RawTable(None, list(columns), pa.table(columns), lambda: [])
    threaded, one_by_one = _on_threads_and_not("account", raw, {"revenue", "employees"})
    assert threaded == one_by_one


def _on_threads_and_not(kind: str, raw: tables.RawTable, metrics: set[str]
                        ) -> list[tuple[str, list[int], list[str]]]:
    """``normalise`` of ``raw`` with every table on threads, then with none: each time the
    table's rows (as text: NaN equals itself), its row numbers and its problems."""
    results = []
    for threshold in (0, 1 << 62):
        original = tables.THREADS_FROM
        tables.THREADS_FROM = threshold
        try:
            problems: list = []
            read = tables.normalise(kind, raw, metrics, problems)
        finally:
            tables.THREADS_FROM = original
        results.append((str(read.table.to_pylist()), read.rows.tolist(),
                        [str(p) for p in problems]))
    return results


EMAILS = st.lists(st.one_of(st.none(), st.text(alphabet="a@. \t\u00e9", max_size=7)),
                  min_size=1, max_size=24)


@settings(max_examples=150, deadline=None)
@given(cells=EMAILS, threshold=st.sampled_from([0, 1, 5, 1 << 62]))
def test_a_pattern_run_on_slices_matches_what_it_matches_over_the_column(
        cells: list[str | None], threshold: int) -> None:
    """A big column's email pattern runs on slices on a thread per core: the same verdicts."""
    column = pa.chunked_array([pa.array(cells, pa.string())] * 3)
    original = tables.THREADS_FROM
    tables.THREADS_FROM = threshold
    try:
        got = tables._matches(column, tables.EMAIL_PATTERN).tolist()
    finally:
        tables.THREADS_FROM = original
    want = pc.match_substring_regex(column, tables.EMAIL_PATTERN).fill_null(False)
    assert got == want.to_pylist()


@settings(max_examples=60, deadline=None)
@given(emails=EMAILS)
def test_contacts_checked_on_threads_read_as_one_by_one(emails: list[str | None]) -> None:
    """Contacts' emails checked on a thread per core: the same tables and problems."""
    n = len(emails)
    columns = {"id": pa.chunked_array([pa.array([f"C{i}" for i in range(n)])]),
               "account": pa.chunked_array([pa.array(["A"] * n)]),
               "name": pa.chunked_array([pa.array(["n"] * n)]),
               "email": pa.chunked_array([pa.array(emails, pa.string())])}
    raw = tables.RawTable(None, list(columns), pa.table(columns), lambda: [])
    threaded, one_by_one = _on_threads_and_not("contact", raw, set())
    assert threaded == one_by_one
