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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.changes.plan import Plan, RecordChange, load_record, make_plan
from kamcore.errors import ChangeRefused, Location, WorkspaceError
from kamcore.paths import open_no_follow
from kamcore.settings import JOURNAL_FILE
from kamcore.wording import plural

if TYPE_CHECKING:
    from kamcore.org import OrgSource


def journal_path(folder: str | Path) -> Path:
    return Path(folder) / JOURNAL_FILE


@dataclass(frozen=True)
class Journal:
    """The journal as read: the entries that are sound and a located problem for every line
    that is not (not JSON, cut short, or not an entry kam wrote)."""

    path: Path
    #: Sound entries, oldest first.
    entries: list[dict[str, Any]] = field(default_factory=list)
    #: The line (1-based) of each sound entry, in the same order.
    lines: list[int] = field(default_factory=list)
    #: One error per bad line, each with its file and line.
    problems: list[WorkspaceError] = field(default_factory=list)

    def line_of(self, entry: dict[str, Any]) -> int:
        return self.lines[self.entries.index(entry)]


_JOURNAL_HINT = ("the journal is append-only and written only by kam; restore the line from "
                 "version control or a backup (or remove it: that change can then not be undone)")


def load_journal(folder: str | Path) -> Journal:
    """Every line of the journal checked: sound entries and located problems, never a crash.

    :raises WorkspaceError: the journal cannot be read at all (not UTF-8, a symbolic link, no
        permission).
    """
    from kamcore.workspace.snapshot import read_committed

    path = journal_path(folder)

    def read() -> str:
        fd = open_no_follow(path, os.O_RDONLY, what="the journal")
        with os.fdopen(fd, "rb") as handle:
            return handle.read().decode("utf-8")

    try:
        text = read_committed(path.parent, read)
    except FileNotFoundError:
        return Journal(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"cannot read {path}: {exc}", hint=_JOURNAL_HINT) from None
    journal = Journal(path)
    seen: set[str] = set()
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        problem = _check_line(line, last=number == len(lines))
        if problem is None:
            entry = json.loads(line)
            if entry["id"] in seen:
                problem = f"entry id {entry['id']!r} is used by an earlier line too"
            else:
                seen.add(entry["id"])
                journal.entries.append(entry)
                journal.lines.append(number)
                continue
        journal.problems.append(WorkspaceError(problem, location=Location(str(path), number),
                                               hint=_JOURNAL_HINT))
    return journal


