"""The Python API: kamcore.rollup(...) and account_totals on the example org."""

from __future__ import annotations

import pytest

import kamcore
from kamcore.plugins import get_plugin_manager
from kamcore.rollup import account_totals


@pytest.fixture
def pm():
    """The example's facts hold industry plugins' metrics: load the bundled plugins."""
    return get_plugin_manager()


@pytest.fixture
def acme(acme_path, pm):
    return kamcore.load(acme_path, pm=pm)


def test_account_totals_latest_period_orders(acme, acme_path):
    import csv

    facts = list(csv.DictReader((acme_path / "facts.csv").open()))
    latest = [f for f in facts if f["period"] == "2026Q4" and f["metric"] == "orders"]
    in_acme = {a for a in acme.accounts if acme.root_of(a) == "ACME"}
    expected = sum(float(f["value"]) for f in latest if f["account"] in in_acme)
    totals = account_totals(acme, ["orders"])
    assert totals["ACME"]["orders"] == expected
    assert set(totals) == set(acme.accounts)


def test_rollup_is_callable_package_and_path_equals_org(acme, acme_path, pm):
    from_org = kamcore.rollup(acme, by="tier").rows
    from_path = kamcore.rollup(acme_path, by="tier", pm=pm).rows
    assert from_org == from_path
    assert [r["tier"] for r in from_org] == ["global", "national", "key", "regular"]
    assert sum(r["accounts"] for r in from_org) == len(acme.accounts)


def test_without_the_plugins_unknown_metric_facts_are_left_out_once_per_name(acme_path):
    # rows of metrics no loaded plugin declares are left out and named (kam validate warns,
    # KAM153), like the columns of a plugin that is not installed (KAM130)
    result = kamcore.rollup(acme_path, ["revenue"], by="tier",
                            pm=get_plugin_manager(load_entrypoints=False))
    messages = [p.message for p in result.skipped]
    assert "fact: unknown metric 'claims' (96 rows, the first here)" in messages
    assert len(messages) == 5  # order_backlog, ad_spend, store_count, claims, claim_denial_rate
    assert len(result.rows) == 4
