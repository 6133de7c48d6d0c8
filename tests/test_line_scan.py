"""The reader's line scan: whether some line holds an odd number of quotes (then a quoted
value spans lines and pyarrow needs its multi-line mode), counted a megabyte at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore.errors import WorkspaceError
from kamcore.workspace import tables
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


#: bytes that make CSV files messy: separators, quotes, line ends of all kinds, blanks, a BOM's
#: first byte, a NUL, a byte that is not UTF-8
MESSY = b'ab,"\n\r \t\x00\xef\xff'


def _read(path: Path, stream: bool, block: int, head: int) -> object:
    """What read_csv_file gives (or the error it raises), streamed or from the bytes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tables, "STREAM_FROM", 0 if stream else 1 << 62)
        patch.setattr(tables, "BLOCK_SIZE", block)
        patch.setattr(tables, "_HEAD", head)
        try:
            raw = read_csv_file(path, ("a",))
        except WorkspaceError as exc:
            return ("error", str(exc), exc.location)
    return (raw.header, raw.table.to_pylist(), list(raw.line_of_row()),
            [str(p) for p in raw.problems],
            None if raw.line_numbers is None else raw.line_numbers().tolist())


def _rows(rows: list[list[str]], line_end: str, blank: int) -> bytes:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator=line_end).writerows(rows)
    lines = out.getvalue().encode().split(b"\n")
    return b"\n".join([*lines[:blank], b"", *lines[blank:]])


#: files pyarrow reads (cells written by a CSV writer: quoted where they must be, a blank line)
#: and files it may not (any bytes at all)
BODIES = st.one_of(
    st.builds(_rows, st.lists(st.lists(st.text(st.sampled_from(list('aabb  ,,""\xe9\n')),
                                               max_size=4), min_size=2, max_size=2),
                              max_size=8),
              st.sampled_from(["\n", "\r\n"]), st.integers(min_value=0, max_value=9)),
    st.binary(max_size=90).map(lambda b: bytes(MESSY[x % len(MESSY)] for x in b)))


@settings(max_examples=400, deadline=None)
@given(body=BODIES,
       header=st.sampled_from([b"a,b\n", b"a,b\r\n", b"\xef\xbb\xbfa,b\n", b"\n\n a ,b\r\n",
                               b'"a","b"\n', b"a,b"]),
       block=st.integers(min_value=1, max_value=40), head=st.integers(min_value=1, max_value=60))
def test_a_streamed_read_is_the_read_of_the_bytes(
        tmp_path_factory: pytest.TempPathFactory, body: bytes, header: bytes, block: int,
        head: int) -> None:
    """A big file is read by pyarrow from disk while a thread scans it in pieces: whatever
    the bytes, wherever the pieces and pyarrow's blocks split, it reads (or refuses) as the
    file's bytes in memory read, line numbers included."""
    path = tmp_path_factory.mktemp("stream") / "accounts.csv"
    path.write_bytes(header + body)
    streamed = _read(path, True, block, head)
    whole = _read(path, False, block, head)
    assert streamed == whole


def test_a_big_file_is_streamed_and_its_lines_kept_as_an_array(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "STREAM_FROM", 1000)
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\r\n" + b"".join(b'x%d,"y, %d"\r\n\r\n' % (i, i)
                                                       for i in range(500)))
    raw = read_csv_file(path, ("a",))
    assert raw.line_numbers is not None  # the streamed read's (the bytes' read has it too)
    assert raw.line_numbers().tolist()[:3] == [2, 4, 6] == list(raw.line_of_row())[:3]
    assert raw.table.column("b").to_pylist()[499] == "y, 499"


def test_a_file_that_changes_while_streamed_is_read_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan and pyarrow each open the file: when it is replaced (or written) between the
    two, the read starts over from the file's bytes, so the lines fit the cells."""
    import os

    monkeypatch.setattr(tables, "STREAM_FROM", 0)
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"a,b\n" + b"x,y\n" * 10)
    real = os.stat

    def replaced(target: object, *args: object, **kwargs: object) -> os.stat_result:
        if str(target) == str(path):
            os.replace(tmp_path / "new.csv", path)
        return real(target, *args, **kwargs)  # type: ignore[arg-type]

    (tmp_path / "new.csv").write_bytes(b"a,b\n\nz,w\n")
    monkeypatch.setattr(os, "stat", replaced)
    raw = read_csv_file(path, ("a",))
    assert raw.table.to_pylist() == [{"a": "z", "b": "w"}]
    assert list(raw.line_of_row()) == [3]
