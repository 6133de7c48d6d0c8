"""CSV tables with line numbers in, canonical CSV out."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

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

    :raises WorkspaceError: no header, or a column named twice.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
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
    start = header_line + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(WorkspaceError(f"unreadable CSV row: {exc}",
                                           location=Location(str(path), start),
                                           hint="check the quotes on this line"))
            break
        line, start = start, reader.line_num + 1
        if len(row) != width:
            if not any(cell.strip() for cell in row):
                continue  # blank line
            problems.append(WorkspaceError(f"{len(row)} cells where the header has {width}",
                                           location=Location(str(path), line), hint=width_hint))
            continue
        rows.append((line, row))
    return Table(path, header, rows, header_line), problems


def format_cell(value: object) -> str:
    """Canonical text of one cell: no trailing .0 on whole numbers, true/false, '' for None."""
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


def render_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with LF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([format_cell(v) for v in row])
    return buffer.getvalue()


def iter_dict_rows(table: Table) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as ``{column: cell}``."""
    header = table.header
    for line, row in table.rows:
        yield line, dict(zip(header, row, strict=True))
