"""Dated changes: the history rows a plan writes, and the record files as of today.

A plan is made on the org as of its effective day (``org.as_of``, default today). Applying it
sets, for every (record, field) it touches, the new value from that day until the next change
already recorded for that pair (or for good); a record a change creates exists from that day.
The record files then hold every value in force today, so a change dated in the future leaves
them alone until its day, when reading the workspace puts it in force by itself. The journal
entry keeps the day (``effective``) and each touched pair's rows before and after
(``history``), which is what undo puts back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.changes.plan import Plan, changed_records, changed_tables
from kamcore.errors import ChangeRefused, KamError
from kamcore.wording import plural
from kamcore.workspace.csvio import format_cell
from kamcore.workspace.history import (
    FIELDS,
    HISTORY_COLUMNS,
    HISTORY_FILE,
    OPEN_END,
    OPEN_START,
    HistoryTable,
    day_number,
    day_text,
    parse_date,
    read_history,
    today,
)

if TYPE_CHECKING:
    from kamcore.workspace.tables import RecordTable, WorkspaceTables

Pair = tuple[str, str]


@dataclass
class Row:
    """One history row; days as numbers (open ends as the sentinels)."""

    record: str
    field: str
    value: str | None
    valid_from: int
    valid_to: int
    entry: str | None

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "valid_from": day_text(self.valid_from),
                "valid_to": day_text(self.valid_to), "entry": self.entry}

    @classmethod
    def from_json(cls, record: str, field: str, data: dict[str, Any]) -> Row:
        start, end = data.get("valid_from") or "", data.get("valid_to") or ""
        return cls(record, field, data.get("value"),
                   day_number(parse_date(start)) if start else OPEN_START,
                   day_number(parse_date(end)) if end else OPEN_END, data.get("entry"))


def effective_day(plan: Plan) -> date:
    """The day a plan takes effect: the day its org shows (default today)."""
    return plan.before.as_of or today()


def cell(value: object) -> str | None:
    """A record field's value as history.csv holds it."""
    return format_cell(getattr(value, "value", value)) or None


def history_rows(history: HistoryTable | None) -> list[Row]:
    """Every readable row of a history table, in file order."""
    if history is None:
        return []
    t = history.table
    cols = [t.column(c).to_pylist() for c in HISTORY_COLUMNS]
    return [Row(*values) for values in zip(*cols, strict=True)]


def _set_from(rows: list[Row], day: int, value: str | None, old: str | None, record: str,
              field: str, entry: str, *, new_record: bool) -> list[Row]:
    """``rows`` of one pair with ``value`` in force from ``day`` to the next recorded change."""
    if not rows:  # the pair's first dated change (most of a plan's)
        first = Row(record, field, value, day, OPEN_END, entry)
        return [first] if new_record else [Row(record, field, old, OPEN_START, day, entry), first]
    rows = sorted(rows, key=lambda r: r.valid_from)
    later = [r.valid_from for r in rows if r.valid_from > day]
    end = min(later) if later else OPEN_END
    out: list[Row] = []
    for row in rows:
        if row.valid_from < day:
            out.append(row if row.valid_to <= day else Row(
                row.record, row.field, row.value, row.valid_from, day, row.entry))
        elif row.valid_from >= end:
            out.append(row)
    if not new_record and not any(r.valid_from < day for r in rows):
        out.append(Row(record, field, old, OPEN_START, day, entry))  # what held before
    out.append(Row(record, field, value, day, end, entry))
    return sorted(out, key=lambda r: r.valid_from)


def _existence(rows: list[Row]) -> int | None:
    """The first day a record exists, when its ``exists`` rows say so."""
    starts = [r.valid_from for r in rows if r.field == "exists" and r.value == "true"]
    return min(starts) if starts else None


def new_history(plan: Plan, rows: list[Row], entry: str
                ) -> tuple[dict[Pair, list[Row]], list[dict[str, Any]]]:
    """The rows of every pair the plan touches, and the journal's record of them.

    :raises ChangeRefused: the change is dated before a record it touches existed.
    """
    day = day_number(effective_day(plan))
    by_pair: dict[Pair, list[Row]] = {}
    for row in rows:
        by_pair.setdefault((row.record, row.field), []).append(row)
    changed: dict[Pair, list[Row]] = {}
    if plan.op == "undo" and plan.undoes:
        changed = _undone(plan)
    else:
        for change in plan.changes:
            if change.after is None:
                continue
            new_record = change.before is None
            if new_record:
                changed[(change.id, "exists")] = _set_from(
                    by_pair.get((change.id, "exists"), []), day, "true", None, change.id,
                    "exists", entry, new_record=True)
            start = _existence([r for f in ("exists",) for r in by_pair.get((change.id, f), [])])
            for name, old, new in change.fields():
                owner = FIELDS.get(name)
                if owner not in (change.kind, "any") or new_record:
                    continue
                if start is not None and day < start:
                    raise ChangeRefused(
                        f"{change.kind} {change.id} is changed as of {day_text(day)}, before "
                        f"it existed (history.csv says from {day_text(start)})",
                        hint=f"date the change {day_text(start)} or later (--effective)")
                pair = (change.id, name)
                changed[pair] = _set_from(by_pair.get(pair, []), day, cell(new), cell(old),
                                          change.id, name, entry, new_record=False)
    delta = [{"record": r, "field": f, "before": [x.to_json() for x in by_pair.get((r, f), [])],
              "after": [x.to_json() for x in rows_after]}
             for (r, f), rows_after in changed.items()]
    return changed, delta


