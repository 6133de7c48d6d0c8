"""kam coverage: unmanaged accounts, over-capacity and idle managers, lines off the tree."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import kamcore
from kamcore.changes import coverage
from kamcore.cli.app import make_cli
from kamcore.models import Person
from kamcore.plugins import get_plugin_manager
from tests.test_changes_support import small_org


def gappy_org() -> kamcore.Org:
    org = small_org()
    accounts, people = dict(org.accounts), dict(org.people)
    people["GONE"] = Person(id="GONE", name="Gone", role="am", active=False)
    people["NAM1"] = people["NAM1"].model_copy(update={"capacity": 0})
    for aid, manager in {"R3": None, "K3": "SUP1", "R2": "GONE", "R1": "AM2"}.items():
        accounts[aid] = accounts[aid].model_copy(update={"manager": manager})
    return org.replace(accounts=accounts, people=people)


def test_every_kind_of_gap_is_found():
    assert coverage(gappy_org()).to_json() == {
        "gaps": 8,
        "unmanaged": [
            {"account": "R2", "tier": "regular", "manager": "GONE",
             "reason": "manager 'GONE' is inactive"},
            {"account": "K3", "tier": "key", "manager": "SUP1",
             "reason": "'SUP1' is support staff"},
            {"account": "R3", "tier": "regular", "manager": None, "reason": "no manager"},
        ],
        "over_capacity": [{"person": "NAM1", "role": "nam", "accounts": 1, "capacity": 0}],
        "idle": [{"person": "KAM3", "role": "kam", "reports_to": "NAM1"},
                 {"person": "KAM2", "role": "kam", "reports_to": "NAM2"},
                 {"person": "AM1", "role": "am", "reports_to": "KAM1"}],
        "line_mismatches": [
            {"account": "R1", "tier": "regular", "manager": "AM2", "above": "K1",
             "above_manager": "KAM1",
             "message": "AM AM2 of regular account R1 does not report to KAM KAM1, who manages "
                        "key account K1"}],
        "no_decision_maker": [],  # an org built in Python has no contacts.csv
    }


def test_a_kam_must_report_to_the_nam_of_the_national_account_transitively():
    org = small_org()
    people = dict(org.people)
    # KAM1 moves under NAM2: K1 and K2 sit under N-DE, which NAM1 holds.
    people["KAM1"] = people["KAM1"].model_copy(update={"reports_to": "NAM2"})
    found = coverage(org.replace(people=people)).line_mismatches
    assert [(m.account, m.manager, m.above, m.above_manager) for m in found] == [
        ("K1", "KAM1", "N-DE", "NAM1"), ("K2", "KAM1", "N-DE", "NAM1")]
    # Reporting through someone else is fine: a chain, not a direct line, is required.
    people["KAM1"] = people["KAM1"].model_copy(update={"reports_to": "KAM3"})
    assert coverage(org.replace(people=people)).line_mismatches == []


def test_a_lines_check_skips_accounts_above_that_nobody_active_holds():
    org = small_org()
    accounts = dict(org.accounts)
    accounts["K1"] = accounts["K1"].model_copy(update={"manager": None})
    # R1 (AM1) now answers to the holder of N-DE: NAM1, whom AM1 reaches via KAM1.
    assert coverage(org.replace(accounts=accounts)).line_mismatches == []


@pytest.fixture
def cli():
    return make_cli(get_plugin_manager(load_entrypoints=False))


def test_cli_table_json_and_strict(cli, tmp_path):
    kamcore.save(gappy_org(), tmp_path / "org")
    result = CliRunner().invoke(cli, ["coverage", str(tmp_path / "org")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:6] == [
        "Accounts without an active manager: 3",
        "account  tier     manager  reason",
        "-------  -------  -------  --------------------------",
        "R2       regular  GONE     manager 'GONE' is inactive",
        "K3       key      SUP1     'SUP1' is support staff",
        "R3       regular           no manager",
    ]
    assert result.stdout.endswith("8 gaps.\n")
    data = json.loads(CliRunner().invoke(
        cli, ["coverage", str(tmp_path / "org"), "--format", "json"]).stdout)
    assert data["gaps"] == 8 and data["over_capacity"][0]["person"] == "NAM1"
    strict = CliRunner().invoke(cli, ["coverage", str(tmp_path / "org"), "--strict"])
    assert strict.exit_code == 1


def test_the_example_org_has_no_gaps(cli, acme_path):
    result = CliRunner().invoke(cli, ["coverage", str(acme_path), "--strict"])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("0 gaps.\n")
    assert "Accounts without an active manager: none" in result.stdout
