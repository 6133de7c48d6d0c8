"""The Python API a new user meets: every function takes a path or an Org, reprs fit on one
line, and an unknown id suggests the ones meant."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

import kamcore
from kamcore import changes
from kamcore.cli.app import make_cli
from kamcore.errors import NotFound, close_ids
from kamcore.plugins import get_plugin_manager
from kamcore.workspace import as_org
from tests.conftest import EXAMPLES

ACME = EXAMPLES / "acme"

#: Every public function that takes an org, called the same way with an Org and with a path.
CALLS = {
    "validate": lambda org: [f.code for f in kamcore.validate(org)],
    "rollup": lambda org: kamcore.rollup(org, ["revenue"], depth=0).to_records(),
    "roster": lambda org: len(kamcore.roster(org, person="KAM-ACME-DE").rows),
    "coverage": lambda org: changes.coverage(org).to_json(),
    "move": lambda org: changes.move(org, "NOVA-US-CHI", to=None).to_json()["changes"],
    "assign": lambda org: changes.assign(org, "ACME-DE-BER", manager="KAM-DE").to_json()[
        "changes"],
    "handover": lambda org: changes.handover(org, "KAM-ACME-DE", spread=True).receivers,
    "leave": lambda org: changes.leave(org, "KAM-ACME-DE", to=["KAM-DE"]).to_json()["changes"],
    "hire": lambda org: changes.hire(org, id="X1", name="Ana", role="am").to_json()["changes"],
    "spread_book": lambda org: changes.spread_book(org, "KAM-ACME-DE")[0],
    "serves": lambda org: kamcore.serves(org, as_org(org).account("NOVA"), "healthcare"),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_every_public_function_takes_a_path_or_an_org(name):
    call = CALLS[name]
    assert call(str(ACME)) == call(ACME) == call(kamcore.load(ACME))


def test_validate_a_path_reads_it_as_kam_validate_does():
    codes = [f.code for f in kamcore.validate("examples/broken")]
    assert "KAM102" in codes and "KAM103" in codes


def test_undo_plan_takes_a_path(tmp_path):
    shutil.copytree(ACME, tmp_path / "org")
    changes.apply(changes.assign(tmp_path / "org", "ACME-DE-BER", manager="KAM-DE"))
    plan = changes.undo_plan(tmp_path / "org")
    assert plan.changes[0].fields() == [("manager", "KAM-DE", "KAM-ACME-DE")]


def test_something_else_is_a_clear_type_error():
    with pytest.raises(TypeError, match="expected an Org or the path of a workspace folder, "
                                        "not int"):
        kamcore.validate(42)


def test_reprs_are_one_short_line():
    org = kamcore.load(ACME)
    assert repr(org) == "Org('Acme KAM Example', 94 accounts, 54 people, path='" \
        + str(ACME) + "')"
    plan = changes.move(org, "NOVA-US-CHI", to=None)
    assert repr(plan) == ("Plan('move NOVA-US-CHI --root', 1 record changed, "
                          "0 findings added, 0 removed)")
    from kamcore.workspace.tables import read_workspace

    for value in (read_workspace(ACME), kamcore.roster(org), kamcore.Org.build()):
        text = repr(value)
        assert "\n" not in text and len(text) < 200, text
    assert repr(kamcore.Org.build()) == "Org('Unnamed org', 0 accounts, 0 people)"


def test_unknown_ids_suggest_the_close_ones():
    org = kamcore.load(ACME)
    with pytest.raises(NotFound) as info:
        org.account("nova")
    assert info.value.hint == "did you mean 'NOVA' or 'NOVA-US' or 'NOVA-GB'?"
    assert close_ids("acme-de-ber", org.accounts)[0] == "ACME-DE-BER"
    assert close_ids("zzz", org.accounts) == []


@pytest.mark.parametrize("args", [
    ["tree", str(ACME), "--account", "nova"],
    ["duties", str(ACME), "--account", "nova"],
    ["move", str(ACME), "nova", "--root"],
])
def test_cli_unknown_id_suggests(args):
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), args)
    assert result.exit_code == 2
    assert result.stderr.endswith("no account with id 'nova'\n"
                                  "  hint: did you mean 'NOVA' or 'NOVA-US' or 'NOVA-GB'?\n")
