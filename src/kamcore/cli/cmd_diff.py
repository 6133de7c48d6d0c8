"""``kam diff``: what changed in the trees between two days, with what each change carried."""

from __future__ import annotations

from typing import Any

import click

from kamcore.cli.options import format_option, output_option, workspace_argument

COLUMNS = ["change", "record", "name", "from", "to", "amount"]


@click.command()
@workspace_argument
@click.option("--from", "start", metavar="DATE", required=True, help="The first day.")
@click.option("--to", "end", metavar="DATE", default=None,
              help="The last day [default: today].")
@click.option("-m", "--metric", default="revenue", show_default=True,
              help="What each change carried, in the reporting currency when it is money.")
@click.option("--period", metavar="PERIOD", default=None,
              help="The facts period of the amounts (default: the latest).")
@format_option("table", "csv", "json")
@output_option
@click.pass_obj
def diff(kam: Any, org: str, start: str, end: str | None, metric: str, period: str | None,
         fmt: str, output: str | None) -> None:
    """List the moves, re-assignments, tier changes, hires and leavers between two days.

    Each comes with the metric it carried: a moved or re-tiered account its subtree total on
    the later day's tree, a re-assigned account its own value, a hire or a leaver their book.

    \b
    Examples:
      kam diff examples/acme --from 2025-01-01 --to 2025-12-31
      kam diff examples/acme --from 2025-01-01 --format csv -o changes.csv
    """
    from kamcore.cli.output import emit, render_csv, render_json, render_table
    from kamcore.orgdiff import org_diff
    from kamcore.workspace.history import today

    changes, currency = org_diff(org, start, end or today(), metric=metric, period=period,
                                 registry=kam.registry)
    rows = [c.as_dict() for c in changes]
    if fmt == "json":
        emit(render_json({"from": start, "to": str(end or today()), "metric": metric,
                          "currency": currency, "changes": rows}), output)
    elif fmt == "csv":
        emit(render_csv(rows, COLUMNS), output)
    elif rows:
        emit(render_table(rows, COLUMNS, headers={"amount": f"{metric} ({currency})"}), output)
    else:
        emit("No changes between those days.", output)
