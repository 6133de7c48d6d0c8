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
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.errors import HistoryProblem, KamError, Location, WorkspaceError
from kamcore.models.enums import Role, Tier

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
            extra = f" (and {more} more bad history row(s); kam validate lists them)" if more \
                else ""
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
    from kamcore.workspace.tables import read_csv_file

    path = folder / HISTORY_FILE
    if not path.exists():
        return None
    raw = read_csv_file(path, ("record", "field", "valid_from"))
    return normalise_history(raw)


def normalise_history(raw: RawTable) -> HistoryTable:
    """The reading rules for history rows; a bad row is a located problem and left out."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.workspace.tables import ID_PATTERN, _mask, _trim

    table = raw.table
    n = table.num_rows
    problems: list[HistoryProblem] = [
        HistoryProblem(p.message, rule="KAM180", hint=p.hint, location=p.location)
        for p in raw.problems]
    cols: dict[str, pa.Array] = {}
    for name in HISTORY_COLUMNS:
        if name in table.column_names:
            col = table.column(name).combine_chunks()
            if col.null_count < n:
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
            value = cols[column][row].as_py() if column in cols else None
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
    report(_mask(record.is_valid()) & ~_mask(pc.match_substring_regex(record, ID_PATTERN)),
           "record", "KAM180", "{value!r} is not a valid id", "ids have no commas or line breaks")
    fld = pc.utf8_lower(cols["field"])
    cols["field"] = fld
    known = _mask(pc.is_in(fld, pa.array(list(FIELDS), pa.string())))
    report(~known, "field", "KAM180", "field {value!r} has no history",
           "field is one of " + ", ".join(FIELDS))
    days = {}
    for name in ("valid_from", "valid_to"):
        col = cols[name]
        given = _mask(col.is_valid())
        shaped = _mask(pc.match_substring_regex(col, _DATE))
        parsed = pc.strptime(pc.if_else(pa.array(shaped), col, None), format="%Y-%m-%d",
                             unit="s", error_is_null=True)
        as_days = pc.cast(pc.cast(parsed, pa.date32()), pa.int32())
        ok = _mask(as_days.is_valid())
        report(given & ~ok, name, "KAM181", "{value!r} is not a date",
               "write an ISO date, YYYY-MM-DD (e.g. 2026-07-01), or leave valid_to empty for "
               "'still in force'")
        sentinel = OPEN_START if name == "valid_from" else OPEN_END
        days[name] = np.where(ok, as_days.fill_null(0).to_numpy(zero_copy_only=False),
                              sentinel).astype(np.int64)
    report(days["valid_to"] <= days["valid_from"], "valid_to", "KAM182",
           "valid_to {value} is not after valid_from",
           "a row holds from valid_from (included) to valid_to (excluded): valid_to must be "
           "later; swap them or fix the typo")
    cols["value"] = _values(fld, cols["value"], report)
    keep = filled & ~bad
    rows = np.flatnonzero(keep)
    problems.sort(key=lambda p: (p.location.line or 0) if p.location else 0)
    out = pa.table({
        "record": cols["record"], "field": cols["field"], "value": cols["value"],
        "valid_from": pa.array(days["valid_from"].astype(np.int32)),
        "valid_to": pa.array(days["valid_to"].astype(np.int32)),
        "entry": cols["entry"]})
    if len(rows) != n:
        out = out.take(pa.array(rows))
    return HistoryTable(path=raw.path or Path(HISTORY_FILE), table=out, rows=rows,
                        line_of_row=raw.line_of_row, problems=problems)


def _values(fields: pa.Array, values: pa.Array, report: object) -> pa.Array:
    """Values normalised the way the accounts/people reader normalises each field."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.workspace.tables import FALSE_WORDS, ID_PATTERN, TRUE_WORDS, _mask

    assert callable(report)
    given = _mask(values.is_valid())
    lower = pc.utf8_lower(values)
    out = values

    def is_field(*names: str) -> np.ndarray:
        return _mask(pc.is_in(fields, pa.array(list(names), pa.string())))

    for name, allowed in (("tier", [t.value for t in Tier]), ("role", [r.value for r in Role])):
        mask = is_field(name)
        report(mask & ~_mask(pc.is_in(lower, pa.array(allowed))), "value", "KAM180",
               f"{{value!r}} is not a {name}", f"{name} is one of " + ", ".join(allowed))
        out = pc.if_else(pa.array(mask), lower, out)
    links = is_field("parent", "manager", "reports_to")
    report(links & given & ~_mask(pc.match_substring_regex(values, ID_PATTERN)), "value",
           "KAM180", "{value!r} is not a valid id", "ids have no commas or line breaks")
    flags = is_field("active", "exists")
    yes = _mask(pc.is_in(lower, pa.array(TRUE_WORDS)))
    no = _mask(pc.is_in(lower, pa.array(FALSE_WORDS)))
    report(flags & ~yes & ~no, "value", "KAM180", "{value!r} is not true/false",
           "active and exists are true or false")
    out = pc.if_else(pa.array(flags & yes), "true", pc.if_else(pa.array(flags & no), "false",
                                                               out))
    capacity = is_field("capacity")
    report(capacity & given & ~_mask(pc.match_substring_regex(values, r"^\d{1,15}$")), "value",
           "KAM180", "{value!r} is not a whole number of accounts", "capacity is e.g. 12")
    return out.cast(pa.string())


