"""Coverage: where the account tree and the people tree leave gaps.

Five kinds of gap:

* **unmanaged**: accounts without an active accountable manager (none, unknown, departed, or
  support staff);
* **over capacity**: managers carrying more accounts than their capacity;
* **idle**: active GAMs, NAMs, KAMs and AMs without a single account (support staff, directors
  and VPs coordinate rather than hold books, so they are not listed);
* **no decision maker**: key-or-above accounts without a decision-maker relationship (no
  decision-maker contact in contacts.csv, or none owned by an active person of ours);
* **line mismatches**: an account's manager does not report, directly or through their chain of
  command, to the manager of the nearest account above it held by someone else (the KAM of a key
  account under the NAM of its national account, the NAM under the GAM of the global account...).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from kamcore.models import Role
from kamcore.structure import ROLE_ORDER

if TYPE_CHECKING:
    import numpy as np

    from kamcore.org import OrgSource
    from kamcore.structure import AccountIndex
    from kamcore.workspace.tables import WorkspaceTables

#: Roles expected to hold a book; the others are not reported as idle.
BOOK_ROLES = frozenset({Role.GAM, Role.NAM, Role.KAM, Role.AM})


@dataclass(frozen=True)
class Unmanaged:
    account: str
    tier: str
    manager: str | None
    reason: str


@dataclass(frozen=True)
class OverCapacity:
    person: str
    role: str
    accounts: int
    capacity: int


@dataclass(frozen=True)
class Idle:
    person: str
    role: str
    reports_to: str | None


@dataclass(frozen=True)
class LineMismatch:
    account: str
    tier: str
    manager: str
    above: str
    above_manager: str
    message: str


@dataclass(frozen=True)
class NoDecisionMaker:
    """A key-or-above account without a decision-maker relationship (contacts.csv)."""

    account: str
    tier: str
    manager: str | None
    reason: str


@dataclass
class Coverage:
    unmanaged: list[Unmanaged] = field(default_factory=list)
    over_capacity: list[OverCapacity] = field(default_factory=list)
    idle: list[Idle] = field(default_factory=list)
    line_mismatches: list[LineMismatch] = field(default_factory=list)
    no_decision_maker: list[NoDecisionMaker] = field(default_factory=list)

    @property
    def gaps(self) -> int:
        return (len(self.unmanaged) + len(self.over_capacity) + len(self.idle)
                + len(self.line_mismatches) + len(self.no_decision_maker))

    def to_json(self) -> dict[str, Any]:
        return {"gaps": self.gaps,
                "unmanaged": [asdict(x) for x in self.unmanaged],
                "over_capacity": [asdict(x) for x in self.over_capacity],
                "idle": [asdict(x) for x in self.idle],
                "line_mismatches": [asdict(x) for x in self.line_mismatches],
                "no_decision_maker": [asdict(x) for x in self.no_decision_maker]}


def coverage(source: OrgSource | WorkspaceTables) -> Coverage:
    """Every coverage gap, each list in file order, worked out over the reader's columns.

    Accepts an :class:`~kamcore.org.Org`, the path of a workspace folder, or the reader's
    tables. The walk up the account tree
    is pointer doubling (:func:`kamcore.structure.jump_to`), so a chain 200,000 accounts deep
    costs a few numpy passes, not one Python walk per account.

    >>> from kamcore import Account, Org, Person
    >>> org = Org.build([Account(id="A", name="A", tier="key")],
    ...                 [Person(id="K", name="K", role="kam")])
    >>> [u.account for u in coverage(org).unmanaged], [i.person for i in coverage(org).idle]
    (['A'], ['K'])
    """
    import numpy as np

    from kamcore.structure import account_index
    from kamcore.workspace.tables import WorkspaceTables, read_workspace

    if isinstance(source, str | os.PathLike):  # the contacts' columns coverage looks at
        from kamcore.contacts import COVERAGE_COLUMNS

        source = read_workspace(os.fspath(source), contact_columns=COVERAGE_COLUMNS)
        source.require_readable()
    if not isinstance(source, WorkspaceTables):  # with its folder's contacts, if any
        from kamcore.workspace.loader import as_org
        from kamcore.workspace.objects import tables_from_org

        source = tables_from_org(as_org(source), customer_side=True)
    if source.contacts is not None:  # their hash pass overlaps the accounts' gaps below
        from kamcore.structure import contact_index

        contact_index(source).start()
    index = account_index(source)
    accounts, people = source.accounts, source.people
    tiers, roles = accounts.text("tier"), people.text("role")
    manager_ids = accounts.text("manager")
    result = Coverage()
    manager = index.manager
    known = manager >= 0
    at = np.maximum(manager, 0)
    active = index.active[at] if len(people) else np.zeros(len(manager), dtype=bool)
    support = (index.role[at] == ROLE_ORDER.index(Role.SUPPORT.value)) if len(people) \
        else active
    named = manager_ids.is_valid().to_numpy(zero_copy_only=False)
    held = index.first & known & active & ~support
    for row in np.flatnonzero(index.first & ~held).tolist():
        who = manager_ids[row].as_py()
        reason = ("no manager" if not named[row] else
                  f"manager {who!r} is not in people" if not known[row] else
                  f"manager {who!r} is inactive" if not active[row] else
                  f"{who!r} is support staff")
        result.unmanaged.append(Unmanaged(accounts.ids[row].as_py(), tiers[row].as_py(), who,
                                          reason))
    load = np.bincount(manager[index.first & known], minlength=len(people))
    capacity = people.column("capacity")
    cap = (capacity.fill_null(-1).to_numpy(zero_copy_only=False) if capacity is not None
           else np.full(len(people), -1))
    for row in np.flatnonzero(index.person_first & (cap >= 0) & (load > cap)).tolist():
        result.over_capacity.append(OverCapacity(people.ids[row].as_py(), roles[row].as_py(),
                                                 int(load[row]), int(cap[row])))
    book = np.isin(index.role, [ROLE_ORDER.index(r.value) for r in BOOK_ROLES])
    for row in np.flatnonzero(index.person_first & index.active & book & (load == 0)).tolist():
        boss = people.text("reports_to")[row].as_py()
        result.idle.append(Idle(people.ids[row].as_py(), roles[row].as_py(), boss))
    above = _held_above(index, held)
    reports = _reports_to(index)
    for row in np.flatnonzero(held & (above >= 0)).tolist():
        up = int(above[row])
        mine, boss_row = int(manager[row]), int(manager[up])
        if reports(mine, boss_row):
            continue
        person, boss = people.ids[mine].as_py(), people.ids[boss_row].as_py()
        tier, up_tier = tiers[row].as_py(), tiers[up].as_py()
        account, up_id = accounts.ids[row].as_py(), accounts.ids[up].as_py()
        message = (f"{roles[mine].as_py().upper()} {person} of {tier} account {account} does "
                   f"not report to {roles[boss_row].as_py().upper()} {boss}, who manages "
                   f"{up_tier} account {up_id}")
        result.line_mismatches.append(LineMismatch(account, tier, person, up_id, boss, message))
    from kamcore.contacts import without_decision_maker

    result.no_decision_maker = [NoDecisionMaker(**gap) for gap in without_decision_maker(source)]
    return result


def _held_above(index: AccountIndex, held: np.ndarray) -> np.ndarray:
    """For each account, the nearest account above it actively held by someone else (-1).

    ``nearest(x)``: the nearest held account strictly above ``x``. Following ``nearest`` from an
    account, the answer is the first account reached whose manager differs from the one before
    it: one :func:`~kamcore.structure.jump_to` over the ``nearest`` links. Accounts in or below
    a loop are walked one by one (validate reports the loop, KAM103).
    """
    import numpy as np

    from kamcore.structure import jump_to

    parent = index.parent
    stuck = index.account_loops[0]
    up = jump_to(parent, held)
    nearest = np.where(parent >= 0, up[np.maximum(parent, 0)], -1)
    nearest[stuck] = -1
    manager = index.manager
    changes = (nearest < 0) | (manager[np.maximum(nearest, 0)] != manager)
    stop = jump_to(nearest, changes)
    found = np.where(stop >= 0, nearest[np.maximum(stop, 0)], -1)
    for row in np.flatnonzero(stuck & held).tolist():
        found[row] = _walk_above(parent, held, manager, row)
    return np.where(held, found, -1)


def _walk_above(parent: np.ndarray, held: np.ndarray, manager: np.ndarray, row: int) -> int:
    seen = {row}
    current = int(parent[row])
    while current >= 0 and current not in seen:
        if held[current] and manager[current] != manager[row]:
            return current
        seen.add(current)
        current = int(parent[current])
    return -1


def _reports_to(index: AccountIndex) -> Callable[[int, int], bool]:
    """``reports(person, boss)``: is ``boss`` in ``person``'s chain of command?

    Pre-order ranks and subtree sizes of the management tree answer it in O(1); people in or
    below a loop are walked (validate reports the loop, KAM122).
    """
    import numpy as np

    from kamcore.rollup.compile import compile_tree
    from kamcore.rollup.engine import subtree_sizes

    boss = index.boss
    stuck = index.people_loops[0]
    tree = compile_tree(np.where(stuck, -1, boss))
    rank = np.empty(len(boss), dtype=np.int64)
    rank[tree.preorder()] = np.arange(len(boss))
    size = tree.to_original(subtree_sizes(tree))

    def reports(person: int, above: int) -> bool:
        if not stuck[person]:
            return bool(rank[above] < rank[person] < rank[above] + size[above])
        seen = {person}
        current = int(boss[person])
        while current >= 0 and current not in seen:
            if current == above:
                return True
            seen.add(current)
            current = int(boss[current])
        return False

    return reports