def _undone(plan: Plan) -> dict[Pair, list[Row]]:
    """Undo: each pair the undone entry touched gets its rows from before that entry back."""
    from kamcore.changes.journal import load_journal

    assert plan.before.path is not None
    entries = load_journal(plan.before.path).entries  # undo_plan judged the bad lines
    target = next((e for e in entries if e["id"] == plan.undoes), None)
    out: dict[Pair, list[Row]] = {}
    for item in (target or {}).get("history") or []:
        record, field = item["record"], item["field"]
        out[(record, field)] = [Row.from_json(record, field, r) for r in item["before"]]
    return out


def undoes_history(plan: Plan) -> bool:
    """True for an undo of an entry that only dated history rows (``kam history
    --date-edits``): it changes no record, yet has rows to put back."""
    return plan.op == "undo" and bool(plan.undoes) and bool(_undone(plan))


def merged_rows(rows: list[Row], changed: dict[Pair, list[Row]]) -> list[Row]:
    """The whole history: untouched rows in file order, a touched pair's rows where its first
    row was (new pairs at the end), so a change makes a small diff in git."""
    out: list[Row] = []
    placed: set[Pair] = set()
    for row in rows:
        pair = (row.record, row.field)
        if pair not in changed:
            out.append(row)
        elif pair not in placed:
            placed.add(pair)
            out.extend(changed[pair])
    for pair, new_rows in changed.items():
        if pair not in placed:
            out.extend(new_rows)
    return out


def history_table(rows: list[Row], path: Path) -> HistoryTable:
    """Rows as the history reader gives them (for applying before they are written)."""
    import numpy as np
    import pyarrow as pa

    table = pa.table({
        "record": pa.array([r.record for r in rows], pa.string()),
        "field": pa.array([r.field for r in rows], pa.string()),
        "value": pa.array([r.value for r in rows], pa.string()),
        "valid_from": pa.array([r.valid_from for r in rows], pa.int32()),
        "valid_to": pa.array([r.valid_to for r in rows], pa.int32()),
        "entry": pa.array([r.entry for r in rows], pa.string())})
    return HistoryTable(path=path, table=table, rows=np.arange(len(rows)))


def render_history(rows: list[Row]) -> str:
    """history.csv text: the workspace's CSV writer, dates as ISO text."""
    from kamcore.workspace.csvio import render_csv

    return render_csv(HISTORY_COLUMNS, ([r.record, r.field, r.value, day_text(r.valid_from),
                                         day_text(r.valid_to), r.entry] for r in rows))


def dated_files(plan: Plan, folder: Path, entry: dict[str, Any], *,
                written: WorkspaceTables | None = None) -> dict[str, bytes]:
    """Every file the plan writes: history.csv and the record files as of today.

    Adds ``effective`` and ``history`` to the journal ``entry``.

    :param written: the workspace as its files hold it (history not applied), when the
        caller read it under the same lock; else it is read here.
    """
    from kamcore.settings import ACCOUNTS_FILE, CONFIG_FILE, PEOPLE_FILE
    from kamcore.workspace import saver
    from kamcore.workspace.history import apply_history
    from kamcore.workspace.objects import org_from_tables
    from kamcore.workspace.tables import read_workspace

    history = read_history(folder)
    if history is not None:
        history.require_readable()
    rows = history_rows(history)
    changed, delta = new_history(plan, rows, entry["id"])
    entry["effective"] = effective_day(plan).isoformat()
    entry["files_as_of"] = today().isoformat()  # what the record files hold (rule KAM186)
    entry["history"] = delta
    merged = merged_rows(rows, changed)
    if written is None:
        written = read_workspace(folder, registry=plan.before.registry, history=False)
        written.require_readable()
    base = _with_changes(written, plan)
    # the files follow the history for the pairs this plan touches and for those whose value
    # changed since the files were last written (a pending change now in force); a hand edit
    # elsewhere stays as it is (rule KAM186 reports it)
    since, now_day = day_number(files_day(folder)), day_number(today())
    follow = {(c.id, name) for c in plan.changes for name, _, _ in c.fields()}
    follow |= {(r.record, r.field) for r in merged
               if since < r.valid_from <= now_day or since < r.valid_to <= now_day}
    rows_now = [r for r in merged if (r.record, r.field) in follow]
    now = apply_history(base, history_table(rows_now, folder / HISTORY_FILE), today(),
                        drop_absent=False)
    files: dict[str, bytes] = {}
    if now.storage == "inline":
        files[CONFIG_FILE] = saver.render_inline_yaml(org_from_tables(now)).encode("utf-8")
    else:  # written from the tables: the layout they were read with, new columns after it
        metrics = list(now.metrics)
        files[ACCOUNTS_FILE] = saver.render_table(now.accounts, metrics).encode("utf-8")
        files[PEOPLE_FILE] = saver.render_table(now.people).encode("utf-8")
    files[HISTORY_FILE] = render_history(merged).encode("utf-8")
    if any(c.kind == "contact" for c in plan.changes):  # relationships move with the book
        from kamcore.changes.contacts import render_contacts

        name, data = render_contacts(folder, plan.changes)
        files[name] = data
    return {name: data for name, data in files.items() if not _holds(folder / name, data)}


