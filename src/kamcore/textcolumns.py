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


def any_byte_of(column: pa.Array | pa.ChunkedArray, values: bytes) -> bool:
    """Whether some cell holds one of the bytes ``values``: a byte search of the part of each
    chunk's value buffer that its cells use."""
    import numpy as np
    import pyarrow as pa

    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    for chunk in chunks:
        if not pa.types.is_string(chunk.type):
            return True
        _, offsets_buffer, data_buffer = chunk.buffers()
        if data_buffer is None or offsets_buffer is None or not len(chunk):
            continue
        offsets = np.frombuffer(offsets_buffer, dtype=np.int32)
        start, stop = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
        data = data_buffer.slice(start, stop - start).to_pybytes()
        if any(bytes([value]) in data for value in values):
            return True
    return False


def starts_with_any(column: pa.Array | pa.ChunkedArray, values: bytes) -> bool:
    """Whether some cell's first byte is one of ``values``."""
    import pyarrow as pa

    lookup = table_of(values)
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    for chunk in chunks:
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
