"""Changes and turnover: plan a change, look at its diff, apply it safely, undo it.

>>> import shutil
>>> import kamcore
>>> from kamcore import changes
>>> copy = shutil.copytree("examples/acme", "my-acme")               # doctest: +SKIP
>>> org = kamcore.load(copy)                                         # doctest: +SKIP
>>> plan = changes.leave(org, "KAM-ACME-DE", spread=True)           # doctest: +SKIP
>>> print(plan.diff())                                                # doctest: +SKIP
>>> changes.apply(plan, by="ana", reason="resigned")                 # doctest: +SKIP
>>> changes.apply(changes.undo_plan(kamcore.load(copy)))             # doctest: +SKIP

Every function that changes an org returns a :class:`Plan` and writes nothing; only
:func:`apply` (and :func:`undo`) write, under the workspace lock, with a journal entry (hence
the copy: the bundled example stays as shipped).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.changes.apply import Applied, apply
from kamcore.changes.coverage import Coverage, coverage
from kamcore.changes.journal import read_journal, undo_plan
from kamcore.changes.ops import assign, handover, hire, leave, move
from kamcore.changes.plan import Plan, RecordChange, Unplaced
from kamcore.changes.spread import spread_book
from kamcore.changes.txn import recover, workspace_lock

if TYPE_CHECKING:
    import pluggy


def undo(path: str | Path, *, entry: str | None = None, by: str | None = None,
         reason: str | None = None, force: bool = False,
         pm: pluggy.PluginManager | None = None, **options: Any) -> Applied:
    """Reverse the last change not undone yet (or journal entry ``entry``) and journal it.

    :param path: the workspace folder.
    :raises ChangeRefused: nothing to undo; or records changed since and ``force`` is false.
    """
    from kamcore.changes.dated import undo_day
    from kamcore.workspace import load

    org = load(path, pm=pm, as_of=undo_day(path, entry))  # as of the undone change's day
    return apply(undo_plan(org, entry=entry), by=by, reason=reason, force=force, **options)


__all__ = [
    "Applied",
    "Coverage",
    "Plan",
    "RecordChange",
    "Unplaced",
    "apply",
    "assign",
    "coverage",
    "handover",
    "hire",
    "leave",
    "move",
    "read_journal",
    "recover",
    "spread_book",
    "undo",
    "undo_plan",
    "workspace_lock",
]
