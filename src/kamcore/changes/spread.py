"""Spreading a departing manager's book over their peers, within capacity.

The rules, in order (documented in docs/changes.md):

1. Only active people who are not support staff and not the one leaving can receive, and only
   accounts whose tier their role may hold (:data:`kamcore.models.ROLES_FOR_TIER`).
2. Nobody goes over capacity (an empty capacity is unlimited); an account that fits nobody is
   listed as unplaced with the reason, never forced.
3. Closer colleagues first: peers (same ``reports_to``), then the rest of the manager's team
   (the manager included), then the team one level further up, and so on; then everyone else.
4. Within the closest group that has room, the least loaded receives: fewest accounts
   (``balance="count"``) or least revenue (``balance="revenue"``), ties broken by person id.

Accounts are placed most constrained first (global, national, key, regular), then (when
balancing revenue) largest revenue first, then in file order. The result depends only on the
org, so the same org always spreads the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kamcore.changes.plan import Unplaced
from kamcore.errors import ChangeRefused
from kamcore.models import ROLES_FOR_TIER, Role
from kamcore.org import Org, OrgSource

BALANCES = ("count", "revenue")
REVENUE = "revenue"


@dataclass
class _Slot:
    person: str
    role: Role
    group: int
    count: int
    revenue: float
    capacity: float


def spread_book(org: OrgSource, person_id: str, *, accounts: Sequence[str] | None = None,
                candidates: Iterable[str] | None = None,
                balance: str = "count") -> tuple[dict[str, str], list[Unplaced]]:
    """Who takes each account of ``person_id``'s book.

    :param org: the org as it is.
    :param person_id: the departing (or unloading) manager.
    :param accounts: the accounts to place (default: their whole book).
    :param candidates: only these people may receive (named successors); default: anyone.
    :param balance: ``"count"`` or ``"revenue"``.
    :returns: ``{account: new manager}`` and the accounts that could not be placed.
    :raises ChangeRefused: a named successor cannot receive (inactive, support, the leaver).

    >>> from kamcore import Account, Org, Person
    >>> org = Org.build(
    ...     [Account(id="A", name="A", tier="key", manager="K1"),
    ...      Account(id="B", name="B", tier="key", manager="K1")],
    ...     [Person(id="N", name="N", role="nam"),
    ...      Person(id="K1", name="K1", role="kam", reports_to="N"),
    ...      Person(id="K2", name="K2", role="kam", reports_to="N", capacity=1),
    ...      Person(id="K3", name="K3", role="kam", reports_to="N")])
    >>> spread_book(org, "K1")
    ({'A': 'K2', 'B': 'K3'}, [])
    """
    from kamcore.workspace.loader import as_org

    org = as_org(org)
    if balance not in BALANCES:
        raise ChangeRefused(f"unknown balance {balance!r}", hint="use count or revenue")
    leaver = org.person(person_id)
    book = list(org.book(person_id) if accounts is None else accounts)
    named = list(candidates) if candidates is not None else None
    if named is not None:
        pool = [org.person(pid) for pid in dict.fromkeys(named)]
        for person in pool:
            why = _cannot_receive(person, leaver.id)
            if why:
                raise ChangeRefused(f"{person.id} cannot take over accounts: {why}",
                                    hint="name active account managers as successors")
        groups = {p.id: 0 for p in pool}
    else:
        pool = [p for p in org.people.values() if not _cannot_receive(p, leaver.id)]
        groups = _closeness(org, leaver.id, [p.id for p in pool])
    slots = {}
    for person in pool:
        own = org.book(person.id)
        revenue = (sum(org.accounts[a].metrics.get(REVENUE, 0.0) for a in own)
                   if balance == REVENUE else 0.0)  # a plan's many lines need not sum books
        slots[person.id] = _Slot(
            person.id, person.role, groups[person.id], len(own), revenue,
            float("inf") if person.capacity is None else person.capacity)
    # The book is in file order: its own order is the file's, without a pass over the org.
    position = {aid: i for i, aid in enumerate(book)}

    def order(aid: str) -> tuple[int, float, int]:
        account = org.accounts[aid]
        weight = -account.metrics.get(REVENUE, 0.0) if balance == REVENUE else 0.0
        return (account.tier.rank, weight, position.get(aid, 0))

    placed: dict[str, str] = {}
    unplaced: list[Unplaced] = []
    for aid in sorted(book, key=order):
        account = org.account(aid)
        allowed = ROLES_FOR_TIER[account.tier]
        fitting = [s for s in slots.values() if s.role in allowed]
        room = [s for s in fitting if s.count < s.capacity]
        if not room:
            unplaced.append(Unplaced(aid, _why_not(account.tier.value, allowed, fitting)))
            continue
        best = min(room, key=lambda s: (s.group, s.revenue if balance == REVENUE else s.count,
                                        s.person))
        placed[aid] = best.person
        best.count += 1
        best.revenue += account.metrics.get(REVENUE, 0.0)
    # Report in file order, the way people read their books.
    return dict(sorted(placed.items(), key=lambda kv: position.get(kv[0], 0))), unplaced


def _cannot_receive(person: object, leaver: str) -> str | None:
    from kamcore.models import Person

    assert isinstance(person, Person)
    if person.id == leaver:
        return "they are the one handing over"
    if not person.active:
        return "they are inactive"
    if person.role == Role.SUPPORT:
        return "support staff are never the accountable manager"
    return None


def _closeness(org: Org, leaver: str, pool: list[str]) -> dict[str, int]:
    """0 for peers, k for the team of the k-th manager up the chain, then everyone else."""
    boss = org.people[leaver].reports_to
    groups: dict[str, int] = {}
    for pid in pool:
        if boss is not None and org.people[pid].reports_to == boss:
            groups[pid] = 0
    chain = org.chain_of_command(leaver)
    for level, manager in enumerate(chain, start=1):
        for pid in [manager, *org.team(manager)]:
            groups.setdefault(pid, level)
    far = len(chain) + 1
    return {pid: groups.get(pid, far) for pid in pool}


def _why_not(tier: str, allowed: frozenset[Role], fitting: list[_Slot]) -> str:
    roles = "/".join(sorted(r.value.upper() for r in allowed))
    if not fitting:
        return f"no active {roles} can take a {tier} account"
    full = ", ".join(f"{s.person} {s.count}/{int(s.capacity)}"
                     for s in sorted(fitting, key=lambda s: s.person)[:4])
    more = ", ..." if len(fitting) > 4 else ""
    return f"every {roles} who could take a {tier} account is at capacity ({full}{more})"
