"""Contacts: read by the one reader, checked by table-form rules, listed without personal data."""

from __future__ import annotations

import datetime
import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, field_validator

from kamcore import hookimpl
from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager
from kamcore.validation import validate_tables
from kamcore.workspace.tables import read_workspace

HEADER = "id,account,name,title,role,reports_to,email,phone,primary,owner,last_contact\n"


@pytest.fixture
def ws(tmp_path: Path, acme_path: Path) -> Path:
    """A copy of the example org, contacts.csv included."""
    folder = tmp_path / "org"
    shutil.copytree(acme_path, folder)
    return folder


def invoke(*args: str, pm=None) -> object:
    pm = pm or get_plugin_manager(load_entrypoints=False)
    return CliRunner().invoke(make_cli(pm), list(args))


def findings(folder: Path, prefix: str = "KAM16", pm=None) -> list[tuple[str, str | None]]:
    pm = pm or get_plugin_manager(load_entrypoints=False)
    tables = read_workspace(folder, pm=pm)
    tables.require_readable()
    found = validate_tables(tables, select=[prefix, "KAM17", "KAM140"])
    return [(f.code, f.subject) for f in found]


def add_contacts(folder: Path, rows: str) -> None:
    with (folder / "contacts.csv").open("a", encoding="utf-8") as handle:
        handle.write(rows)


def test_the_reader_gives_contacts_as_a_table_with_the_same_rules(ws):
    (ws / "contacts.csv").write_text(
        HEADER + " C1 , ACME ,Ana, CPO ,Decision-Maker,,,, Yes ,GAM1, 2026-03-31 \n"
        "C2,ACME,Bo,,user,C1,,,,GAM1,\n", encoding="utf-8")
    tables = read_workspace(ws, pm=get_plugin_manager(load_entrypoints=False))
    assert tables.problems == []
    contacts = tables.contacts
    assert contacts is not None
    assert contacts.table.column("id").to_pylist() == ["C1", "C2"]
    assert contacts.table.column("role").to_pylist() == ["decision-maker", "user"]
    assert contacts.table.column("primary").to_pylist() == [True, False]
    assert contacts.table.column("last_contact").to_pylist() == [datetime.date(2026, 3, 31), None]
    assert contacts.line(1) == 3


def test_bad_contact_cells_are_located_problems_and_refuse_the_workspace(ws):
    (ws / "contacts.csv").write_text(
        HEADER + "C1,ACME,Ana,,user,,not-an-email,,maybe,GAM1,2026-02-30\n"
        ",ACME,No id,,,,,,,,\n", encoding="utf-8")
    result = invoke("validate", str(ws))
    assert result.exit_code == 2
    out = result.output
    assert f"{ws / 'contacts.csv'}:2 (column 'email'): contact 'C1': 'not-an-email' is not an " \
           "email address" in out
    assert "(column 'primary'): contact 'C1': 'maybe' is not true/false" in out
    assert "(column 'last_contact'): contact 'C1': '2026-02-30' is not a date (YYYY-MM-DD)" in out
    assert f"{ws / 'contacts.csv'}:3 (column 'id'): contact without id: is missing a value" in out
    assert "Traceback" not in out


def test_a_workspace_without_contacts_has_no_contact_findings(ws):
    (ws / "contacts.csv").unlink()
    assert findings(ws) == []
    assert invoke("validate", str(ws)).exit_code == 0


def test_the_example_org_is_clean(acme_path):
    assert findings(acme_path) == []