# -- as of a date ---------------------------------------------------------------------------


@dataclass
class InForce:
    """The history rows in force on one day: one per (record, field), the latest start wins
    where rows overlap (rule KAM164 reports the overlap)."""

    record: pa.Array
    field: pa.Array
    value: pa.Array
    #: Records whose ``exists`` rows exist but none says true that day.
    absent: pa.Array


def in_force(history: HistoryTable, day: int) -> InForce:
    """The value of every (record, field) the history covers on ``day`` (a day number)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    start, end = history.days("valid_from"), history.days("valid_to")
    table = history.table
    covering = np.flatnonzero((start <= day) & (day < end))
    if len(covering):
        # latest start last, then keep the last row of each (record, field)
        order = covering[np.argsort(start[covering], kind="stable")]
        picked = table.take(pa.array(order))
        keys = pc.binary_join_element_wise(picked.column("record"), picked.column("field"),
                                           "\x1f")
        codes = pc.dictionary_encode(keys).combine_chunks().indices.to_numpy(
            zero_copy_only=False)
        last = len(codes) - 1 - np.unique(codes[::-1], return_index=True)[1]
        picked = picked.take(pa.array(np.sort(last)))
    else:
        picked = table.slice(0, 0)
    fields = picked.column("field").combine_chunks()
    exists_rows = pc.equal(table.column("field"), "exists")
    with_exists = pc.unique(table.filter(exists_rows).column("record").combine_chunks())
    present = pc.filter(picked.column("record"), pc.and_(
        pc.equal(fields, "exists"), pc.equal(picked.column("value"), "true"))).combine_chunks()
    absent = pc.filter(with_exists, pc.invert(pc.is_in(with_exists, value_set=present)))
    return InForce(record=picked.column("record").combine_chunks(), field=fields,
                   value=picked.column("value").combine_chunks(), absent=absent)


def apply_history(tables: WorkspaceTables, history: HistoryTable, as_of: date, *,
                  drop_absent: bool = True) -> WorkspaceTables:
    """``tables`` as they were (or will be) on ``as_of``: every history field in force then.

    Columns the history does not touch are shared, not copied. Records whose ``exists`` rows
    do not cover ``as_of`` are left out (with ``drop_absent``), so a person hired next month
    is not in today's tree.
    """
    force = in_force(history, day_number(as_of))
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
    ids = table.ids
    changed = False
    for name, owner in FIELDS.items():
        if owner != kind or name not in data.column_names:
            continue
        mask = pc.equal(force.field, name)
        records = pc.filter(force.record, mask)
        if not len(records):
            continue
        values = pc.filter(force.value, mask)
        rows = row_of(ids, records)
        hit = rows >= 0
        if not hit.any():
            continue
        index = np.arange(n, dtype=np.int64)
        index[rows[hit]] = n + np.flatnonzero(hit)
        column = data.column(name).combine_chunks()
        new = pa.concat_arrays([column, _typed(values, column.type)]).take(pa.array(index))
        data = data.set_column(data.column_names.index(name), name, new)
        changed = True
    keep = None
    if drop_absent and len(force.absent):
        gone = pc.is_in(ids, value_set=force.absent).fill_null(False)
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
    if pa.types.is_integer(to):
        return values.cast(to)
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
                                       table.location(row, name)))
    return out
