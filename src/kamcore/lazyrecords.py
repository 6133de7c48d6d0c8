"""Records by id, each built from the reader's columns when first asked for.

A plan file on 100,000 accounts touches a few thousand of them; building every record first
(half a second) would cost more than the plan's own work. :class:`LazyRecords` is the
``accounts`` of such an org: a mapping in file order whose records are built on first use,
whose edits are kept beside the columns, and whose fields the org's books and account tree
read as columns (:func:`field_items`) without building a record. It behaves as the dict it
replaces: same keys in the same order, same records, edits in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any, Protocol, TypeVar

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class RowSource(Protocol[R_co]):
    """Where the records come from: one row per record, no id twice."""

    @property
    def ids(self) -> list[str]:
        """The id of each row, in file order."""

    def record(self, row: int) -> R_co:
        """The record of ``row``."""

    def column(self, name: str) -> list[Any]:
        """The value of field ``name`` (a plain field: ``manager``, ``parent`` ...) by row."""


class LazyRecords(MutableMapping[str, R]):
    """A dict of records by id whose records are built from ``source`` on first use.

    Records read but not edited are built once and shared by every copy (:meth:`copy`), so
    the same id gives the same object before and after an edit elsewhere, as a dict copy does.
    """

    def __init__(self, source: RowSource[R]) -> None:
        self._source = source
        ids = source.ids
        self._rows: dict[str, int] = dict(zip(ids, range(len(ids)), strict=True))
        if len(self._rows) != len(ids):
            raise ValueError("LazyRecords needs one row per id")
        self._built: dict[str, R] = {}  # rows built so far, shared by copies
        self._edits: dict[str, R] = {}  # ids set since: the record now
        self._gone: set[str] = set()  # rows' ids deleted
        self._tail: dict[str, None] = {}  # ids added after the rows, in order

    @property
    def rows(self) -> Mapping[str, int]:
        """The row of each id of the source (deleted ones too)."""
        return self._rows

    def __getitem__(self, key: str) -> R:
        record = self._edits.get(key)
        if record is not None:
            return record
        record = self._built.get(key)
        if record is None:
            if key in self._gone or key not in self._rows:
                raise KeyError(key)
            record = self._built[key] = self._source.record(self._rows[key])
        elif key in self._gone:
            raise KeyError(key)
        return record

    def __contains__(self, key: object) -> bool:
        return key in self._edits or (key in self._rows and key not in self._gone)

    def __setitem__(self, key: str, value: R) -> None:
        if key not in self:
            self._tail[key] = None
        self._edits[key] = value

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._edits.pop(key, None)
        if key in self._tail:
            del self._tail[key]
        else:
            self._gone.add(key)

    def __iter__(self) -> Iterator[str]:
        gone = self._gone
        if gone:
            yield from (rid for rid in self._source.ids if rid not in gone)
        else:
            yield from self._source.ids
        yield from self._tail

    def __reversed__(self) -> Iterator[str]:
        yield from reversed(self._tail)
        gone = self._gone
        yield from (rid for rid in reversed(self._source.ids) if rid not in gone)

    def __len__(self) -> int:
        return len(self._rows) - len(self._gone) + len(self._tail)

    def __repr__(self) -> str:
        return f"<LazyRecords: {len(self)} records, {len(self._edits)} edited>"

    def copy(self) -> LazyRecords[R]:
        """A copy to edit: the columns and the records built so far are shared."""
        other: LazyRecords[R] = LazyRecords.__new__(LazyRecords)
        other._source, other._rows, other._built = self._source, self._rows, self._built
        other._edits, other._gone, other._tail = dict(self._edits), set(self._gone), dict(
            self._tail)
        return other

    def prefetch(self, ids: Iterable[str]) -> None:
        """Build the records of ``ids`` not built yet, in row order (one pass through the
        columns in order costs a quarter of the same records built in random order)."""
        rows = self._rows
        wanted = sorted({rows[rid] for rid in ids if rid in rows and rid not in self._built})
        source_ids, built, record = self._source.ids, self._built, self._source.record
        for row in wanted:
            built[source_ids[row]] = record(row)

    def records_at(self, rows: Iterable[int]) -> Iterator[R]:
        """The records of these source rows and every record edited or added since, in
        order (the rows' ids deleted since left out)."""
        ids = self._source.ids
        wanted = {ids[row] for row in rows}
        if self._edits:
            wanted.update(self._edits)
            yield from (self[rid] for rid in self if rid in wanted)
            return
        for row in sorted({self._rows[rid] for rid in wanted}):
            if ids[row] not in self._gone:
                yield self[ids[row]]

    def field_items(self, name: str) -> Iterator[tuple[str, Any]]:
        """``(id, value of field name)`` of every record in order, from the column where
        the record was not edited (no record built)."""
        column, edits, gone = self._source.column(name), self._edits, self._gone
        for row, rid in enumerate(self._source.ids):
            if rid in gone:
                continue
            edited = edits.get(rid)
            yield rid, (column[row] if edited is None else getattr(edited, name))
        for rid in self._tail:
            yield rid, getattr(edits[rid], name)


def having_namespace(records: Mapping[str, R], namespace: str) -> Iterable[R]:
    """The records, in order, that may hold plugin fields of ``namespace``: for
    :class:`LazyRecords` whose source knows its rows with a ``namespace.*`` cell
    (``rows_with``), only those and the records edited since (no other record is built: a
    plugin's rule costs what its accounts cost, not the org's); else every record."""
    rows_with = getattr(records._source, "rows_with", None) if isinstance(
        records, LazyRecords) else None
    if rows_with is None:
        return records.values()
    assert isinstance(records, LazyRecords)
    return records.records_at(rows_with(namespace))


def field_items(records: Mapping[str, Any], name: str) -> Iterator[tuple[str, Any]]:
    """``(record id, record.<name>)`` of every record in order: from the columns for
    :class:`LazyRecords` (no record built), else from the records."""
    if isinstance(records, LazyRecords):
        return records.field_items(name)
    return ((record.id, getattr(record, name)) for record in records.values())


def positions(records: Mapping[str, Any]) -> Mapping[str, int]:
    """A number per id that sorts ids in the order of ``records`` (file order): the rows of
    :class:`LazyRecords` as they are (ids added since come after them), else counted."""
    if isinstance(records, LazyRecords) and not records._tail and not records._gone:
        return records.rows
    return {rid: i for i, rid in enumerate(records)}


def prefetch(records: Mapping[str, Any], ids: Iterable[str]) -> None:
    """Build the records of ``ids`` ahead, in row order (:class:`LazyRecords`; a dict holds
    them all already)."""
    if isinstance(records, LazyRecords):
        records.prefetch(ids)


def copy_records(records: MutableMapping[str, R]) -> MutableMapping[str, R]:
    """A copy of ``records`` to edit (a dict, or :class:`LazyRecords` sharing its columns)."""
    if isinstance(records, LazyRecords):
        return records.copy()
    return dict(records)
