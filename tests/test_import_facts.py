"""kam import facts: presets, maps, located problems, idempotent replace; credit in rollups."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.importers.facts import currency_code, period_of
from kamcore.plugins import get_plugin_manager

CRM = Path(__file__).parent / "data" / "crm"


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def facts_rows(org: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((org / "facts.csv").read_text(), newline="")))


@pytest.fixture
def sf_org(tmp_path: Path) -> Path:
    out = tmp_path / "sf"
    result = run("import", "salesforce", str(CRM / "salesforce" / "Account.csv"), "--users",
                 str(CRM / "salesforce" / "User.csv"), "-o", str(out), "--no-validate")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def generic_org(tmp_path: Path) -> Path:
    out = tmp_path / "gen"
    result = run("import", "csv", str(CRM / "generic" / "accounts.csv"), "--people",
                 str(CRM / "generic" / "people.csv"), "--map", str(CRM / "generic" / "map.yaml"),
                 "-o", str(out), "--no-validate")
    assert result.exit_code == 0, result.output
    return out


def test_salesforce_preset_sums_won_deals_and_reports_bad_rows(sf_org: Path):
    export = CRM / "salesforce" / "Opportunity.csv"
    result = run("import", "facts", str(sf_org), str(export), "--preset", "salesforce",
                 "--report", "json")
    assert result.exit_code == 0, result.output
    rows = facts_rows(sf_org)
    # 15- and 18-character AccountIds and OwnerIds meet; the lost deal is filtered out
    assert rows[0] == {"account": "001DnAbC0000003IFA", "period": "2026Q1", "metric": "revenue",
                       "value": "150000", "owner": "005Dn00000Ux003IAB",
                       "source": "Opportunity.csv"}
    report = json.loads((sf_org / "facts-import-report.json").read_text())
    where = {(p["kind"], p["line"]) for p in report["problems"]}
    assert where == {("account", 5), ("date", 6), ("number", 7), ("currency", 8), ("owner", 9)}
    assert report["rows_filtered"] == 1
    # the fact of an unknown owner is kept without one
    assert {"account": "001DnAbC0000002", "period": "2026Q2", "metric": "revenue",
            "value": "4000", "owner": "", "source": "Opportunity.csv"} in rows


def test_import_again_replaces_only_its_own_rows(sf_org: Path):
    (sf_org / "facts.csv").write_text("account,period,metric,value\n"
                                      "001DnAbC0000006,2026Q1,revenue,7\n")
    export = str(CRM / "salesforce" / "Opportunity.csv")
    for _ in range(2):
        result = run("import", "facts", str(sf_org), export, "--preset", "salesforce")
        assert result.exit_code == 0, result.output
    rows = facts_rows(sf_org)
    assert len(rows) == 4
    assert rows[0]["value"] == "7" and rows[0]["source"] == ""
    assert "replaced 3 rows" in result.output


def test_strict_writes_nothing(sf_org: Path):
    result = run("import", "facts", str(sf_org), str(CRM / "salesforce" / "Opportunity.csv"),
                 "--preset", "salesforce", "--strict")
    assert result.exit_code == 1
    assert "Opportunity.csv:6" in result.output
    assert not (sf_org / "facts.csv").exists()


def test_dynamics_preset_matches_names_and_currency_names(generic_org: Path):
    # The accounts' amounts are in EUR: their header says so ("Annual Revenue (EUR)"), so
    # the org reports in EUR and fx.csv gives EUR per 1 unit.
    assert "currency: EUR" in (generic_org / "kam.yaml").read_text()
    (generic_org / "fx.csv").write_text("currency,period,rate\nUSD,*,0.9\nGBP,*,1.2\n")
    result = run("import", "facts", str(generic_org), str(CRM / "generic" / "opportunity.csv"),
                 "--preset", "dynamics", "--period", "month")
    assert result.exit_code == 0, result.output
    rows = {(r["account"], r["period"], r["owner"]): r["value"] for r in facts_rows(generic_org)}
    # accounts and owners by name; euro deals land unchanged in the euro accounts, pounds are
    # converted to the accounts' currency with fx.csv
    assert rows[("ATLAS-LOGISTICS-NL", "2026-01", "INGRID-HOLM")] == "250000"
    assert rows[("ATLAS-LOGISTICS-NL", "2026-02", "PIET-BAKKER")] == "50000"
    assert rows[("FRESH-FOODS", "2026-04", "PIET-BAKKER")] == "12000"
    assert len(rows) == 3
    report = (generic_org / "facts-import-report.md").read_text()
    assert "currency 'Dragon Gold' is not an ISO 4217 code or name" in report


def test_map_errors_are_located(sf_org: Path, tmp_path: Path):
    bad = tmp_path / "facts.yaml"
    bad.write_text("account: AccountId\ndate: CloseDate\nvalue: Amount\nowner: Owner Alias\n")
    result = run("import", "facts", str(sf_org), str(CRM / "salesforce" / "Opportunity.csv"),
                 "--map", str(bad))
    assert result.exit_code == 2
    assert "column 'Owner Alias' (for owner) is not in the file" in result.output
    assert "Traceback" not in result.output
    bad.write_text("account: AccountId\ndate: CloseDate\nvalue: Amount\nmetric: bookings\n")
    result = run("import", "facts", str(sf_org), str(CRM / "salesforce" / "Opportunity.csv"),
                 "--map", str(bad))
    assert result.exit_code == 2 and "'bookings' is not a metric" in result.output
    bad.write_text("account: AccountId\ndate: CloseDate\nvalue: Amount\nperiod: week\n")
    result = run("import", "facts", str(sf_org), str(CRM / "salesforce" / "Opportunity.csv"),
                 "--map", str(bad))
    assert result.exit_code == 2 and "facts.yaml:1" in result.output
    assert not (sf_org / "facts.csv").exists()


def test_credit_owner_rolls_up_owned_facts(sf_org: Path):
    run("import", "facts", str(sf_org), str(CRM / "salesforce" / "Opportunity.csv"),
        "--preset", "salesforce")
    owner = json.loads(run("rollup", str(sf_org), "--by", "manager", "--credit", "owner",
                           "-m", "revenue", "--period", "2026", "--format", "json").output)
    assert owner["credit"] == "owner"
    book = {r["id"]: r["revenue_book"] for r in owner["rows"]}
    assert book["005Dn00000Ux003IAB"] == 150000       # Jonas (KAM) owns Berlin's deals
    assert book["005Dn00000Ux001IAB"] == 6000         # Gabriela owns one Deutschland deal
    assert book["005Dn00000Ux002IAB"] is None         # Lena manages it, owns no deal
    assert book["(unassigned)"] == 4000
    account = json.loads(run("rollup", str(sf_org), "--by", "manager", "-m", "revenue",
                             "--period", "2026", "--format", "json").output)
    assert account["credit"] == "account"
    top = account["rows"][0]
    assert top["revenue_team"] == 160000 == sum(v for v in book.values() if v)
    table = run("rollup", str(sf_org), "--by", "manager", "--credit", "owner", "-m", "revenue")
    assert "credited to deal owners" in table.output
    refused = run("rollup", str(sf_org), "--credit", "owner")
    assert refused.exit_code != 0 and "--by manager" in refused.output


def test_period_and_currency_helpers():
    assert period_of("2026-12-31T10:00:00", "year").label == "2026"
    assert period_of("31.12.2026", "quarter").label == "2026Q4"
    assert period_of("15/07/2026", "month", "%d/%m/%Y").label == "2026-07"
    assert period_of("soon", "month") is None
    assert currency_code("pound sterling") == "GBP"

