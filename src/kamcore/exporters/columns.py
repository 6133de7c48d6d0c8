"""Cells of whole columns: the text rules of :mod:`kamcore.workspace.csvio` and of ``json``,
applied to Arrow arrays, and the writers that stream them.

Every function here gives byte for byte what the row-by-row code gives
(:func:`~kamcore.workspace.csvio.format_cell`, :func:`~kamcore.workspace.csvio.neutralise`,
:func:`~kamcore.workspace.csvio.render_csv`, ``json.dumps(..., ensure_ascii=False)``); the
rare cells whose text is not worth a vectorised rule (a float with a fraction, a string a JSON
literal must escape) go through that Python code, one cell at a time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, TypeAlias, TypeVar

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

_T = TypeVar("_T")

#: Rows formatted and written at a time: memory stays flat whatever the org's size.
CHUNK = 1 << 17

#: What Python's ``str.strip()`` removes (``str.isspace``), as an RE2 class.
PY_SPACE = "[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def mask(arr: pa.Array) -> np.ndarray:
    """A boolean array as numpy (null as False)."""
    return arr.fill_null(False).to_numpy(zero_copy_only=False)


def strings(values: Sequence[str | None]) -> pa.Array:
    import pyarrow as pa

    return pa.array(values, pa.string())


def patched(base: pa.Array, rows: np.ndarray,
            values: Sequence[str | None] | pa.Array) -> pa.Array:
    """``base`` with ``rows`` replaced by ``values`` (a string array)."""
    import numpy as np
    import pyarrow as pa

    if not len(rows):
        return base
    position = np.full(len(base), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    found = pa.array(position >= 0)
    given = values if isinstance(values, pa.Array) else strings(values)
    taken = given.take(pa.array(np.maximum(position, 0)))
    return _if_else(found, taken, base)


def str_scalar(value: str) -> pa.Scalar:
    """A string scalar for a compute function: given a Python str, pyarrow infers its type,
    and the inference tries to import dateutil each time (a failed import: ~0.1 ms)."""
    import pyarrow as pa

    return pa.scalar(value, pa.string())


def _if_else(cond: Any, a: Any, b: Any) -> pa.Array:
    import pyarrow.compute as pc

    return pc.if_else(cond, a, b)


# -- cell text ---------------------------------------------------------------------------------


def cell_text(column: pa.Array | None, n: int) -> pa.Array:
    """:func:`~kamcore.workspace.csvio.format_cell` of every cell: '' for empty (a missing
    column, a null, a NaN metric), whole floats without ``.0``, booleans true/false."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column is None:
        return pa.array([""] * n, pa.string()) if n else pa.array([], pa.string())
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column.cast(pa.string()).fill_null("")
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "true", "false").fill_null("")
    if pa.types.is_integer(kind) or pa.types.is_date32(kind):  # dates as ISO text
        return column.cast(pa.string()).fill_null("")
    if pa.types.is_floating(kind):
        return _float_text(column.cast(pa.float64()), json_form=False)
    return strings([_format(v) for v in column.to_pylist()])


def _format(value: object) -> str:
    from kamcore.workspace.csvio import format_cell

    return format_cell(value)


def _float_text(column: pa.Array, *, json_form: bool) -> pa.Array:
    """Floats as ``format_cell`` writes them (or, ``json_form``, as ``repr``: ``5.0``);
    NaN and null as null for JSON, '' for CSV."""
    import numpy as np
    import pyarrow as pa

    values = column.fill_null(np.nan).to_numpy(zero_copy_only=False)
    given = ~np.isnan(values)
    limit = 1e16 if json_form else 1e15
    with np.errstate(invalid="ignore"):
        whole = given & np.isfinite(values) & (np.floor(values) == values) \
            & (np.abs(values) < limit)
    if json_form:
        whole &= ~((values == 0) & np.signbit(values))  # -0.0 is "-0.0"
    ints = pa.array(np.where(whole, values, 0).astype(np.int64)).cast(pa.string())
    if json_form:
        import pyarrow.compute as pc

        ints = pc.binary_join_element_wise(ints, str_scalar(".0"), str_scalar(""))
    empty = pa.scalar(None if json_form else "", pa.string())  # typed: see str_scalar()
    out = _if_else(pa.array(whole), ints, empty)
    rest = np.flatnonzero(given & ~whole)
    if len(rest):
        out = patched(out, rest, [repr(float(v)) if json_form else _format(float(v))
                                  for v in values[rest]])
    return out