def test_contact_rules_fire_with_codes_and_locations(ws):
    old = (datetime.date.today() - datetime.timedelta(days=400)).isoformat()
    fresh = (datetime.date.today() - datetime.timedelta(days=10)).isoformat()
    add_contacts(ws, "C-ACME-1,ACME,Again,,user,,,,,GAM1,\n"          # duplicate id
                     "X1,NOPE,Lost,,user,,,,,GAM1,\n"                 # unknown account
                     "X2,ORBIT-01,Odd,,wizard,,,,,KAM-DE,\n"          # unknown role
                     "X3,ORBIT-01,Ghost owner,,user,,,,,GHOST,\n"     # unknown owner
                     f"X4,ORBIT-01,Old,,user,,,,,KAM-DE,{old}\n"      # stale
                     f"X5,ORBIT-01,Fresh,,user,,,,,KAM-DE,{fresh}\n"  # fine
                     "X6,ORBIT-01,Cross,,user,C-NOVA-1,,,,KAM-DE,\n"  # other customer
                     "X7,ORBIT-01,Nobody,,user,C-NOBODY,,,,KAM-DE,\n"  # unknown boss
                     "X8,ORBIT-01,Loop a,,user,X9,,,,KAM-DE,\n"
                     "X9,ORBIT-01,Loop b,,user,X8,,,,KAM-DE,\n"
                     "X10,ACME-DE,Second primary,,user,,,,true,NAM-ACME-DE,\n")
    found = findings(ws)
    assert sorted(found) == sorted([
        ("KAM160", "C-ACME-1"), ("KAM161", "X1"), ("KAM162", "X2"), ("KAM163", "X3"),
        ("KAM168", "X4"), ("KAM169", "X6"), ("KAM169", "X7"), ("KAM170", "X8"),
        ("KAM171", "ACME-DE")])
    tables = read_workspace(ws, pm=get_plugin_manager(load_entrypoints=False))
    by_code = {f.code: f for f in validate_tables(tables, select=["KAM16", "KAM17"])}
    assert by_code["KAM161"].file == str(ws / "contacts.csv")
    assert by_code["KAM161"].line == 89 and by_code["KAM161"].column == "account"
    assert by_code["KAM169"].message in (
        "reports to 'C-NOVA-1' of customer 'NOVA', outside its own customer 'ORBIT'",
        "reports_to 'C-NOBODY' is not a contact here")
    assert by_code["KAM171"].file == str(ws / "accounts.csv")


