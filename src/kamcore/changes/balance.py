"""A balanced re-cut proposed by a solver: who should hold which account, as a plan file.

The problem, for the people of one role (``--role kam``) and the accounts they hold:

* **minimise** ``sum over people of (accounts held)^2``, which evens out the load (for a fixed
  number of accounts it is smallest when every book is the same size), **plus** ``BETA`` for
  every account given to someone who manages nothing yet in that account's global account
  (so each global account keeps as few managers as it can), **plus** ``EPSILON`` per account
  moved (of two equally balanced answers, the one with fewer moves);
* **subject to** capacity (nobody ends above ``capacity``, or above their current load when
  they are over it already), the tier a role may hold, and the national teams: an account
  inside a national account's tree goes only to that national account's manager or someone
  in their team, so no national tree is split between national teams; ``within="global"``
  keeps every account inside the team of its global account's manager, ``within="national"``
  moves only accounts inside a national tree;
* and ``max_moves``: at most that many accounts change hands.

This is a **min-cost flow** (networkx's network simplex, exact in integers): source -> one node
per class of interchangeable accounts (same holder, same team they may go to, same global
account; supply = how many) -> each person they may go to (cost ``EPSILON`` when it is a move,
plus ``BETA`` for someone new to the global account) -> the person's unit arcs to the sink, the
``k``-th costing ``2k - 1`` (so the total is the sum of squares: convex, hence exact as a flow).
Nobody's optimal load exceeds the largest load now (a unit above it could go back to where it
came from, cheaper). Unit arcs for every size up to that would be thousands per person for
large books, so sizes are solved in a window around a greedy start and the window widens until
no size touches its edge, which proves the answer optimal for the whole problem (see
:func:`_flow`). ``max_moves`` is a side constraint a flow cannot hold directly: it is met by
raising the price of a move (Lagrangian relaxation, bisected over integers) until the optimum
moves few enough accounts, then the moves left over (many moves often gain exactly the same,
so no price lands on N) go to the best single moves, one at a time (:func:`_top_up`).

The ``BETA`` term is the linear stand-in for "as few managers per global account" (the count of
managers itself is not a flow cost): it stops the solver from adding managers to a global
account, and the report shows the count before and after.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kamcore.errors import ChangeRefused
from kamcore.models import ROLES_FOR_TIER, Role

if TYPE_CHECKING:
    from kamcore.org import Org

#: Costs in integer units: one unit of squared load is ``SCALE``.
SCALE = 100
#: An account to someone new to its global account costs as much as one unit of load.
BETA = SCALE
#: A move, all else equal: the tie-breaker.
EPSILON = 1
WITHIN = ("global", "national")


@dataclass(frozen=True)
class Move:
    """One account to another manager."""

    account: str
    source: str
    target: str


@dataclass
class Score:
    """The objective's parts for one assignment."""

    squares: int
    newcomers: int
    moves: int
    loads: dict[str, int] = field(default_factory=dict)
    managers_per_global: dict[str, int] = field(default_factory=dict)

    @property
    def value(self) -> float:
        """``squares + newcomers`` in units of one account squared, and moves as ``EPSILON``."""
        return self.squares + (BETA * self.newcomers + EPSILON * self.moves) / SCALE

    def to_json(self) -> dict[str, Any]:
        loads = list(self.loads.values())
        return {"objective": self.value, "sum_of_squares": self.squares,
                "newcomer_accounts": self.newcomers, "moves": self.moves,
                "min_load": min(loads, default=0), "max_load": max(loads, default=0),
                "managers_per_global": self.managers_per_global}


@dataclass
class Proposal:
    """What :func:`balance` proposes: the moves, and the objective before and after."""

    role: str
    within: str | None
    max_moves: int | None
    moves: list[Move]
    before: Score
    after: Score
    #: The price of a move that met ``max_moves`` (``EPSILON`` when it did not bind).
    move_price: int = EPSILON
    #: Solver runs (more than one when ``max_moves`` binds).
    solves: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role, "within": self.within, "max_moves": self.max_moves,
                "objective": OBJECTIVE, "before": self.before.to_json(),
                "after": self.after.to_json(), "move_price": self.move_price,
                "solves": self.solves,
                "moves": [m.__dict__ for m in self.moves]}