# -- CSV -----------------------------------------------------------------------------------------


def neutralised(cells: pa.Array) -> pa.Array:
    """:func:`~kamcore.workspace.csvio.neutralise` of every cell (the rule as patterns)."""
    import pyarrow.compute as pc

    from kamcore.textcolumns import starts_with_any
    from kamcore.workspace.csvio import FORMULA_FIRST_BYTES, FORMULA_START, PLAIN_NUMBER

    if not starts_with_any(cells, FORMULA_FIRST_BYTES):
        return cells  # no cell starts like a formula: the patterns would find nothing
    risky = pc.and_(pc.match_substring_regex(cells, FORMULA_START),
                    pc.invert(pc.match_substring_regex(cells, f"^(?:{PLAIN_NUMBER})$")))
    if not pc.any(risky).as_py():
        return cells
    return pc.if_else(risky, pc.binary_join_element_wise(str_scalar("'"), cells,
                                                         str_scalar("")), cells)


def quoted(cells: pa.Array) -> pa.Array:
    """CSV cells as :func:`~kamcore.workspace.csvio.render_csv` writes them: quoted (quotes
    doubled) when they hold a comma, a quote, a CR or a LF. Which of those bytes occur is read
    from the column's bytes once; a substring test per byte that occurs (usually the comma
    alone) finds the cells, cheaper than a pattern."""
    import pyarrow.compute as pc

    from kamcore.textcolumns import bytes_of

    found = bytes_of(cells, b',"\r\n')
    if not found:
        return cells
    needs = None
    for byte in found:
        has = pc.match_substring(cells, chr(byte))
        needs = has if needs is None else pc.or_(needs, has)
    if not pc.any(needs).as_py():
        return cells
    text = pc.replace_substring(cells, '"', '""') if b'"'[0] in found else cells
    text = pc.binary_join_element_wise(str_scalar('"'), text, str_scalar('"'), str_scalar(""))
    return pc.if_else(needs, text, cells)


