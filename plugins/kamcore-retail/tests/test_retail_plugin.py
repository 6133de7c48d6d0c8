from __future__ import annotations

import json
from importlib import metadata

import kamcore_retail.plugin as retail
import pytest

from kamcore import registry_for
from kamcore.testing import findings_for, make_plugin_manager


@pytest.fixture
def pm(kam_pm):
    kam_pm.register(retail, name="retail")
    return kam_pm


@pytest.fixture
def build(pm, org_builder):
    def make(**fields):
        return (org_builder().person("AM1", role="am")
                .account("R1", manager="AM1", country="FR", industry="Retailer", **fields)
                .build())
    return make


def test_loads():
    pm = make_plugin_manager(retail)
    pm.check_pending()
    assert pm.get_plugin("retail") is retail


def test_entry_point_resolves():
    (ep,) = metadata.entry_points(group="kamcore", name="retail")
    assert ep.load() is retail
    assert ep.dist is not None and ep.dist.metadata["Name"] == "kamcore-retail"


def test_registers_industry_fields_metric_rules(pm):
    reg = registry_for(pm)
    assert reg.problems == []
    assert reg.industry_of("E-Commerce") == "retail"
    assert reg.fields["retail"].plugin == "retail"
    assert reg.metrics["store_count"].aggregation == "sum"
    assert {"RTL101", "RTL102"} <= set(reg.rules)


def test_rtl101_fires_on_a_wrong_check_digit(build):
    org = build(retail={"gln": "4006381333932", "channels": "online"})
    (finding,) = findings_for(org, "RTL")
    assert (finding.code, finding.subject, finding.column) == ("RTL101", "R1", "retail.gln")
    assert finding.message == "GLN 4006381333932: check digit is 2, expected 1"


def test_rtl_rules_stay_quiet_on_good_data(build):
    org = build(retail={"gln": "4006381333931", "channels": "online;stores"}, store_count=12)
    assert findings_for(org, "RTL", "KAM140") == []


@pytest.mark.parametrize(("fields", "metrics", "message"), [
    ({"channels": "stores"}, {"store_count": 0}, "sells through stores but store_count is 0"),
    ({"channels": "online"}, {"store_count": 3}, "has 3 stores but 'stores' is not among its "
     "channels (online)"),
])
def test_rtl102_store_channel(build, fields, metrics, message):
    (finding,) = findings_for(build(retail=fields, **metrics), "RTL102")
    assert finding.message == message
    assert finding.severity == "warning"


def test_rtl102_has_no_opinion_without_a_store_count(build):
    # The count may come from the facts table instead of accounts.csv.
    assert findings_for(build(retail={"channels": "stores"}), "RTL102") == []


def test_invalid_field_is_kam140_naming_the_plugin(build):
    (finding,) = findings_for(build(retail={"channels": "online;mail-order"}), "KAM140")
    assert finding.column == "retail.channels"
    assert "plugin 'retail'" in finding.message


def test_duties_follow_channels(build, pm):
    from kamcore.testing import duties_for

    online_only = duties_for(build(retail={"channels": "online"}), pm, "R1")
    ids = [row.duty for row in online_only.rows if row.source == "retail"]
    assert ids == ["retail.selection", "retail.inventory", "retail.product-info",
                   "retail.market", "retail.online"]
    stores = duties_for(build(retail={"channels": "stores"}, store_count=4), pm, "R1")
    assert "retail.training" in [row.duty for row in stores.rows]
    assert stores.problems == []


def test_cli_validate_names_file_line_and_column(pm, org_builder, kam_cli, tmp_path):
    (org_builder().person("AM1").account("R1", manager="AM1", industry="retail",
                                         retail={"gln": "4006381333932"})
     .write(tmp_path))
    result = kam_cli.invoke("validate", str(tmp_path), "--format", "json")
    assert result.exit_code == 1, result.output
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["code"], finding["line"], finding["column"], finding["plugin"]) == (
        "RTL101", 2, "retail.gln", "retail")
    assert finding["file"].endswith("accounts.csv")
