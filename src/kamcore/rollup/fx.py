"""FX: ``fx.csv`` (``currency,period,rate``), rate = reporting-currency units per 1 unit.

A row without a period (or with ``*``) applies to every period. For a dated value the rate of
the finest period that contains it wins (a 2026-07 value uses 2026-07, else 2026Q3, else 2026,
else ``*``). A missing rate is an error naming currency and period, never a silent 0 or 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kamcore.errors import Location, WorkspaceError
from kamcore.rollup.periods import Period, parse_period


class MissingRate(WorkspaceError):
    """No FX rate for a currency in a period."""

    code = "KAM-R002"


@dataclass
class FxTable:
    """Rates by currency: a list of (period or None, rate)."""

    reporting: str
    path: Path | None = None
    rates: dict[str, list[tuple[Period | None, float]]] = field(default_factory=dict)

    def rate(self, currency: str | None, period: Period | None, *,
             needed_by: Callable[[], str] | None = None) -> float:
        """Reporting-currency units per 1 ``currency`` in ``period`` (``None``: undated value).

        ``needed_by`` says which record needs the rate; only called for the error message.

        :raises MissingRate: naming currency and period.
        """
        if not currency or currency == self.reporting:
            return 1.0
        best: tuple[int, float] | None = None
        for when, rate in self.rates.get(currency, []):
            if when is None:
                width = 1 << 30
            elif period is not None and when.contains(period):
                width = when.last - when.first
            else:
                continue
            if best is None or width < best[0]:
                best = (width, rate)
        if best is None:
            where = f"period {period.label}" if period else "undated values (accounts.csv)"
            source = str(self.path) if self.path else "fx.csv"
            raise MissingRate(
                f"no FX rate for {currency} -> {self.reporting} in {where}"
                + (f" (needed by {needed_by()})" if needed_by else ""),
                hint=f"add a line '{currency},{period.label if period else '*'},RATE' to "
                     f"{source} (RATE = {self.reporting} per 1 {currency})")
        return best[1]


def read_fx(folder: Path, reporting: str) -> FxTable:
    """Read ``folder/fx.csv`` (absent: only the reporting currency converts).

    :raises WorkspaceError: a bad line, with file and line.
    """
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
