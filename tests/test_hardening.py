"""Hostile files and ids (issue 10): nothing is written outside the workspace or the named
output, every CSV output goes through one writer, imports list every line they do not import,
and a plugin that raises SystemExit is a plugin fault."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamcore import changes
from kamcore.changes.brief import default_brief_dir, write_briefs
from kamcore.changes.journal import read_journal
from kamcore.changes.txn import LOCK_FILE, MANIFEST, TXN_DIR, commit, recover, workspace_lock
from kamcore.cli.app import make_cli
from kamcore.errors import WorkspaceError
from kamcore.models import Person
from kamcore.paths import safe_file_name
from kamcore.plugins import get_plugin_manager
from tests.test_changes_support import load, save_small, small_org


def kam(*args: str):
    return CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)), list(args))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return save_small(tmp_path / "org")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the workspace that nothing may touch."""
    target = tmp_path / "outside.txt"
    target.write_text("precious\n")
    return target


def assert_untouched(path: Path) -> None:
    assert path.read_text() == "precious\n"


# -- hand-over briefs --------------------------------------------------------------------------

def _org_with_ids(leaver: str, receiver: str, folder: Path):
    """The small org with KAM1 renamed ``leaver`` and KAM3 renamed ``receiver`` (in memory:
    ids the workspace reader would refuse still reach the brief writer through the API)."""
    org = small_org()
    rename = {"KAM1": leaver, "KAM3": receiver}
    people = {}
    for pid, person in org.people.items():
        update = {"id": rename.get(pid, pid)}
        if person.reports_to in rename:
            update["reports_to"] = rename[person.reports_to]
        people[update["id"]] = Person(**{**person.model_dump(), **update})
    accounts = {aid: a.model_copy(update={"manager": rename.get(a.manager or "", a.manager)})
                for aid, a in org.accounts.items()}
    result = org.replace(people=people, accounts=accounts)
    result.path = folder
    return result


@pytest.mark.parametrize("leaver, receiver", [
    ("../../leaver", "../../evil"), ("/tmp/abs-leaver", "/tmp/abs-evil"),
    ("lea\0ver", "ev\0il"), (".", ".."), ("a/../../b", "c\\..\\d")])
def test_briefs_from_hostile_ids_land_in_the_briefs_folder(tmp_path, leaver, receiver):
    org = _org_with_ids(leaver, receiver, tmp_path / "org")
    plan = changes.leave(org, leaver, to=[receiver])
    folder = default_brief_dir(plan, today="2026-01-01")
    assert folder.parent == tmp_path / "org" / "handover"
    assert folder.name.startswith("2026-01-01-") and "\0" not in folder.name
    written = write_briefs(plan, folder, pm=get_plugin_manager(load_entrypoints=False))
    assert [p.parent for p in written] == [folder]
    assert [p.name for p in written] == [f"{safe_file_name(receiver)}.md"]
    everything = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert everything == written
    assert "Hand-over brief for Kai Key" in written[0].read_text()


def test_safe_file_names_keep_plain_ids_and_never_collide():
    assert safe_file_name("KAM-ACME-DE") == "KAM-ACME-DE"
    assert safe_file_name("a.b_c") == "a.b_c"
    hostile = ["../x", "..\\x", "x/..", "x", "/x", "x\0", ".x", "x..", "Müller", "", "."]
    names = [safe_file_name(h) for h in hostile]
    assert len(set(names)) == len(names)
    for name in names:
        assert name and "/" not in name and "\\" not in name and "\0" not in name
        assert ".." not in name and not name.startswith(".")


# -- journal, lock and transaction folder ------------------------------------------------------

def _assign_plan(ws: Path):
    return changes.assign(load(ws), "K2", manager="KAM3")


def test_a_journal_that_is_a_symlink_is_refused_not_followed(ws, outside):
    (ws / "journal.jsonl").symlink_to(outside)
    before = (ws / "accounts.csv").read_bytes()
    with pytest.raises(WorkspaceError, match=r"journal .* is a symbolic link"):
        changes.apply(_assign_plan(ws))
    assert_untouched(outside)
    assert (ws / "accounts.csv").read_bytes() == before
    with pytest.raises(WorkspaceError, match="symbolic link"):
        read_journal(ws)


