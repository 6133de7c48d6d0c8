"""The numpy rollup engine: sums, counts, min, max, means and weighted means up a compiled tree.

Everything works on level-ordered ``(k, N)`` float64 arrays (see :mod:`kamcore.rollup.compile`);
a missing value is NaN. Per level, from the deepest up, ``reduceat`` folds each run of children
into its parent. All sum-like quantities of a request (sums, value counts, the two halves of a
weighted mean) are stacked into one array and rolled up in one pass.

Missing values: a sum over a subtree without any value is missing (NaN), not 0; ``count`` is the
number of accounts in the subtree that have a value; ``min``/``max`` ignore missing values
(``np.fmin``/``np.fmax``); ``mean`` = sum / count; ``wmean`` = sum(w * x) / sum(w) over the
accounts where both the value and its weight are present (missing when the weights sum to 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from kamcore.rollup.compile import CompiledTree

    #: Folds stacked ``(r, M)`` sum-like rows (see :func:`aggregate`).
    SumFn = Callable[[np.ndarray], np.ndarray]
    #: Folds a ``(1, M)`` row by ``"min"`` or ``"max"``.
    ExtremeFn = Callable[[np.ndarray, str], np.ndarray]

AGGREGATIONS = ("sum", "count", "min", "max", "mean", "wmean")


@dataclass(frozen=True)
class Spec:
    """How one row of the values array rolls up; ``weight`` is a row index for ``wmean``."""

    aggregation: str = "sum"
    weight: int | None = None


def rollup_sums(tree: CompiledTree, values: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    """Subtree sums of level-ordered ``(k, N)`` values (no NaN handling: the hot loop).

    Per level, deepest first: each run of children folds into its parent, with
    ``np.add.reduceat`` over the level's slice, or for levels of small families (float data)
    with one ``np.bincount`` per row over precomputed segment numbers, which avoids
    ``reduceat``'s call per family. Both add left to right: same results.

    :param values: C-contiguous float64 (or int64) array in level order.
    :param inplace: overwrite ``values`` instead of copying it.
    :returns: the subtree totals, same shape and order.
    """
    import numpy as np

    out = values if inplace else values.copy()
    floats = out.dtype == np.float64
    for lvl in reversed(tree.levels[1:]):
        if floats and lvl.segments is not None:
            groups = len(lvl.starts)
            for row in out:
                folded_row = np.bincount(lvl.segments, weights=row[lvl.lo:lvl.hi],
                                         minlength=groups)
                if lvl.parent_span is not None:
                    row[lvl.parent_span[0]:lvl.parent_span[1]] += folded_row
                else:
                    row[lvl.parents] += folded_row
            continue
        folded = np.add.reduceat(out[:, lvl.lo:lvl.hi], lvl.starts, axis=1)
        if lvl.parent_span is not None:
            out[:, lvl.parent_span[0]:lvl.parent_span[1]] += folded
        else:
            for row, add in zip(out, folded, strict=True):
                row[lvl.parents] += add
    return out


def rollup_extreme(tree: CompiledTree, values: np.ndarray, kind: str) -> np.ndarray:
    """Subtree min or max (``kind`` "min"/"max"), ignoring NaN."""
    import numpy as np

    ufunc = np.fmin if kind == "min" else np.fmax
    out = values.copy()
    for lvl in reversed(tree.levels[1:]):
        folded = ufunc.reduceat(out[:, lvl.lo:lvl.hi], lvl.starts, axis=1)
        if lvl.parent_span is not None:
            view = out[:, lvl.parent_span[0]:lvl.parent_span[1]]
            ufunc(view, folded, out=view)
        else:
            out[:, lvl.parents] = ufunc(out[:, lvl.parents], folded)
    return out


def subtree_sizes(tree: CompiledTree) -> np.ndarray:
    """Number of nodes in each subtree (the node included), level order, int64."""
    import numpy as np

    return rollup_sums(tree, np.ones((1, tree.n), dtype=np.int64), inplace=True)[0]


def rollup(tree: CompiledTree, values: np.ndarray, specs: Sequence[Spec], *,
           consume: bool = False) -> np.ndarray:
    """Roll level-ordered ``(k, N)`` values up the tree, each row by its :class:`Spec`.

    :param tree: the compiled tree.
    :param values: float64 ``(k, N)`` in level order; NaN = missing.
    :param specs: one per row.
    :param consume: the caller no longer needs ``values``: plain sums may overwrite it.
    :returns: ``(k, N)`` subtree aggregates in level order (NaN where nothing to aggregate).
    """
    return aggregate(values, specs, lambda sums: rollup_sums(tree, sums, inplace=True),
                     lambda v, kind: rollup_extreme(tree, v, kind), dense=True,
                     consume=consume)


def aggregate(values: np.ndarray, specs: Sequence[Spec], sum_fn: SumFn, extreme_fn: ExtremeFn,
              *, dense: bool = False, consume: bool = False) -> np.ndarray:
    """Shared by tree rollups and group-bys: build the sum-like rows, fold them, finish.

    ``sum_fn(rows) -> rows`` folds a stacked ``(r, M)`` array of sums; ``extreme_fn(row, kind)``
    folds a ``(1, M)`` array by min or max. Output columns match the fold's output. ``dense``
    says every output gets at least one input (a subtree holds its root; a group may be
    empty), which lets a sum without missing values skip the value counts.
    """
    import numpy as np

    k = len(specs)
    if dense and k and all(s.aggregation == "sum" for s in specs) \
            and not np.isnan(values).any():
        if consume and values.dtype == np.float64 and values.flags.c_contiguous:
            return sum_fn(values)
        return sum_fn(np.array(values, dtype=np.float64, order="C"))  # the common case: a copy
    present = ~np.isnan(values)
    rows: list[np.ndarray] = []
    slots: dict[tuple[str, int], int] = {}

    def slot(key: tuple[str, int], make: Callable[..., np.ndarray]) -> int:
        if key not in slots:
            slots[key] = len(rows)
            rows.append(make())
        return slots[key]

    plan: list[tuple[str, int, int]] = []
    any_missing = bool((~present).any()) or not dense
    for i, spec in enumerate(specs):
        agg = spec.aggregation
        if agg == "sum":
            s = slot(("sum", i), lambda i=i: np.where(present[i], values[i], 0.0))
            c = slot(("count", i), lambda i=i: present[i].astype(np.float64)) if any_missing \
                else -1
            plan.append(("sum", s, c))
        elif agg == "count":
            plan.append(("count", slot(("count", i),
                                        lambda i=i: present[i].astype(np.float64)), -1))
        elif agg == "mean":
            s = slot(("sum", i), lambda i=i: np.where(present[i], values[i], 0.0))
            c = slot(("count", i), lambda i=i: present[i].astype(np.float64))
            plan.append(("ratio", s, c))
        elif agg == "wmean":
            w = spec.weight
            if w is None:
                raise ValueError(f"row {i}: wmean needs a weight row")
            both = present[i] & present[w]
            s = slot(("wx", i), lambda i=i, w=w, both=both:
                     np.where(both, values[i] * values[w], 0.0))
            c = slot(("w", i), lambda w=w, both=both: np.where(both, values[w], 0.0))
            plan.append(("ratio", s, c))
        elif agg in ("min", "max"):
            plan.append((agg, i, -1))
        else:
            raise ValueError(f"unknown aggregation {agg!r}")
    # without sum-like rows the plan is all min/max, which never reads ``folded``
    folded = sum_fn(np.ascontiguousarray(np.stack(rows))) if rows else np.empty((0, 0))
    width = folded.shape[1] if rows else None
    out_rows: list[np.ndarray] = []
    for kind, a, b in plan:
        if kind == "sum":
            total = folded[a]
            out_rows.append(total if b < 0 else np.where(folded[b] > 0, total, np.nan))
        elif kind == "count":
            out_rows.append(folded[a])
        elif kind == "ratio":
            with np.errstate(divide="ignore", invalid="ignore"):
                den = folded[b]
                out_rows.append(np.where(den != 0, folded[a] / den, np.nan))
        else:
            row = extreme_fn(values[a:a + 1], kind)[0]
            width = len(row)
            out_rows.append(row)
    if not out_rows:
        return np.zeros((0, width or values.shape[1]))
    return np.ascontiguousarray(np.stack(out_rows)) if k else np.zeros((0, 0))


def group_fold(codes: np.ndarray, groups: int) -> tuple[SumFn, ExtremeFn]:
    """Fold functions for :func:`aggregate` that sum rows by group code (own values only)."""
    import numpy as np

    def sums(rows: np.ndarray) -> np.ndarray:
        return np.stack([np.bincount(codes, weights=r, minlength=groups) for r in rows])

    def extreme(row: np.ndarray, kind: str) -> np.ndarray:
        out = np.full((1, groups), np.nan)
        (np.fmin if kind == "min" else np.fmax).at(out[0], codes, row[0])
        return out

    return sums, extreme