def _holds(path: Path, data: bytes) -> bool:
    """True when ``path`` already holds ``data`` (that file is not rewritten)."""
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def _with_changes(written: WorkspaceTables, plan: Plan) -> WorkspaceTables:
    """The files' tables with the plan's changes, for the cost of the records it changes. A
    change dated after today keeps the dated fields as the files hold them; the history as of
    today then decides every pair it covers.

    A plan made from tables the files still hold (a plan file; no history applied, nothing
    pending) was validated on the very tables this makes (:func:`changed_tables`): those.
    """
    import dataclasses

    from kamcore.workspace.objects import patch_records, records_of
    from kamcore.workspace.tables import same_records

    later = effective_day(plan) > today()
    if plan.tables is not None and not later:
        made_from, made = plan.tables
        if (same_records(written.accounts, made_from.accounts)
                and same_records(written.people, made_from.people)):
            return dataclasses.replace(written, accounts=made.accounts, people=made.people,
                                       problems=[])
    if not later:
        return changed_tables(written, plan.after, plan.changes)
    records, drop = changed_records(plan.after, plan.changes)
    for kind, table in (("account", written.accounts), ("person", written.people)):
        for current in records_of(_rows_of(table, set(records[kind]))):
            keep = {name: getattr(current, name) for name, owner in FIELDS.items()
                    if owner == kind}
            records[kind][current.id] = records[kind][current.id].model_copy(update=keep)
    return patch_records(written, {k: list(v.values()) for k, v in records.items()},
                         drop=drop, new_columns=True)


def _rows_of(table: RecordTable, ids: set[str]) -> RecordTable:
    """The rows of ``table`` whose id is in ``ids``."""
    import dataclasses

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    hit = np.flatnonzero(pc.is_in(table.ids, pa.array(sorted(ids), pa.string()))
                         .to_numpy(zero_copy_only=False))
    return dataclasses.replace(table, table=table.table.take(pa.array(hit)),
                               rows=table.rows[hit])


def pending(entries: list[dict[str, Any]], day: date | None = None) -> list[dict[str, Any]]:
    """Journal entries that take effect after ``day`` (default today) and are not undone."""
    from kamcore.changes.journal import undoable

    when = (day or today()).isoformat()
    return [e for e in undoable(entries) if str(e.get("effective") or "") > when]


def undo_day(folder: str | Path, entry: str | None) -> date | None:
    """The effective day of the entry an undo would reverse (its org is read as of then)."""
    from kamcore.changes.journal import load_journal, undoable

    open_entries = undoable(load_journal(folder).entries)
    target = (open_entries[-1] if open_entries and entry is None
              else next((e for e in open_entries if e["id"] == entry), None))
    if target and isinstance(target.get("effective"), str):
        try:
            return parse_date(target["effective"])
        except Exception:  # a hand-edited journal: undo reads today's org instead
            return None
    return None


def files_day(folder: Path) -> date:
    """The day whose values kam last wrote to the record files (the last journal entry says;
    else today): what rule KAM186 compares the files with."""
    from kamcore.changes.journal import load_journal

    for entry in reversed(load_journal(folder).entries):
        when = entry.get("files_as_of")
        if isinstance(when, str):
            try:
                return parse_date(when)
            except Exception:  # a hand-edited journal: fall back to today
                break
    return today()


