"""The reader's line scan: whether some line holds an odd number of quotes (then a quoted
value spans lines and pyarrow needs its multi-line mode), counted a megabyte at a time."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore.workspace.tables import _LineScan, data_row_lines, read_csv_file


def odd_line(data: bytes) -> bool:
    return any(line.count(b'"') % 2 for line in data.split(b"\n"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60).map(lambda b: bytes(b'ab"\n,'[x % 5] for x in b)))
def test_odd_quotes_is_an_odd_count_on_some_line(data: bytes) -> None:
    assert _LineScan(data).odd_quotes is odd_line(data)


def test_pieces_do_not_hide_a_line_that_crosses_a_megabyte() -> None:
    row = b'"a","b"\n'
    even = row * ((1 << 20) // len(row) + 5)  # rows on both sides of the first megabyte
    assert _LineScan(even).odd_quotes is False
    assert data_row_lines(None, b"id\n" + even)[:2] == [2, 3]
    broken = even[: (1 << 20) + 3] + b'"\n' + even
    assert _LineScan(broken).odd_quotes is True
    assert _LineScan(even + b'"').odd_quotes is True  # the last line, without a line end


def test_a_read_keeps_the_line_numbers_not_the_files_bytes(tmp_path: Path) -> None:
    """A message may name a row's line long after the read; the 215 MB of a 1M-account file
    must not stay in memory for it (only the rows' line numbers do)."""
    import tracemalloc

    path = tmp_path / "accounts.csv"
    rows = [f'A{i},"Account, {i}",key,,P1\n' for i in range(40_000)]
    rows[5] = "\n"  # a blank line: the rows after it are one line further down
    path.write_text("id,name,tier,parent,manager\n" + "".join(rows))
    size = path.stat().st_size
    read_csv_file(path, ("id", "name", "tier"))  # the modules it imports are not the point
    tracemalloc.start()
    try:
        raw = read_csv_file(path, ("id", "name", "tier"))
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 1_000_000 and kept < size // 2
    path.write_text("id,name,tier\n\n\n\nX,x,key\n")  # the numbers are the read's, not re-read
    lines = raw.line_of_row()
    assert lines[:7] == [2, 3, 4, 5, 6, 8, 9] and lines[-1] == 40_001


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80).map(lambda b: bytes(b'a,\n\n\r'[x % 5] for x in b)),
       st.booleans())
def test_row_lines_of_lf_files_are_those_of_the_general_scan(data: bytes, bom: bool) -> None:
    """A file without CR takes a short cut to its rows' lines (no empty line: a range); it
    gives the lines the CRLF-aware scan gives when its CRs are turned into letters."""
    from kamcore.workspace.tables import _plain_row_lines

    data = (b"\xef\xbb\xbf" if bom else b"") + data
    lf = data.replace(b"\r", b"b")
    got = _plain_row_lines(_LineScan(lf))
    crlf = lf.replace(b"\n", b"\r\n")  # the same lines by the general path
    want = _plain_row_lines(_LineScan(crlf))
    assert got is not None and want is not None
    assert got.tolist() == want.tolist()
    split = lf[3 if bom else 0:].split(b"\n")
    header = next((i for i, line in enumerate(split) if line.strip(b" \t")), len(split))
    assert got.tolist() == [i + 1 for i, line in enumerate(split) if line and i > header]
