"""Time: history.csv, dated changes, pending changes, as-of reads and the KAM18x rules."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import kamcore
from kamcore import changes
from kamcore.cli.app import make_cli
from kamcore.errors import ChangeRefused, KamError, WorkspaceError
from kamcore.plugins import get_plugin_manager
from kamcore.workspace.tables import read_workspace
from tests.test_changes_support import load, save_small, snapshot

HEADER = "record,field,value,valid_from,valid_to,entry\n"


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_TODAY", "2026-06-15")
    return save_small(tmp_path / "org")


def run(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


def history_of(ws) -> list[list[str]]:
    lines = (ws / "history.csv").read_text().splitlines()
    assert lines[0] == HEADER.strip()
    return [line.split(",") for line in lines[1:]]


def parent_of(ws, account: str, as_of: str | None = None) -> str | None:
    return load_as_of(ws, as_of).accounts[account].parent


def load_as_of(ws, as_of):
    return kamcore.load(ws, pm=get_plugin_manager(load_entrypoints=False), as_of=as_of)


# -- dated changes ------------------------------------------------------------------------------


def test_a_change_today_writes_history_in_the_same_commit(ws):
    applied = changes.apply(changes.move(load(ws), "R2", to="K2"))
    entry = applied.entry
    assert [f.name for f in applied.files] == ["accounts.csv", "history.csv"]
    assert history_of(ws) == [["R2", "parent", "K1", "", "2026-06-15", entry["id"]],
                              ["R2", "parent", "K2", "2026-06-15", "", entry["id"]]]
    assert entry["effective"] == "2026-06-15"
    assert entry["history"][0]["before"] == []
    assert parent_of(ws, "R2") == "K2"
    assert parent_of(ws, "R2", "2026-06-14") == "K1"


def test_a_future_change_is_pending_then_in_force_without_anyone_running_anything(
        ws, monkeypatch):
    accounts_before = (ws / "accounts.csv").read_bytes()
    result = run("move", str(ws), "R2", "--to", "K2", "--effective", "2026-09-01", "--apply")
    assert result.exit_code == 0, result.output
    assert "Effective 2026-09-01 (pending until then)." in result.stdout
    assert (ws / "accounts.csv").read_bytes() == accounts_before  # not in force yet
    assert parent_of(ws, "R2") == "K1"
    assert parent_of(ws, "R2", "2026-09-01") == "K2"
    pending = run("log", str(ws), "--pending", "--format", "json")
    assert [e["effective"] for e in json.loads(pending.stdout)] == ["2026-09-01"]
    monkeypatch.setenv("KAM_TODAY", "2026-09-02")
    assert parent_of(ws, "R2") == "K2"  # in force by itself
    assert run("log", str(ws), "--pending").stdout == "No pending changes.\n"
    tree = run("tree", str(ws), "--account", "K2")
    assert "R2" in tree.stdout
    # the next change writes the files as of today: the pending move is caught up
    changes.apply(changes.assign(load_as_of(ws, None), "K2", manager="KAM3"))
    assert "R2,Berlin shop 2,regular,K2," in (ws / "accounts.csv").read_text()
    assert run("validate", str(ws), "--select", "KAM18").exit_code == 0


def test_a_back_dated_change_keeps_later_history(ws):
    changes.apply(changes.move(load(ws), "R2", to="K2"))                       # 2026-06-15
    changes.apply(changes.move(load_as_of(ws, "2026-01-01"), "R2", to="N-DE"))  # back-dated
    assert parent_of(ws, "R2", "2025-12-31") == "K1"
    assert parent_of(ws, "R2", "2026-03-01") == "N-DE"
    assert parent_of(ws, "R2") == "K2"
    assert [(r[2], r[3], r[4]) for r in history_of(ws)] == [
        ("K1", "", "2026-01-01"), ("N-DE", "2026-01-01", "2026-06-15"),
        ("K2", "2026-06-15", "")]


def test_handover_leave_and_hire_are_dated(ws):
    result = run("hire", str(ws), "--id", "KAM9", "--name", "Nia New", "--role", "kam",
                 "--reports-to", "NAM1", "--effective", "2026-07-01", "--yes")
    assert result.exit_code == 0, result.output
    assert history_of(ws)[0][:5] == ["KAM9", "exists", "true", "2026-07-01", ""]
    assert "KAM9" not in load_as_of(ws, None).people       # not hired yet
    assert "KAM9" in load_as_of(ws, "2026-07-01").people
    result = run("leave", str(ws), "KAM1", "--to", "KAM9", "--effective", "2026-07-01",
                 "--yes", "--no-briefs")
    assert result.exit_code == 0, result.output
    then = load_as_of(ws, "2026-07-01")
    assert then.accounts["K1"].manager == "KAM9" and not then.people["KAM1"].active
    now = load_as_of(ws, None)
    assert now.accounts["K1"].manager == "KAM1" and now.people["KAM1"].active


def test_a_change_dated_before_the_record_existed_is_refused(ws):
    changes.apply(changes.hire(load(ws), id="KAM9", name="Nia", role="kam",
                               reports_to="NAM1"))
    before = snapshot(ws)
    org = load_as_of(ws, "2026-01-01")
    assert "KAM9" not in org.people
    result = run("assign", str(ws), "K2", "--manager", "KAM9", "--effective", "2026-01-01")
    assert result.exit_code == 2
    assert "no person with id 'KAM9'" in result.stderr
    assert snapshot(ws) == before


def test_undo_of_a_pending_change_puts_history_back(ws):
    original = (ws / "accounts.csv").read_bytes()
    run("move", str(ws), "R2", "--to", "K2", "--effective", "2026-09-01", "--yes")
    result = run("undo", str(ws), "--yes")
    assert result.exit_code == 0, result.output
    assert history_of(ws) == []
    assert (ws / "accounts.csv").read_bytes() == original
    assert parent_of(ws, "R2", "2026-09-01") == "K1"


def test_bad_effective_dates_are_usage_errors(ws):
    result = run("move", str(ws), "R2", "--to", "K2", "--effective", "2026-02-30")
    assert result.exit_code == 2
    assert "'2026-02-30' is not a date" in result.stderr
    assert "YYYY-MM-DD" in result.stderr


# -- as of ----------------------------------------------------------------------------------------


def test_as_of_everywhere_sees_the_same_tree(ws):
    run("move", str(ws), "R2", "--to", "K3", "--effective", "2026-09-01", "--yes", "--force")
    for args in (["tree", "--account", "K3"], ["rollup", "-m", "revenue", "--format", "csv"],
                 ["export", "--format", "csv"], ["duties", "--account", "R2"],
                 ["coverage", "--format", "json"]):
        now = run(args[0], str(ws), *args[1:])
        later = run(args[0], str(ws), *args[1:], "--as-of", "2026-09-01")
        assert now.exit_code == later.exit_code == 0, (args, later.output)
        assert now.stdout != later.stdout or args[0] in ("duties", "coverage"), args
    rollup = run("rollup", str(ws), "-m", "revenue", "--format", "json", "--as-of",
                 "2026-09-01")
    rows = {r["id"]: r for r in json.loads(rollup.stdout)["rows"]}
    assert rows["K3"]["revenue_total"] == 20 + 3 + 7
    assert run("chart", str(ws), "-o", str(ws.parent / "c.html"), "--as-of",
               "2026-09-01").exit_code == 0


def test_python_api_as_of(ws):
    changes.apply(changes.move(load_as_of(ws, "2026-09-01"), "R2", to="K2"))
    assert kamcore.load(ws, as_of=date(2026, 9, 1)).accounts["R2"].parent == "K2"
    assert kamcore.load(ws, as_of="2026-08-31").as_of == date(2026, 8, 31)
    result = kamcore.rollup(ws, ["revenue"], as_of="2026-09-01")
    assert {r["id"]: r["revenue_total"] for r in result.rows}["K2"] == 10 + 7
    with pytest.raises(KamError, match="'9/1/2026' is not a date"):
        kamcore.load(ws, as_of="9/1/2026")


@pytest.mark.parametrize("messy", [False, True])
def test_as_of_vectorised_matches_a_plain_reading(tmp_path, monkeypatch, messy):
    """Random histories, overlaps included: the tables as of a day hold, for every record and
    field, the value of the covering row that starts last, else the file's value. Messy cells
    (spaces around, field names in capitals) read as the clean ones."""
    monkeypatch.setenv("KAM_TODAY", "2026-06-15")
    ws = save_small(tmp_path / "org")
    rng = random.Random(13)
    accounts = ["K1", "K2", "R1", "R2", "R3", "K3"]
    parents = ["K1", "K2", "K3", "N-DE", "N-FR", ""]
    people = ["KAM1", "KAM2", "KAM3", "AM1"]
    rows = []
    for _ in range(300):
        start = date(2025, 1, 1) + timedelta(days=rng.randrange(700))
        end = start + timedelta(days=rng.randrange(1, 200))
        if rng.random() < 0.5:
            record, field, value = rng.choice(accounts), "parent", rng.choice(parents)
        else:
            record, field = rng.choice(people), "capacity"
            value = str(rng.randrange(10))
        rows.append((record, field, value, start.isoformat(),
                     "" if rng.random() < 0.2 else end.isoformat()))

    def cell(text: str) -> str:
        return f" {text}\t" if messy and rng.random() < 0.5 else text

    (ws / "history.csv").write_text(HEADER + "".join(
        f"{cell(r)},{cell(f.upper() if messy and rng.random() < 0.3 else f)},{cell(v)},{s},"
        f"{e},\n" for r, f, v, s, e in rows))
    files = read_workspace(ws, history=False)
    for day in [date(2025, 1, 1) + timedelta(days=d) for d in range(0, 800, 37)]:
        tables = read_workspace(ws, as_of=day)
        got_parent = dict(zip(tables.accounts.ids.to_pylist(),
                              tables.accounts.table.column("parent").to_pylist(), strict=True))
        got_capacity = dict(zip(tables.people.ids.to_pylist(),
                                tables.people.table.column("capacity").to_pylist(),
                                strict=True))
        want_parent = dict(zip(files.accounts.ids.to_pylist(),
                               files.accounts.table.column("parent").to_pylist(), strict=True))
        want_capacity = dict(zip(files.people.ids.to_pylist(),
                                 files.people.table.column("capacity").to_pylist(),
                                 strict=True))
        covering = sorted((r for r in rows if r[3] <= day.isoformat()
                           and (not r[4] or day.isoformat() < r[4])), key=lambda r: r[3])
        for record, field, value, _, _ in covering:  # the latest start wins
            if field == "parent":
                want_parent[record] = value or None
            else:
                want_capacity[record] = int(value)
        assert got_parent == want_parent, day
        assert got_capacity == want_capacity, day


# -- bad input -------------------------------------------------------------------------------------


def test_bad_history_rows_are_located_errors_and_nothing_is_written(ws):
    (ws / "history.csv").write_text(
        HEADER + "K1,parent,N-DE,2026-01-01,,\nK2,manager,KAM3,2026-13-01,,\n"
        "K2,tier,key,2026-05-01,2026-04-01,\nGHOST,parent,K1,2026-01-01,,\n"
        "K1,colour,red,2026-01-01,,\n")
    before = snapshot(ws)
    tree = run("tree", str(ws))
    assert tree.exit_code == 2
    assert f"{ws / 'history.csv'}:3 (column 'valid_from'): history of 'K2': '2026-13-01' is " \
        "not a date" in tree.stderr
    move = run("move", str(ws), "R2", "--to", "K2", "--yes")
    assert move.exit_code == 2
    assert snapshot(ws) == before
    result = run("validate", str(ws), "--format", "json")
    assert result.exit_code == 1
    found = sorted((f["code"], f["line"]) for f in json.loads(result.stdout)["findings"]
                   if f["code"].startswith("KAM18"))
    assert found == [("KAM180", 6), ("KAM181", 3), ("KAM182", 4), ("KAM183", 5)]
    with pytest.raises(WorkspaceError):
        kamcore.load(ws)


def test_overlaps_gaps_and_rows_before_a_record_existed_are_findings(ws):
    (ws / "history.csv").write_text(
        HEADER + "R2,parent,K1,2026-01-01,2026-05-01,\nR2,parent,K2,2026-04-01,,\n"
        "K1,manager,,2026-02-01,2026-03-01,\nKAM3,active,false,2026-01-01,2026-02-01,\n"
        "K2,manager,KAM3,2026-01-15,2026-06-01,\nKAM3,exists,true,2025-06-01,,\n"
        "KAM3,capacity,2,2025-01-01,2025-06-01,\n")
    result = run("validate", str(ws), "--format", "json", "--select", "KAM18")
    findings = [(f["code"], f["line"], f["subject"]) for f in json.loads(result.stdout)[
        "findings"]]
    assert sorted(findings) == [("KAM184", 3, "R2"), ("KAM185", 4, "K1"), ("KAM185", 6, "K2"),
                                ("KAM186", 7, "R2"), ("KAM187", 8, "KAM3")]


def test_hand_edits_are_noticed_and_a_command_dates_them(ws):
    changes.apply(changes.move(load(ws), "R2", to="K2"))
    text = (ws / "accounts.csv").read_text().replace("R2,Berlin shop 2,regular,K2,",
                                                     "R2,Berlin shop 2,regular,K3,")
    (ws / "accounts.csv").write_text(text)
    result = run("validate", str(ws), "--select", "KAM186")
    assert result.exit_code == 0  # a warning
    assert "KAM186 warning R2: parent is 'K3' in accounts.csv but history.csv says 'K2': a " \
        "change nobody dated [parent]" in result.stdout
    dry = run("history", str(ws), "--date-edits", "--effective", "2026-06-10")
    assert "account  R2      parent  K3       K2" in dry.stdout
    assert "Dry run" in dry.stderr
    done = run("history", str(ws), "--date-edits", "--effective", "2026-06-15", "--yes")
    assert done.exit_code == 0, done.output
    assert "KAM186" not in run("validate", str(ws), "--select", "KAM186").stdout
    assert parent_of(ws, "R2") == "K3"
    assert parent_of(ws, "R2", "2026-06-14") == "K1"
    later = run("history", str(ws), "--date-edits", "--effective", "2026-07-01")
    assert later.exit_code == 1 and "after today" in later.stderr


def test_schema_and_history_listing(ws):
    schema = json.loads(run("schema", "--record", "history").stdout)
    assert schema["required"] == ["record", "field"]
    from kamcore.workspace.history import FIELDS

    assert schema["properties"]["field"]["enum"] == list(FIELDS)
    assert "history" in json.loads(run("schema").stdout)
    changes.apply(changes.move(load(ws), "R2", to="K2"))
    listed = json.loads(run("history", str(ws), "--record", "R2", "--format", "json").stdout)
    assert [(r["value"], r["valid_from"], r["valid_to"]) for r in listed] == [
        ("K1", "", "2026-06-15"), ("K2", "2026-06-15", "")]


def test_today_can_be_pinned_and_a_bad_pin_is_an_error(ws, monkeypatch):
    monkeypatch.setenv("KAM_TODAY", "soon")
    with pytest.raises(ChangeRefused.__mro__[1], match="KAM_TODAY 'soon' is not a date"):
        kamcore.load(ws)


def test_manager_gaps_follow_tier_life_and_people_over_time(ws):
    """KAM185 reads tier, manager, the account's life and the manager's over time: a regular
    account made key for a while needs a manager then; one that was regular then does not; a
    manager who is in no people file, not hired yet, or away leaves a gap, located on the row
    that makes it."""
    (ws / "history.csv").write_text(
        HEADER
        + "R2,tier,key,2026-01-01,2026-03-01,\n"          # 2: R2 key for two months...
        "R2,manager,,2026-01-01,2026-02-01,\n"            # 3: ...without manager in January
        "K1,tier,regular,2025-01-01,2025-06-01,\n"        # 4: K1 regular then...
        "K1,manager,,2025-01-01,2025-06-01,\n"            # 5: ...so no manager is fine
        "K2,manager,GHOST,2026-01-01,2026-02-01,\n"       # 6: nobody of ours
        "K2,manager,KAM3,2026-02-01,,\n"                  # 7: KAM3, hired in March
        "KAM3,exists,true,2026-03-01,,\n"                 # 8
        "KAM2,active,false,2026-04-01,2026-05-01,\n")     # 9: K3's manager (files) away
    result = run("validate", str(ws), "--format", "json", "--select", "KAM185")
    found = sorted((f["subject"], f["line"], f["message"]) for f in json.loads(result.stdout)[
        "findings"])
    assert found == [
        ("K2", 6, "no active manager from 2026-01-01 to 2026-02-01: 'GHOST' is in no people "
                  "file"),
        ("K2", 7, "no active manager from 2026-02-01 to 2026-03-01: 'KAM3' is not in the org "
                  "then (history.csv: exists)"),
        ("K3", 9, "no active manager from 2026-04-01 to 2026-05-01: 'KAM2' is inactive then"),
        ("R2", 3, "no active manager from 2026-01-01 to 2026-02-01: no manager is named")]


def test_kam_today_is_documented_and_a_bad_one_stops_the_cli(ws, monkeypatch):
    """KAM_TODAY is a user setting: kam --help names it, and a bad value is a usage error with
    the value and an example, not a traceback."""
    assert "KAM_TODAY=YYYY-MM-DD" in run("--help").output
    monkeypatch.setenv("KAM_TODAY", "2026-02-30")
    result = run("tree", str(ws))
    assert result.exit_code == 2
    assert "KAM_TODAY '2026-02-30' is not a date" in result.output
    assert "YYYY-MM-DD" in result.output


# -- the reader's short cuts give the plain answers ---------------------------------------------


@settings(max_examples=60, deadline=None)
@given(runs=st.lists(st.tuples(st.sampled_from(["A1", "A2", "b", " A1", None]),
                               st.integers(1, 3000)), min_size=1, max_size=12))
def test_encoding_runs_of_equal_cells_gives_the_dictionary_encoding(runs):
    """A column of runs (a record's rows together) hashes only each run's first cell: the
    codes and the distinct values are those of hashing every cell."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.workspace.history import _encode

    column = pa.array([value for value, length in runs for _ in range(length)], pa.string())
    code, values = _encode(column)
    plain = pc.dictionary_encode(column)
    assert values.equals(plain.dictionary)
    assert np.array_equal(code, plain.indices.fill_null(-1).to_numpy(zero_copy_only=False))


@pytest.mark.parametrize("shuffled", [False, True])
def test_day_lookups_order_rows_by_field_record_start_and_row(tmp_path, shuffled):
    """The rows a day scans are ordered by (field, record, valid_from, file row) whether the
    file comes in that order (runs: merged) or shuffled (sorted), and each field's rows are
    one slice of that order."""

    from kamcore.workspace.history import FIELDS, _field_run, _keys, read_history

    rng = random.Random(7)
    rows = [(f"A{rng.randrange(300)}", rng.choice(["parent", "manager", "tier"]),
             date(2024, 1, 1) + timedelta(days=rng.randrange(900))) for _ in range(4000)]
    if not shuffled:
        rows.sort(key=lambda r: (list(FIELDS).index(r[1]), int(r[0][1:]), r[2]))
    (tmp_path / "history.csv").write_text(HEADER + "".join(
        f"{r},{f},{'key' if f == 'tier' else 'A1'},{d.isoformat()},,\n" for r, f, d in rows))
    history = read_history(tmp_path)
    assert history is not None
    order, record, records = _keys(history)
    code = {name: c for c, name in enumerate(records.to_pylist())}  # first appearance
    assert [code[r] for r, _, _ in rows] == record.tolist()
    fields = list(FIELDS)
    want = sorted(range(len(rows)), key=lambda i: (fields.index(rows[i][1]), code[rows[i][0]],
                                                   rows[i][2], i))
    assert order.tolist() == want
    for name in fields:
        assert _field_run(history, name)[0].tolist() == [i for i in want if rows[i][1] == name]
