"""The account tree as warehouse tables: closure, levels and edges (CSV or Parquet).

A SQL warehouse cannot walk a tree; these tables let it join facts to the hierarchy instead:

- ``closure``: one row per (ancestor, descendant) pair, ``depth`` steps apart (0: the account
  itself), so ``sum(value) ... join closure on descendant = account group by ancestor`` is
  every account's subtree total.
- ``levels``: per account its ``depth`` and ``level_1`` (its root) ... ``level_N`` (itself at
  ``level_{depth+1}``; deeper levels empty), like Salesforce's flattened hierarchy.
- ``edges``: ``child,parent`` for every account that has a parent.

The tree is linked and checked by the rollup's code (:func:`kamcore.rollup.views.compiled`), so
duplicate ids, unknown parents and cycles are the same located errors as in ``kam rollup``.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.workspace.tables import WorkspaceTables

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


def warehouse_table(tables: WorkspaceTables, fmt: str) -> pa.Table:
    """The ``closure``, ``levels`` or ``edges`` table of the accounts.

    :raises BadTree: duplicate ids, unknown parents or a cycle (with file and line).
    """
    import numpy as np
    import pyarrow as pa

    from kamcore.rollup.columnar import columns_from_table
    from kamcore.rollup.views import compiled

    cols = columns_from_table(tables.accounts)
    compiled(cols)  # a cycle is a located error, not an endless walk
    ids, parent = cols.ids, cols.parent
    if fmt == "edges":
        child = np.flatnonzero(parent >= 0)
        return pa.table({"child": ids.take(pa.array(child)),
                         "parent": ids.take(pa.array(parent[child]))})
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


def write_warehouse(tables: WorkspaceTables, fmt: str, stream: IO[bytes], *, safe: bool,
                    parquet: bool) -> None:
    """Write a warehouse table as CSV (the exporters' CSV writer, cells neutralised when
    ``safe``) or as Parquet."""
    table = warehouse_table(tables, fmt)
    if parquet:
        import pyarrow.parquet as pq

        pq.write_table(table, stream)
        return
    from kamcore.exporters import columns as cols

    n = table.num_rows
    cells = [cols.cell_text(table.column(name).combine_chunks(), n)
             for name in table.column_names]
    cols.write_csv(stream, table.column_names, cells, safe=safe)
