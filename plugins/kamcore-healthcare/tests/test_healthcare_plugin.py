from __future__ import annotations

import json
from importlib import metadata

import kamcore_healthcare.plugin as healthcare
import pytest

from kamcore import registry_for
from kamcore.testing import duties_for, findings_for, imported_org, make_plugin_manager


@pytest.fixture
def pm(kam_pm):
    kam_pm.register(healthcare, name="healthcare")
    return kam_pm


@pytest.fixture
def build(pm, org_builder):
    def make(tier="regular", **fields):
        return (org_builder().person("KAM1", role="kam")
                .person("CODER", role="support", reports_to="KAM1", specialty="coding",
                        healthcare={"certification": "cpc"})
                .account("H1", tier=tier, manager="KAM1", country="US",
                         industry="Hospital", **fields)
                .build())
    return make


def test_loads():
    pm = make_plugin_manager(healthcare)
    pm.check_pending()
    assert pm.get_plugin("healthcare") is healthcare


def test_entry_point_resolves():
    (ep,) = metadata.entry_points(group="kamcore", name="healthcare")
    assert ep.load() is healthcare
    assert ep.dist.metadata["Name"] == "kamcore-healthcare"


def test_registers_industry_fields_and_weighted_metric(pm):
    reg = registry_for(pm)
    assert reg.problems == []
    assert reg.industry_of("Health Care") == "healthcare"
    assert reg.fields["healthcare"].person is not None
    rate = reg.metrics["claim_denial_rate"]
    assert (rate.aggregation, rate.weight) == ("wmean", "claims")


def test_hc_rules_stay_quiet_on_good_data(build):
    org = build(tier="key", healthcare={"npi": "1234567893", "payers": "Aetna;Cigna",
                                        "code_sets": "icd-10-cm;CPT"},
                claims=1200, claim_denial_rate=0.07)
    assert findings_for(org, "HC", "KAM140") == []


def test_hc101_fires_on_a_wrong_check_digit(build):
    (finding,) = findings_for(build(healthcare={"npi": "1234567890"}), "HC101")
    assert (finding.subject, finding.column, finding.plugin) == ("H1", "healthcare.npi",
                                                                 "healthcare")
    assert finding.message == "NPI 1234567890: check digit is 0, expected 3"


def test_hc102_and_hc103_on_the_denial_rate(build):
    codes = [(f.code, f.message) for f in findings_for(build(claim_denial_rate=7.5), "HC")]
    assert codes == [
        ("HC102", "claim_denial_rate is 7.5; it is a share of claims between 0 and 1"),
        ("HC103", "has a claim_denial_rate but no claims; rollups weight the rate by claims, "
                  "so it counts for nothing"),
    ]


def test_hc104_is_info_for_strategic_accounts_only(build):
    (finding,) = findings_for(build(tier="key"), "HC104")
    assert (finding.severity, finding.message) == ("info", "names no payers (insurers)")
    assert findings_for(build(tier="regular"), "HC104") == []


def test_person_fields_are_validated(pm, org_builder):
    org = (org_builder().person("C", role="support", specialty="coding",
                                healthcare={"certification": "MD"}).build())
    (finding,) = findings_for(org, "KAM140")
    assert finding.subject == "C" and finding.column == "healthcare.certification"


def test_duties_delegate_coding_to_the_coder(build, pm):
    rows = {r.duty: r for r in duties_for(build(), pm, "H1").rows}
    assert rows["healthcare.coding"].delegate == "CODER"
    assert rows["healthcare.billing"].done_by == "manager (no billing staff)"
    assert rows["healthcare.coverage"].cadence == "weekly"


def test_cli_schema_includes_the_fields(pm, kam_cli):
    result = kam_cli.invoke("schema")
    schema = json.loads(result.stdout)["plugins"]["healthcare"]
    assert schema["plugin"] == "healthcare"
    assert "npi" in schema["account"]["properties"]
    assert "certification" in schema["person"]["properties"]


def test_denial_rate_rolls_up_weighted_by_claims(pm, org_builder):
    from kamcore.rollup import account_totals

    org = (org_builder().person("K", role="kam")
           .account("H", tier="key", manager="K", industry="healthcare", currency="EUR")
           .account("H1", parent="H", manager="K", currency="EUR", claims=100,
                    claim_denial_rate=0.10)
           .account("H2", parent="H", manager="K", currency="EUR", claims=300,
                    claim_denial_rate=0.02)
           .build())
    totals = account_totals(org, ["claims", "claim_denial_rate"])
    assert totals["H"]["claims"] == 400
    assert totals["H"]["claim_denial_rate"] == pytest.approx((100 * 0.10 + 300 * 0.02) / 400)


def test_payers_come_from_a_salesforce_column(pm, tmp_path):
    org = imported_org(pm, "Id,Name,OwnerId,Industry,Payers__c,NPI__c\n"
                       "001DnAbC0000001,St Mary,005Dn00000Ux001IAB,Hospital,Aetna;Cigna,"
                       "1234567893\n", tmp_path / "org")
    (account,) = org.accounts.values()
    assert account.ext["healthcare"] == {"payers": "Aetna;Cigna", "npi": "1234567893"}


def test_the_brief_names_payers_and_billing(pm, build):
    org = build(tier="key", healthcare={"payers": "Aetna;Cigna",
                                        "billing_workflow": "Outsourced"})
    section = healthcare.kam_brief_section(org.accounts["H1"], org)
    assert section == ("### Payers and billing\n\n- Payers: Aetna, Cigna\n"
                       "- Billing workflow: outsourced\n- Code sets: -")
