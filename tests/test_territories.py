"""Territories: the third tree, assignment rules (first match wins), rules, listing, rollup."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager
from kamcore.territories import account_rows, assign
from kamcore.validation import validate_tables
from kamcore.workspace.tables import read_workspace


@pytest.fixture
def ws(tmp_path: Path, acme_path: Path) -> Path:
    folder = tmp_path / "org"
    shutil.copytree(acme_path, folder)
    return folder


def invoke(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def read(folder: Path):
    tables = read_workspace(folder, pm=get_plugin_manager(load_entrypoints=False))
    tables.require_readable()
    return tables


def findings(folder: Path) -> list[tuple[str, str | None]]:
    return sorted((f.code, f.subject) for f in validate_tables(read(folder), select=["KAM19"]))


def placed(folder: Path) -> dict[str, tuple[str | None, str | None]]:
    return {r["account"]: (r["territory"], r["rule"]) for r in account_rows(read(folder))}


def add_column(path: Path, name: str, values: dict[str, str]) -> None:
    """Append column ``name`` to a CSV file: ``values`` by record id, empty elsewhere."""
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + f",{name}"] + [
        line + "," + values.get(line.split(",")[0], "") for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def set_rules(folder: Path, rules: str) -> None:
    text = (folder / "kam.yaml").read_text(encoding="utf-8")
    head = text.split("territories:")[0]
    (folder / "kam.yaml").write_text(head + "territories:\n  rules:\n" + rules, encoding="utf-8")


def test_the_first_matching_rule_wins_and_is_recorded(acme_path):
    where = placed(acme_path)
    assert where["ACME"] == ("WORLD", "rule 1 (Global accounts)")  # DE, but global first
    assert where["ACME-DE"] == ("EMEA-DACH", "rule 2 (DACH)")
    assert where["MAPLE"] == ("AMER-NA", "rule 4 (North America)")
    assert all(t is not None for t, _ in where.values())


def test_the_territory_column_overrides_the_rules(ws):
    add_column(ws / "accounts.csv", "territory", {"ORBIT": "APAC"})
    where = placed(ws)
    assert where["ORBIT"] == ("APAC", "override")
    assert where["ORBIT-01"] == ("EMEA-DACH", "rule 2 (DACH)")


def test_criteria_combine_and_revenue_bands_apply(ws):
    set_rules(ws, "    - {territory: APAC, industry: Healthcare, tier: [key], "
                  "revenue_min: 600000}\n"
                  "    - {territory: AMER-LATAM, region: [ba], country: BR}\n"
                  "    - {name: rest, territory: WORLD}\n")
    add_column(ws / "accounts.csv", "region", {"ZENITH-BR-SAO": "BA"})
    where = placed(ws)
    assert where["ORBIT"] == ("APAC", "rule 1")        # healthcare key, revenue 610,000
    assert where["NOVA-US-DAL"] == ("WORLD", "rule 3 (rest)")  # healthcare key, 240,000
    assert where["ZENITH-BR-SAO"] == ("AMER-LATAM", "rule 2")
    assert where["ZENITH-BR-CUR"] == ("WORLD", "rule 3 (rest)")


def test_the_example_is_clean_and_every_account_is_placed_once(acme_path):
    assert findings(acme_path) == []
    found = assign(read(acme_path)).territory
    assert (found >= 0).all()


def test_territory_rules_fire_with_codes(ws):
    with (ws / "territories.csv").open("a", encoding="utf-8") as handle:
        handle.write("APAC,Again,,VP1\nLOOP-A,A,LOOP-B,\nLOOP-B,B,LOOP-A,\n"
                     "ORPHAN,Orphan,NOWHERE,GHOST\n")
    set_rules(ws, "    - {territory: EMEA-DACH, country: DE}\n"
                  "    - {territory: MARS, country: US}\n")
    add_column(ws / "accounts.csv", "territory", {"MAPLE": "ATLANTIS"})
    found = findings(ws)
    assert ("KAM190", "APAC") in found
    assert ("KAM191", "ORPHAN") in found and ("KAM193", "ORPHAN") in found
    assert ("KAM192", "LOOP-A") in found
    assert ("KAM195", "MAPLE") in found
    assert ("KAM196", None) in found
    unplaced = {s for c, s in found if c == "KAM194"}
    assert "ACME-US" in unplaced and "ACME-DE" not in unplaced and "MAPLE" not in unplaced
    tables = read(ws)
    by_code = {f.code: f for f in validate_tables(tables, select=["KAM196", "KAM195"])}
    assert by_code["KAM196"].message == ("rule 2 of territories: rules names territory "
                                         "'MARS', which is not in territories.csv")
    assert by_code["KAM195"].file.endswith("accounts.csv") and by_code["KAM195"].line == 90


def test_the_manager_works_in_the_territory_or_an_exception_is_recorded(ws):
    add_column(ws / "people.csv", "territory",
               {"KAM-DE": "APAC", "NAM-ACME-DE": "EMEA", "GAM1": "WORLD"})
    assert findings(ws) == [("KAM197", "ORBIT"), ("KAM197", "ORBIT-01"),
                            ("KAM197", "ORBIT-02")]
    add_column(ws / "accounts.csv", "territory_exception",
               dict.fromkeys(("ORBIT", "ORBIT-01", "ORBIT-02"), "covers the clinic from Tokyo"))
    assert findings(ws) == []


def test_kam_territories_shows_the_tree_with_account_counts(acme_path):
    result = invoke("territories", str(acme_path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["territory", "manager", "manager", "name", "own", "with",
                                "below"]
    assert lines[2].split() == ["Worldwide", "(WORLD)", "VP1", "Vera", "Lindqvist", "4", "94"]
    assert lines[4].split() == ["DACH", "(EMEA-DACH)", "NAM-ACME-DE", "Lena", "Becker", "10",
                                "10"]
    rows = json.loads(invoke("territories", str(acme_path), "--format", "json").stdout)
    assert rows[1] == {"id": "EMEA", "name": "Europe, Middle East and Africa",
                       "manager": "DIR1", "depth": 1, "accounts": 0, "total": 59,
                       "manager_name": "Daniel Okafor"}


def test_the_manager_name_is_a_column_added_last_and_empty_for_an_unknown_manager(ws):
    text = (ws / "territories.csv").read_text(encoding="utf-8")
    (ws / "territories.csv").write_text(text.replace("Worldwide,,VP1", "Worldwide,,NOBODY"),
                                        encoding="utf-8")
    lines = invoke("territories", str(ws), "--format", "csv").output.splitlines()
    assert lines[:3] == ["id,name,manager,depth,accounts,total,manager_name",
                         "WORLD,Worldwide,NOBODY,0,4,94,",
                         'EMEA,"Europe, Middle East and Africa",DIR1,1,0,59,Daniel Okafor']
    assert invoke("territories", str(ws)).output.splitlines()[2].split() == [
        "Worldwide", "(WORLD)", "NOBODY", "4", "94"]


def test_kam_territories_accounts_lists_the_rule_per_account(acme_path):
    result = invoke("territories", str(acme_path), "--accounts", "--format", "csv")
    assert result.output.splitlines()[:3] == [
        "account,territory,rule", "ACME,WORLD,rule 1 (Global accounts)",
        "ACME-DE,EMEA-DACH,rule 2 (DACH)"]


def test_rollup_by_territory_rolls_metrics_up_the_territory_tree(acme_path):
    result = invoke("rollup", str(acme_path), "--by", "territory", "-m", "revenue",
                    "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)["rows"]}
    assert rows["EMEA"]["total_accounts"] == 59 and rows["EMEA"]["accounts"] == 0
    emea = rows["EMEA-DACH"]["revenue_total"] + rows["EMEA-WEST"]["revenue_total"]
    assert rows["EMEA"]["revenue_total"] == pytest.approx(emea)
    world = sum(rows[t]["revenue_total"] for t in ("EMEA", "AMER", "APAC"))
    assert rows["WORLD"]["revenue_total"] == pytest.approx(world + (rows["WORLD"]["revenue_own"]
                                                                    or 0))
    by_tier = json.loads(invoke("rollup", str(acme_path), "--by", "tier", "-m", "revenue",
                                "--format", "json").stdout)
    assert rows["WORLD"]["revenue_total"] == pytest.approx(by_tier["total"]["revenue"])


def test_rollup_by_territory_without_territories_is_a_clear_error(ws):
    (ws / "territories.csv").unlink()
    result = invoke("rollup", str(ws), "--by", "territory")
    assert result.exit_code == 2
    assert "a territory rollup needs territories.csv" in result.output


def test_bad_territory_cells_are_located_problems(ws):
    with (ws / "territories.csv").open("a", encoding="utf-8") as handle:
        handle.write("BAD ID,,WORLD,\n")
    result = invoke("territories", str(ws))
    assert result.exit_code == 2
    assert "territories.csv:10 (column 'name'): territory 'BAD ID': is missing a value" \
        in result.output


def test_plans_show_their_territory_impact(acme_path):
    result = invoke("handover", str(acme_path), "--from", "KAM-ACME-DE", "--to", "KAM-DE")
    assert "  territory impact: 2 accounts in EMEA-DACH\n" in result.output
    spread = invoke("handover", str(acme_path), "--from", "KAM-ZENITH-BR", "--to",
                    "KAM-ZENITH-NL")
    assert "territory impact: 2 accounts in AMER-LATAM" in spread.output
    moved = invoke("move", str(acme_path), "ORBIT-01", "--to", "ORBIT-02")
    assert "territory impact" not in moved.output  # a single move or assign says nothing
