"""The core commands: help, version, init, validate, tree, schema, and error handling."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import kamcore
from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager


@pytest.fixture
def kam():
    cli = make_cli(get_plugin_manager(load_entrypoints=False))

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args))

    return invoke


@pytest.fixture
def small(tmp_path, kam):
    folder = tmp_path / "org"
    kam("init", str(folder), "--currency", "EUR")
    (folder / "accounts.csv").write_text(
        "id,name,tier,parent,manager,country,industry,currency,revenue\n"
        "G,Globex,global,,P1,DE,retail,EUR,\n"
        "G-DE,Globex Germany,national,G,P2,DE,retail,EUR,100\n"
        "G-FR,Globex France,national,G,P2,FR,retail,EUR,50\n"
        "G-DE-1,Globex Berlin,key,G-DE,P2,DE,retail,EUR,10\n")
    (folder / "people.csv").write_text(
        "id,name,role,reports_to,capacity,email,active\n"
        "P1,Ada Lovelace,gam,,5,ada@example.com,true\n"
        "P2,Bob Byte,nam,P1,5,,true\n")
    return folder


def test_help_lists_commands_with_examples(kam):
    result = kam("--help")
    assert result.exit_code == 0
    for command in ("init", "validate", "tree", "schema", "plugins"):
        assert command in result.output
    assert "Examples:" in result.output


@pytest.mark.parametrize("command", ["init", "validate", "tree", "schema", "plugins"])
def test_every_command_help_has_examples(kam, command):
    result = kam(command, "--help")
    assert result.exit_code == 0 and "Example" in result.output


def test_version(kam):
    result = kam("--version")
    assert result.output == f"kam (kamcore) {kamcore.__version__}\n"


def test_init_creates_a_valid_empty_workspace(tmp_path, kam):
    result = kam("init", str(tmp_path / "new"), "--name", "New Co", "--currency", "gbp")
    assert result.exit_code == 0, result.output
    config = (tmp_path / "new" / "kam.yaml").read_text()
    assert "name: New Co" in config and "currency: GBP" in config and "# " in config
    assert (tmp_path / "new" / ".gitignore").read_text() == ".kam.lock\n.kam.txn/\n"
    assert kam("validate", str(tmp_path / "new")).exit_code == 0
    again = kam("init", str(tmp_path / "new"))
    assert again.exit_code == 2 and "already exists" in again.output and "--force" in again.output


def test_init_rejects_bad_currency_and_writes_nothing(tmp_path, kam):
    result = kam("init", str(tmp_path / "x"), "--currency", "EURO")
    assert result.exit_code == 2
    assert not (tmp_path / "x" / "kam.yaml").exists()


def test_validate_clean(small, kam):
    result = kam("validate", str(small))
    assert result.exit_code == 0
    assert result.output.strip() == ("OK: 0 errors, 0 warnings, 0 info in 'org': "
                                     "4 accounts, 2 people")


def test_validate_json_contract(small, kam):
    (small / "people.csv").write_text("id,name,role,reports_to,capacity\nP1,Ada,gam,,5\n"
                                      "P2,Bob,nam,P1,1\n")
    result = kam("validate", str(small), "--format", "json")
    assert result.exit_code == 0  # a warning only
    report = json.loads(result.output)
    assert report["summary"] == {"error": 0, "warning": 1, "info": 0}
    (finding,) = report["findings"]
    assert finding["code"] == "KAM111" and finding["subject"] == "P2"
    assert finding["file"].endswith("people.csv") and finding["line"] == 3
    assert finding["hint"].startswith("hand some over")


def test_validate_counts_contacts_and_territories_when_the_workspace_has_them(small, kam):
    (small / "contacts.csv").write_text(
        "id,name,account,role,owner\nC1,Cy,G,decision_maker,P1\nC2,Di,G-DE,primary,P2\n"
        "C2,Di,G-DE,primary,P2\n")  # a duplicate id (KAM160) is one contact
    (small / "territories.csv").write_text("id,name,parent\nEU,Europe,\n")
    result = kam("validate", str(small), "--select", "KAM10")
    assert result.output.strip().splitlines()[-1] == (
        "OK: 0 errors, 0 warnings, 0 info in 'org': 4 accounts, 2 people, 2 contacts, "
        "1 territory")
    report = json.loads(kam("validate", str(small), "--format", "json").output)
    assert list(report)[:5] == ["org", "accounts", "people", "contacts", "territories"]
    assert [report[k] for k in ("accounts", "people", "contacts", "territories")] == [
        4, 2, 2, 1]
    (small / "territories.csv").unlink()
    report = json.loads(kam("validate", str(small), "--format", "json").output)
    assert (report["contacts"], report["territories"]) == (2, None)
    assert kam("validate", str(small)).output.strip().splitlines()[-1].endswith(
        ": 4 accounts, 2 people, 2 contacts")


def test_validate_json_without_contacts_or_territories_says_null(small, kam):
    report = json.loads(kam("validate", str(small), "--format", "json").output)
    assert {k: report[k] for k in ("accounts", "people", "contacts", "territories")} == {
        "accounts": 4, "people": 2, "contacts": None, "territories": None}


def test_validate_list_rules(kam):
    result = kam("validate", "x", "--list-rules")
    assert result.exit_code == 0
    assert "KAM101" in result.output and "duplicate-id" in result.output


def test_tree_draws_tier_country_name_id_manager(small, kam):
    result = kam("tree", str(small))
    assert result.exit_code == 0
    assert result.output == (
        "Globex [global DE] G · Ada Lovelace (GAM)\n"
        "├── Globex Germany [national DE] G-DE · Bob Byte (NAM)\n"
        "│   └── Globex Berlin [key DE] G-DE-1 · Bob Byte (NAM)\n"
        "└── Globex France [national FR] G-FR · Bob Byte (NAM)\n")


def test_tree_account_and_depth(small, kam):
    result = kam("tree", str(small), "--account", "G", "--depth", "1")
    assert result.output.splitlines()[-2:] == [
        "│   └── … 1 more below",
        "└── Globex France [national FR] G-FR · Bob Byte (NAM)"]


def test_tree_unknown_account_suggests(small, kam):
    result = kam("tree", str(small), "--account", "G-D")
    assert result.exit_code == 2
    assert "no account with id 'G-D'" in result.output and "did you mean" in result.output


def test_tree_people(small, kam):
    result = kam("tree", str(small), "--people")
    assert result.output == ("Ada Lovelace [GAM] P1 · 1 account\n"
                             "└── Bob Byte [NAM] P2 · 3 accounts\n")


def test_schema_is_json_schema(kam):
    result = kam("schema")
    schema = json.loads(result.output)
    assert schema["account"]["properties"]["tier"]["$ref"].endswith("Tier")
    assert "revenue" in schema["metrics"]
    one = json.loads(kam("schema", "--record", "person").output)
    assert "reports_to" in one["properties"]


def test_unexpected_error_is_one_line_not_a_traceback(small, kam, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("kamcore.validation.validate_columns", boom)
    monkeypatch.delenv("KAM_DEBUG", raising=False)
    result = kam("validate", str(small))
    assert result.exit_code == 70
    assert "unexpected RuntimeError: disk on fire" in result.output
    assert "KAM_DEBUG=1" in result.output and "Traceback" not in result.output


def test_help_imports_no_heavy_modules():
    """`kam --help` stays fast because nothing heavy is imported (timed in benchmarks/)."""
    import subprocess
    import sys

    # main() ends the process: the check runs as an exit handler, as the imports stand then
    code = ("import atexit, sys\nfrom kamcore.cli.app import main\nsys.argv = ['kam', '--help']\n"
            "atexit.register(lambda: print('HEAVY', [m for m in ('pydantic', 'networkx', "
            "'numpy', 'pyarrow', 'yaml') if m in sys.modules], file=sys.stderr))\nmain()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert "HEAVY []" in result.stderr, result.stderr


@pytest.mark.parametrize("command", [["validate"], ["rollup"], ["tree", "--depth", "1"]])
def test_table_commands_never_import_networkx(acme_path, command):
    """validate, rollup and tree work over the reader's columns, with every plugin loaded: the
    graph library (a third of a small run's start-up) is imported only when an Org's graph is
    asked for."""
    import subprocess
    import sys

    argv = ["kam", command[0], str(acme_path), *command[1:]]
    code = (f"import atexit, sys\nfrom kamcore.cli.app import main\nsys.argv = {argv!r}\n"
            "atexit.register(lambda: print('GRAPH', 'networkx' in sys.modules, "
            "file=sys.stderr))\nmain()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert "GRAPH False" in result.stderr, result.stderr[-2000:]