OBJECTIVE = ("minimise sum over people of (accounts held)^2 + 1 per account given to someone "
             "new to its global account + 0.01 per move")


@dataclass
class _Problem:
    people: list[str]
    load: dict[str, int]
    cap: dict[str, int]
    #: class key -> accounts (file order); key = (holder, allowed people, global account)
    classes: dict[tuple[str, tuple[str, ...], str | None], list[str]]
    #: people already managing something in each global account
    in_global: dict[str | None, set[str]]
    fixed: dict[str, int]
    #: each account's global account
    tops: dict[str, str]


def balance(org: Org, *, role: str, within: str | None = None,
            max_moves: int | None = None) -> Proposal:
    """Propose moves that even out the books of everyone of ``role``; nothing is written.

    :raises ChangeRefused: an unknown role or ``within``, or nobody of that role.
    """
    try:
        wanted = Role(role.lower())
    except ValueError:
        raise ChangeRefused(f"{role!r} is not a role",
                            hint="one of " + ", ".join(r.value for r in Role)) from None
    if wanted == Role.SUPPORT:
        raise ChangeRefused("support staff hold no accounts", hint="balance kam, am, nam ...")
    if within not in (None, *WITHIN):
        raise ChangeRefused(f"within {within!r}: use global or national")
    if max_moves is not None and max_moves < 0:
        raise ChangeRefused("max-moves cannot be negative")
    problem = _problem(org, wanted, within)
    if not problem.people:
        raise ChangeRefused(f"nobody active has the role {wanted.value}",
                            hint="check people.csv (role and active)")
    flows, price, solves = _solve(problem, max_moves)
    moves = _moves(problem, flows)
    before = _score(org, problem, [])
    after = _score(org, problem, moves)
    return Proposal(wanted.value, within, max_moves, moves, before, after, price, solves)


def _problem(org: Org, role: Role, within: str | None) -> _Problem:
    people = sorted(p.id for p in org.people.values() if p.role == role and p.active)
    members = set(people)
    load = {p: len(org.book(p)) for p in people}
    cap = {p: max(load[p], _capacity(org.people[p].capacity)) for p in people}
    tops, nationals = _nearest(org)
    teams: dict[str | None, frozenset[str]] = {}

    def team_of(account: str | None) -> frozenset[str]:
        if account not in teams:
            manager = org.accounts[account].manager if account is not None else None
            if manager is None or manager not in org.people:
                teams[account] = frozenset()
            else:
                teams[account] = frozenset([manager, *org.team(manager)]) & members
        return teams[account]

    classes: dict[tuple[str, tuple[str, ...], str | None], list[str]] = {}
    in_global: dict[str | None, set[str]] = {}
    fixed = dict.fromkeys(people, 0)
    for person in people:
        for aid in org.book(person):
            account = org.accounts[aid]
            top = tops.get(aid)
            in_global.setdefault(top, set()).add(person)
            allowed = members if role in ROLES_FOR_TIER[account.tier] else frozenset()
            national = nationals.get(aid)
            if national is not None:
                allowed = allowed & team_of(national)
            if within == "global":
                allowed = allowed & team_of(top) if top is not None else frozenset()
            elif within == "national" and national is None:
                allowed = frozenset()
            others = tuple(sorted(allowed - {person}))
            if not others:
                fixed[person] += 1
                continue
            classes.setdefault((person, others, top), []).append(aid)
    return _Problem(people, load, cap, classes, in_global, fixed, tops)


def _capacity(capacity: int | None) -> int:
    """An empty capacity is unlimited."""
    return 1 << 40 if capacity is None else capacity


def _nearest(org: Org) -> tuple[dict[str, str], dict[str, str]]:
    """Each account's global and national account (itself or the nearest above), read as
    columns by :mod:`kamcore.structure` (loops and orphans have none)."""
    from kamcore.structure import account_index
    from kamcore.workspace.objects import tables_from_org

    tables = tables_from_org(org)
    index = account_index(tables)
    ids = tables.accounts.ids.to_pylist()
    return ({ids[r]: ids[t] for r, t in enumerate(index.top.tolist()) if t >= 0},
            {ids[r]: ids[t] for r, t in enumerate(index.national.tolist()) if t >= 0})


