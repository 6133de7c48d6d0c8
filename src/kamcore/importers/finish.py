"""The end of an import in columns: the accounts as accounts.csv will hold them, the tables
``kam validate`` reads, and the files written from those columns.

An import used to build a pydantic record per account, turn the records into the reader's
tables to run the rules, and write the files from the records again: three passes of Python
objects over every account. Here the accounts become text columns once; the rules run on the
tables made from them (the same reading rules as files), the files are written from the same
columns, and an :class:`~kamcore.org.Org` is built only when a caller asks for one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kamcore.importers.rows import RAW_PREFIX, kept_column
from kamcore.workspace.loader import ACCOUNT_COLUMNS

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

    from kamcore.importers.accounts import AccountRows, MappedFields
    from kamcore.models import Person
    from kamcore.org import Org
    from kamcore.registry import Registry
    from kamcore.settings import Settings
    from kamcore.workspace.tables import WorkspaceTables


@dataclass
class AccountColumns:
    """Every account's cells as text (null: empty), by column, in file order.

    :ivar header: the columns of accounts.csv, in order (the layout, then plugin fields).
    :ivar layout: what :attr:`Org.layout` keeps for accounts (the header without plugin
        fields, which a save appends sorted).
    :ivar cells: Arrow string columns by name.
    """

    header: list[str]
    layout: list[str]
    cells: dict[str, pa.Array]

    def __len__(self) -> int:
        return len(self.cells["id"])

    def arrow(self) -> pa.Table:
        """The cells as an Arrow table of strings (null for empty), in header order."""
        import pyarrow as pa

        return pa.table({c: self.cells[c] for c in self.header})


def account_columns(accounts: AccountRows, fields: MappedFields, tier: pa.Array,
                    manager: pa.Array, currency: str | None,
                    kept_as: Sequence[tuple[str, str]],
                    raw_as: Sequence[tuple[str, str, str]], metric_names: Sequence[str],
                    kept: Sequence[str], cols: Mapping[str, str],
                    reserved: Iterable[str]) -> AccountColumns:
    """The accounts' cells, column by column, in Arrow.

    :param fields: the mapped field values (:func:`~.accounts.map_fields`).
    :param tier: each account's tier; ``manager``: each one's manager id (null: none).
    :param currency: every account's currency when no column gives one.
    :param kept_as: (CRM header, workspace column) of the columns no field uses.
    :param raw_as: (field, CRM header, ``crm:`` column): the CRM's text is kept where it
        differs from what kamcore stores.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.exporters.columns import cell_text

    n = len(accounts)
    none = pa.nulls(n, pa.string())
    cells: dict[str, pa.Array] = {}
    cells["id"] = accounts.id_column
    cells["name"] = accounts.name_column
    cells["tier"] = tier
    cells["parent"] = accounts.parent_ids()
    cells["manager"] = _filled(manager)
    for column in ("country", "industry"):
        cells[column] = _filled(fields.text.get(column, none))
    cells["currency"] = _filled(fields.text["currency"]) if "currency" in fields.text else (
        pa.array([currency] * n, pa.string()) if currency else none)
    for metric in metric_names:
        cells[metric] = _filled(cell_text(fields.metrics[metric], n))
    for crm_header, name in kept_as:
        cells[name] = _filled(accounts.stripped(crm_header))
    used = {name for _h, name in kept_as if cells[name].null_count < n}
    for target, column, name in raw_as:
        raw = _filled(accounts.stripped(column))
        # what kamcore stores for the field, as text (plugin fields store nothing here)
        if target in _ACCOUNT_CORE or target in metric_names:
            differs = pc.fill_null(pc.not_equal(raw, cells[target]), True)
            raw = pc.if_else(differs, raw, pa.scalar(None, pa.string()))
        cells[name] = raw
        if raw.null_count < n:
            used.add(name)
    spaced = sorted(c for c in fields.text if "." in c and fields.text[c].null_count < n)
    for column in spaced:
        cells[column] = fields.text[column]
    layout = extend_layout(ACCOUNT_COLUMNS, metric_names, kept, cols, used, reserved)
    header = layout + [c for c in spaced if c not in layout]
    return AccountColumns(header, layout, cells)


def _filled(cells: pa.Array) -> pa.Array:
    """Text cells with empty ones as null (what a record leaves unset)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = cells.cast(pa.string())
    if not len(cells) or not pc.any(pc.equal(cells, "")).as_py():
        return cells
    return pc.if_else(pc.equal(cells, ""), pa.scalar(None, pa.string()), cells)


def extend_layout(core: Sequence[str], metrics: Sequence[str], kept: Sequence[str],
                  cols: Mapping[str, str], used: set[str],
                  reserved: Iterable[str] = ()) -> list[str]:
    """A workspace file's columns: the core ones, the metrics, the kept CRM columns, and the
    ``crm:`` columns some record uses (``used``: the columns with a value somewhere)."""
    reserved = set(reserved) | set(metrics)
    out = list(core) + list(metrics) + [kept_column(h, reserved) for h in kept]
    raw = [RAW_PREFIX + c.replace(".", "_") for c in cols.values()]
    return out + [c for c in raw if c in used]


def people_org(settings: Settings, people: dict[str, Person], layout: list[str],
               registry: Registry | None) -> Org:
    """An org of the people alone (few, kept as records): their file and tables come from it."""
    from kamcore.org import Org

    org = Org(settings=settings, accounts={}, people=people, registry=registry)
    org.layout["people"] = layout
    return org


def import_tables(settings: Settings, accounts: AccountColumns, people: Org,
                  registry: Registry | None) -> WorkspaceTables:
    """The tables ``kam validate`` would read from the written files (same reading rules).

    Only columns with a value somewhere are given, as for an org's records.
    """
    import pyarrow as pa

    from kamcore.workspace.objects import tables_from_org
    from kamcore.workspace.tables import RawTable, WorkspaceTables, metric_defs, normalise

    metrics = metric_defs(settings, registry)
    n = len(accounts)
    given = [c for c in accounts.header if c in _ACCOUNT_CORE
             or accounts.cells[c].null_count < n]
    raw = RawTable(None, given, pa.table({c: accounts.cells[c] for c in given}),
                   lambda: [None] * n)
    problems: list[Any] = []
    table = normalise("account", raw, set(metrics), problems)
    table.header = list(accounts.header)
    person_table = tables_from_org(people).people
    return WorkspaceTables(folder=None, settings=settings, raw_settings={}, storage="csv",
                           accounts=table, people=person_table, metrics=metrics,
                           registry=registry, problems=problems)


_ACCOUNT_CORE = frozenset(ACCOUNT_COLUMNS)


def write_accounts_csv(path: Path, accounts: AccountColumns) -> None:
    """accounts.csv from the columns, atomically: the bytes :func:`kamcore.save` writes."""

    from kamcore.atomic import atomic_open
    from kamcore.exporters.columns import write_csv

    cells = [accounts.cells[c].fill_null("") for c in accounts.header]
    with atomic_open(path, "wb") as stream:
        write_csv(stream, accounts.header, cells, safe=False)
