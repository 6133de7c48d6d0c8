from __future__ import annotations

from importlib import metadata

import kamcore_manufacturing.plugin as manufacturing
import pytest
from kamcore_manufacturing.incoterms import ANY_MODE_INSTEAD, INCOTERMS_2020, SEA_ONLY

from kamcore import registry_for
from kamcore.testing import duties_for, findings_for, imported_org, make_plugin_manager


@pytest.fixture
def pm(kam_pm):
    kam_pm.register(manufacturing, name="manufacturing")
    return kam_pm


@pytest.fixture
def build(pm, org_builder):
    def make(**fields):
        return (org_builder().person("AM1")
                .person("LOG", role="support", reports_to="AM1", specialty="logistics")
                .account("M1", manager="AM1", country="DE", industry="Industrial", **fields)
                .build())
    return make


def test_loads():
    pm = make_plugin_manager(manufacturing)
    pm.check_pending()
    assert pm.get_plugin("manufacturing") is manufacturing


def test_entry_point_resolves():
    (ep,) = metadata.entry_points(group="kamcore", name="manufacturing")
    assert ep.load() is manufacturing
    assert ep.dist.metadata["Name"] == "kamcore-manufacturing"


def test_incoterms_table():
    assert len(INCOTERMS_2020) == 11
    assert set(ANY_MODE_INSTEAD) == SEA_ONLY


def test_registers_metric(pm):
    reg = registry_for(pm)
    assert reg.problems == []
    backlog = reg.metrics["order_backlog"]
    assert (backlog.unit, backlog.aggregation, backlog.plugin) == ("money", "sum",
                                                                  "manufacturing")


def test_rules_stay_quiet_on_good_data(build):
    org = build(manufacturing={"facing": "Client", "incoterm": "cif", "named_place":
                               "Rotterdam port", "transport": "sea"}, order_backlog=125000)
    assert findings_for(org, "MFG", "KAM140") == []


def test_mfg101_incoterm_without_place(build):
    (finding,) = findings_for(build(manufacturing={"facing": "client", "incoterm": "DAP"}),
                              "MFG")
    assert (finding.code, finding.message) == ("MFG101", "Incoterm DAP (Delivered at Place) "
                                                         "names no place")


def test_mfg102_sea_only_term_by_air(build):
    org = build(manufacturing={"facing": "client", "incoterm": "FOB", "named_place": "FRA",
                               "transport": "air"})
    (finding,) = findings_for(org, "MFG")
    assert finding.code == "MFG102" and finding.column == "manufacturing.incoterm"
    assert finding.hint == "use FCA (Free Carrier), its any-mode counterpart"


def test_mfg103_facing_unknown(build):
    (finding,) = findings_for(build(), "MFG")
    assert (finding.code, finding.severity) == ("MFG103", "warning")


def test_unknown_incoterm_is_kam140(build):
    (finding,) = findings_for(build(manufacturing={"facing": "client", "incoterm": "FOT"}),
                              "KAM140")
    assert finding.column == "manufacturing.incoterm"
    assert "'FOT' is not an Incoterms 2020 rule" in finding.message


@pytest.mark.parametrize(("facing", "expected"), [
    ("supplier", ["manufacturing.negotiate", "manufacturing.supply-chain",
                  "manufacturing.materials", "manufacturing.incoterms"]),
    ("client", ["manufacturing.fit", "manufacturing.introduce", "manufacturing.alert",
                "manufacturing.incoterms"]),
])
def test_duties_depend_on_the_side(build, pm, facing, expected):
    rows = duties_for(build(manufacturing={"facing": facing}), pm, "M1").rows
    assert [r.duty for r in rows if r.source == "manufacturing"] == expected


def test_supply_chain_goes_to_logistics_staff(build, pm):
    rows = {r.duty: r for r in duties_for(build(manufacturing={"facing": "supplier"}), pm,
                                          "M1").rows}
    assert rows["manufacturing.supply-chain"].delegate == "LOG"
    assert len([r for r in duties_for(build(), pm, "M1").rows
                if r.source == "manufacturing"]) == 7


def test_the_order_backlog_is_point_in_time(pm, org_builder, tmp_path):
    import kamcore

    folder = (org_builder(currency="EUR").person("AM1")
              .account("M1", manager="AM1", country="DE", industry="Industrial", currency="EUR")
              .fact("M1", "2026-Q3", "order_backlog", 900)
              .fact("M1", "2026-Q4", "order_backlog", 700)
              .write(tmp_path / "org"))
    (row,) = kamcore.rollup(folder, ["order_backlog"], period="2026", pm=pm).rows
    assert row["order_backlog"] == 700  # the backlog at the end of the year, not 1600


def test_backlog_per_lead_time_day_is_derived_from_the_lead_time_field(pm, org_builder,
                                                                       tmp_path):
    import kamcore

    folder = (org_builder(currency="EUR").person("AM1")
              .account("M1", manager="AM1", industry="Industrial", currency="EUR",
                       order_backlog=9000, manufacturing={"lead_time_days": "30"})
              .account("M2", manager="AM1", industry="Industrial", currency="EUR",
                       order_backlog=500, manufacturing={"lead_time_days": "0"})
              .write(tmp_path / "org"))
    result = kamcore.rollup(folder, ["backlog_per_day"], by="manager", pm=pm)
    (row,) = result.rows
    assert row["backlog_per_day_book"] == 300  # M2: no lead time, no daily rate
    (m1,) = [r for r in kamcore.rollup(folder, ["backlog_per_day"], pm=pm).rows
             if r["id"] == "M1"]
    assert m1["backlog_per_day"] == 300


def test_the_lead_time_comes_from_the_crm(pm, tmp_path):
    org = imported_org(pm, "Id,Name,OwnerId,Industry,Lead_Time_Days__c\n"
                       "001DnAbC0000001,Steelworks,005Dn00000Ux001IAB,Industrial,45\n",
                       tmp_path / "org")
    (account,) = org.accounts.values()
    assert account.ext["manufacturing"] == {"lead_time_days": "45"}