def joined_bytes(parts: Sequence[pa.Array], separator: str, end: str) -> bytes | pa.Buffer:
    """Each row's ``parts`` joined by ``separator`` and ended by ``end``: the rows' text as
    one buffer (no Python object per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(parts[0]):
        return b""
    last = pc.binary_join_element_wise(parts[-1], str_scalar(end), str_scalar(""))
    rows = pc.binary_join_element_wise(*parts[:-1], last, str_scalar(separator)) \
        if len(parts) > 1 else last
    return text_buffer(rows.cast(pa.string()))


def text_buffer(rows: pa.Array) -> pa.Buffer:
    """The concatenated text of a string array without nulls (its data buffer, sliced)."""
    import numpy as np
    import pyarrow as pa

    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset:]
    data = rows.buffers()[2]
    if data is None:
        return pa.py_buffer(b"")
    return data.slice(int(offsets[0]), int(offsets[len(rows)]) - int(offsets[0]))


def write_csv(stream: IO[bytes], header: Sequence[str], cells: Sequence[pa.Array], *,
              safe: bool) -> None:
    """The CSV of ``header`` and columns of cell text (non-null strings), written in chunks;
    the same bytes as :func:`~kamcore.workspace.csvio.render_csv`."""
    from kamcore.workspace.csvio import render_csv

    n = len(cells[0]) if cells else 0
    if len(header) < 2:  # the csv module writes a lone empty cell as "": keep its writer
        rows = zip(*(c.to_pylist() for c in cells), strict=True) if cells else iter(())
        stream.write(render_csv(header, rows, safe=safe).encode("utf-8"))
        return
    stream.write(render_csv(header, [], safe=safe).encode("utf-8"))

    def render(start: int, stop: int) -> bytes | pa.Buffer:
        part = [c.slice(start, stop - start) for c in cells]
        if safe:
            part = [neutralised(c) for c in part]
        return joined_bytes([quoted(c) for c in part], ",", "\n")

    for text in in_order(render, n):
        stream.write(text)


def write_table_csv(stream: IO[bytes], table: pa.Table, *, safe: bool) -> None:
    """``table`` as CSV by pyarrow's writer (C++, chunks formatted on threads and written in
    order), for files that people and scripts read and kam does not read back (the import
    report's listings): text cells are all quoted when some cell needs quoting, numbers never,
    null is an empty cell. Not the bytes of :func:`write_csv` (the csv module's minimal
    quoting, which workspace files keep), and several times quicker.

    :param safe: text cells that would run as formulas get a ``'`` first (:func:`neutralised`).
    """
    import pyarrow as pa

    from kamcore.textcolumns import any_byte_of

    columns = []
    for column in table.columns:
        cells = column.combine_chunks()
        if safe and pa.types.is_string(cells.type):
            cells = neutralised(cells)
        columns.append(cells)
    needs_quotes = any(any_byte_of(c, b'",\r\n') for c in columns
                       if pa.types.is_string(c.type))
    stream_arrow_csv(stream, pa.table(columns, names=table.column_names), quote=needs_quotes)


def stream_arrow_csv(stream: IO[bytes], table: pa.Table, *, quote: bool,
                     prepare: Callable[[pa.Table], pa.Table] | None = None,
                     size: int | None = None) -> None:
    """``table`` through pyarrow's CSV writer, a chunk of rows per thread (number formatting
    dominates and pyarrow does it on one thread a call; it releases the GIL), written in
    order: the one loop behind :func:`write_table_csv` and the rollup's CSV.

    :param quote: quote every text cell (pyarrow's ``needed``), else none (``none``): the
        caller knows whether some cell holds a quote, comma or line break.
    :param prepare: applied to each chunk before it is formatted.
    """
    import pyarrow as pa
    from pyarrow import csv as pacsv

    style = "needed" if quote else "none"

    def render(start: int, stop: int) -> pa.Buffer:
        chunk = table.slice(start, stop - start)
        sink = pa.BufferOutputStream()
        pacsv.write_csv(prepare(chunk) if prepare else chunk, sink,
                        pacsv.WriteOptions(include_header=start == 0, quoting_style=style))
        return sink.getvalue()

    for text in in_order(render, max(table.num_rows, 1), size=size):
        stream.write(text)


def in_order(render: Callable[[int, int], _T], n: int, *, threads: bool = True,
             size: int | None = None) -> Iterator[_T]:
    """:func:`kamcore.perf.in_order` in chunks of :data:`CHUNK` rows unless told."""
    from kamcore.perf import in_order as ordered

    return ordered(render, n, size=size or CHUNK, threads=threads)


# -- messages ------------------------------------------------------------------------------------


def py_reprs(cells: pa.Array) -> pa.Array:
    """``repr(cell)`` of every cell, as an f-string's ``{cell!r}`` writes an id into a message
    (null stays null): quoted when printable ASCII without a quote or backslash, else Python's
    own ``repr``."""
    import numpy as np
    import pyarrow.compute as pc

    out = pc.binary_join_element_wise("'", cells, "'", "")
    plain = pc.match_substring_regex(cells, "^[\\x20-\\x26\\x28-\\x5b\\x5d-\\x7e]*$")
    other = np.flatnonzero(mask(pc.invert(plain)))
    if len(other):
        out = patched(out, other, [repr(v) for v in cells.take(other).to_pylist()])
    return out


# -- JSON ----------------------------------------------------------------------------------------

#: The bytes ``json.dumps`` escapes in a string: a quote, a backslash, a control character.
JSON_ESCAPED = bytes(range(32)) + b'"\\'
#: What follows each object :func:`write_json_list` is given (the list's last drops it).
ROW_END = ",\n"
#: Pieces of each row's text, joined once by :func:`joined`: arrays (a null adds nothing) and
#: constant text.
Pieces: TypeAlias = "list[pa.Array | str]"


def json_strings(cells: pa.Array, lead: str = "") -> pa.Array:
    """``lead + json.dumps(cell, ensure_ascii=False)`` of every cell (null stays null); the
    rare cells that need escaping are found from their bytes and go through ``json``."""
    import pyarrow.compute as pc

    from kamcore.textcolumns import rows_with_any_byte

    out = pc.binary_join_element_wise(str_scalar(lead + '"'), cells, str_scalar('"'),
                                      str_scalar(""))
    escape = rows_with_any_byte(cells, JSON_ESCAPED)
    if len(escape):
        values = cells.take(escape).to_pylist()
        out = patched(out, escape, [lead + json.dumps(v, ensure_ascii=False) for v in values])
    return out


def json_literals(column: pa.Array, lead: str = "") -> pa.Array:
    """``lead`` and the JSON text of each cell's value as the records hold it (null: not
    given, and no lead either)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return json_strings(column.cast(pa.string()), lead)
    if pa.types.is_boolean(kind):
        return pc.if_else(column, str_scalar(lead + "true"), str_scalar(lead + "false"))
    if pa.types.is_integer(kind):
        cells = column.cast(pa.string())
    elif pa.types.is_floating(kind):
        cells = _float_text(column.cast(pa.float64()), json_form=True)
    else:
        cells = strings([None if v is None else json.dumps(v, ensure_ascii=False)
                         for v in column.to_pylist()])
    return pc.binary_join_element_wise(str_scalar(lead), cells, str_scalar("")) if lead else cells


