"""The bundled examples: acme validates clean, broken fires every core rule exactly once."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import kamcore
from kamcore.builtin.core_rules import CORE_RULES
from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager

EXPECTED_BROKEN = {
    ("KAM101", "R1"), ("KAM102", "R3"), ("KAM103", "C1"), ("KAM104", "T1"), ("KAM105", "M1"),
    ("KAM106", "U1"), ("KAM107", "W1"), ("KAM108", "X1"), ("KAM109", "G2"), ("KAM110", "N3"),
    ("KAM111", "AM1"), ("KAM112", "S1"), ("KAM113", "D1"), ("KAM121", "ORPH"),
    ("KAM122", "LOOP1"), ("KAM130", "G1-DE-K"), ("KAM131", None), ("KAM151", "G2"),
    ("KAM154", "G1-DE"),
}
#: Rules over facts files: examples/broken has none (tests/test_fact_rules.py covers them).
FACT_RULES = {"KAM150", "KAM152", "KAM153"}


def invoke(*args: str, entry_points: bool = False):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=entry_points)),
                              list(args))


def test_acme_is_realistic(acme_path):
    org = kamcore.load(acme_path, pm=get_plugin_manager(load_entrypoints=False))
    tiers = [a.tier.value for a in org.accounts.values()]
    assert tiers.count("global") >= 3 and len(org.accounts) >= 60 and len(org.people) >= 15
    nationals = {a.country for a in org.accounts.values() if a.tier == "national"}
    assert len(nationals) >= 4
    industries = {org.industry_of(a) for a in org.accounts.values()}
    assert {"advertising", "healthcare", "manufacturing", "retail"} <= industries
    roles = {p.role.value for p in org.people.values()}
    assert {"vp", "director", "gam", "nam", "kam", "am", "support"} <= roles
    assert all({"revenue", "orders", "receivables"} <= set(a.metrics)
               for a in org.accounts.values() if a.tier != "global")


def test_acme_validates_clean_with_every_installed_plugin(acme_path):
    result = invoke("validate", str(acme_path), "--format", "json", entry_points=True)
    report = json.loads(result.output)
    assert result.exit_code == 0, report["findings"]
    assert report["summary"]["error"] == 0


def test_broken_fires_every_core_rule_once(acme_path):
    broken = acme_path.parent / "broken"
    result = invoke("validate", str(broken), "--format", "json")
    assert result.exit_code == 1
    found = [(f["code"], f["subject"]) for f in json.loads(result.output)["findings"]]
    assert sorted(found) == sorted(EXPECTED_BROKEN)
    assert {c for c, *_ in CORE_RULES} - {c for c, _ in found} == {"KAM140", *FACT_RULES}


def test_broken_findings_point_at_file_and_line(acme_path):
    result = invoke("validate", str(acme_path.parent / "broken"), "--format", "json")
    by_code = {f["code"]: f for f in json.loads(result.output)["findings"]}
    assert by_code["KAM101"]["file"].endswith("accounts.csv") and by_code["KAM101"]["line"] == 8
    assert by_code["KAM121"]["file"].endswith("people.csv") and by_code["KAM121"]["line"] == 14
    assert by_code["KAM102"]["hint"] == "did you mean 'G1-DE-K'?"
    assert by_code["KAM131"]["file"].endswith("kam.yaml") and by_code["KAM131"]["line"] is None
    assert by_code["KAM131"]["hint"] == "did you mean 'KAM109'?"


def test_broken_fires_kam140_with_the_healthcare_plugin(acme_path, monkeypatch):
    pytest.importorskip("kamcore_healthcare")
    monkeypatch.setenv("KAM_LOAD_PLUGINS", "healthcare")
    result = invoke("validate", str(acme_path.parent / "broken"), "--format", "json",
                    entry_points=True)
    found = [(f["code"], f["subject"], f["column"])
             for f in json.loads(result.output)["findings"] if f["code"].startswith("KAM1")]
    assert [f for f in found if f[0] in ("KAM130", "KAM140")] == [
        ("KAM140", "G1-DE-K", "healthcare.billing_workflow")]
