"""Writing an :class:`~kamcore.org.Org` back to its folder: atomic, canonical, nothing dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kamcore.atomic import atomic_write_text
from kamcore.errors import WorkspaceError
from kamcore.models import Account, Person
from kamcore.org import Org
from kamcore.settings import (
    ACCOUNTS_FILE,
    CONFIG_FILE,
    CONFIG_TEMPLATE,
    PEOPLE_FILE,
    Settings,
    settings_data,
)
from kamcore.workspace.csvio import render_csv
from kamcore.workspace.loader import ACCOUNT_COLUMNS, PERSON_COLUMNS


def account_header(org: Org) -> list[str]:
    """The columns accounts.csv needs: the layout it was read with, then any new columns."""
    accounts = list(org.accounts.values())
    wanted = list(ACCOUNT_COLUMNS)
    metric_order = list(org.metrics)
    used = {m for a in accounts for m in a.metrics}
    wanted += [m for m in metric_order if m in used]
    wanted += sorted(used - set(metric_order))
    wanted += sorted({f"{ns}.{k}" for a in accounts for ns, vals in a.ext.items() for k in vals})
    wanted += sorted({k for a in accounts for k in a.extra})
    return _merge_layout(org.layout.get("accounts"), wanted)


def people_header(org: Org) -> list[str]:
    people = list(org.people.values())
    wanted = list(PERSON_COLUMNS)
    wanted += sorted({f"{ns}.{k}" for p in people for ns, vals in p.ext.items() for k in vals})
    wanted += sorted({k for p in people for k in p.extra})
    return _merge_layout(org.layout.get("people"), wanted)


def _merge_layout(layout: list[str] | None, wanted: list[str]) -> list[str]:
    if not layout:
        return wanted
    return list(layout) + [c for c in wanted if c not in layout]


def account_cells(account: Account, header: list[str]) -> list[object]:
    """One accounts.csv row."""
    row: list[object] = []
    for column in header:
        if column in ACCOUNT_COLUMNS:
            row.append(getattr(account, column))
        elif column in account.metrics:
            row.append(account.metrics[column])
        elif "." in column:
            ns, _, name = column.partition(".")
            row.append(account.ext.get(ns, {}).get(name))
        else:
            row.append(account.extra.get(column))
    return row


def person_cells(person: Person, header: list[str]) -> list[object]:
    """One people.csv row."""
    row: list[object] = []
    for column in header:
        if column in PERSON_COLUMNS:
            row.append(getattr(person, column))
        elif "." in column:
            ns, _, name = column.partition(".")
            row.append(person.ext.get(ns, {}).get(name))
        else:
            row.append(person.extra.get(column))
    return row


def render_accounts(org: Org) -> str:
    header = account_header(org)
    return render_csv(header, (account_cells(a, header) for a in org.accounts.values()))


def render_people(org: Org) -> str:
    header = people_header(org)
    return render_csv(header, (person_cells(p, header) for p in org.people.values()))


def save(org: Org, path: str | Path | None = None) -> Path:
    """Write ``org`` to its workspace folder (or ``path``), each file atomically.

    Records stay where they came from: CSV tables, or inline in kam.yaml.

    :returns: the folder written.
    """
    folder = Path(path) if path is not None else org.path
    if folder is None:
        raise WorkspaceError("this org has no folder yet", hint="pass a path to save()")
    folder.mkdir(parents=True, exist_ok=True)
    if org.storage == "inline":
        atomic_write_text(folder / CONFIG_FILE, render_inline_yaml(org))
        return folder
    if not (folder / CONFIG_FILE).exists():
        atomic_write_text(folder / CONFIG_FILE, _settings_yaml(org.settings))
    atomic_write_text(folder / ACCOUNTS_FILE, render_accounts(org))
    atomic_write_text(folder / PEOPLE_FILE, render_people(org))
    return folder


def _settings_yaml(settings: Settings) -> str:
    data = settings_data(settings)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _record_mapping(record: Account | Person) -> dict[str, Any]:
    data = record.model_dump(mode="json", exclude_none=True,
                             exclude={"metrics", "ext", "extra"})
    if isinstance(record, Account) and record.metrics:
        data["metrics"] = dict(record.metrics)
    data.update({ns: dict(values) for ns, values in record.ext.items()})
    data.update(record.extra)
    return data


def render_inline_yaml(org: Org) -> str:
    """kam.yaml text holding the settings and every record (orgs kept inline)."""
    data = settings_data(org.settings)
    data["accounts"] = [_record_mapping(a) for a in org.accounts.values()]
    data["people"] = [_record_mapping(p) for p in org.people.values()]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def init_workspace(folder: str | Path, *, name: str = "New org", currency: str = "USD",
                   force: bool = False) -> Path:
    """Create a workspace: a commented kam.yaml and empty accounts.csv and people.csv."""
    target = Path(folder)
    if (target / CONFIG_FILE).exists() and not force:
        raise WorkspaceError(f"{target / CONFIG_FILE} already exists",
                             hint="choose another folder, or pass --force to overwrite")
    from pydantic import ValidationError

    try:
        Settings(name=name, currency=currency)  # check before writing anything
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise WorkspaceError(message, hint="pass --currency with an ISO 4217 code") from None
    target.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target / CONFIG_FILE,
                      CONFIG_TEMPLATE.format(name=_yaml_scalar(name), currency=currency.upper()))
    atomic_write_text(target / ACCOUNTS_FILE, ",".join(ACCOUNT_COLUMNS) + ",revenue,orders,"
                      "receivables\n")
    atomic_write_text(target / PEOPLE_FILE, ",".join(PERSON_COLUMNS) + "\n")
    if not (target / ".gitignore").exists():
        # A workspace lives in git; the lock and the in-flight change folder do not belong there.
        atomic_write_text(target / ".gitignore", ".kam.lock\n.kam.txn/\n")
    return target


def _yaml_scalar(text: str) -> str:
    return yaml.safe_dump(text, default_style=None).strip().removesuffix("...").strip()