def json_object_pieces(keys: Sequence[str], values: Sequence[pa.Array], indent: int, *,
                       rendered: bool = False) -> Pieces:
    """Per row, the pieces of the object ``{key: value, ...}`` of the given (non-null) values
    as ``json.dumps(indent=2)`` writes it at nesting ``indent`` (``{}`` when all are null).

    Each value's entry starts with a comma only when an entry comes before it in its row: a
    constant lead when that is the same for every row (the usual case), else chosen per row.

    :param values: columns of cells (:func:`json_literals` writes them), or with ``rendered``
        their JSON text already (nested objects).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not keys:
        return ["{}"]
    n = len(values[0])
    inner = "\n" + " " * (indent + 2)
    pieces: Pieces = ["{"]
    before = np.zeros(n, dtype=bool)  # some entry came before, in this row
    for key, column in zip(keys, values, strict=True):
        name = f"{inner}{json.dumps(key, ensure_ascii=False)}: "
        if before.all() or not before.any():
            lead = ("," if before.any() else "") + name
            entry = (pc.binary_join_element_wise(str_scalar(lead), column, str_scalar(""))
                     if rendered else json_literals(column, lead))
        else:
            leads = pc.if_else(pa.array(before), str_scalar("," + name), str_scalar(name))
            entry = pc.binary_join_element_wise(
                leads, column if rendered else json_literals(column), str_scalar(""))
        pieces.append(entry)
        before |= mask(entry.is_valid())  # null: no value (a NaN metric too)
    close = "\n" + " " * indent + "}"
    pieces.append(close if before.all()
                  else pc.if_else(pa.array(before), str_scalar(close), str_scalar("}")))
    return pieces


def joined(pieces: Pieces, n: int) -> pa.Array:
    """Each row's pieces joined (a null piece adds nothing): one pass, one copy of the text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not any(isinstance(p, pa.Array) for p in pieces):
        return pa.array(["".join(p for p in pieces if isinstance(p, str))] * n, pa.string())
    return pc.binary_join_element_wise(
        *(str_scalar(p) if isinstance(p, str) else p for p in pieces), str_scalar(""),
        null_handling="replace", null_replacement="")


def json_entries(keys: Sequence[str], values: Sequence[pa.Array], indent: int, *,
                 rendered: bool = False) -> pa.Array:
    """:func:`json_object_pieces`, joined: each row's object as text."""
    n = len(values[0]) if values else 0
    return joined(json_object_pieces(keys, values, indent, rendered=rendered), n)


def write_json_list(stream: IO[bytes], n: int,
                    objects: Callable[[int, int], pa.Array]) -> None:
    """A list of ``n`` objects at nesting 2 (``"key": [...]`` of a top-level object);
    ``objects(start, stop)`` gives the text of rows ``start:stop``, each followed by
    :data:`ROW_END` (so a chunk is one buffer, written as it is)."""
    if not n:
        stream.write(b"[]")
        return
    stream.write(b"[\n")
    end = len(ROW_END.encode())

    def render(start: int, stop: int) -> pa.Buffer:
        text = text_buffer(objects(start, stop))
        return text.slice(0, text.size - end) if stop == n else text

    # smaller chunks: several chunks of wide rows are in flight at once
    for text in in_order(render, n, size=max(1, CHUNK // 4)):
        stream.write(text)
    stream.write(b"\n  ]")
