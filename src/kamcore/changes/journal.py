"""``journal.jsonl``: one JSON line per applied change, and undo built from it.

Each line holds ``id``, ``time`` (UTC, ISO 8601), ``actor``, ``command`` (as typed), ``op`` and
``args`` (to re-plan), ``reason``, and ``changes``: for every touched record its ``kind``, ``id``
and the full record ``before`` and ``after`` (``null`` for a record that did not exist). An undo
appends an entry of its own whose ``undoes`` names the entry it reversed; the journal is never
rewritten, only appended to (and truncated back by a rolled-back write).
"""

from __future__ import annotations

import getpass
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.changes.plan import Plan, RecordChange, load_record, make_plan
from kamcore.errors import ChangeRefused, Location, WorkspaceError
from kamcore.paths import open_no_follow
from kamcore.settings import JOURNAL_FILE

if TYPE_CHECKING:
    from kamcore.org import Org


def journal_path(folder: str | Path) -> Path:
    return Path(folder) / JOURNAL_FILE


def read_journal(folder: str | Path) -> list[dict[str, Any]]:
    """Every entry, oldest first (an empty list when nothing was journalled yet).

    :raises WorkspaceError: a line is not a JSON object (file and line are named), or the
        journal is a symbolic link (kam neither reads nor appends through one).
    """
    path = journal_path(folder)
    try:
        fd = open_no_follow(path, os.O_RDONLY, what="the journal")
        with os.fdopen(fd, "rb") as handle:
            text = handle.read().decode("utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"cannot read {path}: {exc}") from None
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise WorkspaceError(f"journal line is not JSON: {exc.msg}",
                                 location=Location(str(path), number),
                                 hint="the journal is append-only; restore this line from "
                                 "version control") from None
        if not isinstance(entry, dict) or "changes" not in entry:
            raise WorkspaceError("journal line is not a change entry",
                                 location=Location(str(path), number))
        entries.append(entry)
    return entries


def default_actor() -> str:
    """``$KAM_ACTOR``, else ``$USER``, else the login name."""
    actor = os.environ.get("KAM_ACTOR") or os.environ.get("USER")
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def make_entry(plan: Plan, *, by: str | None = None, reason: str | None = None,
               now: datetime | None = None) -> dict[str, Any]:
    """The journal entry of an applied plan."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    entry: dict[str, Any] = {
        "id": uuid.uuid4().hex[:12],
        "time": moment.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "actor": by or default_actor(),
        "command": plan.title,
        "op": plan.op,
        "args": plan.args,
        "reason": reason or "",
        "changes": [c.to_json() for c in plan.changes],
    }
    if plan.undoes:
        entry["undoes"] = plan.undoes
    return entry


def entry_line(entry: dict[str, Any]) -> str:
    """One JSON line (no spaces, keys in order, ending with a newline)."""
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"


def undoable(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries that are not undos themselves and were not undone yet, oldest first."""
    undone = {e.get("undoes") for e in entries if e.get("undoes")}
    return [e for e in entries if not e.get("undoes") and e["id"] not in undone]


def undo_plan(org: Org, *, entry: str | None = None) -> Plan:
    """The plan that reverses journal entry ``entry`` (default: the last change not undone).

    Records are put back exactly as the entry's ``before`` says (new records removed). A record
    that changed since the entry (hand edits) is listed in ``plan.conflicts``; ``apply`` then
    refuses unless forced.

    :raises ChangeRefused: nothing to undo, or the entry is unknown, an undo, or undone already.
    """
    if org.path is None:
        raise WorkspaceError("this org has no folder, so it has no journal")
    entries = read_journal(org.path)
    open_entries = undoable(entries)
    if entry is None:
        if not open_entries:
            raise ChangeRefused("nothing to undo: every journalled change is undone already"
                                if entries else "nothing to undo: the journal is empty",
                                hint="kam log ORG shows the journal")
        target = open_entries[-1]
    else:
        found = [e for e in entries if e["id"] == entry]
        if not found:
            raise ChangeRefused(f"no journal entry {entry!r}", hint="kam log ORG lists them")
        target = found[0]
        if target.get("undoes"):
            raise ChangeRefused(f"entry {entry} is itself an undo",
                                hint="undo the change it reversed by applying it again")
        if target not in open_entries:
            raise ChangeRefused(f"entry {entry} is undone already")
    tables: dict[str, dict[str, Any]] = {}
    conflicts: list[str] = []
    for raw in reversed(target["changes"]):
        change = RecordChange.from_json(raw)
        if change.kind not in ("account", "person"):
            raise WorkspaceError(f"journal entry {target['id']}: unknown record kind "
                                 f"{change.kind!r}")
        table = tables.setdefault(change.kind, dict(org.accounts if change.kind == "account"
                                                    else org.people))
        current = table.get(change.id)
        now = current.model_dump(mode="json") if current is not None else None
        if now != change.after:
            conflicts.append(f"{change.kind} {change.id}")
        if change.before is None:
            table.pop(change.id, None)
        else:
            table[change.id] = load_record(change.kind, change.before)
    title = f"undo {target['id']} ({target['command']})"
    return make_plan("undo", {"entry": target["id"]}, title, org,
                     accounts=tables.get("account"), people=tables.get("person"),
                     undoes=target["id"], conflicts=conflicts)
