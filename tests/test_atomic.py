"""Atomic writes: all or nothing, and normal permissions."""

from __future__ import annotations

import os
import stat

import pytest

from kamcore.atomic import atomic_open, atomic_write_text


def test_failure_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "accounts.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("half of the new")
        raise RuntimeError("crash")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["accounts.csv"]


def test_new_files_get_umask_permissions_and_old_keep_theirs(tmp_path):
    new = tmp_path / "new.csv"
    atomic_write_text(new, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
    kept = tmp_path / "kept.csv"
    kept.write_text("a")
    kept.chmod(0o640)
    atomic_write_text(kept, "b")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text() == "b"
