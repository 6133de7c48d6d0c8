"""What changed between two days: moves, re-assignments, tier changes, hires and leavers.

Both days' tables come from the one reader with history.csv applied (as of ``start`` and as of
``end``); the records are compared column by column, joined on their ids, and each change is
valued with the metric it carried, in the reporting currency: a moved or re-tiered account its
subtree total, a re-assigned account its own value, a hire or a leaver their book (the own
values of the accounts they manage; a leaver's as of ``start``, a hire's as of ``end``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kamcore.registry import Registry
    from kamcore.workspace.tables import RecordTable, WorkspaceTables

KINDS = ("move", "assign", "tier", "hire", "leave")


@dataclass(frozen=True)
class OrgChange:
    """One change between the two days."""

    change: str
    record: str
    name: str | None
    before: str | None
    after: str | None
    amount: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"change": self.change, "record": self.record, "name": self.name,
                "from": self.before, "to": self.after, "amount": self.amount}


def org_diff(path: str | Path, start: date | str, end: date | str, *, metric: str = "revenue",
             period: str | None = None, registry: Registry | None = None
             ) -> tuple[list[OrgChange], str]:
    """Every change between ``start`` and ``end`` (the trees of each day compared).

    :param metric: what each change carried (subtree total, own value or book).
    :param period: the facts period of the amounts (default the latest).
    :returns: the changes (moves, assigns, tier changes, hires, leavers, in that order) and
        the reporting currency.
    :raises KamError: a date that does not parse, ``end`` before ``start``, an unknown metric.
    """
    from kamcore.errors import KamError
    from kamcore.rollup.values import unknown_metric_hint
    from kamcore.workspace.history import parse_date
    from kamcore.workspace.tables import read_workspace

    first, last = parse_date(start), parse_date(end)
    if last < first:
        raise KamError(f"--to {last} is before --from {first}", hint="swap the two days")
    before = read_workspace(path, registry=registry, as_of=first)
    before.require_readable()
    after = read_workspace(path, registry=registry, as_of=last)
    after.require_readable()
    if metric not in after.metrics:
        raise KamError(f"no metric {metric!r} in this org",
                       hint=unknown_metric_hint(metric, after.metrics))
    _, own_before = _values(before, metric, period)
    totals_after, own_after = _values(after, metric, period)
    out: list[OrgChange] = []
    for field, kind, amounts in (("parent", "move", totals_after),
                                 ("manager", "assign", own_after),
                                 ("tier", "tier", totals_after)):
        out += _changed(before.accounts, after.accounts, field, kind, amounts)
    out += _people(before, after, own_before, own_after)
    return out, after.settings.currency


def _values(tables: WorkspaceTables, metric: str, period: str | None
            ) -> tuple[dict[str, float], dict[str, float]]:
    """Subtree total and own value of ``metric`` per account id, on that day's tree."""
    import math

    from kamcore.rollup.api import rollup

    result = rollup(tables, [metric], period=period, own=True)
    totals: dict[str, float] = {}
    own: dict[str, float] = {}
    for record in result.table.select(["id", metric, f"{metric}_total"]).to_pylist():
        for target, key in ((own, metric), (totals, f"{metric}_total")):
            value = record[key]
            if value is not None and not math.isnan(value):
                target[record["id"]] = float(value)
    return totals, own


def _changed(before: RecordTable, after: RecordTable, field: str, kind: str,
             amounts: dict[str, float]) -> list[OrgChange]:
    """Records present on both days whose ``field`` differs."""
    import numpy as np
    import pyarrow.compute as pc

    from kamcore.structure import row_of

    rows = row_of(before.ids, after.ids)
    both = np.flatnonzero(rows >= 0)
    new = after.text(field).take(both)
    old = before.text(field).take(rows[both])
    same = pc.or_(pc.equal(old, new).fill_null(False),
                  pc.and_(pc.is_null(old), pc.is_null(new)))
    changed = pc.indices_nonzero(pc.invert(same)).to_numpy()
    ids, names = after.ids, after.text("name")
    out = []
    for i in changed.tolist():
        row = int(both[i])
        record = ids[row].as_py()
        out.append(OrgChange(kind, record, names[row].as_py(), old[i].as_py(), new[i].as_py(),
                             amounts.get(record)))
    return out


def _people(before: WorkspaceTables, after: WorkspaceTables, own_before: dict[str, float],
            own_after: dict[str, float]) -> list[OrgChange]:
    """Hires (present and active at the end, not at the start) and leavers (the reverse)."""
    out = []
    for kind, first, second, own, books_of in (("hire", before, after, own_after, after),
                                               ("leave", after, before, own_before, before)):
        active_then = _active(first)
        active_now = _active(second)
        book = _books(books_of, own)
        for person, name in active_now.items():
            if person not in active_then:
                out.append(OrgChange(kind, person, name, None, None, book.get(person)))
    return out


def _active(tables: WorkspaceTables) -> dict[str, str | None]:
    people = tables.people
    ids = people.ids.to_pylist()
    names = people.text("name").to_pylist()
    active = people.table.column("active").to_pylist()
    return {i: n for i, n, a in zip(ids, names, active, strict=True) if a}


def _books(tables: WorkspaceTables, own: dict[str, float]) -> dict[str, float]:
    """Each manager's book: the own values of the accounts they manage that day."""
    books: dict[str, float] = {}
    accounts = tables.accounts
    for record, manager in zip(accounts.ids.to_pylist(), accounts.text("manager").to_pylist(),
                               strict=True):
        if manager is not None and record in own:
            books[manager] = books.get(manager, 0.0) + own[record]
    return books
