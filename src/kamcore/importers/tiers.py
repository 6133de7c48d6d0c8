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
The inference runs over index arrays (:func:`infer_tier_columns`): an account's tier is a
function of its parent's, so the functions along each branch are composed by pointer doubling
(``log2(depth)`` numpy passes), and the countries under an account are counted as distinct
(account, country) pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from kamcore.models import Tier
from kamcore.wording import plural

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

_TIER_WORDS = {t.value: t for t in Tier}
#: Tier by rank (the codes of :func:`infer_tier_columns`): global 0 ... regular 3.
TIERS = list(Tier)
_G, _N, _K, _R = range(4)


@dataclass(frozen=True)
class TierGuess:
    """An inferred tier and why."""

    tier: Tier
    reason: str


@dataclass(frozen=True)
class TierColumns:
    """Each account's inferred tier (its rank: global 0 ... regular 3) and why, by row."""

    tier: np.ndarray
    reason: pa.Array


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


def default_threshold(revenues: Sequence[float] | np.ndarray, *,
                      share: float = 0.1) -> float | None:
    """The revenue at which the top ``share`` of accounts begins (``None`` under 10 accounts).

    >>> default_threshold([float(i) for i in range(1, 101)])
    91.0
    """
    import numpy as np

    values = np.asarray(revenues, dtype=np.float64)
    positive = values[values > 0]
    if len(positive) < 10:
        return None
    at = int(len(positive) * (1 - share))
    return float(np.partition(positive, at)[at])  # the sorted values' [at], without a sort


def infer_tiers(order: Sequence[str], parent: Mapping[str, str | None],
                country: Mapping[str, str | None], revenue: Mapping[str, float], *,
                threshold: float | None,
                fixed: Mapping[str, Tier] | None = None) -> dict[str, TierGuess]:
    """Infer a tier for every account in ``order`` (by id; see :func:`infer_tier_columns`).

    :param order: account ids in file order.
    :param parent: id -> parent id (``None`` for roots); must be loop-free.
    :param country: id -> alpha-2 code or ``None``.
    :param revenue: id -> revenue, for the "large account" rule.
    :param threshold: revenue that makes a leaf account key; ``None`` turns the rule off.
    :param fixed: tiers already known (from a column); the accounts below build on them.
    :returns: id -> :class:`TierGuess`.
    """
    import numpy as np
    import pyarrow as pa

    row = {aid: i for i, aid in enumerate(order)}
    ups = [parent.get(aid) for aid in order]
    fixed = fixed or {}
    columns = infer_tier_columns(
        pa.array(list(order), pa.string()),
        np.array([-1 if up is None else row[up] for up in ups], dtype=np.int64),
        pa.array([country.get(aid) for aid in order], pa.string()),
        np.array([revenue.get(aid, 0.0) for aid in order], dtype=np.float64),
        threshold=threshold,
        fixed=np.array([fixed[aid].rank if aid in fixed else -1 for aid in order],
                       dtype=np.int8))
    return {aid: TierGuess(TIERS[tier], reason) for aid, tier, reason in zip(
        order, columns.tier.tolist(), columns.reason.to_pylist(), strict=True)}


