"""Rows of a CRM table: ids, references by id or by name, loops, numbers.

Shared by accounts and people: both have ids (given or made from names), a reference upwards
(parent account, manager) that may be written as an id or a name, and may contain loops.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kamcore.errors import Location, WorkspaceError
from kamcore.importers.report import ImportReport
from kamcore.models import Tier
from kamcore.workspace.csvio import Table, format_cell
from kamcore.workspace.loader import ACCOUNT_COLUMNS, PERSON_COLUMNS

if TYPE_CHECKING:
    import numpy as np

    from kamcore.importers.csvread import Dialect, ExportColumns

#: Prefix of the columns that keep a CRM cell as it was ("crm:BillingCountry").
RAW_PREFIX = "crm:"
#: What a progress callback looks like: (items, count, label) -> the same items.
Progress = Callable[[Iterable[Any], int, str], Iterable[Any]]
_T = TypeVar("_T")

#: What kamcore accepts as an id (the records' own pattern): no commas, no edge spaces.
ID_OK = re.compile(r"^[^\s,]([^,\n\r]*[^\s,])?$")


@dataclass
class Row:
    """One usable record of a CRM table."""

    line: int
    id: str
    key: str
    name: str
    cells: dict[str, str]
    up: str | None = None
    up_raw: str = ""
    #: The row's cells in header order, when the rows keep no dict of cells
    #: (:meth:`Rows.column` reads them).
    values: Sequence[str] = ()


@dataclass
class Rows:
    """The usable rows of a table, indexed by id key and by name."""

    file: str
    rows: list[Row] = field(default_factory=list)
    by_key: dict[str, Row] = field(default_factory=dict)
    id_key: Callable[[str], str] = str
    _by_name: dict[str, list[Row]] | None = None
    #: The table's header, for :meth:`column` (rows that keep ``values``).
    header: Sequence[str] = ()

    def column(self, name: str) -> list[str]:
        """One column's cells, a cell per usable row in order (from each row's ``values``:
        a million rows then need no dict of cells each)."""
        at = list(self.header).index(name)
        return [row.values[at] for row in self.rows]

    def add(self, row: Row) -> None:
        self.rows.append(row)
        self.by_key[row.key] = row
        self._by_name = None

    @property
    def by_name(self) -> dict[str, list[Row]]:
        """Rows by normalised name, built on the first lookup by name."""
        if self._by_name is None:
            self._by_name = {}
            for row in self.rows:
                self._by_name.setdefault(name_key(row.name), []).append(row)
        return self._by_name

    def resolve(self, text: str, mode: str) -> tuple[Row | None, str | None]:
        """The row ``text`` refers to, or ``None`` and why (not found, ambiguous name)."""
        return resolve_reference(text, mode, self.by_key, lambda: self.by_name, self.id_key,
                                 lambda row: row.line)


def resolve_reference(text: str, mode: str, by_key: Mapping[str, _T],
                      by_name: Callable[[], Mapping[str, list[_T]]],
                      id_key: Callable[[str], str],
                      line_of: Callable[[_T], int]) -> tuple[_T | None, str | None]:
    """What a reference (``mode``: by "id", "name" or "auto", id first) names, or ``None``
    and why (not found, ambiguous name).

    :param by_name: the records by :func:`name_key`, asked for only when a name is looked up
        (indexing every name costs more than the look-ups by id).
    """
    if mode in ("id", "auto"):
        try:
            found = by_key.get(id_key(text))
        except ValueError:
            found = None
        if found is not None or mode == "id":
            return found, None if found is not None else "no record has this id"
    named = by_name().get(name_key(text), [])
    if len(named) == 1:
        return named[0], None
    if named:
        lines = ", ".join(str(line_of(r)) for r in named[:5])
        return None, f"{len(named)} records have this name (lines {lines})"
    return None, "no record has this id or name" if mode == "auto" else (
        "no record has this name")


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def read_rows(path: str | Path, report: ImportReport, kind: str) -> tuple[Table, str]:
    """Read a CRM export (see :mod:`.csvread`); bad rows and a non-UTF-8 file are reported.

    :returns: the table and its decimal mark: "," for semicolon-separated files (the European
        Excel convention, where "1.250,50" is 1250.5), else ".".
    """
    from kamcore.importers.csvread import read_export

    table, problems, dialect = read_export(path)
    return table, _reading_reported(path, report, kind, problems, dialect)


def read_columns(path: str | Path, report: ImportReport, kind: str) -> tuple[
        ExportColumns, str]:
    """:func:`read_rows` as text columns (:func:`.csvread.read_export_columns`)."""
    from kamcore.importers.csvread import read_export_columns

    table, problems, dialect = read_export_columns(path)
    return table, _reading_reported(path, report, kind, problems, dialect)


def _reading_reported(path: str | Path, report: ImportReport, kind: str,
                      problems: Sequence[WorkspaceError], dialect: Dialect) -> str:
    """Report how a file was read and what could not be; its decimal mark."""
    for problem in problems:
        loc = problem.location
        report.problem("unreadable", problem.message, file=loc.file if loc else str(path),
                       line=loc.line if loc else None, hint=problem.hint)
    if dialect.encoding != "utf-8":
        report.problem("encoding", "not UTF-8: read as Windows-1252", file=str(path),
                       hint="check accented names; export as 'CSV UTF-8' to be sure")
    report.files[kind] = str(path)
    report.notes += dialect.notes
    if dialect.delimiter != ",":
        report.notes.append(f"{path} is {dialect.delimiter_name}-separated")
    decimal = "," if dialect.delimiter == ";" else "."
    if decimal == "," and kind == "accounts":
        report.notes.append("numbers read with a decimal comma (1.250,50 = 1250.5)")
    return decimal


def read_header(path: str | Path) -> list[str]:
    """The header of a CSV export, without parsing the rest (to choose a mapping).

    :raises WorkspaceError: missing, unreadable or empty file.
    """
    from kamcore.importers.csvread import read_export_header

    return read_export_header(path)


def make_id(name: str, taken: set[str], prefix: str, line: int) -> str:
    """An id from a name: ``"Müller GmbH"`` -> ``MULLER-GMBH`` (``-2``, ``-3`` when taken)."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    base = re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-").upper()[:40].strip("-")
    base = base or f"{prefix}-{line}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def break_loops(rows: Sequence[Row], by_id: dict[str, Row]) -> list[tuple[list[str], str]]:
    """Cut every loop of ``up`` references: the loop's first row in file order becomes a top.

    :returns: the loops found, each as the ids along it and the id that was cut loose.
    """
    import numpy as np

    at = {row.id: i for i, row in enumerate(rows)}
    parent = np.array([-1 if row.up is None else at[row.up] for row in rows], dtype=np.int64)
    loops = cut_loops(parent, [row.line for row in rows])
    for _loop, cut in loops:
        rows[cut].up = None
    return [([rows[i].id for i in loop], rows[cut].id) for loop, cut in loops]