def _solve(problem: _Problem, max_moves: int | None
           ) -> tuple[dict[tuple[Any, ...], dict[str, int]], int, int]:
    """Class -> person -> accounts, the move price used, and how many solves it took."""
    flows = _flow(problem, EPSILON)
    solves = 1
    if max_moves is None or _moved(flows) <= max_moves:
        return flows, EPSILON, solves
    # Lagrangian: the smallest integer price of a move whose optimum moves few enough.
    low, high = EPSILON, EPSILON
    best = flows
    while True:
        high *= 4
        best = _flow(problem, high)
        solves += 1
        if _moved(best) <= max_moves or high > 1 << 40:
            break
    while high - low > 1:
        middle = (low + high) // 2
        trial = _flow(problem, middle)
        solves += 1
        if _moved(trial) <= max_moves:
            high, best = middle, trial
        else:
            low = middle
    return _top_up(problem, best, max_moves), high, solves


def _top_up(problem: _Problem, flows: dict[tuple[Any, ...], dict[str, int]],
            max_moves: int) -> dict[tuple[Any, ...], dict[str, int]]:
    """Spend the moves the priced optimum left unused (ties: many moves gain exactly the same,
    so no price moves exactly N) on the best single moves, one at a time."""
    sizes = _sizes(problem, flows)
    budget = max_moves - _moved(flows)
    while budget > 0:
        best: tuple[int, Any, str] | None = None
        for key, targets in flows.items():
            holder, others, top = key
            if not targets.get(holder):
                continue
            known = problem.in_global.get(top, set())
            for person in others:
                if sizes[person] >= problem.cap[person]:
                    continue
                gain = SCALE * (2 * (sizes[holder] - sizes[person]) - 2) - EPSILON - (
                    0 if person in known or top is None else BETA)
                if gain > 0 and (best is None or gain > best[0]):
                    best = (gain, key, person)
        if best is None:
            break
        _, key, person = best
        flows[key][key[0]] -= 1
        flows[key][person] = flows[key].get(person, 0) + 1
        sizes[key[0]] -= 1
        sizes[person] += 1
        budget -= 1
    return flows


def _flow(problem: _Problem, move_price: int) -> dict[tuple[Any, ...], dict[str, int]]:
    """The optimal flows for this price of a move.

    Book sizes are solved inside a window around a start (a greedy answer): each person gets
    unit arcs only for the sizes in their window, and must take at least its lower end. When
    no final size touches an edge of its window (other than a true bound: fixed accounts,
    capacity, the largest book now), every residual cycle of the whole problem is one of the
    window's, so the answer is optimal for the whole problem; else the window widens around the
    new answer and the flow is solved again.
    """
    ceiling = max(problem.load.values(), default=0)
    top = {p: min(problem.cap[p], ceiling) for p in problem.people}
    start = _greedy(problem, move_price)
    width = 4
    while True:
        low = {p: max(problem.fixed[p], start[p] - width) for p in problem.people}
        high = {p: min(top[p], start[p] + width) for p in problem.people}
        flows = _window_flow(problem, move_price, low, high)
        sizes = _sizes(problem, flows)
        edge = [p for p in problem.people
                if (sizes[p] == low[p] > problem.fixed[p]) or (sizes[p] == high[p] < top[p])]
        if not edge:
            return flows
        start, width = sizes, width * 4


def _window_flow(problem: _Problem, move_price: int, low: dict[str, int],
                 high: dict[str, int]) -> dict[tuple[Any, ...], dict[str, int]]:
    import networkx as nx

    graph: nx.MultiDiGraph[Any] = nx.MultiDiGraph()
    total = sum(len(a) for a in problem.classes.values())
    forced = {p: low[p] - problem.fixed[p] for p in problem.people}
    graph.add_node("source", demand=-total)
    graph.add_node("sink", demand=total - sum(forced.values()))
    for person in problem.people:
        graph.add_node(("person", person), demand=forced[person])
        for k in range(low[person] + 1, high[person] + 1):
            graph.add_edge(("person", person), "sink", capacity=1, weight=SCALE * (2 * k - 1))
    for key, accounts in problem.classes.items():
        holder, others, top = key
        node = ("class", key)
        graph.add_edge("source", node, capacity=len(accounts), weight=0)
        graph.add_edge(node, ("person", holder), capacity=len(accounts), weight=0)
        known = problem.in_global.get(top, set())
        for person in others:
            cost = move_price + (0 if person in known or top is None else BETA)
            graph.add_edge(node, ("person", person), capacity=len(accounts), weight=cost)
    _, flow = nx.network_simplex(graph)
    out: dict[tuple[Any, ...], dict[str, int]] = {}
    for key in problem.classes:
        sent = flow.get(("class", key), {})
        out[key] = {target[1]: sum(arcs.values()) for target, arcs in sent.items()
                    if sum(arcs.values())}
    return out


