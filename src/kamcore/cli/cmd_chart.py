"""``kam chart``: the account and manager trees as one self-contained HTML page."""

from __future__ import annotations

from typing import Any

import click

from kamcore.cli.options import workspace_argument


@click.command()
@workspace_argument
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="chart.html",
              show_default=True, help="The HTML file to write (atomically).")
@click.option("--metric", "metrics", multiple=True, metavar="NAME",
              help="Metric to total per account (repeatable); default up to three with values.")
@click.option("--title", help="Page title (default: the org's name).")
@click.pass_obj
def chart(kam: Any, org: str, output: str, metrics: tuple[str, ...], title: str | None) -> None:
    """Write an org chart: one HTML file, no network, that opens in any browser.

    The account tree is coloured and collapsible by tier, shows each account's manager and
    rolled-up totals, and has a search box; the Managers tab shows the management tree with
    each person's book. Branches are drawn when opened, so 10,000 accounts stay quick.

    \b
    Examples:
      kam chart examples/acme -o acme.html
      kam chart examples/acme --metric revenue --metric orders -o acme.html
    """
    from kamcore.atomic import atomic_write_text
    from kamcore.chart import render_chart
    from kamcore.errors import NotFound

    loaded = kam.load(org)
    known = set(loaded.metrics) | {m for a in loaded.accounts.values() for m in a.metrics}
    for name in metrics:
        if name not in known:
            raise NotFound(f"no metric {name!r} in this org",
                           hint="known: " + ", ".join(sorted(known)))
    from kamcore.chart import chart_data

    data = chart_data(loaded, metrics or None)
    if data["totalsProblem"]:
        click.secho("warning: the chart shows no totals: the rollup cannot run: "
                    f"{data['totalsProblem']} (kam validate names the cause)", fg="yellow",
                    err=True)
    atomic_write_text(output, render_chart(loaded, title=title, data=data))
    click.echo(f"wrote {output} ({len(loaded.accounts)} accounts, {len(loaded.people)} people)",
               err=True)
