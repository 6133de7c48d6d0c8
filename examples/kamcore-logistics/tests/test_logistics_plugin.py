"""Tests of the example plugin: the pattern docs/plugins.md walks through."""

from __future__ import annotations

import json
from importlib import metadata

import kamcore_logistics.plugin as logistics
import pytest

from kamcore import registry_for
from kamcore.testing import duties_for, findings_for, make_plugin_manager


@pytest.fixture
def pm(kam_pm):
    """kamcore's built-ins plus this plugin, and nothing else installed on the machine."""
    kam_pm.register(logistics, name="logistics")
    return kam_pm


@pytest.fixture
def build(pm, org_builder):
    def make(**fields):
        return (org_builder().person("AM1")
                .person("OPS", role="support", reports_to="AM1", specialty="logistics")
                .account("L1", manager="AM1", country="NL", industry="Freight", **fields)
                .account("L2", manager="AM1", country="NL", industry="Freight",
                         logistics={"carriers": "DHL"})
                .build())
    return make


def test_loads():
    pm = make_plugin_manager(logistics)
    pm.check_pending()  # every @hookimpl matches a kamcore hook
    assert registry_for(pm).problems == []


def test_entry_point_resolves():
    (ep,) = metadata.entry_points(group="kamcore", name="logistics")
    assert ep.load() is logistics


def test_rules_fire(build):
    org = build(logistics={"hazmat": "yes"}, shipments=10, on_time_rate=97)
    assert [(f.code, f.message) for f in findings_for(org, "LOG")] == [
        ("LOG101", "on_time_rate is 97; it is a share between 0 and 1"),
        ("LOG102", "ships dangerous goods but names no carrier"),
    ]


def test_rules_stay_quiet(build):
    org = build(logistics={"hazmat": "yes", "carriers": "DHL;Maersk", "sla_hours": "48"},
                shipments=10, on_time_rate=0.97)
    assert findings_for(org, "LOG", "KAM140") == []


def test_field_errors_name_the_column(build):
    (finding,) = findings_for(build(logistics={"sla_hours": "0"}), "KAM140")
    assert finding.column == "logistics.sla_hours"


def test_duties(build, pm):
    rows = [r for r in duties_for(build(logistics={"hazmat": "true"}), pm, "L1").rows
            if r.source == "logistics"]
    assert [(r.duty, r.delegate) for r in rows] == [
        ("logistics.capacity", "OPS"), ("logistics.sla", None), ("logistics.hazmat", None)]


def test_carriers_command(pm, org_builder, kam_cli, tmp_path):
    (org_builder().person("AM1")
     .account("L1", manager="AM1", logistics={"carriers": "DHL;Maersk"})
     .account("L2", manager="AM1", logistics={"carriers": "DHL"})
     .write(tmp_path))
    result = kam_cli.invoke("carriers", str(tmp_path))
    assert (result.exit_code, result.stdout) == (0, "DHL     L1, L2\nMaersk  L1\n")
    result = kam_cli.invoke("carriers", str(tmp_path), "--format", "json")
    assert json.loads(result.stdout) == {"DHL": ["L1", "L2"], "Maersk": ["L1"]}