def cut_loops(parent: np.ndarray, lines: Sequence[int] | np.ndarray
              ) -> list[tuple[list[int], int]]:
    """Cut every loop of ``parent`` rows (in place): the loop's row on the first line becomes
    a top. Only the rows that never reach a top are walked, in file order.

    :returns: the loops found, each as its rows (from where the walk entered it) and the row
        that was cut loose.
    """
    import numpy as np

    from kamcore.structure import cycles

    stuck, _ = cycles(parent)
    state: dict[int, int] = {}
    loops: list[tuple[list[int], int]] = []
    for start in np.flatnonzero(stuck).tolist():
        path: list[int] = []
        current = start
        while current >= 0 and state.get(current, 0) == 0:
            state[current] = 1
            path.append(current)
            current = int(parent[current])
        if current >= 0 and state.get(current) == 1:
            loop = path[path.index(current):]
            first = min(loop, key=lambda r: lines[r])
            parent[first] = -1
            loops.append((loop, first))
        for node in path:
            state[node] = 2
    return loops


_CURRENCY_JUNK = re.compile(r"[\s$€£¥]|USD|EUR|GBP")
_NUMBER_JUNK = re.compile(r"[\s$€£¥,]|USD|EUR|GBP")
_DOT_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+$")


def parse_number(text: str, decimal: str = ".") -> float | None:
    """``"1,250,000"``, ``"$1.5e6"``, ``"1250000.00"`` -> float; ``""`` -> ``None``.

    With ``decimal=","`` (semicolon-separated files) ``"1.250.000,50"`` is 1250000.5.

    >>> parse_number("1,250,000"), parse_number("1.250,5", ","), parse_number(" ")
    (1250000.0, 1250.5, None)

    :raises ValueError: the cell is not a number.
    """
    cleaned: str | None
    if decimal == "," and ("," in text or _DOT_THOUSANDS.match(text.strip())):
        cleaned = _CURRENCY_JUNK.sub("", text).replace(".", "").replace(",", ".")
    else:
        try:
            number = float(text)
        except ValueError:
            cleaned = _NUMBER_JUNK.sub("", text)
        else:
            cleaned = None
    if cleaned is not None:
        if not cleaned:
            return None
        number = float(cleaned)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(text)
    return number


def with_progress(items: Sequence[_T], label: str, progress: Progress | None) -> Iterable[_T]:
    return items if progress is None else progress(items, len(items), label)


def kept_column(header: str, metrics: Iterable[str]) -> str:
    """The workspace column for an unmapped CRM column (renamed only when it would clash)."""
    if header in ACCOUNT_COLUMNS or header in PERSON_COLUMNS or header in set(metrics) or (
            "." in header or header.startswith(RAW_PREFIX)):
        return RAW_PREFIX + header.replace(".", "_")
    return header


def canonical_text(record: dict[str, Any], target: str) -> str:
    """The text kamcore stores for a field, to compare with the CRM's cell."""
    value = record[target] if target in record else record.get("metrics", {}).get(target)
    if value.__class__ is str:
        return value
    if value is None:
        return ""
    if isinstance(value, Tier):
        return value.value
    return format_cell(value)


def check_columns(header: list[str], wanted: dict[str, str], path: str) -> None:
    """Every column a mapping names must be in the file. :raises WorkspaceError:"""
    import difflib

    for target, column in wanted.items():
        if column not in header:
            close = difflib.get_close_matches(column, header, n=1)
            hint = (f"did you mean {close[0]!r}?" if close else
                    "the header is: " + ", ".join(header[:20]))
            raise WorkspaceError(f"column {column!r} (for {target}) is not in the file",
                                 location=Location(path, 1), hint=hint)
