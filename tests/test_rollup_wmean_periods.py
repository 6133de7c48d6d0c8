"""A weighted mean over a period range weights each period by its own weight fact."""

from __future__ import annotations

import pytest

import kamcore
from kamcore.plugins import get_plugin_manager
from kamcore.registry import registry_for


def test_weighted_mean_across_periods_uses_each_periods_weight(tmp_path):
    (tmp_path / "kam.yaml").write_text(
        "name: W\ncurrency: EUR\nmetrics:\n  claims: {aggregation: sum}\n"
        "  denial_rate: {aggregation: wmean, weight: claims, unit: ratio}\n")
    (tmp_path / "accounts.csv").write_text(
        "id,name,tier,parent,manager,country,industry,currency\n"
        "A,Alpha,key,,,DE,,EUR\nB,Beta,regular,A,,DE,,EUR\n")
    (tmp_path / "people.csv").write_text("id,name,role\n")
    (tmp_path / "facts.csv").write_text(
        "account,period,metric,value\n"
        "A,2026Q1,claims,100\nA,2026Q1,denial_rate,0.1\n"
        "A,2026Q2,claims,300\nA,2026Q2,denial_rate,0.3\n"
        "B,2026Q1,claims,100\nB,2026Q1,denial_rate,0.5\n")
    registry = registry_for(get_plugin_manager(load_entrypoints=False))
    result = kamcore.rollup(tmp_path, ["denial_rate"], period="2026Q1..2026Q2",
                            registry=registry)
    rows = {r["id"]: r for r in result.rows}
    # A alone: (100*0.1 + 300*0.3) / 400 = 0.25, not the plain mean 0.2
    assert rows["A"]["denial_rate"] == pytest.approx(0.25)
    # A's subtree: (10 + 90 + 50) / 500 = 0.3
    assert rows["A"]["denial_rate_total"] == pytest.approx(0.3)
