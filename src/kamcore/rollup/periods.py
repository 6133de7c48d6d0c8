"""Periods: years (2026), quarters (2026Q3) and months (2026-07), as month intervals."""

from __future__ import annotations

import re
from dataclasses import dataclass

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, order=True)
class Period:
    """A period as months since year 0: ``first`` and ``last`` included."""

    first: int
    last: int
    label: str

    def contains(self, other: Period) -> bool:
        return self.first <= other.first and other.last <= self.last


def parse_period(text: str) -> Period | None:
    """``2026`` / ``2026Q3`` / ``2026-07`` -> :class:`Period`; ``None`` when it is none of those.

    >>> parse_period("2026Q3")
    Period(first=24318, last=24320, label='2026Q3')
    """
    text = text.strip()
    if m := _YEAR.match(text):
        y = int(m[1]) * 12
        return Period(y, y + 11, text)
    if m := _QUARTER.match(text):
        start = int(m[1]) * 12 + (int(m[2]) - 1) * 3
        return Period(start, start + 2, f"{m[1]}Q{m[2]}")
    if m := _MONTH.match(text):
        start = int(m[1]) * 12 + int(m[2]) - 1
        return Period(start, start, text)
    return None


def parse_selection(text: str) -> Period:
    """A ``--period`` value: one period, or a range ``2026Q1..2026Q4`` (both ends included).

    :raises ValueError: with a message saying what a period looks like.
    """
    first_text, sep, last_text = text.partition("..")
    first = parse_period(first_text)
    last = parse_period(last_text) if sep else first
    if first is None or last is None:
        raise ValueError(f"{text!r} is not a period: write 2026, 2026Q3, 2026-07 or a range "
                         "like 2026Q1..2026Q4")
    if last.last < first.first:
        raise ValueError(f"{text!r}: the range ends before it starts")
    return Period(first.first, last.last, text if sep else first.label)


def latest(periods: list[Period]) -> Period:
    """The most recent period: the latest end, then the longest (2026Q2 holds 2026-06).

    The selection then takes every fact inside it, so quarterly facts with a few monthly
    ones still give the whole quarter. (Do not mix overlapping granularities for one metric:
    a year and its quarters would both be counted.)
    """
    return max(periods, key=lambda p: (p.last, p.last - p.first))
