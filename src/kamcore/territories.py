"""Territories, the third tree: which territory each account is in, and why.

An account's territory is, in order: its ``territory`` cell in accounts.csv (a manual override),
else the first assignment rule of kam.yaml (``territories: rules:``) it matches: country,
region or state (the ``region`` column), industry, tier and a revenue band, each a list of
allowed values. The rule that placed each account is kept beside it (``override``,
``rule 2 (DACH)``), so every listing can say why. Vectorised: a rule is a few mask operations
over the columns, whatever the number of accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kamcore.wording import plural

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.changes.plan import RecordChange
    from kamcore.org import Org
    from kamcore.settings import AssignmentRule
    from kamcore.workspace.tables import RecordTable, WorkspaceTables

#: The accounts.csv columns of the territory side.
OVERRIDE_COLUMN = "territory"
REGION_COLUMN = "region"
EXCEPTION_COLUMN = "territory_exception"
#: Columns a territory rollup or listing reads beside the core ones.
COLUMNS = ("territories", OVERRIDE_COLUMN, REGION_COLUMN, EXCEPTION_COLUMN)


@dataclass
class Assignment:
    """Each account's territory (by row), and how it got there.

    :ivar territory: row in the territories table per account row (-1: none).
    :ivar how: per account row, ``"override"``, ``"rule N (name)"`` or ``None``.
    """

    territory: np.ndarray
    how: list[str | None]


def rule_label(number: int, rule: AssignmentRule) -> str:
    """``rule 2 (DACH)``: rules are numbered from 1 in kam.yaml order."""
    return f"rule {number}" + (f" ({rule.name})" if rule.name else "")


def assign(tables: WorkspaceTables) -> Assignment:
    """Every account's territory: the override column first, then the first matching rule.

    An override or rule naming no territory of territories.csv assigns nothing (the rules
    KAM195 and KAM196 report it).
    """
    import numpy as np

    from kamcore.structure import row_of

    cached: Assignment | None = tables.__dict__.get("_assignment")
    if cached is not None:
        return cached
    accounts = tables.accounts
    n = len(accounts)
    territory = np.full(n, -1, dtype=np.int64)
    how: list[str | None] = [None] * n
    if tables.territories is None:
        return Assignment(territory, how)
    ids = tables.territories.ids
    override = row_of(ids, accounts.text(OVERRIDE_COLUMN))
    for row in np.flatnonzero(override >= 0).tolist():
        how[row] = "override"
    territory[:] = override
    given = accounts.text(OVERRIDE_COLUMN).is_valid().to_numpy(zero_copy_only=False)
    open_rows = ~given
    for number, rule in enumerate(tables.settings.territories.rules, start=1):
        target = row_of(ids, _one(rule.territory))[0]
        if target < 0:
            continue
        hit = open_rows & matches(accounts, rule)
        territory[hit] = target
        label = rule_label(number, rule)
        for row in np.flatnonzero(hit).tolist():
            how[row] = label
        open_rows &= ~hit
    found = Assignment(territory, how)
    tables.__dict__["_assignment"] = found
    return found


def matches(accounts: RecordTable, rule: AssignmentRule) -> np.ndarray:
    """The account rows ``rule`` matches (every criterion it gives holds)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    hit = np.ones(len(accounts), dtype=bool)
    for column, allowed, fold in (("country", rule.country, pc.utf8_upper),
                                  (REGION_COLUMN, rule.region, pc.utf8_lower),
                                  ("industry", rule.industry, pc.utf8_lower),
                                  ("tier", rule.tier, pc.utf8_lower)):
        if allowed:
            cells = fold(accounts.text(column))
            wanted = fold(_many(allowed))
            hit &= pc.is_in(cells, value_set=wanted).fill_null(False).to_numpy(
                zero_copy_only=False)
    if rule.revenue_min is not None or rule.revenue_max is not None:
        band = accounts.column(rule.metric)
        values = np.full(len(accounts), np.nan)
        if band is not None and pa.types.is_floating(band.type):
            values = band.to_numpy(zero_copy_only=False)
        if rule.revenue_min is not None:
            hit &= values >= rule.revenue_min
        if rule.revenue_max is not None:
            hit &= values < rule.revenue_max
    return hit


