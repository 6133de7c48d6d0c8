"""kamcore.changes: plans, refusals, apply, journal and undo, through the API and the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import kamcore
from kamcore import changes
from kamcore.cli.app import make_cli
from kamcore.errors import ChangeRefused, NotFound
from kamcore.plugins import get_plugin_manager
from tests.test_changes_support import load, save_small, snapshot


@pytest.fixture
def ws(tmp_path):
    return save_small(tmp_path / "org")


def run(*args: str):
    runner = CliRunner()
    return runner.invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


# -- plans ------------------------------------------------------------------------------------


def test_move_plan_shows_a_readable_diff_and_writes_nothing(ws):
    before = snapshot(ws)
    plan = changes.move(load(ws), "R2", to="K2")
    assert plan.diff() == (
        "Plan: move R2 --to K2\n"
        "\n"
        "Records (1):\n"
        "  ~ account R2 (Berlin shop 2)\n"
        "      parent: K1 -> K2\n"
        "\n"
        "Findings that appear: none\n"
        "Findings that disappear: none")
    assert [(c.kind, c.id, c.fields()) for c in plan.changes] == [
        ("account", "R2", [("parent", "K1", "K2")])]
    assert plan.refused_because is None
    assert snapshot(ws) == before


def test_move_notes_the_subtree_that_moves_along(ws):
    plan = changes.move(load(ws), "K1", to="N-FR")
    assert plan.notes == ["2 accounts below K1 move with it"]


def test_move_under_its_own_subtree_is_refused_up_front(ws):
    with pytest.raises(ChangeRefused, match="'R1' is below it"):
        changes.move(load(ws), "N-DE", to="R1")
    with pytest.raises(ChangeRefused, match="the account itself"):
        changes.move(load(ws), "K1", to="K1")


def test_unknown_ids_are_not_found_with_a_suggestion(ws):
    with pytest.raises(NotFound) as info:
        changes.move(load(ws), "K11", to="K1")
    assert info.value.hint == "did you mean 'K1'?"
    with pytest.raises(NotFound):
        changes.assign(load(ws), "K1", manager="NOBODY")


def test_a_change_that_adds_errors_is_refused_unless_forced(ws):
    before = snapshot(ws)
    plan = changes.move(load(ws), "K1", to="N-FR")
    added = sorted((f.code, f.subject) for f in plan.findings_added)
    assert added == [("KAM108", "K1"), ("KAM108", "R1"), ("KAM108", "R2")]
    assert plan.refused_because == "it adds 3 error findings"
    assert "Refused unless --force: it adds 3 error findings." in plan.diff()
    with pytest.raises(ChangeRefused, match="refused, it adds 3 error finding"):
        changes.apply(plan)
    assert snapshot(ws) == before
    assert not (ws / "journal.jsonl").exists()
    applied = changes.apply(plan, force=True, by="test")
    assert applied.entry is not None
    assert load(ws).accounts["K1"].parent == "N-FR"


def test_findings_that_disappear_are_listed(ws):
    changes.apply(changes.assign(load(ws), "K2", manager="AM1"), force=True)
    plan = changes.assign(load(ws), "K2", manager="KAM3")
    assert [(f.code, f.subject) for f in plan.findings_removed] == [("KAM107", "K2")]
    assert plan.findings_added == []
    assert "  - error   KAM107 K2: key account is managed by 'AM1', an AM; it needs one of " \
        "DIRECTOR, GAM, KAM, NAM, VP" in plan.diff()


def test_handover_to_one_successor(ws):
    plan = changes.handover(load(ws), "KAM1", to=["KAM3"])
    assert plan.receivers == {"KAM3": ["K1", "K2"]}
    assert [(c.id, c.fields()) for c in plan.changes] == [
        ("K1", [("manager", "KAM1", "KAM3")]), ("K2", [("manager", "KAM1", "KAM3")])]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "KAM1 holds 2 accounts: say who takes them"),
    ({"to": ["KAM3"], "spread": True}, "either --to or --spread"),
    ({"to": ["KAM1"]}, "cannot hand over to themselves"),
    ({"to": ["KAM3", "SUP1"]}, "SUP1 cannot take over accounts: support staff"),
])
def test_handover_needs_a_sensible_target(ws, kwargs, message):
    with pytest.raises(ChangeRefused, match=message):
        changes.handover(load(ws), "KAM1", **kwargs)


def test_leave_hands_over_marks_inactive_and_closes_the_management_tree(ws):
    plan = changes.leave(load(ws), "KAM1", spread=True)
    assert plan.receivers == {"KAM3": ["K1", "K2"]}
    assert plan.unplaced == []
    people = {c.id: c.fields() for c in plan.changes if c.kind == "person"}
    # One KAM took the whole book: the team goes with it.
    assert people == {"KAM1": [("active", True, False)],
                      "AM1": [("reports_to", "KAM1", "KAM3")],
                      "SUP1": [("reports_to", "KAM1", "KAM3")]}
    assert plan.notes == ["KAM1 holds 2 accounts and is marked inactive",
                          "2 direct reports now report to KAM3 (the successor)"]
    assert plan.refused_because is None


def test_leave_without_a_single_successor_moves_reports_to_the_leavers_manager(ws):
    org = load(ws)
    people = dict(org.people)
    people["KAM3"] = people["KAM3"].model_copy(update={"capacity": 1})
    org = org.replace(people=people)
    plan = changes.leave(org, "KAM1", spread=True)
    assert plan.receivers == {"KAM3": ["K1"], "NAM1": ["K2"]}
    assert plan.after.people["AM1"].reports_to == "NAM1"
    assert plan.notes[1] == "2 direct reports now report to NAM1"
    chosen = changes.leave(org, "KAM1", spread=True, reports_to="KAM2")
    assert chosen.after.people["SUP1"].reports_to == "KAM2"
    with pytest.raises(ChangeRefused, match="one of their own team"):
        changes.leave(org, "KAM1", spread=True, reports_to="AM1")


def test_leave_with_unplaceable_accounts_is_refused(ws):
    # GAM1 is the only GAM: nobody can take the global account, which would stay with an
    # inactive manager (KAM113).
    plan = changes.leave(load(ws), "GAM1", spread=True)
    assert [u.account for u in plan.unplaced] == ["G"]
    assert plan.unplaced[0].reason == "no active GAM can take a global account"
    assert [f.code for f in plan.errors_added] == ["KAM113"]


def test_leave_twice_is_refused(ws):
    changes.apply(changes.leave(load(ws), "KAM3"))
    with pytest.raises(ChangeRefused, match="already inactive"):
        changes.leave(load(ws), "KAM3")


def test_hire_adds_a_person_and_checks_values(ws):
    plan = changes.hire(load(ws), id="KAM9", name="Nia New", role="kam", reports_to="NAM1",
                        capacity=2)
    assert plan.diff().splitlines()[:4] == [
        "Plan: hire KAM9 --role kam --reports-to NAM1", "", "Records (1):",
        "  + person KAM9 (Nia New): role=kam, reports_to=NAM1, capacity=2, active=true"]
    with pytest.raises(ChangeRefused, match="already taken by Kim Key"):
        changes.hire(load(ws), id="KAM1", name="X", role="kam")
    with pytest.raises(ChangeRefused, match=r"email.*not an email address"):
        changes.hire(load(ws), id="X1", name="X", role="kam", email="nope")
    unknown_boss = changes.hire(load(ws), id="X2", name="X", role="am", reports_to="ZZZ")
    assert [f.code for f in unknown_boss.errors_added] == ["KAM121"]


# -- apply, journal, undo ---------------------------------------------------------------------


def test_apply_writes_only_touched_files_and_journals_before_and_after(ws, monkeypatch):
    monkeypatch.setenv("KAM_ACTOR", "ana")
    people_before = (ws / "people.csv").read_bytes()
    applied = changes.apply(changes.assign(load(ws), "K2", manager="KAM3"), reason="balance")
    assert [f.name for f in applied.files] == ["accounts.csv", "history.csv"]
    assert (ws / "people.csv").read_bytes() == people_before
    assert "K2,Globex Hamburg,key,N-DE,KAM3,DE" in (ws / "accounts.csv").read_text()
    [entry] = changes.read_journal(ws)
    assert entry == applied.entry
    assert entry["actor"] == "ana" and entry["reason"] == "balance"
    assert entry["command"] == "assign K2 --manager KAM3"
    assert entry["time"].endswith("Z") and entry["time"][:2] == "20"
    [change] = entry["changes"]
    assert change["kind"] == "account" and change["id"] == "K2"
    assert change["before"]["manager"] == "KAM1" and change["after"]["manager"] == "KAM3"
    assert change["before"] == load(ws).accounts["K2"].model_dump(mode="json") | {
        "manager": "KAM1"}
    assert not (ws / ".kam.txn").exists()


def test_by_overrides_the_environment(ws, monkeypatch):
    monkeypatch.setenv("KAM_ACTOR", "ana")
    applied = changes.apply(changes.assign(load(ws), "K2", manager="KAM3"), by="bo")
    assert applied.entry["actor"] == "bo"


def test_undo_reverses_changes_one_by_one_back_to_the_original_bytes(ws):
    original = snapshot(ws)
    changes.apply(changes.hire(load(ws), id="KAM9", name="Nia New", role="kam",
                               reports_to="NAM1"))
    changes.apply(changes.leave(load(ws), "KAM1", to=["KAM9"]))
    changes.apply(changes.move(load(ws), "R2", to="K2"))
    assert snapshot(ws) != original
    titles = []
    for _ in range(3):
        applied = changes.undo(ws, pm=get_plugin_manager(load_entrypoints=False))
        titles.append(applied.plan.title.split(" (")[1])
    assert titles == ["move R2 --to K2)", "leave KAM1 --to KAM9)",
                      "hire KAM9 --role kam --reports-to NAM1)"]
    assert snapshot(ws) == original
    entries = changes.read_journal(ws)
    assert [bool(e.get("undoes")) for e in entries] == [False] * 3 + [True] * 3
    assert entries[3]["undoes"] == entries[2]["id"]
    with pytest.raises(ChangeRefused, match="every journalled change is undone already"):
        changes.undo_plan(load(ws))


def test_undo_refuses_to_overwrite_later_hand_edits_unless_forced(ws):
    changes.apply(changes.assign(load(ws), "K2", manager="KAM3"))
    org = load(ws)
    edited = dict(org.accounts)
    edited["K2"] = edited["K2"].model_copy(update={"name": "Hamburg (renamed by hand)"})
    kamcore.save(org.replace(accounts=edited))
    plan = changes.undo_plan(load(ws))
    assert plan.conflicts == ["account K2"]
    with pytest.raises(ChangeRefused, match="records changed since that entry: account K2"):
        changes.apply(plan)
    changes.apply(plan, force=True)
    assert load(ws).accounts["K2"].name == "Globex Hamburg"


def test_undo_of_a_specific_entry_and_errors(ws):
    first = changes.apply(changes.assign(load(ws), "K2", manager="KAM3")).entry
    changes.apply(changes.assign(load(ws), "R3", manager="KAM2"))
    plan = changes.undo_plan(load(ws), entry=first["id"])
    assert [c.id for c in plan.changes] == ["K2"]
    undo_entry = changes.apply(plan).entry
    with pytest.raises(ChangeRefused, match="undone already"):
        changes.undo_plan(load(ws), entry=first["id"])
    with pytest.raises(ChangeRefused, match="is itself an undo"):
        changes.undo_plan(load(ws), entry=undo_entry["id"])
    with pytest.raises(ChangeRefused, match="no journal entry 'nope'"):
        changes.undo_plan(load(ws), entry="nope")


def test_apply_replans_against_the_current_files(ws):
    stale = changes.hire(load(ws), id="KAM9", name="Nia New", role="kam", reports_to="NAM1")
    changes.apply(changes.hire(load(ws), id="AM9", name="Al Other", role="am",
                               reports_to="KAM2"))
    applied = changes.apply(stale)
    assert not applied.replanned  # same records touched, so the same change
    assert {"KAM9", "AM9"} <= set(load(ws).people)


def test_nothing_to_change_writes_nothing(ws):
    applied = changes.apply(changes.assign(load(ws), "K2", manager="KAM1"))
    assert applied.entry is None and applied.files == []
    assert not (ws / "journal.jsonl").exists()


def test_corrupt_journal_line_is_named(ws):
    (ws / "journal.jsonl").write_text(
        '{"id": "a", "time": "t", "command": "c", "changes": []}\nnot json\n')
    with pytest.raises(kamcore.WorkspaceError) as info:
        changes.read_journal(ws)
    assert str(info.value.location).endswith("journal.jsonl:2")


def test_inline_workspaces_are_changed_in_kam_yaml(tmp_path):
    folder = tmp_path / "inline"
    folder.mkdir()
    (folder / "kam.yaml").write_text(
        "name: Tiny\ncurrency: EUR\naccounts:\n"
        "  - {id: A, name: Alpha, tier: key, manager: K1, country: DE}\n"
        "people:\n  - {id: K1, name: Kim, role: kam}\n  - {id: K2, name: Kai, role: kam}\n")
    applied = changes.apply(changes.assign(load(folder), "A", manager="K2"))
    assert [f.name for f in applied.files] == ["kam.yaml", "history.csv"]
    assert load(folder).accounts["A"].manager == "K2"
    changes.undo(folder, pm=get_plugin_manager(load_entrypoints=False))
    assert load(folder).accounts["A"].manager == "K1"


# -- command line -----------------------------------------------------------------------------


def test_cli_move_dry_run_prints_the_plan_and_writes_nothing(ws):
    before = snapshot(ws)
    result = run("move", str(ws), "R2", "--to", "K2")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Plan: move R2 --to K2\n\nRecords (1):\n  ~ account R2 (Berlin shop 2)\n"
        "      parent: K1 -> K2\n\nFindings that appear: none\nFindings that disappear: none\n")
    assert result.stderr == "Dry run: nothing written. Re-run with --apply to write it.\n"
    assert snapshot(ws) == before


def test_cli_refuses_errors_with_exit_1_and_forces(ws):
    result = run("move", str(ws), "K1", "--to", "N-FR", "--apply")
    assert result.exit_code == 1
    assert "Error: [KAM-C001] move K1 --to N-FR: refused, it adds 3 error findings" \
        in result.stderr
    assert not (ws / "journal.jsonl").exists()
    result = run("move", str(ws), "K1", "--to", "N-FR", "--apply", "--force")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Applied: wrote accounts.csv, history.csv; journal entry ")


def test_cli_apply_json_and_log(ws):
    result = run("assign", str(ws), "K2", "--manager", "KAM3", "--yes", "--by", "ana",
                 "--reason", "spread the load", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["plan"]["changes"][0]["after"]["manager"] == "KAM3"
    entry = data["applied"]["entry"]
    log = run("log", str(ws))
    assert log.exit_code == 0
    lines = log.stdout.splitlines()
    assert lines[0].startswith(f"#1 {entry}  20") and lines[0].endswith(
        "  ana  assign K2 --manager KAM3")
    assert lines[1:] == ["    reason: spread the load", "    ~ account K2 (Globex Hamburg)",
                         "        manager: KAM1 -> KAM3"]
    as_json = json.loads(run("log", str(ws), "--format", "json").stdout)
    assert [e["id"] for e in as_json] == [entry]
    assert run("undo", str(ws), "--yes").exit_code == 0
    assert "(undone)" in run("log", str(ws)).stdout.splitlines()[0]


def test_cli_leave_with_spread_writes_briefs(ws):
    result = run("leave", str(ws), "KAM1", "--spread", "--apply", "--by", "ana")
    assert result.exit_code == 0, result.output
    assert "KAM3 (Kai Key, KAM) receives 2: K1, K2" in result.stdout
    [folder] = (ws / "handover").iterdir()
    assert folder.name.endswith("-KAM1")
    assert [p.name for p in folder.iterdir()] == ["KAM3.md"]


def test_cli_hire_and_errors(ws):
    ok = run("hire", str(ws), "--id", "AM7", "--name", "Ari Am", "--role", "AM",
             "--reports-to", "KAM2", "--capacity", "5", "--yes")
    assert ok.exit_code == 0, ok.output
    assert load(ws).people["AM7"].capacity == 5
    bad_role = run("hire", str(ws), "--id", "X", "--name", "X", "--role", "boss")
    assert bad_role.exit_code == 2
    missing = run("assign", str(ws), "K2", "--manager", "KAM33")
    assert missing.exit_code == 2
    assert "no person with id 'KAM33'" in missing.stderr
    assert "Traceback" not in missing.output
    usage = run("move", str(ws), "K2")
    assert usage.exit_code == 2 and "either --to PARENT or --root" in usage.stderr


def test_cli_undo_with_nothing_to_undo_exits_1(ws):
    result = run("undo", str(ws))
    assert result.exit_code == 1
    assert "nothing to undo: the journal is empty" in result.stderr
    assert run("log", str(ws)).stdout == "No changes journalled yet.\n"


def test_a_workspace_with_duplicate_ids_is_not_changed(ws):
    text = (ws / "people.csv").read_text()
    (ws / "people.csv").write_text(text + "KAM3,Kai Again,kam,NAM1,3,,true,\n")
    before = snapshot(ws)
    with pytest.raises(ChangeRefused, match="1 record id is used twice") as info:
        changes.assign(load(ws), "K2", manager="KAM3")
    assert str(info.value.location).endswith("people.csv:12")
    assert snapshot(ws) == before


def test_cli_log_limit_keeps_entry_numbers(ws):
    for manager in ("KAM3", "KAM1", "KAM3"):
        assert run("assign", str(ws), "K2", "--manager", manager, "--yes").exit_code == 0
    result = run("log", str(ws), "--limit", "1")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("#3 ") and lines[0].endswith("assign K2 --manager KAM3")
    assert lines[1:] == ["    ~ account K2 (Globex Hamburg)", "        manager: KAM1 -> KAM3"]


def test_moving_to_the_same_parent_changes_nothing(ws):
    plan = changes.move(load(ws), "K1", to="N-DE")
    assert plan.is_empty and plan.notes == []
    assert plan.diff().splitlines()[:2] == ["Plan: move K1 --to N-DE", "  nothing to change"]
    assert changes.apply(plan).entry is None


def test_a_journal_without_final_newline_still_gets_whole_lines(ws):
    first = changes.apply(changes.assign(load(ws), "K2", manager="KAM3")).entry
    journal = ws / "journal.jsonl"
    journal.write_text(journal.read_text().rstrip("\n"))
    changes.apply(changes.assign(load(ws), "K2", manager="KAM1"))
    entries = changes.read_journal(ws)
    assert len(entries) == 2 and entries[0]["id"] == first["id"]


def test_a_stale_plan_is_recomputed_and_says_so(ws):
    stale = changes.handover(load(ws), "KAM1", spread=True)
    assert stale.receivers == {"KAM3": ["K1", "K2"]}
    org = load(ws)  # meanwhile someone lowers KAM3's capacity by hand
    people = dict(org.people)
    people["KAM3"] = people["KAM3"].model_copy(update={"capacity": 1})
    kamcore.save(org.replace(people=people))
    applied = changes.apply(stale)
    assert applied.replanned
    assert applied.plan.receivers == {"KAM3": ["K1"], "NAM1": ["K2"]}
    assert load(ws).accounts["K2"].manager == "NAM1"


def test_cli_json_of_a_refused_plan(ws):
    result = run("move", str(ws), "K1", "--to", "N-FR", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["applied"] is None
    assert data["plan"]["refused_because"] == "it adds 3 error findings"
    assert [f["code"] for f in data["plan"]["findings_added"]] == ["KAM108"] * 3
