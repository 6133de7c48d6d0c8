"""Nothing lost: the workspace lock, concurrent writers, and crashes in the middle of a write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import kamcore
from kamcore import changes
from kamcore.errors import ChangeRefused, WorkspaceError
from kamcore.validation import has_errors
from tests.test_changes_support import copy_acme, load, snapshot

WORKER = textwrap.dedent("""
    import sys
    from kamcore import changes, load
    from kamcore.plugins import get_plugin_manager
    from kamcore.registry import registry_for

    folder, prefix, count, account = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    registry = registry_for(get_plugin_manager(load_entrypoints=False))
    for i in range(count):
        plan = changes.hire(load(folder, registry=registry), id=f"{prefix}{i}",
                            name=f"Hire {prefix}{i}", role="am", reports_to="KAM-DE")
        changes.apply(plan, by=prefix)
    plan = changes.assign(load(folder, registry=registry), account, manager=f"{prefix}0")
    changes.apply(plan, by=prefix)
""")


def test_concurrent_writers_lose_no_update(tmp_path):
    ws = copy_acme(tmp_path)
    count = 8
    jobs = [("W1-", "ACME-DE-BER-01"), ("W2-", "ACME-US-CHI-01"), ("W3-", "NOVA-GB-LEE-01")]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(ws), prefix, str(count),
                               account], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for prefix, account in jobs]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    org = load(ws)
    for prefix, account in jobs:
        assert {f"{prefix}{i}" for i in range(count)} <= set(org.people)
        assert org.accounts[account].manager == f"{prefix}0"
    lines = (ws / "journal.jsonl").read_text().splitlines()
    assert len(lines) == len(jobs) * (count + 1)
    entries = [json.loads(line) for line in lines]
    assert len({e["id"] for e in entries}) == len(entries)
    assert not has_errors(kamcore.validate(org))
    assert not (ws / ".kam.txn").exists()


def test_a_held_lock_makes_others_wait_then_give_up(tmp_path):
    ws = copy_acme(tmp_path)
    plan = changes.assign(load(ws), "ACME-DE-BER", manager="KAM-DE")
    with changes.workspace_lock(ws), pytest.raises(ChangeRefused, match="locked by another"):
        changes.apply(plan, timeout=0.2)
    assert changes.apply(plan).entry is not None


def _leave_plan(ws: Path):
    # Touches both accounts.csv (the book) and people.csv (inactive, reports moved).
    return changes.leave(load(ws), "KAM-ACME-DE", to=["KAM-DE"])


def _crash_on(monkeypatch, name: str, *, forever: bool) -> None:
    """os.replace fails once when it reaches ``name``; with ``forever``, every call after too."""
    real = os.replace
    state = {"crashed": False}

    def replace(src, dst, *args, **kwargs):
        first = Path(dst).name == name and not state["crashed"]
        if first or (forever and state["crashed"]):
            state["crashed"] = True
            raise OSError(28, "simulated crash")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def test_a_failed_write_rolls_back_at_once(tmp_path, monkeypatch):
    ws = copy_acme(tmp_path)
    before = snapshot(ws)
    plan = _leave_plan(ws)
    _crash_on(monkeypatch, "people.csv", forever=False)  # accounts.csv is already replaced
    with pytest.raises(WorkspaceError, match="simulated crash; nothing was changed"):
        changes.apply(plan)
    monkeypatch.undo()
    assert snapshot(ws) == before
    assert not (ws / "journal.jsonl").exists()
    assert not (ws / ".kam.txn").exists()


def test_a_crash_mid_write_is_rolled_back_by_the_next_change(tmp_path, monkeypatch):
    ws = copy_acme(tmp_path)
    changes.apply(changes.assign(load(ws), "ACME-DE-BER", manager="KAM-DE"))
    before = snapshot(ws)
    journal = (ws / "journal.jsonl").read_bytes()
    plan = _leave_plan(ws)
    _crash_on(monkeypatch, "people.csv", forever=True)  # the process "dies": no rollback
    with pytest.raises(WorkspaceError, match=r"the next change .* rolls the files back"):
        changes.apply(plan)
    monkeypatch.undo()
    assert (ws / ".kam.txn" / "manifest.json").exists()
    assert (ws / "accounts.csv").read_bytes() != before["accounts.csv"]  # the half-done state
    # The next change takes the lock, rolls back, and only then applies itself.
    changes.apply(changes.hire(load(ws), id="AM-NEW", name="Ann New", role="am",
                               reports_to="KAM-DE"))
    after = snapshot(ws)
    assert after["accounts.csv"] == before["accounts.csv"]
    assert after["people.csv"].startswith(before["people.csv"])
    assert after["people.csv"][len(before["people.csv"]):].startswith(b"AM-NEW,Ann New,am,")
    assert (ws / "journal.jsonl").read_bytes().startswith(journal)
    assert len((ws / "journal.jsonl").read_text().splitlines()) == 2


KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from kamcore import changes, load
    from kamcore.plugins import get_plugin_manager

    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst).name == "people.csv":  # accounts.csv is in place already
            os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst, *args, **kwargs)

    os.replace = replace
    org = load(sys.argv[1], pm=get_plugin_manager(load_entrypoints=False))
    changes.apply(changes.leave(org, "KAM-ACME-DE", to=["KAM-DE"]))
""")


def test_a_killed_process_leaves_nothing_half_done(tmp_path):
    ws = copy_acme(tmp_path)
    before = snapshot(ws)
    proc = subprocess.run([sys.executable, "-c", KILLER, str(ws)], capture_output=True,
                          timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()
    assert (ws / "accounts.csv").read_bytes() != before["accounts.csv"]
    assert (ws / "journal.jsonl").exists() is False
    assert changes.recover(ws) is True
    assert snapshot(ws) == before
    assert not (ws / ".kam.txn").exists()


def test_recover_restores_the_previous_files_and_journal(tmp_path, monkeypatch):
    ws = copy_acme(tmp_path)
    before = snapshot(ws)
    plan = _leave_plan(ws)
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if Path(path).name == "manifest.json":  # dies just before the commit point
            raise KeyboardInterrupt
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    with pytest.raises(KeyboardInterrupt):
        changes.apply(plan)
    monkeypatch.undo()
    # The in-process rollback could not remove the manifest either; recover() finishes it.
    assert changes.recover(ws) is True
    assert snapshot(ws) == before
    assert not (ws / "journal.jsonl").exists()
    assert changes.recover(ws) is False


def test_written_files_keep_their_permissions(tmp_path):
    ws = copy_acme(tmp_path)
    os.chmod(ws / "accounts.csv", 0o640)
    changes.apply(changes.assign(load(ws), "ACME-DE-BER", manager="KAM-DE"))
    assert (ws / "accounts.csv").stat().st_mode & 0o777 == 0o640
