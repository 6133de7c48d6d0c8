"""Core rules over facts and FX: what would make a rollup refuse is a validate finding.

``kam validate`` passing means ``kam rollup`` runs: fact rows the rollup would refuse (unknown
accounts or metrics, periods that do not parse, values that are not finite numbers, duplicate
rows) and FX rates missing for a currency and period in use are findings with a location.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kamcore.errors import KamError, WorkspaceError
from kamcore.registry import Violation

if TYPE_CHECKING:
    from kamcore.rollup.facts import Facts
    from kamcore.workspace.tables import WorkspaceTables


def _facts(tables: WorkspaceTables) -> Facts | None:
    """The workspace's facts, checked with every bad row kept aside (read once per run)."""
    from kamcore.rollup.facts import read_facts
    from kamcore.workspace.facts import find_facts

    if "_facts" not in tables.__dict__:
        path = find_facts(tables.folder) if tables.folder is not None else None
        try:
            tables.__dict__["_facts"] = None if path is None else read_facts(
                path, tables.accounts.ids, list(tables.metrics), skip_bad=True)
        except WorkspaceError as exc:  # unreadable as a whole: KAM150 says why, once
            tables.__dict__["_facts"] = None
            tables.__dict__["_facts_error"] = exc
    facts: Facts | None = tables.__dict__["_facts"]
    return facts


def facts_readable(tables: WorkspaceTables) -> Iterator[Violation]:
    facts = _facts(tables)
    error: WorkspaceError | None = tables.__dict__.get("_facts_error")
    if error is not None:
        yield Violation(None, error.message, error.hint, location=error.location)
    for problem in facts.skipped if facts is not None else []:
        yield Violation(None, problem.message.removeprefix("fact: "), problem.hint,
                        location=problem.location)


def facts_metrics_known(tables: WorkspaceTables) -> Iterator[Violation]:
    facts = _facts(tables)
    for problem in facts.unknown_metrics if facts is not None else []:
        yield Violation(None, problem.message.removeprefix("fact: ") + "; rollups leave these "
                        "rows out", problem.hint, location=problem.location)


@dataclass
class _OwnValues:
    """What the rollup's own-value pass (FX conversion, range check) would refuse."""

    #: message (currency and period) -> the error and the first account row needing it
    missing: dict[str, tuple[WorkspaceError, int]] = field(default_factory=dict)
    overflow: KamError | None = None
    rows: list[int] = field(default_factory=list)
    unreadable: WorkspaceError | None = None


def _own_values(tables: WorkspaceTables) -> _OwnValues:
    """Run the rollup's own-value pass over every metric and period once per validate run.

    The rules below report what it finds: one implementation of "which FX rates does a
    rollup need" and "can its totals be held", so validate passing means rollup runs.
    """
    from kamcore.errors import TotalOverflow

    if "_own_values" in tables.__dict__:
        found: _OwnValues = tables.__dict__["_own_values"]
        return found
    found = tables.__dict__["_own_values"] = _OwnValues()
    from kamcore.rollup.api import load_inputs
    from kamcore.rollup.values import own_values

    try:
        tables.require_readable()
    except KamError:
        return found  # records or history that do not read: the reader's findings say why
    try:
        inputs = load_inputs(tables, linked=False, facts=_facts(tables))
    except WorkspaceError as exc:  # fx.csv that does not read
        found.unreadable = exc
        return found
    except KamError:
        return found
    periods = list(inputs.facts.periods) if inputs.facts is not None else []

    def missing_rate(exc: WorkspaceError, row: int) -> None:
        found.missing.setdefault(exc.message, (exc, row))  # once per currency and period

    try:
        own_values(inputs, list(inputs.metrics), periods, False, missing_rate=missing_rate)
    except TotalOverflow as exc:
        found.overflow, found.rows = exc, exc.rows
    return found


def fx_rates_present(tables: WorkspaceTables) -> Iterator[Violation]:
    found = _own_values(tables)
    if found.unreadable is not None:
        exc = found.unreadable
        yield Violation(None, exc.message, exc.hint, location=exc.location)
    accounts = tables.accounts
    for exc, row in found.missing.values():
        yield Violation(accounts.ids[row].as_py(), exc.message, exc.hint, column="currency",
                        location=accounts.location(row, "currency"))


def totals_in_range(tables: WorkspaceTables) -> Iterator[Violation]:
    found = _own_values(tables)
    if found.overflow is not None:
        first = found.rows[0] if found.rows else 0
        yield Violation(tables.accounts.ids[first].as_py(), found.overflow.message,
                        found.overflow.hint, location=tables.accounts.location(first))


def metric_in_facts_and_column(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np

    facts = _facts(tables)
    if facts is None:
        return
    in_facts = {facts.metrics[i] for i in np.unique(facts.metric).tolist()}
    # in the order metrics are declared, whatever the column order of the file
    both = [name for name in tables.metrics if name in tables.accounts.metrics
            and name in in_facts
            and not np.isnan(tables.accounts.table.column(name).to_numpy()).all()]
    if both:
        names = ", ".join(repr(n) for n in both)
        yield Violation(None, f"{names} {'are' if len(both) > 1 else 'is'} in "
                        f"{facts.path.name} and in accounts.csv columns; rollups use "
                        f"{facts.path.name} for {'them' if len(both) > 1 else 'it'} and ignore "
                        "the column values", f"drop the column(s), or move their values into "
                        f"{facts.path.name}", column=both[0],
                        location=tables.accounts.location(0, both[0]))
