"""``kam territories``: the territory tree with account counts, or each account's territory."""

from __future__ import annotations

import click

from kamcore.cli.options import format_option, output_option, workspace_argument


@click.command()
@workspace_argument
@click.option("--accounts", "per_account", is_flag=True,
              help="List each account with its territory and the rule that placed it.")
@format_option("table", "json", "csv")
@output_option
@click.pass_obj
def territories(kam: object, org: str, per_account: bool, fmt: str, output: str | None) -> None:
    """Show the territory tree with account counts (own and with the territories below).

    An account's territory is its own territory column when set, else the first assignment
    rule of kam.yaml (territories: rules:) it matches. --accounts says, per account, which.

    \b
    Examples:
      kam territories examples/acme
      kam territories examples/acme --accounts --format csv -o assignment.csv
      kam territories examples/acme --format json
    """
    from kamcore.cli.context import KamContext
    from kamcore.cli.output import emit, render_csv, render_json, render_table
    from kamcore.territories import account_rows, territory_rows

    assert isinstance(kam, KamContext)
    tables = kam.read(org, optional=("territories",))  # no contacts: they have no territory
    if tables.territories is None:
        click.echo(f"no territories.csv in {org}: no territories (see docs/territories.md)",
                   err=True)
    rows = account_rows(tables) if per_account else territory_rows(tables)
    if fmt == "json":
        emit(render_json(rows), output)
    elif fmt == "csv":
        emit(render_csv(rows, list(rows[0]) if rows else ["id"]), output)
    elif per_account:
        emit(render_table(rows) if rows else "no accounts", output)
    else:
        emit(_tree(rows) if rows else "no territories", output)


def _tree(rows: list[dict[str, object]]) -> str:
    """The tree, indented by depth, with own and total counts and the manager (id, name)."""
    from kamcore.cli.output import render_table

    shown = [{"territory": "  " * int(str(r["depth"])) + f"{r['name']} ({r['id']})",
              "manager": r["manager"], "manager_name": r["manager_name"],
              "accounts": r["accounts"], "total": r["total"]} for r in rows]
    return render_table(shown, ["territory", "manager", "manager_name", "accounts", "total"],
                        headers={"manager_name": "manager name", "accounts": "own",
                                 "total": "with below"})
