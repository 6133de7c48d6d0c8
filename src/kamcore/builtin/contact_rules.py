"""The contact rules (KAM16x): the customer's people, checked against both trees.

Table-form like the core rules: vectorised over contacts.csv as the reader gives it
(:class:`kamcore.structure.ContactIndex` links each row to its account, owner and boss), so
three million contacts cost a few numpy passes. Every rule is silent for a workspace without
contacts.csv.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from kamcore.builtin.core_rules import _close_hint, _rows, _say, _valid
from kamcore.models.enums import DECISION_MAKER, Tier
from kamcore.registry import Violation
from kamcore.structure import TIER_ORDER, account_index, contact_index

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.structure import ContactIndex
    from kamcore.workspace.tables import WorkspaceTables


def _index(tables: WorkspaceTables) -> ContactIndex | None:
    return contact_index(tables) if tables.contacts is not None else None


def duplicate_contacts(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np

    if (index := _index(tables)) is None:
        return
    table = index.contacts
    first_row = index.first_row
    for row in np.flatnonzero(~index.first).tolist():
        first = table.location(int(first_row[row]))
        where = f" (first at {first})" if first else ""
        yield _say(table, row, "id", f"contact id {table.ids[row].as_py()!r} is used "
                   f"again{where}", "give every contact its own id")


def unknown_accounts(tables: WorkspaceTables) -> Iterator[Violation]:
    if (index := _index(tables)) is None:
        return
    yield from _unknown(index, index.account, "account", "account {!r} is not in accounts.csv",
                        tables.accounts.ids, "fix the account id, or add the account")


def _unknown(index: ContactIndex, linked: np.ndarray, column: str, message: str,
             known: pa.Array | pa.ChunkedArray, default: str) -> Iterator[Violation]:
    """Contacts whose ``column`` names an id that ``known`` lacks (``linked`` < 0)."""
    table = index.contacts
    cells = index.cells(column)
    for n, row in enumerate(_rows(index.first & _valid(cells) & (linked < 0))):
        wanted = cells[row].as_py()
        yield _say(table, row, column, message.format(wanted),
                   _close_hint(wanted, known, default, n))


def unknown_roles(tables: WorkspaceTables) -> Iterator[Violation]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if (index := _index(tables)) is None:
        return
    table = index.contacts
    known = (tables.registry.contact_roles if tables.registry is not None
             else dict.fromkeys(_core_roles()))
    roles = index.cells("role")
    listed = _true(pc.is_in(roles, value_set=pa.array(list(known), pa.string())))
    for row in _rows(index.first & _valid(roles) & ~listed):
        yield _say(table, row, "role", f"{roles[row].as_py()!r} is not a contact role",
                   "use one of " + ", ".join(known) + " (plugins add more)")


def _true(arr: object) -> np.ndarray:
    """A boolean Arrow array as numpy, null as False."""
    import pyarrow as pa

    assert isinstance(arr, (pa.Array, pa.ChunkedArray))
    return arr.fill_null(False).to_numpy(zero_copy_only=False)


def _core_roles() -> list[str]:
    from kamcore.models.enums import CONTACT_ROLES

    return list(CONTACT_ROLES)


def unknown_owners(tables: WorkspaceTables) -> Iterator[Violation]:
    if (index := _index(tables)) is None:
        return
    yield from _unknown(index, index.owner, "owner", "relationship owner {!r} is not in "
                        "people.csv", tables.people.ids, "add the person to people.csv or fix "
                        "the id")


def inactive_owners(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np

    if (index := _index(tables)) is None:
        return
    table = index.contacts
    active = account_index(tables).active
    known = index.first & (index.owner >= 0)
    departed = known & ~active[np.maximum(index.owner, 0)] if len(active) else known
    for row in _rows(departed):
        owner = table.text("owner")[row].as_py()
        yield _say(table, row, "owner", f"relationship owner {owner!r} is inactive (departed)",
                   f"hand it over with the book: kam handover ORG --from {owner} --to PERSON")


def _counts(index: ContactIndex, mask: np.ndarray) -> np.ndarray:
    """How many contacts of each account (by account row) ``mask`` holds."""
    import numpy as np

    rows = index.account[mask & index.first & (index.account >= 0)]
    return np.bincount(rows, minlength=len(index.tables.accounts))


def strategic_accounts(tables: WorkspaceTables) -> np.ndarray:
    """Key-or-above accounts (first rows only)."""
    index = account_index(tables)
    key = TIER_ORDER.index(Tier.KEY.value)
    return index.first & (index.tier >= 0) & (index.tier <= key)


def missing_primary(tables: WorkspaceTables) -> Iterator[Violation]:
    if (index := _index(tables)) is None:
        return
    accounts = tables.accounts
    for row in _rows(strategic_accounts(tables) & (_counts(index, index.primary) == 0)):
        yield _say(accounts, row, None, f"{accounts.text('tier')[row].as_py()} account has no "
                   "primary contact", "mark one of its contacts primary=true in contacts.csv")


def several_primary(tables: WorkspaceTables) -> Iterator[Violation]:
    if (index := _index(tables)) is None:
        return
    accounts = tables.accounts
    counts = _counts(index, index.primary)
    for row in _rows(account_index(tables).first & (counts > 1)):
        yield _say(accounts, row, None, f"account has {counts[row]} primary contacts; one "
                   "point of contact means one", "keep primary=true on one of them")


def decision_makers(index: ContactIndex) -> np.ndarray:
    """Contacts whose role is decision-maker."""
    import pyarrow as pa
    import pyarrow.compute as pc

    roles = index.cells("role")
    return _true(pc.equal(roles, pa.scalar(DECISION_MAKER)))


def missing_decision_maker(tables: WorkspaceTables) -> Iterator[Violation]:
    if (index := _index(tables)) is None:
        return
    accounts = tables.accounts
    for row in _rows(strategic_accounts(tables) & (_counts(index, decision_makers(index)) == 0)):
        yield _say(accounts, row, None, f"{accounts.text('tier')[row].as_py()} account has no "
                   "decision-maker contact", "add the contact who signs off, with "
                   "role=decision-maker, to contacts.csv")


def primary_owned_by_manager(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np

    if (index := _index(tables)) is None:
        return
    table = index.contacts
    manager = account_index(tables).manager

    theirs = np.where(index.account >= 0, manager[np.maximum(index.account, 0)], -1)
    wrong = index.first & index.primary & (index.account >= 0) & (theirs >= 0) & (
        index.owner != theirs)
    people = tables.people
    for row in _rows(wrong):
        account = table.text("account")[row].as_py()
        expected = people.ids[int(theirs[row])].as_py()
        owner = table.text("owner")[row].as_py()
        now = f"is owned by {owner!r}" if owner else "has no relationship owner"
        yield _say(table, row, "owner", f"primary contact of {account!r} {now}, not by its "
                   f"accountable manager {expected!r}", f"set owner to {expected} (one point of "
                   "contact on both sides)")


def stale_relationships(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np

    from kamcore.workspace.history import day_number
    from kamcore.workspace.history import today as today_date

    if (index := _index(tables)) is None:
        return
    table = index.contacts
    column = table.column("last_contact")
    if column is None:
        return
    days = tables.settings.contacts.stale_after_days
    epoch_days = column.cast("int32").fill_null(np.iinfo(np.int32).max).to_numpy(
        zero_copy_only=False)
    today = day_number(today_date())  # $KAM_TODAY when set, like every other "today"
    for row in _rows(index.first & (epoch_days < today - days)):
        last = column[row].as_py()
        yield _say(table, row, "last_contact", f"relationship not touched since {last} "
                   f"({today - int(epoch_days[row])} days; the limit is {days})",
                   "get in touch and update last_contact, or change contacts: "
                   "stale_after_days in kam.yaml")


def reports_to_same_customer(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np

    if (index := _index(tables)) is None:
        return
    table = index.contacts
    yield from _unknown(index, index.boss, "reports_to", "reports_to {!r} is not a contact here",
                        index.cells("id"), "fix the contact id, or leave it empty")
    boss = index.boss
    theirs = index.customer[np.maximum(boss, 0)]
    wrong = index.first & (boss >= 0) & (index.customer >= 0) & (theirs >= 0) & (
        theirs != index.customer)
    accounts = tables.accounts
    for row in _rows(wrong):
        up = int(boss[row])
        yield _say(table, row, "reports_to", f"reports to {table.ids[up].as_py()!r} of "
                   f"customer {accounts.ids[int(theirs[row])].as_py()!r}, outside its own "
                   f"customer {accounts.ids[int(index.customer[row])].as_py()!r}",
                   "a contact reports to someone at the same customer (same account tree)")


def contact_cycles(tables: WorkspaceTables) -> Iterator[Violation]:
    from kamcore.builtin.core_rules import loop_violations

    if (index := _index(tables)) is None:
        return
    yield from loop_violations(index.contacts, index.loops[1], "reports_to",
                               "contacts report to each other in a loop: ", "one of them must "
                               "report to someone outside the loop (or nobody)")


TableCheck = Callable[["WorkspaceTables"], Iterator[Violation]]

#: code, name, check, severity, summary. Codes are stable and never reused.
CONTACT_RULES: tuple[tuple[str, str, TableCheck, str, str], ...] = (
    ("KAM160", "duplicate-contact-id", duplicate_contacts, "error",
     "Every contact id is unique."),
    ("KAM161", "contact-unknown-account", unknown_accounts, "error",
     "A contact's account exists."),
    ("KAM162", "contact-unknown-role", unknown_roles, "error",
     "A contact's role is a known role (the core's or a plugin's)."),
    ("KAM163", "contact-unknown-owner", unknown_owners, "error",
     "A contact's relationship owner is a person here."),
    ("KAM164", "contact-owner-inactive", inactive_owners, "error",
     "Relationship owners are active."),
    ("KAM165", "missing-primary-contact", missing_primary, "warning",
     "Every key-or-above account has a primary contact."),
    ("KAM166", "missing-decision-maker", missing_decision_maker, "warning",
     "Every key-or-above account has a decision-maker contact."),
    ("KAM167", "primary-owner-is-manager", primary_owned_by_manager, "warning",
     "The primary contact's relationship owner is the account's accountable manager."),
    ("KAM168", "stale-relationship", stale_relationships, "warning",
     "A relationship is touched within contacts: stale_after_days (kam.yaml, default 180)."),
    ("KAM169", "contact-reports-to", reports_to_same_customer, "error",
     "A contact's reports_to exists and works for the same customer (account tree)."),
    ("KAM170", "contact-cycle", contact_cycles, "error",
     "The customer's org chart (contacts' reports_to) has no loops."),
    ("KAM171", "several-primary-contacts", several_primary, "warning",
     "An account has at most one primary contact."),
)
