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
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
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

    ``KAM_TODAY`` is for users (docs/time.md, "Today"): reproducible reports and tests. Every
    business "today" goes through here (as-of reads, effective dates, pending changes, stale
    contacts); clock times (journal entries, reports) do not.
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


@lru_cache(maxsize=4096)
def day_text(days: int) -> str:
    """The ISO text of a day number; empty for an open end. Remembered: a plan's 24,000
    history rows hold a handful of days (and each is written twice: history.csv, journal)."""
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
    coded: dict[str, tuple[np.ndarray, pa.Array]] = {}
    for name in HISTORY_COLUMNS:
        if name in table.column_names:
            col = table.column(name).combine_chunks()
            if name in ("record", "field", "value") and pa.types.is_string(col.type):
                col, *pair = _clean(col)  # a million cells, a few thousand distinct ones
                coded[name] = (pair[0], pair[1])
            elif pa.types.is_string(col.type) and col.null_count < n:
                col = _trim(col)
                empty = pc.equal(pc.binary_length(col), 0)  # offsets only: no string compare
                if pc.any(empty).as_py():
                    col = pc.if_else(empty, pa.scalar(None, pa.string()), col)
        else:
            col = pa.nulls(n, pa.string())
        cols[name] = col
        if name in ("record", "field", "value") and name not in coded:
            coded[name] = _encode(col)
    # a row with a cell: one column without nulls (every row has a record) says all do
    filled = np.ones(n, dtype=bool)
    if all(col.null_count for col in cols.values()):
        filled[:] = False
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
        if not mask.any():
            return
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

    record_code, records = coded["record"]
    report(record_code < 0, "record", "KAM180", "the record id is missing",
           "every history row names the account or person id it is about")
    report(_bad_code(record_code, records), "record", "KAM180", "{value!r} is not a valid id",
           "ids have no commas or line breaks")
    # the few distinct field names are checked once, rows carry their index into FIELDS
    written_code, written = coded["field"]
    names = [name.lower() for name in written.to_pylist()]
    lookup = np.array([list(FIELDS).index(f) if f in FIELDS else -1 for f in names] + [-1],
                      dtype=np.int8)
    field_code = lookup[written_code]  # code -1 (no field) picks the last: -1
    report(field_code < 0, "field", "KAM180", "field {value!r} has no history",
           "field is one of " + ", ".join(FIELDS))
    days = {}
    for name in ("valid_from", "valid_to"):
        col = cols[name]
        sentinel = OPEN_START if name == "valid_from" else OPEN_END
        if pa.types.is_date32(col.type):  # read as dates: every cell parsed
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
        # an empty cell is an open end; a bad one is reported above and its row left out
        days[name] = as_days.fill_null(sentinel).to_numpy(zero_copy_only=False)  # int32
    report(days["valid_to"] <= days["valid_from"], "valid_to", "KAM182",
           "valid_to {value} is not after valid_from",
           "a row holds from valid_from (included) to valid_to (excluded): valid_to must be "
           "later; swap them or fix the typo")
    value_code, value_dict = coded["value"]
    cols["value"] = _values(field_code, cols["value"], (value_code, value_dict), report)
    keep = filled & ~bad
    rows = np.flatnonzero(keep) if not keep.all() else np.arange(n)
    problems.sort(key=lambda p: (p.location.line or 0) if p.location else 0)
    if names == written.to_pylist() and set(names) <= set(FIELDS):
        field_column = cols["field"]  # written as kam writes them: nothing to rewrite
    else:
        field_column = pa.array(list(FIELDS), pa.string()).take(
            pa.array(np.maximum(field_code, 0)))
    out = pa.table({
        "record": cols["record"], "field": field_column, "value": cols["value"],
        "valid_from": pa.array(days["valid_from"], pa.int32()),
        "valid_to": pa.array(days["valid_to"], pa.int32()),
        "entry": cols["entry"].cast(pa.string())})
    if len(rows) != n:
        out = out.take(pa.array(rows))
        field_code, record_code = field_code[rows], record_code[rows]
    history = HistoryTable(path=raw.path or Path(HISTORY_FILE), table=out, rows=rows,
                           line_of_row=raw.line_of_row, problems=problems)
    # worked out here already: kept for the day lookups (:func:`_keys`, :func:`_field_codes`)
    history.__dict__["_field_codes"] = field_code
    history.__dict__["_record_codes"] = (record_code, records)
    # the link fields' values are ids as read (only tiers, roles and flags are rewritten)
    history.__dict__["_link_codes"] = (value_code[rows] if len(rows) != n else value_code,
                                       value_dict)
    return history


