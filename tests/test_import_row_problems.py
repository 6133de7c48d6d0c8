"""A row with several bad cells reports every one of them in one run (issue 11, item 8): the
import report lists each cell, and the workspace reader counts one record, not one per cell."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def test_workspace_reader_counts_one_record_with_each_bad_cell(tmp_path: Path):
    (tmp_path / "kam.yaml").write_text("name: T\ncurrency: EUR\n")
    (tmp_path / "people.csv").write_text("id,name,role\nP1,Ada,gam\n")
    (tmp_path / "accounts.csv").write_text(
        "id,name,tier,parent,manager,country,industry,currency,revenue\n"
        "A,Acme,platinum,,P1,Atlantis,,ZZZ,lots\n")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 2
    assert "1 record could not be read (4 problems):" in result.output
    for column in ("tier", "country", "currency", "revenue"):
        assert f"accounts.csv:2 (column '{column}')" in result.output


def test_a_deal_row_with_three_bad_cells_reports_three(acme_copy: Path, tmp_path: Path):
    export = tmp_path / "deals.csv"
    export.write_text("AccountId,CloseDate,Amount,CurrencyIsoCode,OwnerId,StageName\n"
                      "NOPE,31.31.2026,lots,Dragon Gold,GHOST,Closed Won\n"
                      "ACME-DE,2026-01-15,100,EUR,GHOST,Closed Won\n")
    (tmp_path / "facts.yaml").write_text(
        "account: AccountId\ndate: CloseDate\nvalue: Amount\ncurrency: CurrencyIsoCode\n"
        "owner: OwnerId\n")
    result = run("import", "facts", str(acme_copy), str(export), "--map",
                 str(tmp_path / "facts.yaml"), "--report", "json")
    assert result.exit_code == 0, result.output
    report = json.loads((acme_copy / "facts-import-report.json").read_text())
    kinds = [p["kind"] for p in report["problems"]
             if p["line"] == 2 and p["file"] == str(export)]
    assert kinds == ["account", "date", "number", "currency", "owner"]
    # a bad owner alone keeps the fact (without an owner)
    assert [p["kind"] for p in report["problems"]
            if p["line"] == 3 and p["file"] == str(export)] == ["owner"]
    assert "ACME-DE,2026Q1,revenue,100," in (acme_copy / "facts.csv").read_text()


def test_a_contact_row_without_account_and_name_reports_both(acme_copy: Path, tmp_path: Path):
    export = tmp_path / "Contact.csv"
    export.write_text("Id,AccountId,FirstName,LastName,Title,OwnerId\n"
                      "003A1,NOPE,,,Clerk,GHOST\n")
    result = run("import", "contacts", str(acme_copy), str(export), "--preset", "salesforce",
                 "--report", "json")
    assert result.exit_code == 0, result.output
    report = json.loads((acme_copy / "contacts-import-report.json").read_text())
    assert sorted(p["kind"] for p in report["problems"]) == ["account", "name", "owner"]


def test_an_account_and_a_person_with_several_bad_cells_report_each(tmp_path: Path):
    (tmp_path / "accounts.csv").write_text("Name,Owner,Country,Currency,Revenue,Tier\n"
                                           "Acme,Bob,Atlantis,ZZZ,lots,huge\n")
    (tmp_path / "people.csv").write_text("Name,Email,Capacity,Active\n"
                                         "Bob,not-an-email,lots,maybe\n")
    (tmp_path / "map.yaml").write_text(
        "accounts:\n  name: Name\n  manager: Owner\n  manager_by: name\n  country: Country\n"
        "  currency: Currency\n  tier: Tier\n  metrics: {revenue: Revenue}\npeople:\n  name: Name\n"
        "  email: Email\n  capacity: Capacity\n  active: Active\n")
    result = run("import", "csv", str(tmp_path / "accounts.csv"), "--people",
                 str(tmp_path / "people.csv"), "--map", str(tmp_path / "map.yaml"), "-o",
                 str(tmp_path / "org"), "--report", "json")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "org" / "import-report.json").read_text())
    kinds = sorted(p["kind"] for p in report["problems"] if p["line"] == 2
                   and p["file"].endswith("accounts.csv"))
    assert kinds == ["country", "tier", "value", "value"]  # country, tier, currency, revenue
    messages = [p["message"] for p in report["problems"] if p["line"] == 2
                and p["file"].endswith("people.csv")]
    assert any("not-an-email" in m for m in messages)
    assert any("'lots'" in m for m in messages)
    assert any("'maybe'" in m for m in messages)
