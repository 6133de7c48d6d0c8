"""Hand-over briefs: one Markdown file per receiving manager, with plugin duties and notes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import kamcore
from kamcore import changes, hookimpl
from kamcore.changes.brief import parse_notes
from kamcore.cli.app import make_cli
from kamcore.models import Duty
from kamcore.plugins import get_plugin_manager
from tests.test_changes_support import load, small_org


class AdsPlugin:
    @hookimpl
    def kam_account_duties(self, account, org):
        if account.id != "K1":
            return None
        return [Duty(id="ads.campaigns", title="Review the running campaigns", cadence="weekly",
                     who="billing", source="ads")]


class BrokenPlugin:
    @hookimpl
    def kam_account_duties(self, account, org):
        raise RuntimeError("duty table missing")


@pytest.fixture
def ws(tmp_path):
    org = small_org()
    accounts = dict(org.accounts)
    accounts["K1"] = accounts["K1"].model_copy(update={
        "extra": {"notes": "Buyer prefers calls on Tuesdays."},
        "ext": {"loyalty": {"tier": "gold"}}})
    kamcore.save(org.replace(accounts=accounts), tmp_path / "org")
    return tmp_path / "org"


@pytest.fixture
def pm():
    manager = get_plugin_manager(load_entrypoints=False)
    manager.register(AdsPlugin(), name="ads")
    manager.register(BrokenPlugin(), name="broken")
    return manager


NOTES = "Quiet quarter overall.\n\n## K1\nRenewal due in March.\n\n## K2\nAsk about the depot.\n"


def test_each_receiver_gets_a_brief_with_everything_a_predecessor_would_say(ws, pm, tmp_path):
    plan = changes.leave(load(ws), "KAM1", to=["KAM3"])
    applied = changes.apply(plan, briefs=tmp_path / "briefs", notes=NOTES, pm=pm,
                            reason="moved to Paris")
    assert applied.briefs == [tmp_path / "briefs" / "KAM3.md"]
    text = applied.briefs[0].read_text()
    head, k1, k2 = text.split("\n## Globex")
    assert head == (
        "# Hand-over brief for Kai Key (Key Account Manager)\n\n"
        "From Kim Key (KAM1, Key Account Manager): 2 accounts. Change: "
        "`leave KAM1 --to KAM3`.\nReason: moved to Paris\n\n"
        "## General notes from your predecessor\n\nQuiet quarter overall.\n")
    assert k1.startswith(
        " Berlin (K1)\n\n- Tier: key\n"
        "- Parent chain: Globex (G) > Globex DE (N-DE) > Globex Berlin (K1)\n"
        "- Accounts below it: 2\n- Country: Germany (DE)\n- Industry: retail\n"
        "- Currency: -\n- Previous manager: Kim Key (KAM1)\n\n"
        "### Metrics\n\n| metric | value |\n| --- | ---: |\n")
    assert "| Revenue | 40 |\n| Orders | 3 |" in k1 or "| Orders | 3 |\n| Revenue | 40 |" in k1
    assert "### Plugin fields\n\n- `loyalty.tier`: gold\n" in k1
    assert "- [ ] Send invoices (monthly; delegate to billing: Sam Support (SUP1); core)" in k1
    assert ("- [ ] Review the running campaigns (weekly; delegate to billing: Sam Support (SUP1);"
            " ads)") in k1
    assert "- [ ] Write and review the strategic account plan (yearly; you; core)" in k1
    assert "### Support staff\n\n- Sam Support (SUP1): billing\n" in k1
    assert k1.endswith("### Notes from your predecessor\n\nRenewal due in March.\n\n"
                       "Buyer prefers calls on Tuesdays.\n")
    assert "ads.campaigns" not in k2 and "Review the running campaigns" not in k2
    assert k2.endswith("### Notes from your predecessor\n\nAsk about the depot.\n")
    assert applied.warnings == [
        f"brief duties: plugin 'broken' in hook kam_account_duties: account {aid!r}: "
        "RuntimeError: duty table missing" for aid in ("K1", "K2")]


def test_spread_writes_one_brief_per_receiver(ws, pm, tmp_path):
    org = load(ws)
    people = dict(org.people)
    people["KAM3"] = people["KAM3"].model_copy(update={"capacity": 1})
    kamcore.save(org.replace(people=people))
    applied = changes.apply(changes.handover(load(ws), "KAM1", spread=True),
                            briefs=tmp_path / "b", pm=pm)
    assert [p.name for p in applied.briefs] == ["KAM3.md", "NAM1.md"]
    assert "## Globex Berlin (K1)" in (tmp_path / "b" / "KAM3.md").read_text()
    assert "## Globex Hamburg (K2)" in (tmp_path / "b" / "NAM1.md").read_text()


def test_parse_notes_sections():
    assert parse_notes(None) == ("", {})
    assert parse_notes(NOTES) == ("Quiet quarter overall.",
                                  {"K1": "Renewal due in March.", "K2": "Ask about the depot."})


def test_cli_briefs_options(ws, tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text(NOTES)
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["handover", str(ws), "--from", "KAM1", "--to", "KAM3",
                                      "--briefs", str(out), "--notes", str(notes), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"Hand-over briefs (1) in {out}/" in result.stderr
    assert "Renewal due in March." in (out / "KAM3.md").read_text()
    result = CliRunner().invoke(cli, ["handover", str(ws), "--from", "KAM3", "--to", "KAM1",
                                      "--no-briefs", "--yes"])
    assert result.exit_code == 0, result.output
    assert not (ws / "handover").exists()
    missing = CliRunner().invoke(cli, ["handover", str(ws), "--from", "KAM1", "--to", "KAM3",
                                       "--notes", str(tmp_path / "nope.md")])
    assert missing.exit_code == 2
    assert "cannot read the notes file" in missing.stderr


def test_undo_withdraws_the_briefs_of_the_change_it_reverses(ws, pm):
    org = load(ws)
    people = dict(org.people)
    people["KAM3"] = people["KAM3"].model_copy(update={"capacity": 1})
    kamcore.save(org.replace(people=people))
    briefs = ws / "handover" / "kam1"
    applied = changes.apply(changes.handover(load(ws), "KAM1", spread=True), briefs=briefs,
                            pm=pm)
    assert {p.name for p in applied.briefs} == {"KAM3.md", "NAM1.md"}
    (briefs / "NAM1.md").write_text("my own notes on top of the brief\n")  # edited: kept
    plan = changes.undo_plan(load(ws))
    assert plan.notes == ["withdraws 2 hand-over briefs of that change: "
                          "handover/kam1/KAM3.md, handover/kam1/NAM1.md"]
    undone = changes.apply(plan)
    assert undone.withdrawn == [briefs / "KAM3.md"]
    assert not (briefs / "KAM3.md").exists()
    assert (briefs / "NAM1.md").read_text() == "my own notes on top of the brief\n"
    assert undone.warnings == [f"hand-over brief {briefs / 'NAM1.md'} was edited since it was "
                               "written: left in place, remove it yourself if it no longer holds"]


def test_cli_undo_withdraws_briefs_and_removes_their_empty_folder(ws):
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    done = CliRunner().invoke(cli, ["leave", str(ws), "KAM1", "--to", "KAM3", "--yes"])
    assert done.exit_code == 0, done.output
    (folder,) = (ws / "handover").iterdir()
    dry = CliRunner().invoke(cli, ["undo", str(ws)])
    assert f"withdraws 1 hand-over brief of that change: handover/{folder.name}/KAM3.md" \
        in dry.output
    assert (folder / "KAM3.md").exists()
    undone = CliRunner().invoke(cli, ["undo", str(ws), "--yes"])
    assert undone.exit_code == 0, undone.output
    assert f"Hand-over briefs withdrawn (1): {folder / 'KAM3.md'}" in undone.stderr
    assert not folder.exists()


def test_cli_names_withdrawn_briefs_as_it_named_them_written(ws, monkeypatch):
    """From the folder above the org, the briefs written and withdrawn are both named from
    there (``org/handover/...``), not one relative and the other absolute."""
    monkeypatch.chdir(ws.parent)
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    done = CliRunner().invoke(cli, ["leave", ws.name, "KAM1", "--to", "KAM3", "--yes"])
    (folder,) = (ws / "handover").iterdir()
    shown = f"{ws.name}/handover/{folder.name}"
    assert f"Hand-over briefs (1) in {shown}/" in done.stderr
    undone = CliRunner().invoke(cli, ["undo", ws.name, "--yes"])
    assert f"Hand-over briefs withdrawn (1): {shown}/KAM3.md\n" in undone.stderr


def test_undo_never_removes_a_file_a_hostile_journal_names(ws, tmp_path):
    import hashlib
    import json

    outside = tmp_path / "precious.md"
    outside.write_text("keep me\n")
    inside = ws / "accounts.csv"
    changes.apply(changes.assign(load(ws), "K1", manager="KAM3"))
    journal = ws / "journal.jsonl"
    entry = json.loads(journal.read_text())
    entry["briefs"] = [
        {"path": str(outside), "sha256": hashlib.sha256(outside.read_bytes()).hexdigest()},
        {"path": "../precious.md", "sha256": hashlib.sha256(outside.read_bytes()).hexdigest()},
        {"path": "accounts.csv", "sha256": hashlib.sha256(inside.read_bytes()).hexdigest()}]
    journal.write_text(json.dumps(entry) + "\n")
    undone = changes.apply(changes.undo_plan(load(ws)), force=True)
    assert undone.withdrawn == []
    assert outside.read_text() == "keep me\n" and inside.exists()
    assert len(undone.warnings) == 3


def test_a_journal_entry_with_malformed_briefs_is_a_located_problem(ws):
    import json

    from kamcore.changes.journal import load_journal

    changes.apply(changes.assign(load(ws), "K1", manager="KAM3"))
    journal = ws / "journal.jsonl"
    entry = json.loads(journal.read_text())
    entry["briefs"] = ["handover/x.md"]
    journal.write_text(json.dumps(entry) + "\n")
    (problem,) = load_journal(ws).problems
    assert str(problem).startswith(f"{journal}:1: journal entry {entry['id']}: 'briefs' is not "
                                   "a list of hand-over briefs")


@settings(max_examples=200, deadline=None)
@given(parents=st.lists(st.integers(-1, 7), min_size=1, max_size=8),
       order=st.randoms(use_true_random=False))
def test_a_sections_parent_chain_is_its_path_to_the_root_whatever_the_loops(parents, order):
    """Briefs work each parent's chain out once for the accounts under it (brief._chain):
    the same text as the account's own path to the root, loops and missing parents too."""
    from kamcore import Account, Org
    from kamcore.changes.brief import _chain

    org = Org.build([Account(id=f"A{i}", name=f"N{i}", tier="regular",
                             parent=None if p < 0 else f"A{p}") for i, p in enumerate(parents)])
    ids = list(org.accounts)
    order.shuffle(ids)
    memo: dict = {}
    for aid in ids:
        assert _chain(org, aid, memo) == " > ".join(
            f"{org.accounts[a].name} ({a})" for a in reversed(org.path_to_root(aid)))
