"""CSV tables with line numbers in, canonical CSV out."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kamcore.errors import KamError, Location, WorkspaceError
from kamcore.workspace.yamlio import decode_text


@dataclass
class Table:
    """A CSV file read as rows of strings, each with the line it started on."""

    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]
    header_line: int = 1


def read_table(path: Path, *, required: Sequence[str]) -> tuple[Table, list[KamError]]:
    """Read ``path``: UTF-8 with or without BOM, CRLF or LF.

    Rows with the wrong number of cells are returned as problems, not rows.

    :raises WorkspaceError: the file is missing, empty, or lacks a required column.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WorkspaceError(f"{path} does not exist",
                             hint=f"create it with a header line: {','.join(required)}") from None
    except OSError as exc:
        raise WorkspaceError(f"cannot read {path}: {exc.strerror}") from None
    table, problems = parse_table(
        decode_text(raw, path), path,
        empty_hint=f"it needs at least a header line: {','.join(required)}")
    missing = [name for name in required if name not in table.header]
    if missing:
        raise WorkspaceError(
            f"missing column(s) {', '.join(missing)}; the header is {','.join(table.header)}",
            location=Location(str(path), table.header_line),
            hint=f"the first line must name at least: {','.join(required)}")
    return table, list(problems)


def parse_table(text: str, path: Path, *, delimiter: str = ",", strict: bool = True,
                empty_hint: str = "it needs a header line",
                width_hint: str = "quote cells that contain commas (\"Acme, Inc.\") or add "
                                  "the missing cells",
                duplicate_hint: str = "rename or remove one of them",
                ) -> tuple[Table, list[WorkspaceError]]:
    """Split CSV text into a header and rows with their line numbers.

    Blank lines are skipped; a row with the wrong number of cells, or broken quoting, is a
    problem naming its line, not a row. ``strict=False`` tolerates stray quotes, as CRM exports
    need.

    Every line is either in a row or named by a problem: a record that spans several lines
    and is broken (the wrong number of cells, or quoting that does not close properly: an
    unbalanced quote swallows the lines after it) is reported at its first line, and the lines
    it swallowed are read again one by one. Cells of any size are read (the csv module's
    128 KiB field limit is raised to the size of the text).

    :raises WorkspaceError: no header, or a column named twice.
    """
    _allow_fields_of(len(text))
    lines = io.StringIO(text, newline="").readlines()  # the physical lines, as csv sees them
    reader = csv.reader(iter(lines), delimiter=delimiter, strict=strict)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
    except csv.Error as exc:
        raise WorkspaceError(f"unreadable CSV header: {exc}", location=Location(str(path), 1)) \
            from None
    if header is None:
        raise WorkspaceError(f"{path} is empty", hint=empty_hint)
    header = [name.strip() for name in header]
    header_line = reader.line_num
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise WorkspaceError(f"column {name!r} appears twice in the header",
                                 location=Location(str(path), header_line), hint=duplicate_hint)
        seen.add(name)
    problems: list[WorkspaceError] = []
    rows: list[tuple[int, list[str]]] = []
    width = len(header)

    def take(line: int, row: list[str]) -> None:
        if len(row) == width:
            rows.append((line, row))
        elif any(cell.strip() for cell in row):  # else a blank line
            problems.append(WorkspaceError(
                f"{len(row)} cells where the header has {width}; " + _width_detail(header, row),
                location=Location(str(path), line), hint=width_hint))

    def again(first: int, last: int) -> None:
        """Lines ``first``..``last`` one by one, as records of one line each."""
        for number in range(first, last + 1):
            try:
                row = next(csv.reader([lines[number - 1]], delimiter=delimiter,
                                      strict=strict), [])
            except csv.Error as exc:
                problems.append(WorkspaceError(f"unreadable CSV row: {exc}",
                                               location=Location(str(path), number),
                                               hint="check the quotes on this line"))
                continue
            take(number, row)

    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            end = max(reader.line_num, start)
            problems.append(WorkspaceError(
                f"unreadable CSV row: {exc}" + _swallowed(start, end),
                location=Location(str(path), start), hint="check the quotes on this line"))
            again(start + 1, end)
            continue
        end = reader.line_num
        if end > start and (len(row) != width
                            or _broken_quotes(lines[start - 1:end], delimiter)):
            problems.append(WorkspaceError(
                f"an unbalanced quote? the record starting here runs on to line {end} "
                f"({len(row)} cells where the header has {width})" + _swallowed(start, end),
                location=Location(str(path), start), hint="check the quotes on this line"))
            again(start + 1, end)
            continue
        take(start, row)
    return Table(path, header, rows, header_line), problems


def _width_detail(header: list[str], row: list[str]) -> str:
    """What a row of the wrong width lacks (the columns it has no cell for) or has too many.

    >>> _width_detail(["id", "name", "tier", "parent"], ["A", "Acme"])
    'no cell for tier, parent'
    >>> _width_detail(["id", "name"], ["A", "Acme", " Inc."])
    '1 more than the header names'
    """
    if len(row) < len(header):
        missing = header[len(row):]
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5
                                          else "")
        return f"no cell for {shown}"
    return f"{len(row) - len(header)} more than the header names"


def _swallowed(start: int, end: int) -> str:
    if end <= start:
        return ""
    span = f"line {end}" if end == start + 1 else f"lines {start + 1}-{end}"
    return f"; {span} read again one by one"