def date_edits(folder: Path, effective: date | str | None, *, by: str | None = None,
               reason: str | None = None, write: bool = False,
               registry: Any = None) -> tuple[list[Any], dict[str, Any] | None]:
    """Date the hand edits of accounts.csv / people.csv (rule KAM186): each edited value holds
    from ``effective`` (default today) on. Writes history.csv and a journal entry with
    ``write``; the record files stay as they are.

    :returns: the edits found, and the journal entry (``None`` when nothing was written).
    :raises ChangeRefused: ``effective`` is after today (an edit in the files is in force now).
    """
    from kamcore.changes.txn import workspace_lock
    from kamcore.workspace.history import undated_edits
    from kamcore.workspace.tables import read_workspace

    day = parse_date(effective) if effective is not None else today()
    if day > today():
        raise ChangeRefused(f"hand edits are in the files now: they cannot take effect on "
                            f"{day.isoformat()}, after today",
                            hint="date them today or earlier; plan later changes with kam move "
                            "/ assign ... --effective DATE")
    with workspace_lock(folder):
        tables = read_workspace(folder, registry=registry)
        tables.require_readable()
        if tables.history is None:
            return [], None
        edits = undated_edits(tables, tables.history, files_day(folder))
        if not edits or not write:
            return edits, None
        rows = history_rows(tables.history)
        by_pair = _by_pair(rows)
        number = day_number(day)

        def dated(entry_id: str) -> dict[Pair, list[Row]]:
            return {(e.record, e.field): _set_from(by_pair.get((e.record, e.field), []), number,
                                                   e.written, e.dated, e.record, e.field,
                                                   entry_id, new_record=False) for e in edits}

        entry = _commit_history(folder, rows, dated, {
            "command": f"history --date-edits --effective {day.isoformat()}",
            "op": "date-edits", "args": {"effective": day.isoformat()},
            "effective": day.isoformat(),
            "files_as_of": max(day, files_day(folder)).isoformat()}, by=by, reason=reason)
    return edits, entry


def _by_pair(rows: list[Row]) -> dict[Pair, list[Row]]:
    by_pair: dict[Pair, list[Row]] = {}
    for row in rows:
        by_pair.setdefault((row.record, row.field), []).append(row)
    return by_pair


def _commit_history(folder: Path, rows: list[Row],
                    changed_for: Callable[[str], dict[Pair, list[Row]]], fields: dict[str, Any],
                    *, by: str | None, reason: str | None) -> dict[str, Any]:
    """Write history.csv with the pairs ``changed_for(entry_id)`` gives, and its journal entry
    (record files untouched; call it holding the workspace lock). Undo puts the rows back."""
    import uuid
    from datetime import UTC, datetime

    from kamcore.changes.journal import default_actor, entry_line
    from kamcore.changes.txn import commit

    entry_id = uuid.uuid4().hex[:12]
    changed = changed_for(entry_id)
    by_pair = _by_pair(rows)
    entry: dict[str, Any] = {
        "id": entry_id,
        "time": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "actor": by or default_actor(), "reason": reason or "", "changes": [],
        "files_as_of": files_day(folder).isoformat(), **fields,
        "history": [{"record": r, "field": f,
                     "before": [x.to_json() for x in by_pair.get((r, f), [])],
                     "after": [x.to_json() for x in new]} for (r, f), new in changed.items()]}
    commit(folder, {HISTORY_FILE: render_history(merged_rows(rows, changed)).encode("utf-8")},
           entry_line(entry))
    return entry


def seed_history(folder: Path, seeded: Any, *, by: str | None = None,
                 reason: str | None = None, write: bool = True,
                 registry: Any = None) -> tuple[list[Pair], dict[str, Any] | None]:
    """Write the rows of an import (:mod:`kamcore.importers.history`) to history.csv, for the
    (record, field) pairs that have no history yet; the others are left as they are.

    :returns: the pairs left alone (they had rows), and the journal entry (``None``: nothing
        written).
    :raises KamError: the import has problems (the first is raised, located; nothing written).
    """
    from kamcore.changes.txn import workspace_lock

    if seeded.problems:
        first = seeded.problems[0]
        more = len(seeded.problems) - 1
        raise KamError(first.message + (f" (and {plural(more, 'more problem')} in this file)"
                                        if more else "") + "; nothing was written",
                       location=first.location, hint=first.hint)
    with workspace_lock(folder):
        history = read_history(folder)
        if history is not None:
            history.require_readable()
        rows = history_rows(history)
        present = set(_by_pair(rows))
        kept = [pair for pair in seeded.pairs if pair in present]
        new = {pair: r for pair, r in seeded.pairs.items() if pair not in present}
        if not new or not write:
            return kept, None

        def stamped(entry_id: str) -> dict[Pair, list[Row]]:
            return {pair: [replace(r, entry=entry_id) for r in rows_]
                    for pair, rows_ in new.items()}

        entry = _commit_history(folder, rows, stamped, {
            "command": f"import history {Path(seeded.source).name}", "op": "import-history",
            "args": {"source": Path(seeded.source).name}}, by=by, reason=reason)
    return kept, entry
