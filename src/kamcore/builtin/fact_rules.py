"""Core rules over facts and FX: what would make a rollup refuse is a validate finding.

``kam validate`` passing means ``kam rollup`` runs: fact rows the rollup would refuse (unknown
accounts or metrics, periods that do not parse, values that are not finite numbers, duplicate
rows) and FX rates missing for a currency and period in use are findings with a location.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kamcore.errors import WorkspaceError
from kamcore.registry import Violation

if TYPE_CHECKING:
    from kamcore.rollup.facts import Facts
    from kamcore.rollup.fx import FxTable
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


def fx_rates_present(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np

    from kamcore.rollup.fx import MissingRate, read_fx

    if tables.folder is None:
        return
    try:
        fx = read_fx(tables.folder, tables.settings.currency)
    except WorkspaceError as exc:
        yield Violation(None, exc.message, exc.hint, location=exc.location)
        return
    accounts = tables.accounts
    currency = accounts.text("currency").to_pylist()
    facts = _facts(tables)
    in_facts = set() if facts is None else {facts.metrics[i] for i in
                                            np.unique(facts.metric).tolist()}
    needed: dict[tuple[str, str | None], int] = {}  # (currency, period) -> first account row
    for name, mdef in tables.metrics.items():
        if not mdef.is_money:
            continue
        if facts is not None and name in in_facts:
            mask = facts.metric == facts.metrics.index(name)
            for row, period in zip(facts.account[mask].tolist(),
                                   facts.period[mask].tolist(), strict=True):
                code = currency[row]
                if code and code != fx.reporting:
                    needed.setdefault((code, facts.periods[period].label), row)
        elif name in accounts.metrics:
            values = accounts.table.column(name).to_numpy()
            for row in np.flatnonzero(~np.isnan(values)).tolist():
                code = currency[row]
                if code and code != fx.reporting:
                    needed.setdefault((code, None), row)
    yield from _missing(tables, fx, needed, MissingRate)


def _missing(tables: WorkspaceTables, fx: FxTable, needed: dict[tuple[str, str | None], int],
             missing: type[Exception]) -> Iterator[Violation]:
    from kamcore.rollup.periods import parse_period

    accounts = tables.accounts
    for (code, label), row in needed.items():
        try:
            fx.rate(code, parse_period(label) if label else None)
        except missing as exc:
            assert isinstance(exc, WorkspaceError)
            yield Violation(accounts.ids[row].as_py(), exc.message, exc.hint,
                            column="currency", location=accounts.location(row, "currency"))


def totals_in_range(tables: WorkspaceTables) -> Iterator[Violation]:
    """What the rollup's range check refuses (KAM-R005), found by running that check.

    Cheap first: when the magnitudes of every value add up far below float64's limit (with
    room for any FX rate), no total can overflow and nothing more is read.
    """
    import numpy as np

    facts = _facts(tables)
    with np.errstate(over="ignore"):
        parts = [np.nansum(np.abs(tables.accounts.table.column(name).to_numpy()))
                 for name in tables.accounts.metrics]
        if facts is not None:
            parts.append(np.nansum(np.abs(facts.value)))
        small = float(np.sum(parts)) < 1e290
    if small:
        return
    from kamcore.errors import KamError
    from kamcore.rollup.api import load_inputs
    from kamcore.rollup.fx import LenientFx
    from kamcore.rollup.values import TotalOverflow, own_values

    try:
        inputs = load_inputs(tables, skip_bad=True, linked=False)
        inputs.fx = LenientFx(inputs.fx.reporting, inputs.fx.path, inputs.fx.rates)
        periods = list(inputs.facts.periods) if inputs.facts is not None else []
        own_values(inputs, list(inputs.metrics), periods, False)
    except TotalOverflow as exc:
        first = exc.rows[0] if exc.rows else 0
        yield Violation(tables.accounts.ids[first].as_py(), exc.message, exc.hint,
                        location=tables.accounts.location(first))
    except KamError:
        return  # a missing rate or unreadable input: the other rules name it


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