def _broken_quotes(lines: list[str], delimiter: str) -> bool:
    """True when a multi-line record's quoting does not close properly (strict reading fails):
    an unbalanced quote that ran to the end of the file, or a quote closed mid-cell."""
    try:
        for _ in csv.reader(lines, delimiter=delimiter, strict=True):
            pass
    except csv.Error:
        return True
    return False


def _allow_fields_of(size: int) -> None:
    """Raise the csv module's field limit (128 KiB) so that no cell of ``size`` characters of
    text is refused; never lowers it (it is process-wide)."""
    wanted = min(size + 1, 2**31 - 1)
    if csv.field_size_limit() < wanted:
        csv.field_size_limit(wanted)


def format_cell(value: object) -> str:
    """Canonical text of one cell: no trailing .0 on whole numbers, true/false, '' for None."""
    if type(value) is str:  # most cells are text already
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ";".join(format_cell(v) for v in value)
    return str(value)


#: A cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: The same, as a regular expression (for vectorised writers, RE2 syntax too).
FORMULA_START = r"^[=+\-@\t\r]"
#: The bytes FORMULA_START matches first (kept beside it: a cell starting otherwise is safe).
FORMULA_FIRST_BYTES = b"=+-@\t\r"
#: A plain number (``-5``, ``+3.5``, ``-1e3``): a spreadsheet reads it as that number, nothing
#: runs, and a quote would turn a negative value into text. Whole-cell match; ASCII digits.
PLAIN_NUMBER = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)


def neutralise(cell: str) -> str:
    """The cell, made safe to open in a spreadsheet: ``'`` before a formula trigger, unless the
    cell is a plain number.

    >>> neutralise('=HYPERLINK("http://evil")'), neutralise("-5"), neutralise("+1 555 0100")
    ('\\'=HYPERLINK("http://evil")', '-5', "'+1 555 0100")
    """
    if cell.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def render_csv(header: Sequence[str], rows: Iterable[Sequence[object]], *,
               safe: bool = False) -> str:
    """CSV text with LF line ends: the one CSV writer behind every CSV kam writes row by row
    (workspace files, exports, duty rosters). The rollup's columnar CSV, written by pyarrow for
    speed, applies the same rule with the same patterns (:func:`kamcore.rollup.render.write_csv`).

    Cells are :func:`format_cell` text, quoted when they hold a comma, a quote, a line feed or
    a carriage return (the csv module alone leaves a lone CR unquoted when lines end in LF,
    which breaks the row for every reader).

    :param safe: neutralise formula cells (:func:`neutralise`), header included: on for
        exports meant for spreadsheets, off for the workspace files kam reads back, which must
        round-trip exactly.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    cells = [format_cell(v) for v in header]
    _write_row(writer, buffer, [neutralise(c) for c in cells] if safe else cells)
    for row in rows:
        cells = [format_cell(v) for v in row]
        _write_row(writer, buffer, [neutralise(c) for c in cells] if safe else cells)
    return buffer.getvalue()


def _write_row(writer: Any, buffer: io.StringIO, cells: list[str]) -> None:
    if "\r" not in "".join(cells):
        writer.writerow(cells)
        return
    buffer.write(",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' if _NEEDS_QUOTES.search(c)
                          else c for c in cells) + "\n")


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def iter_dict_rows(table: Table) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as ``{column: cell}``."""
    header = table.header
    for line, row in table.rows:
        yield line, dict(zip(header, row, strict=True))


def in_dialect_of(existing: Path, data: bytes) -> bytes:
    """``data`` (CSV as :func:`render_csv` writes it: UTF-8, LF) with the byte-order mark and
    the CRLF line ends of the file it replaces, when that file has them.

    A file saved by Excel ("CSV UTF-8") starts with a BOM, and Excel reads a file without one
    as Windows-1252 ("Müller" becomes "MÃ¼ller"); a CRLF file rewritten with LF shows every
    line as changed in a diff. Line ends inside quoted cells are cell text and stay as they
    are. A file that cannot be read, is empty or is not a regular file (a FIFO would block)
    leaves ``data`` as it is.
    """
    import codecs
    import stat

    try:
        if not stat.S_ISREG(existing.stat().st_mode):
            return data
        with open(existing, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return data
    if head.startswith(codecs.BOM_UTF8) and not data.startswith(codecs.BOM_UTF8):
        data = codecs.BOM_UTF8 + data
    first_end = head.find(b"\n")
    if first_end > 0 and head[first_end - 1] == ord("\r"):
        data = _crlf_rows(data)
    return data


def _crlf_rows(data: bytes) -> bytes:
    """Each LF that ends a row (outside quotes, not already after a CR) as CRLF."""
    import numpy as np

    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw == ord("\n"))
    if not len(ends):
        return data
    quotes = np.flatnonzero(raw == ord('"'))
    outside = np.searchsorted(quotes, ends) % 2 == 0  # an even count of quotes before it
    after_cr = np.zeros(len(ends), dtype=bool)
    after_cr[ends > 0] = raw[ends[ends > 0] - 1] == ord("\r")
    ends = ends[outside & ~after_cr]
    return np.insert(raw, ends, ord("\r")).tobytes() if len(ends) else data
