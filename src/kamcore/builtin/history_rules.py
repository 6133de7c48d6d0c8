"""Rules over history.csv (KAM18x), registered with the core rules (``core_rules``).

Rows that do not read (KAM180-182) are the reader's located problems, reported here with their
codes; the others run vectorised over the history table: rows about records no file holds,
overlapping validity, a key-or-above account left without an active manager for a while, a
row dated before its record existed, and hand edits of accounts.csv or people.csv that no
history row dates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from kamcore.registry import Violation

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.workspace.history import HistoryTable
    from kamcore.workspace.tables import RecordTable, WorkspaceTables

#: Findings of one rule listed one by one; past this a summary line says how many more.
SHOWN = 200


def _history(tables: WorkspaceTables) -> HistoryTable | None:
    """The workspace's readable history rows, or ``None`` when it has none."""
    history = tables.history
    return history if history is not None and len(history) else None


def _problems(code: str) -> Callable[[WorkspaceTables], Iterator[Violation]]:
    def check(tables: WorkspaceTables) -> Iterator[Violation]:
        history = tables.history
        for problem in history.problems if history is not None else []:
            if problem.rule == code:
                message = problem.message.removeprefix(f"history of {problem.record!r}: ")
                yield Violation(problem.record, message, problem.hint,
                                location=problem.location)
    check.__name__ = f"history_{code.lower()}"
    return check


def _written(tables: WorkspaceTables) -> tuple[RecordTable, RecordTable]:
    return tables.as_written or (tables.accounts, tables.people)


def _kinds(history: HistoryTable) -> np.ndarray:
    """Per row: 0 account field, 1 person field, 2 either (``exists``)."""
    from kamcore.structure import codes
    from kamcore.workspace.history import FIELDS

    order = [name for name, owner in FIELDS.items()]
    owners = {"account": 0, "person": 1, "any": 2}
    import numpy as np

    lookup = np.array([owners[FIELDS[name]] for name in order])
    return np.asarray(lookup[codes(history.table.column("field").combine_chunks(), order)])


def _say(history: HistoryTable, rows: list[int], message: Callable[[int], str], hint: str,
         column: str | None = None) -> Iterator[Violation]:
    records = history.table.column("record")
    for row in rows[:SHOWN]:
        yield Violation(records[row].as_py(), message(row), hint, column=column,
                        location=history.location(row, column))
    if len(rows) > SHOWN:
        yield Violation(None, f"... and {len(rows) - SHOWN} more", hint,
                        location=history.location(rows[SHOWN]))


