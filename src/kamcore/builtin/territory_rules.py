"""The territory rules (KAM18x): the third tree, and every account in exactly one territory.

Table-form and vectorised like the core rules; silent for a workspace without territories.csv.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from kamcore.builtin.core_rules import _close_hint, _rows, _say, _valid, loop_violations
from kamcore.registry import Violation
from kamcore.structure import account_index, row_of

if TYPE_CHECKING:
    import numpy as np

    from kamcore.workspace.tables import WorkspaceTables


def duplicate_territories(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np

    from kamcore.structure import first_rows

    table = tables.territories
    if table is None:
        return
    first_row = row_of(table.ids, table.ids)
    for row in np.flatnonzero(~first_rows(table.ids)).tolist():
        first = table.location(int(first_row[row]))
        where = f" (first at {first})" if first else ""
        yield _say(table, row, "id", f"territory id {table.ids[row].as_py()!r} is used "
                   f"again{where}", "give every territory its own id")


def unknown_parents(tables: WorkspaceTables) -> Iterator[Violation]:
    from kamcore.structure import first_rows
    from kamcore.territories import territory_parents

    table = tables.territories
    if table is None:
        return
    cells = table.text("parent")
    wrong = first_rows(table.ids) & _valid(cells) & (territory_parents(tables) < 0)
    for n, row in enumerate(_rows(wrong)):
        parent = cells[row].as_py()
        yield _say(table, row, "parent", f"parent {parent!r} is not a territory here",
                   _close_hint(parent, table.ids, "fix the parent id, or leave it empty for a "
                               "root", n))


def territory_cycles(tables: WorkspaceTables) -> Iterator[Violation]:
    from kamcore.structure import cycles
    from kamcore.territories import territory_parents

    if tables.territories is None:
        return
    yield from loop_violations(tables.territories, cycles(territory_parents(tables))[1],
                               "parent", "territories form a loop: ",
                               "one of these territories must get another parent (or none)")


def unknown_managers(tables: WorkspaceTables) -> Iterator[Violation]:
    table = tables.territories
    if table is None:
        return
    cells = table.text("manager")
    for n, row in enumerate(_rows(_valid(cells) & (row_of(tables.people.ids, cells) < 0))):
        manager = cells[row].as_py()
        yield _say(table, row, "manager", f"manager {manager!r} is not in people.csv",
                   _close_hint(manager, tables.people.ids, "add the person to people.csv or "
                               "fix the id", n))


def unplaced_accounts(tables: WorkspaceTables) -> Iterator[Violation]:
    from kamcore.territories import OVERRIDE_COLUMN, assign

    if tables.territories is None:
        return
    placed = assign(tables).territory
    overridden = _valid(tables.accounts.text(OVERRIDE_COLUMN))
    for row in _rows(account_index(tables).first & (placed < 0) & ~overridden):
        yield _say(tables.accounts, row, None, "account is in no territory: no assignment "
                   "rule matches it", "add a rule under territories: rules: in kam.yaml, or "
                   "set its territory column")


def unknown_overrides(tables: WorkspaceTables) -> Iterator[Violation]:
    from kamcore.territories import OVERRIDE_COLUMN

    if tables.territories is None:
        return
    accounts = tables.accounts
    cells = accounts.text(OVERRIDE_COLUMN)
    wrong = _valid(cells) & (row_of(tables.territories.ids, cells) < 0)
    for n, row in enumerate(_rows(account_index(tables).first & wrong)):
        value = cells[row].as_py()
        yield _say(accounts, row, OVERRIDE_COLUMN, f"territory {value!r} is not in "
                   "territories.csv", _close_hint(value, tables.territories.ids,
                                                  "fix the id, or leave the cell empty to "
                                                  "let the rules decide", n))


def unknown_rule_territories(tables: WorkspaceTables) -> Iterator[Violation]:
    import pyarrow as pa

    from kamcore.errors import Location
    from kamcore.settings import CONFIG_FILE
    from kamcore.territories import rule_label

    if tables.territories is None:
        return
    ids = tables.territories.ids
    for number, rule in enumerate(tables.settings.territories.rules, start=1):
        if row_of(ids, pa.array([rule.territory], pa.string()))[0] < 0:
            where = (Location(str(tables.folder / CONFIG_FILE)) if tables.folder is not None
                     else None)
            yield Violation(None, f"{rule_label(number, rule)} of territories: rules names "
                            f"territory {rule.territory!r}, which is not in territories.csv",
                            _close_hint(rule.territory, ids, "fix the rule's territory", 0),
                            column="territories", location=where)


def manager_outside_territory(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np

    from kamcore.territories import EXCEPTION_COLUMN, assign, territory_parents

    territories = tables.territories
    if territories is None or "territory" not in tables.people.table.column_names:
        return
    index = account_index(tables)
    placed = assign(tables).territory
    home = row_of(territories.ids, tables.people.text("territory"))  # per person
    theirs = np.where(index.manager >= 0, home[np.maximum(index.manager, 0)], -1)
    checked = index.first & (placed >= 0) & (theirs >= 0) & ~_valid(
        tables.accounts.text(EXCEPTION_COLUMN))
    inside = _at_or_below(territory_parents(tables), placed, theirs)
    accounts, people = tables.accounts, tables.people
    for row in _rows(checked & ~inside):
        manager = people.ids[int(index.manager[row])].as_py()
        yield _say(accounts, row, "manager", f"manager {manager!r} works in territory "
                   f"{territories.ids[int(theirs[row])].as_py()!r}, outside the account's "
                   f"territory {territories.ids[int(placed[row])].as_py()!r}",
                   "assign a manager of that territory, or record why in the "
                   f"{EXCEPTION_COLUMN} column")


def _at_or_below(parent: np.ndarray, node: np.ndarray, top: np.ndarray) -> np.ndarray:
    """For each pair, is ``node`` the territory ``top`` or below it? (one numpy pass per level
    of the tree; a loop stops after as many passes as there are territories)"""
    import numpy as np

    current = node.copy()
    found = (current == top) & (current >= 0)
    for _ in range(len(parent)):
        live = current >= 0
        if not live.any():
            break
        current = np.where(live, parent[np.maximum(current, 0)], -1)
        found |= (current == top) & (current >= 0)
    return found


TableCheck = Callable[["WorkspaceTables"], Iterator[Violation]]

#: code, name, check, severity, summary. Codes are stable and never reused.
TERRITORY_RULES: tuple[tuple[str, str, TableCheck, str, str], ...] = (
    ("KAM190", "duplicate-territory-id", duplicate_territories, "error",
     "Every territory id is unique."),
    ("KAM191", "unknown-territory-parent", unknown_parents, "error",
     "A territory's parent exists."),
    ("KAM192", "territory-cycle", territory_cycles, "error", "The territory tree has no loops."),
    ("KAM193", "unknown-territory-manager", unknown_managers, "error",
     "A territory's manager is a person in people.csv."),
    ("KAM194", "account-without-territory", unplaced_accounts, "warning",
     "Every account is in a territory (an override or a matching rule)."),
    ("KAM195", "unknown-territory-override", unknown_overrides, "error",
     "An account's territory column names a territory of territories.csv."),
    ("KAM196", "unknown-rule-territory", unknown_rule_territories, "error",
     "Every assignment rule in kam.yaml names a territory of territories.csv."),
    ("KAM197", "manager-outside-territory", manager_outside_territory, "warning",
     "An account's manager works in its territory (people.csv territory at or above it), or "
     "the account records an exception (territory_exception)."),
)
