"""What plugins hand to kamcore: duties and rule violations.

Plain frozen dataclasses, not pydantic models, so that a plugin module can import them at the
top without making ``kam --help`` pay for pydantic or networkx.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kamcore.errors import Location

if TYPE_CHECKING:
    import pyarrow as pa

    from kamcore.workspace.tables import RecordTable


@dataclass(frozen=True)
class Violation:
    """What a rule's ``check`` yields; kamcore turns it into a :class:`~kamcore.Finding`.

    :param subject: the account or person id the problem is about.
    :param message: what is wrong, in one sentence.
    :param hint: how to fix it.
    :param column: the column at fault, when there is one.
    :param location: where the problem is, when it is not the subject's own record.
    """

    subject: str | None
    message: str
    hint: str | None = None
    column: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class Violations:
    """Many violations of a table-form rule at once, as columns (*new in 1.0*).

    A rule over a million accounts may find a hundred thousand problems; a
    :class:`Violation` each costs more than the check. kamcore locates every row in ``table``
    (file and line) and keeps the findings as columns until they are printed.

    :param table: the record table the rows are of (``tables.accounts``, ``tables.people``).
    :param rows: the table rows at fault (integers, in the order to report them).
    :param message: what is wrong: a string array with one sentence per row, or one text
        for all of them.
    :param hint: how to fix it: per row (a string array) or one text for all.
    :param column: the column at fault, when there is one.
    :param subject: per row, the id the problem is about (a string array); by default each
        row's own id.
    """

    table: RecordTable
    rows: Any
    message: pa.Array | str
    hint: pa.Array | str | None = None
    column: str | None = None
    subject: pa.Array | None = None


#: The cadences a duty may have, shortest first.
CADENCES = ("daily", "weekly", "monthly", "quarterly", "yearly", "as needed")


@dataclass(frozen=True)
class Duty:
    """Something the accountable manager must do for an account, and who may do it for them.

    :param id: stable id, prefixed by the plugin (``healthcare.coverage``).
    :param title: what to do, in a few words.
    :param cadence: one of daily, weekly, monthly, quarterly, yearly, as needed.
    :param who: ``manager``, or the support specialty it may be delegated to (``billing``).
    :param source: the plugin that defined the duty (kamcore fills it in).
    :param due: when it is next due, for duties with a date (a renewal, a filing deadline).
    :param replaces: ids of duties this one stands in for on this account (``core.returns``):
        they are left out of the roster and the brief. (.. versionadded:: 1.0)
    """

    id: str
    title: str
    cadence: str = "as needed"
    who: str = "manager"
    source: str = "core"
    due: dt.date | None = None
    replaces: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.id or not self.title:
            raise ValueError("a duty needs an id and a title")
        if self.cadence not in CADENCES:
            raise ValueError(f"cadence {self.cadence!r} is not one of {', '.join(CADENCES)}")
        if self.due is not None and not isinstance(self.due, dt.date):
            raise ValueError(f"due must be a datetime.date, not {self.due!r}")
        if self.replaces:  # most duties replace nothing: keep their construction cheap
            if isinstance(self.replaces, str) or not all(isinstance(r, str)
                                                         for r in self.replaces):
                raise ValueError(f"replaces must be a tuple of duty ids, not {self.replaces!r}")
            object.__setattr__(self, "replaces", tuple(self.replaces))
