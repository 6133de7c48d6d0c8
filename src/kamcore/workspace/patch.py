"""One column of a workspace CSV file set by record id, every other cell as the file has it.

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

    raw = read_csv_file(path, required)
    header = list(raw.header)
    cells = {name: raw.table.column(name).to_pylist() for name in header}
    if column not in cells:
        header.append(column)
        cells[column] = [None] * raw.table.num_rows
    target = cells[column]
    for row, cell in enumerate(cells["id"]):
        key = (cell or "").strip()
        if key not in values:
            continue
        if only_if is not None and (target[row] or "").strip() != (only_if.get(key) or ""):
            continue
        target[row] = values[key]
    rows = zip(*(cells[name] for name in header), strict=True)
    return render_csv(header, rows).encode("utf-8")
