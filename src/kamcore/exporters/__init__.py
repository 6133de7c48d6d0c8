"""Exports of an org: CSV and JSON tables, Mermaid and DOT graphs, a Salesforce Account CSV."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kamcore.org import Org

FORMATS = ("csv", "json", "mermaid", "dot", "salesforce")


def export(org: Org, fmt: str, *, people: bool = False, safe: bool | None = None,
           layout: Mapping[str, Any] | None = None) -> str:
    """The org in one of :data:`FORMATS`.

    :param people: the people (management tree) instead of the accounts (csv, mermaid, dot).
    :param safe: neutralise formula-like cells (default on: both CSV formats end up in
        spreadsheets); off gives the cells verbatim, e.g. for a Data Loader round trip.
    :param layout: crm.yaml of an imported workspace (salesforce format).
    :raises ValueError: unknown format.
    """
    if fmt == "csv":
        from kamcore.exporters.tables import export_csv

        return export_csv(org, people=people, safe=True if safe is None else safe)
    if fmt == "json":
        from kamcore.exporters.tables import export_json

        return export_json(org)
    if fmt == "mermaid":
        from kamcore.exporters.graphs import export_mermaid

        return export_mermaid(org, people=people)
    if fmt == "dot":
        from kamcore.exporters.graphs import export_dot

        return export_dot(org, people=people)
    if fmt == "salesforce":
        from kamcore.exporters.salesforce import export_salesforce

        return export_salesforce(org, layout, safe=True if safe is None else safe)
    raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "export"]
