"""kam export: csv (neutralised), json, mermaid, dot and Salesforce for a native workspace."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore import Account, Org, Person
from kamcore.cli.app import make_cli
from kamcore.exporters import export
from kamcore.exporters.safety import neutralise
from kamcore.plugins import get_plugin_manager


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def tricky_org() -> Org:
    return Org.build(
        accounts=[
            Account(id="G", name='=HYPERLINK("http://evil","x")', tier="global", manager="P1",
                    country="DE", metrics={"revenue": -5.0},
                    extra={"Note": "+1 555 0100", "At": "@SUM(A1)", "Neg": "-5",
                           "Plain": "fine"}),
            Account(id="N", name='Quote "and" <b>', tier="national", parent="G", manager="P2",
                    country="DE"),
        ],
        people=[Person(id="P1", name="Ada", role="gam"),
                Person(id="P2", name="-Bob", role="nam", reports_to="P1")])


@pytest.mark.parametrize(("cell", "safe"), [
    ("=1+1", "'=1+1"), ("+1 555", "'+1 555"), ("-x", "'-x"), ("@A1", "'@A1"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("-5", "-5"), ("+3.5", "+3.5"), ("-1e3", "-1e3"),
    ("plain", "plain"), ("", ""), ("a=b", "a=b"),
])
def test_neutralise(cell, safe):
    assert neutralise(cell) == safe


def test_csv_export_neutralises_formula_cells():
    rows = list(csv.DictReader(io.StringIO(export(tricky_org(), "csv"), newline="")))
    first = rows[0]
    assert first["name"] == '\'=HYPERLINK("http://evil","x")'
    assert first["Note"] == "'+1 555 0100"
    assert first["At"] == "'@SUM(A1)"
    # (records strip leading tabs and CRs on load; neutralise() itself is tested above)
    assert first["Neg"] == "-5" and first["revenue"] == "-5"  # plain numbers stay numbers
    assert first["Plain"] == "fine"
    people = list(csv.DictReader(io.StringIO(export(tricky_org(), "csv", people=True))))
    assert people[1]["name"] == "'-Bob"


def test_csv_verbatim_on_request(tmp_path: Path, acme_path: Path):
    org = tricky_org()
    raw = list(csv.DictReader(io.StringIO(export(org, "csv", safe=False), newline="")))
    assert raw[0]["name"].startswith("=HYPERLINK")
    result = run("export", str(acme_path), "--format", "csv", "-o", str(tmp_path / "a.csv"))
    assert result.exit_code == 0, result.output
    exported = list(csv.DictReader((tmp_path / "a.csv").open(newline="")))
    original = list(csv.DictReader((acme_path / "accounts.csv").open(newline="")))
    assert exported == original


def test_json_export(acme_path: Path):
    result = run("export", str(acme_path), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["org"] == "Acme KAM Example" and data["currency"] == "EUR"
    assert len(data["accounts"]) == 94 and len(data["people"]) == 54
    acme = data["accounts"][0]
    assert acme["id"] == "ACME" and acme["tier"] == "global" and acme["manager"] == "GAM1"


def test_mermaid_escapes_and_links():
    text = export(tricky_org(), "mermaid")
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert '  n1["Quote #quot;and#quot; #lt;b#gt;<br/>national DE · -Bob"]:::national' in lines
    assert "  n0 --> n1" in lines
    people = export(tricky_org(), "mermaid", people=True).splitlines()
    assert '  n0["Ada<br/>GAM"]:::gam' in people and "  n0 --> n1" in people


def test_dot_escapes_and_links():
    text = export(tricky_org(), "dot")
    assert text.startswith("digraph accounts {")
    assert '"N" [label="Quote \\"and\\" <b>\\nnational DE · -Bob", fillcolor="#2563eb"];' in text
    assert '  "G" -> "N";' in text
    assert export(tricky_org(), "dot", people=True).startswith("digraph people {")


def test_salesforce_export_of_a_native_workspace(acme_path: Path):
    result = run("export", str(acme_path), "--format", "salesforce")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert list(rows[0])[:4] == ["KAM_Id__c", "Name", "Parent.KAM_Id__c", "KAM_Owner__c"]
    assert "KAM_Tier__c" in rows[0] and "KAM_Orders__c" in rows[0]
    berlin = next(r for r in rows if r["KAM_Id__c"] == "ACME-DE-BER")
    assert (berlin["Parent.KAM_Id__c"], berlin["KAM_Owner__c"], berlin["BillingCountry"],
            berlin["KAM_Tier__c"], berlin["AnnualRevenue"]) == (
        "ACME-DE", "KAM-ACME-DE", "DE", "key", "866000")
    position = {r["KAM_Id__c"]: i for i, r in enumerate(rows)}
    assert all(position[r["Parent.KAM_Id__c"]] < position[r["KAM_Id__c"]]
               for r in rows if r["Parent.KAM_Id__c"])  # parents first, for an upsert
    assert len(rows) == 94


def test_salesforce_export_warns_about_accounts_made_in_kamcore(tmp_path: Path):
    sf = Path(__file__).parent / "data" / "crm" / "salesforce"
    out = tmp_path / "org"
    assert run("import", "salesforce", str(sf / "Account.csv"), "-o", str(out)).exit_code == 0
    from kamcore import load, save

    org = load(out, pm=get_plugin_manager(load_entrypoints=False))
    added = Account(id="NEW-1", name="New Shop", tier="regular", parent="001DnAbC0000002")
    save(org.replace(accounts={**org.accounts, "NEW-1": added}))
    result = run("export", str(out), "--format", "salesforce")
    assert result.exit_code == 0
    assert "warning: 1 account has no Salesforce Id (e.g. NEW-1)" in result.output


def test_export_errors(tmp_path: Path, acme_path: Path):
    bad = run("export", str(acme_path), "--format", "salesforce", "--people")
    assert bad.exit_code == 2 and "--people is not available" in bad.output
    missing = run("export", str(tmp_path / "nowhere"), "--format", "csv")
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_csv_and_salesforce_exports_are_safe_verbatim_on_request(tmp_path: Path):
    sf = Path(__file__).parent / "data" / "crm" / "salesforce"
    out = tmp_path / "org"
    assert run("import", "salesforce", str(sf / "Account.csv"), "-o", str(out)).exit_code == 0
    safe = {r["id"]: r for r in csv.DictReader(io.StringIO(
        run("export", str(out), "--format", "csv").output))}
    assert safe["001DnAbC0000007IFA"]["Description"] == '\'=HYPERLINK("http://x")'
    assert safe["001DnAbC0000001IFA"]["Phone"] == "'+49 30 0001"
    assert safe["001DnAbC0000007IFA"]["Phone"] == "-7"  # a plain number
    default = {r["Id"]: r for r in csv.DictReader(io.StringIO(
        run("export", str(out), "--format", "salesforce").output))}
    assert default["001DnAbC0000007IFA"]["Description"] == '\'=HYPERLINK("http://x")'
    verbatim = {r["Id"]: r for r in csv.DictReader(io.StringIO(
        run("export", str(out), "--format", "salesforce", "--verbatim").output))}
    assert verbatim["001DnAbC0000007IFA"]["Description"] == '=HYPERLINK("http://x")'