def unknown_records(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np
    import pyarrow.compute as pc

    history = _history(tables)
    if history is None:
        return
    accounts, people = _written(tables)
    record = history.table.column("record").combine_chunks()
    in_accounts = pc.is_in(record, value_set=accounts.ids).to_numpy(zero_copy_only=False)
    in_people = pc.is_in(record, value_set=people.ids).to_numpy(zero_copy_only=False)
    kind = _kinds(history)
    known = np.where(kind == 0, in_accounts, np.where(kind == 1, in_people,
                                                      in_accounts | in_people))
    nouns = ("account", "person", "account or person")
    yield from _say(history, np.flatnonzero(~known).tolist(),
                    lambda row: f"history row for {nouns[kind[row]]} "
                    f"{record[row].as_py()!r}, which is in no record file",
                    "fix the id, add the record, or remove its history rows", "record")


def _sorted_keys(history: HistoryTable) -> tuple[np.ndarray, np.ndarray]:
    """Rows ordered by (record, field, valid_from), and each row's pair code in that order."""
    import numpy as np
    import pyarrow.compute as pc

    t = history.table
    keys = pc.binary_join_element_wise(t.column("record"), t.column("field"), "\x1f")
    codes = pc.dictionary_encode(keys).combine_chunks().indices.to_numpy(zero_copy_only=False)
    order = np.lexsort((history.days("valid_from"), codes))
    return order, codes[order]


def overlaps(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np

    from kamcore.workspace.history import day_text

    history = _history(tables)
    if history is None:
        return
    order, keys = _sorted_keys(history)
    start, end = history.days("valid_from")[order], history.days("valid_to")[order]
    clash = np.flatnonzero((keys[1:] == keys[:-1]) & (start[1:] < end[:-1]))
    field = history.table.column("field")
    rows = order[clash + 1].tolist()
    earlier = dict(zip(rows, order[clash].tolist(), strict=True))
    yield from _say(history, rows, lambda row: (
        f"{field[row].as_py()} from {day_text(int(history.days('valid_from')[row])) or 'the start'}"
        f" overlaps the row on line {history.line(earlier[row])}, which holds until "
        f"{day_text(int(history.days('valid_to')[earlier[row]])) or 'now'}"),
        "one value at a time: end the earlier row where this one starts", "valid_from")


def before_existence(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.workspace.history import day_text

    history = _history(tables)
    if history is None:
        return
    t = history.table
    born = pc.and_(pc.equal(t.column("field"), "exists"), pc.equal(t.column("value"), "true"))
    starts = t.filter(born).group_by("record").aggregate([("valid_from", "min")])
    if not starts.num_rows:
        return
    from kamcore.structure import row_of

    at = row_of(starts.column("record").combine_chunks(),
                t.column("record").combine_chunks())
    first = np.asarray(starts.column("valid_from_min").to_numpy())
    begin = np.where(at >= 0, first[np.maximum(at, 0)], np.iinfo(np.int64).min)
    early = (at >= 0) & (history.days("valid_from") < begin) & ~np.asarray(
        pc.equal(t.column("field"), pa.scalar("exists")).to_numpy(zero_copy_only=False))
    rows = np.flatnonzero(early).tolist()
    yield from _say(history, rows, lambda row: (
        f"{t.column('field')[row].as_py()} is dated "
        f"{day_text(int(history.days('valid_from')[row])) or 'since always'}, before the "
        f"record existed (from {day_text(int(begin[row]))})"),
        "start the row on or after the day the record exists", "valid_from")


def manager_gaps(tables: WorkspaceTables) -> Iterator[Violation]:
    """Stretches of time in which an account that was key or above (and existed) had no
    active manager: none named, someone who is in no people file, or someone inactive or not
    yet (no longer) there. Tier, manager, the account's life and the person's are each read
    over all time (:mod:`kamcore.workspace.timeline`: history rows, the files' values in the
    gaps); stretches that only the record files make are KAM105's and KAM113's."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.structure import row_of
    from kamcore.workspace.history import OPEN_END, OPEN_START, day_text
    from kamcore.workspace.timeline import overlay, timeline

    history = _history(tables)
    if history is None:
        return
    accounts, people = _written(tables)
    tier, manager, life = (timeline(accounts, history, f) for f in ("tier", "manager", "exists"))
    cut = overlay(tier, manager, life)
    tiers = tier.value.take(pa.array(cut.at[0]))
    named = manager.value.take(pa.array(cut.at[1]))
    alive = pc.equal(life.value.take(pa.array(cut.at[2])), "true").fill_null(False)
    dated = (tier.source[cut.at[0]] >= 0) | (manager.source[cut.at[1]] >= 0) | (
        life.source[cut.at[2]] >= 0)
    counts = pc.and_(pc.is_in(tiers, pa.array(["global", "national", "key"])).fill_null(False),
                     alive).to_numpy(zero_copy_only=False)
    person = row_of(people.ids, named)
    # when each person is away: inactive, or not (yet, any more) in the files' history
    active, there = timeline(people, history, "active"), timeline(people, history, "exists")
    when = overlay(active, there)
    off = pc.equal(active.value.take(pa.array(when.at[0])), "false").fill_null(False)
    gone = pc.equal(there.value.take(pa.array(when.at[1])), "false").fill_null(False)
    away = np.flatnonzero(pc.or_(off, gone).to_numpy(zero_copy_only=False))
    # the stretches away, ordered by person and start, with one sentinel after the last
    # (person -2 matches nobody, not even an unknown manager's -1)
    m = len(away)
    a_row = np.append(when.row[away], -2)
    a_start = np.append(when.start[away], OPEN_END)
    a_end = np.append(when.end[away], OPEN_START)
    a_off = np.append(off.to_numpy(zero_copy_only=False)[away], False)
    by_active = active.source[when.at[0][away]]
    a_source = np.append(np.where(by_active >= 0, by_active, there.source[when.at[1][away]]),
                         -1)
    span = np.int64(1) << np.int64(33)
    start, end = cut.start, cut.end
    j = np.searchsorted(a_row[:m] * span + (a_start[:m] - OPEN_START),
                        person * span + (start - OPEN_START), side="right") - 1
    jj, k = np.where(j >= 0, j, m), j + 1
    at_start = (a_row[jj] == person) & (a_end[jj] > start)
    later = ~at_start & (a_row[k] == person) & (a_start[k] < end)
    leave = np.where(at_start, jj, k)  # the first stretch away within the piece
    nobody = ~_mask(named.is_valid())
    unknown = ~nobody & (person < 0)
    inactive = (person >= 0) & (at_start | later)
    hit = np.flatnonzero(counts & (nobody | unknown | inactive)
                         & (dated | (inactive & (a_source[leave] >= 0))))
    if not len(hit):
        return
    first = np.where(inactive[hit] & later[hit], a_start[leave[hit]], start[hit])
    last = np.where(inactive[hit], np.minimum(end[hit], a_end[leave[hit]]), end[hit])
    sources = a_source[leave[hit]]
    source = np.where(manager.source[cut.at[1][hit]] >= 0, manager.source[cut.at[1][hit]],
                      np.where(inactive[hit] & (sources >= 0), sources,
                               np.where(tier.source[cut.at[0][hit]] >= 0,
                                        tier.source[cut.at[0][hit]],
                                        life.source[cut.at[2][hit]])))
    records, names = accounts.ids, named.to_pylist()
    gaps: list[tuple[int, int, int, str, int]] = []  # account row, from, to, why, source
    for i, h in enumerate(hit.tolist()):
        who = names[h]
        why = ("no manager is named" if nobody[h] else f"{who!r} is in no people file"
               if unknown[h] else f"{who!r} is " + (
                   "inactive then" if a_off[leave[h]] else
                   "not in the org then (history.csv: exists)"))
        row = int(cut.row[h])
        if gaps and gaps[-1][0] == row and gaps[-1][2] == first[i] and gaps[-1][3] == why:
            gaps[-1] = (row, gaps[-1][1], int(last[i]), why, gaps[-1][4])  # one stretch
        else:
            gaps.append((row, int(first[i]), int(last[i]), why, int(source[i])))
    hint = "date the hand-over to a successor with kam assign --effective DATE"
    for row, since, until, why, src in gaps[:SHOWN]:
        span_text = (f"from {day_text(since) or 'the start'}"
                     + (f" to {day_text(until)}" if until != OPEN_END else " on"))
        yield Violation(records[row].as_py(), f"no active manager {span_text}: {why}", hint,
                        column="value" if src >= 0 else None,
                        location=history.location(src, "value") if src >= 0
                        else accounts.location(row, "manager"))
    if len(gaps) > SHOWN:
        yield Violation(None, f"... and {len(gaps) - SHOWN} more stretches without an active "
                        "manager", hint)


def _mask(arr: pa.Array) -> np.ndarray:
    found: np.ndarray = arr.to_numpy(zero_copy_only=False)
    return found


def undated_changes(tables: WorkspaceTables) -> Iterator[Violation]:
    """Values in accounts.csv / people.csv that differ from the history on the day the files
    were last written by kam: a hand edit nobody dated."""
    from kamcore.changes.dated import files_day
    from kamcore.workspace.history import undated_edits

    history = _history(tables)
    if history is None or tables.folder is None:
        return
    edits = undated_edits(tables, history, files_day(tables.folder))
    hint = "date it: kam history ORG --date-edits --effective DATE --apply"
    for edit in edits[:SHOWN]:
        yield Violation(
            edit.record, f"{edit.field} is {edit.written!r} in {edit.file} but history.csv "
            f"says {edit.dated!r}: a change nobody dated", hint,
            column=edit.field, location=edit.location)
    if len(edits) > SHOWN:
        yield Violation(None, f"... and {len(edits) - SHOWN} more undated changes", hint)


HISTORY_RULES = (
    ("KAM180", "history-row-invalid", _problems("KAM180"), "error",
     "Every history.csv row names a record, a field with history and a value it can hold."),
    ("KAM181", "history-date-invalid", _problems("KAM181"), "error",
     "valid_from and valid_to are ISO dates (YYYY-MM-DD) or empty."),
    ("KAM182", "history-ends-before-start", _problems("KAM182"), "error",
     "A history row's valid_to is after its valid_from."),
    ("KAM183", "history-unknown-record", unknown_records, "error",
     "Every history row is about an account or person the files hold."),
    ("KAM184", "history-overlap", overlaps, "error",
     "A record's field holds one value at a time: history rows do not overlap."),
    ("KAM185", "history-manager-gap", manager_gaps, "warning",
     "A key-or-above account has an active manager every day, in the history too."),
    ("KAM186", "undated-change", undated_changes, "warning",
     "accounts.csv and people.csv agree with history.csv (no hand edit left undated)."),
    ("KAM187", "history-before-record", before_existence, "error",
     "No history row is dated before its record existed."),
)
