"""Saying how many: ``1 account``, ``2 accounts``, ``3 people``, in every message."""

from __future__ import annotations

import re

_IRREGULAR = {"person": "people", "child": "children", "info": "info"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """A count and its noun, in the right number (``many``: the plural when it is irregular
    and not known here).

    >>> plural(1, "account"), plural(2, "duty"), plural(1_500, "person"), plural(0, "error")
    ('1 account', '2 duties', '1,500 people', '0 errors')
    """
    return f"{count:,} {noun(count, word, many)}"


def noun(count: int, word: str, many: str | None = None) -> str:
    """``word`` (its last word) in the number ``count`` needs: ``missing column`` / ``missing
    columns``.

    >>> noun(1, "bad line"), noun(3, "bad line"), noun(2, "customer relationship")
    ('bad line', 'bad lines', 'customer relationships')
    """
    if count == 1:
        return word
    if many is not None:
        return many
    head, _, last = word.rpartition(" ")
    if last in _IRREGULAR:
        last = _IRREGULAR[last]
    elif re.search(r"[^aeiou]y$", last):
        last = last[:-1] + "ies"
    elif re.search(r"(s|x|z|ch|sh)$", last):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last
