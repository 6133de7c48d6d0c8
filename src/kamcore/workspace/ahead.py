"""A big accounts.csv scanned while ``kam`` starts up.

``kam`` spends its first 0.1-0.2 s on one core importing click, pydantic, pyarrow and the
plugins. The reader's scan of a big CSV file (where its lines end, whether a quoted value spans
lines: :func:`kamcore.workspace.tables.scan_rest`) needs none of them and costs a core 0.1 s
at a million accounts. Started here by ``kam``'s main on the second core, it is done or nearly
when the command reads the file, and pyarrow's parse then has both cores to itself.

A scan is taken once, and only for the very file it scans (same device, inode, size and
modification time when the read begins; the read checks them again when it ends); anything
else is scanned as usual. Nothing here changes what is read, only when the bytes are looked at.
"""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kamcore.filenames import ACCOUNTS_FILE

#: Files from this size on are read by pyarrow while a thread scans them (below it the reader
#: holds the file's bytes and does both from them; see kamcore.workspace.tables)
STREAM_FROM = 1 << 23


@dataclass
class Ahead:
    """A scan running (or done) on a thread of its own."""

    identity: tuple[int, ...]
    thread: threading.Thread
    _outcome: list[Any] = field(default_factory=list)

    def result(self) -> Any:
        """The scan (waited for), or ``None`` when the file could not be scanned so."""
        self.thread.join()
        return self._outcome[0] if self._outcome else None


#: Scans started ahead, by file path
_STARTED: dict[str, Ahead] = {}


def file_identity(info: os.stat_result) -> tuple[int, ...]:
    """What changes when a file is replaced or written to."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def scan_ahead(folder: Path | None) -> None:
    """Start scanning ``folder``'s accounts.csv on a thread, if it is a big regular file.

    For a process that runs one command (``kam``'s main), not for a library call: the thread
    is a daemon, and its scan is for whoever reads the file first.
    """
    if folder is None:
        return
    path = folder / ACCOUNTS_FILE
    try:
        handle = open(path, "rb", buffering=0)  # noqa: SIM115 - the thread closes it
    except (OSError, ValueError):
        return
    try:
        info = os.fstat(handle.fileno())
    except OSError:
        handle.close()
        return
    if not stat.S_ISREG(info.st_mode) or info.st_size < STREAM_FROM:
        handle.close()
        return
    outcome: list[Any] = []

    def run() -> None:
        from kamcore.workspace.tables import scan_rest

        with handle:
            try:
                outcome.append(scan_rest(handle))
            except Exception:  # the read scans the file itself and reports what is wrong
                outcome.append(None)

    thread = threading.Thread(target=run, name="kamcore-scan-ahead", daemon=True)
    _STARTED[os.fspath(path)] = Ahead(file_identity(info), thread, outcome)
    thread.start()


def scan_for(path: Path, identity: tuple[int, ...]) -> Ahead | None:
    """The scan started ahead for ``path`` (running or done) when it scans the file whose
    identity is ``identity``, else ``None``; either way it is not given out again."""
    ahead = _STARTED.pop(os.fspath(path), None)
    return ahead if ahead is not None and ahead.identity == identity else None
