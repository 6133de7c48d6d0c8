"""The object model built from the one reader's tables: records and an :class:`Org`.

The tables already hold checked, normalised values, so records are built without a second
validation; where each record came from is looked up only when a message asks for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.errors import Location
from kamcore.models import Account, Person
from kamcore.models.enums import Role, Tier
from kamcore.models.quick import new_record
from kamcore.org import Duplicate, Org
from kamcore.workspace.csvio import format_cell

if TYPE_CHECKING:
    import pyarrow as pa

    from kamcore.lazyrecords import LazyRecords
    from kamcore.workspace.tables import RawTable, RecordTable, WorkspaceTables

_TIERS = {t.value: t for t in Tier}
_ROLES = {r.value: r for r in Role}


class RecordLocations(Mapping[tuple[str, str], Location]):
    """``(kind, id) -> Location``, with lines worked out on first use (most runs need none)."""

    def __init__(self, tables: dict[str, RecordTable], rows: Mapping[str, Mapping[str, int]]
                 ) -> None:
        self._tables = tables
        self._rows = rows

    def __getitem__(self, key: tuple[str, str]) -> Location:
        kind, record_id = key
        row = self._rows.get(kind, {}).get(record_id)
        if row is None:
            raise KeyError(key)
        location = self._tables[kind].location(row)
        if location is None:
            raise KeyError(key)
        return location

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for kind, rows in self._rows.items():
            for record_id in rows:
                yield kind, record_id

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows.values())


def org_from_tables(tables: WorkspaceTables, *, shared: SharedRecords | None = None,
                    lazy: bool = False) -> Org:
    """An :class:`Org` holding every readable record of ``tables`` (duplicates kept aside).

    :param shared: the person records of earlier calls on the same people table (the scoped
        orgs of one validate run): built once, the same frozen records in each org.
    :param lazy: build each account when first asked for
        (:class:`~kamcore.lazyrecords.LazyRecords`): for work that touches few of them (a
        plan file), where building 100,000 records would cost more than the work. Accounts
        with duplicate ids are built at once as usual.
    """
    org = Org(settings=tables.settings, accounts={}, people={}, registry=tables.registry,
              path=tables.folder, storage=tables.storage)
    org.layout["accounts"] = list(tables.accounts.header)
    org.layout["people"] = list(tables.people.header)
    account_rows: Mapping[str, int]
    lazy_accounts = _lazy_accounts(tables.accounts) if lazy else None
    if lazy_accounts is None:  # built at once, the duplicates kept aside
        accounts, account_duplicates, account_rows = _records_by_id("account", tables.accounts)
        org.accounts.update(accounts)
    else:
        org.accounts, account_duplicates, account_rows = lazy_accounts, [], lazy_accounts.rows
    if shared is not None and shared.source is tables.people:
        people, person_duplicates, person_rows = shared.people
    else:
        people, person_duplicates, person_rows = _records_by_id("person", tables.people)
        if shared is not None:
            shared.source, shared.people = tables.people, (people, person_duplicates,
                                                           person_rows)
    org.people.update(people)
    org.duplicates += [*account_duplicates, *person_duplicates]
    org.locations = RecordLocations(  # type: ignore[assignment]
        {"account": tables.accounts, "person": tables.people},
        {"account": account_rows, "person": person_rows})
    return org


def _lazy_accounts(table: RecordTable) -> LazyRecords[Account] | None:
    """The accounts of ``table``, each built when first asked for (``None``: an id is there
    twice, and the duplicates must be set aside as the records are built)."""
    from kamcore.lazyrecords import LazyRecords

    try:
        return LazyRecords(RowReader(table))  # type: ignore[arg-type]
    except ValueError:
        return None


class SharedRecords:
    """Records built once for several orgs of the same tables (see :func:`org_from_tables`)."""

    def __init__(self) -> None:
        self.source: RecordTable | None = None
        self.people: _ById = ({}, [], {})


#: records by id, the duplicates set aside, and each id's table row
_ById = tuple[dict[str, Any], list[Duplicate], dict[str, int]]


def _records_by_id(kind: str, source: RecordTable) -> _ById:
    from kamcore.perf import paused_gc

    target: dict[str, Any] = {}
    duplicates: list[Duplicate] = []
    rows: dict[str, int] = {}
    with paused_gc():
        for row, record in enumerate(records_of(source)):
            if record.id in target:
                duplicates.append(Duplicate(kind, record, source.location(row)))
                continue
            target[record.id] = record
            rows[record.id] = row
    return target, duplicates, rows


def records_of(table: RecordTable) -> Iterator[Account | Person]:
    """Every row of a record table as an :class:`Account` or :class:`Person`, in file order."""
    return map(RowReader(table).record, range(len(table.table)))


class RowReader:
    """A record table's cells as Python values, made into the record of one row on demand
    (every row by :func:`records_of`, only those asked for by a lazy org)."""

    def __init__(self, table: RecordTable) -> None:
        self.table = table

    @cached_property
    def ids(self) -> list[str]:
        """The id of each row."""
        ids: list[str] = self.table.ids.to_pylist()
        return ids

    @cached_property
    def _core(self) -> dict[str, list[Any]]:
        from kamcore.workspace.tables import ACCOUNT_COLUMNS, PERSON_COLUMNS

        core = ACCOUNT_COLUMNS if self.table.kind == "account" else PERSON_COLUMNS
        return {c: self.column(c) for c in core}

    def column(self, name: str) -> list[Any]:
        """The cells of core field ``name`` by row, as the records hold them (each column
        converted once, when first asked for)."""
        found: list[Any] | None = self._columns.get(name)
        if found is None:
            data = self.table.table
            found = self._columns[name] = (
                self.ids if name == "id" else _shared_cells(data.column(name))
                if name in data.column_names else [None] * data.num_rows)
        return found

    @cached_property
    def _columns(self) -> dict[str, list[Any]]:
        return {}

    def rows_with(self, namespace: str) -> list[int]:
        """The rows with a cell in some ``namespace.*`` column: the only ones whose record
        holds fields of that plugin (see :func:`kamcore.lazyrecords.having_namespace`)."""
        import numpy as np

        data = self.table.table
        prefix = namespace + "."
        found = np.zeros(data.num_rows, dtype=bool)
        for name in self.table.extra_columns:
            if name.startswith(prefix):
                found |= data.column(name).is_valid().to_numpy(zero_copy_only=False)
        rows: list[int] = np.flatnonzero(found).tolist()
        return rows

    @cached_property
    def record(self) -> Callable[[int], Account | Person]:
        """``record(row)``: the row's record (a closure over the columns, for speed)."""
        table = self.table
        data = table.table
        values = self._core
        core = list(values)
        metrics = [(m, data.column(m).to_numpy()) for m in table.metrics]
        extras = [(c, c.partition(".") if "." in c else None, data.column(c).to_pylist())
                  for c in table.extra_columns]
        enum, key = (_TIERS, "tier") if table.kind == "account" else (_ROLES, "role")
        is_account = table.kind == "account"
        columns = [values[c] for c in core]

        def record(row: int) -> Account | Person:
            record: dict[str, Any] = {c: columns[i][row] for i, c in enumerate(core)}
            record[key] = enum[record[key]]
            if is_account:
                record["metrics"] = {m: float(v[row]) for m, v in metrics
                                     if not math.isnan(v[row])}
            elif record["active"] is None:
                record["active"] = True
            ext: dict[str, dict[str, Any]] = {}
            extra: dict[str, str] = {}
            for name, split, cells in extras:
                cell = cells[row]
                if cell is None:
                    continue
                if split is None:
                    extra[name] = cell
                else:
                    ext.setdefault(split[0], {})[split[2]] = cell
            record["ext"], record["extra"] = ext, extra
            return (new_record(Account, record) if is_account
                    else new_record(Person, record))

        return record


