"""Any other CRM or spreadsheet: a CSV of accounts (and one of people) plus a mapping file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.errors import WorkspaceError
from kamcore.importers.engine import ImportOptions, ImportResult, build_org
from kamcore.importers.mapping import ImportMap, read_map

if TYPE_CHECKING:
    from kamcore.importers.suggest import MapDraft
    from kamcore.registry import Registry


def import_csv(accounts: str, mapping: ImportMap | str | Path, *, people: str | None = None,
               options: ImportOptions | None = None,
               registry: Registry | None = None) -> ImportResult:
    """Build an org from CSV files described by a mapping (see docs/import.md).

    :param accounts: the accounts CSV.
    :param mapping: an :class:`ImportMap` or the path of its YAML file.
    :param people: the people CSV, described by the mapping's ``people:`` section.
    :returns: the org, the report and the CRM layout; nothing is written.
    :raises WorkspaceError: the mapping is invalid or names columns the files lack.
    """
    imap = mapping if isinstance(mapping, ImportMap) else read_map(mapping)
    if not imap.accounts.id and not imap.accounts.name:
        raise WorkspaceError("the mapping names neither an id nor a name column for accounts",
                             hint="set accounts.id or accounts.name")
    if people and imap.people is None:
        raise WorkspaceError("--people was given but the mapping has no 'people:' section",
                             hint="draft one with --suggest-map --people PEOPLE.csv")
    opts = options or ImportOptions()
    opts = replace(opts, countries={**imap.countries, **opts.countries})
    return build_org(accounts, imap.accounts, options=opts, registry=registry,
                     people_path=people, pmap=imap.people if people else None)


def suggest_map(accounts: str, people: str | None = None, *,
                registry: Registry | None = None) -> str:
    """A draft mapping file for these exports, from their headers and cells (with the plugin
    fields whose CRM columns ``registry``'s plugins declare); guesses are marked
    ``# guess: why`` (:func:`draft_map` lists them)."""
    return draft_map(accounts, people, registry=registry).text


def draft_map(accounts: str, people: str | None = None, *,
              registry: Registry | None = None) -> MapDraft:
    """The draft of :func:`suggest_map` and the guesses in it, for the CLI to list.

    :raises WorkspaceError: a file is missing, unreadable or empty.
    """
    from kamcore.importers.suggest import draft_mapping, read_sample

    return draft_mapping(read_sample(accounts), read_sample(people) if people else None,
                         registry)
