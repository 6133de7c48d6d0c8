from __future__ import annotations

from importlib import metadata

import kamcore_it_software.plugin as it_software
import pytest

from kamcore import registry_for
from kamcore.testing import duties_for, findings_for, imported_org, make_plugin_manager


@pytest.fixture
def pm(kam_pm):
    kam_pm.register(it_software, name="it_software")
    return kam_pm


@pytest.fixture
def build(pm, org_builder):
    def make(**fields):
        return (org_builder().person("AM1")
                .account("S1", manager="AM1", country="NL", industry="SaaS", **fields)
                .build())
    return make


def test_loads():
    pm = make_plugin_manager("kamcore_it_software.plugin")
    pm.check_pending()
    assert pm.get_plugin("it_software") is it_software


def test_entry_point_resolves():
    (ep,) = metadata.entry_points(group="kamcore", name="it_software")
    assert ep.load() is it_software
    assert ep.dist.metadata["Name"] == "kamcore-it-software"


def test_registers(pm):
    reg = registry_for(pm)
    assert reg.problems == []
    assert reg.industry_of("IT/Software") == "it software"
    assert reg.industry_of("it-software") == "it software"
    assert reg.metrics["arr"].is_money and reg.metrics["open_tickets"].aggregation == "sum"


def test_rules_stay_quiet_on_good_data(build):
    org = build(it_software={"contract": "Subscription", "sla": "premium", "dev_team": "Core",
                             "renewal_date": "2027-03-31", "products": "ERP;Payroll"},
                arr=120000, open_tickets=4)
    assert findings_for(org, "ITS", "KAM140") == []


def test_its101_subscription_without_renewal(build):
    (finding,) = findings_for(build(it_software={"contract": "subscription"}), "ITS")
    assert (finding.code, finding.message) == ("ITS101", "subscription without a renewal date")


def test_its102_arr_on_a_one_off_contract(build):
    (finding,) = findings_for(build(it_software={"contract": "fixed price"}, arr=50000), "ITS")
    assert (finding.code, finding.severity, finding.column) == ("ITS102", "error", "arr")
    assert finding.message == "has arr but its contract is fixed-price, which does not recur"


def test_its103_sla_without_team(build):
    (finding,) = findings_for(build(it_software={"sla": "Enterprise"}), "ITS")
    assert finding.message == "enterprise SLA but no development team named"


def test_bad_date_is_kam140(build):
    (finding,) = findings_for(build(it_software={"renewal_date": "31/03/2027"}), "KAM140")
    assert finding.column == "it_software.renewal_date"


def test_duties_add_the_renewal_for_subscriptions(build, pm):
    plain = [r.duty for r in duties_for(build(), pm, "S1").rows if r.source == "it_software"]
    assert plain == ["it.liaison", "it.updates", "it.troubleshoot", "it.billing",
                     "it.account-details"]
    sub = duties_for(build(it_software={"contract": "subscription"}), pm, "S1").rows
    assert sub[-1].duty == "it.renewal"


def test_the_renewal_is_due_on_the_renewal_date(build, pm):
    rows = duties_for(build(it_software={"contract": "subscription",
                                         "renewal_date": "2026-09-30"}), pm, "S1").rows
    assert rows[-1].duty == "it.renewal" and rows[-1].due == "2026-09-30"


def test_arr_is_point_in_time(pm):
    assert registry_for(pm).metrics["arr"].periods == "last"


def test_the_renewal_date_and_products_come_from_the_crm(pm, tmp_path):
    org = imported_org(pm, "Id,Name,OwnerId,Industry,Renewal_Date__c,Products__c\n"
                       "001DnAbC0000001,Initech,005Dn00000Ux001IAB,Software,2027-03-31,"
                       "CRM;ERP\n", tmp_path / "org")
    (account,) = org.accounts.values()
    assert account.ext["it_software"] == {"renewal_date": "2027-03-31", "products": "CRM;ERP"}