def test_a_lock_file_that_is_a_symlink_is_refused_not_truncated(ws, outside):
    (ws / LOCK_FILE).symlink_to(outside)
    with pytest.raises(WorkspaceError, match=r"lock file .* is a symbolic link"):
        changes.apply(_assign_plan(ws))
    assert_untouched(outside)


def test_the_cli_says_what_is_wrong_with_a_linked_journal(ws, outside):
    (ws / "journal.jsonl").symlink_to(outside)
    result = kam("assign", str(ws), "K2", "--manager", "KAM3", "--apply")
    assert result.exit_code == 2, result.output
    assert "is a symbolic link; kam refuses to follow it" in result.output
    assert "Traceback" not in result.output and "bug in kamcore" not in result.output
    assert_untouched(outside)


def _plant(ws: Path, manifest: object, files: dict[str, str] | None = None) -> None:
    txn = ws / TXN_DIR
    txn.mkdir()
    (txn / MANIFEST).write_text(json.dumps(manifest))
    for name, text in (files or {}).items():
        (txn / name).write_text(text)


@pytest.mark.parametrize("existed", [True, False])
@pytest.mark.parametrize("how", ["relative", "absolute"])
def test_a_planted_manifest_cannot_touch_files_outside(ws, outside, existed, how):
    name = str(outside) if how == "absolute" else "../outside.txt"
    _plant(ws, {"files": [{"name": name, "existed": existed}], "journal_size": 0},
           {"evil.old": "pwned\n"})
    with pytest.raises(WorkspaceError, match="not a plain file name"):
        recover(ws)
    assert_untouched(outside)
    with pytest.raises(WorkspaceError, match="not a plain file name"):
        changes.apply(_assign_plan(ws))
    assert_untouched(outside)


def test_a_planted_manifest_is_checked_whole_before_anything_is_rolled_back(ws, outside):
    before = (ws / "accounts.csv").read_bytes()
    _plant(ws, {"files": [{"name": "accounts.csv", "existed": True},
                          {"name": "../outside.txt", "existed": False}], "journal_size": 0},
           {"accounts.csv.old": "planted\n"})
    with pytest.raises(WorkspaceError):
        recover(ws)
    assert (ws / "accounts.csv").read_bytes() == before
    assert_untouched(outside)


@pytest.mark.parametrize("manifest", [
    [], {"files": "accounts.csv"}, {"files": ["accounts.csv"]},
    {"files": [{"name": "accounts.csv"}]}, {"files": [{"name": 3, "existed": True}]},
    {"files": [], "journal_size": "big"}, {"files": [], "journal_size": -1}, None, "x"])
def test_a_manifest_of_the_wrong_shape_is_a_clear_error(ws, manifest):
    _plant(ws, manifest)
    with pytest.raises(WorkspaceError, match="manifest"):
        recover(ws)


def test_a_planted_backup_folder_is_refused(ws):
    before = (ws / "accounts.csv").read_bytes()
    _plant(ws, {"files": [{"name": "accounts.csv", "existed": True}], "journal_size": 0})
    (ws / TXN_DIR / "accounts.csv.old").mkdir()
    with pytest.raises(WorkspaceError, match="is not a file"):
        recover(ws)
    assert (ws / "accounts.csv").read_bytes() == before


def test_a_txn_folder_that_is_a_symlink_is_a_clear_error(ws, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / MANIFEST).write_text(json.dumps(
        {"files": [{"name": "accounts.csv", "existed": False}], "journal_size": None}))
    (ws / TXN_DIR).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(WorkspaceError, match=r"transaction folder .* is a symbolic link"):
        recover(ws)
    assert (ws / "accounts.csv").exists() and (elsewhere / MANIFEST).exists()
    result = kam("assign", str(ws), "K2", "--manager", "KAM3", "--apply")
    assert result.exit_code == 2 and "symbolic link" in result.output, result.output
    assert (elsewhere / MANIFEST).exists()


def test_commit_refuses_a_file_name_with_a_folder(ws, outside):
    with workspace_lock(ws), pytest.raises(WorkspaceError, match="not a plain file name"):
        commit(ws, {"../outside.txt": b"pwned\n"}, "{}\n")
    assert_untouched(outside)
    assert not os.path.lexists(ws / TXN_DIR)
