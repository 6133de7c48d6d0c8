"""kam import territories: Dynamics territories, Salesforce Territory2 and its associations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager


@pytest.fixture
def org(acme_copy: Path) -> Path:
    (acme_copy / "territories.csv").unlink()
    return acme_copy


def invoke(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def test_dynamics_territories_with_managers_and_parents_by_name(org, tmp_path):
    export = tmp_path / "territories.csv"
    export.write_text("Territory Name,Manager,Parent\n"
                      "Americas,Daniel Okafor,\n"
                      "Northwest,Tom Berg,Americas\n"
                      "Nowhere,Nobody,Atlantis\n", encoding="utf-8")
    result = invoke("import", "territories", str(org), str(export), "--preset", "dynamics")
    assert result.exit_code == 0, result.output
    assert (org / "territories.csv").read_text(encoding="utf-8").splitlines() == [
        "id,name,parent,manager", "AMERICAS,Americas,,DIR1",
        "NORTHWEST,Northwest,AMERICAS,NAM-ACME-US", "NOWHERE,Nowhere,,"]
    report = (org / "territories-import-report.md").read_text(encoding="utf-8")
    assert f"{export}:4" in report and "manager 'Nobody'" in report
    assert "parent 'Atlantis' is not a territory of the export" in report


def test_salesforce_territory2_and_associations_set_the_accounts_territory(org, tmp_path):
    model = tmp_path / "Territory2.csv"
    model.write_text("Id,Name,DeveloperName,ParentTerritory2Id\n"
                     "0MI1,Worldwide,WORLD,\n0MI2,EMEA,EMEA,0MI1\n0MI3,DACH,EMEA-DACH,0MI2\n",
                     encoding="utf-8")
    links = tmp_path / "ObjectTerritory2Association.csv"
    links.write_text("ObjectId,Territory2Id,AssociationCause\n"
                     "ORBIT,0MI3,Territory2Manual\nNOPE,0MI3,Territory2Manual\n"
                     "ACME,0MI9,Territory2Manual\n", encoding="utf-8")
    before = (org / "accounts.csv").read_text(encoding="utf-8").splitlines()
    result = invoke("import", "territories", str(org), str(model), "--preset", "salesforce",
                    "--associations", str(links), "--report", "json")
    assert result.exit_code == 0, result.output
    after = (org / "accounts.csv").read_text(encoding="utf-8").splitlines()
    assert after[0] == before[0] + ",territory"
    changed = [line for old, line in zip(before[1:], after[1:], strict=True)
               if line != old + ","]
    assert [line.split(",")[0] for line in changed] == ["ORBIT"]
    assert changed[0].endswith(",EMEA-DACH")
    report = json.loads((org / "territories-import-report.json").read_text(encoding="utf-8"))
    assert [(u["line"], u["account"]) for u in report["unmatched"]] == [(3, "NOPE"),
                                                                       (4, "ACME")]
    listing = json.loads(invoke("territories", str(org), "--accounts", "--format",
                                "json").stdout)
    assert {r["account"]: (r["territory"], r["rule"]) for r in listing}["ORBIT"] == (
        "EMEA-DACH", "override")


def test_strict_writes_nothing_when_anything_did_not_match(org, tmp_path):
    export = tmp_path / "territories.csv"
    export.write_text("Territory Name,Manager,Parent\nX,Ghost,\n", encoding="utf-8")
    result = invoke("import", "territories", str(org), str(export), "--preset", "dynamics",
                    "--strict")
    assert result.exit_code == 1 and "manager 'Ghost'" in result.output
    assert not (org / "territories.csv").exists()


def test_territories_and_the_accounts_column_are_written_as_one_transaction(org, tmp_path,
                                                                            monkeypatch):
    """A failure between the two renames leaves both files as they were (issue 10)."""
    import os

    from kamcore.changes import txn

    model = tmp_path / "Territory2.csv"
    model.write_text("Id,Name,DeveloperName,ParentTerritory2Id\n0MI1,Worldwide,WORLD,\n",
                     encoding="utf-8")
    links = tmp_path / "ObjectTerritory2Association.csv"
    links.write_text("ObjectId,Territory2Id,AssociationCause\nORBIT,0MI1,Territory2Manual\n",
                     encoding="utf-8")
    before = {name: (org / name).read_bytes() for name in ("accounts.csv",)}
    real_replace, renames = os.replace, []

    def failing_replace(src, dst):
        if str(src).endswith(".new"):
            renames.append(dst)
            if len(renames) == 2:
                raise OSError(28, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(txn.os, "replace", failing_replace)
    result = invoke("import", "territories", str(org), str(model), "--preset", "salesforce",
                    "--associations", str(links))
    assert result.exit_code == 2 and "No space left on device" in result.output
    assert len(renames) == 2
    assert not (org / "territories.csv").exists()  # rolled back: it did not exist before
    assert {name: (org / name).read_bytes() for name in before} == before


def test_kam_yaml_rules_naming_replaced_territories_are_reported(acme_copy, tmp_path):
    """territories.csv is replaced; kam.yaml's rules are the user's text and stay: each rule
    whose territory is gone is a problem, with the imported territory of the same name."""
    export = Path(__file__).resolve().parent.parent / "examples" / "crm" / "dynamics" / (
        "territories.csv")
    result = invoke("import", "territories", str(acme_copy), str(export), "--preset",
                    "dynamics", "--report", "json")
    assert result.exit_code == 0, result.output
    assert "6 problems: see the report" in result.output
    report = json.loads((acme_copy / "territories-import-report.json").read_text("utf-8"))
    rules = {p["record"]: p for p in report["problems"] if p["kind"] == "rule"}
    assert list(rules) == ["WORLD", "EMEA-DACH", "EMEA-WEST", "AMER-NA", "AMER-LATAM", "APAC"]
    north = rules["AMER-NA"]
    assert north["file"] == str(acme_copy / "kam.yaml")
    assert north["message"].startswith("rule 4 (North America) in kam.yaml names territory "
                                       "'AMER-NA', which the imported territories.csv")
    assert north["hint"] == "the import's 'North America' is 'NORTH-AMERICA': point the rule at it"
    checked = json.loads(invoke("validate", str(acme_copy), "--format", "json").stdout)
    assert {f["code"] for f in checked["findings"] if f["severity"] == "error"} == {"KAM196"}
    original = export.parent.parent.parent / "acme" / "territories.csv"
    (acme_copy / "territories.csv").write_bytes(kept := original.read_bytes())
    strict = invoke("import", "territories", str(acme_copy), str(export), "--preset",
                    "dynamics", "--strict")
    assert strict.exit_code == 1 and (acme_copy / "territories.csv").read_bytes() == kept
