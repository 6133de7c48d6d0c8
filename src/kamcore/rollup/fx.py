"""FX: ``fx.csv`` (``currency,period,rate``), rate = reporting-currency units per 1 unit.

A row without a period (or with ``*``) applies to every period. For a dated value the rate of
the finest period that contains it wins (a 2026-07 value uses 2026-07, else 2026Q3, else 2026,
else ``*``). A missing rate is an error naming currency and period, never a silent 0 or 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kamcore.errors import (
    MissingRate,  # their home since 1.0; kept importable here
    )
from kamcore.rollup.periods import Period


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
    """Read ``folder/fx.csv`` through the workspace reader (:mod:`kamcore.workspace.fx`).

    :raises WorkspaceError: a bad line, with file and line.
    """
    from kamcore.workspace.fx import read_fx_file

    return read_fx_file(folder, reporting)
