"""Atomic file writes: a reader sees the old file or the new one, never half of either.

A write that the system refuses (a full disk, a read-only folder or file, no permission) is a
:class:`~kamcore.errors.WriteFailed` naming the path and what to do, and the old file is left as
it was.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from kamcore.errors import WriteFailed

#: Errors of the system, not of kamcore: the disk, the folder or the file refuses the write.
#: The CLI reports any of these that escapes a command as a user problem (exit 2), not a bug.
SYSTEM_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS", "EACCES", "EPERM",
                                      "ETXTBSY")
    if hasattr(errno, name))


def write_failed(path: str | os.PathLike[str], exc: OSError, *,
                 action: str = "write") -> WriteFailed:
    """The user-facing error for ``exc`` raised while writing ``path``: what, where, what to do."""
    reason = exc.strerror or str(exc)
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG):
        hint = "free some disk space (or write somewhere else) and run the command again"
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM, getattr(errno, "ETXTBSY", -1)):
        hint = ("the folder or file is read-only for you: change its permissions, or write "
                "somewhere else")
    else:
        hint = "check the path, then run the command again"
    kept = "; the old file, if any, is unchanged" if action == "write" else ""
    return WriteFailed(f"cannot {action} {os.fspath(path)}: {reason}{kept}", hint=hint,
                       path=os.fspath(path))


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", *,
                encoding: str | None = "utf-8", newline: str | None = "") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    temp: list[str] = []
    with _temp_beside(target, mode, encoding=encoding, newline=newline, temp=temp) as handle:
        yield handle
    try:
        os.replace(temp[0], target)
        fsync_dir(target.parent)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp[0])
        if isinstance(exc, OSError):
            raise write_failed(target, exc) from exc
        raise


@contextlib.contextmanager
def _temp_beside(target: Path, mode: str, *, encoding: str | None, newline: str | None,
                 temp: list[str]) -> Iterator[IO]:
    """A temporary file beside ``target`` (its permissions), fsynced when the body is done;
    its path is appended to ``temp``. On any exception it is removed."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise write_failed(target, exc) from exc
    binary = "b" in mode
    in_body = False
    try:
        os.chmod(tmp, _mode_for(target))
        with (_WriteBehind(io.FileIO(fd, "wb")) if binary and hasattr(os, "posix_fadvise")
              else os.fdopen(fd, mode, encoding=None if binary else encoding,
                             newline=None if binary else newline)) as handle:
            in_body = True
            yield handle
            in_body = False
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        # An OSError of the handle (no file name) is this write failing; one naming another
        # file comes from the caller's own reading and stays what it is.
        if isinstance(exc, OSError) and (not in_body or exc.filename in (None, tmp)):
            raise write_failed(target, exc) from exc
        raise
    temp.append(tmp)


#: Bytes written to a file after which the system is asked to start putting them on disk
WRITE_BEHIND = 1 << 23


class _WriteBehind(io.BufferedWriter):
    """A binary file whose bytes the system starts writing to disk every few megabytes (Linux
    starts the writeback of a range's dirty pages on ``posix_fadvise(DONTNEED)``), as
    PostgreSQL's ``*_flush_after`` settings do: the fsync that ends an atomic write then waits
    for the last few megabytes, not all 100 MB of a million-row rollup or export."""

    _written = 0  # bytes handed to the system
    _started = 0  # of which the system was asked to write this many

    def write(self, data: Any) -> int:
        count = super().write(data)
        self._written += count
        if self._written - self._started >= WRITE_BEHIND:
            self.flush()
            with contextlib.suppress(OSError):  # only advice: the fsync still makes it durable
                os.posix_fadvise(self.fileno(), self._started, self._written - self._started,
                                 os.POSIX_FADV_DONTNEED)
            self._started = self._written
        return count


def _mode_for(target: Path) -> int:
    """Keep an existing file's permissions; new files get the usual 0666 minus the umask
    (mkstemp alone would leave them 0600)."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8, newlines as given)."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_texts(files: Mapping[Path, str], *, written: list[Path] | None = None) -> None:
    """Write each of ``files`` (path -> text) atomically, as :func:`atomic_write_text` would one
    after the other, but with their fsyncs overlapping on a few threads (the system syncs them
    together) and each folder synced once at the end: a plan's hundred hand-over briefs wait
    on the disk about once, not two hundred times.

    Files are put in place in order. When one cannot be written, those before it are in place
    (each whole), it and those after it are not, no temporary file is left, and its
    :class:`~kamcore.errors.WriteFailed` is raised.

    :param written: receives each path as it is put in place.
    """
    from concurrent.futures import ThreadPoolExecutor

    targets = [Path(path) for path in files]
    texts = list(files.values())
    if not targets:
        return
    with ThreadPoolExecutor(min(8, len(targets))) as pool:
        temps = list(pool.map(_try_temp, targets, texts))
    failure: BaseException | None = None
    done = 0
    try:
        for target, temp in zip(targets, temps, strict=True):
            if isinstance(temp, BaseException):
                failure = temp
                break
            try:
                os.replace(temp, target)
            except OSError as exc:
                failure = write_failed(target, exc)
                break
            done += 1
            if written is not None:
                written.append(target)
    finally:
        for temp in temps[done:]:
            if isinstance(temp, str):
                with contextlib.suppress(OSError):
                    os.unlink(temp)
        for folder in dict.fromkeys(target.parent for target in targets[:done]):
            fsync_dir(folder)
    if failure is not None:
        raise failure


def _try_temp(target: Path, text: str) -> str | BaseException:
    """A temporary file beside ``target`` holding ``text`` (UTF-8), fsynced: its path, or
    the error that kept it from being written (nothing left behind)."""
    temp: list[str] = []
    try:
        with _temp_beside(target, "w", encoding="utf-8", newline="", temp=temp) as handle:
            handle.write(text)
    except Exception as exc:
        return exc
    return temp[0]


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (best effort where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
