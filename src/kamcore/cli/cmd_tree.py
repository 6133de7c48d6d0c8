"""``kam tree``: the account tree (or the people tree) drawn in the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kamcore.cli.options import as_of_option, workspace_argument
from kamcore.cli.output import echo_lines
from kamcore.wording import plural

if TYPE_CHECKING:
    import numpy as np

    from kamcore.workspace.tables import RecordTable, WorkspaceTables


@click.command()
@workspace_argument
@click.option("--account", "account_id", metavar="ID", help="Start at this account.")
@click.option("--depth", type=click.IntRange(min=0), default=None,
              help="Levels to show below the start (0: just the start).")
@click.option("--people", is_flag=True, help="Draw the management tree instead.")
@click.option("-m", "--metric", "metrics", multiple=True, metavar="NAME",
              help="Show this metric's subtree total in the reporting currency (repeatable; "
                   "latest period of facts.csv if there is one).")
@as_of_option
@click.pass_obj
def tree(kam: object, org: str, account_id: str | None, depth: int | None,
         people: bool, metrics: tuple[str, ...], as_of: str | None) -> None:
    """Draw the account tree: tier, country, name, id and accountable manager.

    \b
    Examples:
      kam tree examples/acme
      kam tree examples/acme --account NOVA --depth 1
      kam tree examples/acme --people
      kam tree examples/acme --metric revenue --depth 1
      kam tree examples/acme --as-of 2025-12-31
    """
    from kamcore.cli.context import KamContext
    from kamcore.cli.treeview import TIER_STYLE, TableLabels, draw
    from kamcore.structure import children_of, roots_of

    assert isinstance(kam, KamContext)
    # no object per record: a million accounts draw in seconds; no contacts or territories,
    # which the tree does not show (three million contacts: 2 s more)
    tables = kam.read(org, as_of, optional=())
    labels = TableLabels(tables)
    index = labels.index
    if people:
        table, keep, parent = tables.people, index.person_first, index.boss
    else:
        table, keep, parent = tables.accounts, index.first, index.parent
    if account_id:
        start = _row_of(table, keep, account_id)
        roots = [start]
    else:
        roots = roots_of(parent, keep)
    if not roots:  # nothing to draw: say so rather than print nothing
        kind, where = ("people", "people.csv") if people else ("accounts", "accounts.csv")
        click.echo(f"The org {org} is empty: {where} has no {kind} (add some, or kam import)."
                   if not len(table) else
                   f"No {kind} to draw in {org}" + (f" on {as_of}" if as_of else "")
                   + " (kam validate says why).")
        return
    children = children_of(parent, keep)

    def name(row: int) -> str:
        return str(labels.cell(table.kind, "id", row))

    if people:
        import numpy as np

        books = np.bincount(index.manager[index.first & (index.manager >= 0)],
                            minlength=len(tables.people))

        def person_label(row: int) -> str:
            cell = labels.cell
            inactive = "" if cell("person", "active", row) else " (inactive)"
            specialty = cell("person", "specialty", row)
            spec = f" {specialty}" if specialty else ""
            return (f"{cell('person', 'name', row)} [{str(cell('person', 'role', row)).upper()}"
                    f"{spec}] {name(row)} · {plural(int(books[row]), 'account')}{inactive}")

        echo_lines(draw(roots, children, person_label, depth=depth, name=name))
        return
    totals_text = _totals(tables, metrics) if metrics else {}

    def label(row: int) -> str:
        tier = str(labels.cell("account", "tier", row))
        text = click.style(labels.account(row), fg=TIER_STYLE[tier],
                           bold=tier in ("global", "national"))
        return text + totals_text.get(name(row), "")

    echo_lines(draw(roots, children, label, depth=depth, name=name))


def _row_of(table: RecordTable, keep: np.ndarray, record_id: str) -> int:
    """The row of ``record_id``; :raises NotFound: with close ids suggested."""
    from kamcore.errors import NotFound, did_you_mean

    ids = table.ids.to_pylist()
    try:
        row = ids.index(record_id)
    except ValueError:
        noun = "account" if table.kind == "account" else "person"
        raise NotFound(f"no {noun} with id {record_id!r}",
                       hint=did_you_mean(record_id, ids)) from None
    assert keep[row]
    return row


def _totals(tables: WorkspaceTables, metrics: tuple[str, ...]) -> dict[str, str]:
    """`` · revenue 1,234,567 EUR · orders 412`` per account (subtree totals)."""
    import math

    from kamcore.rollup.api import rollup
    from kamcore.rollup.render import format_number

    result = rollup(tables, list(metrics), own=False)
    defs = tables.metrics
    currency = tables.settings.currency
    out = {}
    for record in result.to_records():
        parts = []
        for name in metrics:
            value = record.get(f"{name}_total")
            given = value is not None and not math.isnan(value)
            money = defs[name].is_money
            number = format_number(value if given else None, "money" if money else "number")
            unit = f" {currency}" if money and given else ""
            parts.append(f"{name} {number}{unit}")
        out[record["id"]] = click.style(" · " + " · ".join(parts), fg="cyan")
    return out
