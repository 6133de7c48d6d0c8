"""Seeding history.csv from a CRM: Salesforce's AccountHistory, or parent links with validity
dates (SAP's customer hierarchy, KNVH: customer, higher-level customer, valid from, valid to).

Both become rows of history.csv for the workspace's own ids (Salesforce Ids are matched in
their 15-character form, as the Salesforce importer does). Every row that cannot be used is a
located problem: a date that does not parse, a validity that ends before it starts, an account
or person the workspace does not hold (``skip_unknown`` leaves those out and reports them). The
result says what it dated; :func:`kamcore.changes.dated.seed_history` writes it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from kamcore.errors import KamError, Location, WorkspaceError

if TYPE_CHECKING:
    from kamcore.changes.dated import Pair, Row
    from kamcore.workspace.tables import WorkspaceTables

#: AccountHistory's Field values we date, and the field of history.csv each becomes.
SALESFORCE_FIELDS = {"parent": "parent", "parentid": "parent", "owner": "manager",
                     "ownerid": "manager"}
_COLUMNS = {
    "account": ("accountid", "account id", "account.id", "kunnr", "account", "customer"),
    "field": ("field", "field / event", "field/event"),
    "old": ("oldvalue", "old value"),
    "new": ("newvalue", "new value"),
    "date": ("createddate", "created date", "edit date", "date"),
    "parent": ("hkunnr", "parent", "parentid", "higher-level customer"),
    "valid_from": ("datab", "valid_from", "valid from"),
    "valid_to": ("datbi", "valid_to", "valid to"),
}
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")
_SAP = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


@dataclass
class HistoryImport:
    """What an import dates, and what it could not use."""

    source: str
    #: (record, field) -> its rows, oldest first.
    pairs: dict[Pair, list[Row]] = field(default_factory=dict)
    #: Rows left out on purpose, by reason (e.g. other fields of AccountHistory).
    ignored: Counter[str] = field(default_factory=Counter)
    #: Rows that could not be used, each located; any of them stops the import.
    problems: list[KamError] = field(default_factory=list)
    #: Rows about records the workspace does not hold, left out (``skip_unknown``).
    skipped: list[KamError] = field(default_factory=list)

    def field_counts(self) -> dict[str, int]:
        """How many records each field of history.csv gets rows for."""
        return dict(Counter(f for _, f in self.pairs))

    def summary(self) -> dict[str, object]:
        return {"source": self.source, "pairs": len(self.pairs),
                "rows": sum(len(r) for r in self.pairs.values()),
                "fields": self.field_counts(),
                "ignored": dict(self.ignored), "skipped": [str(p) for p in self.skipped]}


def _columns(header: list[str], wanted: tuple[str, ...], path: str) -> dict[str, int]:
    keys = [h.strip().lower() for h in header]
    found: dict[str, int] = {}
    for name in wanted:
        for alias in _COLUMNS[name]:
            if alias in keys:
                found[name] = keys.index(alias)
                break
        else:
            raise WorkspaceError(f"{path} has no {name} column",
                                 location=Location(path, 1), hint="the header needs: " + ", ".join(
                                     _COLUMNS[n][0] for n in wanted))
    return found


def parse_day(text: str) -> date | None:
    """``2024-03-05``, ``2024-03-05T10:22:31.000+0000`` (Salesforce) or ``20240305`` (SAP)."""
    match = _ISO.match(text.strip()) or _SAP.match(text.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


class _Ids:
    """Workspace ids by their Salesforce key (15-character form) or as written."""

    def __init__(self, ids: list[str]) -> None:
        from kamcore.importers.salesforce import id15

        self.exact = set(ids)
        self.by_key: dict[str, str] = {}
        for value in ids:
            try:
                self.by_key.setdefault(id15(value), value)
            except ValueError:
                continue

    def find(self, value: str) -> str | None:
        from kamcore.importers.salesforce import id15

        if value in self.exact:
            return value
        try:
            return self.by_key.get(id15(value))
        except ValueError:
            return None


def _is_sf_id(value: str) -> bool:
    from kamcore.importers.salesforce import id15

    try:
        id15(value)
    except ValueError:
        return False
    return True


def read_salesforce_history(path: str, tables: WorkspaceTables, *,
                            skip_unknown: bool = False) -> HistoryImport:
    """AccountHistory rows of ParentId and OwnerId changes as history rows per account.

    Each change holds from its CreatedDate (its day, UTC) to the next change of that field;
    the first change's OldValue holds before it. Salesforce writes an Owner change twice (names
    and Ids): the Id rows date it, the name rows are counted as ignored.
    """
    from kamcore.importers.csvread import read_export

    table, problems, _ = read_export(path)
    result = HistoryImport(source=path, problems=list(problems))
    col = _columns(table.header, ("account", "field", "old", "new", "date"), path)
    accounts = _Ids(tables.accounts.ids.to_pylist())
    people = _Ids(tables.people.ids.to_pylist())
    changes: dict[Pair, list[tuple[date, int, str | None, str | None]]] = {}
    for line, cells in table.rows:
        where = Location(path, line)
        name = SALESFORCE_FIELDS.get(cells[col["field"]].strip().lower())
        if name is None:
            result.ignored[f"field {cells[col['field']].strip() or '(empty)'}"] += 1
            continue
        old, new = cells[col["old"]].strip(), cells[col["new"]].strip()
        if any(v and not _is_sf_id(v) for v in (old, new)):
            result.ignored["name rows (the Id rows date the change)"] += 1
            continue
        day = parse_day(cells[col["date"]])
        if day is None:
            result.problems.append(KamError(
                f"CreatedDate {cells[col['date']].strip()!r} is not a date", location=where,
                hint="export CreatedDate as Salesforce writes it (2024-03-05T10:22:31.000Z)"))
            continue
        record = accounts.find(cells[col["account"]].strip())
        ids = accounts if name == "parent" else people
        values = [ids.find(v) if v else None for v in (old, new)]
        unknown = ([f"account {cells[col['account']].strip()!r}"] if record is None else []) + [
            f"{'account' if name == 'parent' else 'user'} {v!r}"
            for v, found in zip((old, new), values, strict=True) if v and found is None]
        if unknown:
            problem = KamError(f"{' and '.join(unknown)} not in the workspace", location=where,
                               hint="import those records first, or pass --skip-unknown to "
                               "leave such rows out")
            (result.skipped if skip_unknown else result.problems).append(problem)
            continue
        assert record is not None
        changes.setdefault((record, name), []).append((day, line, values[0], values[1]))
    for (record, name), items in changes.items():
        result.pairs[(record, name)] = _spans(record, name, sorted(items))
    return result


def _spans(record: str, name: str, items: list[tuple[date, int, str | None, str | None]]
           ) -> list[Row]:
    """Consecutive rows from dated changes: the first change's old value before it, each new
    value until the next change (several changes in a day: the day's last one holds)."""
    from kamcore.changes.dated import Row
    from kamcore.workspace.history import OPEN_END, OPEN_START, day_number

    rows = [Row(record, name, items[0][2], OPEN_START, day_number(items[0][0]), None)]
    for day, _, _, new in items:
        start = day_number(day)
        if rows and rows[-1].valid_from == start:
            rows.pop()
        rows[-1:] = [Row(r.record, r.field, r.value, r.valid_from, start, r.entry)
                     for r in rows[-1:]]
        rows.append(Row(record, name, new, start, OPEN_END, None))
    return [r for r in rows if r.valid_to > r.valid_from]


def read_link_validity(path: str, tables: WorkspaceTables, *,
                       skip_unknown: bool = False) -> HistoryImport:
    """Parent links with validity dates (KNVH: KUNNR, HKUNNR, DATAB, DATBI) as parent rows.

    SAP's DATBI is the last day included and 99991231 means open; ISO dates work too. Each
    link holds from valid_from to the day after valid_to.
    """
    from kamcore.changes.dated import Row
    from kamcore.importers.csvread import read_export
    from kamcore.workspace.history import OPEN_END, OPEN_START, day_number

    table, problems, _ = read_export(path)
    result = HistoryImport(source=path, problems=list(problems))
    col = _columns(table.header, ("account", "parent", "valid_from", "valid_to"), path)
    accounts = _Ids(tables.accounts.ids.to_pylist())
    for line, cells in table.rows:
        where = Location(path, line)
        start_text, end_text = cells[col["valid_from"]].strip(), cells[col["valid_to"]].strip()
        start = parse_day(start_text) if start_text else None
        end = parse_day(end_text) if end_text and end_text not in ("99991231",
                                                                  "9999-12-31") else None
        bad = [t for t, d in ((start_text, start), (end_text, end))
               if t and t not in ("99991231", "9999-12-31") and d is None]
        if bad:
            result.problems.append(KamError(f"{bad[0]!r} is not a date", location=where,
                                            hint="YYYYMMDD (SAP) or YYYY-MM-DD"))
            continue
        if start and end and end < start:
            result.problems.append(KamError(f"valid to {end_text} is before valid from "
                                            f"{start_text}", location=where,
                                            hint="swap them or fix the typo"))
            continue
        record = accounts.find(cells[col["account"]].strip())
        parent_text = cells[col["parent"]].strip()
        parent = accounts.find(parent_text) if parent_text else None
        missing = [t for t, f in ((cells[col["account"]].strip(), record),
                                  (parent_text, parent)) if t and f is None]
        if missing:
            problem = KamError(f"account {missing[0]!r} is not in the workspace",
                               location=where, hint="import the accounts first, or pass "
                               "--skip-unknown to leave such rows out")
            (result.skipped if skip_unknown else result.problems).append(problem)
            continue
        assert record is not None
        first = day_number(start) if start else OPEN_START
        last = day_number(end + timedelta(days=1)) if end else OPEN_END
        result.pairs.setdefault((record, "parent"), []).append(
            Row(record, "parent", parent, first, last, None))
    for rows in result.pairs.values():
        rows.sort(key=lambda r: r.valid_from)
    return result
