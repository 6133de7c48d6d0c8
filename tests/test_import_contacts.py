"""kam import contacts: Salesforce, Dynamics and HubSpot contact exports -> contacts.csv."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.importers.contacts import contact_role
from kamcore.plugins import get_plugin_manager


@pytest.fixture
def org(acme_copy: Path) -> Path:
    (acme_copy / "contacts.csv").unlink()
    return acme_copy


def invoke(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def rows(folder: Path) -> list[list[str]]:
    return [line.split(",") for line in
            (folder / "contacts.csv").read_text(encoding="utf-8").splitlines()[1:]]


def test_salesforce_contacts_match_accounts_owners_and_bosses(org, tmp_path):
    export = tmp_path / "Contact.csv"
    export.write_text(
        "Id,AccountId,FirstName,LastName,Title,ReportsToId,Email,Phone,OwnerId\n"
        "003A1,ACME-DE,Carla,Oliveira,Managing Director,,carla@acme.example,+49 30 1,"
        "NAM-ACME-DE\n"
        "003A2,ACME-DE,David,Vogel,Head of Purchasing,003A1,,,Lena Becker\n"
        "003A3,NOPE,Lost,Soul,Clerk,,,,GAM1\n"
        "003A4,Acme Berlin,Eva,Dubois,Site Director,,,,GHOST\n", encoding="utf-8")
    result = invoke("import", "contacts", str(org), str(export), "--preset", "salesforce")
    assert result.exit_code == 0, result.output
    assert rows(org) == [
        ["003A1", "ACME-DE", "Carla Oliveira", "Managing Director", "", "",
         "carla@acme.example", "+49 30 1", "false", "NAM-ACME-DE", ""],
        ["003A2", "ACME-DE", "David Vogel", "Head of Purchasing", "", "003A1", "", "", "false",
         "NAM-ACME-DE", ""],
        ["003A4", "ACME-DE-BER", "Eva Dubois", "Site Director", "", "", "", "", "false", "",
         ""]]
    assert "1 contact matches no account" in result.output
    report = (org / "contacts-import-report.md").read_text(encoding="utf-8")
    assert f"| account | {export}:4 | 003A3 | contact 'Lost Soul': account 'NOPE'" in report
    assert f"{export}:5" in report and "owner 'GHOST'" in report
    assert invoke("validate", str(org)).exit_code == 0  # what was written reads and validates


def test_dynamics_contacts_by_company_name_with_decision_influence(org, tmp_path):
    export = tmp_path / "contacts.csv"
    export.write_text(
        "Full Name;Company Name;Job Title;Decision influence labels;Email;Owner\n"
        "Greta Hahn;Acme Industrial Group;CPO;Decision Maker;greta@acme.example;"
        "Gabriela Ruiz\n"
        "Otto Kern;Acme Industrial Group;Buyer;Influencer;;Gabriela Ruiz\n"
        "Nobody;Unknown Corp;;;;\n", encoding="utf-8")
    result = invoke("import", "contacts", str(org), str(export), "--preset", "dynamics",
                    "--report", "json")
    assert result.exit_code == 0, result.output
    written = rows(org)
    assert [(r[1], r[2], r[4], r[9]) for r in written] == [
        ("ACME", "Greta Hahn", "decision-maker", "GAM1"),
        ("ACME", "Otto Kern", "influencer", "GAM1")]
    report = json.loads((org / "contacts-import-report.json").read_text(encoding="utf-8"))
    assert report["unmatched"] == [{"line": 4, "id": "contacts-4", "name": "Nobody",
                                    "account": "Unknown Corp"}]


def test_hubspot_contacts_by_associated_company_and_strict_refuses(org, tmp_path):
    export = tmp_path / "hubspot.csv"
    export.write_text(
        "Record ID,First Name,Last Name,Job Title,Associated Company,Buying Role,"
        "Contact owner\n"
        "101,Ana,Silva,COO,Orbit Klinikum,Budget Holder,Amara Lind\n"
        "102,Bo,Berg,,Nowhere Inc,End User,\n", encoding="utf-8")
    refused = invoke("import", "contacts", str(org), str(export), "--preset", "hubspot",
                     "--strict")
    assert refused.exit_code == 1 and "Nowhere Inc" in refused.output
    assert not (org / "contacts.csv").exists()
    result = invoke("import", "contacts", str(org), str(export), "--preset", "hubspot")
    assert rows(org) == [["101", "ORBIT", "Ana Silva", "COO", "decision-maker", "", "", "",
                          "false", "KAM-DE", ""]]
    assert result.exit_code == 0


def test_an_export_without_contact_columns_is_a_clear_error(org, tmp_path):
    export = tmp_path / "x.csv"
    export.write_text("a,b\n1,2\n", encoding="utf-8")
    result = invoke("import", "contacts", str(org), str(export), "--preset", "salesforce")
    assert result.exit_code == 2 and "has no salesforce contacts columns" in result.output


def test_crm_role_labels_become_contact_roles():
    assert contact_role("Economic Buyer") == "decision-maker"
    assert contact_role("End User") == "user"
    assert contact_role("Clinical Lead") == "clinical-lead"


SALESFORCE = Path(__file__).resolve().parent.parent / "examples" / "crm" / "salesforce"


def salesforce_org(tmp_path: Path) -> Path:
    out = tmp_path / "sf"
    result = invoke("import", "salesforce", str(SALESFORCE / "Account.csv"), "--users",
                    str(SALESFORCE / "User.csv"), "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_salesforce_account_contact_roles_give_roles_and_primaries(tmp_path):
    out = salesforce_org(tmp_path)
    result = invoke("import", "contacts", str(out), str(SALESFORCE / "Contact.csv"),
                    "--preset", "salesforce", "--roles",
                    str(SALESFORCE / "AccountContactRole.csv"), "--report", "json")
    assert result.exit_code == 0, result.output
    written = {r[0]: (r[4], r[8]) for r in rows(out)}
    assert written == {"003Dn00000Ct001IAB": ("decision-maker", "true"),
                       "003Dn00000Ct002IAB": ("influencer", "false"),
                       "003Dn00000Ct003IAB": ("decision-maker", "true"),
                       "003Dn00000Ct004IAB": ("decision-maker", "true")}
    report = json.loads((out / "contacts-import-report.json").read_text(encoding="utf-8"))
    elsewhere = [p for p in report["problems"] if p["kind"] == "role"]
    assert [(p["file"], p["line"], p["record"]) for p in elsewhere] == [
        (str(SALESFORCE / "AccountContactRole.csv"), 6, "003Dn00000Ct004IAB")]
    assert "belongs to '001DnAbC0000007IFA'" in elsewhere[0]["message"]
    assert "roles: 4 role rows of AccountContactRole.csv applied, 3 primary contacts" in (
        report["notes"])
    checked = json.loads(invoke("validate", str(out), "--format", "json").stdout)["findings"]
    no_primary = {f["subject"] for f in checked if f["code"] == "KAM165"}
    assert "001DnAbC0000001IFA" not in no_primary and "001DnAbC0000002" not in no_primary


def test_without_roles_the_report_says_what_validate_will_warn(tmp_path):
    out = salesforce_org(tmp_path)
    result = invoke("import", "contacts", str(out), str(SALESFORCE / "Contact.csv"),
                    "--preset", "salesforce")
    assert result.exit_code == 0, result.output
    report = (out / "contacts-import-report.md").read_text(encoding="utf-8")
    assert ("the export has no role column: 4 contacts written without a role or a primary "
            "flag") in report and "add --roles AccountContactRole.csv" in report


def test_second_primary_and_unknown_contact_are_reported_not_applied(tmp_path):
    out = salesforce_org(tmp_path)
    roles = tmp_path / "AccountContactRole.csv"
    roles.write_text("AccountId,ContactId,Role,IsPrimary\n"
                     "001DnAbC0000001IFA,003Dn00000Ct001IAB,Decision Maker,true\n"
                     "001DnAbC0000001IFA,003Dn00000Ct002IAB,Champion,TRUE\n"
                     "001DnAbC0000001IFA,003Dn00000Ct999IAB,User,false\n", encoding="utf-8")
    result = invoke("import", "contacts", str(out), str(SALESFORCE / "Contact.csv"),
                    "--preset", "salesforce", "--roles", str(roles))
    assert result.exit_code == 0, result.output
    written = {r[0]: (r[4], r[8]) for r in rows(out)}
    assert written["003Dn00000Ct001IAB"] == ("decision-maker", "true")
    assert written["003Dn00000Ct002IAB"] == ("champion", "false")
    report = (out / "contacts-import-report.md").read_text(encoding="utf-8")
    assert f"{roles}:3" in report and "second primary contact '003Dn00000Ct002IAB'" in report
    assert f"{roles}:4" in report and "role of contact '003Dn00000Ct999IAB'" in report
    strict = invoke("import", "contacts", str(out), str(SALESFORCE / "Contact.csv"),
                    "--preset", "salesforce", "--roles", str(roles), "--strict")
    assert strict.exit_code != 0


def test_a_roles_file_without_its_columns_is_a_clear_error(tmp_path):
    out = salesforce_org(tmp_path)
    roles = tmp_path / "roles.csv"
    roles.write_text("Account,Person\nA,B\n", encoding="utf-8")
    result = invoke("import", "contacts", str(out), str(SALESFORCE / "Contact.csv"),
                    "--preset", "salesforce", "--roles", str(roles))
    assert result.exit_code == 2, result.output
    assert "has no AccountId and ContactId columns" in result.output
    assert "Traceback" not in result.output


def test_an_excel_saved_contacts_csv_keeps_its_bom_and_crlf_when_imported_over(org, tmp_path):
    (org / "contacts.csv").write_bytes(
        b"\xef\xbb\xbfid,account,name\r\nOLD1,ACME,Old Contact\r\n")
    export = tmp_path / "Contact.csv"
    export.write_text("Id,AccountId,FirstName,LastName,OwnerId\n"
                      "003A1,ACME-DE,Jürgen,Müller,NAM-ACME-DE\n", encoding="utf-8")
    result = invoke("import", "contacts", str(org), str(export), "--preset", "salesforce")
    assert result.exit_code == 0, result.output
    data = (org / "contacts.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,account,name,")  # Excel reads it as UTF-8 again
    assert data.count(b"\n") == data.count(b"\r\n") == 2
    assert "Jürgen Müller" in data.decode("utf-8-sig") and b"OLD1" not in data
