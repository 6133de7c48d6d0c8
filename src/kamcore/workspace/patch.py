"""One column of a workspace CSV file set by record id, every other cell as the file has it
(contacts.parquet too: the other columns keep their Parquet types).

For the writes that change a cell or two of many records (a hand-over moving relationship
owners, territories imported onto accounts): the file is read by the one reader's CSV layer
(:func:`kamcore.workspace.tables.read_csv_file`), so a record is found by its trimmed id, and
written back by the one CSV writer (:func:`kamcore.workspace.csvio.render_csv`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa


def set_column(path: Path, required: Sequence[str], column: str, values: Mapping[str, str | None],
               *, only_if: Mapping[str, str | None] | None = None) -> bytes:
    """The file's text with ``column`` set to ``values[id]`` on the records ``values`` names.

    :param column: added at the end of the header when the file lacks it.
    :param only_if: per id, the value the cell must hold now (trimmed; ``None`` or ``""``:
        empty) for it to change; a cell edited since keeps its value.
    :raises WorkspaceError: the file is missing or lacks a required column.
    """
    from kamcore.workspace.csvio import render_csv
    from kamcore.workspace.tables import read_csv_file

    if path.suffix == ".parquet":
        return _set_parquet_column(path, required, column, values, only_if)
    raw = read_csv_file(path, required)
    header = list(raw.header)
    cells = {name: raw.table.column(name).to_pylist() for name in header}
    if column not in cells:
        header.append(column)
        cells[column] = [None] * raw.table.num_rows
    _set_cells(cells["id"], cells[column], values, only_if)
    rows = zip(*(cells[name] for name in header), strict=True)
    return render_csv(header, rows).encode("utf-8")


def _set_cells(ids: list[str | None], target: list[str | None],
               values: Mapping[str, str | None],
               only_if: Mapping[str, str | None] | None) -> None:
    """``target[row] = values[id]`` for each row whose trimmed id ``values`` names (and whose
    cell still holds ``only_if[id]``, when given)."""
    for row, cell in enumerate(ids):
        key = (cell or "").strip()
        if key not in values:
            continue
        if only_if is not None and (target[row] or "").strip() != (only_if.get(key) or ""):
            continue
        target[row] = values[key]


def _set_parquet_column(path: Path, required: Sequence[str], column: str,
                        values: Mapping[str, str | None],
                        only_if: Mapping[str, str | None] | None) -> bytes:
    """:func:`set_column` for a Parquet file: ``column`` becomes text, the rest is kept."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kamcore.workspace.tables import read_parquet_file

    ids = read_parquet_file(path, required, {"id"}).table.column("id").to_pylist()
    table = pq.read_table(path)
    names = [name.strip() for name in table.column_names]
    at = names.index(column) if column in names else None
    target: list[str | None] = (
        [None] * table.num_rows if at is None
        else read_parquet_file(path, required, {column}).table.column(column).to_pylist())
    _set_cells(ids, target, values, only_if)
    cells = pa.array(target, pa.string())
    table = (table.append_column(column, cells) if at is None
             else table.set_column(at, table.column_names[at], cells))
    return parquet_bytes(table)


def parquet_bytes(table: pa.Table) -> bytes:
    """``table`` as the bytes of a Parquet file (written atomically by the caller)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())
