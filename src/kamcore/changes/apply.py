"""Applying a plan: lock, re-load, re-plan, refuse or write every touched file, journal it.

The plan a user saw was computed from the files as they were then; another process may have
changed them since. So :func:`apply` takes the workspace lock, loads the files again, runs the
same operation again (``plan.op`` with ``plan.args``) and writes *that* result; when it differs
from what was shown, :attr:`Applied.replanned` says so. See :mod:`kamcore.changes.txn` for what
the write guarantees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.atomic import atomic_write_texts
from kamcore.changes.dated import dated_files, undoes_history
from kamcore.changes.journal import entry_line, make_entry
from kamcore.changes.ops import replan
from kamcore.changes.plan import Plan
from kamcore.changes.txn import commit, workspace_lock
from kamcore.errors import ChangeRefused, WorkspaceError, WriteFailed
from kamcore.settings import ACCOUNTS_FILE, CONFIG_FILE, PEOPLE_FILE
from kamcore.workspace.tables import as_written, same_table

if TYPE_CHECKING:
    import pluggy

    from kamcore.org import Org
    from kamcore.workspace.tables import WorkspaceTables


@dataclass
class Applied:
    """What :func:`apply` did."""

    #: The plan as written (re-planned under the lock).
    plan: Plan
    #: The journal entry appended, or ``None`` when there was nothing to change.
    entry: dict[str, Any] | None
    #: Files replaced.
    files: list[Path] = field(default_factory=list)
    #: Hand-over briefs written.
    briefs: list[Path] = field(default_factory=list)
    #: True when the files had changed since ``plan`` was computed and the result differs.
    replanned: bool = False
    #: Things the user should know (plugin failures while writing briefs ...).
    warnings: list[str] = field(default_factory=list)
    #: Why the hand-over briefs could not be written (the change itself was), else ``None``.
    brief_error: WriteFailed | None = None
    #: Hand-over briefs of the undone change that were removed (undo only).
    withdrawn: list[Path] = field(default_factory=list)


def apply(plan: Plan, *, by: str | None = None, reason: str | None = None,
          force: bool = False, briefs: str | Path | None = None, notes: str | None = None,
          pm: pluggy.PluginManager | None = None, timeout: float = 30.0) -> Applied:
    """Write ``plan`` to its workspace, atomically, with a journal entry.

    :param plan: from :func:`~kamcore.changes.move`, :func:`~kamcore.changes.handover`, ...
    :param by: the actor journalled (default ``$KAM_ACTOR``, else ``$USER``).
    :param reason: why, journalled.
    :param force: write even if the change adds error findings (or undo overwrites later edits).
    :param briefs: a folder for hand-over briefs (hand-overs and leaves only).
    :param notes: the predecessor's notes for the briefs (Markdown; ``## ACCOUNT-ID`` sections).
    :param pm: plugin manager whose ``kam_account_duties`` fill the briefs.
    :param timeout: seconds to wait for another change to finish.
    :returns: what was written.
    :raises ChangeRefused: the change adds an error finding and ``force`` is false.
    """
    folder = plan.before.path
    if folder is None:
        raise WorkspaceError("this org was not loaded from a folder, so there is nowhere to "
                             "write", hint="kamcore.save(org, path) first, then load it")
    with workspace_lock(folder, timeout=timeout):
        current, unchanged, read = _current(plan, folder)
        fresh = plan if unchanged else replan(current, plan.op, plan.args)
        replanned = _signature(fresh) != _signature(plan)
        refused = fresh.refused_because
        if refused and not force:
            raise ChangeRefused(f"{fresh.title}: refused, {refused}",
                                hint=_refusal_hint(fresh))
        if fresh.is_empty and not undoes_history(fresh):
            return Applied(fresh, None, replanned=replanned)
        entry = make_entry(fresh, by=by, reason=reason)
        # history.csv too, in the same commit; the files as read under this lock
        files = dated_files(fresh, folder, entry,
                            written=None if read is None else as_written(read))
        texts: dict[Path, str] = {}
        warnings: list[str] = []
        if briefs is not None and fresh.receivers:
            from kamcore.changes.brief import brief_records, render_briefs

            texts = render_briefs(fresh, Path(briefs), pm=pm, notes=notes, reason=reason,
                                  warnings=warnings)
            entry["briefs"] = brief_records(folder, texts)
        commit(folder, files, entry_line(entry))
        result = Applied(fresh, entry, [folder / name for name in files], replanned=replanned,
                         warnings=warnings)
        if fresh.withdraws:
            from kamcore.changes.brief import withdraw_briefs

            result.withdrawn, kept = withdraw_briefs(folder, fresh.withdraws)
            result.warnings += kept
        try:
            atomic_write_texts(texts, written=result.briefs)
        except (OSError, WriteFailed) as exc:  # the change is written; say so
            why = exc.message if isinstance(exc, WriteFailed) else exc.strerror or str(exc)
            result.brief_error = WriteFailed(
                f"the change was applied (journal entry {entry['id']}) but the hand-over "
                f"briefs could not be written to {briefs}: {why}", path=str(briefs),
                hint="free some disk space or fix the folder's permissions; `kam undo` "
                "and apply again to get the briefs, or pass --briefs DIR")
    return result


def render_files(plan: Plan) -> dict[str, bytes]:
    """The content of every file the plan touches, rendered the way ``kamcore.save`` writes."""
    from kamcore.workspace import saver

    org = plan.after
    kinds = {c.kind for c in plan.changes}
    if org.storage == "inline":
        return {CONFIG_FILE: saver.render_inline_yaml(org).encode("utf-8")}
    files: dict[str, bytes] = {}
    if "account" in kinds:
        files[ACCOUNTS_FILE] = saver.render_accounts(org).encode("utf-8")
    if "person" in kinds:
        files[PEOPLE_FILE] = saver.render_people(org).encode("utf-8")
    return files


def _current(plan: Plan, folder: Path) -> tuple[Org, bool, WorkspaceTables | None]:
    """The org as the files hold it now, whether it is the one ``plan`` was made from, and
    the tables read (``None``: read as an org).

    A plan made from the reader's tables (a plan file) is compared as tables (Arrow compares
    100,000 rows in milliseconds; comparing as many records costs seconds), and the org is
    built again only when they differ. Undo plans are always re-made: the journal they depend
    on may have moved on.
    """
    if plan.tables is None or plan.op == "undo":
        current = _reload(plan.before, folder)
        return current, plan.op != "undo" and _same_records(current, plan.before), None
    from kamcore.workspace.objects import org_from_tables
    from kamcore.workspace.tables import read_workspace

    before = plan.tables[0]
    now = read_workspace(folder, registry=plan.before.registry, as_of=plan.before.as_of)
    now.require_readable()
    if (now.settings == before.settings and same_table(now.accounts.table, before.accounts.table)
            and same_table(now.people.table, before.people.table)):
        return plan.before, True, now
    current = org_from_tables(now)
    current.as_of = now.as_of
    return current, False, now


def _reload(before: Org, folder: Path) -> Org:
    from kamcore.workspace import load

    return load(folder, registry=before.registry, as_of=before.as_of)


def _same_records(current: Org, before: Org) -> bool:
    """True when the files hold exactly what the plan was made from (no need to re-plan).

    Undo plans are always re-made: the journal they depend on may have moved on.
    """
    return (current.settings == before.settings and current.accounts == before.accounts
            and current.people == before.people)


def _signature(plan: Plan) -> list[dict[str, Any]]:
    return [c.to_json() for c in plan.changes]


def _refusal_hint(plan: Plan) -> str:
    shown = [f"{f.code} {f.subject or ''}: {f.message}" for f in plan.errors_added[:5]]
    more = len(plan.errors_added) - len(shown)
    lines = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
    prefix = f"new errors: {lines}. " if shown else ""
    return prefix + "Fix the plan, or pass --force to write it anyway"
