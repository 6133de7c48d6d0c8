"""Facts over time: ``facts.csv`` or ``facts.parquet`` with ``account,period,metric,value``.

Read by :mod:`kamcore.workspace.facts` (cells trimmed, metric names lower case) and checked
vectorised: unknown accounts and metrics, periods that are not
periods, non-numeric, NaN or infinite values, and two rows for the same account, period and
metric. Each problem names file and line (Parquet: row). By default any problem stops the
rollup; with ``skip_bad`` those rows are left out and listed in :attr:`Facts.skipped`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.errors import (
    BadFacts,  # their home since 1.0; kept importable here
    KamError,
    Location,
)
from kamcore.rollup.periods import Period, parse_period
from kamcore.workspace.facts import FACT_COLUMNS, fact_lines, find_facts, read_facts_table

__all__ = ["FACT_COLUMNS", "BadFacts", "Facts", "by_account", "find_facts", "read_facts"]

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

#: A number as the fact readers take it (text cells); the SQLite engine uses it too.
NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
NONFINITE = r"^\s*[+-]?(nan|inf|infinity)\s*$"


@dataclass
class Facts:
    """Checked fact rows as arrays (``account`` is the account's row index)."""

    path: Path
    account: np.ndarray
    period: np.ndarray
    metric: np.ndarray
    value: np.ndarray
    periods: list[Period]
    metrics: list[str]
    skipped: list[KamError] = field(default_factory=list)
    #: Rows of metrics that no loaded plugin or kam.yaml declares: left out, not fatal.
    unknown_metrics: list[KamError] = field(default_factory=list)
    #: The person credited with each row (index into ``owners``, -1 for none), when the file
    #: has an ``owner`` column; a fact may then be split between owners.
    owner: np.ndarray | None = None
    owners: list[str] = field(default_factory=list)


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Dictionary codes of a text column (-1 for empty cells, int32) and its dictionary."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column.cast(pa.string()))
    column = column.unify_dictionaries()
    if column.num_chunks == 0:
        return np.zeros(0, dtype=np.int64), pa.array([], pa.string())
    dictionary = column.chunk(0).dictionary.cast(pa.string())
    codes = np.concatenate([c.indices.fill_null(-1).to_numpy(zero_copy_only=False)
                            for c in column.chunks]).astype(np.int32)
    return codes, dictionary


def _lookup(codes: np.ndarray, dictionary: pa.Array, known: pa.Array) -> np.ndarray:
    """Each row's index in ``known`` via its dictionary entry (-1: empty or unknown)."""
    import numpy as np
    import pyarrow.compute as pc

    where = pc.index_in(dictionary, value_set=known).fill_null(-1)
    mapped = np.append(where.to_numpy(zero_copy_only=False).astype(np.int32), -1)
    return mapped[codes]  # code -1 picks the appended -1


def read_facts(path: Path, account_ids: pa.Array, metric_names: Sequence[str], *,
               skip_bad: bool = False) -> Facts:
    """Read and check a facts file.

    :param path: facts.csv or facts.parquet.
    :param account_ids: the org's account ids (row order of the account columns).
    :param metric_names: metrics the org knows.
    :param skip_bad: leave bad rows out (listed in ``skipped``) instead of raising.
    :raises BadFacts: bad rows, each with file and line.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    table = read_facts_table(path)
    n = table.num_rows
    acc_col = pc.utf8_trim_whitespace(table.column("account").cast(pa.string()))
    acc_col = pc.if_else(pc.equal(acc_col, ""), pa.scalar(None, pa.string()), acc_col)
    met_codes, met_dict = _codes(table.column("metric"))
    met_dict = pc.utf8_lower(pc.utf8_trim_whitespace(met_dict))
    per_codes, per_dict = _codes(table.column("period"))
    per_dict = pc.utf8_trim_whitespace(per_dict)
    val_col = table.column("value").combine_chunks()
    owner_codes: np.ndarray | None = None
    owners: list[str] = []
    if "owner" in table.column_names:
        own_col = pc.utf8_trim_whitespace(table.column("owner").cast(pa.string()))
        owner_codes, own_dict = _codes(pc.if_else(pc.equal(own_col, ""),
                                                  pa.scalar(None, pa.string()), own_col))
        owners = [str(o) for o in own_dict.to_pylist()]
    reasons = np.zeros(n, dtype=np.int8)  # 0 ok, else index into messages
    messages = ["", "unknown account {account!r}", "unknown metric {metric!r}",
                "{period!r} is not a period", "value {value!r} is not a number",
                "value {value!r} is not finite", "duplicate of line {first}",
                "missing account, period, metric or value"]
    hints = ["", "add the account to accounts.csv or fix the id",
             "no loaded plugin and no `metrics:` entry in kam.yaml declares it: load the plugin "
             "that does (see `kam plugins`), declare it in kam.yaml, or fix the name; known: "
             + ", ".join(metric_names), "write 2026, 2026Q3 or 2026-07",
             "write a plain number like 1250.50", "use a finite number, or drop the row",
             "keep one row per account, period and metric (and owner)",
             "fill every cell"]

    def flag(mask: np.ndarray, code: int) -> None:
        reasons[(reasons == 0) & mask] = code

    def numpy(a: pa.Array | pa.ChunkedArray) -> np.ndarray:
        if isinstance(a, pa.ChunkedArray):
            return a.to_numpy()
        return a.to_numpy(zero_copy_only=False)

    def arr(a: pa.Array | pa.ChunkedArray) -> np.ndarray:
        return numpy(a.fill_null(False))

    def arr_int(a: pa.ChunkedArray) -> np.ndarray:
        return numpy(a.fill_null(-1)).astype(np.int32)

    acc_valid = arr(acc_col.is_valid())
    flag(~acc_valid | (met_codes < 0) | (per_codes < 0) | ~arr(val_col.is_valid()), 7)
    account = arr_int(pc.index_in(acc_col, value_set=account_ids))
    flag((account < 0) & acc_valid, 1)
    metric = _lookup(met_codes, met_dict, pa.array(list(metric_names), pa.string()))
    flag((metric < 0) & (met_codes >= 0), 2)
    labels = per_dict.to_pylist()
    parsed = [parse_period(label) for label in labels]
    bad_label = np.array([p is None for p in parsed] + [False], dtype=bool)
    flag(bad_label[per_codes], 3)
    if pa.types.is_floating(val_col.type) or pa.types.is_integer(val_col.type):
        values = val_col.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        flag(~np.isfinite(values) & arr(val_col.is_valid()), 5)
    else:
        val_col = val_col.cast(pa.string())
        nonfinite = arr(pc.match_substring_regex(val_col, NONFINITE, ignore_case=True))
        numeric = arr(pc.match_substring_regex(val_col, NUMBER))
        flag(nonfinite, 5)
        flag(~numeric & arr(val_col.is_valid()), 4)
        clean = pc.if_else(pa.array(numeric), pc.utf8_trim_whitespace(val_col), None)
        values = clean.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        flag(numeric & np.isinf(values), 5)  # '1e999' parses to inf: refused as the engines do

    def text(codes: np.ndarray, dictionary: pa.Array, row: int) -> str | None:
        return dictionary[int(codes[row])].as_py() if codes[row] >= 0 else None

    # periods: unique, sorted; remap codes to the sorted order
    good_labels = sorted({p for p in parsed if p is not None})
    rank = {p.label: i for i, p in enumerate(good_labels)}
    remap = np.array([rank[p.label] if p is not None else -1 for p in parsed] + [-1],
                     dtype=np.int32)
    period = remap[per_codes]
    ok = reasons == 0
    key = ((account.astype(np.int64) * max(len(good_labels), 1) + period)
           * max(len(metric_names), 1) + metric)
    if owner_codes is not None:  # one row per account, period, metric and owner
        key = key * (len(owners) + 1) + owner_codes + 1
    rows = np.flatnonzero(ok)
    first_of = np.zeros(n, dtype=np.int64)
    span = (len(account_ids) * max(len(good_labels), 1) * max(len(metric_names), 1)
            * (len(owners) + 1))
    if span <= 4 * max(n, 1):  # counting beats sorting while the key space is small
        suspects = rows[np.bincount(key[rows], minlength=span)[key[rows]] > 1]
    else:
        suspects = rows
    if len(suspects):
        order = suspects[np.argsort(key[suspects], kind="stable")]
        sorted_keys = key[order]
        repeat = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1]) + 1
        if len(repeat):
            starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
            group_first = order[starts][np.searchsorted(starts, repeat, side="right") - 1]
            reasons[order[repeat]] = 6
            first_of[order[repeat]] = group_first
    problems: list[KamError] = []
    bad = np.flatnonzero(reasons)
    if len(bad):
        lines = fact_lines(path, n)
        # one message per unknown metric name (a plugin that is not loaded leaves many rows)
        unknown = np.flatnonzero(reasons == 2)
        names = [text(met_codes, met_dict, r) for r in unknown.tolist()]
        rows_of: dict[str | None, list[int]] = {}
        for row, name in zip(unknown.tolist(), names, strict=True):
            rows_of.setdefault(name, []).append(row)
        extra_rows = {r for rows in rows_of.values() for r in rows[1:]}
        counts = {rows[0]: len(rows) for rows in rows_of.values()}
        shown = [r for r in bad.tolist() if r not in extra_rows]
        for row in shown[:200]:
            code = int(reasons[row])
            message = messages[code].format(
                account=acc_col[row].as_py(), metric=text(met_codes, met_dict, row),
                period=text(per_codes, per_dict, row), value=val_col[row].as_py(),
                first=lines[first_of[row]])
            if counts.get(row, 1) > 1:
                message += f" ({counts[row]} rows, the first here)"
            problems.append(KamError(f"fact: {message}",
                                     location=Location(str(path), lines[row]),
                                     hint=hints[code]))
        if len(shown) > 200:
            problems.append(KamError(f"... and {len(shown) - 200} more bad fact rows"))
        # rows of a metric no loaded plugin declares are left out, never fatal: like the
        # columns of a plugin that is not installed (KAM130), they are kept and named
        ignored = [p for p, r in zip(problems, shown[:200], strict=False) if reasons[r] == 2]
        fatal = [p for p in problems if p not in ignored]
        if fatal and not skip_bad:
            raise BadFacts(fatal)
        keep = reasons == 0
        return Facts(path, account[keep], period[keep], metric[keep], values[keep],
                     good_labels, list(metric_names), fatal if skip_bad else [], ignored,
                     owner_codes[keep] if owner_codes is not None else None, owners)
    keep = reasons == 0
    return Facts(path, account[keep], period[keep], metric[keep], values[keep], good_labels,
                 list(metric_names), problems, owner=owner_codes, owners=owners)


def by_account(facts: Facts, aggregation: dict[str, str]) -> Facts:
    """The facts with rows split between owners combined: one row per account, period and
    metric, as every rollup by account needs. Split values add up; a ``min`` or ``max``
    metric keeps the extreme.

    :param aggregation: metric name -> its aggregation.
    """
    import numpy as np

    if facts.owner is None:
        return facts
    width_p, width_m = max(len(facts.periods), 1), max(len(facts.metrics), 1)
    key = (facts.account.astype(np.int64) * width_p + facts.period) * width_m + facts.metric
    uniq, inverse = np.unique(key, return_inverse=True)
    if len(uniq) == len(key):
        return replace(facts, owner=None, owners=[])
    value = np.bincount(inverse, weights=facts.value, minlength=len(uniq))
    for code, name in enumerate(facts.metrics):
        kind = aggregation.get(name)
        if kind in ("min", "max"):
            rows = facts.metric == code
            out = np.full(len(uniq), np.nan)
            (np.fmin if kind == "min" else np.fmax).at(out, inverse[rows], facts.value[rows])
            picked = np.unique(inverse[rows])
            value[picked] = out[picked]
    rest, metric = np.divmod(uniq, width_m)
    account, period = np.divmod(rest, width_p)
    return replace(facts, account=account.astype(np.int32), period=period.astype(np.int32),
                   metric=metric.astype(np.int32), value=value, owner=None, owners=[])