def _check_line(line: str, *, last: bool) -> str | None:
    """Why ``line`` is not a journal entry kam wrote, or ``None`` when it is one."""
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError) as exc:
        cut = " (the last line is cut short: was kam stopped while writing?)" if last else ""
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return f"journal line is not JSON: {message}{cut}"
    if not isinstance(entry, dict):
        return f"journal line is a JSON {type(entry).__name__}, not an entry"
    for key in ("id", "time", "command"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            return f"journal entry has no {key!r} (or it is not text)"
    for key in ("actor", "reason", "undoes", "op"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            return f"journal entry {entry['id']}: {key!r} is not text"
    changes = entry.get("changes")
    if not isinstance(changes, list):
        return f"journal entry {entry['id']}: 'changes' is not a list of record changes"
    for number, change in enumerate(changes, start=1):
        where = f"journal entry {entry['id']}, change {number}"
        if not isinstance(change, dict):
            return f"{where} is not a record change (an object with kind, id, before, after)"
        if change.get("kind") not in ("account", "person", "contact"):
            return f"{where}: kind {change.get('kind')!r} is not account, person or contact"
        if not isinstance(change.get("id"), str):
            return f"{where}: 'id' is missing or not text"
        for key in ("before", "after"):
            if change.get(key) is not None and not isinstance(change[key], dict):
                return f"{where}: {key!r} is not a record (an object) or null"
    if entry.get("args") is not None and not isinstance(entry["args"], dict):
        return f"journal entry {entry['id']}: 'args' is not an object"
    briefs = entry.get("briefs")
    if briefs is not None and not (isinstance(briefs, list) and all(
            isinstance(b, dict) and isinstance(b.get("path"), str)
            and isinstance(b.get("sha256"), str) for b in briefs)):
        return (f"journal entry {entry['id']}: 'briefs' is not a list of hand-over briefs "
                "(objects with path and sha256)")
    return None


def read_journal(folder: str | Path) -> list[dict[str, Any]]:
    """Every entry, oldest first (an empty list when nothing was journalled yet).

    :raises WorkspaceError: a line is not a sound entry (the first bad one's file and line are
        named, and every bad line is listed), or the journal is a symbolic link (kam neither
        reads nor appends through one).
    """
    journal = load_journal(folder)
    if journal.problems:
        raise journal_error(journal)
    return journal.entries


def journal_error(journal: Journal) -> WorkspaceError:
    """One error for every bad line of ``journal``, located at the first."""
    first = journal.problems[0]
    others = [f"line {p.location.line}: {p.message}" for p in journal.problems[1:]
              if p.location is not None]
    more = ("; also " + "; ".join(others[:10])) if others else ""
    return WorkspaceError(first.message + more, location=first.location, hint=_JOURNAL_HINT)


def _refuse_bad_lines(journal: Journal, *, after: int) -> None:
    """:raises WorkspaceError: the journal has a bad line after line ``after``: undo does not
    guess what it held."""
    bad = [p for p in journal.problems if p.location and (p.location.line or 0) > after]
    if bad:
        first = bad[0]
        raise WorkspaceError(f"undo refused: {first.message}; kam cannot tell what this line "
                             "changed or undid", location=first.location, hint=_JOURNAL_HINT)


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]


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


def undo_plan(org: OrgSource, *, entry: str | None = None) -> Plan:
    """The plan that reverses journal entry ``entry`` (default: the last change not undone).

    Records are put back exactly as the entry's ``before`` says (new records removed). A record
    that changed since the entry (hand edits) is listed in ``plan.conflicts``; ``apply`` then
    refuses unless forced.

    :raises ChangeRefused: nothing to undo, or the entry is unknown, an undo, or undone already.
    """
    from kamcore.workspace.loader import as_org

    org = as_org(org)
    if org.path is None:
        raise WorkspaceError("this org has no folder, so it has no journal")
    journal = load_journal(org.path)
    entries = journal.entries
    open_entries = undoable(entries)
    if entry is None:
        if not open_entries:
            _refuse_bad_lines(journal, after=0)
            raise ChangeRefused("nothing to undo: every journalled change is undone already"
                                if entries else "nothing to undo: the journal is empty",
                                hint="kam log ORG shows the journal")
        target = open_entries[-1]
    else:
        found = [e for e in entries if e["id"] == entry]
        if not found:
            _refuse_bad_lines(journal, after=0)
            raise ChangeRefused(f"no journal entry {entry!r}", hint="kam log ORG lists them")
        target = found[0]
        if target.get("undoes"):
            raise ChangeRefused(f"entry {entry} is itself an undo",
                                hint="undo the change it reversed by applying it again")
        if target not in open_entries:
            raise ChangeRefused(f"entry {entry} is undone already")
    line = journal.line_of(target)
    # A bad line after the target may be its undo, or the change that really is the last.
    _refuse_bad_lines(journal, after=line)
    tables: dict[str, dict[str, Any]] = {}
    conflicts: list[str] = []
    for raw in reversed(target["changes"]):
        change = RecordChange.from_json(raw)
        if change.kind == "contact":
            continue  # reversed below: only their owner cell changed
        table = tables.setdefault(change.kind, dict(org.accounts if change.kind == "account"
                                                    else org.people))
        current = table.get(change.id)
        now = current.model_dump(mode="json") if current is not None else None
        if now != change.after:
            conflicts.append(f"{change.kind} {change.id}")
        if change.before is None:
            table.pop(change.id, None)
        else:
            try:
                table[change.id] = load_record(change.kind, change.before)
            except ValueError as exc:  # pydantic's ValidationError is one
                raise WorkspaceError(
                    f"journal entry {target['id']}: the {change.kind} {change.id} it would "
                    f"restore is not a valid record ({_first_line(exc)}); nothing to undo "
                    "safely", location=Location(str(journal.path), line), hint=_JOURNAL_HINT
                ) from None
    title = f"undo {target['id']} ({target['command']})"
    withdraws = list(target.get("briefs") or [])
    notes = [f"withdraws {plural(len(withdraws), 'hand-over brief')} of that change: "
             + ", ".join(w["path"] for w in withdraws)] if withdraws else []
    from kamcore.changes.contacts import reversed_changes

    return make_plan("undo", {"entry": target["id"]}, title, org,
                     accounts=tables.get("account"), people=tables.get("person"),
                     contacts=reversed_changes(target["changes"]),
                     undoes=target["id"], conflicts=conflicts, withdraws=withdraws, notes=notes)
