"""The customer's people: contacts as rows for listings, briefs and the chart.

Contacts are personal data. Everything that leaves kamcore (``kam contacts`` in any format,
the chart, hand-over briefs) goes through :func:`contact_rows`, which leaves out
:data:`PERSONAL_COLUMNS` unless the caller asks for them (``--with-personal-data``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kamcore.errors import NotFound

if TYPE_CHECKING:
    import numpy as np

    from kamcore.workspace.tables import WorkspaceTables

#: Cells that identify a person outside the firm: only shown when asked for.
PERSONAL_COLUMNS = ("email", "phone")
#: The columns of a listing, personal data aside, in order.
LISTING_COLUMNS = ("id", "account", "name", "title", "role", "primary", "reports_to", "owner",
                   "owner_name", "last_contact")
#: The columns :func:`without_decision_maker` (coverage) reads: no personal data.
COVERAGE_COLUMNS = ("id", "account", "role", "owner")
#: Roles in the order a successor should call them (whom to call first); others after.
CALL_ORDER = ("decision-maker", "champion", "influencer", "procurement", "billing", "user")


def contact_rows(tables: WorkspaceTables, *, accounts: list[str] | None = None,
                 personal: bool = False, subtree: bool = False) -> list[dict[str, Any]]:
    """The contacts (first row of each id), in file order, as plain dicts.

    :param accounts: only the contacts of these accounts (``None``: all).
    :param personal: include :data:`PERSONAL_COLUMNS` (email, phone).
    :param subtree: with ``accounts``, the contacts of every account below them too: a global
        customer's people in all its countries, as its Global Account Manager looks at them.
    :raises NotFound: an account of ``accounts`` is not in the workspace.
    :returns: one dict per contact: :data:`LISTING_COLUMNS` (plus email and phone when
        ``personal``); ``last_contact`` as ``YYYY-MM-DD`` text.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.structure import contact_index

    contacts = tables.contacts
    if contacts is None:
        return []
    if accounts is not None:
        _require_accounts(tables, accounts)
    index = contact_index(tables)
    keep = index.first.copy()
    if accounts is not None and subtree:
        keep &= _under(tables, accounts)[np.maximum(index.account, 0)] & (index.account >= 0)
    elif accounts is not None:
        keep &= pc.is_in(contacts.text("account"), value_set=pa.array(accounts, pa.string())
                         ).fill_null(False).to_numpy(zero_copy_only=False)
    rows = pa.array(np.flatnonzero(keep))
    wanted = [c for c in LISTING_COLUMNS if c != "owner_name"]
    wanted += list(PERSONAL_COLUMNS) if personal else []
    data = {c: _column(contacts, c).take(rows).to_pylist() for c in wanted}
    data["owner_name"] = person_names(tables, contacts.text("owner").take(rows),
                                      index.owner[np.flatnonzero(keep)])
    order = list(LISTING_COLUMNS) + (list(PERSONAL_COLUMNS) if personal else [])
    out = []
    for i in range(len(rows)):
        row = {c: data[c][i] for c in order}
        if row["last_contact"] is not None:
            row["last_contact"] = str(row["last_contact"])
        out.append(row)
    return out


def person_names(tables: WorkspaceTables, ids: Any, rows: Any = None) -> list[str | None]:
    """The name of each person id (an owner, a territory's manager) for a listing that shows
    the id beside it, by the rollup's lookup (:func:`kamcore.rollup.views.manager_names`). An
    id people.csv does not know has no name (``None``), not its id again as the rollup's
    table (which hides ids) shows it.

    :param ids: a string array of person ids.
    :param rows: each id's row in people (-1: none or unknown), when already found.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.rollup.views import manager_names

    people = tables.people
    if rows is None:
        rows = pc.index_in(ids, value_set=people.ids).fill_null(-1).to_numpy()
    unknown = np.asarray(rows) < 0
    known = pc.if_else(pa.array(unknown), pa.scalar(None, pa.string()), ids)
    return manager_names(known, people.ids, people.text("name"),
                         rows=pa.array(rows, mask=unknown)).to_pylist()


def _column(contacts: Any, name: str) -> Any:
    if name == "primary":
        column = contacts.column("primary")
        if column is not None:
            return column
        import pyarrow as pa

        return pa.array([False] * len(contacts))
    return contacts.column(name) if contacts.column(name) is not None else contacts.text(name)


def _under(tables: WorkspaceTables, accounts: list[str]) -> np.ndarray:
    """Per account row: whether it is one of ``accounts`` or below one of them."""
    import numpy as np
    import pyarrow as pa

    from kamcore.structure import account_index, jump_to, row_of

    index = account_index(tables)
    stop = np.zeros(len(index.parent), dtype=bool)
    stop[row_of(tables.accounts.ids, pa.array(accounts, pa.string()))] = True
    under: np.ndarray = jump_to(index.parent, stop) >= 0
    return under


def _require_accounts(tables: WorkspaceTables, accounts: list[str]) -> None:
    from kamcore.errors import did_you_mean

    ids = tables.accounts.ids.to_pylist()
    known = set(ids)
    for account in accounts:
        if account not in known:
            raise NotFound(f"account {account!r} is not in this workspace",
                           hint=did_you_mean(account, ids) or
                           "list the accounts with kam tree ORG")


def call_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` in the order to call them: the primary contact first, then by role
    (:data:`CALL_ORDER`), then file order.

    >>> [r["id"] for r in call_order([{"id": "u", "role": "user", "primary": False},
    ...                               {"id": "p", "role": "billing", "primary": True}])]
    ['p', 'u']
    """
    rank = {role: i for i, role in enumerate(CALL_ORDER)}
    return sorted(rows, key=lambda r: (not r.get("primary"),
                                       rank.get(r.get("role") or "", len(rank))))


def without_decision_maker(tables: WorkspaceTables) -> list[dict[str, Any]]:
    """Key-or-above accounts with no decision-maker relationship: no decision-maker contact,
    or none that an active person of ours owns. Empty when the workspace has no contacts.csv.

    :returns: ``{"account", "tier", "manager", "reason"}`` per account, in file order.
    """
    import numpy as np

    from kamcore.builtin.contact_rules import decision_makers, strategic_accounts
    from kamcore.structure import account_index, contact_index

    if tables.contacts is None:
        return []
    index = contact_index(tables)
    active = account_index(tables).active
    linked = index.first & (index.account >= 0) & decision_makers(index)
    owned = linked & (index.owner >= 0)
    owned &= active[np.maximum(index.owner, 0)] if len(active) else owned
    n = len(tables.accounts)
    any_dm = np.bincount(index.account[linked], minlength=n) > 0
    kept = np.bincount(index.account[owned], minlength=n) > 0
    accounts = tables.accounts
    out = []
    for row in np.flatnonzero(strategic_accounts(tables) & ~kept).tolist():
        out.append({"account": accounts.ids[row].as_py(),
                    "tier": accounts.text("tier")[row].as_py(),
                    "manager": accounts.text("manager")[row].as_py(),
                    "reason": "no active owner of the decision-maker contact" if any_dm[row]
                    else "no decision-maker contact"})
    return out
