"""The workspace lock and the all-or-nothing write of several files plus a journal line.

What is guaranteed (POSIX, local file systems):

* **One writer at a time.** :func:`workspace_lock` holds ``fcntl.flock`` on ``.kam.lock`` in the
  workspace; every change re-loads and re-plans while holding it, so concurrent changes queue up
  and none is lost.
* **All files or none.** :func:`commit` first writes and fsyncs every new file in ``.kam.txn/``,
  hard-links the current files there as backups, and writes ``.kam.txn/manifest.json`` (the
  intent). Only then are the new files renamed over the old ones and the journal line appended.
  Removing the manifest is the commit point. If anything fails before that, the backups are put
  back and the journal is truncated to its old size; if the process dies instead, the manifest
  stays and the next change (or :func:`recover`) rolls back the same way before doing anything.
* Each single file is always whole: it is replaced by rename, never written in place.

Not guaranteed: a reader that does not take the lock (``kam validate`` ...) running during the
milliseconds of the renames may see the new ``accounts.csv`` with the old ``people.csv``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

from kamcore.atomic import atomic_write_text, fsync_dir
from kamcore.errors import ChangeRefused, WorkspaceError
from kamcore.settings import JOURNAL_FILE

LOCK_FILE = ".kam.lock"
TXN_DIR = ".kam.txn"
MANIFEST = "manifest.json"


class _ManifestEntry(TypedDict):
    """One file of a change in the manifest: its name and whether it existed before."""

    name: str
    existed: bool


@contextlib.contextmanager
def workspace_lock(folder: str | Path, *, timeout: float = 30.0) -> Iterator[None]:
    """Hold the workspace's exclusive lock; wait up to ``timeout`` seconds for it.

    Also rolls back a change that a crashed process left half-done (see :func:`recover`).

    :raises ChangeRefused: another process held the lock for longer than ``timeout``.
    """
    import fcntl

    path = Path(folder) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise WorkspaceError(f"cannot create the lock file {path}: {exc.strerror}",
                             hint="changes need write access to the workspace folder") from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                    raise ChangeRefused(
                        f"the workspace is locked by another change (process {holder})",
                        hint="wait for it to finish and try again") from None
                time.sleep(0.02)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            recover(folder)
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def commit(folder: str | Path, files: dict[str, bytes], journal_line: str) -> None:
    """Replace ``files`` (name -> content) in ``folder`` and append ``journal_line``, all or none.

    Call it while holding :func:`workspace_lock`.
    """
    folder = Path(folder)
    txn = folder / TXN_DIR
    recover(folder)  # never overwrite the record of an interrupted change
    txn.mkdir()
    entries: list[_ManifestEntry] = []
    for name, data in files.items():
        with open(txn / f"{name}.new", "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        target = folder / name
        existed = target.exists()
        if existed:
            _backup(target, txn / f"{name}.old")
            os.chmod(txn / f"{name}.new", target.stat().st_mode & 0o7777)
        entries.append({"name": name, "existed": existed})
    journal = folder / JOURNAL_FILE
    size = journal.stat().st_size if journal.exists() else None
    manifest = {"files": entries, "journal_size": size}
    fsync_dir(txn)
    atomic_write_text(txn / MANIFEST, json.dumps(manifest))
    try:
        for entry in entries:
            os.replace(txn / f"{entry['name']}.new", folder / entry["name"])
        fsync_dir(folder)
        line = journal_line.encode("utf-8")
        if size and not _ends_with_newline(journal):
            line = b"\n" + line  # a hand-edited journal without a final newline
        with open(journal, "ab") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        os.unlink(txn / MANIFEST)  # the commit point
        fsync_dir(txn)
    except BaseException as exc:
        rolled_back = False
        with contextlib.suppress(Exception):
            rolled_back = recover(folder)
        if isinstance(exc, OSError):
            state = ("nothing was changed" if rolled_back else "the next change (or "
                     "kamcore.changes.recover) rolls the files back")
            raise WorkspaceError(f"could not write the change to {folder}: {exc}; {state}",
                                 hint="check disk space and permissions, then try again"
                                 ) from exc
        raise
    with contextlib.suppress(OSError):
        _clear(txn)


def recover(folder: str | Path) -> bool:
    """Roll back a change left half-done by a crash; returns True when there was one.

    Safe to call any time the lock is held; a no-op on a clean workspace.
    """
    folder = Path(folder)
    txn = folder / TXN_DIR
    manifest_path = txn / MANIFEST
    if not manifest_path.exists():
        if txn.exists():
            _clear(txn)  # a change that never reached its intent, or finished but not cleaned
        return False
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkspaceError(f"cannot read {manifest_path} to roll back an interrupted "
                             f"change: {exc}", hint=f"restore the files from version control, "
                             f"then remove {txn}") from None
    for entry in manifest["files"]:
        target = folder / entry["name"]
        backup = txn / f"{entry['name']}.old"
        if entry["existed"]:
            if backup.exists():
                os.replace(backup, target)
        else:
            target.unlink(missing_ok=True)
    journal = folder / JOURNAL_FILE
    size = manifest.get("journal_size")
    if size is None:
        journal.unlink(missing_ok=True)
    elif journal.exists() and journal.stat().st_size > size:
        with open(journal, "r+b") as handle:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())
    fsync_dir(folder)
    manifest_path.unlink()
    _clear(txn)
    return True


def _backup(target: Path, backup: Path) -> None:
    """A hard link to the current file (instant); a copy where links are not supported."""
    try:
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)
        with open(backup, "rb") as handle:
            os.fsync(handle.fileno())


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _clear(txn: Path) -> None:
    if txn.exists():
        shutil.rmtree(txn)