def _greedy(problem: _Problem, move_price: int) -> dict[str, int]:
    """Book sizes of a quick feasible answer: from the most loaded holder to the least loaded
    person allowed to take its accounts, as many as each still gains more than it costs."""
    import heapq

    sizes = dict(problem.load)
    left = {key: len(accounts) for key, accounts in problem.classes.items()}
    mine: dict[str, list[tuple[str, tuple[str, ...], str | None]]] = {}
    for key in problem.classes:
        mine.setdefault(key[0], []).append(key)
    heap = [(-sizes[p], p) for p in mine]
    heapq.heapify(heap)
    while heap:
        negative, holder = heapq.heappop(heap)
        if -negative != sizes[holder]:
            continue  # stale
        moved = False
        for key in mine[holder]:
            if not left[key]:
                continue
            room = [q for q in key[1] if sizes[q] < problem.cap[q]]
            if not room:
                continue
            target = min(room, key=lambda q: sizes[q])
            known = problem.in_global.get(key[2], set())
            price = move_price + (0 if target in known or key[2] is None else BETA)
            # the k-th unit gains SCALE * (2 * gap - 4k + 2) - price
            gap = sizes[holder] - sizes[target]
            amount = min((2 * SCALE * gap + 2 * SCALE - price - 1) // (4 * SCALE), left[key],
                         problem.cap[target] - sizes[target])
            if amount <= 0:
                continue
            sizes[holder] -= amount
            sizes[target] += amount
            left[key] -= amount
            moved = True
            break
        if moved:
            heapq.heappush(heap, (-sizes[holder], holder))
    return sizes


def _sizes(problem: _Problem, flows: dict[tuple[Any, ...], dict[str, int]]) -> dict[str, int]:
    """Each person's book size under ``flows``."""
    sizes = dict(problem.fixed)
    for targets in flows.values():
        for person, count in targets.items():
            sizes[person] += count
    return sizes


def _moved(flows: dict[tuple[Any, ...], dict[str, int]]) -> int:
    return sum(n for key, targets in flows.items() for person, n in targets.items()
               if person != key[0])


def _moves(problem: _Problem, flows: dict[tuple[Any, ...], dict[str, int]]) -> list[Move]:
    """Concrete accounts for each flow: the class's last accounts in file order (a holder
    keeps the ones listed first, usually the older)."""
    out: list[Move] = []
    for key, targets in flows.items():
        holder = key[0]
        pool = list(problem.classes[key])
        for person in sorted(targets):
            if person == holder:
                continue
            for _ in range(targets[person]):
                out.append(Move(pool.pop(), holder, person))
    return sorted(out, key=lambda m: (m.source, m.target, m.account))


def _score(org: Org, problem: _Problem, moves: Iterable[Move]) -> Score:
    loads = dict(problem.load)
    holder: dict[str, str] = {}
    count = 0
    newcomers = 0
    for move in moves:
        loads[move.source] -= 1
        loads[move.target] += 1
        holder[move.account] = move.target
        count += 1
    tops = problem.tops
    managers: dict[str, set[str]] = {}
    for aid, account in org.accounts.items():
        top = tops.get(aid)
        manager = holder.get(aid, account.manager)
        if top is not None and manager is not None:
            managers.setdefault(top, set()).add(manager)
    for aid, target in holder.items():
        top = tops.get(aid)
        if top is not None and target not in problem.in_global.get(top, set()):
            newcomers += 1
    return Score(squares=sum(v * v for v in loads.values()), newcomers=newcomers,
                 moves=count, loads=loads,
                 managers_per_global={g: len(m) for g, m in sorted(managers.items())})