def infer_tier_columns(ids: pa.Array, parent: np.ndarray, country: pa.Array,
                       revenue: np.ndarray, *, threshold: float | None,
                       fixed: np.ndarray) -> TierColumns:
    """Infer every account's tier, over rows.

    :param ids: the accounts' ids (the reasons name parents by id).
    :param parent: each row's parent row (-1: a root); must be loop-free.
    :param country: each row's alpha-2 code (null or empty: none).
    :param revenue: each row's revenue, for the "large account" rule.
    :param threshold: revenue that makes a leaf account key; ``None`` turns the rule off.
    :param fixed: each row's tier rank from a column (-1: none); rows below build on it.
    """
    import numpy as np
    import pyarrow as pa

    n = len(parent)
    if not n:
        return TierColumns(np.zeros(0, dtype=np.int8), ids.cast(pa.string()))
    parent = np.asarray(parent, dtype=np.int64)
    fixed = np.asarray(fixed, dtype=np.int8)
    root = parent < 0
    kids = np.bincount(parent[~root], minlength=n)
    large = (revenue >= threshold) if threshold is not None else np.zeros(n, dtype=bool)
    has_fixed = fixed >= 0
    codes, names = _country_codes(country)
    # Roots first: their tier needs the countries of their whole tree.
    root_span = _spans(parent, codes, len(names), root)
    tier = np.full(n, _R, dtype=np.int8)
    tier[root & (kids > 0)] = _N
    tier[root & (kids == 0) & large] = _K
    tier[root & (np.bincount(root_span // len(names), minlength=n) >= 2) if len(names)
         else np.zeros(n, dtype=bool)] = _G
    tier[root & has_fixed] = fixed[root & has_fixed]
    # Below a root, a row's tier is a function of its parent's: composed along each branch.
    # A function of four tiers to four tiers is a byte (tier t's image in bits 2t, 2t+1), so
    # a composition is one look-up in a 256 x 256 table.
    step = np.full(n, _pack(_N, _R, _R, _R), dtype=np.uint8)
    step[(kids > 0) | large] = _pack(_N, _K, _R, _R)
    step[has_fixed] = fixed[has_fixed].astype(np.uint8) * _pack(1, 1, 1, 1)
    compose = _compositions()
    jump = parent.copy()
    active = np.flatnonzero(~root)
    for _ in range(max(1, int(n).bit_length() + 1)):
        active = active[parent[jump[active]] >= 0]  # still short of its root
        if not len(active):
            break
        above = jump[active]
        step[active] = compose[(step[active].astype(np.intp) << 8) | step[above]]
        jump[active] = jump[above]
    below = np.flatnonzero(~root)
    tier[below] = (step[below] >> (2 * tier[jump[below]]).astype(np.uint8)) & 3
    reason = _reasons(ids, parent, tier, kids, fixed, codes, names, revenue, threshold)
    return TierColumns(tier, reason)


def _pack(*images: int) -> int:
    """The byte of the function taking tier rank ``t`` to ``images[t]``."""
    return sum(image << 2 * t for t, image in enumerate(images))


@cache
def _compositions() -> np.ndarray:
    """``table[f << 8 | g]``: the byte of ``f`` after ``g`` (``g``'s image, then ``f``'s)."""
    import numpy as np

    shifts = 2 * np.arange(4)
    images = (np.arange(256)[:, None] >> shifts) & 3  # images[f, t]: f's image of t
    after = images[np.arange(256)[:, None, None], images[None, :, :]]  # [f, g, t]
    return (after << shifts).sum(axis=2).astype(np.uint8).reshape(-1)


def _country_codes(country: pa.Array) -> tuple[np.ndarray, list[str]]:
    """Each row's country as an index into the sorted distinct codes (-1: none)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    filled = pc.if_else(pc.equal(country, ""), pa.scalar(None, pa.string()), country)
    names = sorted(v for v in pc.unique(filled).to_pylist() if v is not None)
    found = pc.index_in(filled, value_set=pa.array(names, pa.string())).fill_null(-1)
    return found.to_numpy(zero_copy_only=False).astype(np.int64), names


def _spans(parent: np.ndarray, codes: np.ndarray, size: int, heads: np.ndarray) -> np.ndarray:
    """The countries under each of the rows ``heads`` (itself included), as sorted distinct
    ``row * size + country`` pairs; a head below another head counts towards both."""
    import numpy as np

    from kamcore.structure import jump_to

    if not size:
        return np.zeros(0, dtype=np.int64)
    near = jump_to(parent, heads)
    with_code = (codes >= 0) & (near >= 0)
    found = np.unique(near[with_code] * size + codes[with_code])
    head_rows = np.flatnonzero(heads)
    up = np.full(len(parent), -1, dtype=np.int64)  # a head's nearest head above it
    inner = head_rows[parent[head_rows] >= 0]
    up[inner] = near[parent[inner]]
    fresh = found
    while len(fresh):
        rows, code = fresh // size, fresh % size
        above = up[rows]
        lifted = np.unique(above[above >= 0] * size + code[above >= 0])
        fresh = np.setdiff1d(lifted, found, assume_unique=True)
        found = np.union1d(found, fresh)
    return found


def _reasons(ids: pa.Array, parent: np.ndarray, tier: np.ndarray, kids: np.ndarray,
             fixed: np.ndarray, codes: np.ndarray, names: list[str], revenue: np.ndarray,
             threshold: float | None) -> pa.Array:
    """Why each row got its tier, as one Arrow string column (built by kind of reason)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(parent)
    root = parent < 0
    up = np.where(root, 0, parent)
    above = np.where(root, -1, tier[up])
    free = fixed < 0

    def up_ids(rows: np.ndarray) -> pa.Array:  # the parents' ids of rows below a root
        return ids.take(pa.array(parent[rows]))

    def child_accounts(rows: np.ndarray) -> pa.Array:
        return _counted(kids[rows], "child account")

    def accounts(rows: np.ndarray) -> pa.Array:
        return _counted(kids[rows], "account")

    parts: list[tuple[np.ndarray, pa.Array]] = []

    def some(mask: np.ndarray) -> np.ndarray:
        return np.flatnonzero(mask & free)

    def join(rows: np.ndarray, *pieces: str | pa.Array | Callable[[np.ndarray], pa.Array]
             ) -> None:
        """The rows' reasons, from text, a column (taken at the rows) or the rows' own."""
        if not len(rows):
            return
        if all(isinstance(p, str) for p in pieces):
            parts.append((rows, pa.repeat(pa.scalar("".join(map(str, pieces))), len(rows))))
            return
        index = pa.array(rows)
        args = [pa.scalar(p, pa.string()) if isinstance(p, str) else
                p.take(index) if isinstance(p, pa.Array) else p(rows) for p in pieces]
        parts.append((rows, pc.binary_join_element_wise(*args, "")))

    def each(rows: np.ndarray, text: list[str]) -> None:
        if len(rows):
            parts.append((rows, pa.array(text, pa.string())))

    # countries under the roots and under the accounts below a global one, for the notes
    heads = free & (root | (above == _G))
    size = max(len(names), 1)
    span = _spans(parent, codes, len(names), heads)
    count = np.bincount(span // size, minlength=n) if len(span) else np.zeros(n, np.int64)
    starts = np.searchsorted(span, np.arange(n) * size) if len(span) else None

    def few(row: int) -> str:
        assert starts is not None
        shown = [names[c] for c in (span[starts[row]: starts[row] + count[row]] % size)]
        return ", ".join(shown[:5]) + (", ..." if len(shown) > 5 else "")

    rows = some(root & (tier == _G))
    each(rows, [f"root spanning {count[r]} countries ({few(r)})" for r in rows.tolist()])
    join(some(root & (tier == _N)), "one-country root with ", child_accounts)
    under = some(above == _G)
    noted = under[count[under] >= 2]
    plain = under[count[under] < 2]
    join(plain[kids[plain] == 0], "under global ", up_ids, ": its part in one country")
    join(plain[kids[plain] > 0], "under global ", up_ids, ": its part in one country, with ",
         child_accounts)
    each(noted, [f"under global {ids[int(parent[r])].as_py()}: its part in one country"
                 + (f", with {plural(int(kids[r]), 'child account')}" if kids[r] else "")
                 + f"; spans {count[r]} countries ({few(r)}), check it"
                 for r in noted.tolist()])
    key = (tier == _K) & ((above == -1) | (above == _N))
    join(some(key & (kids > 0)), "parent of ", accounts)
    rows = some(key & (kids == 0))
    each(rows, [f"large account: revenue {revenue[r]:,.0f} >= {threshold:,.0f}"
                for r in rows.tolist()])
    regular = tier == _R
    join(some(regular & root), "standalone account")
    join(some(regular & (above == _N)), "small account under a national one")
    join(some(regular & (above == _K)), "below key account ", up_ids)
    join(some(regular & (above == _R)), "below regular account ", up_ids)
    join(np.flatnonzero(~free), "given")
    if not parts:
        return pa.array([], pa.string())
    placed = np.concatenate([rows for rows, _ in parts])
    if len(placed) != n:
        raise AssertionError("a tier without a reason")
    order = np.empty(n, dtype=np.int64)
    order[placed] = np.arange(n)
    return pa.concat_arrays([text for _, text in parts]).take(pa.array(order))


def _counted(counts: np.ndarray, word: str) -> pa.Array:
    """:func:`~kamcore.wording.plural` of each count and ``word``, as a string column (the
    few counts of four digits and more, which take a thousands separator, one by one)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.exporters.columns import patched

    number = pa.array(counts)
    text = pc.binary_join_element_wise(
        pc.cast(number, pa.string()),
        pc.if_else(pc.equal(number, 1), f" {word}", f" {plural(2, word).split(' ', 1)[1]}"), "")
    big = np.flatnonzero(counts >= 1000)
    return patched(text, big, [plural(int(c), word) for c in counts[big]])
