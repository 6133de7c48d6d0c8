"""The engine against a plain networkx post-order reference on random forests (hypothesis)."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore.rollup.compile import CycleFound, compile_tree
from kamcore.rollup.engine import Spec, rollup, subtree_sizes

AGGS = ["sum", "count", "min", "max", "mean", "wmean"]


@st.composite
def forests(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Random forests in random file order (parents may come after children), with values
    that are missing (NaN) at random; row 0 holds integers, row 5 is the wmean weight."""
    n = draw(st.integers(1, 40))
    shape = [draw(st.integers(-1, i - 1)) if i else -1 for i in range(n)]
    perm = draw(st.permutations(range(n)))
    inverse = {old: new for new, old in enumerate(perm)}
    parent = np.full(n, -1, dtype=np.int64)
    for old, p in enumerate(shape):
        parent[inverse[old]] = -1 if p < 0 else inverse[p]
    cell = st.one_of(st.just(math.nan), st.floats(-1e6, 1e6, allow_nan=False))
    weight = st.one_of(st.just(math.nan), st.integers(0, 100).map(float))
    values = np.array([[draw(st.one_of(st.just(math.nan), st.integers(-1000, 1000)
                                       .map(float))) for _ in range(n)],
                       *[[draw(cell) for _ in range(n)] for _ in range(4)],
                       [draw(weight) for _ in range(n)]])
    return parent, values


def reference(parent: np.ndarray, values: np.ndarray, specs: list[Spec]) -> np.ndarray:
    """Obviously correct: for each node, collect its subtree's values and aggregate them."""
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(parent)))
    graph.add_edges_from((int(p), i) for i, p in enumerate(parent) if p >= 0)
    out = np.full(values.shape, np.nan)
    for node in nx.dfs_postorder_nodes(graph):
        members = [node, *nx.descendants(graph, node)]
        for row, spec in enumerate(specs):
            xs = [values[row, m] for m in members if not math.isnan(values[row, m])]
            agg = spec.aggregation
            if agg == "count":
                out[row, node] = len(xs)
            elif not xs:
                continue
            elif agg == "sum":
                out[row, node] = math.fsum(xs)
            elif agg == "min":
                out[row, node] = min(xs)
            elif agg == "max":
                out[row, node] = max(xs)
            elif agg == "mean":
                out[row, node] = math.fsum(xs) / len(xs)
            if agg == "wmean":
                w = spec.weight
                pairs = [(values[row, m], values[w, m]) for m in members
                         if not math.isnan(values[row, m]) and not math.isnan(values[w, m])]
                den = math.fsum(p[1] for p in pairs)
                if den != 0:
                    out[row, node] = math.fsum(p[0] * p[1] for p in pairs) / den
    return out


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)  # summands are up to 1e6


@settings(max_examples=60, deadline=None)
@given(forests(), st.lists(st.sampled_from(AGGS), min_size=5, max_size=5))
def test_engine_matches_networkx_reference(forest, aggs):
    parent, values = forest
    specs = [Spec("sum")] + [Spec(a, weight=5 if a == "wmean" else None) for a in aggs[1:]]
    specs.append(Spec("sum"))
    tree = compile_tree(parent)
    got = tree.to_original(rollup(tree, tree.to_level(values), specs))
    want = reference(parent, values, specs)
    assert np.array_equal(got[0], want[0], equal_nan=True)  # integers: exact
    for row in range(1, len(specs)):
        for node in range(len(parent)):
            assert close(got[row, node], want[row, node]), (specs[row], node)


@settings(max_examples=60, deadline=None)
@given(forests())
def test_level_order_invariants_and_preorder(forest):
    parent, _ = forest
    tree = compile_tree(parent)
    assert sorted(tree.order.tolist()) == list(range(len(parent)))
    for lvl in tree.levels[1:]:
        parents = tree.parent_pos[lvl.lo:lvl.hi]
        assert (np.diff(parents) >= 0).all()  # children of one parent are contiguous
        assert (parents < lvl.lo).all()
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(parent)))
    graph.add_edges_from((int(p), i) for i, p in enumerate(parent) if p >= 0)
    roots = [i for i in range(len(parent)) if parent[i] < 0]
    expected = [n for r in roots for n in nx.dfs_preorder_nodes(graph, r)]
    # networkx visits children in insertion (file) order, as the compiled tree does
    assert tree.preorder().tolist() == expected
    sizes = tree.to_original(subtree_sizes(tree)[None, :])[0]
    assert sizes.tolist() == [len(nx.descendants(graph, i)) + 1 for i in range(len(parent))]


def test_one_node_and_empty_subtrees():
    tree = compile_tree(np.array([-1]))
    got = rollup(tree, np.array([[np.nan], [5.0]]), [Spec("sum"), Spec("count")])
    assert np.isnan(got[0, 0]) and got[1, 0] == 1


def test_cycle_is_reported_with_its_members():
    with pytest.raises(CycleFound) as info:
        compile_tree(np.array([-1, 2, 3, 1, 0]))
    assert sorted(info.value.nodes) == [1, 2, 3]


@pytest.mark.parametrize("fanout", [1, 3, 15, 16, 40])
def test_both_summing_paths_agree_with_reference(fanout):
    """Levels of small families use bincount, wide ones reduceat: both must match."""
    rng = np.random.default_rng(fanout)
    parent = np.array([-1, -1] + [int(rng.integers(0, 2)) for _ in range(2 * fanout)]
                      + [2 + i // 3 for i in range(6)])
    values = rng.normal(0, 1e5, (2, len(parent)))
    values[1, ::4] = np.nan
    specs = [Spec("sum"), Spec("sum")]
    tree = compile_tree(parent)
    got = tree.to_original(rollup(tree, tree.to_level(values), specs))
    want = reference(parent, values, specs)
    assert all(close(a, b) for a, b in zip(got.ravel(), want.ravel(), strict=True))


@settings(max_examples=60, deadline=None)
@given(forests(), st.lists(st.sampled_from(AGGS), min_size=5, max_size=5),
       st.integers(1, 5), st.randoms(use_true_random=False))
def test_group_fold_matches_reference(forest, aggs, groups, rnd):
    """Group-bys (tier, country, a manager's book) aggregate own values the same way."""
    from kamcore.rollup.engine import aggregate, group_fold

    _, values = forest
    n = values.shape[1]
    codes = np.array([rnd.randrange(groups) for _ in range(n)])
    specs = [Spec("sum")] + [Spec(a, weight=5 if a == "wmean" else None) for a in aggs[1:]]
    specs.append(Spec("sum"))
    got = aggregate(values, specs, *group_fold(codes, groups))
    # a group is a one-level tree: a virtual root per group with the members as children
    parent = np.concatenate([np.full(groups, -1), codes])
    padded = np.concatenate([np.full((values.shape[0], groups), np.nan), values], axis=1)
    want = reference(parent, padded, specs)[:, :groups]
    for row in range(len(specs)):
        for g in range(groups):
            assert close(got[row, g], want[row, g]), (specs[row], g)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                          st.sampled_from([1e308, -1e308, 1.7e308, 8.9e307, math.nan])),
                max_size=6))
def test_bounded_values_add_up_to_a_finite_total(values: list[float]) -> None:
    """check_range's quick bound only ever answers yes when the exact sum is finite."""
    from kamcore.rollup.values import _bounded

    row = np.array(values, dtype=np.float64)
    if _bounded(row):
        assert np.isfinite(np.nansum(np.abs(row)))
