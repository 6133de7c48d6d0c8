"""Readers never see half of a multi-file change (issue 10): they hold the workspace lock shared
while reading, so a reader that comes during the renames of a change waits for its commit, and a
change that a crash left half-done is rolled back before anything is read."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kamcore import changes
from kamcore.changes import txn
from kamcore.workspace.snapshot import MANIFEST, TXN_DIR
from kamcore.workspace.tables import read_workspace
from tests.test_changes_support import ROOT, load, save_small


def _state(folder: Path) -> tuple[bool, str | None]:
    """(is KAM1 active, who manages K1): a leave changes people.csv and accounts.csv."""
    tables = read_workspace(folder, registry=load(folder).registry)
    people = dict(zip(tables.people.ids.to_pylist(),
                      tables.people.column("active").to_pylist(), strict=True))
    managers = dict(zip(tables.accounts.ids.to_pylist(),
                        tables.accounts.text("manager").to_pylist(), strict=True))
    return people["KAM1"] is not False, managers["K1"]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return save_small(tmp_path / "org")


def test_a_reader_during_the_renames_waits_and_sees_the_whole_change(ws, monkeypatch):
    before = _state(ws)
    renamed, release = threading.Event(), threading.Event()
    real_replace = os.replace

    def slow_replace(src, dst):
        real_replace(src, dst)
        if str(src).endswith(".new") and not renamed.is_set():
            renamed.set()  # one file is new, the other still old
            assert release.wait(10)

    monkeypatch.setattr(txn.os, "replace", slow_replace)
    plan = changes.leave(load(ws), "KAM1", spread=True)
    writer = threading.Thread(target=changes.apply, args=(plan,), kwargs={"force": True})
    writer.start()
    assert renamed.wait(10)
    seen: list[tuple[bool, str | None]] = []
    reader = threading.Thread(target=lambda: seen.append(_state(ws)))
    reader.start()
    reader.join(0.5)
    waited = reader.is_alive()  # it must not read the mix on the disk right now
    release.set()
    writer.join(10)
    reader.join(10)
    assert waited and len(seen) == 1
    after = _state(ws)
    assert after != before and after[0] is False and seen == [after]


_CRASH = """
import os, signal, sys
from kamcore import changes
from kamcore.changes import txn
from tests.test_changes_support import load
real = os.replace
def crash(src, dst):
    real(src, dst)
    if str(src).endswith(".new"):
        os.kill(os.getpid(), signal.SIGKILL)   # the process dies after the first rename
txn.os.replace = crash
changes.apply(changes.leave(load(sys.argv[1]), "KAM1", spread=True), force=True)
"""


def test_a_change_killed_mid_rename_is_rolled_back_before_anyone_reads(ws):
    before = _state(ws)
    files = {n: (ws / n).read_bytes() for n in ("accounts.csv", "people.csv")}
    proc = subprocess.run([sys.executable, "-c", _CRASH, str(ws)], cwd=ROOT,
                          capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert (ws / TXN_DIR / MANIFEST).exists()  # half applied on the disk
    assert {n: (ws / n).read_bytes() for n in files} != files
    assert _state(ws) == before  # the reader rolled the crashed change back first
    assert {n: (ws / n).read_bytes() for n in files} == files
    assert not (ws / TXN_DIR).exists()
    assert changes.read_journal(ws) == []


def test_a_workspace_without_any_change_is_read_without_creating_a_lock(ws):
    _state(ws)
    assert not (ws / txn.LOCK_FILE).exists()
