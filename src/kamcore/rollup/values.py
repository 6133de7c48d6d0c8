"""Each account's own value of each metric, in the reporting currency, per period column.

Where values come from: a metric that appears in the facts file takes its values from the facts
of the selected period(s); any other metric from its accounts.csv column. Money (a metric whose
unit is ``money``) is converted with :mod:`kamcore.rollup.fx`: facts at their period's rate,
accounts.csv values at the undated (``*``) rate. Over a period range, an account's facts combine
as the metric's ``periods`` says (``last``: the latest period's value, for point-in-time
metrics such as MRR or headcount; ``sum``, ``mean``, ``max``, ``min``), else by its
aggregation: sum for ``sum``; min / max for ``min`` / ``max``; the mean of the periods for
``mean`` and ``count``; for ``wmean``, sum(w * x) / sum(w) with each period's own weight fact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.errors import (
    KamError,
    TotalOverflow,
    UnknownMetric,
    WorkspaceError,
    did_you_mean,
)
from kamcore.rollup.periods import Period, latest

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    import pyarrow as pa

    from kamcore.errors import MissingRate
    from kamcore.models import MetricDef
    from kamcore.registry import Registry
    from kamcore.rollup.columnar import Columns
    from kamcore.rollup.engines.sql import SqlFacts
    from kamcore.rollup.facts import Facts
    from kamcore.rollup.fx import FxTable

    #: Told of each missing FX rate and the first account row that needs it.
    MissingRateFn = Callable[[MissingRate, int], None]


#: Plugins whose metrics every org has (the core's) or that the workspace declared itself.
CORE_PLUGINS = ("core", "core_metrics", "kamcore.builtin.core_metrics", "workspace")


@dataclass
class Inputs:
    """Everything a rollup reads, already checked."""

    accounts: Columns
    metrics: dict[str, MetricDef]
    currency: str
    fx: FxTable
    facts: Facts | None = None
    people: Columns | None = None
    folder: Path | None = None
    name: str = ""
    #: People's ids and names, for showing a manager's name beside the id (when known).
    person_names: tuple[pa.Array, pa.Array] | None = None
    #: The plugins' declarations (field models normalise group keys).
    registry: Registry | None = None
    #: An engine that totals the facts (``facts`` is then only their outline).
    fact_source: SqlFacts | None = None
    #: The territory tree and each account's territory row (``len(territories)``: none), for
    #: a rollup by territory.
    territories: Columns | None = None
    territory_codes: np.ndarray | None = None


@dataclass
class PeriodValues:
    """Own values for one output column set: ``label`` None when not split by period."""

    label: str | None
    values: np.ndarray  # (k, N) float64, original account order


def unknown_metric_hint(name: str, known: Iterable[str]) -> str:
    """``did you mean 'revenue'? known metrics: orders, revenue, ...``: the closest name, as
    ``--by contry`` gets, then every metric; for each command that takes ``--metric``."""
    names = sorted(known)
    choices = "known metrics: " + ", ".join(names)
    close = did_you_mean(name, names, n=1)
    return f"{close} {choices}" if close else choices


def resolve_metrics(inputs: Inputs, wanted: Sequence[str] | None, *,
                    compact: bool = False) -> list[str]:
    """The metrics to show: the ones asked for, or every metric with any value.

    ``compact`` (the terminal's tree views) keeps, by default, the core's and the workspace's
    own metrics, so that the table fits a terminal; industry plugins' metrics then show with
    ``--metric`` or in the group views.

    :raises UnknownMetric: naming the metric and the known ones.
    """
    if wanted:
        for name in wanted:
            if name not in inputs.metrics:
                raise UnknownMetric(f"unknown metric {name!r}",
                                    hint=unknown_metric_hint(name, inputs.metrics))
        return list(dict.fromkeys(wanted))
    have = set(inputs.accounts.numbers)
    if inputs.facts is not None:
        import numpy as np

        have |= {inputs.facts.metrics[i] for i in np.unique(inputs.facts.metric).tolist()}
    from kamcore.models.formula import formula_names

    found = [m for m, mdef in inputs.metrics.items() if m in have or (
        mdef.derive and all(n in have or inputs.accounts.column(n) is not None
                            for n in formula_names(mdef.derive)))]
    if compact:
        own = [m for m in found if inputs.metrics[m].plugin in CORE_PLUGINS]
        return own or found
    return found


def with_weights(inputs: Inputs, names: list[str]) -> list[str]:
    """``names`` plus the metrics they need (appended, hidden): the weights of weighted means
    and the inputs of derived metrics, transitively."""
    from kamcore.models.formula import formula_names

    out = list(names)
    for name in out:  # grows while it runs: what an added metric needs is added too
        mdef = inputs.metrics[name]
        needs = formula_names(mdef.derive) if mdef.derive else []
        if mdef.aggregation == "wmean" and mdef.weight:
            needs.append(mdef.weight)
        out.extend(need for need in needs if need not in out and need in inputs.metrics)
    return out


def select_periods(inputs: Inputs, selection: Period | None,
                   by_period: bool) -> tuple[Period | None, list[Period]]:
    """The period filter in effect and, with ``by_period``, the fact periods it holds.

    Without ``--period`` a rollup over facts shows the latest period.
    """
    facts = inputs.facts
    if facts is None:
        if selection is not None or by_period:
            raise WorkspaceError("--period and --by-period need facts: this workspace has no "
                                 "facts.csv or facts.parquet",
                                 hint="add facts.csv with columns account,period,metric,value")
        return None, []
    if not facts.periods:
        return selection, []
    if selection is None:
        if by_period:
            return None, list(facts.periods)
        selection = latest(facts.periods)
    chosen = [p for p in facts.periods if selection.contains(p)]
    if not chosen:
        raise KamError(f"no facts in {selection.label}",
                       hint="the facts cover " + ", ".join(p.label for p in facts.periods))
    return selection, chosen


def own_values(inputs: Inputs, names: Sequence[str], columns: list[Period],
               by_period: bool, *, missing_rate: MissingRateFn | None = None
               ) -> list[PeriodValues]:
    """Own values per metric (rows) and account (columns), one block per period column.

    :param missing_rate: called with the error and the first account row that needs it for
        each FX rate that is missing (the value then counts at rate 1); by default a missing
        rate raises. ``kam validate`` passes a collector, so it finds exactly what a rollup
        would refuse.
    :raises MissingRate: an FX rate is missing (without ``missing_rate``).
    :raises TotalOverflow: totals would pass float64's range.
    """
    import numpy as np

    n = len(inputs.accounts)
    facts = inputs.facts
    fact_metrics = set() if facts is None else {facts.metrics[i] for i in
                                                 np.unique(facts.metric).tolist()}
    cur_codes, currencies = _currency_codes(inputs.accounts)
    blocks = [PeriodValues(p.label, np.full((len(names), n), np.nan))
              for p in (columns if by_period else [])] or [PeriodValues(None, np.full(
                  (len(names), n), np.nan))]
    with np.errstate(over="ignore"):  # an overflow is found and named by check_range
        for row, name in enumerate(names):
            mdef = inputs.metrics[name]
            if mdef.derive:
                continue  # computed below, from the other rows
            if name in fact_metrics and facts is not None:
                _from_facts(inputs, facts, row, name, mdef, columns, by_period, blocks,
                            cur_codes, currencies, missing_rate)
            elif name in inputs.accounts.numbers:
                values = inputs.accounts.numbers[name]
                if mdef.is_money:
                    rates = _undated_rates(inputs, values, cur_codes, currencies,
                                           missing_rate)
                    if (rates != 1.0).any():  # all in the reporting currency: as they are
                        values = values * rates[cur_codes]
                for block in blocks:
                    block.values[row] = values
        _derive(inputs, names, blocks)
        check_range(inputs, names, blocks)
    return blocks


def _derive(inputs: Inputs, names: Sequence[str], blocks: Sequence[PeriodValues]) -> None:
    """Each derived metric's own values from its inputs' (in ``names`` by
    :func:`with_weights`), inputs before the metrics that use them. A field in a formula
    (``telecom.lines``) takes each account's value as the plugin's model makes it, the same
    in every period."""
    import numpy as np

    from kamcore.fieldvalues import field_numbers
    from kamcore.models.formula import evaluate, field_names, formula_names

    pending = [n for n in names if inputs.metrics[n].derive]
    fields = {name: field_numbers(inputs.registry, name, inputs.accounts.column(name),
                                  len(inputs.accounts))
              for name in dict.fromkeys(f for n in pending for f in field_names(
                  formula_names(inputs.metrics[n].derive or "")))}
    while pending:
        ready = [n for n in pending if not any(
            u in pending for u in formula_names(inputs.metrics[n].derive or ""))]
        if not ready:  # a loop; the registry and kam.yaml checks refuse these first
            break
        for name in ready:
            formula = inputs.metrics[name].derive or ""
            for block in blocks:
                rows = {used: fields[used] if used in fields else block.values[
                    names.index(used)] for used in formula_names(formula)
                    if used in names or used in fields}
                if len(rows) < len(formula_names(formula)):
                    continue
                with np.errstate(divide="ignore", invalid="ignore"):
                    result = np.asarray(evaluate(formula, rows), dtype=float)
                block.values[names.index(name)] = np.where(np.isfinite(result), result,
                                                           np.nan)
            pending.remove(name)


def check_range(inputs: Inputs, names: Sequence[str], blocks: Sequence[PeriodValues]) -> None:
    """Refuse values whose totals could overflow, naming the largest ones.

    Every total a rollup shows (a subtree, a book, a team, a group, the org) adds a subset of
    the own values, so when the sum of their magnitudes is finite no total can overflow: one
    check here instead of one per view. Weighted means add value x weight, checked the same way.
    """
    import numpy as np

    for row, name in enumerate(names):
        mdef = inputs.metrics[name]
        if mdef.aggregation in ("min", "max", "count"):
            continue
        for block in blocks:
            weighted = mdef.aggregation == "wmean" and mdef.weight in names
            if not weighted and _bounded(block.values[row]):
                continue
            magnitude = np.abs(block.values[row])
            if weighted:
                magnitude = magnitude * np.abs(block.values[names.index(mdef.weight)])
            if np.isfinite(np.nansum(magnitude)):
                continue
            magnitude = np.nan_to_num(magnitude, nan=0.0)
            worst = np.argsort(-magnitude, kind="stable")[:3]
            worst = worst[magnitude[worst] >= magnitude[worst[0]] / 1e3]
            shown = "; ".join(f"{_who(inputs, int(i))}: {_magnitude(block.values[row][i])}"
                              for i in worst.tolist())
            period = f" in {block.label}" if block.label else ""
            raise TotalOverflow(
                f"{name}{period}: the values add up past the largest number a total can hold "
                f"(about 1.8e308); the largest: {shown}",
                hint="check those cells for a typo or a wrong unit; no total is shown",
                rows=worst.tolist())


def _bounded(values: np.ndarray) -> bool:
    """Whether the magnitudes of ``values`` surely add up to a finite number: the largest
    magnitude times the count is below float64's largest (two reductions, no copy; a
    ``False`` only sends the row to the exact sum)."""
    import math

    import numpy as np

    if not len(values):
        return True
    peak = max(abs(float(np.fmax.reduce(values))), abs(float(np.fmin.reduce(values))))
    return math.isnan(peak) or peak * len(values) < 1.7e308  # NaN: no value at all


def _magnitude(value: float) -> str:
    """A value for the overflow message: an own value that already overflowed (its periods or
    owners added up) is shown as past the limit, not as ``inf``."""
    import math

    if math.isinf(value):
        return ("-" if value < 0 else "") + "past 1.8e308 on its own"
    return f"{value:g}"


def _currency_codes(accounts: Columns) -> tuple[np.ndarray, list[str | None]]:
    import numpy as np

    col = accounts.column("currency")
    if col is None:
        return np.zeros(len(accounts), dtype=np.int64), [None]
    enc = col.dictionary_encode()
    names = [c.strip().upper() if c else None for c in enc.dictionary.to_pylist()] + [None]
    codes = enc.indices.fill_null(len(names) - 1).to_numpy(zero_copy_only=False)
    return codes.astype(np.int64), names


def _rate(inputs: Inputs, currency: str | None, period: Period | None, row: int,
          missing_rate: MissingRateFn | None) -> float:
    from kamcore.errors import MissingRate

    if missing_rate is None:
        return inputs.fx.rate(currency, period, needed_by=partial(_who, inputs, row))
    try:
        return inputs.fx.rate(currency, period)
    except MissingRate as exc:
        missing_rate(exc, row)
        return 1.0


def _undated_rates(inputs: Inputs, values: np.ndarray, codes: np.ndarray,
                   currencies: list[str | None], missing_rate: MissingRateFn | None
                   ) -> np.ndarray:
    """The undated rate of each currency code (1 for a currency no value is in)."""
    import numpy as np

    present = ~np.isnan(values)
    used = np.flatnonzero(np.bincount(codes[present], minlength=len(currencies)))
    table = np.ones(len(currencies))
    for code in used.tolist():
        row = int(np.argmax((codes == code) & present))
        table[code] = _rate(inputs, currencies[code], None, row, missing_rate)
    return table


def _who(inputs: Inputs, row: int) -> str:
    acc = inputs.accounts
    where = acc.location(row)
    return f"account {acc.ids[row].as_py()!r}" + (f" at {where}" if where else "")


def _from_facts(inputs: Inputs, facts: Facts, row: int, name: str, mdef: MetricDef,
                columns: list[Period], by_period: bool, blocks: list[PeriodValues],
                cur_codes: np.ndarray, currencies: list[str | None],
                missing_rate: MissingRateFn | None) -> None:
    import numpy as np

    n = len(inputs.accounts)
    metric_code = facts.metrics.index(name)
    chosen = {facts.periods.index(p) for p in columns}
    mask = (facts.metric == metric_code) & np.isin(facts.period, list(chosen))
    acc = facts.account[mask]
    per = facts.period[mask]
    val = facts.value[mask]
    if mdef.is_money and len(val):
        pair = cur_codes[acc] * len(facts.periods) + per
        uniq, inverse = np.unique(pair, return_inverse=True)
        rates = np.empty(len(uniq))
        for i, key in enumerate(uniq.tolist()):
            cur, p = divmod(key, len(facts.periods))
            first = int(np.flatnonzero(pair == key)[0])
            rates[i] = _rate(inputs, currencies[cur], facts.periods[p], int(acc[first]),
                             missing_rate)
        val = val * rates[inverse]
    if by_period:
        for block, period in zip(blocks, columns, strict=True):
            pick = per == facts.periods.index(period)
            block.values[row, acc[pick]] = val[pick]
        return
    agg = mdef.periods or mdef.aggregation
    count = np.bincount(acc, minlength=n)
    if agg == "last":  # point in time: each account's latest period in the range
        order = np.lexsort((per, acc))
        acc_s, val_s = acc[order], val[order]
        last = np.r_[acc_s[1:] != acc_s[:-1], True] if len(acc_s) else np.zeros(0, bool)
        out = np.full(n, np.nan)
        out[acc_s[last]] = val_s[last]
        blocks[0].values[row] = out
        return
    if agg == "wmean" and mdef.weight in facts.metrics:
        blocks[0].values[row] = _weighted_over_periods(facts, mdef.weight, chosen, acc, per,
                                                       val, n)
        return
    if agg in ("min", "max"):
        out = np.full(n, np.nan)
        (np.fmin if agg == "min" else np.fmax).at(out, acc, val)
    else:
        total = np.bincount(acc, weights=val, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = total if agg == "sum" else total / count
        out = np.where(count > 0, out, np.nan)
    blocks[0].values[row] = out


def _weighted_over_periods(facts: Facts, weight: str, chosen: set[int], acc: np.ndarray,
                           per: np.ndarray, val: np.ndarray, n: int) -> np.ndarray:
    """A weighted mean over a period range: sum(w * x) / sum(w) with each period's own weight.

    A plain mean of the periods would let a quarter with 10 claims count as much as one with
    10,000. Periods without a weight fact are left out; an account with none is missing.
    """
    import numpy as np

    width = len(facts.periods)
    wmask = (facts.metric == facts.metrics.index(weight)) & np.isin(facts.period, list(chosen))
    wkey = facts.account[wmask].astype(np.int64) * width + facts.period[wmask]
    order = np.argsort(wkey, kind="stable")
    wkey, wval = wkey[order], facts.value[wmask][order]
    key = acc.astype(np.int64) * width + per
    if len(wkey) == 0:
        return np.full(n, np.nan)
    pos = np.minimum(np.searchsorted(wkey, key), len(wkey) - 1)
    ok = (wkey[pos] == key) & ~np.isnan(val)
    weights = wval[pos[ok]]
    num = np.bincount(acc[ok], weights=val[ok] * weights, minlength=n)
    den = np.bincount(acc[ok], weights=weights, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den != 0, num / den, np.nan)
