"""Spreadsheet formula injection: cells that Excel or Sheets would run as a formula.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with
``'`` so a spreadsheet shows it as text. A cell that is a plain number (``-5``, ``+3.5``,
``-1e3``) is left alone: a spreadsheet reads it as that number, nothing runs, and quoting it
would turn a negative metric into text. The rule and the writer live in
:mod:`kamcore.workspace.csvio`, the one CSV writer of kamcore; this module keeps the exporters'
names for them.
"""

from __future__ import annotations

from kamcore.workspace.csvio import neutralise, render_csv

__all__ = ["neutralise", "render_rows"]


def render_rows(header: list[str], rows: list[list[str]], *, safe: bool) -> str:
    """CSV text (LF line ends, minimal quoting), each cell neutralised when ``safe``."""
    return render_csv(header, rows, safe=safe)
