"""``history.csv``: when each value of a parent, manager, tier, role, capacity or active flag
held, and applying it to the reader's tables as of a date.

One row says: record ``record``'s ``field`` had ``value`` from ``valid_from`` (included; empty:
since always) to ``valid_to`` (excluded; empty: still). ``entry`` names the journal entry that
wrote it. accounts.csv and people.csv keep the values as of the last change; the history says
when each held, so a change dated in the future is in force from its date without anyone
running anything: every command reads the tables as of a date (default today) with
:func:`apply_history`, vectorised (one pass of Arrow kernels and numpy, no object per row).

Rows that break a reading rule (a date that does not parse, ``valid_to`` before
``valid_from``, an unknown field, a value the field cannot hold) are kept aside as located
problems; ``kam validate`` reports them with their codes and the other commands refuse until
they are fixed.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.errors import HistoryProblem, KamError, Location, WorkspaceError
from kamcore.models.enums import Role, Tier
from kamcore.wording import plural

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.workspace.tables import RawTable, RecordTable, WorkspaceTables

HISTORY_FILE = "history.csv"
HISTORY_COLUMNS = ("record", "field", "value", "valid_from", "valid_to", "entry")
#: field -> the kind of record it belongs to (``exists`` belongs to either).
FIELDS = {"parent": "account", "manager": "account", "tier": "account",
          "reports_to": "person", "role": "person", "capacity": "person", "active": "person",
          "exists": "any"}
#: Days since 1970-01-01 standing for an open start or end.
OPEN_START = -(2**31)
OPEN_END = 2**31 - 1
_DATE = r"^\d{4}-\d{2}-\d{2}$"


@dataclass
class HistoryTable:
    """The readable rows of history.csv, normalised.

    :ivar table: ``record``, ``field``, ``value`` (text as the accounts/people reader gives it:
        tiers and roles lower case, ``true``/``false``, null for none), ``valid_from`` and
        ``valid_to`` (int32 days since 1970-01-01; :data:`OPEN_START` / :data:`OPEN_END` when
        empty), ``entry``.
    :ivar rows: for each table row, its index among the file's data rows (for lines).
    """

    path: Path
    table: pa.Table
    rows: np.ndarray
    line_of_row: object = None
    problems: list[HistoryProblem] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def line(self, row: int) -> int | None:
        lines = self._lines()
        data_row = int(self.rows[row])
        return lines[data_row] if data_row < len(lines) else None

    def location(self, row: int, column: str | None = None) -> Location:
        return Location(str(self.path), self.line(row), column)

    def _lines(self) -> list[int | None]:
        cached = self.__dict__.get("_line_cache")
        if cached is None:
            getter = self.line_of_row
            cached = list(getter()) if callable(getter) else []
            self.__dict__["_line_cache"] = cached
        return cached

    def days(self, name: str) -> np.ndarray:
        """``valid_from`` or ``valid_to`` as int64 days (open ends as the sentinels); converted
        once per table."""
        import numpy as np

        cache = self.__dict__.setdefault("_days", {})
        if name not in cache:
            cache[name] = np.asarray(self.table.column(name).to_numpy(), dtype=np.int64)
        days: np.ndarray = cache[name]
        return days

    def require_readable(self) -> None:
        """:raises WorkspaceError: the first bad row, located, with how many more there are."""
        if self.problems:
            first = self.problems[0]
            more = len(self.problems) - 1
            extra = (f" (and {plural(more, 'more bad history row')}; kam validate lists them)"
                     if more else "")
            raise WorkspaceError(first.message + extra, location=first.location,
                                 hint=first.hint)


# -- dates ----------------------------------------------------------------------------------


def today() -> date:
    """The date kam takes as today: ``$KAM_TODAY`` (ISO) when set, else the local date.

    ``KAM_TODAY`` exists for reproducible runs (docs, CI): a pending change is in force from
    its date on, whatever day the run happens.
    """
    given = os.environ.get("KAM_TODAY")
    if given:
        return parse_date(given, what="KAM_TODAY")
    return date.today()


def parse_date(text: str | date, *, what: str = "") -> date:
    """An ISO date (``2026-07-01``). :raises KamError: with an example when it is not one."""
    if isinstance(text, date):
        return text
    try:
        import re

        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            raise ValueError
        return date.fromisoformat(text.strip())
    except ValueError:
        raise KamError(f"{what} {text!r} is not a date".lstrip(),
                       hint="write an ISO date: YYYY-MM-DD, e.g. 2026-07-01") from None


def day_number(when: date) -> int:
    """Days since 1970-01-01 (how the history table holds dates)."""
    return (when - date(1970, 1, 1)).days


def day_text(days: int) -> str:
    """The ISO text of a day number; empty for an open end."""
    if days in (OPEN_START, OPEN_END):
        return ""
    from datetime import timedelta

    return (date(1970, 1, 1) + timedelta(days=int(days))).isoformat()


# -- reading --------------------------------------------------------------------------------


def read_history(folder: Path) -> HistoryTable | None:
    """Read ``folder/history.csv`` with the workspace's CSV reader (``None`` when absent).

    :raises WorkspaceError: the file cannot be read at all, or lacks a required column.
    """
    import pyarrow as pa

    from kamcore.workspace.tables import read_csv_file

    path = folder / HISTORY_FILE
    if not path.exists():
        return None
    raw = read_csv_file(path, ("record", "field", "valid_from"),
                        types={"valid_from": pa.date32(), "valid_to": pa.date32()})
    return normalise_history(raw)


def _bad_id(column: pa.Array) -> np.ndarray:
    """Cells that are not ids: a comma or a line break inside (the cells are trimmed)."""
    import numpy as np
    import pyarrow.compute as pc

    from kamcore.workspace.tables import _mask

    bad = np.zeros(len(column), dtype=bool)
    for char in (",", "\n", "\r"):
        bad |= _mask(pc.match_substring(column, char))
    return bad


def normalise_history(raw: RawTable) -> HistoryTable:
    """The reading rules for history rows; a bad row is a located problem and left out."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.workspace.tables import _mask, _trim

    table = raw.table
    n = table.num_rows
    problems: list[HistoryProblem] = [
        HistoryProblem(p.message, rule="KAM180", hint=p.hint, location=p.location)
        for p in raw.problems]
    cols: dict[str, pa.Array] = {}
    for name in HISTORY_COLUMNS:
        if name in table.column_names:
            col = table.column(name).combine_chunks()
            if pa.types.is_string(col.type) and col.null_count < n:
                col = _trim(col)
                col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        else:
            col = pa.nulls(n, pa.string())
        cols[name] = col
    filled = np.zeros(n, dtype=bool)
    for col in cols.values():
        filled |= _mask(col.is_valid())
    bad = np.zeros(n, dtype=bool)
    lines: list[int | None] = []

    def line_of(row: int) -> int | None:
        if not lines:
            lines.extend(raw.line_of_row())
        return lines[row] if row < len(lines) else None

    def report(mask: np.ndarray, column: str, rule: str, message: str, hint: str) -> None:
        nonlocal bad
        rows = np.flatnonzero(mask & ~bad & filled)
        for row in rows[:200].tolist():
            value = raw.table.column(column)[row].as_py() if column in raw.table.column_names \
                else None
            record = cols["record"][row].as_py()
            text = value if not isinstance(value, str) or len(value) <= 60 else \
                value[:40] + f"... ({len(value):,} characters)"
            who = f"history of {record!r}: " if record else "history row without record: "
            problems.append(HistoryProblem(
                who + message.format(value=text), rule=rule, record=record, hint=hint,
                location=Location(str(raw.path), line_of(row), column)))
        if len(rows) > 200:
            problems.append(HistoryProblem(f"... and {len(rows) - 200} more bad {column!r} "
                                           "cells", rule=rule, location=Location(str(raw.path))))
        bad |= mask & filled

    record = cols["record"]
    report(~_mask(record.is_valid()), "record", "KAM180", "the record id is missing",
           "every history row names the account or person id it is about")
    report(_bad_id(record), "record", "KAM180", "{value!r} is not a valid id",
           "ids have no commas or line breaks")
    # the few distinct field names are checked once, rows carry their index into FIELDS
    encoded = pc.dictionary_encode(pc.utf8_lower(cols["field"]))
    names = encoded.dictionary.to_pylist()
    lookup = np.array([list(FIELDS).index(f) if f in FIELDS else -1 for f in names] + [-1],
                      dtype=np.int8)
    indices = encoded.indices.fill_null(len(names)).to_numpy(zero_copy_only=False)
    field_code = lookup[indices]
    report(field_code < 0, "field", "KAM180", "field {value!r} has no history",
           "field is one of " + ", ".join(FIELDS))
    days = {}
    for name in ("valid_from", "valid_to"):
        col = cols[name]
        sentinel = OPEN_START if name == "valid_from" else OPEN_END
        if pa.types.is_date32(col.type):  # read as dates: every cell parsed
            ok = _mask(col.is_valid())
            as_days = col.cast(pa.int32())
        else:
            given = _mask(col.is_valid())
            shaped = _mask(pc.match_substring_regex(col, _DATE))
            parsed = pc.strptime(pc.if_else(pa.array(shaped), col, None), format="%Y-%m-%d",
                                 unit="s", error_is_null=True)
            as_days = pc.cast(pc.cast(parsed, pa.date32()), pa.int32())
            ok = _mask(as_days.is_valid())
            report(given & ~ok, name, "KAM181", "{value!r} is not a date",
                   "write an ISO date, YYYY-MM-DD (e.g. 2026-07-01), or leave valid_to empty "
                   "for 'still in force'")
        days[name] = np.where(ok, as_days.fill_null(0).to_numpy(zero_copy_only=False),
                              sentinel).astype(np.int64)
    report(days["valid_to"] <= days["valid_from"], "valid_to", "KAM182",
           "valid_to {value} is not after valid_from",
           "a row holds from valid_from (included) to valid_to (excluded): valid_to must be "
           "later; swap them or fix the typo")
    cols["value"] = _values(field_code, cols["value"], report)
    keep = filled & ~bad
    rows = np.flatnonzero(keep)
    problems.sort(key=lambda p: (p.location.line or 0) if p.location else 0)
    fields = pa.DictionaryArray.from_arrays(pa.array(np.maximum(field_code, 0), pa.int8()),
                                            pa.array(list(FIELDS), pa.string()))
    out = pa.table({
        "record": cols["record"], "field": fields.cast(pa.string()), "value": cols["value"],
        "valid_from": pa.array(days["valid_from"].astype(np.int32)),
        "valid_to": pa.array(days["valid_to"].astype(np.int32)),
        "entry": cols["entry"].cast(pa.string())})
    if len(rows) != n:
        out = out.take(pa.array(rows))
    return HistoryTable(path=raw.path or Path(HISTORY_FILE), table=out, rows=rows,
                        line_of_row=raw.line_of_row, problems=problems)


