"""Writing an :class:`~kamcore.org.Org` back to its folder: atomic, canonical, nothing dropped."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    import pyarrow as pa

    from kamcore.workspace.tables import RecordTable


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


def render_table(table: RecordTable, metric_order: Iterable[str] = ()) -> str:
    """accounts.csv or people.csv text from the reader's table, column by column: the same
    text :func:`render_accounts` / :func:`render_people` write for the org built from it
    (same header, same cells, same quoting), for a fraction of the cost of 100,000 records.
    The cells are made by :func:`~kamcore.exporters.columns.cell_text` and written by
    :func:`~kamcore.exporters.columns.write_csv`, the columnar writer of exports and imports.

    :param metric_order: the workspace's metrics in declaration order (``Org.metrics``): the
        order of metric columns the file did not list yet.
    """
    import io

    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.exporters.columns import cell_text, str_scalar, write_csv

    kind = table.kind
    core = ACCOUNT_COLUMNS if kind == "account" else PERSON_COLUMNS
    data = _first_of_each_id(table)
    n = data.num_rows
    cells: dict[str, pa.Array] = {}
    for name in data.column_names:
        column = data.column(name).combine_chunks()
        if kind == "person" and name == "active":  # an empty cell is read as active
            cells[name] = (pc.if_else(pc.equal(column, False), str_scalar("false"),
                                      str_scalar("true")).fill_null("true")
                           if pa.types.is_boolean(column.type) else _repeated("true", n))
        else:  # format_cell of each value: text as it is, numbers and booleans canonical
            cells[name] = cell_text(column, n)
    used = {name for name, values in cells.items()
            if name not in core and n and pc.any(pc.not_equal(values, "")).as_py()}
    wanted = list(core)
    if kind == "account":
        metrics = [m for m in table.metrics if m in used and m not in core]
        order = list(metric_order)
        wanted += [m for m in order if m in metrics]
        wanted += sorted(set(metrics) - set(order))
    others = [c for c in used if c not in table.metrics or kind != "account"]
    wanted += sorted(c for c in others if "." in c)
    wanted += sorted(c for c in others if "." not in c)
    header = _merge_layout(table.header, wanted)
    if kind == "person" and "active" not in cells:
        cells["active"] = _repeated("true", n)  # no column: everyone is active
    blank = _repeated("", n)
    buffer = io.BytesIO()
    write_csv(buffer, header, [cells.get(c, blank) for c in header], safe=False)
    return buffer.getvalue().decode("utf-8")


def _repeated(text: str, n: int) -> pa.Array:
    import pyarrow as pa

    return pa.repeat(pa.scalar(text, pa.string()), n)


def _first_of_each_id(table: RecordTable) -> pa.Table:
    """The table without the later rows of a repeated id (the org keeps the first only)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = table.ids
    if pc.count_distinct(ids, mode="all").as_py() == len(ids):
        return table.table
    first = pa.table({"id": ids, "row": np.arange(len(ids))}).group_by(
        "id", use_threads=False).aggregate([("row", "min")]).column("row_min")
    return table.table.take(pa.array(np.sort(first.to_numpy())))


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
