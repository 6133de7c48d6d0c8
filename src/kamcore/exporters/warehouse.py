"""The account tree as warehouse tables: closure, levels and edges (CSV or Parquet).

A SQL warehouse cannot walk a tree; these tables let it join facts to the hierarchy instead:

- ``closure``: one row per (ancestor, descendant) pair, ``depth`` steps apart (0: the account
  itself), so ``sum(value) ... join closure on descendant = account group by ancestor`` is
  every account's subtree total.
- ``levels``: per account its ``depth`` and ``level_1`` (its root) ... ``level_N`` (itself at
  ``level_{depth+1}``; deeper levels empty), like Salesforce's flattened hierarchy.
- ``edges``: ``child,parent,valid_from,valid_to``: one row per parent link per stretch of
  time it held (history.csv's links, the files' parent in the days no row covers, within the
  account's life), like SAP's KNVH. ``valid_from`` is the first day (empty: always),
  ``valid_to`` the day it stopped (excluded; empty: still). Without history.csv every link is
  open at both ends. With a day (``--as-of``), only the links in force that day, each with its
  whole validity.

The tree is linked and checked by the rollup's code (:func:`kamcore.rollup.views.compiled`), so
duplicate ids, unknown parents and cycles are the same located errors as in ``kam rollup``; a
history row naming a parent that is no account is a located error too.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date

    import numpy as np
    import pyarrow as pa

    from kamcore.workspace.history import HistoryTable
    from kamcore.workspace.tables import RecordTable, WorkspaceTables
    from kamcore.workspace.timeline import Timeline

WAREHOUSE_FORMATS = ("closure", "levels", "edges")


def _paths(parent: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each node's depth, and its ancestors by distance: ``up[k][i]`` is ``i``'s ancestor ``k``
    steps up (-1 past the root); ``up[0]`` is the nodes themselves."""
    import numpy as np

    n = len(parent)
    current = np.arange(n, dtype=np.int64)
    up = [current]
    depth = np.zeros(n, dtype=np.int64)
    while True:
        alive = current >= 0
        step = np.where(alive, parent[np.maximum(current, 0)], -1)
        if not (step >= 0).any():
            return depth, up
        depth += step >= 0
        up.append(step)
        current = step


def warehouse_table(tables: WorkspaceTables, fmt: str, as_of: date | None = None) -> pa.Table:
    """The ``closure``, ``levels`` or ``edges`` table of the accounts.

    :param as_of: edges: only the links in force that day (``None``: every link of the
        history). closure and levels show the tree the tables were read as of.
    :raises BadTree: duplicate ids, unknown parents or a cycle (with file and line).
    :raises WorkspaceError: edges: a history row names a parent that is no account.
    """
    import numpy as np
    import pyarrow as pa

    from kamcore.rollup.columnar import columns_from_table
    from kamcore.rollup.views import compiled

    cols = columns_from_table(tables.accounts)
    compiled(cols)  # a cycle is a located error, not an endless walk
    ids, parent = cols.ids, cols.parent
    if fmt == "edges":
        return dated_edges(tables, as_of)
    depth, up = _paths(parent)
    if fmt == "closure":
        anc, desc, dist = [], [], []
        for k, row in enumerate(up):
            keep = np.flatnonzero(row >= 0)
            anc.append(row[keep])
            desc.append(keep)
            dist.append(np.full(len(keep), k, dtype=np.int64))
        order = np.lexsort((np.concatenate(dist), np.concatenate(desc)))
        return pa.table({"ancestor": ids.take(pa.array(np.concatenate(anc)[order])),
                         "descendant": ids.take(pa.array(np.concatenate(desc)[order])),
                         "depth": pa.array(np.concatenate(dist)[order])})
    data: dict[str, pa.Array] = {"id": ids, "depth": pa.array(depth)}
    for level in range(len(up)):  # level_1 is the root: the ancestor depth - level steps up
        steps = depth - level
        at = np.full(len(ids), -1, dtype=np.int64)
        for distance, row in enumerate(up):
            pick = steps == distance
            at[pick] = row[pick]
        data[f"level_{level + 1}"] = ids.take(pa.array(at, mask=at < 0))
    return pa.table(data)


def dated_edges(tables: WorkspaceTables, as_of: date | None = None) -> pa.Table:
    """``child, parent, valid_from, valid_to`` of every parent link over time (see the module
    docstring), ordered as accounts.csv, then by ``valid_from``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.workspace.history import OPEN_END, OPEN_START, day_number
    from kamcore.workspace.timeline import Timeline, merged, overlay, timeline

    accounts = (tables.as_written or (tables.accounts, tables.people))[0]
    history = tables.history
    links, life = timeline(accounts, history, "parent"), timeline(accounts, history, "exists")
    cut = overlay(links, life)
    parent = links.value.take(pa.array(cut.at[0]))
    alive = pc.equal(life.value.take(pa.array(cut.at[1])), "true").fill_null(False)
    keep = np.flatnonzero(pc.and_(alive, parent.is_valid()).to_numpy(zero_copy_only=False))
    line = merged(Timeline(cut.row[keep], cut.start[keep], cut.end[keep],
                           parent.take(pa.array(keep)), links.source[cut.at[0]][keep]))
    if as_of is not None:
        day = day_number(as_of)
        line = line.take(np.flatnonzero((line.start <= day) & (day < line.end)))
    _check_parents(accounts, line, history)
    ids = accounts.ids

    def dates(days: np.ndarray) -> pa.Array:
        open_ = (days == OPEN_START) | (days == OPEN_END)
        return pa.array(np.where(open_, 0, days).astype(np.int32), pa.int32(),
                        mask=open_).cast(pa.date32())

    return pa.table({"child": ids.take(pa.array(line.row)), "parent": line.value,
                     "valid_from": dates(line.start), "valid_to": dates(line.end)})


def _check_parents(accounts: RecordTable, line: Timeline, history: HistoryTable | None
                   ) -> None:
    """:raises WorkspaceError: the first link whose parent is no account (the files' unknown
    parents are the tree check's errors already), located on its history row."""
    import numpy as np

    from kamcore.errors import WorkspaceError
    from kamcore.structure import row_of

    unknown = np.flatnonzero((row_of(accounts.ids, line.value) < 0) & (line.source >= 0))
    if not len(unknown) or history is None:
        return
    first = int(unknown[0])
    source = int(line.source[first])
    more = f" (and {len(unknown) - 1} more such links)" if len(unknown) > 1 else ""
    raise WorkspaceError(
        f"history of {accounts.ids[int(line.row[first])].as_py()!r}: parent "
        f"{line.value[first].as_py()!r} is no account of the workspace{more}",
        location=history.location(source, "value"),
        hint="fix the id in history.csv, or add the account (kam validate lists every row)")


def write_warehouse(tables: WorkspaceTables, fmt: str, stream: IO[bytes], *, safe: bool,
                    parquet: bool, as_of: date | None = None) -> None:
    """Write a warehouse table as CSV (the exporters' CSV writer, cells neutralised when
    ``safe``) or as Parquet."""
    table = warehouse_table(tables, fmt, as_of)
    if parquet:
        import pyarrow.parquet as pq

        pq.write_table(table, stream)
        return
    from kamcore.exporters import columns as cols

    n = table.num_rows
    cells = [cols.cell_text(table.column(name).combine_chunks(), n)
             for name in table.column_names]
    cols.write_csv(stream, table.column_names, cells, safe=safe)