def _values(field_code: np.ndarray, values: pa.Array, report: object) -> pa.Array:
    """Values normalised the way the accounts/people reader normalises each field (only the
    rows of a field are looked at for that field's rule)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.workspace.tables import FALSE_WORDS, TRUE_WORDS, _mask

    assert callable(report)
    codes = list(FIELDS)
    given = _mask(values.is_valid())
    out = values

    def rows_of(*names: str) -> np.ndarray:
        return np.isin(field_code, [codes.index(name) for name in names])

    def lowered(mask: np.ndarray) -> pa.Array:
        """Lower case of the masked cells (null elsewhere): the few enum rows only."""
        picked = np.flatnonzero(mask)
        low = pa.nulls(len(values), pa.string())
        if len(picked):
            index = np.full(len(values), len(picked), dtype=np.int64)
            index[picked] = np.arange(len(picked))
            part = pc.utf8_lower(values.take(pa.array(picked)))
            low = pa.concat_arrays([part, pa.nulls(1, pa.string())]).take(pa.array(index))
        return low

    for name, allowed in (("tier", [t.value for t in Tier]), ("role", [r.value for r in Role])):
        mask = rows_of(name)
        if mask.any():
            lower = lowered(mask)
            report(mask & ~_mask(pc.is_in(lower, pa.array(allowed))), "value", "KAM180",
                   f"{{value!r}} is not a {name}", f"{name} is one of " + ", ".join(allowed))
            out = pc.if_else(pa.array(mask), lower, out)
    links = rows_of("parent", "manager", "reports_to")
    report(links & given & _bad_id(values), "value", "KAM180", "{value!r} is not a valid id",
           "ids have no commas or line breaks")
    flags = rows_of("active", "exists")
    if flags.any():
        lower = lowered(flags)
        yes = _mask(pc.is_in(lower, pa.array(TRUE_WORDS)))
        no = _mask(pc.is_in(lower, pa.array(FALSE_WORDS)))
        report(flags & ~yes & ~no, "value", "KAM180", "{value!r} is not true/false",
               "active and exists are true or false")
        out = pc.if_else(pa.array(flags & yes), "true",
                         pc.if_else(pa.array(flags & no), "false", out))
    capacity = rows_of("capacity")
    if capacity.any():
        report(capacity & given & ~_mask(pc.match_substring_regex(values, r"^\d{1,15}$")),
               "value", "KAM180", "{value!r} is not a whole number of accounts",
               "capacity is e.g. 12")
    return out.cast(pa.string())


# -- as of a day ---------------------------------------------------------------------------


def _keys(history: HistoryTable) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Rows ordered by (record, field, valid_from); each row's record code; the records.

    Worked out once per table: each day then costs a few passes of numpy over the rows.
    """
    cached = history.__dict__.get("_keys")
    if cached is None:
        import numpy as np
        import pyarrow.compute as pc

        from kamcore.structure import codes

        encoded = pc.dictionary_encode(history.table.column("record").combine_chunks())
        record = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        field = codes(history.table.column("field").combine_chunks(), list(FIELDS))
        key = record * len(FIELDS) + field
        order = np.lexsort((history.days("valid_from"), key))
        cached = history.__dict__["_keys"] = (order, record, encoded.dictionary)
    return cached


