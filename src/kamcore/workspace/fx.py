"""Reading ``fx.csv`` (``currency,period,rate``): the workspace module alone reads files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.errors import Location, WorkspaceError
from kamcore.rollup.periods import parse_period

if TYPE_CHECKING:
    from kamcore.rollup.fx import FxTable


def read_fx_file(folder: Path, reporting: str) -> FxTable:
    """Read ``folder/fx.csv`` (absent: only the reporting currency converts).

    :raises WorkspaceError: a bad line, with file and line.
    """
    from kamcore.rollup.fx import FxTable
    from kamcore.workspace.csvio import read_table

    table = FxTable(reporting, folder / "fx.csv")
    path = folder / "fx.csv"
    if not path.exists():
        return table
    parsed, problems = read_table(path, required=("currency", "rate"))
    if problems:
        raise problems[0]
    col = {name: i for i, name in enumerate(parsed.header)}
    seen: dict[tuple[str, str], int] = {}
    for line, row in parsed.rows:
        where = Location(str(path), line)
        currency = row[col["currency"]].strip().upper()
        label = row[col["period"]].strip() if "period" in col else ""
        period = None
        if label not in ("", "*"):
            period = parse_period(label)
            if period is None:
                raise WorkspaceError(f"{label!r} is not a period", location=where,
                                     hint="write 2026, 2026Q3, 2026-07, or * for every period")
        try:
            rate = float(row[col["rate"]])
        except ValueError:
            raise WorkspaceError(f"rate {row[col['rate']]!r} is not a number", location=where,
                                 hint=f"{reporting} per 1 {currency}, e.g. 0.92") from None
        if not math.isfinite(rate) or rate <= 0:
            raise WorkspaceError(f"rate {rate} must be a positive number", location=where)
        key = (currency, period.label if period else "*")
        if key in seen:
            raise WorkspaceError(f"second rate for {currency} in {key[1]}", location=where,
                                 hint=f"the first is on line {seen[key]}; keep one")
        seen[key] = line
        table.rates.setdefault(currency, []).append((period, rate))
    return table
