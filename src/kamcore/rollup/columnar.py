"""Accounts and people as columns: pyarrow for text, numpy for numbers, no object per row.

``read_accounts`` reads ``accounts.csv`` with ``pyarrow.csv`` (every text column as a string,
metric columns as float64), maps parent ids to row indexes with ``pyarrow.compute.index_in`` and
checks ids, parents and numbers vectorised. Only when something is wrong does it look for line
numbers (or, for a cell pyarrow cannot parse at all, ask the full loader for its precise
message). ``from_org`` gives the same columns for an already loaded :class:`~kamcore.Org`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.errors import KamError, Location, RecordErrors, WorkspaceError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.org import Org
    from kamcore.registry import Registry

TEXT_COLUMNS = ("id", "name", "tier", "parent", "manager", "country", "industry", "currency")


class BadTree(RecordErrors):
    """Duplicate ids, unknown parents or cycles: a rollup over such a tree would be wrong."""

    code = "KAM-R003"


@dataclass
class Columns:
    """A table of records by column.

    :ivar ids: record ids (pyarrow string array), file order.
    :ivar parent: index of each record's parent (account) or manager (person), -1 at the top.
    :ivar text: every non-numeric column as strings (nulls for empty cells).
    :ivar numbers: metric columns as float64, NaN where empty.
    """

    ids: pa.Array
    parent: np.ndarray
    text: pa.Table
    numbers: dict[str, np.ndarray] = field(default_factory=dict)
    path: Path | None = None
    kind: str = "account"
    _lines: list[int] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def column(self, name: str) -> pa.Array | None:
        """A text column (``None`` when there is no such column)."""
        if name not in self.text.column_names:
            return None
        return self.text.column(name).combine_chunks()

    def location(self, row: int) -> Location | None:
        """File and line of a row (lines are looked up only when an error needs them)."""
        if self.path is None:
            return None
        if self._lines is None:
            self._lines = row_lines(self.path)
        line = self._lines[row] if row < len(self._lines) else None
        return Location(str(self.path), line)


def row_lines(path: Path) -> list[int]:
    """The line each data row starts on (the slow path: only used to point at errors)."""
    from kamcore.workspace.csvio import read_table

    table, _ = read_table(path, required=())
    return [line for line, _ in table.rows]


def read_accounts(path: Path, metric_names: Iterable[str], *,
                  registry: Registry | None = None) -> Columns:
    """Read ``accounts.csv`` into columns and check the tree's ids and parents.

    :param path: the accounts.csv file.
    :param metric_names: columns to read as float64 (the known metrics).
    :returns: the columns, rows in file order.
    :raises WorkspaceError: unreadable file; :class:`BadTree` for duplicate ids, unknown
        parents, cycles, non-numeric or non-finite metrics (each with file and line).
    """
    import numpy as np
    import pyarrow as pa

    header = _header(path)
    metrics = [m for m in metric_names if m in header]
    as_text = {c: pa.string() for c in header}
    try:
        table = _read_csv(path, {**as_text, **{m: pa.float64() for m in metrics}})
    except (pa.ArrowInvalid, UnicodeDecodeError):
        # a cell pyarrow will not parse as a number (or a ragged row): read text, find it
        try:
            table = _read_csv(path, as_text)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            _precise_or(path, registry, f"cannot read {path.name}: {exc}")
            raise  # _precise_or always raises
        table = _parse_numbers(table, metrics, path)
    for column in ("id", "name", "tier"):
        if column not in table.column_names:
            raise WorkspaceError(f"missing column {column!r} in {path}",
                                 location=Location(str(path), 1),
                                 hint="the first line must name at least: id,name,tier")
    ids = table.column("id").combine_chunks()
    text = table.drop_columns(metrics)
    numbers: dict[str, np.ndarray] = {}
    bad_numbers: list[tuple[int, str, str]] = []
    for name in metrics:
        col = table.column(name).combine_chunks()
        values = col.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        broken = ~np.isfinite(values)
        if col.null_count:
            broken &= _mask(col.is_valid())
        bad_numbers += [(int(i), name, repr(float(values[i])))
                        for i in np.flatnonzero(broken)[:20]]
        numbers[name] = values
    cols = Columns(ids=ids, parent=np.zeros(0, dtype=np.int64), text=text, numbers=numbers,
                   path=path)
    cols.parent = _link(cols, ids, text.column("parent").combine_chunks()
                        if "parent" in text.column_names else pa.nulls(len(ids), pa.string()),
                        bad_numbers, "parent")
    return cols


def _mask(arr: pa.Array) -> np.ndarray:
    """A pyarrow boolean array as a numpy bool array (nulls as False)."""
    return arr.fill_null(False).to_numpy(zero_copy_only=False)


def _read_csv(path: Path, types: dict[str, Any]) -> pa.Table:
    from pyarrow import csv as pacsv

    return pacsv.read_csv(
        path, read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 22),
        convert_options=pacsv.ConvertOptions(
            column_types=types, null_values=[""], strings_can_be_null=True,
            quoted_strings_can_be_null=True))


_NUMBER = r"^\s*[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|nan|inf|infinity)\s*$"


def _parse_numbers(table: pa.Table, metrics: list[str], path: Path) -> pa.Table:
    """Metric columns read as text -> float64; cells that are not numbers -> :class:`BadTree`."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    problems: list[KamError] = []
    lines: list[int] | None = None
    ids = table.column("id").combine_chunks() if "id" in table.column_names else None
    for name in metrics:
        col = pc.utf8_trim_whitespace(table.column(name).combine_chunks())
        ok = pc.match_substring_regex(col, _NUMBER, ignore_case=True)
        bad = np.flatnonzero(~_mask(ok) & _mask(col.is_valid()) & _mask(
            pc.not_equal(col, "")))
        if len(bad):
            lines = lines if lines is not None else row_lines(path)
            for row in bad[:20]:
                who = repr(ids[int(row)].as_py()) if ids is not None else "without id"
                problems.append(KamError(
                    f"account {who}: {col[int(row)].as_py()!r} is not a number",
                    location=Location(str(path), lines[row] if row < len(lines) else None,
                                      name),
                    hint="write a plain number like 1250000.50, or leave the cell empty"))
            continue
        values = pc.if_else(pc.equal(col, ""), None, col).cast(pa.float64())
        table = table.set_column(table.column_names.index(name), name, values)
    if problems:
        raise BadTree(problems)
    return table


