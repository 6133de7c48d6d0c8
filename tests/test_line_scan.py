"""The reader's line scan: whether some line holds an odd number of quotes (then a quoted
value spans lines and pyarrow needs its multi-line mode), counted a megabyte at a time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore.workspace.tables import _LineScan, data_row_lines


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
