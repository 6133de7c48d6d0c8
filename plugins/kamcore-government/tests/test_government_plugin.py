from __future__ import annotations

import json
from importlib import metadata

import kamcore_government.plugin as government
import pytest

from kamcore import registry_for
from kamcore.testing import duties_for, findings_for, imported_org, make_plugin_manager


@pytest.fixture
def pm(kam_pm):
    kam_pm.register(government, name="government")
    return kam_pm


@pytest.fixture
def build(pm, org_builder):
    def make(**fields):
        return (org_builder().person("NAM1", role="nam")
                .account("G1", tier="national", manager="NAM1", country="FR",
                         industry="Public Sector", **fields)
                .build())
    return make


def test_loads():
    pm = make_plugin_manager(government)
    pm.check_pending()
    assert pm.get_plugin("government") is government


def test_entry_point_resolves():
    (ep,) = metadata.entry_points(group="kamcore", name="government")
    assert ep.load() is government
    assert ep.dist.metadata["Name"] == "kamcore-government"


def test_registers(pm):
    reg = registry_for(pm)
    assert reg.problems == []
    assert reg.industry_of("govt") == "government"
    assert reg.metrics["contract_value"].is_money


def test_rules_stay_quiet_on_good_data(build):
    org = build(government={"level": "National", "procurement": "open tender",
                             "contract_ref": "2026/S 012-034567", "budget_ceiling": 900000,
                             "fiscal_year_end": "12-31", "contractors": "BuildCo;DataWorks",
                             "standards": "ISO 9001;RGAA 4.1"}, contract_value=850000)
    assert findings_for(org, "GOV", "KAM140") == []


def test_gov101_over_budget(build):
    org = build(government={"budget_ceiling": 500000}, contract_value=650000)
    (finding,) = findings_for(org, "GOV")
    assert (finding.code, finding.severity) == ("GOV101", "error")
    assert finding.message == "contract_value 650,000 exceeds the budget ceiling of 500,000"


def test_gov102_contractors_without_standards(build):
    (finding,) = findings_for(build(government={"contractors": "BuildCo"}), "GOV")
    assert finding.code == "GOV102" and finding.column == "government.standards"


def test_gov103_tender_without_reference(build):
    (finding,) = findings_for(build(government={"procurement": "framework"}), "GOV")
    assert finding.message == "framework contract without a reference"


def test_bad_fiscal_year_end_is_kam140(build):
    (finding,) = findings_for(build(government={"fiscal_year_end": "13-01"}), "KAM140")
    assert "'13-01' is not a month-day like 12-31" in finding.message


def test_duties(build, pm):
    rows = [r for r in duties_for(build(), pm, "G1").rows if r.source == "government"]
    assert [r.duty for r in rows] == ["gov.budget", "gov.negotiate", "gov.requirements",
                                      "gov.quality", "gov.tender"]
    assert rows[3].done_by == "manager (no compliance staff)"


def test_a_public_body_has_no_loyalty_programme_or_brand_campaigns(pm, org_builder):
    org = (org_builder().person("NAM1", role="nam")
           .account("G1", tier="national", manager="NAM1", country="FR", industry="Govt")
           .account("C1", tier="national", manager="NAM1", country="FR", industry="retail")
           .build())
    dropped = {"core.loyalty", "core.brand-campaigns"}
    government_duties = {r.duty for r in duties_for(org, pm, "G1").rows}
    assert not dropped & government_duties and "core.invoicing" in government_duties
    assert dropped <= {r.duty for r in duties_for(org, pm, "C1").rows}


def test_contract_fields_come_from_the_crm(pm, tmp_path):
    org = imported_org(pm, "Id,Name,OwnerId,Industry,Contract_Reference__c,"
                       "Procurement_Procedure__c\n001DnAbC0000001,Ministry,005Dn00000Ux001IAB,"
                       "Government,2026/S 012-034567,Open tender\n", tmp_path / "org")
    (account,) = org.accounts.values()
    assert account.ext["government"] == {"contract_ref": "2026/S 012-034567",
                                         "procurement": "Open tender"}


def test_kam_plugins_lists_it(pm, kam_cli):
    data = json.loads(kam_cli.invoke("plugins", "--format", "json").stdout)
    (info,) = [p for p in data["plugins"] if p["name"] == "government"]
    assert info["industries"] == ["government"]
    assert "kam_register_rules" in info["hooks"]


@pytest.fixture
def ws(pm, org_builder, tmp_path):
    def make(settings=None):
        return (org_builder(settings=settings or {}).person("NAM1", role="nam")
                .person("NAM2", role="nam")
                .account("G1", tier="national", manager="NAM1", country="FR",
                         industry="Public Sector",
                         government={"procurement": "open-tender", "contract_ref": "T-42"})
                .write(tmp_path / "org"))
    return make


def test_a_contract_changing_hands_is_a_gov901_warning_in_the_plan(pm, ws):
    from kamcore import changes, load

    plan = changes.assign(load(ws(), pm=pm), "G1", manager="NAM2")
    (finding,) = [f for f in plan.findings_added if f.code == "GOV901"]
    assert finding.severity == "warning" and "T-42" in finding.message
    assert not plan.refused_because and "GOV901" in plan.diff()


def test_the_notice_is_a_typed_setting(pm, ws):
    from kamcore_government.settings import GovernmentSettings

    from kamcore import changes, load, plugin_settings

    org = load(ws({"plugins": {"government": {"authority_notice": False}}}), pm=pm)
    assert plugin_settings(org, GovernmentSettings).authority_notice is False
    plan = changes.assign(org, "G1", manager="NAM2")
    assert not [f for f in plan.findings_added if f.code == "GOV901"]
