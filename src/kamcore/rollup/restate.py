"""Rollups over several periods: as it was, or restated, and what differs between the two.

``as-was`` rolls each period up the account tree in force at that period's end (history.csv
applied as of its last day); ``current`` (or a date) restates every period under one tree. The
tree of each period is only a parent column: the history is applied to the accounts once per
period, vectorised, and linked to the rows the rollup already holds, so the facts are read and
converted once whatever the number of periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from kamcore.errors import KamError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.rollup.periods import Period
    from kamcore.rollup.result import RollupResult
    from kamcore.workspace.tables import WorkspaceTables

AS_WAS = "as-was"
CURRENT = "current"


@dataclass(frozen=True)
class Hierarchy:
    """Which tree a multi-period rollup follows: each period's own (``as_was``), or one tree,
    that of ``day`` (``None``: today's)."""

    as_was: bool
    day: date | None = None

    @property
    def label(self) -> str:
        if self.as_was:
            return "as was: each period on the tree at its end"
        return "restated on the tree of " + (self.day.isoformat() if self.day else "today")


def parse_hierarchy(text: str) -> Hierarchy:
    """``as-was``, ``current`` or a date. :raises KamError: anything else."""
    from kamcore.workspace.history import parse_date

    value = text.strip().lower()
    if value == AS_WAS:
        return Hierarchy(as_was=True)
    if value == CURRENT:
        return Hierarchy(as_was=False)
    try:
        return Hierarchy(as_was=False, day=parse_date(value))
    except KamError:
        raise KamError(f"--hierarchy {text!r} is neither as-was, current nor a date",
                       hint="as-was (each period on its own tree), current (today's tree) or "
                       "a day, e.g. 2025-12-31") from None


def period_end(period: Period) -> date:
    """The last day of a period (months counted from year 0)."""
    year, month = divmod(period.last, 12)
    first_next = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return first_next - timedelta(days=1)


def period_parents(tables: WorkspaceTables, ids: pa.Array, labels: list[str],
                   current: np.ndarray) -> list[np.ndarray]:
    """For each period label, the parent row of each of ``ids`` in the tree at its end
    (-1: a root, or a parent that is not among ``ids``).

    :param current: the parent rows of ``ids`` in ``tables`` (the tree of ``tables.as_of``).
        Each period's tree starts from it: the history's parent rows in force on the period's
        last day replace it, and where a row in force on ``tables.as_of`` covers no longer,
        the files' parent comes back. No id is looked up per period: the history's lookups
        into ``ids`` are made once and shared with the tables as of a day.
    """
    import numpy as np

    from kamcore.rollup.periods import parse_period
    from kamcore.workspace.history import day_number, links_in_force

    days = []
    for label in labels:
        period = parse_period(label)
        if period is None:  # pragma: no cover - labels come from parsed periods
            raise KamError(f"{label!r} is not a period")
        days.append(day_number(period_end(period)))
    history = tables.history
    if history is None or tables.as_of is None:  # the files' tree, whatever the day
        return [current.copy() for _ in days]
    covered_now = np.zeros(len(ids), dtype=bool)
    covered_now[links_in_force(history, "parent", day_number(tables.as_of), ids)[0]] = True
    written = None
    out = []
    for day in days:
        rows, targets = links_in_force(history, "parent", day, ids)
        parent = current.copy()
        back = covered_now.copy()
        back[rows] = False  # in force on tables.as_of, not at this period's end
        if back.any():
            written = _written_parents(tables, ids) if written is None else written
            parent[back] = written[back]
        parent[rows] = targets
        out.append(parent)
    return out


def _written_parents(tables: WorkspaceTables, ids: pa.Array) -> np.ndarray:
    """The parent row of each of ``ids`` in the record files as written (-1: none)."""
    from kamcore.structure import row_of

    accounts = (tables.as_written or (tables.accounts, tables.people))[0]
    parents = accounts.text("parent")
    if not accounts.ids.equals(ids):
        parents = parents.take(_rows(row_of(accounts.ids, ids)))
    return row_of(ids, parents)


def _rows(rows: np.ndarray) -> pa.Array:
    import pyarrow as pa

    return pa.array(rows, mask=rows < 0)


def reconciliation(result: RollupResult, parents: list[np.ndarray], current: np.ndarray,
                   ids: pa.Array) -> RollupResult:
    """What differs between the as-was view (``result``, in rows of ``ids``) and the restated
    tree (``current`` parents): per period, each account whose parent differs, from where to
    where, with the totals it carried as it was."""
    import numpy as np
    import pyarrow as pa

    from kamcore.rollup.result import Column, RollupResult
    from kamcore.structure import row_of

    table = result.table
    at = row_of(table.column("id").combine_chunks(), ids)  # result row of each id row
    names = table.column("name").combine_chunks()
    metrics = [c for c in result.columns if c.metric and "_total_" in c.key]
    columns = [Column("id", "Account id"), Column("name", "Account"),
               Column("period", "Period"), Column("from", "As was under"),
               Column("to", "Restated under")]
    shown = list(dict.fromkeys(c.metric for c in metrics if c.metric))
    labels = result.periods or [result.period or ""]
    for name in shown:
        first = next(c for c in metrics if c.metric == name)
        columns.append(Column(name, first.header.replace(f" {labels[0]}", "", 1), first.kind,
                              name))
    pieces: dict[str, list[pa.Array]] = {c.key: [] for c in columns}
    for label, parent in zip(labels, parents, strict=True):
        moved = np.flatnonzero((parent != current) & (at >= 0))
        rows = pa.array(at[moved])
        pieces["id"].append(ids.take(pa.array(moved)))
        pieces["name"].append(names.take(rows))
        pieces["period"].append(pa.array([label] * len(moved), pa.string()))
        pieces["from"].append(_ids_at(ids, parent[moved]))
        pieces["to"].append(_ids_at(ids, current[moved]))
        for name in shown:
            key = next(c.key for c in metrics if c.metric == name and c.key.endswith(
                f"_total_{label}"))
            pieces[name].append(table.column(key).combine_chunks().take(rows))
    data = {key: pa.concat_arrays(parts) if parts else pa.array([], pa.string())
            for key, parts in pieces.items()}
    for column in columns:
        if not len(data[column.key]) and column.metric:
            data[column.key] = pa.array([], pa.float64())
    out = RollupResult("reconciliation", columns, pa.table(data), result.currency, shown,
                       period=result.period, periods=result.periods, sources=result.sources,
                       title=result.title)
    return out


def _ids_at(ids: pa.Array, rows: np.ndarray) -> pa.Array:
    return ids.take(_rows(rows))
