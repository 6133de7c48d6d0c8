"""Readers see committed files: never half of a change, never a change a crash left half-done.

A change (:mod:`kamcore.changes.txn`) replaces several files by renames under an exclusive
``flock`` on ``.kam.lock``, with a manifest in ``.kam.txn/`` naming the backups until it
commits. Every reader of the files a change writes (kam.yaml, accounts.csv, people.csv, the
journal) reads inside :func:`committed_state`, which holds the same lock *shared*: a reader
waits the milliseconds of a commit, and a writer waits for readers. A manifest seen under the
shared lock can only be a crashed change: the reader rolls it back (:func:`recover`, as the next
change would) before reading, or, when the folder is read-only, says so.

A workspace that never had a change has no lock file; readers do not create one (a read never
writes), and re-read under the lock if one appeared while they read.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from kamcore.atomic import fsync_dir
from kamcore.errors import WorkspaceError
from kamcore.paths import open_no_follow, plain_name, refuse_link
from kamcore.settings import JOURNAL_FILE

LOCK_FILE = ".kam.lock"
TXN_DIR = ".kam.txn"
MANIFEST = "manifest.json"

T = TypeVar("T")

class _Held(threading.local):
    """Workspaces whose lock this thread holds (a change re-reading its own folder must not
    wait for itself; another thread must)."""

    def __init__(self) -> None:
        self.folders: dict[Path, int] = {}


_HELD = _Held()


@contextlib.contextmanager
def held(folder: str | Path) -> Iterator[None]:
    """Mark ``folder``'s lock as held by this thread while the block runs."""
    key = Path(folder).resolve()
    folders = _HELD.folders
    folders[key] = folders.get(key, 0) + 1
    try:
        yield
    finally:
        folders[key] -= 1
        if not folders[key]:
            del folders[key]


def read_committed(folder: str | Path, read: Callable[[], T], *, timeout: float = 30.0) -> T:
    """``read()`` with the workspace's lock held shared, after rolling back a crashed change.

    :raises WorkspaceError: a change held the lock past ``timeout``; a crashed change cannot be
        rolled back (read-only folder); the lock file or the transaction folder is a link.
    """
    folder = Path(folder)
    if folder.resolve() in _HELD.folders:
        return read()
    lock = folder / LOCK_FILE
    if not os.path.lexists(lock):
        result = read()
        if not os.path.lexists(lock):
            return result  # no change began while reading
    with _shared_lock(folder, timeout):
        return read()


def wait_for_lock(fd: int, mode: int, timeout: float) -> str | None:
    """``flock(fd, mode)``, polling up to ``timeout`` seconds (a blocking flock cannot time out).

    :returns: None once held; else the holder's pid as it wrote it in the lock file.
    """
    import fcntl

    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return None
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            time.sleep(0.02)


@contextlib.contextmanager
def _shared_lock(folder: Path, timeout: float) -> Iterator[None]:
    import fcntl

    path = folder / LOCK_FILE
    fd = open_no_follow(path, os.O_RDONLY, what="the lock file")
    try:
        holder = wait_for_lock(fd, fcntl.LOCK_SH, timeout)
        if holder is not None:
            raise WorkspaceError(
                f"{folder} is being changed by another process ({holder}) for more than "
                f"{timeout:g} s; nothing was read",
                hint="wait for the change to finish and try again")
        try:
            if os.path.lexists(folder / TXN_DIR / MANIFEST):
                _roll_back_crashed(folder, fd)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _roll_back_crashed(folder: Path, fd: int) -> None:
    """A manifest under the shared lock is a crashed change: take the lock alone, roll back."""
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fcntl.flock(fd, fcntl.LOCK_SH)  # a change started meanwhile: it rolls back first
        return
    try:
        recover(folder)
    except PermissionError as exc:
        raise WorkspaceError(
            f"{folder} holds a change that was interrupted (in {folder / TXN_DIR}) and this "
            f"process cannot roll it back: {exc.strerror}",
            hint="run any kam change (or kamcore.changes.recover) with write access to the "
                 "folder; it restores the files as they were before that change") from None
    finally:
        fcntl.flock(fd, fcntl.LOCK_SH)


