"""``kam contacts``: the customer's people, by account, without personal data unless asked."""

from __future__ import annotations

import click

from kamcore.cli.options import format_option, output_option, workspace_argument


@click.command()
@workspace_argument
@click.option("--account", "account_ids", metavar="ID", multiple=True,
              help="Only this account's contacts (repeatable).")
@click.option("--subtree", is_flag=True,
              help="With --account: the contacts of the accounts below it too (a global "
                   "customer in all its countries).")
@click.option("--with-personal-data", "personal", is_flag=True,
              help="Include email and phone (personal data; left out by default).")
@format_option("table", "json", "csv")
@output_option
@click.pass_obj
def contacts(kam: object, org: str, account_ids: tuple[str, ...], subtree: bool,
             personal: bool, fmt: str, output: str | None) -> None:
    """List the customer's contacts: role, primary flag, owner id and name, last contact.

    Contacts are personal data: email and phone are left out of every format unless you pass
    --with-personal-data. A workspace without contacts.csv has none.

    \b
    Examples:
      kam contacts examples/acme --account ACME-DE
      kam contacts examples/acme --account ACME --subtree     # Acme in every country
      kam contacts examples/acme --format csv -o contacts-export.csv
      kam contacts examples/acme --account ACME --with-personal-data --format json
    """
    from kamcore.cli.context import KamContext
    from kamcore.cli.output import emit, render_csv, render_json, render_table
    from kamcore.contacts import LISTING_COLUMNS, PERSONAL_COLUMNS, contact_rows

    assert isinstance(kam, KamContext)
    if subtree and not account_ids:
        raise click.UsageError("--subtree needs --account: the accounts whose subtrees to list")
    tables = kam.read(org, optional=("contacts",))  # territories play no part here
    if tables.contacts is None:
        click.echo(f"no contacts.csv in {org}: no contacts to list (see docs/contacts.md)",
                   err=True)
    rows = contact_rows(tables, accounts=list(account_ids) or None, personal=personal,
                        subtree=subtree)
    columns = list(LISTING_COLUMNS) + (list(PERSONAL_COLUMNS) if personal else [])
    if fmt == "json":
        emit(render_json(rows), output)
    elif fmt == "csv":
        emit(render_csv(rows, columns), output)
    else:
        emit(render_table(rows, columns, headers={"owner_name": "owner name"}) if rows
             else "no contacts", output)
