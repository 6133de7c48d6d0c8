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
    """Manager rows of key-or-above accounts that name nobody, or a person inactive then."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.structure import row_of
    from kamcore.workspace.history import day_text

    history = _history(tables)
    if history is None:
        return
    accounts, _ = _written(tables)
    t = history.table.append_column("row", pa.array(np.arange(len(history))))
    managers = t.filter(pc.equal(t.column("field"), "manager"))
    at = row_of(accounts.ids, managers.column("record").combine_chunks())
    tier = accounts.text("tier").to_numpy(zero_copy_only=False)
    important = np.isin(np.where(at >= 0, tier[np.maximum(at, 0)], "regular"),
                        ["global", "national", "key"]) & (at >= 0)
    managers = managers.filter(pa.array(important))
    empty = managers.filter(pc.is_null(managers.column("value")))
    rows = sorted(empty.column("row").to_pylist())
    inactive = t.filter(pc.and_(pc.equal(t.column("field"), "active"),
                                pc.equal(t.column("value"), "false")))
    joined = managers.filter(pc.is_valid(managers.column("value"))).join(
        inactive.select(["record", "valid_from", "valid_to"]).rename_columns(
            ["value", "off_from", "off_to"]), keys="value", join_type="inner")
    clash = pc.and_(pc.less(joined.column("valid_from"), joined.column("off_to")),
                    pc.less(joined.column("off_from"), joined.column("valid_to")))
    departed = joined.filter(clash)
    gone = dict(zip(departed.column("row").to_pylist(),
                    departed.column("off_from").to_pylist(), strict=False))
    rows = sorted(set(rows) | set(gone))
    start = history.days("valid_from")
    value = history.table.column("value")

    def message(row: int) -> str:
        since = day_text(int(start[row])) or "the start"
        if row in gone:
            return (f"managed by {value[row].as_py()!r} from {since}, who is inactive from "
                    f"{day_text(int(gone[row])) or 'the start'}: no active manager then")
        return f"no manager from {since}: a key-or-above account needs an active manager"

    yield from _say(history, rows, message, "date the hand-over to a successor with "
                    "kam assign --effective DATE", "value")


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
     "A key-or-above account always has an active manager, in the history too."),
    ("KAM186", "undated-change", undated_changes, "warning",
     "accounts.csv and people.csv agree with history.csv (no hand edit left undated)."),
    ("KAM187", "history-before-record", before_existence, "error",
     "No history row is dated before its record existed."),
)
