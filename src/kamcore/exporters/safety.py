"""Spreadsheet formula injection: cells that Excel or Sheets would run as a formula.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with
``'`` so a spreadsheet shows it as text. A cell that is a plain number (``-5``, ``+3.5``,
``-1e3``) is left alone: a spreadsheet reads it as that number, nothing runs, and quoting it
would turn a negative metric into text.
"""

from __future__ import annotations

import re

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise(cell: str) -> str:
    """The cell, made safe to open in a spreadsheet.

    >>> neutralise('=HYPERLINK("http://evil")'), neutralise("-5"), neutralise("+1 555 0100")
    ('\\'=HYPERLINK("http://evil")', '-5', "'+1 555 0100")
    """
    if cell.startswith(_TRIGGERS) and not _NUMBER.match(cell):
        return "'" + cell
    return cell


def render_rows(header: list[str], rows: list[list[str]], *, safe: bool) -> str:
    """CSV text (LF line ends, minimal quoting), each cell neutralised when ``safe``."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([neutralise(h) for h in header] if safe else header)
    for row in rows:
        writer.writerow([neutralise(c) for c in row] if safe else row)
    return buffer.getvalue()
