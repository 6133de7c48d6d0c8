"""Every rollup view of :func:`kamcore.rollup` against plain Org/networkx queries on random orgs."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

import kamcore
from kamcore import Account, Org, Person


@st.composite
def orgs(draw: st.DrawFn) -> Org:
    n = draw(st.integers(1, 25))
    p = draw(st.integers(1, 8))
    people = [Person(id=f"P{i}", name=f"P {i}", role="kam",
                     reports_to=None if i == 0 or (draw(st.booleans()) and i < 2)
                     else f"P{draw(st.integers(0, i - 1))}") for i in range(p)]
    order = draw(st.permutations(range(n)))
    accounts = []
    for i in order:
        parent = draw(st.integers(-1, i - 1)) if i else -1
        revenue = draw(st.one_of(st.none(), st.floats(0, 1e7)))
        orders = draw(st.one_of(st.none(), st.integers(0, 500)))
        metrics = {k: float(v) for k, v in (("revenue", revenue), ("orders", orders))
                   if v is not None}
        accounts.append(Account(
            id=f"A{i}", name=f"Account {i}", tier=draw(st.sampled_from(
                ["global", "national", "key", "regular"])),
            parent=None if parent < 0 else f"A{parent}",
            manager=draw(st.one_of(st.none(), st.sampled_from([x.id for x in people]))),
            country=draw(st.sampled_from(["DE", "US", None])),
            metrics=metrics))
    pm = kamcore.get_plugin_manager(load_entrypoints=False)
    return Org.build(accounts, people, registry=kamcore.registry_for(pm))


def total(org: Org, ids: list[str], metric: str) -> float | None:
    values = [org.accounts[a].metrics[metric] for a in ids if metric in org.accounts[a].metrics]
    return math.fsum(values) if values else None


def same(got: float | None, want: float | None) -> bool:
    if got is None or want is None:
        return got is None and want is None
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=40, deadline=None)
@given(orgs())
def test_account_view_matches_subtrees(org):
    rows = kamcore.rollup(org, ["revenue", "orders"]).rows
    assert [r["id"] for r in rows] == [a for root in org.roots() for a in org.subtree(root)]
    for row in rows:
        subtree = org.subtree(row["id"])
        assert row["depth"] == org.depth(row["id"])
        assert same(row["revenue_total"], total(org, subtree, "revenue"))
        assert row["orders_total"] == total(org, subtree, "orders")  # integers: exact
        assert row["orders"] == org.accounts[row["id"]].metrics.get("orders")


@settings(max_examples=40, deadline=None)
@given(orgs())
def test_manager_view_matches_books_and_teams(org):
    rows = {r["id"]: r for r in kamcore.rollup(org, ["revenue", "orders"], by="manager").rows}
    for pid in org.people:
        row = rows[pid]
        assert row["accounts"] == len(org.book(pid))
        assert row["team_accounts"] == len(org.team_book(pid))
        assert same(row["revenue_book"], total(org, org.book(pid), "revenue"))
        assert same(row["revenue_team"], total(org, org.team_book(pid), "revenue"))
        assert row["orders_team"] == total(org, org.team_book(pid), "orders")
    unassigned = [a for a, acc in org.accounts.items() if acc.manager is None]
    assert ("(unassigned)" in rows) == bool(unassigned)
    if unassigned:
        assert rows["(unassigned)"]["orders_book"] == total(org, unassigned, "orders")


@settings(max_examples=40, deadline=None)
@given(orgs(), st.sampled_from(["tier", "country"]))
def test_group_views_sum_own_values(org, by):
    rows = kamcore.rollup(org, ["revenue", "orders"], by=by).rows
    assert sum(r["accounts"] for r in rows) == len(org.accounts)
    for row in rows:
        key = None if row[by] == "(none)" else row[by]
        members = [a for a, acc in org.accounts.items()
                   if (getattr(acc, by).value if by == "tier" else getattr(acc, by)) == key]
        assert row["accounts"] == len(members)
        assert same(row["revenue"], total(org, members, "revenue"))
        assert row["orders"] == total(org, members, "orders")
