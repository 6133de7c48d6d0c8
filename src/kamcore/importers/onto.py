"""What the imports into an existing workspace share (contacts, territories): the workspace's
tables, the export read by the importers' CSV reader, its columns matched to a preset, the
resolvers of accounts and people, and the report written beside the workspace."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.errors import WorkspaceError

if TYPE_CHECKING:
    from kamcore.importers.report import ImportReport
    from kamcore.importers.rows import Row, Rows
    from kamcore.registry import Registry
    from kamcore.workspace.csvio import Table
    from kamcore.workspace.tables import WorkspaceTables


@dataclass
class Export:
    """A CRM export read against a workspace."""

    tables: WorkspaceTables
    folder: Path
    path: str
    table: Table
    found: dict[str, str]
    accounts: Rows
    crm_keys: dict[str, Row]
    people: Rows

    def cell(self, cells: Sequence[str], name: str) -> str:
        """The trimmed cell of field ``name`` ("" when the export has no such column)."""
        if name not in self.found:
            return ""
        return cells[self.table.header.index(self.found[name])].strip()


def read_export(folder: str | Path, export: str | Path, preset: str,
                presets: Mapping[str, Mapping[str, Sequence[str]]], report: ImportReport, *,
                kind: str, needs: Callable[[Collection[str]], bool], what: str,
                registry: Registry | None = None) -> Export:
    """The workspace (readable) and the export, its headers matched to ``presets[preset]``.

    :param needs: whether the matched fields are enough.
    :param what: the columns it needs, for the error.
    :raises WorkspaceError: unknown preset, unreadable files, or too few matched columns.
    """
    from kamcore.importers.facts import _account_rows, _people_rows
    from kamcore.importers.mapping import match_headers
    from kamcore.importers.rows import read_rows
    from kamcore.workspace.tables import read_workspace

    if preset not in presets:
        raise WorkspaceError(f"unknown preset {preset!r}", hint="use one of "
                             + ", ".join(presets))
    tables = read_workspace(folder, registry=registry, columns=())
    tables.require_readable()
    assert tables.folder is not None
    path = str(export)
    table, _ = read_rows(path, report, kind)
    found = match_headers(table.header, presets[preset])
    if not needs(found):
        raise WorkspaceError(f"{path} has no {preset} {kind} columns: it needs {what}",
                             hint=f"the header is {','.join(table.header)}")
    report.mapped_columns = found
    report.output = str(tables.folder)
    accounts, crm_keys = _account_rows(tables)
    return Export(tables, tables.folder, path, table, found, accounts, crm_keys,
                  _people_rows(tables, accounts.id_key))


def write_report(folder: Path, stem: str, report: ImportReport, report_format: str) -> Path:
    """``<stem>-report.md`` (or ``.json``) in ``folder``, atomically. :returns: its path."""
    from kamcore.atomic import atomic_write_text

    json_form = report_format == "json"
    path = folder / f"{stem}-report.{'json' if json_form else 'md'}"
    atomic_write_text(path, report.to_json() if json_form else report.to_markdown())
    return path


def markdown(title: str, report: ImportReport, counts: str, intro: str) -> str:
    """A report as Markdown: files, workspace, counts, notes, problems, columns."""
    out = [f"# {title}: {report.source}", ""]
    out += [f"- {kind}: `{path}`" for kind, path in report.files.items()]
    out += [f"- workspace: `{report.output}`", f"- {counts}"]
    out += [f"- {note}" for note in report.notes]
    out.append("")
    out += report.problems_section(intro)
    out += ["## Columns", ""]
    out += [f"- `{h}` -> {t}" for t, h in report.mapped_columns.items()]
    out.append("")
    return "\n".join(out)
