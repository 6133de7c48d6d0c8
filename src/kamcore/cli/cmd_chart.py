"""``kam chart``: the account and manager trees as one self-contained HTML page."""

from __future__ import annotations

from typing import Any

import click

from kamcore.cli.options import as_of_option, workspace_argument
from kamcore.wording import plural


@click.command()
@workspace_argument
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="chart.html",
              show_default=True, help="The HTML file to write (atomically).")
@click.option("--metric", "metrics", multiple=True, metavar="NAME",
              help="Metric to total per account (repeatable); default up to three with values.")
@click.option("--title", help="Page title (default: the org's name).")
@click.option("--with-personal-data", "personal", is_flag=True,
              help="Show the contacts' email and phone in the relationship maps (personal "
                   "data; left out by default).")
@as_of_option
@click.pass_obj
def chart(kam: Any, org: str, output: str, metrics: tuple[str, ...], title: str | None,
          personal: bool, as_of: str | None) -> None:
    """Write an org chart: one HTML file, no network, that opens in any browser.

    The account tree is coloured and collapsible by tier, shows each account's manager and
    rolled-up totals, and has a search box; the Managers tab shows the management tree with
    each person's book. Branches are drawn when opened, so 10,000 accounts stay quick. With
    contacts.csv, each account's "contacts" button opens its relationship map: the customer's
    people by role, linked to the people of ours who own each relationship (no email or phone
    unless --with-personal-data). A link opens it on an account, a person or a search:
    chart.html#account=ID, #person=ID, #q=TEXT.

    \b
    Examples:
      kam chart examples/acme -o acme.html
      kam chart examples/acme --metric revenue --metric orders -o acme.html
    """
    from kamcore.atomic import atomic_open
    from kamcore.chart import chart_columns, write_chart
    from kamcore.errors import NotFound
    from kamcore.rollup.values import unknown_metric_hint

    tables = kam.read(org, as_of)  # the reader's tables: no object per account
    known = set(tables.metrics)
    for name in metrics:
        if name not in known:
            raise NotFound(f"no metric {name!r} in this org",
                           hint=unknown_metric_hint(name, known))
    columns = chart_columns(tables, metrics or None, personal=personal)
    if columns.problem:
        click.secho("warning: the chart shows no totals: the rollup cannot run: "
                    f"{columns.problem} (kam validate names the cause)", fg="yellow", err=True)
    with atomic_open(output, "wb") as stream:
        write_chart(stream, tables.settings, columns, title)
    click.echo(f"wrote {output} ({plural(len(columns.accounts['id']), 'account')}, "
               f"{plural(len(columns.people['id']), 'person')})", err=True)