def test_strategic_accounts_need_a_primary_contact_and_a_decision_maker(ws):
    text = (ws / "contacts.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in text if not line.startswith(("C-ORBIT-", "C-MAPLE-TOR-1"))]
    (ws / "contacts.csv").write_text("".join(kept), encoding="utf-8")
    assert sorted(findings(ws)) == [("KAM165", "MAPLE-TOR"), ("KAM165", "ORBIT"),
                                    ("KAM166", "MAPLE-TOR"), ("KAM166", "ORBIT"),
                                    ("KAM169", "C-MAPLE-TOR-2")]  # its boss was removed


def test_primary_contact_is_owned_by_the_accountable_manager_and_owners_are_active(ws):
    text = (ws / "contacts.csv").read_text(encoding="utf-8")
    text = text.replace("true,NAM-ACME-DE,", "true,KAM-ACME-DE,")
    (ws / "contacts.csv").write_text(text, encoding="utf-8")
    people = (ws / "people.csv").read_text(encoding="utf-8")
    people = people.replace("SUP-CS,Lukas Martin,support,DIR1,,lukas.martin@kam-example.com,"
                            "true", "SUP-CS,Lukas Martin,support,DIR1,,lukas.martin@kam-example"
                            ".com,false")
    (ws / "people.csv").write_text(people, encoding="utf-8")
    add_contacts(ws, "X1,ORBIT,Owned by a leaver,,user,,,,,SUP-CS,\n")
    found = findings(ws)
    assert sorted(found) == [("KAM164", "X1"), ("KAM167", "C-ACME-DE-1")]


def test_stale_after_days_comes_from_kam_yaml(ws):
    day = (datetime.date.today() - datetime.timedelta(days=40)).isoformat()
    add_contacts(ws, f"X1,ORBIT,Quiet,,user,,,,,KAM-DE,{day}\n")
    assert findings(ws) == []
    with (ws / "kam.yaml").open("a", encoding="utf-8") as handle:
        handle.write("contacts:\n  stale_after_days: 30\n")
    assert findings(ws) == [("KAM168", "X1")]


class ClinicalContact(BaseModel):
    npi: str | None = None

    @field_validator("npi")
    @classmethod
    def _ten_digits(cls, value: str | None) -> str | None:
        if value is not None and not (value.isdigit() and len(value) == 10):
            raise ValueError("an NPI has ten digits")
        return value


class ClinicalPlugin:
    @hookimpl
    def kam_register_fields(self, register):
        register("clinic", contact=ClinicalContact, contact_roles=("clinical-lead",))


def test_plugins_add_contact_fields_and_roles(ws):
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(ClinicalPlugin(), name="clinic")
    (ws / "contacts.csv").write_text(
        "id,account,name,role,primary,owner,clinic.npi\n"
        "C1,ORBIT,Dr Ana,clinical-lead,true,KAM-DE,12345\n"
        "C2,ORBIT,Dr Bo,decision-maker,,KAM-DE,1234567890\n", encoding="utf-8")
    found = [f for f in findings(ws, pm=pm) if f[0] not in ("KAM165", "KAM166")]
    assert found == [("KAM140", "C1")]
    assert ("KAM162", "C1") in findings(ws)  # without the plugin the role is unknown
    schema = json.loads(invoke("schema", pm=pm).output)
    assert schema["contact_roles"]["clinical-lead"] == "clinic"
    assert schema["plugins"]["clinic"]["contact"]["properties"]["npi"]


def test_a_contact_role_claimed_twice_names_both_plugins():
    class Again:
        @hookimpl
        def kam_register_fields(self, register):
            register("again", contact_roles=("champion",))

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Again(), name="again")
    from kamcore.registry import registry_for

    problems = [str(p) for p in registry_for(pm).problems]
    assert any("contact role 'champion' is already declared by 'core'" in p and "again" in p
               for p in problems), problems


def test_kam_contacts_lists_an_account_without_personal_data(acme_path):
    result = invoke("contacts", str(acme_path), "--account", "ACME-DE")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "account", "name", "title", "role", "primary",
                                "reports_to", "owner", "owner", "name", "last_contact"]
    assert [line.split()[0] for line in lines[2:]] == ["C-ACME-DE-1", "C-ACME-DE-2"]
    assert all(line.split()[-3:] == ["NAM-ACME-DE", "Lena", "Becker"] for line in lines[2:])
    assert "@" not in result.output and "+49" not in result.output


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_exports_leave_out_email_and_phone_unless_asked(acme_path, fmt):
    plain = invoke("contacts", str(acme_path), "--format", fmt)
    assert plain.exit_code == 0
    assert "@acme.example" not in plain.output and "5550001" not in plain.output
    personal = invoke("contacts", str(acme_path), "--format", fmt, "--with-personal-data")
    assert "anna.albers@acme.example" in personal.output and "5550001" in personal.output


def test_kam_contacts_subtree_lists_a_global_customer_in_every_country(acme_path):
    import kamcore

    subtree = set(kamcore.load(acme_path).subtree("ACME"))
    every = json.loads(invoke("contacts", str(acme_path), "--format", "json").output)
    expected = [c["id"] for c in every if c["account"] in subtree]
    assert {c["account"] for c in every} - subtree  # other customers' contacts are left out
    result = invoke("contacts", str(acme_path), "--account", "ACME", "--subtree",
                    "--format", "json")
    assert result.exit_code == 0, result.output
    listed = [c["id"] for c in json.loads(result.output)]
    assert listed == expected and len({c.split("-")[2] for c in listed if c.count("-") > 1}) > 1
    own = json.loads(invoke("contacts", str(acme_path), "--account", "ACME",
                            "--format", "json").output)
    assert [c["id"] for c in own] == [i for i in expected
                                      if next(c for c in every if c["id"] == i)["account"]
                                      == "ACME"]
    lonely = invoke("contacts", str(acme_path), "--subtree")
    assert lonely.exit_code == 2 and "--subtree needs --account" in lonely.output
    unknown = invoke("contacts", str(acme_path), "--account", "ACMEE", "--subtree")
    assert unknown.exit_code != 0 and "'ACMEE' is not in this workspace" in unknown.output


