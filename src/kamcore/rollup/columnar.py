"""Accounts and people as the rollup engine's columns: the reader's tables, linked.

The tables come from :mod:`kamcore.workspace.tables` (the one reader, so a rollup sees exactly
what ``kam validate`` sees); this module only links each row to its parent (or manager) row
with one hash pass, and refuses a tree a total would be wrong over: duplicate ids, unknown
parents, cycles. ``from_org`` gives the same columns for an :class:`~kamcore.Org` in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.errors import (
    BadTree,  # their home since 1.0; kept importable here
    KamError,
    Location,
)

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.org import Org
    from kamcore.workspace.tables import RecordTable

TEXT_COLUMNS = ("id", "name", "tier", "parent", "manager", "country", "industry", "currency")


@dataclass
class Columns:
    """A table of records by column.

    :ivar ids: record ids (pyarrow string array), file order.
    :ivar parent: index of each record's parent (account) or manager (person), -1 at the top.
    :ivar text: every non-numeric column as strings (nulls for empty cells).
    :ivar numbers: metric columns as float64, NaN where empty.

    ``parent`` of columns linked on another core (:func:`columns_from_table` with
    ``later``) is there once the link is done: asking for it waits, and raises the link's
    :class:`BadTree`.
    """

    ids: pa.Array
    parent: np.ndarray
    text: pa.Table
    numbers: dict[str, np.ndarray] = field(default_factory=dict)
    path: Path | None = None
    kind: str = "account"
    source: RecordTable | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def __getattr__(self, name: str) -> np.ndarray:
        # only reached while ``parent`` is not set: the link still running is waited for
        if name != "parent" or "_linking" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self.parent = self.__dict__["_linking"]()  # its error is raised on every ask
        del self.__dict__["_linking"]
        return self.parent

    def column(self, name: str) -> pa.Array | None:
        """A text column (``None`` when there is no such column)."""
        if name not in self.text.column_names:
            return None
        return self.text.column(name).combine_chunks()

    def location(self, row: int) -> Location | None:
        """File and line of a row (lines are looked up only when an error needs them)."""
        return self.source.location(row) if self.source is not None else None


def columns_from_table(records: RecordTable, *, link_to: str = "parent",
                       linked: bool = True, later: bool = False) -> Columns:
    """A reader's record table as linked columns (metrics as float64 numpy arrays).

    :param linked: ``False`` leaves every row unlinked (``parent`` all -1), for checks of
        values that must run whatever state the tree is in.
    :param later: link on another core (the hash pass releases the GIL) while the caller goes
        on; ``parent`` waits for it, and raises its errors, when first asked for.
    :raises BadTree: duplicate ids, or a ``link_to`` cell naming no record (with ``later``:
        when ``parent`` is asked for).
    """
    import numpy as np

    data = records.table
    numbers = {m: data.column(m).to_numpy() for m in records.metrics}
    cols = Columns(ids=records.ids, parent=np.zeros(0, dtype=np.int64),
                   text=data.drop_columns(records.metrics), numbers=numbers, path=records.path,
                   kind=records.kind, source=records)
    if not linked:
        cols.parent = np.full(len(records.ids), -1, dtype=np.int64)
        return cols
    parents = records.text(link_to)  # the reader's cached columns are read here, not there
    if not later:
        cols.parent = _link(cols, cols.ids, parents, [], link_to, records.early_codes(link_to))
        return cols
    from kamcore.perf import started

    del cols.parent
    cols.__dict__["_linking"] = started(lambda: _link(
        cols, cols.ids, parents, [], link_to, records.early_codes(link_to)))
    return cols


def _mask(arr: pa.Array) -> np.ndarray:
    """A pyarrow boolean array as a numpy bool array (nulls as False)."""
    return arr.fill_null(False).to_numpy(zero_copy_only=False)


def _link(cols: Columns, ids: pa.Array, parents: pa.Array,
          bad_numbers: list[tuple[int, str, str]], what: str,
          codes: np.ndarray | None = None) -> np.ndarray:
    """Parent ids -> row indexes, checking duplicates, unknown parents and (later) cycles.

    :param codes: :func:`~kamcore.structure.link_codes` of ``ids`` and ``parents``, when
        the reader has them."""
    import numpy as np

    from kamcore.structure import link_codes

    n = len(ids)
    problems: list[KamError] = []
    noun = "account" if cols.kind == "account" else "person"
    missing_id = np.flatnonzero(~_mask(ids.is_valid()))
    for row in missing_id[:20]:
        problems.append(KamError(f"{noun} without id", location=cols.location(int(row)),
                                 hint="every record needs a unique id"))
    # One hash pass over ids and parents: codes follow first appearance, ids come first, so
    # code c < distinct-id count names an id, and with unique ids code == row
    if codes is None:
        codes = link_codes(ids, parents)
    id_codes, parent_codes = codes[:n], codes[n:]
    distinct = int(id_codes.max()) + 1 if n else 0
    unique = len(missing_id) == 0 and distinct == n  # then each id's code is its row
    if unique:
        first_row = np.zeros(0, dtype=np.int64)
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
            f"duplicate {noun} id {ids[int(row)].as_py()!r} [KAM101]",
            location=cols.location(int(row)),
            hint=f"line {first.line if first else '?'} already uses it; ids must be unique"))
    for row, column, value in bad_numbers:
        problems.append(KamError(f"{noun} {ids[row].as_py()!r}: {column} is {value}",
                                 location=_col(cols.location(row), column),
                                 hint="use a finite number, or leave the cell empty"))
    unknown = np.flatnonzero(parent_codes >= distinct)
    rule = {"parent": "KAM102", "manager": "KAM106"}.get(what, "KAM121")
    for row in unknown[:20]:
        problems.append(KamError(
            f"{noun} {ids[int(row)].as_py()!r}: {what} {parents[int(row)].as_py()!r} does not "
            f"exist [{rule}]",
            location=_col(cols.location(int(row)), what),
            hint=f"fix the id in column {what!r}, or leave it empty"))
    if problems:
        more = len(missing_id) + len(dup) + len(unknown) - sum(
            min(20, len(a)) for a in (missing_id, dup, unknown))
        if more > 0:
            problems.append(KamError(f"... and {more} more of the same kinds"))
        raise BadTree(problems)
    if unique:  # a parent's code is its row, -1 where there is none
        return parent_codes.astype(np.int64)
    return np.where(parent_codes >= 0, first_row[np.maximum(parent_codes, 0)], -1)


def _col(loc: Location | None, column: str) -> Location | None:
    return Location(loc.file, loc.line, column) if loc else None


def cycle_error(cols: Columns, nodes: list[int]) -> BadTree:
    """A readable error for a cycle found by :func:`~kamcore.rollup.compile.compile_tree`."""
    names = [cols.ids[i].as_py() for i in nodes]
    loop = " -> ".join([*names, names[0]])
    noun = "account" if cols.kind == "account" else "person"
    column = "parent" if cols.kind == "account" else "reports_to"
    code = "KAM103" if cols.kind == "account" else "KAM122"
    return BadTree([KamError(f"{noun} {names[0]!r} is its own ancestor: {loop} [{code}]",
                             location=_col(cols.location(nodes[0]), column),
                             hint=f"break the loop by changing one {column}")])


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
