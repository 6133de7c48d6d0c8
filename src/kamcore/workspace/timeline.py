"""A field's value over all time, per record: the history's rows with the files' value in the
gaps, as consecutive pieces (vectorised, no object per row).

history.csv says when each value held; a day no row covers shows the value of the record files
(docs/time.md). A :class:`Timeline` spells that out: for every record of a table, pieces
``[start, end)`` that cover every day from :data:`OPEN_START` to :data:`OPEN_END`, each with
its value and the history row it comes from. The dated-edge export and the rules that look at
a stretch of time (KAM185) read it instead of evaluating the trees day by day.

Where two rows of one record and field overlap (rule KAM184), the later start wins from its
start on, as it does on any single day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kamcore.workspace.history import FIELDS, OPEN_END, OPEN_START

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.workspace.history import HistoryTable
    from kamcore.workspace.tables import RecordTable


@dataclass
class Timeline:
    """Pieces of one field's value, ordered by record row, then start.

    :ivar row: the record's row in the table the timeline was built for.
    :ivar start: first day of the piece (int64 day number; :data:`OPEN_START`: always).
    :ivar end: the day after its last (:data:`OPEN_END`: still).
    :ivar value: the value as history.csv writes it (null: none).
    :ivar source: the history row the piece comes from; -1 for the record files' value.
    """

    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    value: pa.Array
    source: np.ndarray

    def __len__(self) -> int:
        return len(self.row)

    def take(self, pieces: np.ndarray) -> Timeline:
        import pyarrow as pa

        return Timeline(self.row[pieces], self.start[pieces], self.end[pieces],
                        self.value.take(pa.array(pieces, pa.int64())), self.source[pieces])


def file_text(table: RecordTable, name: str) -> pa.Array:
    """A record file's column as history.csv writes the value (``true``/``false`` for flags,
    digits for counts, null for an empty cell)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = table.table.column(name).combine_chunks() if name in table.table.column_names \
        else pa.nulls(len(table.ids), pa.string())
    if pa.types.is_boolean(column.type):
        return pc.if_else(column, "true", "false")
    return column.cast(pa.string())


def timeline(table: RecordTable, history: HistoryTable | None, name: str) -> Timeline:
    """Every record of ``table`` with ``name``'s value over all time.

    :param table: the record files as written (``tables.as_written``), whose values fill the
        days no history row covers.
    :param name: a field of history.csv; for ``exists`` the gaps of a record that has
        ``exists`` rows are ``false`` (it did not exist then), of one without ``true``.
    """
    import numpy as np
    import pyarrow as pa

    from kamcore.structure import row_of
    from kamcore.workspace.history import _field_run, _record_codes

    n = len(table.ids)
    if history is not None and len(history):
        order, start, end, _ = _field_run(history, name)
        records = _record_codes(history)
        at = row_of(table.ids, records[1])[records[0][order]]
        keep = at >= 0
        order, start, end, at = order[keep], start[keep], end[keep], at[keep]
        by_row = np.argsort(at, kind="stable")  # by record code, start: now by row, start
        order, start, end, at = order[by_row], start[by_row], end[by_row], at[by_row]
    else:
        order = start = end = at = np.zeros(0, dtype=np.int64)
    same = np.zeros(len(at), dtype=bool)
    same[:-1] = at[1:] == at[:-1]
    end = end.copy()
    end[:-1] = np.where(same[:-1], np.minimum(end[:-1], start[1:]), end[:-1])  # later wins
    live = end > start  # a row cut to nothing by a later one starting on the same day
    order, start, end, at = order[live], start[live], end[live], at[live]
    last = np.ones(len(at), dtype=bool)  # the last row of its record
    last[:-1] = at[1:] != at[:-1]
    first = np.ones(len(at), dtype=bool)
    first[1:] = last[:-1]
    following = np.append(start[1:], OPEN_END)  # the next row's start
    before = first & (start > OPEN_START)
    between = ~last & (end < following)
    after = last & (end < OPEN_END)
    dated = np.zeros(n, dtype=bool)
    dated[at] = True
    missing = np.flatnonzero(~dated)  # no row: the files' value throughout
    gap_row = np.concatenate([at[before], at[between], at[after], missing])
    gap_start = np.concatenate([np.full(int(before.sum()), OPEN_START), end[between],
                                end[after], np.full(len(missing), OPEN_START)])
    gap_end = np.concatenate([start[before], following[between],
                              np.full(int(after.sum()) + len(missing), OPEN_END)])
    filler = file_text(table, name) if name != "exists" else _exists_filler(n, at)
    values = [filler.take(pa.array(gap_row, pa.int64()))]
    if len(order):
        assert history is not None
        values.insert(0, history.table.column("value").combine_chunks().take(pa.array(order)))
    rows = np.concatenate([at, gap_row]).astype(np.int64)
    starts = np.concatenate([start, gap_start]).astype(np.int64)
    ends = np.concatenate([end, gap_end]).astype(np.int64)
    sources = np.concatenate([order, np.full(len(gap_row), -1)]).astype(np.int64)
    pieces = np.lexsort((starts, rows))
    value = pa.concat_arrays(values).take(pa.array(pieces))
    return Timeline(rows[pieces], starts[pieces], ends[pieces], value, sources[pieces])


def _exists_filler(n: int, dated: np.ndarray) -> pa.Array:
    """``false`` for records that have ``exists`` rows (outside them they did not exist),
    ``true`` for the others."""
    import numpy as np
    import pyarrow as pa

    alive = np.ones(n, dtype=bool)
    alive[dated] = False
    return pa.array(np.where(alive, "true", "false"))


def merged(line: Timeline) -> Timeline:
    """Neighbouring pieces of one record with the same value, joined (their source is the
    first's)."""
    import numpy as np
    import pyarrow.compute as pc

    if not len(line):
        return line
    encoded = pc.dictionary_encode(line.value)
    code = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    joins = np.zeros(len(line), dtype=bool)
    joins[1:] = (line.row[1:] == line.row[:-1]) & (code[1:] == code[:-1]) & (
        line.start[1:] == line.end[:-1])
    heads = np.flatnonzero(~joins)
    tails = np.append(heads[1:], len(line)) - 1
    out = line.take(heads)
    out.end = line.end[tails]
    return out


@dataclass
class Overlay:
    """Timelines of the same records cut wherever any of them changes: piece ``i`` runs from
    ``start[i]`` to ``end[i]`` of record ``row[i]``, with piece ``at[k][i]`` of timeline ``k``.
    """

    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    at: list[np.ndarray]


def overlay(*lines: Timeline) -> Overlay:
    """Cut timelines of the same table's records (each covering all time) at each other's
    changes."""
    import numpy as np

    span = np.int64(1) << np.int64(33)  # a day number shifted to be positive fits 33 bits
    keys = [line.row * span + (line.start - OPEN_START) for line in lines]
    points = np.sort(np.concatenate(keys))  # a sort and a pass: np.union1d hashes, 50x slower
    points = points[np.append(True, points[1:] != points[:-1])]
    row, start = points // span, points % span + OPEN_START
    end = np.full(len(points), OPEN_END, dtype=np.int64)
    end[:-1] = np.where(row[1:] == row[:-1], start[1:], OPEN_END)
    return Overlay(row, start, end, [np.searchsorted(key, points, side="right") - 1
                                     for key in keys])


__all__ = ["FIELDS", "Overlay", "Timeline", "file_text", "merged", "overlay", "timeline"]