def _encode(column: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Each cell's code in the distinct values (-1: null), and the distinct values: checks of
    ids run once per distinct id, not once per row.

    A column of runs of equal cells (a record's rows together, a field's) hashes the first
    cell of each run only: comparing neighbours is a few times quicker than hashing.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(column)
    heads = None
    if n > 1 << 12:
        sample = column.slice(0, 1 << 12)
        if pc.sum(pc.not_equal(sample.slice(1), sample.slice(0, len(sample) - 1))
                  .fill_null(True)).as_py() < len(sample) // 2:
            change = pc.not_equal(column.slice(1), column.slice(0, n - 1)).fill_null(True)
            heads = np.flatnonzero(np.append(True, change.to_numpy(zero_copy_only=False)))
    if heads is None or len(heads) > n // 2:
        encoded = pc.dictionary_encode(column)
        code = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return code, encoded.dictionary
    # a dictionary lists values in order of first appearance: the heads' is the column's
    encoded = pc.dictionary_encode(column.take(pa.array(heads)))
    code = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.repeat(code, np.diff(np.append(heads, n))), encoded.dictionary


def _clean(column: pa.Array) -> tuple[pa.Array, np.ndarray, pa.Array]:
    """A text column trimmed, empty cells null (the reading rules), with :func:`_encode`'s
    codes. The rules run on the distinct values first: a column that is clean already (as kam
    writes it) is kept as it is, not copied cell by cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.workspace.tables import _trim

    code, values = _encode(column)
    if len(values) and (pc.any(pc.equal(pc.binary_length(values), 0)).as_py()
                        or not pc.all(pc.equal(_trim(values), values)).as_py()):
        column = _trim(column)
        empty = pc.equal(pc.binary_length(column), 0)
        column = pc.if_else(empty, pa.scalar(None, pa.string()), column)
        code, values = _encode(column)
    return column, code, values


def _bad_code(code: np.ndarray, values: pa.Array) -> np.ndarray:
    """Rows whose coded value is not an id (:func:`_bad_id` over the distinct values)."""
    import numpy as np

    bad = _bad_id(values)
    if not bad.any():  # the usual case: no gather over a million rows
        return np.zeros(len(code), dtype=bool)
    return np.append(bad, False)[code]


def _values(field_code: np.ndarray, values: pa.Array,
            coded: tuple[np.ndarray, pa.Array], report: object) -> pa.Array:
    """Values normalised the way the accounts/people reader normalises each field (only the
    rows of a field are looked at for that field's rule)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.workspace.tables import FALSE_WORDS, TRUE_WORDS, _mask

    assert callable(report)
    codes = list(FIELDS)
    out = values
    present = np.bincount(field_code.astype(np.int64) + 1, minlength=len(codes) + 1)[1:]

    def rows_of(*names: str) -> np.ndarray:
        pick = np.zeros(len(codes) + 1, dtype=bool)  # the last stands for no field (-1)
        pick[[codes.index(name) for name in names]] = True
        if not pick[:-1][present > 0].any():  # no row of these fields: no pass over the rows
            return np.zeros(len(field_code), dtype=bool)
        picked: np.ndarray = pick[field_code]
        return picked

    def given() -> np.ndarray:
        return _mask(values.is_valid())

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
    bad_ids = _bad_code(*coded)
    if bad_ids.any():
        report(rows_of("parent", "manager", "reports_to") & given() & bad_ids, "value",
               "KAM180", "{value!r} is not a valid id", "ids have no commas or line breaks")
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
        report(capacity & given() & ~_mask(pc.match_substring_regex(values, r"^\d{1,15}$")),
               "value", "KAM180", "{value!r} is not a whole number of accounts",
               "capacity is e.g. 12")
    return out.cast(pa.string())


# -- as of a day ---------------------------------------------------------------------------


def _keys(history: HistoryTable) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Rows ordered by (field, record, valid_from, row); each row's record code; the records.

    Worked out once per table: each day then costs a few passes of numpy over the rows of the
    fields it asks for (:func:`_runs`). The four keys are packed into one int64 where they fit
    (one argsort: several times faster than a lexsort of a million rows), a lexsort otherwise.
    Field first, so that each field's rows are one slice of the order.
    """
    cached = history.__dict__.get("_keys")
    if cached is None:
        import numpy as np

        record, records = _record_codes(history)
        field = _field_codes(history)
        field = np.where(field >= 0, field, len(FIELDS))  # no field: after every field's run
        start = history.days("valid_from")
        n = len(record)
        dated = start != OPEN_START
        low = int(start[dated].min()) if dated.any() else 0
        step = np.where(dated, start - low + 1, 0)  # an open start first
        bits = [max(1, int(x).bit_length()) for x in
                (len(FIELDS), len(records), int(step.max()) if n else 0, n)]
        if sum(bits) <= 63:
            key = field.astype(np.int64)
            for part, width in ((record, bits[1]), (step, bits[2]),
                                (np.arange(n, dtype=np.int64), bits[3])):
                key = (key << width) | part
            # a file kam wrote, or one sorted by record, is runs of rows already in order:
            # timsort (stable) merges runs; on shuffled rows numpy's vectorised sort of the
            # keys themselves wins (the row is their low bits), several times an argsort
            if np.count_nonzero(key[1:] < key[:-1]) < n // 32:
                order = np.argsort(key, kind="stable")
            else:
                order = np.sort(key) & ((1 << bits[3]) - 1)
        else:  # pragma: no cover - dates millennia apart over billions of rows
            order = np.lexsort((np.arange(n), start, record, field))
        cached = history.__dict__["_keys"] = (order, record, records)
    return cached


def _record_codes(history: HistoryTable) -> tuple[np.ndarray, pa.Array]:
    """Each row's record code, and the distinct records (from the reader when it ran)."""
    cached = history.__dict__.get("_record_codes")
    if cached is None:
        cached = history.__dict__["_record_codes"] = _encode(
            history.table.column("record").combine_chunks())
    return cached


@dataclass
class _Runs:
    """The rows in the order of :func:`_keys` with what a day looks at, as plain arrays: the
    rows of field ``f`` (its index in :data:`FIELDS`) are ``bounds[f]:bounds[f + 1]``."""

    order: np.ndarray
    start: np.ndarray
    end: np.ndarray
    #: (record, field) of each row, as one number: rows of one pair are neighbours.
    pair: np.ndarray
    bounds: np.ndarray

    def span(self, fields: Collection[str] | None) -> list[tuple[int, int]]:
        """The slices of ``fields`` (``None``: all), neighbouring ones joined."""
        names = list(FIELDS)
        codes_ = range(len(names)) if fields is None else sorted(names.index(f) for f in fields)
        out: list[tuple[int, int]] = []
        for code in codes_:
            lo, hi = int(self.bounds[code]), int(self.bounds[code + 1])
            if out and out[-1][1] == lo:
                out[-1] = (out[-1][0], hi)
            elif hi > lo:
                out.append((lo, hi))
        return out


def _runs(history: HistoryTable) -> _Runs:
    cached = history.__dict__.get("_runs")
    if cached is None:
        import numpy as np

        order, record, _ = _keys(history)
        field = _field_codes(history)[order]
        bounds = np.searchsorted(np.where(field >= 0, field, len(FIELDS)),
                                 np.arange(len(FIELDS) + 1))
        cached = history.__dict__["_runs"] = _Runs(
            order, history.days("valid_from")[order], history.days("valid_to")[order],
            record[order] * len(FIELDS) + field, bounds)
    runs: _Runs = cached
    return runs


@dataclass
class InForce:
    """The history rows in force on one day: one per (record, field), the latest start wins
    where rows overlap (rule KAM184 reports the overlap)."""

    history: HistoryTable
    #: The rows in force (indexes into the history table), by field, then record.
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

    runs = _runs(history)
    parts = []
    for lo, hi in runs.span(fields):  # each field's rows are a slice: scan only those
        covering = np.flatnonzero((runs.start[lo:hi] <= day) & (day < runs.end[lo:hi])) + lo
        pairs = runs.pair[covering]  # by (field, record, start): the last row of a pair wins
        last = np.ones(len(covering), dtype=bool)
        last[:-1] = pairs[1:] != pairs[:-1]
        parts.append(runs.order[covering[last]])
    rows = parts[0] if len(parts) == 1 else np.concatenate([np.zeros(0, np.int64), *parts])
    absent = pa.array([], pa.string())
    code = list(FIELDS).index("exists")
    lo, hi = int(runs.bounds[code]), int(runs.bounds[code + 1])
    if (fields is None or "exists" in fields) and hi > lo:
        _, record, records = _keys(history)
        value = history.table.column("value").combine_chunks()
        born = np.zeros(len(records), dtype=bool)
        born[record[runs.order[lo:hi]]] = True
        alive = np.zeros(len(records), dtype=bool)
        live = rows[_field_codes(history)[rows] == code]
        live = live[pc.equal(value.take(pa.array(live)), "true").fill_null(False)
                    .to_numpy(zero_copy_only=False)] if len(live) else live
        alive[record[live]] = True
        absent = records.filter(pa.array(born & ~alive))
    return InForce(history=history, rows=rows, absent=absent)


def _field_run(history: HistoryTable, name: str
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One field's rows by (record, start, row), with their starts, ends and (record, field)
    keys in that order (views of :func:`_runs`, not copies)."""
    runs = _runs(history)
    code = list(FIELDS).index(name)
    lo, hi = int(runs.bounds[code]), int(runs.bounds[code + 1])
    return runs.order[lo:hi], runs.start[lo:hi], runs.end[lo:hi], runs.pair[lo:hi]


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

    rows = in_force(history, day, (field,)).rows
    _, record, _ = _keys(history)
    at = _record_rows(history, ids)[record[rows]]
    keep = at >= 0
    return at[keep], _value_rows(history, ids)[rows[keep]]


def _record_rows(history: HistoryTable, ids: pa.Array) -> np.ndarray:
    """Each record code's row in ``ids`` (-1: none). Looked up once per history and id column:
    the tables as of a day, their links and every period's tree share it."""
    def rows() -> np.ndarray:
        from kamcore.structure import row_of

        return row_of(ids, _keys(history)[2])

    return _lookup(history, "_record_rows", ids, rows)


def _value_rows(history: HistoryTable, ids: pa.Array) -> np.ndarray:
    """Each history row's value as a row of ``ids`` (-1: none, or a value that is no id)."""
    def rows() -> np.ndarray:
        import numpy as np

        from kamcore.structure import row_of

        codes_, values = history.__dict__.get("_link_codes") or _encode(
            history.table.column("value").combine_chunks())
        return np.append(row_of(ids, values), -1)[codes_]  # a null value (code -1): no link

    return _lookup(history, "_value_rows", ids, rows)


def _lookup(history: HistoryTable, name: str, ids: pa.Array, make: Callable[[], np.ndarray]
            ) -> np.ndarray:
    """``make()``, a lookup into ``ids``, cached on the history under ``name``. The same ids in
    another array (the tables as of a day hold a copy of the files' id column) count as the
    same: comparing them is a memory compare, looking them up is hashing."""
    cache: list[tuple[pa.Array, np.ndarray]] = history.__dict__.setdefault(name, [])
    for seen, found in cache:
        if seen is ids or (len(seen) == len(ids) and seen.equals(ids)):
            return found
    found = make()
    cache.append((ids, found))
    return found


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

    kind = table.kind
    data = table.table
    n = data.num_rows
    history = force.history
    _, record, _ = _keys(history)
    rows = force.rows
    codes_ = _field_codes(history)[rows]
    fields = [code for code, (name, owner) in enumerate(FIELDS.items())
              if owner == kind and name in data.column_names]
    if fields and np.isin(codes_, fields).any():  # else no lookup of this table's ids
        at = _record_rows(history, table.ids)[record[rows]]  # -1: not a record of this table
    else:
        fields = []
    value = history.table.column("value").combine_chunks()
    changed = False
    for code in fields:
        name = list(FIELDS)[code]
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
