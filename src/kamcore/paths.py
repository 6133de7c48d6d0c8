"""Path safety for every file kam writes inside a workspace.

Ids, names and planted files are input, never paths: a file name built from an id goes through
:func:`safe_file_name`; a name read back from kam's own bookkeeping (a transaction manifest)
goes through :func:`plain_name`; the files kam appends to or truncates in place
(``journal.jsonl``, ``.kam.lock``) are opened with :func:`open_no_follow`, which refuses a
symbolic link instead of writing to whatever it points at. Files kam replaces are written
beside their target and renamed over it, which replaces a link rather than following it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from pathlib import Path

from kamcore.errors import WorkspaceError

_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(text: str) -> str:
    """A file name (no folder) for ``text``: unchanged when it is already a plain name,
    else a slug of it plus a short hash, so that different ids never share a file.

    >>> safe_file_name("KAM-ACME-DE"), safe_file_name("../../etc/passwd")
    ('KAM-ACME-DE', 'etc-passwd-3754d6cb')
    >>> safe_file_name("a\\x00b"), safe_file_name("..")
    ('a-b-59b271ae', 'id-5ec1f7e7')
    """
    if _PLAIN.match(text) and ".." not in text:
        return text
    slug = _UNSAFE.sub("-", text).strip(".-")[:60].strip(".-")
    slug = re.sub(r"\.{2,}", ".", slug) or "id"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{slug}-{digest}"


def plain_name(name: object, *, where: str) -> str:
    """``name`` when it is a plain file name in a folder (no separator, not ``.``/``..``,
    no NUL byte).

    :raises WorkspaceError: anything else; ``where`` says which file held it.
    """
    if (not isinstance(name, str) or not name or name in (".", "..") or "/" in name
            or "\\" in name or "\0" in name or os.sep in name
            or (os.altsep is not None and os.altsep in name)):
        raise WorkspaceError(f"{where} names {name!r}, which is not a plain file name in the "
                             "workspace", hint="kam never writes such a name: the file was "
                             "edited or planted; remove it")
    return name


def refuse_link(path: Path, *, what: str) -> None:
    """:raises WorkspaceError: ``path`` is a symbolic link (kam does not follow links it writes)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise WorkspaceError(f"cannot inspect {path}: {exc.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise WorkspaceError(_link_message(path, what), hint=_LINK_HINT)


def open_no_follow(path: Path, flags: int, mode: int = 0o644, *, what: str) -> int:
    """``os.open`` that refuses a symbolic link at ``path`` (``O_NOFOLLOW``).

    :raises WorkspaceError: ``path`` is a link, or cannot be opened.
    """
    try:
        return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (os.path.islink(path)):
            raise WorkspaceError(_link_message(path, what), hint=_LINK_HINT) from None
        raise


_LINK_HINT = ("kam writes only real files inside the workspace; replace the link with the file "
              "itself (or remove it)")


def _link_message(path: Path, what: str) -> str:
    return f"{what} {path} is a symbolic link; kam refuses to follow it"