def test_kam_contacts_json_is_the_machine_contract(acme_path):
    rows = json.loads(invoke("contacts", str(acme_path), "--account", "ACME", "--format",
                             "json").output)
    assert rows[0] == {"id": "C-ACME-1", "account": "ACME", "name": "Anna Albers",
                       "title": "Chief Procurement Officer", "role": "decision-maker",
                       "primary": True, "reports_to": None, "owner": "GAM1",
                       "owner_name": "Gabriela Ruiz", "last_contact": None}


def test_an_owner_people_csv_does_not_know_has_no_name_beside_the_id(ws):
    add_contacts(ws, "X1,ORBIT,Xavier,,user,,,,,NOBODY,\nX2,ORBIT,Yves,,user,,,,,KAM-DE,\n")
    rows = json.loads(invoke("contacts", str(ws), "--account", "ORBIT", "--format",
                             "json").output)
    assert [(r["id"], r["owner"], r["owner_name"]) for r in rows[-2:]] == [
        ("X1", "NOBODY", None), ("X2", "KAM-DE", "Amara Lind")]
    table = invoke("contacts", str(ws), "--account", "ORBIT").output.splitlines()
    assert table[-2].split()[-1] == "NOBODY" and table[-1].split()[-3:] == [
        "KAM-DE", "Amara", "Lind"]


def test_kam_contacts_unknown_account_is_a_clear_error(acme_path):
    result = invoke("contacts", str(acme_path), "--account", "ACME-DX")
    assert result.exit_code == 2
    assert "account 'ACME-DX' is not in this workspace" in result.output
    assert "did you mean 'ACME-DE'" in result.output
    wrong_case = invoke("contacts", str(acme_path), "--account", "acme-de")
    assert wrong_case.exit_code == 2
    assert "did you mean 'ACME-DE'" in wrong_case.output


def test_csv_export_neutralises_formula_cells(ws):
    add_contacts(ws, 'X1,ORBIT,"=HYPERLINK(""http://evil"")",,user,,,,,KAM-DE,\n')
    result = invoke("contacts", str(ws), "--account", "ORBIT", "--format", "csv")
    assert "'=HYPERLINK" in result.output


# -- hand-overs, briefs and coverage ----------------------------------------------------------


