"""The terminal table of a rollup: tree lines, thousands separators, currency in the headers."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from kamcore.rollup.result import Column, RollupResult

if TYPE_CHECKING:
    import pyarrow as pa

    from kamcore.cli.layout import Width


def format_number(value: Any, kind: str) -> str:
    """``1234567.8`` -> ``1,234,568`` (money, whole units), ``int`` likewise, ratio as a
    percentage, else 2 decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if kind == "ratio":
        return f"{value:.1%}"
    if kind in ("money", "int"):
        return f"{value:,.0f}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def tree_prefixes(depths: Sequence[int]) -> list[str]:
    """Box-drawing prefixes for rows in pre-order with the given depths.

    >>> tree_prefixes([0, 1, 2, 1, 0])
    ['', '├── ', '│   └── ', '└── ', '']
    """
    n = len(depths)
    last = [False] * n
    open_at: dict[int, bool] = {}
    for i in range(n - 1, -1, -1):
        d = depths[i]
        last[i] = not open_at.get(d, False)
        open_at[d] = True
        for deeper in [k for k in open_at if k > d]:
            del open_at[deeper]
    out = []
    stack: list[bool] = []
    for i, d in enumerate(depths):
        del stack[max(d - 1, 0):]
        if d == 0:
            out.append("")
            continue
        while len(stack) < d - 1:
            stack.append(True)
        out.append("".join("    " if s else "│   " for s in stack)
                   + ("└── " if last[i] else "├── "))
        stack.append(last[i])
    return out


def render(result: RollupResult, *, title: bool = True, width: Width = "terminal") -> str:
    """The aligned text table of ``result`` (with a one-line title), fitted to ``width`` by
    :func:`kamcore.cli.layout.layout`."""
    from kamcore.cli.layout import layout, terminal_width, wrap

    records = result.to_records()
    named = any(c.key == "manager_name" for c in result.columns)
    columns: list[Column] = [c for c in result.columns
                             if (c.key not in ("depth", "parent", "id", "manager")
                                 or (c.key == "id" and result.view != "account")
                                 or (c.key == "manager" and not named))]
    tree = result.view in ("account", "manager", "territory") and _in_tree_order(records)
    name_key = "name"
    if tree:
        prefixes = tree_prefixes([r["depth"] for r in records])
        for record, prefix in zip(records, prefixes, strict=True):
            label = record["name"] or record["id"]
            if result.view == "account":
                label = f"{label} ({record['id']})"
            record[name_key] = prefix + label
    headers = [c.header for c in columns]
    footer = [t for t in (result.shown_total, result.total) if t is not None] if records else []
    cells = [[format_number(r.get(c.key), c.kind) if c.kind != "text" else (r.get(c.key) or "")
              for c in columns] for r in [*records, *footer]]
    limit = terminal_width() if width == "terminal" else width
    out = []
    if title:
        text = _title(result)
        out.append(text if limit is None else "\n".join(wrap(text, limit, " · ")))
        out.append("")
    out.append(layout(headers, cells, [c.kind != "text" for c in columns], width=limit,
                      footer=len(footer)))
    if not records:
        out.append("(no rows)")
    return "\n".join(out)


def _in_tree_order(records: list[dict[str, Any]]) -> bool:
    previous = -1
    for record in records:
        if record["depth"] > previous + 1:
            return False
        previous = record["depth"]
    return True


def _title(result: RollupResult) -> str:
    own = any(c.header.startswith("Own ") for c in result.columns)
    what = {"account": "account tree: subtree totals" + (" and own values" if own else ""),
            "manager": "management chain: own book and team total"
                       + (", credited to deal owners" if result.credit == "owner" else
                          ", credited to account managers"),
            "reconciliation": "reconciliation: accounts under another parent",
            "territory": "territory tree: own accounts and totals with the territories "
                         "below"}.get(
        result.view, f"accounts by {result.view} (own values)")
    parts = [result.title, what, result.hierarchy or "", f"money in {result.currency}"]
    if result.periods:
        parts.append("periods " + ", ".join(result.periods))
    elif result.period:
        parts.append(f"period {result.period}")
    facts = sorted({f for f in result.sources.values() if f != "accounts.csv"})
    if facts:  # say so: the same metric may also be a column of accounts.csv (KAM152)
        parts.append("from " + " and ".join(facts))
    return " · ".join(p for p in parts if p)


def write_csv(result: RollupResult, stream: IO[bytes], *, safe: bool = True) -> None:
    """The CSV of ``result`` for spreadsheets: text cells that would run as formulas get a
    ``'`` first, by the rule of :func:`kamcore.workspace.csvio.neutralise` (numbers are numbers
    and stay so). Vectorised, then written by :meth:`RollupResult.write_csv` (pyarrow quotes a
    cell with a CR, a LF, a comma or a quote)."""
    (neutralised(result) if safe else result).write_csv(stream)


def neutralised(result: RollupResult) -> RollupResult:
    """``result`` with every formula-like text cell prefixed with ``'`` (a copy; the same
    result when there is none)."""
    import pyarrow as pa

    from kamcore.exporters.columns import neutralised as neutralised_cells

    table = result.table
    for column in result.columns:
        if column.kind != "text" or column.key in result.plain:
            continue
        index = table.schema.get_field_index(column.key)
        values = table.column(index)
        if pa.types.is_dictionary(values.type):
            values = values.cast(pa.string())
        if not pa.types.is_string(values.type):
            continue
        fixed = neutralised_cells(values)  # chunk by chunk: most columns need nothing
        if fixed is not values:
            table = table.set_column(index, table.field(index).with_type(fixed.type), fixed)
    return result if table is result.table else dataclasses.replace(result, table=table)


def plain_text(cells: pa.Array | pa.ChunkedArray) -> bool:
    """Whether no cell starts like a formula (:func:`neutralised` would leave every one) and
    none holds a comma, a quote or a line break (CSV needs no quotes): the column is written
    as it is."""
    from kamcore.textcolumns import any_byte_of, starts_with_any
    from kamcore.workspace.csvio import FORMULA_FIRST_BYTES

    return not starts_with_any(cells, FORMULA_FIRST_BYTES) and not any_byte_of(cells,
                                                                                b'",\r\n')
