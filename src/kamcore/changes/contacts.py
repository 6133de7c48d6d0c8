"""Relationship ownership moves with the book: the contact side of a hand-over.

When an account changes hands, the contacts its old manager owned go to the new manager in
the same plan (and the same transaction, journal entry and undo). Only the ``owner`` cell of
contacts.csv changes; every other cell is written back as it was read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kamcore.changes.plan import RecordChange
from kamcore.errors import RecordErrors

if TYPE_CHECKING:
    from pathlib import Path

    from kamcore.org import Org
    from kamcore.workspace.tables import RecordTable, WorkspaceTables

#: What a contact change keeps of the record (enough to read the diff and to undo it).
KEPT = ("id", "account", "name", "role", "owner")


def read_contacts(folder: Path | None) -> RecordTable | None:
    """contacts.csv of ``folder`` through the one reader; ``None`` when there is none.

    :raises RecordErrors: a cell breaks a reading rule (a change would rewrite the file).
    """
    from kamcore.errors import KamError
    from kamcore.workspace.tables import read_optional

    if folder is None:
        return None
    problems: list[KamError] = []
    table = read_optional(folder, "contacts", problems)
    if problems:
        raise RecordErrors(problems)
    return table


def ownership_moves(org: Org, leaver: str, placed: dict[str, str], *,
                    leaving: bool = False) -> list[RecordChange]:
    """The contacts whose relationship owner changes when ``leaver`` hands over ``placed``.

    A contact owned by ``leaver`` on an account of ``placed`` goes to that account's new
    manager. When the leaver leaves altogether (``leaving``), the contacts they own on other
    accounts go to those accounts' managers (unless that is the leaver again).

    :param placed: account id -> its new manager.
    :returns: one ``contact`` record change per contact, in file order.
    """
    owned = _owned_by(org)
    rows = owned.get(leaver)
    if not rows:
        return []
    table = org.__dict__["_contacts"]
    ids, accounts, names, roles = (
        [table.text(c)[i].as_py() for i in rows] for c in ("id", "account", "name", "role"))
    out: list[RecordChange] = []
    seen: set[str] = set()
    for i in range(len(rows)):
        owner = leaver
        if ids[i] in seen:
            continue
        seen.add(ids[i])
        new = placed.get(accounts[i])
        if new is None and leaving and accounts[i] in org.accounts:
            new = org.accounts[accounts[i]].manager
        if new is None or new == leaver:
            continue
        before = {"id": ids[i], "account": accounts[i], "name": names[i], "role": roles[i],
                  "owner": owner}
        out.append(RecordChange("contact", ids[i], before, before | {"owner": new}))
    return out


@contextlib.contextmanager
def contacts_read_once(org: Org) -> Iterator[None]:
    """While a plan's lines run on ``org``, contacts.csv is read (when a line first needs it)
    and then not looked at again: one plan sees one version of the file, and 6,000 assign
    lines do not ``stat`` it three times each."""
    org.__dict__["_owned_by_pinned"] = True
    try:
        yield
    finally:
        org.__dict__.pop("_owned_by_pinned", None)


def _owned_by(org: Org) -> dict[str, list[int]]:
    """Rows of contacts.csv by relationship owner, read once per org and file version (a plan
    file of 5,000 assign lines asks 5,000 times, on one org; see :func:`contacts_read_once`)."""
    from kamcore.workspace.tables import optional_file

    if org.__dict__.get("_owned_by_pinned") and "_owned_by" in org.__dict__:
        pinned: dict[str, list[int]] = org.__dict__["_owned_by"][1]
        return pinned
    try:
        path = optional_file(org.path, "contacts") if org.path is not None else None
        stat = path.stat() if path is not None else None
    except OSError:
        stat = None
    version = (stat.st_mtime_ns, stat.st_size) if stat is not None else None
    cached: tuple[object, dict[str, list[int]]] | None = org.__dict__.get("_owned_by")
    if cached is None or cached[0] != version:
        table = read_contacts(org.path) if version is not None else None
        rows: dict[str, list[int]] = {}
        if table is not None:
            for row, owner in enumerate(table.text("owner").to_pylist()):
                if owner is not None:
                    rows.setdefault(owner, []).append(row)
        cached = org.__dict__["_owned_by"] = (version, rows)
        org.__dict__["_contacts"] = table
    return cached[1]


def render_contacts(folder: Path, changes: list[RecordChange]) -> tuple[str, bytes]:
    """contacts.csv (or contacts.parquet) with the owners of ``changes`` set, every other cell
    as the file has it: the file's name and its new bytes.

    A contact whose owner is no longer the change's ``before`` (edited since) keeps its owner.
    """
    from kamcore.settings import CONTACTS_FILE
    from kamcore.workspace.patch import set_column
    from kamcore.workspace.tables import REQUIRED, optional_file

    path = optional_file(folder, "contacts") or folder / CONTACTS_FILE
    moved = [c for c in changes if c.kind == "contact" and c.before and c.after]
    return path.name, set_column(path, REQUIRED["contact"], "owner",
                                 {c.id: (c.after or {}).get("owner") for c in moved},
                                 only_if={c.id: (c.before or {}).get("owner") for c in moved})


def reversed_changes(changes: list[dict[str, Any]]) -> list[RecordChange]:
    """The contact changes of a journal entry, turned round (for undo)."""
    return [RecordChange("contact", c["id"], c.get("after"), c.get("before"))
            for c in reversed(changes) if c.get("kind") == "contact"]


def with_owners(tables: WorkspaceTables, changes: list[RecordChange]) -> WorkspaceTables:
    """``tables`` with the relationship owners of ``changes`` set in its contacts (the
    after-side of a plan validated on tables sees the relationships moved)."""
    import dataclasses

    import pyarrow as pa

    moved = {c.id: (c.after or {}).get("owner") for c in changes
             if c.kind == "contact" and c.after is not None}
    contacts = tables.contacts
    if not moved or contacts is None:
        return tables
    ids = contacts.ids.to_pylist()
    owners = contacts.text("owner").to_pylist()
    column = pa.array([moved.get(i, o) if i in moved else o for i, o in zip(ids, owners,
                                                                             strict=True)],
                      pa.string())
    data = contacts.table
    if "owner" in data.column_names:
        data = data.set_column(data.column_names.index("owner"), "owner", column)
    else:
        data = data.append_column("owner", column)
    return dataclasses.replace(tables, contacts=dataclasses.replace(contacts, table=data))
