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

Nothing is written outside the workspace: ``.kam.lock``, ``journal.jsonl`` and ``.kam.txn`` are
never followed when they are symbolic links (the command is refused instead), and a manifest is
trusted only when every name in it is a plain file name and every backup a regular file, so a
planted manifest cannot make recovery delete or overwrite anything elsewhere.

Readers (``kam validate``, ``rollup`` ...) take the same lock shared while they read, so they
see the files before a change or after it, never a mix (:mod:`kamcore.workspace.snapshot`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

from kamcore.atomic import atomic_write_text, fsync_dir, write_failed
from kamcore.errors import ChangeRefused, WriteFailed
from kamcore.paths import open_no_follow, plain_name, refuse_link
from kamcore.settings import JOURNAL_FILE
from kamcore.workspace.csvio import in_dialect_of
from kamcore.workspace.snapshot import (
    LOCK_FILE,
    MANIFEST,
    TXN_DIR,
    clear,
    held,
    recover,
    wait_for_lock,
)

__all__ = ["LOCK_FILE", "MANIFEST", "TXN_DIR", "commit", "recover", "workspace_lock"]

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
        fd = open_no_follow(path, os.O_RDWR | os.O_CREAT, 0o644, what="the lock file")
    except OSError as exc:
        raise WriteFailed(f"cannot create the lock file {path}: {exc.strerror}; nothing was "
                          "changed", path=str(path), hint="changes need write access to the "
                          "workspace folder (and some free disk space)") from None
    try:
        holder = wait_for_lock(fd, fcntl.LOCK_EX, timeout)
        if holder is not None:
            raise ChangeRefused(f"the workspace is locked by another change (process {holder})",
                                hint="wait for it to finish and try again")
        with contextlib.suppress(OSError):  # the holder's pid is a courtesy (a full disk)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            recover(folder)
            with held(folder):
                yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def commit(folder: str | Path, files: dict[str, bytes], journal_line: str | None) -> None:
    """Replace ``files`` (name -> content) in ``folder`` and append ``journal_line``, all or none.

    ``journal_line`` None: files only (an import into the workspace, which is no undoable
    change). Call it while holding :func:`workspace_lock`. A CSV file keeps the byte-order
    mark and CRLF line ends of the file it replaces
    (:func:`~kamcore.workspace.csvio.in_dialect_of`).
    """
    folder = Path(folder)
    txn = folder / TXN_DIR
    for name in files:
        plain_name(name, where="a change")
    recover(folder)  # never overwrite the record of an interrupted change
    journal = folder / JOURNAL_FILE
    refuse_link(journal, what="the journal")
    entries: list[_ManifestEntry] = []
    try:
        txn.mkdir()
        for name, data in files.items():
            if name.endswith(".csv"):
                data = in_dialect_of(folder / name, data)
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
        size = journal.stat().st_size if journal.exists() else None
        manifest = {"files": entries, "journal_size": size}
        fsync_dir(txn)
        atomic_write_text(txn / MANIFEST, json.dumps(manifest))
    except (OSError, WriteFailed) as exc:
        # Nothing of the workspace was touched yet: only the transaction folder goes.
        with contextlib.suppress(OSError):
            clear(txn)
        raise _write_failed(folder, exc, "nothing was changed") from exc
    try:
        for entry in entries:
            os.replace(txn / f"{entry['name']}.new", folder / entry["name"])
        fsync_dir(folder)
        if journal_line is not None:
            _append(journal, journal_line, size)
        os.unlink(txn / MANIFEST)  # the commit point
        fsync_dir(txn)
    except BaseException as exc:
        rolled_back = False
        with contextlib.suppress(Exception):
            rolled_back = recover(folder)
        if isinstance(exc, (OSError, WriteFailed)):
            state = ("nothing was changed" if rolled_back else "the next change (or "
                     "kamcore.changes.recover) rolls the files back")
            raise _write_failed(folder, exc, state) from exc
        raise
    with contextlib.suppress(OSError):
        clear(txn)


def _append(journal: Path, journal_line: str, size: int | None) -> None:
    line = journal_line.encode("utf-8")
    if size and not _ends_with_newline(journal):
        line = b"\n" + line  # a hand-edited journal without a final newline
    fd = open_no_follow(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644,
                        what="the journal")
    with os.fdopen(fd, "ab") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def _write_failed(folder: Path, exc: OSError | WriteFailed, state: str) -> WriteFailed:
    """A change that the disk or the folder refused, as the user sees it."""
    if isinstance(exc, WriteFailed):
        reason, path = exc.message, exc.path
    else:
        reason, path = exc.strerror or str(exc), str(exc.filename or folder)
    where = f" ({path})" if path != str(folder) else ""
    return WriteFailed(f"could not write the change to {folder}{where}: {reason}; {state}",
                       hint=write_failed(path, exc).hint if isinstance(exc, OSError)
                       else exc.hint, path=path)


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
