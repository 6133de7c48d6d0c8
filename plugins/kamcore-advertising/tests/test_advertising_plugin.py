from __future__ import annotations

from importlib import metadata

import kamcore_advertising.plugin as advertising
import pytest

from kamcore import registry_for
from kamcore.testing import duties_for, findings_for, make_plugin_manager


@pytest.fixture
def pm(kam_pm):
    kam_pm.register(advertising, name="advertising")
    return kam_pm


@pytest.fixture
def build(pm, org_builder):
    def make(**fields):
        return (org_builder().person("KAM1", role="kam")
                .person("COPY", role="support", reports_to="KAM1", specialty="Copywriting")
                .person("SEO", role="support", reports_to="KAM1", specialty="seo")
                .account("A1", manager="KAM1", country="GB", industry="Media", **fields)
                .build())
    return make


def test_loads():
    pm = make_plugin_manager(advertising)
    pm.check_pending()
    assert pm.get_plugin("advertising") is advertising


def test_entry_point_resolves():
    (ep,) = metadata.entry_points(group="kamcore", name="advertising")
    assert ep.load() is advertising
    assert ep.dist.metadata["Name"] == "kamcore-advertising"


def test_registers(pm):
    reg = registry_for(pm)
    assert reg.problems == []
    assert reg.industry_of("ADS") == "advertising"
    assert reg.metrics["ad_spend"].is_money
    assert {"ADV101", "ADV102", "ADV103"} <= set(reg.rules)


def test_rules_stay_quiet_on_good_data(build):
    org = build(advertising={"billing_model": "CPC", "rate": "0.85", "campaigns": "Spring;Brand",
                             "channels": "search;Social", "monthly_budget": "50000"},
                ad_spend=42000)
    assert findings_for(org, "ADV", "KAM140") == []


def test_adv101_billing_model_without_rate(build):
    (finding,) = findings_for(build(advertising={"billing_model": "cpm"}), "ADV")
    assert (finding.code, finding.message) == (
        "ADV101", "billing model cpm has no rate (price per thousand impressions)")


def test_adv102_campaigns_without_spend(build):
    (finding,) = findings_for(build(advertising={"campaigns": "Spring;Brand"}, ad_spend=0),
                              "ADV")
    assert (finding.code, finding.message, finding.severity) == (
        "ADV102", "2 running campaign(s) but ad_spend is 0", "warning")
    assert findings_for(build(advertising={"campaigns": "Spring"}), "ADV") == []


def test_adv103_over_budget(build):
    org = build(advertising={"monthly_budget": 10000}, ad_spend=12500)
    (finding,) = findings_for(org, "ADV")
    assert finding.message == "ad_spend 12,500 is over the monthly budget of 10,000"


@pytest.mark.parametrize(("fields", "column"), [
    ({"billing_model": "per-view"}, "advertising.billing_model"),
    ({"rate": "-1"}, "advertising.rate"),
    ({"channels": "search;billboard"}, "advertising.channels"),
])
def test_bad_fields_are_kam140(build, fields, column):
    (finding,) = findings_for(build(advertising=fields), "KAM140")
    assert finding.column == column and "(plugin 'advertising')" in finding.message


def test_duties_go_to_the_specialists(build, pm):
    rows = {r.duty: r for r in duties_for(build(), pm, "A1").rows if r.source == "advertising"}
    assert len(rows) == 9
    assert rows["advertising.copy"].delegate == "COPY"
    assert rows["advertising.seo"].delegate == "SEO"
    assert rows["advertising.usability"].done_by == "manager (no usability staff)"


def test_the_media_plan_export_format(pm, kam_cli, org_builder, tmp_path):
    folder = (org_builder().person("AM1")
              .account("AD1", manager="AM1", industry="Advertising",
                       advertising={"campaigns": "=Brand;Spring", "channels": "search",
                                    "billing_model": "cpc", "rate": 0.4})
              .account("X1", manager="AM1").write(tmp_path / "org"))
    result = kam_cli.invoke("export", str(folder), "--format", "media_plan")
    assert result.exit_code == 0, result.output
    assert result.stdout == ("id,name,campaigns,channels,billing_model,monthly_budget\n"
                             "AD1,AD1,'=Brand;Spring,search,cpc,\n")
