"""Coverage: where the account tree and the people tree leave gaps.

Four kinds of gap:

* **unmanaged**: accounts without an active accountable manager (none, unknown, departed, or
  support staff);
* **over capacity**: managers carrying more accounts than their capacity;
* **idle**: active GAMs, NAMs, KAMs and AMs without a single account (support staff, directors
  and VPs coordinate rather than hold books, so they are not listed);
* **line mismatches**: an account's manager does not report, directly or through their chain of
  command, to the manager of the nearest account above it held by someone else (the KAM of a key
  account under the NAM of its national account, the NAM under the GAM of the global account...).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from kamcore.models import Role
from kamcore.org import Org

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


@dataclass
class Coverage:
    unmanaged: list[Unmanaged] = field(default_factory=list)
    over_capacity: list[OverCapacity] = field(default_factory=list)
    idle: list[Idle] = field(default_factory=list)
    line_mismatches: list[LineMismatch] = field(default_factory=list)

    @property
    def gaps(self) -> int:
        return (len(self.unmanaged) + len(self.over_capacity) + len(self.idle)
                + len(self.line_mismatches))

    def to_json(self) -> dict[str, Any]:
        return {"gaps": self.gaps,
                "unmanaged": [asdict(x) for x in self.unmanaged],
                "over_capacity": [asdict(x) for x in self.over_capacity],
                "idle": [asdict(x) for x in self.idle],
                "line_mismatches": [asdict(x) for x in self.line_mismatches]}


def coverage(org: Org) -> Coverage:
    """Every coverage gap of ``org``, each list in file order.

    >>> from kamcore import Account, Org, Person
    >>> org = Org.build([Account(id="A", name="A", tier="key")],
    ...                 [Person(id="K", name="K", role="kam")])
    >>> [u.account for u in coverage(org).unmanaged], [i.person for i in coverage(org).idle]
    (['A'], ['K'])
    """
    result = Coverage()
    people = org.people
    for account in org.accounts.values():
        reason = _unmanaged_reason(org, account.manager)
        if reason:
            result.unmanaged.append(Unmanaged(account.id, account.tier.value, account.manager,
                                              reason))
    load = Counter(a.manager for a in org.accounts.values() if a.manager is not None)
    for person in people.values():
        if person.capacity is not None and load[person.id] > person.capacity:
            result.over_capacity.append(OverCapacity(person.id, person.role.value,
                                                     load[person.id], person.capacity))
        if person.active and person.role in BOOK_ROLES and not load[person.id]:
            result.idle.append(Idle(person.id, person.role.value, person.reports_to))
    for account in org.accounts.values():
        mismatch = _line_mismatch(org, account.id)
        if mismatch:
            result.line_mismatches.append(mismatch)
    return result


def _unmanaged_reason(org: Org, manager: str | None) -> str | None:
    if manager is None:
        return "no manager"
    person = org.people.get(manager)
    if person is None:
        return f"manager {manager!r} is not in people"
    if not person.active:
        return f"manager {manager!r} is inactive"
    if person.role == Role.SUPPORT:
        return f"{manager!r} is support staff"
    return None


def _line_mismatch(org: Org, aid: str) -> LineMismatch | None:
    account = org.accounts[aid]
    if _unmanaged_reason(org, account.manager):
        return None  # reported as unmanaged already
    manager = org.people[account.manager or ""]
    for above in org.ancestors(aid):
        boss_id = org.accounts[above].manager
        if boss_id is None or boss_id == manager.id or _unmanaged_reason(org, boss_id):
            continue  # look further up, to the nearest account someone else actively holds
        boss = org.people[boss_id]
        if boss_id in org.chain_of_command(manager.id):
            return None
        upper = org.accounts[above]
        message = (f"{manager.role.value.upper()} {manager.id} of {account.tier.value} account "
                   f"{aid} does not report to {boss.role.value.upper()} {boss_id}, who manages "
                   f"{upper.tier.value} account {above}")
        return LineMismatch(aid, account.tier.value, manager.id, above, boss_id, message)
    return None
