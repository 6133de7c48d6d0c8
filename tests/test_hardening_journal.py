"""A corrupt or hand-edited journal.jsonl (issue 10): every entry is checked when read; `kam log`
lists the sound entries and warns about the bad lines with file and line; `kam undo` refuses a
bad entry (exit 2) and never crashes."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamcore import changes
from kamcore.changes.journal import load_journal
from kamcore.cli.app import make_cli
from kamcore.errors import KamError, WorkspaceError
from kamcore.plugins import get_plugin_manager
from tests.test_changes_support import load, save_small


def kam(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """The small org with two changes journalled."""
    folder = save_small(tmp_path / "org")
    assert kam("assign", str(folder), "K2", "--manager", "KAM3", "--apply").exit_code == 0
    assert kam("assign", str(folder), "K1", "--manager", "KAM3", "--apply").exit_code == 0
    return folder


def lines(ws: Path) -> list[dict]:
    return [json.loads(line) for line in (ws / "journal.jsonl").read_text().splitlines()]


def write(ws: Path, rows: list[object], tail: str = "") -> None:
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)
    (ws / "journal.jsonl").write_text(text + tail)


def without(entry: dict, key: str) -> dict:
    return {k: v for k, v in entry.items() if k != key}


def with_(entry: dict, **changes: object) -> dict:
    return {**entry, **changes}


BAD = {
    "not json": lambda e: "{not json",
    "a list": lambda e: "[1, 2]",
    "no id": lambda e: without(e, "id"),
    "no time": lambda e: without(e, "time"),
    "no command": lambda e: without(e, "command"),
    "id a number": lambda e: with_(e, id=7),
    "changes a string": lambda e: with_(e, changes="oops"),
    "changes strings": lambda e: with_(e, changes=["a", "b"]),
    "changes missing": lambda e: without(e, "changes"),
    "kind unknown": lambda e: with_(e, changes=[{**e["changes"][0], "kind": "planet"}]),
    "before a string": lambda e: with_(e, changes=[{**e["changes"][0], "before": "x"}]),
    "after a list": lambda e: with_(e, changes=[{**e["changes"][0], "after": [1]}]),
}


@pytest.mark.parametrize("how", list(BAD))
def test_log_lists_the_sound_entries_and_names_the_bad_line(ws, how):
    first, second = lines(ws)
    write(ws, [first, BAD[how](second)])
    result = kam("log", str(ws))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "bug in kamcore" not in result.output
    assert f"#1 {first['id']}" in result.output
    assert "journal.jsonl:2" in result.output and "hint:" in result.output


@pytest.mark.parametrize("how", list(BAD))
def test_undo_refuses_a_bad_last_entry(ws, how):
    first, second = lines(ws)
    write(ws, [first, BAD[how](second)])
    before = (ws / "accounts.csv").read_bytes()
    for args in (["undo", str(ws)], ["undo", str(ws), "--apply"]):
        result = kam(*args)
        assert result.exit_code == 2, result.output
        assert "journal.jsonl:2" in result.output and "undo refused" in result.output
    assert (ws / "accounts.csv").read_bytes() == before


def test_undo_of_a_sound_entry_before_a_bad_line_is_refused_too(ws):
    first, second = lines(ws)
    write(ws, [first, without(second, "id")])
    result = kam("undo", str(ws), "--entry", first["id"], "--apply")
    assert result.exit_code == 2 and "journal.jsonl:2" in result.output


def test_a_bad_line_before_the_last_change_does_not_block_its_undo(ws):
    _first, second = lines(ws)
    write(ws, ["garbage", second])
    result = kam("undo", str(ws), "--apply")
    assert result.exit_code == 0, result.output


def test_a_before_that_is_not_a_valid_record_is_refused_with_its_line(ws):
    first, second = lines(ws)
    write(ws, [first, with_(second, changes=[{**second["changes"][0],
                                              "before": {"id": "K1", "tier": "planet"}}])])
    result = kam("undo", str(ws), "--apply")
    assert result.exit_code == 2, result.output
    assert "journal.jsonl:2" in result.output and "not a valid record" in result.output


def test_a_truncated_last_line_is_named_as_cut_short(ws):
    first, second = lines(ws)
    write(ws, [first], tail=json.dumps(second)[:40])
    result = kam("log", str(ws))
    assert result.exit_code == 1
    assert "journal.jsonl:2" in result.output and "cut short" in result.output
    assert kam("undo", str(ws)).exit_code == 2
    # the next change starts on a line of its own; the cut line stays reported
    assert kam("assign", str(ws), "K2", "--manager", "KAM1", "--apply").exit_code == 0
    journal = load_journal(ws)
    assert [p.location.line for p in journal.problems] == [2]
    assert len(journal.entries) == 2


def test_a_duplicated_id_is_a_bad_line(ws):
    first, second = lines(ws)
    write(ws, [first, with_(second, id=first["id"])])
    [problem] = load_journal(ws).problems
    assert "used by an earlier line" in problem.message and problem.location.line == 2


def test_read_journal_lists_every_bad_line(ws):
    first, second = lines(ws)
    write(ws, ["x", first, "y", second])
    with pytest.raises(WorkspaceError) as info:
        changes.read_journal(ws)
    assert str(info.value.location).endswith("journal.jsonl:1") and "line 3" in str(info.value)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    st.text(max_size=40),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                 lambda kids: st.lists(kids, max_size=3)
                 | st.dictionaries(st.sampled_from(["id", "time", "command", "changes", "kind",
                                                    "before", "after", "undoes", "actor"]),
                                   kids, max_size=5), max_leaves=12).map(json.dumps)),
    max_size=5))
def test_random_journals_never_crash_log_or_undo(ws, rows):
    write(ws, rows)
    try:
        journal = load_journal(ws)
    except KamError:
        return
    text = (ws / "journal.jsonl").read_bytes().decode()
    assert len(journal.entries) + len(journal.problems) == sum(
        1 for line in text.split("\n") if line.strip())
    for args in (["log", str(ws)], ["log", str(ws), "--format", "json"], ["undo", str(ws)]):
        result = kam(*args)
        assert result.exit_code in (0, 1, 2), (args, rows, result.output)
    with contextlib.suppress(KamError):
        changes.undo_plan(load(ws))