def _shared_cells(column: pa.ChunkedArray) -> list[Any]:
    """``column.to_pylist()``; a text column of few distinct values (tier, country, manager,
    parent ...) gives each value's one ``str`` for all its rows: 100,000 rows hold a few
    hundred strings, not 100,000 (the memory a lazy org pays for each column it reads)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_string(column.type) or len(column) < 64:
        cells: list[Any] = column.to_pylist()
        return cells
    encoded = pc.dictionary_encode(column.combine_chunks())
    values = encoded.dictionary
    if len(values) * 2 > len(column):  # mostly distinct (names): nothing to share
        cells = column.to_pylist()
        return cells
    table = np.array([*values.to_pylist(), None], dtype=object)
    codes = encoded.indices.fill_null(len(values)).to_numpy(zero_copy_only=False)
    shared: list[Any] = table[codes].tolist()
    return shared


def tables_from_org(org: Org, *, customer_side: bool = False) -> WorkspaceTables:
    """The tables of an org's records (built in Python, or edited): the other direction.

    Cells go through the same reading rules as files do, so a rule sees one form whichever
    way the org arrived; lines come from where the records were read, when they were.

    :param customer_side: also read contacts.csv and territories.csv of the org's folder (an
        :class:`Org` holds accounts and people only), so an Org and the path of its workspace
        give every command and API function the same findings, coverage and chart.
    :raises RecordErrors: with ``customer_side``, a cell of those files breaks a reading rule
        (as :func:`kamcore.load` and ``kam validate`` refuse the workspace).
    """

    from kamcore.workspace.tables import WorkspaceTables, metric_defs, normalise

    metrics = metric_defs(org.settings, org.registry)
    problems: list[Any] = []
    tables = {}
    pairs: tuple[tuple[str, list[Account | Person], tuple[str, ...]], ...] = (
        ("account", list(org.accounts.values()), _ACCOUNT_CORE),
        ("person", list(org.people.values()), _PERSON_CORE))
    for kind, records, core in pairs:
        extra = [d.record for d in org.duplicates if d.kind == kind]
        raw = _raw_from_records(kind, records + extra, core, _where(org, kind, records),
                                org.layout.get("accounts" if kind == "account" else "people"))
        tables[kind] = normalise(kind, raw, set(metrics) if kind == "account" else set(),
                                 problems)
    result = WorkspaceTables(folder=org.path, settings=org.settings, raw_settings={},
                             storage=org.storage, accounts=tables["account"],
                             people=tables["person"], metrics=metrics, registry=org.registry,
                             problems=problems)
    if customer_side and org.path is not None:
        from kamcore.errors import KamError, RecordErrors
        from kamcore.workspace.tables import OPTIONAL_TABLES, read_optional

        unreadable: list[KamError] = []
        for name in OPTIONAL_TABLES:
            setattr(result, name, read_optional(org.path, name, unreadable))
        if unreadable:
            raise RecordErrors(unreadable)
    return result


def patch_records(tables: WorkspaceTables, records: Mapping[str, list[Account | Person]], *,
                  drop: Mapping[str, set[str]] | None = None,
                  new_columns: bool = False) -> WorkspaceTables:
    """``tables`` with ``records`` (by kind) in place of the rows of their ids (new ones
    appended) and the rows of the ``drop`` ids left out: the cost of those records, not of
    the whole table.

    :param new_columns: keep columns only the new records have (a write must not lose them;
        a validation of the after-side needs only the columns the rules know).
    """
    import dataclasses

    out = {}
    for kind, table, core in (("account", tables.accounts, _ACCOUNT_CORE),
                              ("person", tables.people, _PERSON_CORE)):
        given, gone = list(records.get(kind, ())), (drop or {}).get(kind, set())
        out[kind] = table if not given and not gone else _patched(
            kind, table, given, core, gone, new_columns)
    patched: WorkspaceTables = dataclasses.replace(
        tables, accounts=out["account"], people=out["person"], problems=[])
    patched.__dict__.pop("_index", None)
    return patched


def _patched(kind: str, table: RecordTable, records: list[Account | Person],
             core: tuple[str, ...], drop: set[str], new_columns: bool) -> RecordTable:
    """``table`` with ``records`` in place of the rows of their ids (new ones appended) and
    the rows of the ``drop`` ids left out."""
    import dataclasses

    import numpy as np
    import pyarrow as pa

    from kamcore.structure import row_of
    from kamcore.workspace.tables import normalise

    metrics = set(table.metrics)
    raw = _raw_from_records(kind, records, core, (table.path, lambda: []), table.header)
    fresh = normalise(kind, raw, metrics, [])
    n = len(table)
    at = row_of(table.ids, fresh.ids)
    take = np.arange(n, dtype=np.int64)
    replaced = at >= 0
    take[at[replaced]] = n + np.flatnonzero(replaced)
    added = n + np.flatnonzero(~replaced)
    take = np.concatenate([take, added])
    rows = np.concatenate([table.rows, np.full(len(added), 1 << 40, dtype=table.rows.dtype)])
    if drop:
        import pyarrow.compute as pc

        keep = ~pc.is_in(table.ids, pa.array(sorted(drop), pa.string())).to_numpy(
            zero_copy_only=False)
        keep = np.concatenate([keep, np.ones(len(added), dtype=bool)])
        take, rows = take[keep], rows[keep]
    joined = pa.concat_tables([table.table, fresh.table.select(
        [c for c in fresh.table.column_names if new_columns or c in table.table.column_names
         or c in core])], promote_options="permissive")
    return dataclasses.replace(table, table=joined.take(pa.array(take)), rows=rows)


_ACCOUNT_CORE = ("id", "name", "tier", "parent", "manager", "country", "industry", "currency")
_PERSON_CORE = ("id", "name", "role", "reports_to", "capacity", "email", "active", "specialty")


def _where(org: Org, kind: str, records: list[Account | Person]
           ) -> tuple[Path | None, Callable[[], list[int | None]]]:
    """The file the records came from, and their lines (looked up only when a finding asks)."""
    from pathlib import Path

    first = org.location(kind, records[0].id) if records else None
    path = Path(first.file) if first is not None else None

    def lines() -> list[int | None]:
        found = [org.location(kind, r.id) for r in records]
        found += [d.location for d in org.duplicates if d.kind == kind]
        return [w.line if w is not None and Path(w.file) == path else None for w in found]

    return path, lines


def _raw_from_records(kind: str, records: list[Account | Person], core: tuple[str, ...],
                      where: tuple[Path | None, Callable[[], list[int | None]]],
                      layout: list[str] | None) -> RawTable:
    """Records as text columns, column by column (a dict per record would cost 3x)."""
    import pyarrow as pa

    from kamcore.workspace.tables import RawTable

    columns: dict[str, list[str | None]] = {
        c: [v or None for v in map(attrgetter(c), records)] if c in _TEXT_FIELDS
        else [_text(v) for v in map(attrgetter(c), records)] for c in core}
    if kind == "account":
        import numpy as np
        import pyarrow as pa

        from kamcore.exporters.columns import cell_text

        names = dict.fromkeys(m for r in records if isinstance(r, Account) for m in r.metrics)
        for m in names:
            cells = [r.metrics.get(m) if isinstance(r, Account) else None for r in records]
            if all(v is None or (type(v) is float and v == v) for v in cells):
                # floats (the model's type) formatted vectorised, as _text formats each one
                values = np.array([math.nan if v is None else v for v in cells],
                                  dtype=np.float64)
                columns[m] = [cell or None for cell in
                              cell_text(pa.array(values), len(values)).to_pylist()]
            else:
                columns[m] = [_text(v) for v in cells]
    spaced = dict.fromkeys((ns, k) for r in records for ns, d in r.ext.items() for k in d)
    for ns, k in spaced:
        columns[f"{ns}.{k}"] = [_text(r.ext.get(ns, {}).get(k)) for r in records]
    for k in dict.fromkeys(k for r in records for k in r.extra):
        columns[k] = [_text(r.extra.get(k)) for r in records]
    given = [c for c in (layout or []) if c in columns and (
        c in core or any(v is not None for v in columns[c]))]
    header = given + [c for c in columns if c not in given]
    table = pa.table({c: pa.array(columns[c], pa.string()) for c in header})
    path, lines = where
    return RawTable(path, header, table, lines)


#: Record fields the models type as ``str | None``: their text is the value itself.
_TEXT_FIELDS = frozenset({"id", "name", "parent", "manager", "country", "industry", "currency",
                          "reports_to", "email", "specialty"})


def _text(value: object) -> str | None:
    """One cell as the files would hold it (``None`` for empty)."""
    if value is None or isinstance(value, str):
        return value or None
    return format_cell(getattr(value, "value", value)) or None
