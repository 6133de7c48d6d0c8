"""``kam export``: accounts or people as CSV, JSON, Mermaid, DOT or a Salesforce Account CSV."""

from __future__ import annotations

from typing import Any

import click

from kamcore.cli.options import output_option, workspace_argument


@click.command()
@workspace_argument
@click.option("--format", "fmt", required=True,
              type=click.Choice(["csv", "json", "mermaid", "dot", "salesforce"]),
              help="csv/json: every field; mermaid/dot: the tree; salesforce: Data Loader CSV.")
@click.option("--people", is_flag=True,
              help="The people (management tree) instead of the accounts (csv, mermaid, dot).")
@click.option("--safe/--verbatim", "safe", default=None,
              help="Neutralise cells a spreadsheet would run as formulas (= + - @ tab CR); "
                   "the default. --verbatim writes them as they are (a Data Loader round "
                   "trip).")
@output_option
@click.pass_obj
def export(kam: Any, org: str, fmt: str, people: bool, safe: bool | None,
           output: str | None) -> None:
    """Write an org's accounts or people in another format.

    CSV cells that a spreadsheet would execute are prefixed with ' (plain numbers such as -5
    are left alone; --verbatim turns this off). The salesforce format restores an imported
    workspace's original columns and cells, so Salesforce -> kam -> Salesforce (with
    --verbatim) gives back what came in, plus your edits; an org made in kamcore is written for
    an upsert on the external id KAM_Id__c, parents first.

    \b
    Examples:
      kam export examples/acme --format csv -o accounts.csv
      kam export examples/acme --format mermaid > tree.mmd
      kam export examples/acme --format dot --people | dot -Tsvg > people.svg
      kam export my-org --format salesforce --verbatim -o Account.csv
    """
    from kamcore.cli.output import emit
    from kamcore.exporters import export as run_export
    from kamcore.importers import read_layout

    if people and fmt == "salesforce":
        raise click.UsageError("--people is not available for --format salesforce "
                               "(it writes the Account object)")
    loaded = kam.load(org)
    layout = read_layout(loaded.path) if fmt == "salesforce" and loaded.path else None
    text = run_export(loaded, fmt, people=people, safe=safe, layout=layout)
    if layout and layout.get("source") == "salesforce":
        from kamcore.exporters.salesforce import non_salesforce_ids

        new = non_salesforce_ids(loaded)
        if new:
            click.secho(f"warning: {len(new)} account(s) have no Salesforce Id (e.g. {new[0]}): "
                        "Data Loader cannot update them; insert them first", fg="yellow",
                        err=True)
    emit(text.rstrip("\n"), output)
