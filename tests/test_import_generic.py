"""HubSpot and mapped-CSV imports, countries, industries, tier inference and --suggest-map."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kamcore import load
from kamcore.cli.app import make_cli
from kamcore.importers.countries import resolve_country
from kamcore.importers.industries import industry_normalizer
from kamcore.importers.people import guess_role
from kamcore.importers.tiers import default_threshold, infer_tiers
from kamcore.plugins import get_plugin_manager

CRM = Path(__file__).parent / "data" / "crm"


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def loaded(path: Path):
    return load(path, pm=get_plugin_manager(load_entrypoints=False))


@pytest.mark.parametrize(("cell", "code", "status"), [
    ("DE", "DE", "code"), ("de", "DE", "code"), ("DEU", "DE", "mapped"),
    ("Germany", "DE", "mapped"), ("Deutschland", "DE", "mapped"), ("Holland", "NL", "mapped"),
    ("The Netherlands", "NL", "mapped"), ("Great Britain", "GB", "mapped"),
    ("UK", "GB", "mapped"), ("USA", "US", "mapped"), ("United States of America", "US", "mapped"),
    ("South Korea", "KR", "mapped"), ("Republic of Korea", "KR", "mapped"),
    ("Czech Republic", "CZ", "mapped"), ("Côte d'Ivoire", "CI", "mapped"),
    ("Vietnam", "VN", "mapped"), ("  france ", "FR", "mapped"), ("", None, "empty"),
])
def test_country_names_codes_and_aliases(cell, code, status):
    match = resolve_country(cell)
    assert (match.code, match.status) == (code, status)


def test_country_typo_and_ambiguity_are_reported_not_guessed():
    typo = resolve_country("Phillippines")
    assert typo.code is None and typo.hint == "did you mean Philippines (PH)?"
    korea = resolve_country("Korea")
    assert korea.code is None and korea.status == "ambiguous"
    assert korea.suggestions == ("KR", "KP")
    assert resolve_country("Atlantis").hint is None


def test_industry_spellings_fall_together():
    norm = industry_normalizer()
    assert {norm(v) for v in ("Health Care", "healthcare", "HOSPITAL_HEALTH_CARE",
                              "Hospital & Health Care")} == {"healthcare"}
    assert norm("Food & Beverage") == norm("FOOD_AND_BEVERAGE") == "food-and-beverage"
    assert norm("Marketing and Advertising") == "advertising"
    assert norm("  ") is None


@pytest.mark.parametrize(("title", "role", "specialty"), [
    ("VP Sales", "vp", None), ("Director of Key Accounts", "director", None),
    ("Global Account Manager", "gam", None), ("National Account Manager", "nam", None),
    ("Senior Key Account Manager", "kam", None), ("Account Executive", "am", None),
    ("Billing Specialist", "support", "billing"),
    ("Customer Service Rep", "support", "customer-service"),
    ("Logistics Coordinator", "support", "logistics"), ("kam", "kam", None),
])
def test_roles_from_titles(title, role, specialty):
    assert guess_role(title, {})[:2] == (role, specialty)


def test_tier_inference_rules():
    order = ["G", "G-DE", "G-DE-1", "G-DE-1-a", "G-FR", "N", "N-1", "N-2", "S", "BIG", "G-FR-x"]
    parent = {"G": None, "G-DE": "G", "G-DE-1": "G-DE", "G-DE-1-a": "G-DE-1", "G-FR": "G",
              "N": None, "N-1": "N", "N-2": "N", "S": None, "BIG": None, "G-FR-x": "G-FR"}
    country = {"G": "DE", "G-DE": "DE", "G-DE-1": "DE", "G-DE-1-a": "DE", "G-FR": "FR",
               "G-FR-x": "FR", "N": "IT", "N-1": "IT", "N-2": "IT", "S": "ES", "BIG": "ES"}
    revenue = {"N-2": 500.0, "BIG": 900.0}
    tiers = {k: g.tier.value for k, g in infer_tiers(order, parent, country, revenue,
                                                     threshold=400.0).items()}
    assert tiers == {"G": "global", "G-DE": "national", "G-DE-1": "key",
                     "G-DE-1-a": "regular", "G-FR": "national", "G-FR-x": "regular",
                     "N": "national", "N-1": "regular", "N-2": "key", "S": "regular",
                     "BIG": "key"}
    assert default_threshold([1.0] * 5) is None


def test_hubspot_import(tmp_path: Path):
    out = tmp_path / "org"
    result = run("import", "hubspot", str(CRM / "hubspot" / "companies.csv"), "--owners",
                 str(CRM / "hubspot" / "owners.csv"), "-o", str(out))
    assert result.exit_code == 0, result.output
    org = loaded(out)
    assert org.accounts["9002"].parent == "9001"  # parent by name
    assert org.accounts["9003"].parent == "9001"  # parent by id
    assert org.accounts["9004"].parent == "9003"
    assert org.accounts["9001"].tier == "global"  # GB + DE below it
    assert org.accounts["9001"].manager == "501"  # owner by name -> Owner ID
    assert org.accounts["9003"].country == "DE"  # "Deutschland"
    assert org.accounts["9005"].industry == "healthcare"
    assert org.accounts["9001"].extra["Phone Number"] == "+44 20 7946 0000"
    assert org.people["501"].role == "gam" and org.people["501"].name == "Samuel Adeyemi"
    assert org.people["UNKNOWN-OWNER"].name == "Unknown Owner"  # placeholder
    report = (out / "import-report.md").read_text()
    assert "parent 'Missing Parent Inc' not found" in report
    assert "did you mean Philippines (PH)?" in report


def test_mapped_csv_import_keyed_by_names(tmp_path: Path):
    out = tmp_path / "org"
    result = run("import", "csv", str(CRM / "generic" / "accounts.csv"), "--people",
                 str(CRM / "generic" / "people.csv"), "--map", str(CRM / "generic" / "map.yaml"),
                 "-o", str(out))
    assert result.exit_code == 0, result.output
    org = loaded(out)
    assert list(org.accounts)[:3] == ["ATLAS-LOGISTICS-GROUP", "ATLAS-LOGISTICS-NL",
                                      "ATLAS-ROTTERDAM-HUB"]
    hub = org.accounts["ATLAS-ROTTERDAM-HUB"]  # BOM and " Account Name " header handled
    assert (hub.parent, hub.manager, hub.tier, hub.country) == (
        "ATLAS-LOGISTICS-NL", "PIET-BAKKER", "key", "NL")
    assert hub.extra["Notes"] == "=1+1"
    assert org.accounts["ATLAS-LOGISTICS-PH"].country == "PH"  # countries: in the map
    assert org.accounts["ATLAS-KOREA"].country is None  # ambiguous: reported
    assert org.accounts["FRESH-FOODS"].tier == "key"  # tier_values Strategic -> key
    assert org.accounts["ATLAS-LOGISTICS-GROUP"].metrics["revenue"] == 1_200_000
    assert org.people["PIET-BAKKER"].reports_to == "INGRID-HOLM"  # manager by name
    assert org.people["OLAV-BERG"].role == "director"
    report = (out / "import-report.md").read_text()
    assert "Annual Revenue (EUR) 'n/a' is not a number" in report
    assert "accounts.csv:6 |  | country 'Korea' (ambiguous)" in report


def test_csv_without_map_points_to_suggest_map(tmp_path: Path):
    result = run("import", "csv", str(CRM / "generic" / "accounts.csv"), "-o",
                 str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "needs a column mapping" in result.output and "--suggest-map" in result.output


def test_suggest_map_drafts_a_usable_mapping(tmp_path: Path):
    accounts = str(CRM / "generic" / "accounts.csv")
    people = str(CRM / "generic" / "people.csv")
    result = run("import", "--suggest-map", accounts, "--people", people)
    assert result.exit_code == 0, result.output
    drafted = yaml.safe_load(result.stdout)  # what `> map.yaml` gets; guesses go to stderr
    assert drafted["accounts"]["name"] == "Account Name"
    assert drafted["accounts"]["parent"] == "Parent Account"
    assert drafted["accounts"]["metrics"] == {"revenue": "Annual Revenue (EUR)"}
    assert drafted["people"]["reports_to"] == "Manager"
    assert run("import", "csv", accounts, "--people", people, "--suggest-map").stdout == (
        result.stdout)
    mapfile = tmp_path / "map.yaml"
    mapfile.write_text(result.stdout)
    imported = run("import", "csv", accounts, "--people", people, "--map", str(mapfile), "-o",
                   str(tmp_path / "org"))
    assert imported.exit_code == 0, imported.output
    org = loaded(tmp_path / "org")
    assert org.accounts["ATLAS-ROTTERDAM-HUB"].parent == "ATLAS-LOGISTICS-NL"  # auto: by name


def test_bad_mapping_file_names_line(tmp_path: Path):
    mapfile = tmp_path / "map.yaml"
    mapfile.write_text("accounts:\n  name: Account Name\n  parent_by: nickname\n")
    result = run("import", "csv", str(CRM / "generic" / "accounts.csv"), "--map", str(mapfile),
                 "-o", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "map.yaml:2" in result.output and "accounts.parent_by" in result.output
    mapfile.write_text("accounts:\n  name: Acount Name\n")
    result = run("import", "csv", str(CRM / "generic" / "accounts.csv"), "--map", str(mapfile),
                 "-o", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "column 'Acount Name' (for name) is not in the file" in result.output
    assert "did you mean 'Account Name'?" in result.output


def test_hubspot_and_csv_workspaces_load_to_the_same_records(tmp_path: Path):
    from kamcore.importers import import_csv, import_hubspot, write_import
    from kamcore.registry import registry_for

    reg = registry_for(get_plugin_manager(load_entrypoints=False))
    results = {
        "hubspot": import_hubspot(str(CRM / "hubspot" / "companies.csv"),
                                  owners=str(CRM / "hubspot" / "owners.csv"), registry=reg),
        "csv": import_csv(str(CRM / "generic" / "accounts.csv"), CRM / "generic" / "map.yaml",
                          people=str(CRM / "generic" / "people.csv"), registry=reg),
    }
    for name, result in results.items():
        write_import(result, tmp_path / name)
        org = load(tmp_path / name, registry=reg)
        assert org.accounts == result.org.accounts, name
        assert org.people == result.org.people, name


def test_clashing_and_dotted_columns_are_kept_apart(tmp_path: Path):
    accounts = tmp_path / "a.csv"
    accounts.write_text("Name,tier,Address.City,revenue,Country\n"
                        "Acme,Gold,Berlin,12,Germany\n"
                        "Acme Sub,Silver,Bonn,3,DE\n", encoding="utf-8")
    mapfile = tmp_path / "map.yaml"
    mapfile.write_text("accounts:\n  name: Name\n  country: Country\n")
    out = tmp_path / "org"
    result = run("import", "csv", str(accounts), "--map", str(mapfile), "-o", str(out))
    assert result.exit_code == 0, result.output
    header = (out / "accounts.csv").read_text().splitlines()[0].split(",")
    assert {"crm:tier", "crm:Address_City", "crm:revenue", "crm:Country"} <= set(header)
    org = loaded(out)
    acme = org.accounts["ACME"]
    assert acme.extra["crm:tier"] == "Gold" and acme.extra["crm:Address_City"] == "Berlin"
    assert acme.metrics == {} and acme.ext == {}  # neither a metric nor a plugin field
    layout = yaml.safe_load((out / "crm.yaml").read_text())
    assert {"header": "Address.City", "column": "crm:Address_City"} in (
        layout["accounts"]["columns"])


def test_role_map_file_and_role_from(tmp_path: Path):
    sf = CRM / "salesforce"
    roles = tmp_path / "roles.yaml"
    roles.write_text("Chief Happiness Wizard: support:happiness\nAccount Executive: kam\n")
    out = tmp_path / "org"
    result = run("import", "salesforce", str(sf / "Account.csv"), "--users", str(sf / "User.csv"),
                 "--role-map", str(roles), "-o", str(out))
    assert result.exit_code == 0, result.output
    org = loaded(out)
    assert (org.people["005Dn00000Ux017IAB"].role, org.people["005Dn00000Ux017IAB"].specialty) \
        == ("support", "happiness")
    assert org.people["005Dn00000Ux009IAB"].role == "kam"
    assert "matches no role" not in (out / "import-report.md").read_text()
    by_department = run("import", "salesforce", str(sf / "Account.csv"), "--users",
                        str(sf / "User.csv"), "--role-from", "Department", "-o",
                        str(tmp_path / "o2"))
    assert by_department.exit_code == 0
    assert "title 'Sales' matches no role" in (tmp_path / "o2" / "import-report.md").read_text()


def test_hubspot_tier_from_column(tmp_path: Path):
    out = tmp_path / "org"
    result = run("import", "hubspot", str(CRM / "hubspot" / "companies.csv"), "--tier-from",
                 "Type", "--tier-map", "PARTNER=national", "--tier-map", "reseller=key",
                 "-o", str(out))
    assert result.exit_code == 0, result.output
    org = loaded(out)
    assert org.accounts["9002"].tier == "national" and org.accounts["9004"].tier == "key"
    assert org.accounts["9005"].tier == "national"  # PROSPECT: no tier, inferred
    bad = run("import", "hubspot", str(CRM / "hubspot" / "companies.csv"), "--tier-map",
              "PARTNER", "-o", str(tmp_path / "o2"))
    assert bad.exit_code == 2 and "write VALUE=tier-map" in bad.output


def test_progress_bar_only_on_a_terminal(monkeypatch):
    import sys

    from kamcore.cli import cmd_import

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert cmd_import._progress() is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    bar = cmd_import._progress()
    assert bar is not None and list(bar([1, 2, 3], 3, "reading")) == [1, 2, 3]


@pytest.mark.parametrize(("args", "message"), [
    (["--tier-from", "Type", "--tier-map", "PARTNER=gold"],
     "--tier-map: partner: Input should be 'global', 'national', 'key' or 'regular'"),
    (["--country", "Phillippines=XX"], "'XX' is not an ISO 3166-1 alpha-2 code"),
    (["--tier-from", "Typ"], "column 'Typ' (for tier) is not in the file"),
    (["--currency", "XYZ"], "--currency 'XYZ' is not an ISO 4217 code"),
])
def test_bad_options_are_usage_errors(tmp_path: Path, args, message):
    out = tmp_path / "o"
    result = run("import", "hubspot", str(CRM / "hubspot" / "companies.csv"), *args, "-o",
                 str(out))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_bad_metric_name_in_map(tmp_path: Path):
    mapfile = tmp_path / "map.yaml"
    mapfile.write_text("accounts:\n  name: Account Name\n  metrics: {Annual Revenue: Notes}\n")
    result = run("import", "csv", str(CRM / "generic" / "accounts.csv"), "--map", str(mapfile),
                 "-o", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "metric name 'Annual Revenue' must be lower_snake_case" in result.output
