"""``kam import contacts``: a CRM's contacts -> the workspace's contacts.csv, with a report.

Salesforce Contact exports (AccountId, ReportsToId, Title, OwnerId), Dynamics contact exports
(Company Name, Job Title, the role as decision influence) and HubSpot contacts (the associated
company, Buying Role) are read by the importers' one CSV reader (any separator, encoding,
located problems). Each contact is matched to an account of the workspace the way ``kam import
facts`` matches deals (by id, by a CRM id an account import kept, or by name) and to an owner
among the people (by id or name). A contact whose account cannot be matched is not written
(contacts.csv would not validate) but listed in the report with its file and line, never
dropped silently; ``--strict`` refuses the whole import instead.

Salesforce keeps a contact's role at an account, and which contact is primary, in
AccountContactRole (AccountId, ContactId, Role, IsPrimary), not on Contact: ``roles=`` reads
that export beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.errors import WorkspaceError
from kamcore.importers.report import ImportReport
from kamcore.importers.rows import Row, Rows, name_key
from kamcore.wording import plural

if TYPE_CHECKING:
    from kamcore.registry import Registry

#: The contacts.csv columns an import writes.
WRITTEN = ("id", "account", "name", "title", "role", "reports_to", "email", "phone", "primary",
           "owner", "last_contact")
#: Per preset: field -> the export's candidate headers (first present wins).
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "salesforce": {"id": ("Id",), "account": ("AccountId",), "name": ("Name",),
                   "first": ("FirstName",), "last": ("LastName",), "title": ("Title",),
                   "role": ("Role", "Contact_Role__c"), "reports_to": ("ReportsToId",),
                   "email": ("Email",), "phone": ("Phone", "MobilePhone"),
                   "owner": ("OwnerId",), "last_contact": ("LastActivityDate",)},
    "dynamics": {"id": ("Contact", "(Do Not Modify) Contact", "contactid"),
                 "account": ("Company Name", "Account Name", "parentcustomerid"),
                 "name": ("Full Name", "fullname"), "first": ("First Name",),
                 "last": ("Last Name",), "title": ("Job Title", "jobtitle"),
                 "role": ("Decision influence labels", "Role", "accountrolecode"),
                 "reports_to": ("Manager", "Reports To"),
                 "email": ("Email", "emailaddress1"),
                 "phone": ("Business Phone", "telephone1", "Mobile Phone"),
                 "owner": ("Owner", "ownerid"),
                 "last_contact": ("Last Contacted", "Last Activity Date")},
    "hubspot": {"id": ("Record ID", "Contact ID"),
                "account": ("Associated Company", "Company Name", "Associated Company IDs"),
                "first": ("First Name",), "last": ("Last Name",), "name": ("Name",),
                "title": ("Job Title",), "role": ("Buying Role",),
                "email": ("Email",), "phone": ("Phone Number", "Mobile Phone Number"),
                "owner": ("Contact owner", "HubSpot Owner"),
                "last_contact": ("Last Contacted", "Last Activity Date")},
}
#: How each preset names the account cell: by the CRM's id, or by name.
ACCOUNT_BY = {"salesforce": "auto", "dynamics": "auto", "hubspot": "auto"}
#: CRM role labels (any case) -> kamcore contact roles; others are kept lower-cased.
ROLE_WORDS = {"decision maker": "decision-maker", "economic buyer": "decision-maker",
              "budget holder": "decision-maker", "executive sponsor": "decision-maker",
              "influencer": "influencer", "champion": "champion", "end user": "user",
              "employee": "user", "user": "user", "technical buyer": "influencer",
              "billing": "billing", "finance": "billing", "procurement": "procurement",
              "purchasing": "procurement", "purchase": "procurement", "blocker": "influencer",
              "legal and compliance": "influencer", "other": "user"}


@dataclass
class ContactsReport(ImportReport):
    """What a contacts import did: rows read, contacts written, and every row left out."""

    rows_read: int = 0
    written: int = 0
    unmatched: list[dict[str, object]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"imported {plural(self.written, 'contact')} from "
                 f"{plural(self.rows_read, 'row')} of {self.source} into {self.output}"]
        if self.unmatched:
            lines.append(f"  {plural(len(self.unmatched), 'contact')} "
                         f"{'matches' if len(self.unmatched) == 1 else 'match'} no account: "
                         "listed with file and line in the report, not written")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        from kamcore.importers.onto import markdown

        return markdown("Contacts import report", self, f"rows read: {self.rows_read}; "
                        f"contacts written: {self.written}; unmatched: {len(self.unmatched)}",
                        "These rows were not written to contacts.csv (`--strict` refuses "
                        "instead).")


@dataclass
class ContactsImport:
    """contacts.csv to write (the rows of this import) and the report."""

    path: Path
    rows: list[list[str]]
    report: ContactsReport


def contact_role(cell: str) -> str:
    """A CRM's role label as a contact role (several labels: the first known one wins).

    >>> contact_role("Decision Maker"), contact_role("Influencer;Champion"), contact_role("")
    ('decision-maker', 'influencer', '')
    """
    labels = [part.strip() for part in cell.replace(";", ",").split(",") if part.strip()]
    for label in labels:
        known = ROLE_WORDS.get(name_key(label))
        if known:
            return known
    return labels[0].lower().replace(" ", "-") if labels else ""


def import_contacts(folder: str | Path, export: str | Path, preset: str, *,
                    roles: str | Path | None = None,
                    registry: Registry | None = None) -> ContactsImport:
    """Read a CRM contact export against a workspace; nothing is written.

    :param preset: ``salesforce``, ``dynamics`` or ``hubspot``.
    :param roles: Salesforce's AccountContactRole export: each contact's role and the
        account's primary contact.
    :raises WorkspaceError: the workspace or the export cannot be read, or the export lacks
        the columns the preset needs.
    """
    from kamcore.importers.facts import _resolve_account
    from kamcore.importers.onto import read_export
    from kamcore.settings import CONTACTS_FILE
    from kamcore.workspace.csvio import format_cell
    from kamcore.workspace.tables import optional_file

    report = ContactsReport(source=preset)
    source = read_export(folder, export, preset, PRESETS, report, kind="contacts",
                         needs=lambda f: "account" in f and bool({"name", "first", "last"}
                                                                 & set(f)),
                         what="an account column and a name", registry=registry)
    export, table, cell = source.path, source.table, source.cell
    accounts, crm_keys, people = source.accounts, source.crm_keys, source.people

    ids: dict[str, str] = {}  # the CRM's contact id -> ours (for reports_to)
    rows: list[list[str]] = []
    for line, cells in table.rows:
        report.rows_read += 1
        name = cell(cells, "name") or " ".join(
            p for p in (cell(cells, "first"), cell(cells, "last")) if p)
        crm_id = cell(cells, "id") or f"{Path(export).stem}-{line}"
        account_cell = cell(cells, "account")
        account = _resolve_account(account_cell, ACCOUNT_BY[preset], accounts, crm_keys)
        if isinstance(account, str):
            report.unmatched.append({"line": line, "id": crm_id, "name": name,
                                     "account": account_cell})
            report.problem("account", f"contact {name or crm_id!r}: account "
                           f"{account_cell!r}: {account}; not written", file=export, line=line,
                           record=crm_id, hint="import the account first, or fix the "
                           "contact's account in the CRM")
        if not name:  # every bad cell of the row is reported, not only the first
            report.problem("name", "contact without a name; not written", file=export,
                           line=line, record=crm_id, hint="every contact needs a name")
        owner = ""
        if cell(cells, "owner"):
            person, why = people.resolve(cell(cells, "owner"), "auto")
            if person is None:
                report.problem("owner", f"owner {cell(cells, 'owner')!r}: {why}; the contact "
                               "is kept without an owner", file=export, line=line,
                               record=crm_id, hint="add the person to people.csv")
            else:
                owner = person.id
        if isinstance(account, str) or not name:
            continue
        ours = ids.setdefault(accounts.id_key(crm_id), crm_id)
        rows.append([ours, account.id, name, cell(cells, "title"),
                     contact_role(cell(cells, "role")), cell(cells, "reports_to"),
                     cell(cells, "email"), cell(cells, "phone"), format_cell(False), owner,
                     cell(cells, "last_contact")[:10]])
    at = WRITTEN.index("reports_to")
    for row in rows:  # a boss named by the CRM's id becomes our id; others by name stay text
        if row[at]:
            row[at] = ids.get(accounts.id_key(row[at]), row[at] if row[at] in ids.values()
                              else "")
    if roles is not None:
        _apply_contact_roles(str(roles), rows, accounts, crm_keys, report)
    elif rows and "role" not in source.found:
        report.notes.append(
            f"the export has no role column: {plural(len(rows), 'contact')} written without a "
            "role or a primary flag (kam validate lists key-or-above accounts without a "
            "decision-maker, KAM166, or a primary contact, KAM165)"
            + ("; Salesforce keeps them in AccountContactRole: add --roles "
               "AccountContactRole.csv" if preset == "salesforce" else ""))
    report.written = len(rows)
    # a workspace that keeps its contacts as Parquet gets them as Parquet
    target = optional_file(source.folder, "contacts") or source.folder / CONTACTS_FILE
    return ContactsImport(target, rows, report)


#: AccountContactRole's columns (a Data Loader or report export).
ROLE_COLUMNS = {"account": ("AccountId",), "contact": ("ContactId",), "role": ("Role",),
                "primary": ("IsPrimary",)}


def _apply_contact_roles(path: str, rows: list[list[str]], accounts: Rows,
                         crm_keys: dict[str, Row],
                         report: ContactsReport) -> None:
    """Set each contact's role and primary flag from AccountContactRole rows.

    A contact belongs to one account in contacts.csv: a role at another account is reported,
    not applied; a second primary contact of an account is reported and the first kept.
    """
    from kamcore.importers.facts import _resolve_account
    from kamcore.importers.mapping import match_headers
    from kamcore.importers.rows import read_rows

    table, _ = read_rows(path, report, "contact roles")
    found = match_headers(table.header, ROLE_COLUMNS)
    if not {"account", "contact"} <= set(found):
        raise WorkspaceError(f"{path} has no AccountId and ContactId columns (Salesforce "
                             "AccountContactRole)", hint=f"the header is {','.join(table.header)}")
    at = {h: i for i, h in enumerate(table.header)}

    def cell(cells: list[str], name: str) -> str:
        column = found.get(name)
        return cells[at[column]].strip() if column is not None and at[column] < len(cells) \
            else ""

    by_contact = {accounts.id_key(row[0]): row for row in rows}
    primary_of: dict[str, str] = {}
    applied = 0
    for line, cells in table.rows:
        contact_cell, account_cell = cell(cells, "contact"), cell(cells, "account")
        row = by_contact.get(accounts.id_key(contact_cell))
        if row is None:
            report.problem("role", f"role of contact {contact_cell!r}: no contact written has "
                           "this id; not applied", file=path, line=line, record=contact_cell,
                           hint="export AccountContactRole with the same contacts as Contact")
            continue
        account = _resolve_account(account_cell, "auto", accounts, crm_keys)
        if isinstance(account, str) or account.id != row[1]:
            report.problem("role", f"contact {row[2]!r} has a role at account "
                           f"{account_cell!r}, but belongs to {row[1]!r} in contacts.csv; "
                           "not applied", file=path, line=line, record=row[0],
                           hint="a contact has one account here: keep the role at that one")
            continue
        role = contact_role(cell(cells, "role"))
        if role and not row[WRITTEN.index("role")]:
            row[WRITTEN.index("role")] = role
        if _truthy(cell(cells, "primary")):
            first = primary_of.setdefault(row[1], row[0])
            if first == row[0]:
                row[WRITTEN.index("primary")] = "true"
            else:
                report.problem("role", f"account {row[1]!r} has a second primary contact "
                               f"{row[0]!r}; {first!r} is kept", file=path, line=line,
                               record=row[0], hint="one primary contact per account")
        applied += 1
    report.notes.append(f"roles: {plural(applied, 'role row')} of {Path(path).name} applied, "
                        f"{plural(len(primary_of), 'primary contact')}")


def _truthy(cell: str) -> bool:
    """IsPrimary as Data Loader (true/false) or a spreadsheet (1/0, yes/no, TRUE) writes it."""
    return cell.strip().lower() in {"true", "1", "yes", "y", "x"}


def write_contacts_import(result: ContactsImport, *, report_format: str = "md") -> Path:
    """Write contacts.csv (contacts.parquet when the workspace keeps that, every column text)
    and the report beside it, each atomically.

    :returns: the report's path.
    """
    from kamcore.atomic import atomic_write_bytes
    from kamcore.importers.onto import write_report
    from kamcore.workspace.csvio import in_dialect_of, render_csv

    if result.path.suffix == ".parquet":
        import pyarrow as pa

        from kamcore.workspace.patch import parquet_bytes

        columns = {name: pa.array([row[i] or None for row in result.rows], pa.string())
                   for i, name in enumerate(WRITTEN)}
        atomic_write_bytes(result.path, parquet_bytes(pa.table(columns)))
    else:  # an Excel-saved contacts.csv keeps its BOM and CRLF line ends
        atomic_write_bytes(result.path, in_dialect_of(
            result.path, render_csv(WRITTEN, result.rows).encode("utf-8")))
    return write_report(result.path.parent, "contacts-import", result.report, report_format)


__all__ = ["ContactsImport", "ContactsReport", "contact_role", "import_contacts",
           "write_contacts_import"]