def _header(path: Path, columns: str = "id,name,tier,parent,...") -> list[str]:
    import csv

    from kamcore.workspace.yamlio import decode_text

    try:
        with path.open("rb") as handle:
            first = handle.readline(1 << 20)
    except FileNotFoundError:
        raise WorkspaceError(f"{path} does not exist",
                             hint=f"create it with a header line: {columns}") \
            from None
    text = decode_text(first, path)
    row = next(csv.reader([text]), [])
    return [c.strip() for c in row]


def _precise_or(path: Path, registry: Registry | None, fallback: str) -> None:
    """Ask the full loader for a precise message; raise the fallback if it finds nothing."""
    from kamcore.workspace import load

    load(path.parent, registry=registry)
    raise WorkspaceError(fallback, location=Location(str(path)))


def _link(cols: Columns, ids: pa.Array, parents: pa.Array,
          bad_numbers: list[tuple[int, str, str]], what: str) -> np.ndarray:
    """Parent ids -> row indexes, checking duplicates, unknown parents and (later) cycles."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(ids)
    problems: list[KamError] = []
    noun = "account" if cols.kind == "account" else "person"
    missing_id = np.flatnonzero(~_mask(ids.is_valid()))
    for row in missing_id[:20]:
        problems.append(KamError(f"{noun} without id", location=cols.location(int(row)),
                                 hint="every record needs a unique id"))
    # One hash pass over ids and parents: codes follow first appearance, ids come first, so
    # code c < distinct-id count names an id, and with unique ids code == row.
    pa_codes = pc.dictionary_encode(pa.concat_arrays([ids, parents])).indices
    codes = pa_codes.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    id_codes, parent_codes = codes[:n], codes[n:]
    distinct = int(id_codes.max()) + 1 if n else 0
    if len(missing_id) == 0 and np.array_equal(id_codes, np.arange(n)):
        first_row = np.arange(n, dtype=np.int64)
        dup = np.zeros(0, dtype=np.int64)
    else:
        first_row = np.full(distinct, -1, dtype=np.int64)
        valid = id_codes >= 0
        uniq, first_at = np.unique(id_codes[valid], return_index=True)
        first_row[uniq] = np.flatnonzero(valid)[first_at]
        dup = np.flatnonzero(valid & (first_row[np.maximum(id_codes, 0)] != np.arange(n)))
    for row in dup[:20]:
        first = cols.location(int(first_row[id_codes[row]]))
        problems.append(KamError(
            f"duplicate {noun} id {ids[int(row)].as_py()!r}", location=cols.location(int(row)),
            hint=f"line {first.line if first else '?'} already uses it; ids must be unique"))
    for row, column, value in bad_numbers:
        problems.append(KamError(f"{noun} {ids[row].as_py()!r}: {column} is {value}",
                                 location=_col(cols.location(row), column),
                                 hint="use a finite number, or leave the cell empty"))
    unknown = np.flatnonzero(parent_codes >= distinct)
    for row in unknown[:20]:
        problems.append(KamError(
            f"{noun} {ids[int(row)].as_py()!r}: {what} {parents[int(row)].as_py()!r} does not "
            "exist", location=_col(cols.location(int(row)), what),
            hint=f"fix the id in column {what!r}, or leave it empty"))
    if problems:
        more = len(missing_id) + len(dup) + len(unknown) - sum(
            min(20, len(a)) for a in (missing_id, dup, unknown))
        if more > 0:
            problems.append(KamError(f"... and {more} more of the same kinds"))
        raise BadTree(problems)
    return np.where(parent_codes >= 0, first_row[np.maximum(parent_codes, 0)], -1)


def _col(loc: Location | None, column: str) -> Location | None:
    return Location(loc.file, loc.line, column) if loc else None


def cycle_error(cols: Columns, nodes: list[int]) -> BadTree:
    """A readable error for a cycle found by :func:`~kamcore.rollup.compile.compile_tree`."""
    names = [cols.ids[i].as_py() for i in nodes]
    loop = " -> ".join([*names, names[0]])
    noun = "account" if cols.kind == "account" else "person"
    column = "parent" if cols.kind == "account" else "reports_to"
    return BadTree([KamError(f"{noun} {names[0]!r} is its own ancestor: {loop}",
                             location=_col(cols.location(nodes[0]), column),
                             hint=f"break the loop by changing one {column}")])


def read_people(path: Path) -> Columns:
    """Read ``people.csv`` (id, name, role, reports_to) as columns."""
    import numpy as np
    import pyarrow as pa
    from pyarrow import csv as pacsv

    header = _header(path, "id,name,role,reports_to,...")
    try:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header}, null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=True))
    except pa.ArrowInvalid as exc:
        raise WorkspaceError(f"cannot read {path.name}: {exc}", location=Location(str(path)),
                             hint="run `kam validate` for the exact line") from None
    ids = table.column("id").combine_chunks()
    cols = Columns(ids=ids, parent=np.zeros(0, dtype=np.int64), text=table, path=path,
                   kind="person")
    boss = (table.column("reports_to").combine_chunks() if "reports_to" in table.column_names
            else pa.nulls(len(ids), pa.string()))
    cols.parent = _link(cols, ids, boss, [], "reports_to")
    return cols


def read_person_names(path: Path) -> tuple[pa.Array, pa.Array] | None:
    """People's ids and names only, unchecked: ``None`` when people.csv cannot give them.

    Names are a courtesy in account tables; a broken people.csv must not stop a rollup of
    accounts (``kam validate`` reports it).
    """
    import pyarrow as pa
    from pyarrow import csv as pacsv

    try:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            include_columns=["id", "name"], column_types={"id": pa.string(), "name": pa.string()},
            strings_can_be_null=True))
    except (OSError, pa.ArrowInvalid, KeyError):
        return None
    return table.column("id").combine_chunks(), table.column("name").combine_chunks()


def from_org(org: Org, *, people: bool = True) -> tuple[Columns, Columns | None]:
    """The accounts (and, with ``people``, the people) of an :class:`~kamcore.Org` as columns.

    People are only checked when asked for, so an account rollup does not fail on a
    management-tree problem it does not use.
    """
    import numpy as np
    import pyarrow as pa

    accounts = list(org.accounts.values())
    text: dict[str, list[Any]] = {c: [] for c in TEXT_COLUMNS}
    extra_names = sorted({f"{ns}.{k}" for a in accounts for ns, d in a.ext.items() for k in d}
                         | {k for a in accounts for k in a.extra})
    for name in extra_names:
        text[name] = []
    metric_names = sorted({m for a in accounts for m in a.metrics})
    numbers = {m: np.full(len(accounts), np.nan) for m in metric_names}
    for i, a in enumerate(accounts):
        for c in TEXT_COLUMNS:
            value = getattr(a, c)
            text[c].append(None if value is None else str(getattr(value, "value", value)))
        for name in extra_names:
            ns, _, key = name.partition(".")
            value = a.ext.get(ns, {}).get(key) if key else a.extra.get(name)
            text[name].append(None if value is None else _text(value))
        for m, v in a.metrics.items():
            numbers[m][i] = v
    table = pa.table({k: pa.array(v, pa.string()) for k, v in text.items()})
    acc = Columns(ids=table.column("id").combine_chunks(), parent=np.zeros(0, dtype=np.int64),
                  text=table, numbers=numbers)
    acc.parent = _link(acc, acc.ids, table.column("parent").combine_chunks(), [], "parent")
    if not people:
        return acc, None
    persons = list(org.people.values())
    ptable = pa.table({
        "id": pa.array([p.id for p in persons], pa.string()),
        "name": pa.array([p.name for p in persons], pa.string()),
        "role": pa.array([p.role.value for p in persons], pa.string()),
        "reports_to": pa.array([p.reports_to for p in persons], pa.string())})
    ppl = Columns(ids=ptable.column("id").combine_chunks(), parent=np.zeros(0, dtype=np.int64),
                  text=ptable, kind="person")
    ppl.parent = _link(ppl, ppl.ids, ptable.column("reports_to").combine_chunks(), [],
                       "reports_to")
    return acc, ppl


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ";".join(map(str, value))
    return str(value)
