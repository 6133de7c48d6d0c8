"""The logistics plugin: plain functions first, the hooks kamcore calls at the bottom.

Only kamcore's public API is used (``from kamcore import ...``), so the plugin keeps working
when kamcore's internals change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from kamcore import (
    Duty,
    RegisterFields,
    RegisterIndustry,
    RegisterMetric,
    RegisterRule,
    Violation,
    hookimpl,
    serves,
)

if TYPE_CHECKING:
    from kamcore import Account, Org
    from kamcore.commands import KamContext
    from kamcore.workspace.tables import WorkspaceTables
    from kamcore_logistics.fields import LogisticsAccount

NAMESPACE = "logistics"
INDUSTRY = "logistics"


def fields_of(org: Org, account: Account) -> LogisticsAccount | None:
    """The account's logistics fields; ``None`` when absent or invalid (KAM140 reports those)."""
    from kamcore_logistics.fields import LogisticsAccount

    return org.valid_fields(account, LogisticsAccount)


def check_on_time_rate(tables: WorkspaceTables) -> Iterator[Violation]:
    """LOG101: the on-time rate is a share of shipments, between 0 and 1.

    Written over the tables (``form="tables"``): one vectorised pass over the column, no
    object per account. A later row repeating an id is a duplicate (KAM101 reports it), so
    only each id's first row is checked, as the org holds it.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    accounts = tables.accounts
    column = accounts.column("on_time_rate") if "on_time_rate" in accounts.metrics else None
    if column is None:
        return
    rate = column.to_numpy(zero_copy_only=False)  # NaN where the cell is empty
    rows = np.flatnonzero((rate < 0) | (rate > 1))
    if not len(rows):
        return
    first = pc.index_in(accounts.ids.take(pa.array(rows)), value_set=accounts.ids)
    for row, found in zip(rows.tolist(), first.to_pylist(), strict=True):
        if found == row:
            yield Violation(accounts.ids[row].as_py(), f"on_time_rate is {float(rate[row]):g}; "
                            "it is a share between 0 and 1", "write 97% as 0.97",
                            column="on_time_rate", location=accounts.location(row))


def check_hazmat_carrier(org: Org) -> Iterator[Violation]:
    """LOG102: dangerous goods travel only with a named (certified) carrier."""
    from kamcore_logistics.fields import LogisticsAccount

    for account, fields in org.with_fields(LogisticsAccount):
        if fields.hazmat and not fields.carriers:
            yield Violation(account.id, "ships dangerous goods but names no carrier",
                            "list the certified carriers in logistics.carriers",
                            column="logistics.carriers")


def carriers_index(org: Org) -> dict[str, list[str]]:
    """Carrier -> the accounts it serves, both in first-seen order."""
    index: dict[str, list[str]] = {}
    from kamcore_logistics.fields import LogisticsAccount

    for account, fields in org.with_fields(LogisticsAccount):
        for carrier in fields.carriers:
            index.setdefault(carrier, []).append(account.id)
    return index


@click.command(name="carriers")
@click.argument("org", metavar="ORG")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@click.pass_obj
def carriers_command(kam: KamContext, org: str, fmt: str) -> None:
    """List each carrier with the accounts it serves.

    \b
    Examples:
      kam carriers examples/kamcore-logistics/example-org
      kam carriers examples/kamcore-logistics/example-org --format json
    """
    import json

    index = carriers_index(kam.load(org))
    if fmt == "json":
        click.echo(json.dumps(index, indent=2))
    elif not index:
        click.echo("No carriers: fill logistics.carriers in accounts.csv.")
    else:
        width = max(len(carrier) for carrier in index)
        for carrier, accounts in index.items():
            click.echo(f"{carrier:<{width}}  {', '.join(accounts)}")


#: id, title, cadence, who ("manager" or the support specialty it is delegated to).
LOGISTICS_DUTIES: tuple[tuple[str, str, str, str], ...] = (
    ("logistics.capacity", "Book capacity with the carriers", "weekly", "logistics"),
    ("logistics.sla", "Review delivery times against the SLA", "monthly", "manager"),
)
HAZMAT_DUTY = ("logistics.hazmat", "Check the dangerous-goods paperwork", "monthly",
               "compliance")


# -- hooks ----------------------------------------------------------------------------------


@hookimpl
def kam_register_industries(register: RegisterIndustry) -> None:
    register(INDUSTRY, aliases=("freight", "shipping", "transport", "3pl"),
             description="Freight forwarders, carriers and third-party logistics.")


@hookimpl
def kam_register_fields(register: RegisterFields) -> None:
    from kamcore_logistics.fields import LogisticsAccount

    register(NAMESPACE, account=LogisticsAccount)


@hookimpl
def kam_register_metrics(register: RegisterMetric) -> None:
    register("shipments", label="Shipments", unit="shipments", aggregation="sum")
    register("on_time_rate", label="On-time rate", unit="ratio", aggregation="wmean",
             weight="shipments", description="Share of shipments delivered within the SLA.")


@hookimpl
def kam_register_rules(register: RegisterRule) -> None:
    register("LOG101", "on-time-rate-range", check_on_time_rate, severity="error",
             summary="The on-time rate is between 0 and 1.", form="tables")
    register("LOG102", "hazmat-carrier", check_hazmat_carrier, severity="warning",
             summary="Dangerous goods have a named carrier.",
             fields=(NAMESPACE,))


@hookimpl
def kam_account_duties(account: Account, org: Org) -> list[Duty] | None:
    if not serves(org, account, INDUSTRY):
        return None
    rows = list(LOGISTICS_DUTIES)
    fields = fields_of(org, account)
    if fields is not None and fields.hazmat:
        rows.append(HAZMAT_DUTY)
    return [Duty(id=i, title=t, cadence=c, who=w, source=NAMESPACE) for i, t, c, w in rows]


@hookimpl
def kam_add_commands(cli: click.Group) -> None:
    cli.add_command(carriers_command)
