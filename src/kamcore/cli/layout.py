"""Fitting a text table to the terminal: the one layout of every table the CLI prints.

:func:`layout` fits ``COLUMNS``, else the terminal's width, and does nothing when the output
is piped or written to a file (see :func:`terminal_width`): headers wrap at spaces, then text
cells are shortened with an ellipsis, then the number columns that still do not fit continue
in a block below. A number is never cut.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterable, Sequence
from typing import Literal

import click

#: Shortened text ends with this.
ELLIPSIS = "\u2026"
#: A text column is not shortened below this many characters (nor below its header's
#: longest word).
MIN_TEXT = 8
GAP = "  "

#: A width in characters, ``"terminal"`` (:func:`terminal_width`) or ``None`` (no limit).
Width = int | Literal["terminal"] | None


def terminal_width(output: str | None = None) -> int | None:
    """The width tables fit: ``COLUMNS`` when set, else the terminal's; ``None`` (no limit)
    when writing a file (``output``, or the running command's ``-o/--output``) or when stdout
    is piped without ``COLUMNS``: what a script reads is never cut."""
    ctx = click.get_current_context(silent=True)
    if output or (ctx is not None and ctx.params.get("output")):
        return None
    given = os.environ.get("COLUMNS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def resolve_width(width: Width) -> int | None:
    """``width`` in characters (``None``: no limit)."""
    return terminal_width() if width == "terminal" else width


def layout(headers: Sequence[str], cells: Sequence[Sequence[str]], right: Sequence[bool], *,
           width: Width = "terminal", footer: int = 0) -> str:
    """Lay out a text table: the one implementation behind every table of the CLI.

    Right-aligned columns hold numbers and are never cut; the others hold text. When the
    table is wider than ``width`` (see :func:`terminal_width`), headers wrap at spaces, then
    the widest text columns are shortened with an ellipsis (a trailing ``(ID)`` is kept),
    then the columns that still do not fit continue in another block below that repeats the
    leading text columns. ``footer`` last rows are totals, set off by a rule.

    >>> print(layout(["name", "n"], [["Globex Corporation", "1,200"]], [False, True], width=16))
    name           n
    ---------  -----
    Globex C…  1,200
    """
    limit = resolve_width(width)
    n = len(headers)
    natural = [max([len(headers[i]), *(len(row[i]) for row in cells)]) for i in range(n)]
    heads = [[h] for h in headers]
    widths = list(natural)
    blocks = [list(range(n))]
    cut: set[int] = set()  # the columns with a cell to shorten (none unless fitting)
    if limit is not None and _span(widths) > limit:
        heads = [wrap(h, max([0, *(len(row[i]) for row in cells)]))
                 for i, h in enumerate(headers)]
        widths = [max([*(len(line) for line in heads[i]), *(len(row[i]) for row in cells)])
                  for i in range(n)]
        floor = [w if right[i] else min(w, max(MIN_TEXT, *(len(line) for line in heads[i])))
                 for i, w in enumerate(widths)]
        narrow = list(widths)
        _shrink(narrow, floor, range(n), limit)
        if _span(narrow) <= limit:
            widths = narrow
        else:  # numbers beside the label in several blocks; the label keeps up to half
            key = _key_columns(right)
            _shrink(widths, floor, range(key), limit // 2)
            blocks = _blocks(widths, floor, key, limit)
        cells = _narrow_trees(cells, widths, right)
        longest = [max([0, *(len(r[i]) for r in cells)]) for i in range(n)]
        cut = {i for i in range(n) if longest[i] > widths[i]}
        widths = [min(w, max([*(len(line) for line in heads[i]), longest[i]]))
                  for i, w in enumerate(widths)]  # no wider than what is left to show
    return "\n\n".join(_block(cols, heads, cells, widths, right, footer, cut)
                       for cols in blocks)


def _span(widths: Sequence[int]) -> int:
    return sum(widths) + len(GAP) * max(len(widths) - 1, 0)


def wrap(text: str, width: int, sep: str = " ") -> list[str]:
    """``text`` on as many lines as it takes to be ``width`` wide, broken only at ``sep``
    (a header at spaces, a title between its `` · `` parts); nothing is cut.

    >>> wrap("Book Revenue (EUR)", 9)
    ['Book', 'Revenue', '(EUR)']
    """
    lines: list[str] = []
    for part in text.split(sep):
        if lines and len(lines[-1]) + len(sep) + len(part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return lines or [""]


def _shrink(widths: list[int], floor: Sequence[int], cols: Iterable[int], limit: int) -> None:
    """Narrow the widest of ``cols``, a character at a time, until they span ``limit`` or
    reach their ``floor`` (a number's floor is its width: numbers are never cut)."""
    cols = list(cols)
    while _span([widths[c] for c in cols]) > limit:
        room = [c for c in cols if widths[c] > floor[c]]
        if not room:
            return
        widths[max(room, key=lambda c: widths[c])] -= 1


def _key_columns(right: Sequence[bool]) -> int:
    """How many leading columns label a row (the text before the first number; at least 1)."""
    key = 0
    while key < len(right) and not right[key]:
        key += 1
    return max(key, 1)


def _blocks(widths: list[int], floor: Sequence[int], key: int, limit: int) -> list[list[int]]:
    """Columns per block, each block repeating the ``key`` label columns; a text column that
    does not fit beside the label alone is narrowed to the room left."""
    blocks: list[list[int]] = [list(range(key))]
    for i in range(key, len(widths)):
        if _span([widths[c] for c in [*blocks[-1], i]]) > limit:
            if len(blocks[-1]) > key:
                blocks.append(list(range(key)))
            room = limit - _span([widths[c] for c in blocks[-1]]) - len(GAP)
            widths[i] = max(min(widths[i], room), floor[i])
        blocks[-1].append(i)
    return blocks


def _block(cols: Sequence[int], heads: Sequence[Sequence[str]], cells: Sequence[Sequence[str]],
           widths: Sequence[int], right: Sequence[bool], footer: int, cut: set[int]) -> str:
    depth = max(len(heads[c]) for c in cols)

    def line(values: Sequence[str]) -> str:
        return GAP.join(v.rjust(widths[c]) if right[c] else v.ljust(widths[c])
                        for v, c in zip(values, cols, strict=True)).rstrip()

    rule = line(["-" * widths[c] for c in cols])
    out = [line([([""] * (depth - len(heads[c])) + list(heads[c]))[k] for c in cols])
           for k in range(depth)]
    out.append(rule)
    if cut & set(cols):
        body = [line([shorten(row[c], widths[c]) if c in cut else row[c] for c in cols])
                for row in cells]
    else:  # nothing to shorten: the common case, and the only one when piped
        body = [line([row[c] for c in cols]) for row in cells]
    if footer and len(body) > footer:
        body.insert(len(body) - footer, rule)
    return "\n".join(out + body)


_SUFFIX = re.compile(r"^(.*\S)( \([^()]+\))$")
_TREE = re.compile(r"^((?:[│ ]   |[├└]── )+)(.*)$")
#: Fewer characters than this left of a name after its tree lines: the lines are drawn narrow.
_NAME_ROOM = 6


def shorten(text: str, width: int) -> str:
    """``text`` in ``width`` characters: cut with an ellipsis, keeping a trailing ``(ID)``
    when there is room for it and a few characters of what precedes it.

    >>> shorten("Acme Industrial Group (ACME)", 16), shorten("Vera Lindqvist", 8)
    ('Acme Ind… (ACME)', 'Vera Li…')
    """
    if len(text) <= width:
        return text
    if width < 2:
        return text[:width]
    found = _SUFFIX.match(text)
    if found and width - len(found.group(2)) >= 5:
        head = found.group(1)[: width - len(found.group(2)) - 1].rstrip()
        return head + ELLIPSIS + found.group(2)
    return text[: width - 1].rstrip() + ELLIPSIS


def _narrow_trees(cells: Sequence[Sequence[str]], widths: Sequence[int],
                  right: Sequence[bool]) -> Sequence[Sequence[str]]:
    """Tree lines (``│   ├── ``) drawn two characters a level (``│ ├ ``) in a column where
    they would leave a name too little room; the whole column alike, so the tree still reads.

    >>> _narrow_trees([["│   │   └── Marco Iyer"]], [14], [False])
    [['│ │ └ Marco Iyer']]
    """
    narrow = set()
    for c, width in enumerate(widths):
        if right[c]:
            continue
        for row in cells:
            tree = _TREE.match(row[c])
            if tree and len(row[c]) > width and width - len(tree.group(1)) < _NAME_ROOM:
                narrow.add(c)
                break
    if not narrow:
        return cells

    def draw(text: str) -> str:
        tree = _TREE.match(text)
        if not tree:
            return text
        lines = tree.group(1)
        return "".join(lines[k] + " " for k in range(0, len(lines), 4)) + tree.group(2)

    return [[draw(v) if c in narrow else v for c, v in enumerate(row)] for row in cells]