def test_a_handover_moves_relationship_ownership_with_the_book_and_undo_puts_it_back(ws):
    before = (ws / "contacts.csv").read_text(encoding="utf-8")
    result = invoke("handover", str(ws), "--from", "KAM-ACME-DE", "--to", "KAM-DE", "--apply",
                    "--force", "--by", "test")
    assert result.exit_code == 0, result.output
    assert "4 customer relationships move with the book" in result.output
    assert "~ contact C-ACME-DE-BER-1 (Eva Dubois)\n      owner: KAM-ACME-DE -> KAM-DE" \
        in result.output
    assert "Applied: wrote accounts.csv, history.csv, contacts.csv" in result.output
    after = (ws / "contacts.csv").read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True)
               if a != b]
    assert len(changed) == 4
    assert all(a.replace(",KAM-ACME-DE,", ",KAM-DE,") == b for a, b in changed)
    assert findings(ws) == []  # the primary contacts' owners are the new manager
    entry = json.loads((ws / "journal.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert [c["kind"] for c in entry["changes"]].count("contact") == 4
    brief = next((ws / "handover").glob("*/KAM-DE.md")).read_text(encoding="utf-8")
    assert "### Contacts (whom to call first)" in brief
    assert ("- Eva Dubois (C-ACME-DE-BER-1, Site Director): decision-maker, primary; "
            "relationship: Marco Iyer (KAM-ACME-DE) -> you") in brief
    assert "@acme.example" not in brief and "5550005" not in brief  # no personal data
    undone = invoke("undo", str(ws), "--apply")
    assert undone.exit_code == 0, undone.output
    assert (ws / "contacts.csv").read_text(encoding="utf-8") == before


def test_assigning_one_account_moves_its_relationships_and_only_its_own(ws):
    add_contacts(ws, "X1,ACME-DE-BER,Other owner,,user,,,,,KAM-DE,\n")
    before = (ws / "contacts.csv").read_text(encoding="utf-8")
    result = invoke("assign", str(ws), "ACME-DE-BER", "--manager", "NAM-ACME-DE", "--apply",
                    "--by", "test")
    assert result.exit_code == 0, result.output
    assert "2 customer relationships move with the book" in result.output
    assert "Findings that appear: none" in result.output  # no KAM167: the primary moved too
    after = (ws / "contacts.csv").read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True)
               if a != b]
    assert [b.split(",")[0] for _, b in changed] == ["C-ACME-DE-BER-1", "C-ACME-DE-BER-2"]
    assert all(a.replace(",KAM-ACME-DE,", ",NAM-ACME-DE,") == b for a, b in changed)
    undone = invoke("undo", str(ws), "--apply")
    assert undone.exit_code == 0, undone.output
    assert (ws / "contacts.csv").read_text(encoding="utf-8") == before


def test_leaving_moves_every_relationship_the_leaver_owned(ws):
    add_contacts(ws, "X1,ACME-DE-BER-01,Site clerk,,user,,,,,KAM-ACME-DE,\n")
    result = invoke("leave", str(ws), "KAM-ACME-DE", "--to", "KAM-DE", "--apply", "--force")
    assert result.exit_code == 0, result.output
    text = (ws / "contacts.csv").read_text(encoding="utf-8")
    assert ",KAM-ACME-DE," not in text
    assert "X1,ACME-DE-BER-01,Site clerk,,user,,,,,AM-ACME-DE," in text  # its account's manager


def test_a_handover_refuses_unreadable_contacts_and_writes_nothing(ws):
    add_contacts(ws, "X1,ORBIT,Bad,,user,,not-mail,,,KAM-DE,\n")
    accounts = (ws / "accounts.csv").read_bytes()
    result = invoke("handover", str(ws), "--from", "KAM-ACME-DE", "--to", "KAM-DE", "--apply")
    assert result.exit_code == 2
    assert "contacts.csv:88 (column 'email')" in result.output
    assert (ws / "accounts.csv").read_bytes() == accounts


def test_coverage_lists_accounts_without_a_decision_maker_relationship(ws):
    text = (ws / "contacts.csv").read_text(encoding="utf-8")
    text = text.replace("C-ORBIT-1,ORBIT,", "C-ORBIT-1,ORBIT-X,")  # ORBIT loses its DM
    (ws / "contacts.csv").write_text(text.replace(",true,KAM-DE,", ",true,,"), encoding="utf-8")
    report = json.loads(invoke("coverage", str(ws), "--format", "json").output)
    assert report["no_decision_maker"] == [
        {"account": "ORBIT", "tier": "key", "manager": "KAM-DE",
         "reason": "no decision-maker contact"}]
    people = (ws / "people.csv").read_text(encoding="utf-8")
    (ws / "people.csv").write_text(people.replace("NAM-CA,Kenji Popov,nam,DIR1,3,kenji.popov@"
                                                  "kam-example.com,true", "NAM-CA,Kenji Popov,"
                                                  "nam,DIR1,3,kenji.popov@kam-example.com,"
                                                  "false"), encoding="utf-8")
    table = invoke("coverage", str(ws)).output
    assert "Accounts without a decision-maker relationship: 3" in table
    rows = [line.split(None, 3) for line in table.split("relationship: 3")[1].splitlines()]
    assert ["MAPLE-TOR", "key", "NAM-CA", "no active owner of the decision-maker contact"] \
        in rows


