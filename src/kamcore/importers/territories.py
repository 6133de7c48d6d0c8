"""``kam import territories``: a CRM's territory tree -> territories.csv, with a report.

Dynamics territory exports (Territory Name, Manager, Parent) and Salesforce Territory2 exports
(Id, Name, DeveloperName, ParentTerritory2Id), with Salesforce's ObjectTerritory2Association
(ObjectId, Territory2Id) setting each account's ``territory`` column (the manual override).
Read by the importers' CSV reader; managers matched among the people by id or name, accounts
the way ``kam import facts`` matches them. Whatever does not match is listed in the report with
its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.errors import WorkspaceError
from kamcore.importers.report import ImportReport
from kamcore.importers.rows import make_id, name_key, read_rows
from kamcore.wording import plural

if TYPE_CHECKING:
    from kamcore.registry import Registry
    from kamcore.workspace.tables import WorkspaceTables

WRITTEN = ("id", "name", "parent", "manager")
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "dynamics": {"name": ("Territory Name", "Name", "name"),
                 "manager": ("Manager", "managerid"),
                 "parent": ("Parent", "Parent Territory", "parentterritoryid")},
    "salesforce": {"crm_id": ("Id",), "name": ("Name",), "id": ("DeveloperName",),
                   "parent": ("ParentTerritory2Id",)},
}


@dataclass
class TerritoriesReport(ImportReport):
    """What a territory import did."""

    territories: int = 0
    assigned: int = 0
    unmatched: list[dict[str, object]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"imported {plural(self.territories, 'territory')} from {self.source} into "
                 f"{self.output}" + (f"; {plural(self.assigned, 'account')} assigned"
                                     if self.assigned else "")]
        if self.all_problems():
            lines.append(f"  {plural(len(self.all_problems()), 'problem')}: see the report")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        from kamcore.importers.onto import markdown

        return markdown("Territories import report", self, f"territories: {self.territories}; "
                        f"accounts assigned: {self.assigned}",
                        "What did not match (`--strict` refuses instead).")


@dataclass
class TerritoriesImport:
    """territories.csv to write, the accounts' territory cells to set, and the report."""

    folder: Path
    rows: list[list[str]]
    assignments: dict[str, str]
    report: TerritoriesReport


def import_territories(folder: str | Path, export: str | Path, preset: str, *,
                       associations: str | Path | None = None,
                       registry: Registry | None = None) -> TerritoriesImport:
    """Read a territory export (and Salesforce's associations) against a workspace.

    :raises WorkspaceError: unreadable files, or an export without the preset's columns.
    """
    from kamcore.importers.facts import _resolve_account
    from kamcore.importers.mapping import match_headers
    from kamcore.importers.onto import read_export

    report = TerritoriesReport(source=preset)
    source = read_export(folder, export, preset, PRESETS, report, kind="territories",
                         needs=lambda f: "name" in f, what="a territory name column",
                         registry=registry)
    export, table, cell = source.path, source.table, source.cell
    accounts, crm_keys, people = source.accounts, source.crm_keys, source.people

    taken: set[str] = set()
    rows: list[list[str]] = []
    by_ref: dict[str, str] = {}  # a CRM id or a name -> our territory id
    lines: list[int] = []
    for line, cells in table.rows:
        name = cell(cells, "name")
        if not name:
            report.problem("name", "territory without a name; left out", file=export,
                           line=line, hint="every territory needs a name")
            continue
        tid = cell(cells, "id") or make_id(name, taken, "T", line)
        taken.add(tid)
        manager = ""
        if cell(cells, "manager"):
            person, why = people.resolve(cell(cells, "manager"), "auto")
            if person is None:
                report.problem("manager", f"manager {cell(cells, 'manager')!r}: {why}; the "
                               "territory is kept without one", file=export, line=line,
                               record=tid, hint="add the person to people.csv")
            else:
                manager = person.id
        rows.append([tid, name, cell(cells, "parent"), manager])
        lines.append(line)
        by_ref.setdefault(name_key(name), tid)
        if cell(cells, "crm_id"):
            by_ref[cell(cells, "crm_id")] = tid
    for row, line in zip(rows, lines, strict=True):
        if row[2]:
            parent = by_ref.get(row[2]) or by_ref.get(name_key(row[2]))
            if parent is None:
                report.problem("parent", f"parent {row[2]!r} is not a territory of the export; "
                               "the territory becomes a root", file=export, line=line,
                               record=row[0], hint="export the whole territory model")
            row[2] = parent or ""
    assignments: dict[str, str] = {}
    if associations is not None:
        assoc, _ = read_rows(str(associations), report, "associations")
        spots = match_headers(assoc.header, {"account": ("ObjectId",),
                                             "territory": ("Territory2Id",)})
        if len(spots) < 2:
            raise WorkspaceError(f"{associations} has no ObjectId and Territory2Id columns",
                                 hint=f"the header is {','.join(assoc.header)}")
        at = {h: i for i, h in enumerate(assoc.header)}
        for line, cells in assoc.rows:
            account_cell = cells[at[spots["account"]]].strip()
            territory_cell = cells[at[spots["territory"]]].strip()
            account = _resolve_account(account_cell, "auto", accounts, crm_keys)
            territory = by_ref.get(territory_cell)
            if isinstance(account, str) or territory is None:
                why = (f"account {account_cell!r}: {account}" if isinstance(account, str)
                       else f"territory {territory_cell!r} is not in the territory export")
                report.unmatched.append({"file": str(associations), "line": line,
                                         "account": account_cell,
                                         "territory": territory_cell})
                report.problem("association", f"{why}; not assigned", file=str(associations),
                               line=line, record=account_cell, hint="import the account, or "
                               "export the whole territory model")
                continue
            if account.id in assignments and assignments[account.id] != territory:
                report.problem("association", f"account {account.id!r} is in two territories "
                               f"({assignments[account.id]}, {territory}); the first is kept",
                               file=str(associations), line=line, record=account.id,
                               hint="every account is in exactly one territory")
                continue
            assignments[account.id] = territory
    _rules_left_behind(source.tables, source.folder, rows, report)
    report.territories, report.assigned = len(rows), len(assignments)
    return TerritoriesImport(source.folder, rows, assignments, report)