def recover(folder: str | Path) -> bool:
    """Roll back a change left half-done by a crash; returns True when there was one.

    Safe to call any time the lock is held; a no-op on a clean workspace.

    :raises WorkspaceError: the transaction folder is a link or not a folder, or its manifest
        is unreadable, of the wrong shape, or names anything but plain files of the workspace.
    """
    folder = Path(folder)
    txn = folder / TXN_DIR
    _check_txn_dir(txn)
    manifest_path = txn / MANIFEST
    if not manifest_path.exists():
        if txn.exists():
            clear(txn)  # a change that never reached its intent, or finished but not cleaned
        return False
    files, size = _read_manifest(manifest_path, txn)
    journal = folder / JOURNAL_FILE
    refuse_link(journal, what="the journal")
    for name, existed in files:
        backup = txn / f"{name}.old"
        if existed and os.path.lexists(backup):
            _check_backup(backup, manifest_path)  # every one, before anything is touched
    for name, existed in files:
        target = folder / name
        backup = txn / f"{name}.old"
        if existed:
            if os.path.lexists(backup):
                os.replace(backup, target)  # replaces a link at target, never follows it
        else:
            target.unlink(missing_ok=True)
    if size is None:
        journal.unlink(missing_ok=True)
    elif journal.exists() and journal.stat().st_size > size:
        fd = open_no_follow(journal, os.O_RDWR, what="the journal")
        with os.fdopen(fd, "r+b") as handle:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())
    fsync_dir(folder)
    manifest_path.unlink()
    clear(txn)
    return True



def _check_txn_dir(txn: Path) -> None:
    """:raises WorkspaceError: ``.kam.txn`` is a link or not a folder (planted, never kam's)."""
    refuse_link(txn, what="the transaction folder")
    if txn.exists() and not txn.is_dir():
        raise WorkspaceError(f"the transaction folder {txn} is not a folder",
                             hint=f"kam keeps an interrupted change there; remove {txn}")


def _read_manifest(path: Path, txn: Path) -> tuple[list[tuple[str, bool]], int | None]:
    """The (name, existed) pairs and the journal size of a manifest, each checked."""
    hint = f"restore the files from version control, then remove {txn}"
    try:
        fd = open_no_follow(path, os.O_RDONLY, what="the transaction manifest")
        with os.fdopen(fd, "rb") as handle:
            manifest = json.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkspaceError(f"cannot read {path} to roll back an interrupted change: {exc}",
                             hint=hint) from None
    entries = manifest.get("files") if isinstance(manifest, dict) else None
    size = manifest.get("journal_size") if isinstance(manifest, dict) else None
    if (not isinstance(entries, list)
            or not all(isinstance(e, dict) and isinstance(e.get("existed"), bool)
                       for e in entries)
            or not (size is None or (isinstance(size, int) and not isinstance(size, bool)
                                     and size >= 0))):
        raise WorkspaceError(f"{path} is not a transaction manifest kam wrote (wrong shape); "
                             "nothing was rolled back", hint=hint)
    where = f"the transaction manifest {path}"
    return [(plain_name(e.get("name"), where=where), e["existed"]) for e in entries], size


def _check_backup(backup: Path, manifest: Path) -> None:
    """A backup is what :func:`_backup` makes: a file, or a link when the original was one."""
    mode = os.lstat(backup).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise WorkspaceError(f"the backup {backup} named by {manifest} is not a file; nothing "
                             "was rolled back", hint="restore the files from version control, "
                             f"then remove {backup.parent}")



def clear(txn: Path) -> None:
    if txn.exists():
        shutil.rmtree(txn)
