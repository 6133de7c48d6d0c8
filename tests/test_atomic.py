"""Atomic writes: all or nothing, and normal permissions."""

from __future__ import annotations

import errno
import os
import stat
import tempfile

import pytest

from kamcore.atomic import atomic_open, atomic_write_text, atomic_write_texts
from kamcore.errors import WriteFailed


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


def test_many_files_are_written_whole_in_order_with_their_permissions(tmp_path):
    kept = tmp_path / "a" / "kept.md"
    kept.parent.mkdir()
    kept.write_text("old")
    kept.chmod(0o640)
    files = {tmp_path / "a" / f"{i}.md": f"brief {i}\r\n\u00e9\n" * (i + 1) for i in range(20)}
    files[kept] = "new"
    files[tmp_path / "b" / "new.md"] = ""  # a folder made on the way
    written: list = []
    atomic_write_texts(files, written=written)
    assert written == list(files)
    for path, text in files.items():
        assert path.read_bytes() == text.encode("utf-8")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert not [p for p in tmp_path.rglob("*.tmp")]


@pytest.mark.parametrize("broken", [0, 3, 7])
def test_a_file_that_cannot_be_written_stops_there_and_leaves_no_temp(tmp_path, monkeypatch,
                                                                      broken):
    files = {tmp_path / f"{i}.md": f"brief {i}\n" for i in range(8)}
    (tmp_path / "7.md").write_text("old")
    real = tempfile.mkstemp

    def fake(*args, **kwargs):
        if kwargs.get("prefix") == f".{broken}.md.":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", fake)
    written: list = []
    with pytest.raises(WriteFailed, match=f"{broken}.md: No space left"):
        atomic_write_texts(files, written=written)
    assert written == list(files)[:broken]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {*(f"{i}.md" for i in range(broken)), "7.md"})
    assert (tmp_path / "7.md").read_text() == "old"  # never reached, or the one refused


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise on this system")
@pytest.mark.parametrize("advice_fails", [False, True])
def test_a_big_binary_write_asks_for_its_bytes_on_disk_as_it_goes(tmp_path, monkeypatch,
                                                                  advice_fails):
    """Every few megabytes (here 1,000 bytes) the written range is handed to the system in
    order, each byte once, and the file holds exactly what was written; advice the system
    refuses changes nothing."""
    import kamcore.atomic as atomic

    monkeypatch.setattr(atomic, "WRITE_BEHIND", 1000)
    asked: list[tuple[int, int]] = []

    def advise(fd: int, offset: int, length: int, advice: int) -> None:
        assert advice == os.POSIX_FADV_DONTNEED
        assert os.fstat(fd).st_size >= offset + length  # flushed before it is asked for
        asked.append((offset, length))
        if advice_fails:
            raise OSError(errno.EINVAL, "not here")

    monkeypatch.setattr(os, "posix_fadvise", advise)
    pieces = [bytes([65 + k % 26]) * size for k, size in enumerate([300, 900, 50, 2500, 10, 900])]
    target = tmp_path / "rollup.csv"
    with atomic_open(target, "wb") as handle:
        for piece in pieces:
            assert handle.write(piece) == len(piece)
    assert target.read_bytes() == b"".join(pieces)
    assert asked == [(0, 1200), (1200, 2550)]  # after 1,200 and 3,750 bytes; 910 left over