def _rules_left_behind(tables: WorkspaceTables, folder: Path, rows: list[list[str]],
                       report: TerritoriesReport) -> None:
    """Report kam.yaml assignment rules that name a territory the import replaces.

    territories.csv is replaced as a whole, but the rules are the user's own text: they are
    not rewritten. Each such rule is a problem (``kam validate`` would refuse it, KAM196),
    with the imported territory of the same name when there is one.
    """
    from kamcore.settings import CONFIG_FILE, TERRITORIES_FILE
    from kamcore.territories import rule_label

    new_ids = {row[0] for row in rows}
    by_name = {name_key(row[1]): row[0] for row in rows}
    old_names: dict[str, str] = {}
    if (folder / TERRITORIES_FILE).is_file():
        from kamcore.workspace.csvio import read_table

        try:
            old, _ = read_table(folder / TERRITORIES_FILE, required=("id", "name"))
            at_id, at_name = old.header.index("id"), old.header.index("name")
            old_names = {cells[at_id].strip(): cells[at_name].strip() for _, cells in old.rows}
        except WorkspaceError:
            pass  # an unreadable old file is replaced anyway; only the hints are lost
    for number, rule in enumerate(tables.settings.territories.rules, start=1):
        if rule.territory in new_ids:
            continue
        names = [n for n in (old_names.get(rule.territory), rule.name) if n]
        same = next((by_name[name_key(n)] for n in names if name_key(n) in by_name), None)
        report.problem("rule", f"{rule_label(number, rule)} in {CONFIG_FILE} names territory "
                       f"{rule.territory!r}, which the imported territories.csv does not have "
                       "(kam validate: KAM196)", file=str(folder / CONFIG_FILE),
                       record=rule.territory,
                       hint=(f"the import's {names[0]!r} is {same!r}: point the rule at it"
                             if same else "point the rule at an imported territory "
                             "(kam territories ORG lists them), or remove it"))


def write_territories_import(result: TerritoriesImport, *, report_format: str = "md") -> Path:
    """Write territories.csv and the accounts' territory column (when there are assignments)
    as one transaction, so no reader sees one without the other, then the report.

    :returns: the report's path.
    """
    from kamcore.changes.txn import commit, workspace_lock
    from kamcore.importers.onto import write_report
    from kamcore.settings import ACCOUNTS_FILE, TERRITORIES_FILE
    from kamcore.territories import OVERRIDE_COLUMN
    from kamcore.workspace.csvio import render_csv
    from kamcore.workspace.patch import set_column
    from kamcore.workspace.tables import REQUIRED

    folder = result.folder
    with workspace_lock(folder):
        files = {TERRITORIES_FILE: render_csv(WRITTEN, result.rows).encode("utf-8")}
        if result.assignments:  # read under the lock: a change meanwhile is not lost
            files[ACCOUNTS_FILE] = set_column(folder / ACCOUNTS_FILE, REQUIRED["account"],
                                              OVERRIDE_COLUMN, result.assignments)
        commit(folder, files, None)
    return write_report(folder, "territories-import", result.report, report_format)


__all__ = ["TerritoriesImport", "TerritoriesReport", "import_territories",
           "write_territories_import"]
