"""Accounts and people as CSV (every column of the workspace, neutralised) or JSON.

Written straight from the reader's tables (:mod:`kamcore.workspace.tables`), a column at a
time: no record object per account. The ``Org`` functions convert the org to tables first
(:func:`kamcore.workspace.objects.tables_from_org`), so both give the same bytes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from kamcore.exporters import columns as cols

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.org import Org
    from kamcore.workspace.tables import RecordTable, WorkspaceTables


def tables_of(org: Org) -> WorkspaceTables:
    """The tables of an org (:func:`kamcore.workspace.objects.tables_from_org`), with every
    metric its records hold read as a number, declared or not (an org built in Python without
    a registry still has ``metrics={"revenue": ...}``)."""
    import dataclasses

    import pyarrow as pa

    from kamcore.workspace.objects import tables_from_org

    tables = tables_from_org(org)
    accounts = tables.accounts
    held = {m for a in org.accounts.values() for m in a.metrics}
    held |= {m for d in org.duplicates if d.kind == "account"
             for m in getattr(d.record, "metrics", {})}
    missing = [m for m in held if m not in accounts.metrics
               and m in accounts.table.column_names]
    if not missing:
        return tables
    data = accounts.table
    for name in missing:
        at = data.schema.get_field_index(name)
        numbers = data.column(name).cast(pa.float64()).fill_null(float("nan"))
        data = data.set_column(at, pa.field(name, pa.float64()), numbers)
    metrics = [c for c in accounts.header if c in accounts.metrics or c in missing]
    return dataclasses.replace(tables, accounts=dataclasses.replace(
        accounts, table=data, metrics=metrics))


# -- which rows, which columns -------------------------------------------------------------------


def first_rows(tables: WorkspaceTables, people: bool) -> np.ndarray:
    """The rows an ``Org`` holds: the first of each id, in file order (duplicates aside)."""
    import numpy as np

    from kamcore.structure import account_index

    index = account_index(tables)
    return np.flatnonzero(index.person_first if people else index.first)


def records(tables: WorkspaceTables, people: bool) -> pa.Table:
    """The table of the records an ``Org`` holds (duplicate ids dropped)."""
    import pyarrow as pa

    table = tables.people if people else tables.accounts
    rows = first_rows(tables, people)
    data = table.table
    return data if len(rows) == data.num_rows else data.take(pa.array(rows))


def file_header(table: RecordTable) -> list[str]:
    """The columns accounts.csv (people.csv) is saved with: the file's own order, then any
    core column it lacks (as :func:`kamcore.workspace.saver.account_header` gives them)."""
    from kamcore.workspace.tables import ACCOUNT_COLUMNS, PERSON_COLUMNS

    core = ACCOUNT_COLUMNS if table.kind == "account" else PERSON_COLUMNS
    header = list(table.header)
    return header + [c for c in core if c not in header]


def column_of(data: pa.Table, name: str) -> pa.Array | None:
    if name not in data.column_names:
        return None
    return data.column(name).combine_chunks()


# -- CSV -----------------------------------------------------------------------------------------


def write_table_csv(tables: WorkspaceTables, stream: IO[bytes], *, people: bool = False,
                    safe: bool = True, header: Sequence[str] | None = None) -> None:
    """The accounts (or people) with every column, as accounts.csv has them.

    :param safe: neutralise cells a spreadsheet would execute (see :mod:`.safety`).
    :param header: the columns (default: the file's, then any core column it lacks).
    """
    table = tables.people if people else tables.accounts
    data = records(tables, people)
    header = list(header) if header is not None else file_header(table)
    n = data.num_rows
    # metrics, plugin fields and other columns are the table's own (NaN, null: empty)
    cells = [cols.cell_text(column_of(data, name), n) for name in header]
    cols.write_csv(stream, header, cells, safe=safe)


def csv_text(tables: WorkspaceTables, *, people: bool = False, safe: bool = True,
             header: Sequence[str] | None = None) -> str:
    buffer = io.BytesIO()
    write_table_csv(tables, buffer, people=people, safe=safe, header=header)
    return buffer.getvalue().decode("utf-8")


def export_csv(org: Org, *, people: bool = False, safe: bool = True) -> str:
    """The accounts (or people) table with every column, as accounts.csv has them.

    :param safe: neutralise cells a spreadsheet would execute (see :mod:`.safety`).
    """
    from kamcore.workspace.saver import account_header, people_header

    header = people_header(org) if people else account_header(org)
    return csv_text(tables_of(org), people=people, safe=safe, header=header)


# -- JSON ----------------------------------------------------------------------------------------

_ACCOUNT_FIELDS = ("id", "name", "tier", "parent", "manager", "country", "industry", "currency")
_PERSON_FIELDS = ("id", "name", "role", "reports_to", "capacity", "email", "active",
                  "specialty")


def write_table_json(tables: WorkspaceTables, stream: IO[bytes]) -> None:
    """One JSON document: the org's settings, accounts and people with every field, as
    ``json.dumps(indent=2, ensure_ascii=False)`` of the records' ``model_dump`` writes it."""
    settings = tables.settings
    stream.write(("{\n  \"org\": " + json.dumps(settings.name, ensure_ascii=False)
                  + ",\n  \"currency\": " + json.dumps(settings.currency, ensure_ascii=False)
                  + ",\n  \"accounts\": ").encode("utf-8"))
    for people in (False, True):
        if people:
            stream.write(b",\n  \"people\": ")
        table = tables.people if people else tables.accounts
        data = records(tables, people)

        def objects(start: int, stop: int, data: pa.Table = data,
                    table: RecordTable = table) -> pa.Array:
            return _json_objects(data.slice(start, stop - start), table)

        cols.write_json_list(stream, data.num_rows, objects)
    stream.write(b"\n}\n")


def _json_objects(data: pa.Table, table: RecordTable) -> pa.Array:
    """Each record as ``model_dump(mode="json", exclude_none=True)`` under ``indent=2`` at
    nesting 2, followed by :data:`~kamcore.exporters.columns.ROW_END`: core fields (those
    given), then metrics (accounts), ext and extra; the pieces of every field joined in one
    pass."""
    import pyarrow as pa

    account = table.kind == "account"
    n = data.num_rows
    pieces: cols.Pieces = ["    {"]
    for name in _ACCOUNT_FIELDS if account else _PERSON_FIELDS:
        column = column_of(data, name)
        if column is None:
            if name != "active":
                continue
            column = pa.array([True] * n, pa.bool_())
        elif name == "active":
            column = column.fill_null(True)
        lead = "\n      " if name == "id" else ",\n      "
        pieces.append(cols.json_literals(column, f'{lead}"{name}": '))
    if account:
        metrics = [m for m in table.metrics if m in data.column_names]
        pieces.append(',\n      "metrics": ')
        pieces += cols.json_object_pieces(metrics, [column_of(data, m) for m in metrics], 6)
    pieces.append(',\n      "ext": ')
    pieces.append(_ext_objects(data, table))
    extra = [c for c in table.extra_columns if "." not in c and c in data.column_names]
    pieces.append(',\n      "extra": ')
    pieces += cols.json_object_pieces(extra, [column_of(data, c) for c in extra], 6)
    pieces += ["\n    }", cols.ROW_END]
    return cols.joined(pieces, n)


def _ext_objects(data: pa.Table, table: RecordTable) -> pa.Array | str:
    """``ext``: ``{namespace: {field: cell}}`` from the ``namespace.field`` columns, each
    namespace in the order its first given cell comes in the row (``{}`` for every row when
    there are none)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dotted = [c for c in table.extra_columns if "." in c and c in data.column_names]
    if not dotted:
        return "{}"
    spaces: dict[str, list[str]] = {}
    for c in dotted:
        spaces.setdefault(c.partition(".")[0], []).append(c)
    order = [c.partition(".")[0] for c in dotted]
    runs = [s for i, s in enumerate(order) if i == 0 or order[i - 1] != s]
    if len(runs) != len(spaces):  # a namespace's columns are apart: its place varies by row
        return _ext_by_row(data, dotted)
    inner = []
    for columns in spaces.values():
        objects = cols.json_entries([c.partition(".")[2] for c in columns],
                                    [data.column(c).combine_chunks() for c in columns], 8)
        empty = pc.equal(objects, cols.str_scalar("{}"))
        inner.append(pc.if_else(empty, pa.scalar(None, pa.string()), objects))
    return cols.json_entries(list(spaces), inner, 6, rendered=True)


def _ext_by_row(data: pa.Table, dotted: list[str]) -> pa.Array:
    cells = {c: data.column(c).to_pylist() for c in dotted}
    out = []
    for row in range(data.num_rows):
        ext: dict[str, dict[str, object]] = {}
        for c in dotted:
            value = cells[c][row]
            if value is not None:
                space, _, key = c.partition(".")
                ext.setdefault(space, {})[key] = value
        text = json.dumps(ext, indent=2, ensure_ascii=False)
        out.append(text.replace("\n", "\n      "))
    return cols.strings(out)


def json_text(tables: WorkspaceTables) -> str:
    buffer = io.BytesIO()
    write_table_json(tables, buffer)
    return buffer.getvalue().decode("utf-8")


def export_json(org: Org) -> str:
    """One JSON document: the org's settings, accounts and people with every field."""
    return json_text(tables_of(org))
