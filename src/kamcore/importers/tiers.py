"""Tiers for imported accounts: from a column the user names, or inferred from the tree.

Inference follows the domain's definitions and keeps tiers descending down every branch:

- a root whose accounts span two or more countries is **global**;
- an account directly under a global account is **national** (the customer in one country:
  siblings under one global account get one rule, whatever their size); a root with children
  in one country is national too;
- below a national account (or as a root), a parent or a *large* account
  (revenue at or above a threshold) is **key**;
- everything else is **regular**.

Every inferred tier comes with the reason, so the import report can list it for checking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from kamcore.models import Tier
from kamcore.wording import plural

_TIER_WORDS = {t.value: t for t in Tier}
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TierGuess:
    """An inferred tier and why."""

    tier: Tier
    reason: str


def tier_from_value(value: str, mapping: Mapping[str, str]) -> Tier | None:
    """The tier a cell names through the user's mapping (case-insensitive), or ``None``.

    >>> tier_from_value("Customer - Direct", {"customer - direct": "key"})
    <Tier.KEY: 'key'>
    >>> tier_from_value("National", {}) is Tier.NATIONAL
    True
    """
    text = value.strip().lower()
    if not text:
        return None
    target = mapping.get(text)
    if target is not None:
        return Tier(target.strip().lower())
    return _TIER_WORDS.get(text)


def default_threshold(revenues: Sequence[float], *, share: float = 0.1) -> float | None:
    """The revenue at which the top ``share`` of accounts begins (``None`` under 10 accounts).

    >>> default_threshold([float(i) for i in range(1, 101)])
    91.0
    """
    positive = sorted(r for r in revenues if r > 0)
    if len(positive) < 10:
        return None
    return positive[int(len(positive) * (1 - share))]


def infer_tiers(order: Sequence[str], parent: Mapping[str, str | None],
                country: Mapping[str, str | None], revenue: Mapping[str, float], *,
                threshold: float | None,
                fixed: Mapping[str, Tier] | None = None) -> dict[str, TierGuess]:
    """Infer a tier for every account in ``order``.

    :param order: account ids in file order.
    :param parent: id -> parent id (``None`` for roots); must be loop-free.
    :param country: id -> alpha-2 code or ``None``.
    :param revenue: id -> revenue, for the "large account" rule.
    :param threshold: revenue that makes a leaf account key; ``None`` turns the rule off.
    :param fixed: tiers already known (from a column); the accounts below build on them.
    :returns: id -> :class:`TierGuess`.
    """
    children: dict[str, list[str]] = {}
    roots: list[str] = []
    for aid in order:
        up = parent.get(aid)
        if up is None:
            roots.append(aid)
        else:
            children.setdefault(up, []).append(aid)
    top_down: list[str] = list(roots)
    for aid in top_down:  # grows while iterating: breadth first
        top_down.extend(children.get(aid, ()))
    # The countries of each parent's subtree (a leaf's are its own: no set for it).
    spans: dict[str, set[str]] = {}
    for aid in reversed(top_down):
        own = country.get(aid)
        seen = spans.get(aid)
        if seen is not None and own:
            seen.add(own)
        up = parent.get(aid)
        if up is None:
            continue
        target = spans.get(up)
        if target is None:
            target = spans[up] = set()
        if seen is not None:
            target.update(seen)
        elif own:
            target.add(own)

    guesses: dict[str, TierGuess] = {}
    fixed = fixed or {}
    glob, national, key, regular = Tier.GLOBAL, Tier.NATIONAL, Tier.KEY, Tier.REGULAR
    for aid in top_down:
        if aid in fixed:
            guesses[aid] = TierGuess(fixed[aid], "given")
            continue
        kids = len(children.get(aid, ()))
        up = parent.get(aid)
        above = guesses[up].tier if up is not None else None
        large = threshold is not None and revenue.get(aid, 0.0) >= threshold
        countries: AbstractSet[str] = _NONE
        if above is None or above is glob:  # the only cases that look at the countries
            own = country.get(aid)
            countries = spans.get(aid) or (frozenset((own,)) if own else _NONE)
        if above is None and len(countries) >= 2:
            guess = TierGuess(glob, f"root spanning {len(countries)} countries "
                                           f"({_few(countries)})")
        elif above is glob or (above is None and kids):
            note = (f"; spans {len(countries)} countries ({_few(countries)}), check it"
                    if len(countries) >= 2 else "")
            where = (f"one-country root with {plural(kids, 'child account')}" if above is None else
                     f"under global {up}: its part in one country" + (
                         f", with {plural(kids, 'child account')}" if kids else ""))
            guess = TierGuess(national, where + note)
        elif above in (None, national) and (kids or large):
            guess = TierGuess(key, f"parent of {plural(kids, 'account')}" if kids else
                              f"large account: revenue {revenue.get(aid, 0.0):,.0f} >= "
                              f"{threshold:,.0f}")
        elif above is None:
            guess = TierGuess(regular, "standalone account")
        elif above is national:
            guess = TierGuess(regular, f"small account under a {above} one")
        else:
            guess = TierGuess(regular, f"below {above} account {up}")
        guesses[aid] = guess
    return guesses


def _few(codes: AbstractSet[str]) -> str:
    ordered = sorted(codes)
    return ", ".join(ordered[:5]) + (", ..." if len(ordered) > 5 else "")
