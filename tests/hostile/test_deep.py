"""Deep chains and loops (issue 10): coverage, like tree, rollup and validate, walks the account
tree with pointer doubling, so a 200,000-deep chain is a few numpy passes; and it agrees with
the plain definition (walk up from each account) on random orgs, loops included."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from kamcore import Account, Org, Person
from kamcore.changes.coverage import coverage
from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager

DEPTH = 200_000
TEAM = 50


def _deep_workspace(folder: Path) -> Path:
    """A chain of DEPTH accounts; account i is held by P(i % TEAM), and P(j) reports to
    P(j-1): every account's manager reports to the one above, except where the cycle of
    managers restarts (P0 under P49's account)."""
    folder.mkdir()
    (folder / "kam.yaml").write_text("name: deep\ncurrency: USD\n")
    lines = ["id,name,tier,parent,manager,revenue", "A0,a0,global,,P0,1"]
    lines += [f"A{i},a{i},regular,A{i - 1},P{i % TEAM},1" for i in range(1, DEPTH)]
    (folder / "accounts.csv").write_text("\n".join(lines) + "\n")
    people = ["id,name,role,reports_to", "P0,p0,gam,"]
    people += [f"P{j},p{j},am,P{j - 1}" for j in range(1, TEAM)]
    (folder / "people.csv").write_text("\n".join(people) + "\n")
    return folder


def test_coverage_of_a_200000_deep_chain(tmp_path):
    ws = _deep_workspace(tmp_path / "deep")
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                ["coverage", str(ws), "--format", "json"])
    assert result.exit_code == 0, result.output
    mismatches = json.loads(result.stdout)["line_mismatches"]
    # account i (i % TEAM == 0, i > 0) is held by P0, above it P49: P0 does not report to P49
    assert [m["account"] for m in mismatches] == [f"A{i}" for i in range(TEAM, DEPTH, TEAM)]
    assert {(m["manager"], m["above_manager"]) for m in mismatches} == {("P0", f"P{TEAM - 1}")}


def _reference(org: Org) -> list[tuple[str, str]]:
    """Line mismatches by the definition: walk up from each actively held account to the
    nearest account someone else actively holds; its manager must be in the chain."""
    def held(manager: str | None) -> bool:
        person = org.people.get(manager or "")
        return person is not None and person.active and person.role.value != "support"

    out = []
    for aid, account in org.accounts.items():
        if not held(account.manager):
            continue
        for above in org.ancestors(aid):
            boss = org.accounts[above].manager
            if boss == account.manager or not held(boss):
                continue
            if boss not in org.chain_of_command(account.manager or ""):
                out.append((aid, above))
            break
    return out


@st.composite
def random_orgs(draw: st.DrawFn) -> Org:
    n_people = draw(st.integers(1, 10))
    n_accounts = draw(st.integers(1, 25))
    people = []
    for i in range(n_people):
        boss = draw(st.one_of(st.none(), st.integers(0, n_people - 1)))
        people.append(Person(id=f"P{i}", name="p", role=draw(st.sampled_from(
            ["gam", "nam", "kam", "am", "support", "director"])),
            reports_to=None if boss in (None, i) else f"P{boss}",
            active=draw(st.booleans()) or draw(st.booleans())))
    accounts = []
    for i in range(n_accounts):
        parent = draw(st.one_of(st.none(), st.integers(0, n_accounts - 1)))
        manager = draw(st.one_of(st.none(), st.just("NOPE"),
                                 st.integers(0, n_people - 1).map(lambda j: f"P{j}")))
        accounts.append(Account(id=f"A{i}", name="a", tier=draw(st.sampled_from(
            ["global", "national", "key", "regular"])),
            parent=None if parent in (None, i) else f"A{parent}", manager=manager))
    return Org.build(accounts, people)


@settings(max_examples=300, deadline=None)
@given(random_orgs())
def test_coverage_agrees_with_the_definition_loops_included(org):
    found = [(m.account, m.above) for m in coverage(org).line_mismatches]
    assert found == _reference(org)