def _one(value: str) -> pa.Array:
    return _many([value])


def _many(values: list[str]) -> pa.Array:
    import pyarrow as pa

    return pa.array(values, pa.string())


def territory_parents(tables: WorkspaceTables) -> np.ndarray:
    """Row of each territory's parent (-1: a root, unknown, or a duplicate row)."""
    import numpy as np

    from kamcore.structure import first_rows, row_of

    territories = tables.territories
    assert territories is not None
    linked = row_of(territories.ids, territories.text("parent"))
    return np.where(first_rows(territories.ids), linked, -1)


def territory_rows(tables: WorkspaceTables) -> list[dict[str, Any]]:
    """The territory tree in depth-first order with account counts: each territory's own
    accounts (``accounts``) and its subtree's (``total``), its manager and depth, and the
    manager's name last (added after the others, so CSV columns keep their places)."""
    import numpy as np

    from kamcore.contacts import person_names
    from kamcore.structure import children_of, cycles, first_rows, roots_of

    territories = tables.territories
    if territories is None:
        return []
    parent = territory_parents(tables)
    stuck, _ = cycles(parent)
    keep = first_rows(territories.ids) & ~stuck
    placed = assign(tables).territory
    own = np.bincount(placed[placed >= 0], minlength=len(territories))
    children = children_of(parent, keep)
    out: list[dict[str, Any]] = []
    names = territories.text("name").to_pylist()
    managers = territories.text("manager").to_pylist()
    manager_names = person_names(tables, territories.text("manager"))
    ids = territories.ids.to_pylist()

    order: list[tuple[int, int]] = []  # (row, depth) depth first, without recursion
    stack = [(root, 0) for root in reversed(roots_of(parent, keep))]
    while stack:
        row, depth = stack.pop()
        order.append((row, depth))
        stack += [(kid, depth + 1) for kid in reversed(children(row))]
    total = own.copy()
    for row, _ in reversed(order):  # children come after their parent: add them up bottom-up
        if parent[row] >= 0:
            total[parent[row]] += total[row]
    for row, depth in order:
        out.append({"id": ids[row], "name": names[row], "manager": managers[row],
                    "depth": depth, "accounts": int(own[row]), "total": int(total[row]),
                    "manager_name": manager_names[row]})
    return out


def account_rows(tables: WorkspaceTables) -> list[dict[str, Any]]:
    """Each account with its territory and the rule that put it there (file order)."""
    found = assign(tables)
    accounts = tables.accounts
    territory_ids = tables.territories.ids.to_pylist() if tables.territories is not None else []
    ids = accounts.ids.to_pylist()
    return [{"account": ids[row], "territory": territory_ids[t] if t >= 0 else None,
             "rule": found.how[row]} for row, t in enumerate(found.territory.tolist())]


def territory_impact(before: Org, changes: list[RecordChange]) -> list[str]:
    """What a plan does to the territories: how many accounts of each territory change
    manager or tier (a plan check, shown with the plan's notes). Empty without
    territories.csv, or when it cannot be read (``kam validate`` says why)."""
    from collections import Counter

    from kamcore.errors import KamError
    from kamcore.workspace.objects import tables_from_org
    from kamcore.workspace.tables import read_optional

    if before.path is None:
        return []
    problems: list[KamError] = []
    territories = read_optional(before.path, "territories", problems)
    if territories is None or problems:
        return []
    touched = [c.id for c in changes if c.kind == "account" and c.before and c.after
               and any(k in ("manager", "tier") for k, _, _ in c.fields())]
    if not touched:
        return []
    tables = tables_from_org(before)
    tables.territories = territories
    found = assign(tables)
    row = {aid: i for i, aid in enumerate(tables.accounts.ids.to_pylist())}
    names = territories.ids.to_pylist()
    counts = Counter(names[t] if (t := int(found.territory[row[aid]])) >= 0 else "(none)"
                     for aid in touched if aid in row)
    return ["territory impact: " + ", ".join(f"{plural(n, 'account')} in {t}"
                                             for t, n in sorted(counts.items()))]
