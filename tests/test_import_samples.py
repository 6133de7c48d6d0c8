"""Imports of the shipped sample exports (examples/crm): what a new user meets first.

The sales-team sheet is shaped like the public "CRM sales opportunities" data: accounts named
by an ``account`` column, parents by name in ``subsidiary_of``, countries in
``office_location``, and a people sheet of agent, manager and regional office where the
managers have no row of their own.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kamcore import load
from kamcore.cli.app import make_cli
from kamcore.importers.tiers import infer_tiers
from kamcore.plugins import get_plugin_manager

SAMPLES = Path(__file__).resolve().parent.parent / "examples" / "crm"
TEAM = SAMPLES / "sales-team"


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def import_team(tmp_path: Path, *extra: str) -> tuple[Path, dict]:
    out = tmp_path / "org"
    result = run("import", "csv", str(TEAM / "accounts.csv"), "--people",
                 str(TEAM / "sales_teams.csv"), "--map", str(TEAM / "map.yaml"), "-o", str(out),
                 "--report", "json", *extra)
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "import-report.json").read_text())


def test_managers_without_a_row_become_placeholders_said_once(tmp_path):
    out, report = import_team(tmp_path)
    org = load(out, pm=get_plugin_manager(load_entrypoints=False))
    agent = org.people["ANNA-SNELLING"]
    assert agent.reports_to == "DUSTIN-BRINKMANN"
    boss = org.people["DUSTIN-BRINKMANN"]
    assert (boss.name, boss.role.value) == ("Dustin Brinkmann", "director")
    assert all(p.reports_to for p in org.people.values() if p.role.value == "am")
    placeholders = {p["person"]: p["reason"] for p in report["placeholders"]}
    assert len(placeholders) == 6
    assert placeholders["DUSTIN-BRINKMANN"] == (
        "manager of 4 people in the people file (lines 2, 8, 14, 20) without a row of "
        "their own; role director (add their row to give their details)")
    assert not [p for p in report["problems"] if p["kind"] == "manager"]


def test_one_problem_when_no_role_column_is_mapped(tmp_path):
    _out, report = import_team(tmp_path)
    roles = [p for p in report["problems"] if p["kind"] == "role"]
    assert [p["message"] for p in roles] == [
        "no role column is mapped: all 24 people are imported as am"]


def test_alike_problems_share_one_row_with_count_lines_and_fix(tmp_path):
    result = run("import", "csv", str(TEAM / "accounts.csv"), "--people",
                 str(TEAM / "sales_teams.csv"), "--map", str(TEAM / "map.yaml"), "-o",
                 str(tmp_path / "md"))
    text = (tmp_path / "md" / "import-report.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| tier (11×)"))
    assert row.startswith(f"| tier (11×) | {TEAM / 'accounts.csv'}: lines 3, 4, 5, 7, 8, 10, "
                          "11, 12 and 3 more | HOTTECHI-KOREA (Hottechi Korea, owner Vicki Hulme)")
    assert row.endswith("| tier national inferred, but the owner is AM: rule KAM107 will flag "
                        "it | give tiers with --tier-from COLUMN (or a tier: column in the map), "
                        "or make the owner a DIRECTOR or GAM or NAM or VP |")
    assert text.count("rule KAM107 will flag it") == 2  # the national group, and Inity
    strict = run("import", "csv", str(TEAM / "accounts.csv"), "--people",
                 str(TEAM / "sales_teams.csv"), "--map", str(TEAM / "map.yaml"), "-o",
                 str(tmp_path / "strict"), "--strict")
    assert strict.exit_code == 1
    assert (f"- 11× {TEAM / 'accounts.csv'}: lines 3, 4, 5, 7, 8, 10, 11, 12 and 3 more: "
            "tier national inferred, but the owner is AM") in strict.stderr
    assert result.exit_code == 0


def test_findings_in_the_report_name_the_accounts(tmp_path):
    _out, report = import_team(tmp_path)
    # the ids a message quotes are named too
    assert ("KAM107 error HOTTECHI-KOREA (Hottechi Korea): national account is managed by "
            "'VICKI-HULME' (Vicki Hulme), an AM; it needs one of DIRECTOR, GAM, NAM, VP"
            in report["finding_lines"])


def test_siblings_under_a_global_account_follow_one_rule():
    parent = {"G": None, "DE": "G", "DE-1": "DE", "NL": "G", "NL-1": "NL", "UK": "G"}
    country = {"G": "DE", "DE": "DE", "DE-1": "DE", "NL": "NL", "NL-1": "NL", "UK": "GB"}
    guesses = infer_tiers(list(parent), parent, country, {}, threshold=None)
    assert {k: g.tier.value for k, g in guesses.items()} == {
        "G": "global", "DE": "national", "DE-1": "regular", "NL": "national",
        "NL-1": "regular", "UK": "national"}
    assert guesses["UK"].reason == "under global G: its part in one country"


GENERIC = Path(__file__).resolve().parent.parent / "tests" / "data" / "crm" / "generic"


def test_currency_comes_from_the_header_and_is_said(tmp_path):
    result = run("import", "csv", str(GENERIC / "accounts.csv"), "--people",
                 str(GENERIC / "people.csv"), "--map", str(GENERIC / "map.yaml"), "-o",
                 str(tmp_path / "org"))
    assert result.exit_code == 0, result.output
    assert ("currency: amounts are in EUR, as the header 'Annual Revenue (EUR)' says"
            in result.stderr)
    org = load(tmp_path / "org", pm=get_plugin_manager(load_entrypoints=False))
    assert org.settings.currency == "EUR"
    assert {a.currency for a in org.accounts.values()} == {"EUR"}


def test_without_any_currency_the_usd_assumption_is_said(tmp_path):
    result = run("import", "csv", str(TEAM / "accounts.csv"), "--map", str(TEAM / "map.yaml"),
                 "-o", str(tmp_path / "org"))
    assert result.exit_code == 0, result.output
    assert "amounts are taken as USD (pass --currency CODE if they are not)" in result.stderr
    report = (tmp_path / "org" / "import-report.md").read_text()
    assert "- currency: no currency column" in report.split("## ")[0]


def test_a_map_scales_a_metric_given_in_millions(tmp_path):
    mapping = (TEAM / "map.yaml").read_text() + "  scale: {revenue: millions}\n"
    mapping = mapping.replace("people:", "  scale: {revenue: millions}\npeople:", 1).rsplit(
        "  scale: {revenue: millions}\n", 1)[0]
    (tmp_path / "map.yaml").write_text(mapping)
    result = run("import", "csv", str(TEAM / "accounts.csv"), "--map", str(tmp_path / "map.yaml"),
                 "-o", str(tmp_path / "org"), "--currency", "USD")
    assert result.exit_code == 0, result.output
    org = load(tmp_path / "org", pm=get_plugin_manager(load_entrypoints=False))
    assert org.accounts["HOTTECHI"].metrics["revenue"] == 8170.38e6
    (tmp_path / "bad.yaml").write_text("accounts:\n  name: account\n  scale: {revenue: 1000}\n")
    bad = run("import", "csv", str(TEAM / "accounts.csv"), "--map", str(tmp_path / "bad.yaml"),
              "-o", str(tmp_path / "org2"))
    assert bad.exit_code == 2
    assert "scale names 'revenue', which metrics: does not map" in bad.stderr


def test_a_currency_option_that_contradicts_the_header_is_a_problem(tmp_path):
    result = run("import", "csv", str(GENERIC / "accounts.csv"), "--map",
                 str(GENERIC / "map.yaml"), "-o", str(tmp_path / "org"), "--currency", "GBP",
                 "--report", "json")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "org" / "import-report.json").read_text())
    assert [p["message"] for p in report["problems"] if p["kind"] == "currency"] == [
        "the header 'Annual Revenue (EUR)' names EUR, but --currency is GBP: amounts are "
        "read as EUR and not converted"]
    strict = run("import", "csv", str(GENERIC / "accounts.csv"), "--map",
                 str(GENERIC / "map.yaml"), "-o", str(tmp_path / "strict"), "--currency", "GBP",
                 "--strict")
    assert strict.exit_code == 1 and not (tmp_path / "strict").exists()


def test_the_report_counts_what_kam_validate_then_says(tmp_path):
    """One truth: the findings the import report gives are the ones `kam validate` gives on
    the workspace it wrote (the Salesforce sample has GBP and USD accounts and no fx.csv, so
    both say the FX rates are missing)."""
    sample = SAMPLES / "salesforce"
    out = tmp_path / "sf"
    result = run("import", "salesforce", str(sample / "Account.csv"), "--users",
                 str(sample / "User.csv"), "-o", str(out), "--report", "json")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "import-report.json").read_text())
    checked = run("validate", str(out), "--format", "json")
    found = json.loads(checked.stdout)["findings"]
    by_severity = {k: sum(f["severity"] == k for f in found) for k in ("error", "warning", "info")}
    assert report["findings"] == by_severity
    assert sorted(line.split(" ")[0] for line in report["finding_lines"]) == sorted(
        f["code"] for f in found)
    assert any(line.startswith("KAM151 error") and "GBP" in line
               for line in report["finding_lines"])
