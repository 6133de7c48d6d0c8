"""What a plan does to each person's book and to each global account's team.

For every person whose book changes: accounts and revenue before and after (revenue in the
reporting currency, each account's ``revenue`` converted with fx.csv's undated rate) and the
capacity used after. For every global account whose tree changes hands: the managers it gains
and the managers it loses (a manager of a global account is anyone accountable for an account
in its tree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kamcore.changes.plan import Plan
    from kamcore.org import Org
    from kamcore.rollup.fx import FxTable
    from kamcore.workspace.tables import WorkspaceTables

REVENUE = "revenue"


@dataclass(frozen=True)
class PersonImpact:
    """One person's book before and after."""

    id: str
    name: str
    role: str
    accounts_before: int
    accounts_after: int
    revenue_before: float | None
    revenue_after: float | None
    capacity: int | None
    active_after: bool

    @property
    def capacity_used(self) -> float | None:
        """Accounts after as a share of capacity (``None``: no capacity set)."""
        if self.capacity is None:
            return None
        return self.accounts_after / self.capacity if self.capacity else float(
            "inf") if self.accounts_after else 0.0


@dataclass(frozen=True)
class GlobalImpact:
    """A global account's managers before and after."""

    id: str
    name: str
    managers_before: list[str]
    managers_after: list[str]

    @property
    def gains(self) -> list[str]:
        return [m for m in self.managers_after if m not in self.managers_before]

    @property
    def loses(self) -> list[str]:
        return [m for m in self.managers_before if m not in self.managers_after]


@dataclass
class Impact:
    """The impact of a plan (see :func:`impact`)."""

    currency: str
    people: list[PersonImpact] = field(default_factory=list)
    globals: list[GlobalImpact] = field(default_factory=list)
    #: Currencies without an undated FX rate: their accounts' revenue is left out.
    missing_rates: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "people": [{**p.__dict__, "capacity_used": p.capacity_used} for p in self.people],
            "global_accounts": [{**g.__dict__, "gains": g.gains, "loses": g.loses}
                                for g in self.globals],
            "missing_rates": self.missing_rates,
        }


def impact(plan: Plan, fx: FxTable | None = None) -> Impact:
    """Per person and per global account, what ``plan`` changes (read as columns).

    :param fx: the rates to the reporting currency (default: the workspace's fx.csv).
    """
    before, after = plan.before, plan.after
    if fx is None:
        fx = _fx(before)
    result = Impact(currency=before.settings.currency or "")
    people: dict[str, None] = {}
    for c in plan.changes:
        if c.kind == "person":
            was, now = before.people.get(c.id), after.people.get(c.id)
            if was is None or now is None or was.active != now.active:
                people[c.id] = None
        else:
            old = (c.before or {}).get("manager")
            new = (c.after or {}).get("manager")
            if old != new:
                people.update((m, None) for m in (old, new) if m is not None)
    if not people and not plan.changes:
        return result
    tables = _tables(plan)
    missing: set[str] = set()
    books = [_books(t, fx, missing) for t in tables]
    for pid in people:
        person = after.people.get(pid) or before.people.get(pid)
        if person is None:
            continue
        (count_before, revenue_before), (count_after, revenue_after) = (
            book.get(pid, (0, 0.0)) for book in books)
        result.people.append(PersonImpact(
            id=pid, name=person.name, role=person.role.value, accounts_before=count_before,
            accounts_after=count_after, revenue_before=revenue_before,
            revenue_after=revenue_after, capacity=person.capacity, active_after=person.active))
    result.people.sort(key=lambda p: p.id)
    result.missing_rates = sorted(missing)
    if any(c.kind == "account" for c in plan.changes):
        result.globals = _globals(plan, tables)
    return result


def _tables(plan: Plan) -> tuple[WorkspaceTables, WorkspaceTables]:
    """The plan's two sides as tables (a plan file has them already)."""
    from kamcore.workspace.objects import tables_from_org

    return plan.tables or (tables_from_org(plan.before), tables_from_org(plan.after))


def _books(tables: WorkspaceTables, fx: FxTable, missing: set[str]
           ) -> dict[str, tuple[int, float]]:
    """Each manager's number of accounts and revenue in the reporting currency."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.errors import MissingRate

    accounts = tables.accounts
    n = len(accounts)
    column = accounts.column(REVENUE)
    revenue = (np.zeros(n) if column is None
               else column.cast(pa.float64()).to_numpy(zero_copy_only=False))
    currency = pc.dictionary_encode(accounts.text("currency"))
    names = currency.dictionary.to_pylist()
    rates = []
    for name in names:
        try:
            rates.append(fx.rate(name, None))
        except MissingRate:
            rates.append(float("nan"))
    codes = currency.indices.fill_null(len(names)).to_numpy(zero_copy_only=False)
    value = revenue * np.array([*rates, 1.0])[codes]
    unknown = np.isnan(value) & ~np.isnan(revenue)
    missing.update(names[i] for i in np.unique(codes[unknown]).tolist())
    # per manager, summed in row order (numpy: no Acero query engine to import for a group-by)
    managers = pc.dictionary_encode(accounts.text("manager"))
    people = managers.dictionary.to_pylist()
    which = managers.indices.fill_null(len(people)).to_numpy(zero_copy_only=False)
    counts = np.bincount(which, minlength=len(people) + 1)
    sums = np.bincount(which, weights=np.nan_to_num(value), minlength=len(people) + 1)
    return {m: (int(k), float(v)) for m, k, v in zip(people, counts.tolist(), sums.tolist(),
                                                     strict=False)}


def _globals(plan: Plan, tables: tuple[WorkspaceTables, WorkspaceTables]
             ) -> list[GlobalImpact]:
    """Global accounts whose set of managers differs before and after."""
    old, new = _teams(tables[0]), _teams(tables[1])
    out = []
    for gid in sorted(set(old) | set(new)):
        was, now = old.get(gid, set()), new.get(gid, set())
        if was != now:
            record = plan.after.accounts.get(gid) or plan.before.accounts[gid]
            out.append(GlobalImpact(gid, record.name, sorted(was), sorted(now)))
    return out


def _teams(tables: WorkspaceTables) -> dict[str, set[str]]:
    """Each global account's managers: everyone accountable for an account in its tree."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.structure import account_index

    top = account_index(tables).top
    rows = np.flatnonzero(top >= 0)
    accounts = tables.accounts
    managers = pc.dictionary_encode(accounts.text("manager"))
    people = managers.dictionary.to_pylist()
    nobody = len(people)  # the code of an account without a manager
    codes = managers.indices.fill_null(nobody).to_numpy(zero_copy_only=False)
    # the distinct (global account row, manager) pairs, as one int64 key each
    pairs = np.unique(top[rows].astype(np.int64) * (nobody + 1) + codes[rows])
    tops, whom = np.divmod(pairs, nobody + 1)
    teams: dict[str, set[str]] = {}
    for g, m in zip(accounts.ids.take(pa.array(tops)).to_pylist(), whom.tolist(), strict=True):
        team = teams.setdefault(g, set())
        if m != nobody:
            team.add(people[m])
    return teams


def _fx(org: Org) -> FxTable:
    from kamcore.rollup.fx import FxTable, read_fx

    reporting = org.settings.currency or ""
    if org.path is None or org.storage == "inline":
        return FxTable(reporting)
    return read_fx(org.path, reporting)
