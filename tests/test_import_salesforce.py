"""Salesforce import: ids across both forms, report, team, strict, and the CSV round trip."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore import load
from kamcore.cli.app import make_cli
from kamcore.importers import id15, id18, import_salesforce
from kamcore.plugins import get_plugin_manager
from kamcore.registry import registry_for

SF = Path(__file__).parent / "data" / "crm" / "salesforce"


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def read_csv(path: Path) -> list[dict[str, str]]:
    return rows(path.read_text(encoding="utf-8-sig"))


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    out = tmp_path / "org"
    result = run("import", "salesforce", str(SF / "Account.csv"), "--users", str(SF / "User.csv"),
                 "--team", str(SF / "AccountTeamMember.csv"), "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_id18_known_value_and_back():
    assert id18("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert id15("001A0000006Vm9rIAC") == "001A0000006Vm9r"
    assert id15("001a0000006vm9riac") == "001A0000006Vm9r"  # 18-char form is case-insensitive


def test_15_char_ids_are_case_sensitive():
    assert id15("001A0000006Vm9r") != id15("001a0000006Vm9r")
    assert id18("001A0000006Vm9r") != id18("001a0000006Vm9r")


@pytest.mark.parametrize("bad", ["", "001", "001A0000006Vm9r!", "001A0000006Vm9rIA9",
                                 "0010000000000000ZZ"])
def test_invalid_ids_are_refused(bad):
    with pytest.raises(ValueError):
        id15(bad)


@settings(max_examples=60)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
               min_size=15, max_size=15))
def test_18_char_form_round_trips_in_any_case(ident):
    long = id18(ident)
    assert id15(long) == ident
    assert id15(long.lower()) == ident
    assert id15(long.upper()) == ident


def test_import_writes_workspace_and_report(imported: Path):
    org = load(imported, pm=get_plugin_manager(load_entrypoints=False))
    assert len(org.accounts) == 19  # 20 rows, one without an Id
    berlin = org.accounts["001DnAbC0000003IFA"]
    # ParentId given in 15-char form finds the parent whose Id is written in 18-char form
    assert berlin.parent == "001DnAbC0000002"
    assert org.accounts["001DnAbC0000002"].parent == "001DnAbC0000001IFA"
    # a lower-cased 18-char ParentId still matches
    assert org.accounts["001DnAbC0000005IFA"].parent == "001DnAbC0000004"
    assert berlin.country == "DE" and berlin.industry == "manufacturing"
    assert berlin.metrics == {"revenue": 15_000_000.0, "employees": 800.0}
    assert org.accounts["001DnAbC0000004"].country == "NL"  # "Holland"
    assert org.accounts["001DnAbC0000006"].country == "GB"  # "UK"
    assert org.accounts["001DnAbC0000009IFA"].country is None  # "Phillippines": reported
    assert org.accounts["001DnAbC0000001IFA"].tier == "global"
    assert org.accounts["001DnAbC0000001IFA"].extra["Region__c"] == "EMEA"
    # people: ManagerId in 15-char form -> reports_to the 18-char user Id
    assert org.people["005Dn00000Ux002IAB"].reports_to == "005Dn00000Ux001IAB"
    assert org.people["005Dn00000Ux016IAB"].role == "support"
    assert org.people["005Dn00000Ux016IAB"].specialty == "billing"
    assert org.people["005Dn00000Ux014IAB"].active is False
    # team member missing from User.csv: a support placeholder under the account's manager
    helper = org.people["005Dn00000Ux099"]
    assert (helper.role, helper.specialty, helper.reports_to) == (
        "support", "customer-service", "005Dn00000Ux007IAB")
    report = (imported / "import-report.md").read_text()
    assert "Account.csv:22 | Nameless Inc | account without an id; skipped" in report
    assert "parent '001DnAbC0000099' not found" in report
    assert "parent loop 001DnAbC0000018 -> 001DnAbC0000019IFA -> 001DnAbC0000018" in report
    assert "did you mean Philippines (PH)?" in report
    assert "'Korea' could be South Korea (KR) or North Korea (KP)" in report
    assert "| 2 | 001DnAbC0000001IFA | Globex Corporation | global | root spanning 3 countries " \
           "(DE, GB, NL) |" in report
    assert "- healthcare: Health Care (1), Healthcare (1), Hospital & Health Care (1)" in report
    assert "By tier: global 1, national 7, regular 11." in report
    assert "title 'Chief Happiness Wizard' matches no role" in report


def test_round_trip_preserves_every_cell(imported: Path):
    out = imported.parent / "Account.csv"
    result = run("export", str(imported), "--format", "salesforce", "--verbatim", "-o", str(out))
    assert result.exit_code == 0, result.output
    original = read_csv(SF / "Account.csv")
    exported = read_csv(out)
    assert list(exported[0]) == list(original[0])  # same columns, same order
    by_id = {r["Id"]: r for r in exported}
    usable = [r for r in original if r["Id"]]
    assert len(exported) == len(usable)
    for row in usable:
        assert by_id[row["Id"]] == row
    # --verbatim: the formula-like cells came back as they were (Data Loader runs no formulas)
    assert by_id["001DnAbC0000007IFA"]["Description"] == '=HYPERLINK("http://x")'


def test_export_after_an_edit_writes_the_new_value(imported: Path):
    org = load(imported, pm=get_plugin_manager(load_entrypoints=False))
    berlin = org.accounts["001DnAbC0000003IFA"]
    moved = berlin.model_copy(update={"parent": "001DnAbC0000004", "country": "NL"})
    from kamcore import save

    save(org.replace(accounts={**org.accounts, berlin.id: moved}))
    from kamcore.exporters import export
    from kamcore.importers import read_layout

    reloaded = load(imported, pm=get_plugin_manager(load_entrypoints=False))
    by_id = {r["Id"]: r for r in rows(export(reloaded, "salesforce",
                                             layout=read_layout(imported)))}
    assert by_id["001DnAbC0000003IFA"]["ParentId"] == "001DnAbC0000004"
    assert by_id["001DnAbC0000003IFA"]["BillingCountry"] == "NL"
    assert by_id["001DnAbC0000005IFA"]["BillingCountry"] == "Netherlands"  # untouched


def test_strict_refuses_and_writes_nothing(tmp_path: Path):
    out = tmp_path / "org"
    result = run("import", "salesforce", str(SF / "Account.csv"), "-o", str(out), "--strict")
    assert result.exit_code == 1
    assert "--strict:" in result.output and "account without an id" in result.output
    assert not out.exists()


def test_country_option_maps_a_typo(tmp_path: Path):
    out = tmp_path / "org"
    result = run("import", "salesforce", str(SF / "Account.csv"), "-o", str(out),
                 "--country", "Phillippines=PH", "--country", "Korea=KR")
    assert result.exit_code == 0, result.output
    org = load(out, pm=get_plugin_manager(load_entrypoints=False))
    assert org.accounts["001DnAbC0000009IFA"].country == "PH"
    assert org.accounts["001DnAbC0000013IFA"].country == "KR"


def test_tier_from_column_with_mapping(tmp_path: Path):
    reg = registry_for(get_plugin_manager(load_entrypoints=False))
    result = import_salesforce(str(SF / "Account.csv"), tier_from="Type",
                               tier_map={"Customer - Direct": "key", "customer - channel": "key"},
                               registry=reg)
    org = result.org
    assert org.accounts["001DnAbC0000002"].tier == "key"
    # Prospect maps to no tier: inferred and reported
    assert org.accounts["001DnAbC0000013IFA"].tier == "regular"
    kinds = [(p.kind, p.line) for p in result.report.problems if p.kind == "tier"]
    assert ("tier", 11) in kinds
    inferred = {t.record for t in result.report.tiers}
    assert "001DnAbC0000002" not in inferred and "001DnAbC0000013IFA" in inferred


def test_owners_without_users_become_placeholders(tmp_path: Path):
    reg = registry_for(get_plugin_manager(load_entrypoints=False))
    result = import_salesforce(str(SF / "Account.csv"), registry=reg)
    people = result.org.people
    assert people["005Dn00000Ux001IAB"].role == "gam"  # owns a global account
    assert people["005Dn00000Ux003IAB"].role == "am"  # owns a regular one
    assert len(result.report.placeholders) == len(people) == 14


def test_json_report_and_existing_workspace(tmp_path: Path, imported: Path):
    again = run("import", "salesforce", str(SF / "Account.csv"), "-o", str(imported))
    assert again.exit_code == 2
    assert "already holds a workspace" in again.output and "--force" in again.output
    forced = run("import", "salesforce", str(SF / "Account.csv"), "-o", str(imported),
                 "--force", "--report", "json")
    assert forced.exit_code == 0, forced.output
    data = json.loads((imported / "import-report.json").read_text())
    assert data["source"] == "salesforce" and data["accounts"] == 19
    assert {p["kind"] for p in data["problems"]} == {"unusable", "parent", "loop", "country"}


def test_no_progress_bar_when_piped(tmp_path: Path):
    result = run("import", "salesforce", str(SF / "Account.csv"), "-o", str(tmp_path / "o"))
    assert result.exit_code == 0
    assert "reading accounts" not in result.output
    assert result.output.startswith("imported 19 accounts and 14 people from salesforce")


def test_missing_file_and_missing_output(tmp_path: Path):
    missing = run("import", "salesforce", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    assert "Traceback" not in missing.output
    no_out = run("import", "salesforce", str(SF / "Account.csv"))
    assert no_out.exit_code == 2 and "missing -o ORGDIR" in no_out.output


def test_written_workspace_loads_to_the_same_records(tmp_path: Path):
    from kamcore.importers import write_import

    reg = registry_for(get_plugin_manager(load_entrypoints=False))
    result = import_salesforce(str(SF / "Account.csv"), users=str(SF / "User.csv"),
                               team=str(SF / "AccountTeamMember.csv"), registry=reg)
    write_import(result, tmp_path / "org")
    org = load(tmp_path / "org", registry=reg)
    assert org.accounts == result.org.accounts
    assert org.people == result.org.people
    assert list(org.accounts) == list(result.org.accounts)


def test_a_file_without_ids_is_not_a_salesforce_export(tmp_path: Path):
    other = Path(__file__).parent / "data" / "crm" / "generic" / "accounts.csv"
    result = run("import", "salesforce", str(other), "-o", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "has no Id column" in result.output and "kam import csv --map" in result.output
    assert not (tmp_path / "o").exists()


def test_bad_rows_and_bad_ids_are_listed_with_their_line(tmp_path: Path):
    accounts = tmp_path / "Account.csv"
    accounts.write_text("Id,Name,ParentId,OwnerId\n"
                        "001A0000006Vm9rIAC,Good,,\n"
                        "not-an-id,Bad Id,,\n"
                        "001A0000006Vm9r,Same as line 2 in 15-char form,,\n"
                        "001A0000006Vm9s,Too,many,cells,here\n", encoding="utf-8")
    reg = registry_for(get_plugin_manager(load_entrypoints=False))
    result = import_salesforce(str(accounts), registry=reg)
    assert list(result.org.accounts) == ["001A0000006Vm9rIAC"]
    found = sorted((p.line, p.kind, p.message.split(";")[0]) for p in result.report.problems)
    assert found == [
        (3, "unusable", "'not-an-id' is not a valid id (a Salesforce Id has 15 or 18 letters "
                        "and digits)"),
        (4, "unusable", "id '001A0000006Vm9r' is already used on line 2"),
        (5, "unreadable", "5 cells where the header has 4"),
    ]


def test_european_excel_export_semicolons_cp1252_decimal_commas(tmp_path: Path):
    """Excel in Germany saves "CSV (Windows)": semicolons, Windows-1252, 1.250.000,50."""
    out = tmp_path / "org"
    source = SF / "Account-excel-de.csv"
    result = run("import", "salesforce", str(source), "-o", str(out))
    assert result.exit_code == 0, result.output
    org = load(out, pm=get_plugin_manager(load_entrypoints=False))
    group = org.accounts[id18("001Dn00000Eu001")]
    assert group.name == "Müller Gruppe" and group.country == "DE"
    assert group.metrics["revenue"] == 1_250_000.5
    assert org.accounts[id18("001Dn00000Eu002")].metrics["revenue"] == 980_000
    assert org.accounts[id18("001Dn00000Eu003")].metrics["revenue"] == 12.5
    assert org.accounts[id18("001Dn00000Eu002")].country == "AT"  # "Österreich"
    report = (out / "import-report.md").read_text()
    assert "is semicolon-separated" in report and "not UTF-8: read as Windows-1252" in report
    exported = run("export", str(out), "--format", "salesforce", "--verbatim")
    assert exported.exit_code == 0, exported.output
    original = list(csv.DictReader(io.StringIO(source.read_bytes().decode("cp1252"),
                                               newline=""), delimiter=";"))
    assert rows(exported.output) == original
    strict = run("import", "salesforce", str(source), "-o", str(tmp_path / "s"), "--strict")
    assert strict.exit_code == 1 and "not UTF-8: read as Windows-1252" in strict.output


def test_salesforce_report_export_with_labels_and_names(tmp_path: Path):
    """A report export has labels for headers and names for parent and owner."""
    accounts = tmp_path / "report.csv"
    accounts.write_text(
        "Account ID,Account Name,Parent Account,Account Owner,Billing Country,Annual Revenue\n"
        "001A0000001AAAA,Orbit Holdings,,Ada Lovelace,France,\"2,000,000\"\n"
        "001A0000001AAAB,Orbit Paris,Orbit Holdings,Ada Lovelace,France,\"900,000\"\n"
        "001A0000001AAAC,Orbit Lyon,Orbit Holdings,Grace Hopper,France,\"100,000\"\n",
        encoding="utf-8")
    out = tmp_path / "org"
    result = run("import", "salesforce", str(accounts), "-o", str(out))
    assert result.exit_code == 0, result.output
    org = load(out, pm=get_plugin_manager(load_entrypoints=False))
    paris = org.accounts["001A0000001AAAB"]
    assert paris.parent == "001A0000001AAAA" and paris.metrics["revenue"] == 900_000
    assert org.accounts["001A0000001AAAA"].tier == "national"  # one country, two children
    assert paris.manager == "ADA-LOVELACE"
    assert org.people["ADA-LOVELACE"].name == "Ada Lovelace"
    assert org.people["ADA-LOVELACE"].role == "nam"  # highest tier owned: national
    assert org.people["GRACE-HOPPER"].role == "am"