def test_coverage_reads_only_the_contact_columns_it_looks_at(ws):
    add_contacts(ws, "X1,ORBIT,,,user,,not-an-address,,maybe,KAM-DE,\n")  # bad name, mail, flag
    from kamcore.changes.coverage import coverage
    from kamcore.contacts import COVERAGE_COLUMNS

    tables = read_workspace(ws, pm=get_plugin_manager(load_entrypoints=False),
                            contact_columns=COVERAGE_COLUMNS)
    assert tables.problems == []
    assert tables.contacts is not None
    assert not {"name", "email", "phone", "title"} & set(tables.contacts.table.column_names)
    result = invoke("coverage", str(ws), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == coverage(ws).to_json()
    refused = invoke("validate", str(ws))  # validate reads and checks every cell
    assert refused.exit_code == 2
    assert "not-an-address" in refused.output and "'maybe' is not true/false" in refused.output


def test_tree_and_territories_read_no_contacts(ws):
    """A contacts.csv validate refuses does not stop the commands that do not show contacts
    (nor do they pay for reading them); validate still refuses it."""
    (ws / "contacts.csv").write_text(HEADER + ",ACME,No id,,,,not-an-address,,maybe,,\n",
                                     encoding="utf-8")
    tables = read_workspace(ws, pm=get_plugin_manager(load_entrypoints=False),
                            optional=("territories",))
    assert tables.contacts is None and tables.territories is not None
    assert tables.problems == []
    tree = invoke("tree", str(ws), "--depth", "0")
    assert tree.exit_code == 0, tree.output
    assert "ACME" in tree.output
    assert invoke("territories", str(ws)).exit_code == 0
    assert invoke("validate", str(ws)).exit_code == 2


def test_coverage_without_contacts_has_no_decision_maker_section(ws):
    (ws / "contacts.csv").unlink()
    result = invoke("coverage", str(ws))
    assert "decision-maker" not in result.output and result.exit_code == 0


def test_a_quoted_header_reads_like_a_plain_one(ws):
    """Data Loader quotes every cell, the header too: same table, lines and problems."""
    plain = read_workspace(ws, pm=get_plugin_manager(load_entrypoints=False)).contacts
    text = (ws / "contacts.csv").read_text(encoding="utf-8").splitlines()
    text[0] = ",".join(f'"{name}"' for name in text[0].split(","))
    (ws / "contacts.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    quoted = read_workspace(ws, pm=get_plugin_manager(load_entrypoints=False)).contacts
    assert plain is not None and quoted is not None
    assert quoted.table.equals(plain.table) and quoted.header == plain.header
    assert quoted.line(5) == plain.line(5) == 7


def test_a_plan_file_moves_the_leavers_relationships_too(ws, acme_path):
    plan = acme_path.parent / "plans" / "acme-recut.yaml"
    checked = invoke("plan", "check", str(ws), str(plan))
    assert checked.exit_code == 0, checked.output
    assert "KAM164" not in checked.output  # the relationships do not stay with the leaver
    applied = invoke("plan", "apply", str(ws), str(plan), "--reason", "re-cut")
    assert applied.exit_code == 0, applied.output
    text = (ws / "contacts.csv").read_text(encoding="utf-8")
    assert ",KAM-ACME-DE," not in text
    assert text.count(",KAM-ACME-DE-2,") == 4


def test_a_plan_reads_contacts_once_and_the_next_one_sees_the_file_as_it_is_then(
        ws, tmp_path, monkeypatch: pytest.MonkeyPatch):
    from kamcore import load
    from kamcore.changes.batch import plan_file
    from kamcore.workspace import tables

    looked: list[str] = []  # who looked for contacts.csv to see whether it changed
    real = tables.optional_file

    def counted(folder: Path, name: str) -> Path | None:
        looked.append(sys._getframe(1).f_code.co_name)
        return real(folder, name)

    monkeypatch.setattr(tables, "optional_file", counted)
    plan = tmp_path / "p.yaml"
    plan.write_text("lines:\n  - {op: assign, id: ACME-DE-BER, to: KAM-ACME-US}\n"
                    "  - {op: assign, id: ACME-DE-MUN, to: KAM-ACME-US}\n"
                    "  - {op: assign, id: ACME-DE, to: GAM1}\n")
    org = load(ws)
    made = plan_file(org, plan)
    assert looked.count("_owned_by") == 1  # three lines, one look at contacts.csv
    assert sorted(c.id for c in made.changes if c.kind == "contact") == [
        "C-ACME-DE-1", "C-ACME-DE-2", "C-ACME-DE-BER-1", "C-ACME-DE-BER-2", "C-ACME-DE-MUN-1",
        "C-ACME-DE-MUN-2"]
    (ws / "contacts.csv").write_text(HEADER, encoding="utf-8")  # every relationship gone
    again = plan_file(org, plan)  # the same org: the file is looked at again
    assert [c for c in again.changes if c.kind == "contact"] == []


def test_stale_is_measured_from_kam_today(ws, monkeypatch: pytest.MonkeyPatch):
    """KAM168 counts days from the day kam takes as today: $KAM_TODAY when set (docs/time.md)."""
    add_contacts(ws, "X1,ORBIT,Quiet,,user,,,,,KAM-DE,2026-01-10\n")
    monkeypatch.setenv("KAM_TODAY", "2026-07-08")  # 179 days later: within 180
    assert findings(ws) == []
    monkeypatch.setenv("KAM_TODAY", "2026-07-10")  # 181 days
    assert findings(ws) == [("KAM168", "X1")]


def test_contacts_read_on_their_own_thread_are_listed_after_accounts_and_people(ws):
    """read_workspace reads contacts.csv on a second core: the problems keep the files' order,
    and a missing accounts.csv is still the error, whatever contacts.csv holds."""
    accounts = (ws / "accounts.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    accounts[1] = accounts[1].replace(",global,", ",planet,", 1)
    (ws / "accounts.csv").write_text("".join(accounts), encoding="utf-8")
    add_contacts(ws, "X1,ORBIT,Xu,,user,,not-an-address,,,KAM-DE,\n")
    problems = read_workspace(ws, pm=get_plugin_manager(load_entrypoints=False)).problems
    files = [Path(p.location.file).name for p in problems if p.location]
    assert files == ["accounts.csv", "contacts.csv"]
    assert "'planet' is not a tier" in str(problems[0])
    (ws / "accounts.csv").unlink()
    (ws / "contacts.csv").write_text("no,header,here\n", encoding="utf-8")
    from kamcore.errors import WorkspaceError

    with pytest.raises(WorkspaceError, match=r"accounts\.csv does not exist"):
        read_workspace(ws, pm=get_plugin_manager(load_entrypoints=False))


def test_a_started_contact_index_is_the_index_built_in_line(ws):
    """ContactIndex.start hashes on a thread; what it gives is what the rules' own pass gives."""
    from kamcore.structure import contact_index

    add_contacts(ws, "C-ACME-1,ACME,Again,,user,C-ACME-2,,,,GAM1,\nY1,ACME,Y,,user,NOBODY,,,,"
                     "GAM1,\n")
    pm = get_plugin_manager(load_entrypoints=False)
    started, inline = read_workspace(ws, pm=pm), read_workspace(ws, pm=pm)
    contact_index(started).start()
    a, b = contact_index(started), contact_index(inline)
    assert a.first_row.tolist() == b.first_row.tolist()
    assert a.boss.tolist() == b.boss.tolist() and (a.boss >= 0).sum() > 0
    assert not a.first.all() and -1 in a.boss.tolist()
    assert validate_tables(started) == validate_tables(inline)


def test_contacts_in_many_chunks_give_the_findings_and_gaps_of_one(ws):
    """The contact index hashes and checks the reader's chunks as they are (no combined copy
    of three million cells): a table in chunks of two rows gives the same findings, every
    contact rule firing, and the same coverage as the same table in one piece."""
    import dataclasses

    import pyarrow as pa

    from kamcore.changes.coverage import coverage

    add_contacts(ws, "C-ACME-1,ACME,Again,,user,,,,,GAM1,\nX1,NOPE,Lost,,user,,,,,GAM1,\n"
                     "X2,ORBIT-01,Odd,,wizard,,,,,KAM-DE,\nX3,ORBIT-01,Ghost,,user,,,,,GHOST,\n"
                     "X6,ORBIT-01,Cross,,user,C-NOVA-1,,,,KAM-DE,\n"
                     "X7,ORBIT-01,Nobody,,user,C-NOBODY,,,,KAM-DE,\n"
                     "X8,ORBIT-01,Loop a,,user,X9,,,,KAM-DE,\nX9,ORBIT-01,Loop b,,user,X8,,,,"
                     "KAM-DE,\nX10,ACME-DE,Second primary,,decision-maker,,,,true,NAM-ACME-DE,\n")
    pm = get_plugin_manager(load_entrypoints=False)
    whole, split = read_workspace(ws, pm=pm), read_workspace(ws, pm=pm)
    assert whole.contacts is not None and split.contacts is not None
    table = whole.contacts.table.combine_chunks()
    whole.contacts = dataclasses.replace(whole.contacts, table=table)
    split.contacts = dataclasses.replace(split.contacts, table=pa.Table.from_batches(
        table.to_batches(max_chunksize=2)))
    assert split.contacts.table.column("id").num_chunks > 5
    found = validate_tables(split)
    assert {f.code for f in found} >= {"KAM160", "KAM161", "KAM162", "KAM163", "KAM169",
                                       "KAM170", "KAM171"}
    assert found == validate_tables(whole)
    assert coverage(split).to_json() == coverage(whole).to_json()


@pytest.mark.parametrize("bad_row", [False, True])
def test_the_readers_early_hash_of_contacts_is_the_index_built_later(
        ws, monkeypatch: pytest.MonkeyPatch, bad_row: bool):
    """A big contacts table has its ids and reports_to hashed by the reader as soon as they
    are trimmed; the index and the findings are those of the hash pass made later, and a table
    that lost rows to bad cells makes its own."""
    from kamcore.structure import contact_index
    from kamcore.workspace import tables as reader

    add_contacts(ws, "C-ACME-1,ACME,Again,,user,C-ACME-2,,,,GAM1,\nY1,ACME,Y,,user,NOBODY,,,,"
                     "GAM1,\nX8,ORBIT-01,Loop a,,user,X9,,,,KAM-DE,\nX9,ORBIT-01,Loop b,,user,"
                     "X8,,,,KAM-DE,\n")
    if bad_row:
        add_contacts(ws, "Z1,ACME,Bad,,user,,not-an-address,,,GAM1,\n")
    pm = get_plugin_manager(load_entrypoints=False)
    later = read_workspace(ws, pm=pm)
    monkeypatch.setattr(reader, "THREADS_FROM", 0)  # every table counted big
    early = read_workspace(ws, pm=pm)
    assert early.contacts is not None and later.contacts is not None
    assert later.contacts.early_codes("reports_to") is None
    assert (early.contacts.early_codes("reports_to") is None) == bad_row
    a, b = contact_index(early), contact_index(later)
    assert a.first_row.tolist() == b.first_row.tolist() and not a.first.all()
    assert a.boss.tolist() == b.boss.tolist() and -1 in a.boss.tolist()
    if not bad_row:
        assert validate_tables(early) == validate_tables(later)
