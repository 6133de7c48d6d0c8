"""Byte-level questions about Arrow text columns, answered without a kernel pass per cell.

Trimming, quoting and formula-neutralising each cost a full pass (and often a copy) of a
column; at a million rows most columns need none of it. These answer "could any cell need it"
from the raw buffers: never a false "no", and a "yes" only sends the column the long way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


def edge_bytes(column: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """The first and the last byte of every non-empty cell (``None``: not plain UTF-8 text)."""
    import numpy as np
    import pyarrow as pa

    if not pa.types.is_string(column.type):
        return None
    _, offsets_buffer, data_buffer = column.buffers()
    if offsets_buffer is None:
        return None
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[
        column.offset: column.offset + len(column) + 1]
    starts, stops = offsets[:-1], offsets[1:]
    filled = stops > starts  # null and empty cells hold no bytes
    if data_buffer is None or not filled.any():
        empty = np.zeros(0, dtype=np.uint8)
        return empty, empty
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    return data[starts[filled]], data[stops[filled] - 1]


def _used_bytes(chunk: pa.Array) -> tuple[np.ndarray, pa.Buffer] | None:
    """A string array's offsets (from 0) and the part of its value buffer its cells use;
    ``None`` when it is not a string array."""
    import numpy as np
    import pyarrow as pa

    if not pa.types.is_string(chunk.type):
        return None
    _, offsets_buffer, data_buffer = chunk.buffers()
    if data_buffer is None or offsets_buffer is None or not len(chunk):
        return np.zeros(len(chunk) + 1, dtype=np.int64), pa.py_buffer(b"")
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[
        chunk.offset: chunk.offset + len(chunk) + 1]
    start = int(offsets[0])
    return offsets - start, data_buffer.slice(start, int(offsets[-1]) - start)


def _chunks(column: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    import pyarrow as pa

    return column.chunks if isinstance(column, pa.ChunkedArray) else [column]


def any_byte_of(column: pa.Array | pa.ChunkedArray, values: bytes) -> bool:
    """Whether some cell holds one of the bytes ``values``: a byte search of the part of each
    chunk's value buffer that its cells use, stopping at the first found (:func:`bytes_of`
    says which)."""
    for chunk in _chunks(column):
        used = _used_bytes(chunk)
        if used is None:
            return True
        data = used[1].to_pybytes()
        if any(bytes([value]) in data for value in values):
            return True
    return False


def bytes_of(column: pa.Array | pa.ChunkedArray, values: bytes) -> bytes:
    """Which of the bytes ``values`` some cell holds (all of them for a column that is not
    text): one copy of the bytes the cells use, searched once per value."""
    found: set[int] = set()
    for chunk in _chunks(column):
        used = _used_bytes(chunk)
        if used is None:
            return values
        data = used[1].to_pybytes()
        found.update(value for value in values if bytes([value]) in data)
    return bytes(value for value in values if value in found)


def only_bytes_of(column: pa.Array | pa.ChunkedArray, values: bytes) -> bool:
    """Whether every cell is made of the bytes ``values`` alone (an empty or null cell has
    none): a lookup of the bytes the cells use."""
    import numpy as np

    others = ~table_of(values)
    for chunk in _chunks(column):
        used = _used_bytes(chunk)
        if used is None or others[np.frombuffer(used[1], dtype=np.uint8)].any():
            return False
    return True


def rows_with_any_byte(column: pa.Array, values: bytes) -> np.ndarray:
    """The rows (ascending) whose cell holds one of the bytes ``values``: a lookup of the
    cells' bytes, not a pattern per cell.

    :raises TypeError: ``column`` is not a string array.
    """
    import numpy as np

    used = _used_bytes(column)
    if used is None:
        raise TypeError(f"a string array, not {column.type}")
    offsets, data = used
    hits = np.flatnonzero(table_of(values)[np.frombuffer(data, dtype=np.uint8)])
    if not len(hits):
        return hits
    return np.unique(np.searchsorted(offsets, hits, side="right") - 1)


def starts_with_any(column: pa.Array | pa.ChunkedArray, values: bytes) -> bool:
    """Whether some cell's first byte is one of ``values``."""
    lookup = table_of(values)
    for chunk in _chunks(column):
        edges = edge_bytes(chunk)
        if edges is None or lookup[edges[0]].any():
            return True
    return False


def table_of(values: bytes) -> np.ndarray:
    """A 256-entry lookup of ``values``, for ``table_of(b"...")[edge_bytes(...)[0]]``."""
    import numpy as np

    lookup = np.zeros(256, dtype=bool)
    lookup[list(values)] = True
    return lookup


#: First bytes of whitespace as Python's ``str.strip`` sees it: ASCII's, and the lead bytes of
#: Unicode's (U+0085, U+00A0, U+1680, U+2000-U+205F, U+3000).
SPACE_FIRST = bytes([9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 0xC2, 0xE1, 0xE2, 0xE3])


def py_stripped(column: pa.Array) -> pa.Array:
    """Every cell as Python's ``str.strip`` leaves it (null stays null), byte for byte: only
    the cells whose first or last byte may be whitespace are stripped, by Python itself (a
    kernel's idea of whitespace is not Python's)."""
    import numpy as np
    import pyarrow as pa

    from kamcore.exporters.columns import patched

    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    _, offsets_buffer, data_buffer = column.buffers()
    if offsets_buffer is None or data_buffer is None or not len(column):
        return column
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[
        column.offset: column.offset + len(column) + 1]
    starts, stops = offsets[:-1], offsets[1:]
    filled = np.flatnonzero(stops > starts)
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    first, last = data[starts[filled]], data[stops[filled] - 1]
    space = table_of(SPACE_FIRST)
    rows = filled[space[first] | space[last] | (last >= 0x80)]
    if not len(rows):
        return column
    cells = column.take(pa.array(rows)).to_pylist()
    return patched(column, rows, [cell.strip() for cell in cells])
