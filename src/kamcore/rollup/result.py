"""What a rollup returns: a column-typed table with records, CSV and JSON forms."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from kamcore.errors import KamError


@dataclass(frozen=True)
class Column:
    """One output column: ``key`` in records/CSV/JSON, ``header`` in the terminal table.

    ``kind`` is ``text``, ``int``, ``money`` (reporting currency), ``ratio`` or ``number``.
    """

    key: str
    header: str
    kind: str = "text"
    metric: str | None = None


@dataclass
class RollupResult:
    """The rows of a rollup, in display order.

    :ivar view: ``account``, ``manager`` or the grouping field (``tier``, ``country``...).
    :ivar columns: the columns, in order.
    :ivar table: the rows as a pyarrow table (missing values are nulls).
    :ivar currency: the reporting currency money columns are in.
    :ivar period: the period filter in effect (``None`` without facts).
    :ivar periods: the period columns of a ``by_period`` rollup.
    :ivar skipped: bad fact rows left out by ``skip_bad``.
    :ivar sources: where each metric's values came from: ``facts.csv`` (or ``.parquet``) or
        ``accounts.csv``; facts win when both give a metric.
    :ivar total: for group views, the aggregates over all accounts.
    :ivar shown_total: for group views cut by ``top``, the aggregates over the accounts of the
        groups shown (``None`` when every group is shown).
    """

    view: str
    columns: list[Column]
    table: pa.Table
    currency: str
    metrics: list[str]
    period: str | None = None
    periods: list[str] = field(default_factory=list)
    skipped: list[KamError] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    title: str = ""
    #: Manager view: whose the facts are, ``account`` (the accounts' managers) or ``owner``.
    credit: str | None = None
    #: Which account tree the totals follow when it is not today's (``tree as of 2025-12-31``).
    hierarchy: str | None = None
    #: Group views: the same aggregates over every account (the table's last line).
    total: dict[str, Any] | None = None
    #: Group views under ``top``: the same aggregates over the groups shown (the line above).
    shown_total: dict[str, Any] | None = None
    #: Text columns known to hold no cell that needs a ``'`` or quotes in CSV
    #: (:func:`~kamcore.rollup.render.plain_text`, found while the tree was linked): the CSV
    #: writer does not look again.
    plain: frozenset[str] = frozenset()

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows as dicts (``None`` for a missing value); same as :meth:`to_records`."""
        return self.to_records()

    def to_records(self) -> list[dict[str, Any]]:
        """The rows as plain dicts, keys in column order, whole numbers as ``int``."""
        kinds = {c.key: c.kind for c in self.columns}
        records = self.table.select([c.key for c in self.columns]).to_pylist()
        for record in records:
            for key, value in record.items():
                if isinstance(value, float):
                    if math.isnan(value):
                        record[key] = None
                    elif kinds[key] == "int" or (value.is_integer() and abs(value) < 2 ** 53
                                                 and kinds[key] != "number"):
                        record[key] = int(value)
        return records

    def to_csv_bytes(self) -> bytes:
        """CSV with a header of column keys (see :meth:`write_csv`)."""
        import io

        buffer = io.BytesIO()
        self.write_csv(buffer)
        return buffer.getvalue()

    def write_csv(self, stream: IO[bytes]) -> None:
        """Write CSV to a binary stream, formatted by pyarrow in parallel row chunks.

        Number formatting dominates at a million rows and pyarrow does it single-threaded per
        call, so chunks are formatted on a thread each (pyarrow releases the GIL) and written
        in order. Text is quoted only when some cell needs it.
        """
        from kamcore.exporters.columns import stream_arrow_csv
        from kamcore.textcolumns import any_byte_of

        table = self.table.select([c.key for c in self.columns])
        needs_quotes = any(
            any_byte_of(table.column(c.key), b'",\r\n')
            for c in self.columns if c.kind == "text" and c.key not in self.plain
            and table.column(c.key).null_count < len(table))
        stream_arrow_csv(stream, table, quote=needs_quotes, prepare=_whole_as_int,
                         size=65_536)

    def to_json_data(self) -> dict[str, Any]:
        """The JSON document: metadata plus ``rows``."""
        return {"view": self.view, "currency": self.currency, "period": self.period,
                "periods": self.periods, "metrics": self.metrics, "hierarchy": self.hierarchy,
                "columns": [{"key": c.key, "label": c.header, "kind": c.kind}
                            for c in self.columns],
                "skipped": [str(p) for p in self.skipped], "sources": self.sources,
                "credit": self.credit,
                "rows": self.to_records(), "total": self.total,
                "shown_total": self.shown_total}


#: Below this magnitude pyarrow writes a whole float64 as its digits alone (``46726395``, not
#: ``46726395.0``), exactly as it writes the same int64; from 1e10 on it may use an exponent
#: (``1e+10``). Tested against pyarrow's own float text (tests/test_rollup_csv.py).
WHOLE_AS_INT_BELOW = 1e10


def _whole_as_int(table: pa.Table) -> pa.Table:
    """``table`` with each float64 column whose values are all whole and below
    :data:`WHOLE_AS_INT_BELOW` as int64: the same CSV text, written three times quicker
    (money totals are floats, and formatting them was a third of writing a million rows)."""
    import numpy as np
    import pyarrow as pa

    for index, kind in enumerate(table.schema):
        if not pa.types.is_float64(kind.type):
            continue
        column = table.column(index)
        values = column.to_numpy()  # nulls as NaN
        empty = np.isnan(values)
        if int(empty.sum()) != column.null_count:
            continue  # a NaN value of its own is written as such
        filled = np.where(empty, 0.0, values)
        if not (np.abs(filled) < WHOLE_AS_INT_BELOW).all() or (
                filled != np.trunc(filled)).any() or np.signbit(filled[filled == 0]).any():
            continue  # a fraction, a large number or -0.0: pyarrow's float text
        ints = pa.array(filled.astype(np.int64), mask=empty if column.null_count else None)
        table = table.set_column(index, kind.with_type(pa.int64()), ints)
    return table
