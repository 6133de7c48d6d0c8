"""Exports of an org: CSV and JSON tables, Mermaid and DOT graphs, a Salesforce Account CSV,
and the warehouse tables (closure, levels, edges) as CSV or Parquet.

One implementation, on the reader's tables (:func:`kamcore.workspace.read_workspace`):
:func:`write_export` streams a format to a binary file without a record object per account,
:func:`export_tables` gives the same text, and :func:`export` takes an :class:`~kamcore.Org`
(built in Python, or edited) and converts it with
:func:`kamcore.workspace.objects.tables_from_org` first.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from kamcore.org import Org
    from kamcore.workspace.tables import WorkspaceTables

FORMATS = ("csv", "json", "mermaid", "dot", "salesforce", "closure", "levels", "edges")


def export(org: Org, fmt: str, *, people: bool = False, safe: bool | None = None,
           layout: Mapping[str, Any] | None = None) -> str:
    """The org in one of :data:`FORMATS`.

    :param people: the people (management tree) instead of the accounts (csv, mermaid, dot).
    :param safe: neutralise formula-like cells (default on: both CSV formats end up in
        spreadsheets); off gives the cells verbatim, e.g. for a Data Loader round trip.
    :param layout: crm.yaml of an imported workspace (salesforce format).
    :raises ValueError: unknown format.
    """
    _check(fmt)
    from kamcore.exporters.tables import tables_of

    header = None
    if fmt == "csv":  # the columns the org would be saved with
        from kamcore.workspace.saver import account_header, people_header

        header = people_header(org) if people else account_header(org)
    return export_tables(tables_of(org), fmt, people=people, safe=safe, layout=layout,
                         header=header)


def export_tables(tables: WorkspaceTables, fmt: str, *, people: bool = False,
                  safe: bool | None = None, layout: Mapping[str, Any] | None = None,
                  header: Sequence[str] | None = None) -> str:
    """:func:`export` of the reader's tables (no record objects)."""
    buffer = io.BytesIO()
    write_export(tables, fmt, buffer, people=people, safe=safe, layout=layout, header=header)
    return buffer.getvalue().decode("utf-8")


def write_export(tables: WorkspaceTables, fmt: str, stream: IO[bytes], *, people: bool = False,
                 safe: bool | None = None, layout: Mapping[str, Any] | None = None,
                 header: Sequence[str] | None = None, parquet: bool = False,
                 as_of: date | None = None) -> None:
    """Write :func:`export` of the reader's tables to a binary stream, in chunks: a million
    accounts as CSV, JSON or Salesforce CSV without a record object per account.

    :param header: csv only: the columns (default: the file's, then missing core columns).
    :param parquet: closure, levels, edges: Parquet instead of CSV.
    :param as_of: edges: only the links in force that day (default: every dated link).
    :raises ValueError: unknown format, or ``parquet`` for a format that has no Parquet form.
    """
    _check(fmt)
    safe = True if safe is None else safe
    from kamcore.exporters.warehouse import WAREHOUSE_FORMATS, write_warehouse

    if fmt in WAREHOUSE_FORMATS:
        write_warehouse(tables, fmt, stream, safe=safe, parquet=parquet, as_of=as_of)
        return
    if parquet:
        raise ValueError(f"--format {fmt} has no Parquet form; Parquet is for "
                         + ", ".join(WAREHOUSE_FORMATS))
    if fmt == "csv":
        from kamcore.exporters.tables import write_table_csv

        write_table_csv(tables, stream, people=people, safe=safe, header=header)
    elif fmt == "json":
        from kamcore.exporters.tables import write_table_json

        write_table_json(tables, stream)
    elif fmt == "salesforce":
        from kamcore.exporters.salesforce import write_salesforce

        write_salesforce(tables, stream, layout, safe=safe)
    else:
        from kamcore.exporters.graphs import dot_text, mermaid_text

        draw = mermaid_text if fmt == "mermaid" else dot_text
        stream.write(draw(tables, people=people).encode("utf-8"))


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "export", "export_tables", "write_export"]