@dataclass
class InForce:
    """The history rows in force on one day: one per (record, field), the latest start wins
    where rows overlap (rule KAM184 reports the overlap)."""

    history: HistoryTable
    #: The rows in force (indexes into the history table).
    rows: np.ndarray
    #: Records whose ``exists`` rows exist but none says true that day.
    absent: pa.Array

    def _take(self, name: str) -> pa.Array:
        import pyarrow as pa

        return self.history.table.column(name).combine_chunks().take(pa.array(self.rows))

    @property
    def record(self) -> pa.Array:
        return self._take("record")

    @property
    def field(self) -> pa.Array:
        return self._take("field")

    @property
    def value(self) -> pa.Array:
        return self._take("value")


def in_force(history: HistoryTable, day: int, fields: Collection[str] | None = None
             ) -> InForce:
    """The value of every (record, field) the history covers on ``day`` (a day number).

    :param fields: only these fields (``None``: all).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    order, record, records = _keys(history)
    start, end = history.days("valid_from"), history.days("valid_to")
    covering = (start <= day) & (day < end)
    if fields is not None:
        covering &= np.isin(_field_codes(history), [list(FIELDS).index(f) for f in fields])
    rows = order[covering[order]]  # by (record, field, start): the last of each pair wins
    keys = record[rows] * len(FIELDS) + _field_codes(history)[rows]
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = keys[1:] != keys[:-1]
    rows = rows[last]
    absent = pa.array([], pa.string())
    if fields is None or "exists" in fields:
        codes_ = _field_codes(history)
        exists = codes_ == list(FIELDS).index("exists")
        if exists.any():
            value = history.table.column("value").combine_chunks()
            born = np.zeros(len(records), dtype=bool)
            born[record[exists]] = True
            alive = np.zeros(len(records), dtype=bool)
            live = rows[codes_[rows] == list(FIELDS).index("exists")]
            live = live[pc.equal(value.take(pa.array(live)), "true").fill_null(False)
                        .to_numpy(zero_copy_only=False)] if len(live) else live
            alive[record[live]] = True
            absent = records.filter(pa.array(born & ~alive))
    return InForce(history=history, rows=rows, absent=absent)


def _field_codes(history: HistoryTable) -> np.ndarray:
    cached = history.__dict__.get("_field_codes")
    if cached is None:
        from kamcore.structure import codes

        cached = history.__dict__["_field_codes"] = codes(
            history.table.column("field").combine_chunks(), list(FIELDS))
    return cached


def links_in_force(history: HistoryTable, field: str, day: int, ids: pa.Array
                   ) -> tuple[np.ndarray, np.ndarray]:
    """For a link field (``parent``, ``manager``, ``reports_to``) on ``day``: the rows of
    ``ids`` the history covers, and the row of ``ids`` each one's value names (-1: none, or
    not among ``ids``). Ids are looked up once per history and ``ids``: each further day is
    numpy alone (an as-was rollup asks for one tree per period)."""
    import numpy as np
    import pyarrow.compute as pc

    rows = in_force(history, day, (field,)).rows
    _, record, records = _keys(history)
    cache = history.__dict__.setdefault("_links", {})
    entry = cache.get("ids")
    if entry is None or entry[0] is not ids:
        from kamcore.structure import row_of

        values = pc.dictionary_encode(history.table.column("value").combine_chunks())
        codes_ = values.indices.fill_null(len(values.dictionary)).to_numpy(
            zero_copy_only=False).astype(np.int64)
        to_row = np.append(row_of(ids, values.dictionary), -1)  # a null value: no link
        entry = cache["ids"] = (ids, row_of(ids, records), to_row[codes_])
    _, record_row, value_row = entry
    at = record_row[record[rows]]
    keep = at >= 0
    return at[keep], value_row[rows][keep]


def apply_history(tables: WorkspaceTables, history: HistoryTable, as_of: date, *,
                  drop_absent: bool = True,
                  fields: Collection[str] | None = None) -> WorkspaceTables:
    """``tables`` as they were (or will be) on ``as_of``: every history field in force then.

    Columns the history does not touch are shared, not copied. Records whose ``exists`` rows
    do not cover ``as_of`` are left out (with ``drop_absent``), so a person hired next month
    is not in today's tree.

    :param fields: apply only these fields (``None``: all), e.g. ``["parent"]`` for a tree.
    """
    force = in_force(history, day_number(as_of), fields)
    accounts = _apply_to(tables.accounts, force, drop_absent)
    people = _apply_to(tables.people, force, drop_absent)
    return replace(tables, accounts=accounts, people=people)


def _apply_to(table: RecordTable, force: InForce, drop_absent: bool) -> RecordTable:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.structure import row_of

    kind = table.kind
    data = table.table
    n = data.num_rows
    history = force.history
    _, record, records = _keys(history)
    rows = force.rows
    codes_ = _field_codes(history)[rows]
    target = row_of(table.ids, records)  # record code -> row of this table (-1: none)
    at = target[record[rows]]
    value = history.table.column("value").combine_chunks()
    changed = False
    for code, (name, owner) in enumerate(FIELDS.items()):
        if owner != kind or name not in data.column_names:
            continue
        hit = np.flatnonzero((codes_ == code) & (at >= 0))
        if not len(hit):
            continue
        index = np.arange(n, dtype=np.int64)
        index[at[hit]] = n + np.arange(len(hit))
        column = data.column(name).combine_chunks()
        values = _typed(value.take(pa.array(rows[hit])), column.type)
        new = pa.concat_arrays([column, values]).take(pa.array(index))
        data = data.set_column(data.column_names.index(name), name, new)
        changed = True
    keep = None
    if drop_absent and len(force.absent):
        gone = pc.is_in(table.ids, value_set=force.absent).fill_null(False)
        if pc.any(gone).as_py():
            keep = ~gone.to_numpy(zero_copy_only=False)
    if keep is not None:
        data = data.filter(pa.array(keep))
        return replace(table, table=data, rows=table.rows[keep])
    return replace(table, table=data) if changed else table


def _typed(values: pa.Array, to: pa.DataType) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(to):
        return pc.equal(values, "true")
    return values.cast(to)


def read_as_of(tables: WorkspaceTables, as_of: date | str | None) -> WorkspaceTables:
    """The freshly read ``tables`` with history.csv read and applied as of ``as_of`` (default
    today). Bad history rows are kept in ``tables.history.problems``; the good ones apply."""
    day = parse_date(as_of) if as_of is not None else today()
    history = read_history(tables.folder) if tables.folder is not None else None
    if history is None:
        return replace(tables, as_of=day)
    shown = apply_history(tables, history, day)
    shown.history, shown.as_of = history, day
    shown.as_written = (tables.accounts, tables.people)
    return shown


@dataclass(frozen=True)
class UndatedEdit:
    """A value the record files hold that the history does not date (a hand edit)."""

    kind: str
    record: str
    field: str
    written: str | None
    dated: str | None
    file: str
    location: Location | None


def undated_edits(tables: WorkspaceTables, history: HistoryTable, day: date
                  ) -> list[UndatedEdit]:
    """Every (record, field) whose value in the files differs from the history on ``day``
    (the day kam last wrote the files)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.structure import row_of

    force = in_force(history, day_number(day))
    out: list[UndatedEdit] = []
    for table in tables.as_written or (tables.accounts, tables.people):
        for name, owner in FIELDS.items():
            if owner != table.kind or name not in table.table.column_names:
                continue
            mask = pc.equal(force.field, name)
            records = pc.filter(force.record, mask)
            if not len(records):
                continue
            rows = row_of(table.ids, records)
            hit = rows >= 0
            column = table.table.column(name).combine_chunks()
            if pa.types.is_boolean(column.type):
                column = pc.if_else(column, "true", "false")
            found = column.cast(pa.string()).take(pa.array(rows[hit]))
            wanted = pc.filter(pc.filter(force.value, mask), pa.array(hit))
            same = pc.or_(pc.equal(found, wanted).fill_null(False),
                          pc.and_(pc.is_null(found), pc.is_null(wanted)))
            for i in pc.indices_nonzero(pc.invert(same)).to_pylist():
                row = int(rows[hit][i])
                out.append(UndatedEdit(table.kind, table.ids[row].as_py(), name,
                                       found[i].as_py(), wanted[i].as_py(),
                                       table.path.name if table.path else "",
                                       # lines only for the few a message shows
                                       table.location(row, name) if len(out) < 1000 else None))
    return out
