"""Tier inference over index arrays gives the tiers and reasons of the account-by-account
rules it replaced, on random forests (deep chains, fixed tiers anywhere, several countries)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore.importers.tiers import TIERS, infer_tier_columns, infer_tiers
from kamcore.models import Tier
from kamcore.wording import plural


def reference(order: Sequence[str], parent: Mapping[str, str | None],
              country: Mapping[str, str | None], revenue: Mapping[str, float],
              threshold: float | None, fixed: Mapping[str, Tier]) -> dict[str, tuple[str, str]]:
    """The rules as the importer applied them one account at a time (kamcore 0.x)."""
    children: dict[str, list[str]] = {}
    top_down = [a for a in order if parent.get(a) is None]
    for aid in order:
        if parent.get(aid) is not None:
            children.setdefault(parent[aid], []).append(aid)  # type: ignore[index]
    for aid in top_down:
        top_down.extend(children.get(aid, ()))

    def span(aid: str) -> set[str]:
        out = {country[aid]} if country.get(aid) else set()
        for kid in children.get(aid, ()):
            out |= span(kid)
        return out

    def few(codes: set[str]) -> str:
        ordered = sorted(codes)
        return ", ".join(ordered[:5]) + (", ..." if len(ordered) > 5 else "")

    out: dict[str, tuple[str, str]] = {}
    for aid in top_down:
        if aid in fixed:
            out[aid] = (fixed[aid].value, "given")
            continue
        kids = len(children.get(aid, ()))
        up = parent.get(aid)
        above = out[up][0] if up is not None else None
        large = threshold is not None and revenue.get(aid, 0.0) >= threshold
        codes = span(aid) if above in (None, "global") else set()
        if above is None and len(codes) >= 2:
            out[aid] = ("global", f"root spanning {len(codes)} countries ({few(codes)})")
        elif above == "global" or (above is None and kids):
            note = (f"; spans {len(codes)} countries ({few(codes)}), check it"
                    if len(codes) >= 2 else "")
            where = (f"one-country root with {plural(kids, 'child account')}" if above is None
                     else f"under global {up}: its part in one country"
                     + (f", with {plural(kids, 'child account')}" if kids else ""))
            out[aid] = ("national", where + note)
        elif above in (None, "national") and (kids or large):
            out[aid] = ("key", f"parent of {plural(kids, 'account')}" if kids else
                        f"large account: revenue {revenue.get(aid, 0.0):,.0f} >= "
                        f"{threshold:,.0f}")
        elif above is None:
            out[aid] = ("regular", "standalone account")
        elif above == "national":
            out[aid] = ("regular", "small account under a national one")
        else:
            out[aid] = ("regular", f"below {above} account {up}")
    return out


@st.composite
def forests(draw: st.DrawFn) -> tuple[list[str], dict[str, str | None], dict[str, str | None],
                                      dict[str, float], float | None, dict[str, Tier]]:
    n = draw(st.integers(0, 40))
    order = [f"A{i}" for i in range(n)]
    parent: dict[str, str | None] = {}
    for i, aid in enumerate(order):  # a parent earlier in a random order: never a loop
        parent[aid] = None if i == 0 or (draw(st.booleans()) and draw(st.booleans())) else \
            order[draw(st.integers(0, i - 1))]
    shuffled = draw(st.permutations(order))
    codes = st.sampled_from([None, "", "DE", "FR", "GB", "IT", "ES", "NL", "US"])
    country = {aid: draw(codes) for aid in order}
    revenue = {aid: float(draw(st.integers(0, 2_000_000))) for aid in order
               if draw(st.booleans())}
    threshold = draw(st.none() | st.floats(0, 2_000_000))
    fixed = {aid: draw(st.sampled_from(list(Tier))) for aid in order
             if draw(st.integers(0, 5)) == 0}
    return list(shuffled), parent, country, revenue, threshold, fixed


@settings(max_examples=300, deadline=None)
@given(forests())
def test_tiers_over_arrays_agree_with_the_account_by_account_rules(case) -> None:
    order, parent, country, revenue, threshold, fixed = case
    want = reference(order, parent, country, revenue, threshold, fixed)
    got = infer_tiers(order, parent, country, revenue, threshold=threshold, fixed=fixed)
    assert {a: (g.tier.value, g.reason) for a, g in got.items()} == want


def test_a_deep_chain_is_composed_in_a_few_passes() -> None:
    n = 200_000
    parent = np.arange(-1, n - 1, dtype=np.int64)
    fixed = np.full(n, -1, dtype=np.int8)
    fixed[n // 2] = 0  # a global account half way down: national right below it
    got = infer_tier_columns(pa.array([f"A{i}" for i in range(n)]), parent,
                             pa.array(["DE"] * n), np.zeros(n), threshold=None, fixed=fixed)
    tiers = [TIERS[t].value for t in got.tier[[0, 1, 2, n // 2, n // 2 + 1, n // 2 + 2]]]
    assert tiers == ["national", "key", "regular", "global", "national", "key"]
    assert got.reason[n // 2 + 1].as_py() == f"under global A{n // 2}: its part in one " \
        "country, with 1 child account"


def test_counts_of_thousands_are_written_with_a_separator() -> None:
    n = 1_501
    parent = np.zeros(n, dtype=np.int64)
    parent[0] = -1
    got = infer_tier_columns(pa.array([f"A{i}" for i in range(n)]), parent,
                             pa.array(["DE"] * n), np.zeros(n), threshold=None,
                             fixed=np.full(n, -1, dtype=np.int8))
    assert got.reason[0].as_py() == "one-country root with 1,500 child accounts"
