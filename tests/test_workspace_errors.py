"""Bad input never crashes: each case names file, line, record and fix, and exits non-zero."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager

HEADER = "id,name,tier,parent,manager,country,industry,currency,revenue\n"
PEOPLE = "id,name,role,reports_to,capacity,email,active\nP1,Ada,gam,,5,,true\n"


def workspace(tmp_path: Path, accounts: str | bytes = HEADER, people: str | bytes = PEOPLE,
              config: str | bytes = "name: T\ncurrency: EUR\n") -> Path:
    for name, content in (("kam.yaml", config), ("accounts.csv", accounts),
                          ("people.csv", people)):
        if content is None:
            continue
        data = content.encode() if isinstance(content, str) else content
        (tmp_path / name).write_bytes(data)
    return tmp_path


def run(path: Path, *args: str):
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                ["validate", str(path), *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


CASES = {
    "wrong column count": (
        HEADER + "A,Acme,key,,P1,DE,retail,EUR\n",
        ["accounts.csv:2", "8 cells where the header has 9; no cell for revenue", "quote cells"]),
    "non-number metric": (
        HEADER + "A,Acme,key,,P1,DE,retail,EUR,lots\n",
        ["accounts.csv:2", "column 'revenue'", "'lots' is not a number", "account 'A'"]),
    "infinite metric": (
        HEADER + "A,Acme,key,,P1,DE,retail,EUR,inf\n",
        ["accounts.csv:2", "'inf' is not a finite number"]),
    "unknown tier": (
        HEADER + "A,Acme,platinum,,P1,DE,retail,EUR,1\n",
        ["accounts.csv:2", "column 'tier'", "'platinum'", "global, national, key, regular"]),
    "bad country": (
        HEADER + "A,Acme,key,,P1,Germany,retail,EUR,1\n",
        ["accounts.csv:2", "column 'country'", "two-letter ISO code"]),
    "bad currency": (
        HEADER + "A,Acme,key,,P1,DE,retail,EURO,1\n",
        ["accounts.csv:2", "column 'currency'", "ISO 4217"]),
    "missing id column": (
        "name,tier\nAcme,key\n", ["accounts.csv:1", "missing column(s) id"]),
    "empty file": ("", ["accounts.csv is empty", "header line"]),
    "unclosed quote": (
        HEADER + 'A,"Acme,key,,P1,DE,retail,EUR,1\n', ["accounts.csv:2"]),
    "not utf-8": (
        HEADER.encode() + b"A,Acme \xff,key,,P1,DE,retail,EUR,1\n",
        ["accounts.csv:2", "not valid UTF-8", "CSV UTF-8"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_accounts_file(tmp_path, case):
    accounts, expected = CASES[case]
    result = run(workspace(tmp_path, accounts=accounts))
    assert result.exit_code == 2, result.output
    for text in expected:
        assert text in result.output, (text, result.output)


def test_unknown_role(tmp_path):
    result = run(workspace(tmp_path, people="id,name,role\nP1,Ada,boss\n"))
    assert result.exit_code == 2
    assert "people.csv:2" in result.output and "'boss'" in result.output
    assert "vp, director, gam, nam, kam, am, support" in result.output


def test_all_bad_records_are_listed_not_just_the_first(tmp_path):
    rows = "".join(f"A{i},Acme,platinum,,,DE,,EUR,1\n" for i in range(3))
    result = run(workspace(tmp_path, accounts=HEADER + rows))
    assert "3 records could not be read" in result.output
    assert all(f"accounts.csv:{line}" in result.output for line in (2, 3, 4))


def test_missing_accounts_file(tmp_path):
    result = run(workspace(tmp_path, accounts=None))
    assert result.exit_code == 2
    assert "accounts.csv does not exist" in result.output


def test_missing_workspace(tmp_path):
    result = run(tmp_path / "nope")
    assert result.exit_code == 2
    assert "does not exist" in result.output and "kam init" in result.output


def test_missing_kam_yaml(tmp_path):
    (tmp_path / "accounts.csv").write_text(HEADER)
    result = run(tmp_path)
    assert result.exit_code == 2 and "kam.yaml does not exist" in result.output


def test_invalid_yaml(tmp_path):
    result = run(workspace(tmp_path, config="name: T\ncurrency: [EUR\n"))
    assert result.exit_code == 2
    assert "kam.yaml:" in result.output and "invalid YAML" in result.output


def test_yaml_python_tag_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    config = f"name: !!python/object/apply:os.system ['touch {marker}']\n"
    result = run(workspace(tmp_path, config=config))
    assert result.exit_code == 2
    assert "plain YAML only" in result.output
    assert not marker.exists()


def test_yaml_bomb_is_refused(tmp_path):
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        bomb += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    result = run(workspace(tmp_path, config="name: T\nplugins:\n  " +
                           bomb.replace("\n", "\n  ")))
    assert result.exit_code == 2
    assert "anchors and aliases" in result.output


def test_unknown_setting(tmp_path):
    result = run(workspace(tmp_path, config="name: T\ncurency: EUR\n"))
    assert result.exit_code == 2
    assert "kam.yaml:2" in result.output and "curency" in result.output


def test_bad_reporting_currency(tmp_path):
    result = run(workspace(tmp_path, config="name: T\ncurrency: EURO\n"))
    assert result.exit_code == 2 and "kam.yaml:2" in result.output


def test_duplicate_ids_are_findings_with_both_lines(tmp_path):
    rows = "A,Acme,regular,,,DE,,EUR,1\nA,Acme again,regular,,,DE,,EUR,2\n"
    result = run(workspace(tmp_path, accounts=HEADER + rows))
    assert result.exit_code == 1
    assert "line 3" in result.output and "KAM101" in result.output
    assert "first at" in result.output and "accounts.csv:2" in result.output


def test_missing_parent_and_cycle_are_findings(tmp_path):
    rows = ("A,Acme,regular,B,,DE,,EUR,1\nB,B,regular,A,,DE,,EUR,1\n"
            "C,C,regular,ZZZ,,DE,,EUR,1\n")
    result = run(workspace(tmp_path, accounts=HEADER + rows), "--format", "json")
    assert result.exit_code == 1
    import json

    found = {(f["code"], f["subject"], f["line"]) for f in json.loads(result.output)["findings"]}
    assert ("KAM103", "A", 2) in found and ("KAM102", "C", 4) in found


def test_people_cycle_is_a_finding(tmp_path):
    people = "id,name,role,reports_to\nP1,Ada,gam,P2\nP2,Bob,nam,P1\n"
    result = run(workspace(tmp_path, people=people))
    assert result.exit_code == 1 and "KAM122" in result.output


def test_bom_and_crlf_are_read(tmp_path):
    accounts = ("\ufeff" + HEADER + "A,Acme,key,,P1,DE,retail,EUR,1\n").replace("\n", "\r\n")
    result = run(workspace(tmp_path, accounts=accounts))
    assert result.exit_code == 0, result.output
    assert "1 account," in result.output


def test_inline_records_in_kam_yaml(tmp_path):
    config = """name: Tiny
currency: EUR
accounts:
  - {id: A, name: Acme, tier: key, manager: P1, country: DE, revenue: 5}
  - id: B
    name: Beta
    tier: platinum
people:
  - {id: P1, name: Ada, role: kam}
"""
    result = run(workspace(tmp_path, config=config, accounts=None, people=None))
    assert result.exit_code == 2
    assert "kam.yaml:5" in result.output and "'platinum'" in result.output
