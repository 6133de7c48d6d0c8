"""Reading CRM exports as they come: UTF-8 with or without BOM (else Windows-1252, reported),
comma, semicolon (European Excel), tab or pipe separated, CRLF or LF, spaces around headers;
a Salesforce CLI data tree (JSON, :mod:`.sftree`) gives the same kind of table.

Like the workspace reader, every row keeps the line it started on, and rows with the wrong number
of cells are returned as problems rather than dropped silently.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.errors import Location, WorkspaceError
from kamcore.importers.sftree import looks_like_tree, read_tree
from kamcore.workspace.csvio import Table, parse_table

if TYPE_CHECKING:
    import pyarrow as pa

DELIMITERS = (",", ";", "\t", "|")
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class Dialect:
    """How a file was read: ``encoding`` is ``utf-8`` or ``cp1252``."""

    encoding: str
    delimiter: str
    #: What the report should say about how the file was read (a JSON data tree).
    notes: tuple[str, ...] = ()

    @property
    def delimiter_name(self) -> str:
        return _NAMES[self.delimiter]


def decode(raw: bytes) -> tuple[str, str]:
    """Text and encoding: UTF-8 (BOM dropped), else Windows-1252 (Excel's "CSV (Windows)")."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "cp1252"


def sniff_delimiter(text: str) -> str:
    """The separator of the first non-empty line: the most frequent of , ; tab | (outside
    quotes); a comma when there is none.

    >>> sniff_delimiter('Id;Name;"Acme, Inc."\\n'), sniff_delimiter("Id,Name\\n")
    (';', ',')
    """
    for line in text.splitlines():
        if line.strip():
            bare, quoted = [], False
            for ch in line:
                if ch == '"':
                    quoted = not quoted
                elif not quoted:
                    bare.append(ch)
            counts = {d: bare.count(d) for d in DELIMITERS}
            best = max(DELIMITERS, key=lambda d: counts[d])
            return best if counts[best] else ","
    return ","


def _read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes (the first ``limit`` and one more, when given)."""
    try:
        if limit is not None:
            with path.open("rb") as handle:
                return handle.read(limit + 1)
        return path.read_bytes()
    except FileNotFoundError:
        raise WorkspaceError(f"{path} does not exist",
                             hint="check the path of the export") from None
    except IsADirectoryError:
        raise WorkspaceError(f"{path} is a folder, not a CSV file") from None
    except OSError as exc:
        raise WorkspaceError(f"cannot read {path}: {exc.strerror}") from None


def read_export(path: str | Path, *, limit: int | None = None
                ) -> tuple[Table, list[WorkspaceError], Dialect]:
    """The whole table, rows that could not be read, and how the file was read.

    :param limit: read only the lines within about this many bytes of a CSV (a sample, for
        drafting a mapping); a data tree is read whole.
    :raises WorkspaceError: the file is missing, empty, or its header names a column twice.
    """
    target = Path(path)
    raw = _read_bytes(target, limit)
    if limit is not None and len(raw) > limit and _header_end(raw) < 0:
        raw = _read_bytes(target)  # the header line is longer than the sample: read on
    if looks_like_tree(target, raw[:64]):
        if limit is not None:
            raw = _read_bytes(target)
        text, encoding = decode(raw)
        table, tree_problems, notes = read_tree(target, text)
        return table, tree_problems, Dialect(encoding, ",", tuple(notes))
    text, encoding = decode(_head(raw, limit) if limit is not None else raw)
    delimiter = sniff_delimiter(text)
    table, problems = parse_table(
        text, target, delimiter=delimiter, strict=False,
        empty_hint="export it again with a header line",
        duplicate_hint="rename one of them in the export",
        width_hint="quote cells that contain the separator, or add the missing cells")
    return table, problems, Dialect(encoding, delimiter)


def _head(raw: bytes, limit: int) -> bytes:
    """The lines of ``raw`` within ``limit`` bytes, and at least the header's: cut at a line
    end, never inside a UTF-8 character (all of ``raw`` when it is shorter or the header line
    does not end in it)."""
    if len(raw) <= limit:
        return raw
    header_end = _header_end(raw)
    if header_end < 0:
        return raw
    return raw[: max(raw.rfind(b"\n", 0, limit), header_end) + 1]


def _header_end(raw: bytes) -> int:
    """Where the header line ends (its LF) after a UTF-8 BOM and blank lines; -1: not in
    ``raw``. Blank lines before a long header are not the lines to read it from."""
    body = raw.removeprefix(codecs.BOM_UTF8)
    return raw.find(b"\n", len(raw) - len(body.lstrip()))


@dataclass
class ExportColumns:
    """A CRM export as text columns (null: an empty cell), and the line each row starts on."""

    path: Path
    header: list[str]
    table: pa.Table
    line_of_row: Callable[[], Sequence[int | None]]

    def __len__(self) -> int:
        return self.table.num_rows

    _columns: dict[str, pa.Array] = field(default_factory=dict, repr=False)

    def column(self, name: str) -> pa.Array:
        """One column as a single array (made once)."""
        found = self._columns.get(name)
        if found is None:
            found = self._columns[name] = self.table.column(name).combine_chunks()
        return found


def read_export_columns(path: str | Path) -> tuple[ExportColumns, list[WorkspaceError],
                                                    Dialect]:
    """:func:`read_export` as columns. A plain UTF-8 file (one line per row, plain quoting,
    the same number of cells on every line) is read by the workspace reader's pyarrow path;
    any other file by the exact parser, which locates what is wrong with it.

    :raises WorkspaceError: as :func:`read_export`.
    """
    import pyarrow as pa

    from kamcore.workspace.tables import _fast_csv

    target = Path(path)
    raw = _read_bytes(target)
    if not looks_like_tree(target, raw[:64]):
        delimiter = sniff_delimiter(decode(_head(raw, 1 << 16))[0])
        fast = _fast_csv(target, raw, None, delimiter=delimiter, plain=True)
        if fast is not None:
            return (ExportColumns(target, fast.header, fast.table, fast.line_of_row), [],
                    Dialect("utf-8", delimiter))
    table, problems, dialect = read_export(target)
    cells = list(zip(*(values for _line, values in table.rows), strict=True)) or [
        () for _ in table.header]
    columns = pa.table({name: pa.array([v or None for v in column], pa.string())
                        for name, column in zip(table.header, cells, strict=True)})
    lines = [line for line, _values in table.rows]
    return ExportColumns(table.path, table.header, columns, lambda: lines), problems, dialect


def read_export_header(path: str | Path) -> list[str]:
    """Just the header (to choose a mapping)."""
    target = Path(path)
    raw = _read_bytes(target, 1 << 16)  # the header is on the first lines: not the whole file
    if len(raw) > 1 << 16 and _header_end(raw) < 0:  # a longer header line: read on
        raw = _read_bytes(target)
    if looks_like_tree(target, raw[:64]):  # a JSON tree has no header line: read it all
        return read_export(target)[0].header
    text, _ = decode(_head(raw, 1 << 16))
    delimiter = sniff_delimiter(text)
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if any(cell.strip() for cell in row):
                return [cell.strip() for cell in row]
    except csv.Error as exc:
        raise WorkspaceError(f"unreadable CSV header: {exc}",
                             location=Location(str(target), 1)) from None
    raise WorkspaceError(f"{target} is empty", hint="export it again with a header line")
