"""Facts over time: ``facts.csv`` or ``facts.parquet`` with ``account,period,metric,value``.

Read with pyarrow and checked vectorised: unknown accounts and metrics, periods that are not
periods, non-numeric, NaN or infinite values, and two rows for the same account, period and
metric. Each problem names file and line (Parquet: row). By default any problem stops the
rollup; with ``skip_bad`` those rows are left out and listed in :attr:`Facts.skipped`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.errors import KamError, Location, RecordErrors, WorkspaceError
from kamcore.rollup.periods import Period, parse_period

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

FACT_COLUMNS = ("account", "period", "metric", "value")
_NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_NONFINITE = r"^\s*[+-]?(nan|inf|infinity)\s*$"


class BadFacts(RecordErrors):
    """Fact rows that would make a total wrong; all are listed."""

    code = "KAM-R001"

    def __init__(self, problems: list[KamError]) -> None:
        super().__init__(problems)
        self.message = self.message.replace(
            "record(s) could not be read",
            "problem(s) in the facts; no total is shown (--skip-bad leaves those rows out)", 1)


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


def find_facts(folder: Path) -> Path | None:
    """``facts.parquet`` or ``facts.csv`` in the workspace (Parquet first), or ``None``."""
    for name in ("facts.parquet", "facts.csv"):
        if (folder / name).exists():
            return folder / name
    return None


def _read_table(path: Path) -> pa.Table:
    import pyarrow as pa

    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            from pyarrow import csv as pacsv

            table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in FACT_COLUMNS}, null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=True))
    except (pa.ArrowInvalid, OSError) as exc:
        raise WorkspaceError(f"cannot read {path}: {exc}", location=Location(str(path)),
                             hint="facts need the columns account,period,metric,value") from None
    missing = [c for c in FACT_COLUMNS if c not in table.column_names]
    if missing:
        raise WorkspaceError(f"missing column(s) {', '.join(missing)} in {path.name}",
                             location=Location(str(path), 1),
                             hint="the header must be: account,period,metric,value")
    return table.select(list(FACT_COLUMNS))


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

    table = _read_table(path)
    n = table.num_rows
    acc_col = table.column("account").combine_chunks().cast(pa.string())
    met_col = table.column("metric").combine_chunks().cast(pa.string())
    per_col = table.column("period").combine_chunks().cast(pa.string())
    val_col = table.column("value").combine_chunks()
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
             "keep one row per account, period and metric", "fill every cell"]

    def flag(mask: np.ndarray, code: int) -> None:
        reasons[(reasons == 0) & mask] = code

    def arr(a: pa.Array) -> np.ndarray:
        return a.fill_null(False).to_numpy(zero_copy_only=False)

    flag(arr(pc.is_null(acc_col)) | arr(pc.is_null(met_col)) | arr(pc.is_null(per_col))
         | arr(pc.is_null(val_col)), 7)
    acc_idx = pc.index_in(acc_col, value_set=account_ids)
    flag(arr(pc.and_(acc_idx.is_null(), acc_col.is_valid())), 1)
    metric_set = pa.array(list(metric_names), pa.string())
    met_idx = pc.index_in(met_col, value_set=metric_set)
    flag(arr(pc.and_(met_idx.is_null(), met_col.is_valid())), 2)
    per_dict = per_col.dictionary_encode()
    labels = per_dict.dictionary.to_pylist()
    parsed = [parse_period(label) for label in labels]
    bad_label = np.array([p is None for p in parsed] + [False], dtype=bool)
    per_codes = per_dict.indices.fill_null(len(labels)).to_numpy(zero_copy_only=False)
    flag(bad_label[per_codes], 3)
    if pa.types.is_floating(val_col.type) or pa.types.is_integer(val_col.type):
        values = val_col.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        flag(~np.isfinite(values) & arr(val_col.is_valid()), 5)
    else:
        val_col = val_col.cast(pa.string())
        nonfinite = arr(pc.match_substring_regex(val_col, _NONFINITE, ignore_case=True))
        numeric = arr(pc.match_substring_regex(val_col, _NUMBER))
        flag(nonfinite, 5)
        flag(~numeric & arr(val_col.is_valid()), 4)
        clean = pc.if_else(pa.array(numeric), pc.utf8_trim_whitespace(val_col), None)
        values = clean.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
    # periods: unique, sorted; remap codes to the sorted order
    good_labels = sorted({p for p in parsed if p is not None})
    rank = {p.label: i for i, p in enumerate(good_labels)}
    remap = np.array([rank[p.label] if p is not None else -1 for p in parsed] + [-1])
    period = remap[per_codes]
    account = acc_idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    metric = met_idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    ok = reasons == 0
    key = ((account * max(len(good_labels), 1) + period) * max(len(metric_names), 1) + metric)
    rows = np.flatnonzero(ok)
    order = rows[np.argsort(key[rows], kind="stable")]
    sorted_keys = key[order]
    repeat = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1]) + 1
    first_of = np.zeros(n, dtype=np.int64)
    if len(repeat):
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        group_first = order[starts][np.searchsorted(starts, repeat, side="right") - 1]
        reasons[order[repeat]] = 6
        first_of[order[repeat]] = group_first
    problems: list[KamError] = []
    bad = np.flatnonzero(reasons)
    if len(bad):
        lines = _lines(path, n)
        # one message per unknown metric name (a plugin that is not loaded leaves many rows)
        unknown = np.flatnonzero(reasons == 2)
        names = met_col.take(pa.array(unknown)).to_pylist() if len(unknown) else []
        rows_of: dict[str, list[int]] = {}
        for row, name in zip(unknown.tolist(), names, strict=True):
            rows_of.setdefault(name, []).append(row)
        extra_rows = {r for rows in rows_of.values() for r in rows[1:]}
        counts = {rows[0]: len(rows) for rows in rows_of.values()}
        shown = [r for r in bad.tolist() if r not in extra_rows]
        for row in shown[:200]:
            code = int(reasons[row])
            text = messages[code].format(
                account=acc_col[row].as_py(), metric=met_col[row].as_py(),
                period=per_col[row].as_py(), value=val_col[row].as_py(),
                first=lines[first_of[row]])
            if counts.get(row, 1) > 1:
                text += f" ({counts[row]} rows, the first here)"
            problems.append(KamError(f"fact: {text}", location=Location(str(path), lines[row]),
                                     hint=hints[code]))
        if len(shown) > 200:
            problems.append(KamError(f"... and {len(shown) - 200} more bad fact rows"))
        if not skip_bad:
            raise BadFacts(problems)
    keep = reasons == 0
    return Facts(path, account[keep], period[keep], metric[keep], values[keep], good_labels,
                 list(metric_names), problems)


def _lines(path: Path, n: int) -> list[int]:
    """Line of each row (CSV), or its 1-based row number (Parquet); only for errors."""
    if path.suffix == ".parquet":
        return list(range(1, n + 1))
    from kamcore.rollup.columnar import row_lines

    lines = row_lines(path)
    return lines + list(range(len(lines) + 2, n + 2))
