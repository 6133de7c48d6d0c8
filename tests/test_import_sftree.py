"""Salesforce CLI data trees (``sf data export tree``): nested ChildAccounts, plan files,
"@AccountRefN" parents, dangling references reported with their record (issue 11, item 7)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kamcore import load
from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager

SF = Path(__file__).resolve().parent.parent / "examples" / "crm" / "salesforce"
TREE = SF / "tree"


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def imported(tmp_path: Path, source: Path, *extra: str) -> tuple[Path, dict]:
    out = tmp_path / "org"
    result = run("import", "salesforce", str(source), "-o", str(out), "--report", "json",
                 *extra)
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "import-report.json").read_text())


def test_a_nested_tree_gives_parents_ids_from_names_and_owners(tmp_path: Path):
    out, report = imported(tmp_path, TREE / "Account.json", "--users", str(SF / "User.csv"))
    org = load(out, pm=get_plugin_manager(load_entrypoints=False))
    parents = {a.id: a.parent for a in org.accounts.values()}
    assert parents == {"GLOBEX-CORPORATION": None,
                       "GLOBEX-DEUTSCHLAND-GMBH": "GLOBEX-CORPORATION",
                       "GLOBEX-BERLIN": "GLOBEX-DEUTSCHLAND-GMBH",
                       "GLOBEX-NEDERLAND-B-V": "GLOBEX-CORPORATION",
                       "INITECH-HEALTH": None}
    assert list(org.accounts) == list(parents)  # parents first, in file order
    berlin = org.accounts["GLOBEX-BERLIN"]
    assert berlin.extra["referenceId"] == "AccountRef3"
    assert (berlin.country, berlin.metrics["revenue"]) == ("DE", 12000000.0)
    # 18-character OwnerIds meet the users file; nobody became a placeholder
    assert berlin.manager == "005Dn00000Ux003IAB" and not report["placeholders"]
    assert org.people[berlin.manager].name
    assert "1 Contact record of the tree left out: only Account records are imported here" in (
        report["notes"])
    lines = {t["record"]: t["line"] for t in report["tiers"]}
    assert lines["GLOBEX-BERLIN"] == 32  # the line of its referenceId


def test_a_plan_file_reads_its_account_file_and_reports_a_dangling_reference(tmp_path: Path):
    out, report = imported(tmp_path, TREE / "plan" / "Account-Contact-plan.json")
    org = load(out, pm=get_plugin_manager(load_entrypoints=False))
    assert org.accounts["GLOBEX-NEDERLAND-B-V"].parent == "GLOBEX-CORPORATION"
    assert org.accounts["GLOBEX-LOST-BRANCH"].parent is None
    dangling = [p for p in report["problems"] if p["kind"] == "parent"]
    assert dangling == [{
        "kind": "parent", "file": str(TREE / "plan" / "Accounts.json"), "line": 38,
        "record": "GLOBEX-LOST-BRANCH",
        "message": "parent '@AccountRef9' not found (a dangling reference: no record of the "
                   "tree has this referenceId); imported as a top-level account",
        "hint": "fix the parent in the CRM or in accounts.csv"}]
    assert "the plan's Contact file (Contacts.json) is not read here" in report["notes"]


def test_bad_trees_are_located_errors_or_problems(tmp_path: Path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"records": [\n  {"attributes": }\n]}\n')
    result = run("import", "salesforce", str(broken), "-o", str(tmp_path / "a"))
    assert result.exit_code == 2 and f"{broken}:2: not valid JSON" in result.output
    plan = tmp_path / "plan.json"
    plan.write_text('[{"sobject": "Account", "files": ["../../etc/passwd"]}]')
    result = run("import", "salesforce", str(plan), "-o", str(tmp_path / "b"))
    assert result.exit_code == 2 and "outside its folder" in result.output
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"records": [
        {"attributes": 5}, 3,
        {"attributes": {"type": "Account", "referenceId": "R1"}, "Name": "Acme"},
        {"attributes": {"type": "Account", "referenceId": "R1"}, "Name": "Acme again"}]},
        indent=2))
    out, report = imported(tmp_path, odd)
    messages = [p["message"] for p in report["problems"]]
    assert "record 1 of its list has no attributes.type and referenceId; skipped" in messages
    assert "record 2 of its list has no attributes.type and referenceId; skipped" in messages
    assert ("referenceId 'R1' is used twice; the second record is skipped" in messages)
    assert (out / "accounts.csv").read_text().count("\n") == 2  # header and Acme
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_suggest_map_reads_a_tree(tmp_path: Path):
    result = run("import", "--suggest-map", str(TREE / "Account.json"))
    assert result.exit_code == 0, result.output
    assert "  parent: ParentId\n" in result.output and "  id: Id\n" in result.output


def test_only_json_is_taken_for_a_tree():
    from kamcore.importers.sftree import looks_like_tree

    assert not looks_like_tree("accounts.csv", b"[Id],[Name]\nA,Acme\n")
    assert looks_like_tree("export.txt", b'\xef\xbb\xbf{\n    "records": [')
    assert looks_like_tree("Account-plan.JSON", b"")
