"""``kam rollup``: metrics up the account tree, the management chain, or by a field."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO

import click

from kamcore.cli.options import as_of_option, format_option, output_option, workspace_argument
from kamcore.wording import plural

STAGES = ("reading accounts", "reading facts", "rolling up", "writing")


@click.command()
@workspace_argument
@click.option("-m", "--metric", "metrics", multiple=True, metavar="NAME",
              help="Metric to roll up (repeatable). Default: every metric with values; the "
                   "account and manager tables show the core's and the workspace's own.")
@click.option("--by", default="account", show_default=True, metavar="VIEW",
              help="account (subtree totals), manager (book and team), territory (own and "
                   "total up the territory tree), or a field to group by: tier, country, "
                   "industry, currency, a plugin field like retail.channels.")
@click.option("--period", metavar="PERIOD",
              help="Facts of 2026Q3, 2026-07, 2026 or a range 2026Q1..2026Q4 "
                   "(default: the latest period).")
@click.option("--by-period", is_flag=True, help="One column per period.")
@click.option("--depth", type=click.IntRange(min=0), help="Only rows this deep (0: roots).")
@click.option("--top", type=click.IntRange(min=1), help="The N rows with the largest first "
              "metric, largest first; a grouping ends with the total of the rows shown "
              "(shown) and of every account (all).")
@click.option("--own", is_flag=True, help="Show each account's own value beside its total "
                                          "(always in csv and json).")
@click.option("--credit", type=click.Choice(["account", "owner"]), default="account",
              show_default=True,
              help="With --by manager: each person's book is the accounts they manage "
                   "(account) or the facts they own, the facts' owner column (owner).")
@click.option("--engine", type=click.Choice(["auto", "memory", "duckdb", "spark", "sql"]),
              default=None, help="Who totals the facts per account: memory (numpy), duckdb "
                                 "(out of core), spark, sql (a database's facts table); auto "
                                 "(default, or KAM_ENGINE): sql when a database is named, "
                                 "duckdb for Parquet facts above 256 MB.")
@click.option("--master", metavar="URL",
              help="Spark master for --engine spark (default: SPARK_MASTER, else local[*]).")
@click.option("--database", metavar="URL",
              help="The facts are a table of this database: sqlite:///FILE or "
                   "duckdb:///FILE (default: warehouse.database in kam.yaml).")
@click.option("--facts-table", metavar="NAME",
              help="The facts table of --database (default: warehouse.table, else facts).")
@click.option("--skip-bad", is_flag=True,
              help="Leave out bad fact rows (listed on stderr) instead of refusing.")
@format_option("table", "csv", "json")
@output_option
@as_of_option
@click.option("--hierarchy", metavar="as-was|current|DATE", default=None,
              help="Over several periods: as-was rolls each period up the tree in force at "
              "its end; current (today's tree) or a DATE restates every period on one tree.")
@click.option("--reconcile", is_flag=True,
              help="With --hierarchy as-was: list what differs from the restated tree (each "
              "account under another parent, per period, with its totals as it was).")
@click.pass_obj
def rollup(kam: object, org: str, metrics: tuple[str, ...], by: str, period: str | None,
           by_period: bool, depth: int | None, top: int | None, own: bool, credit: str,
           engine: str | None, master: str | None, database: str | None,
           facts_table: str | None, skip_bad: bool, fmt: str,
           output: str | None, as_of: str | None, hierarchy: str | None,
           reconcile: bool) -> None:
    """Roll metrics up the account tree (own value and subtree total), up the management
    chain (own book and team total), or group accounts by a field. Money is converted to the
    reporting currency with fx.csv; facts come from facts.csv or facts.parquet.

    \b
    Examples:
      kam rollup examples/acme
      kam rollup examples/acme --by manager --depth 3
      kam rollup examples/acme --by country -m revenue --top 5
      kam rollup examples/acme --by territory -m revenue
      kam rollup examples/acme --period 2026Q1..2026Q4 --by-period -m revenue --depth 1
      kam rollup examples/acme --format csv -o totals.csv
      kam rollup examples/acme --period 2026Q1..2026Q4 --hierarchy as-was -m revenue
      kam rollup examples/acme --period 2026Q1..2026Q4 --hierarchy as-was --reconcile
      cd examples/crm/salesforce
      kam import salesforce Account.csv --users User.csv -o sf-org
      kam import facts sf-org Opportunity.csv --preset salesforce --parquet
      kam rollup sf-org -m revenue --period 2026 --by manager --credit owner
      kam rollup sf-org -m revenue --period 2026 --engine duckdb --depth 1
    """
    from kamcore.cli.context import KamContext
    from kamcore.rollup.api import rollup as run
    from kamcore.rollup.progress import Progress

    assert isinstance(kam, KamContext)
    with Progress(STAGES) as progress:
        result = run(org, list(metrics) or None, by=by, period=period, by_period=by_period,
                     depth=depth, top=top, skip_bad=skip_bad, own=own or fmt != "table",
                     compact=fmt == "table" and by in ("account", "manager", "territory"),
                     registry=kam.registry, step=progress.step, credit=credit,
                     engine=engine, master=master, as_of=as_of, hierarchy=hierarchy,
                     reconcile=reconcile, database=database, facts_table=facts_table)
        progress.step("writing")
        if fmt == "csv":
            from kamcore.rollup.render import write_csv

            _write(lambda stream: write_csv(result, stream), output)
        else:
            if fmt == "json":
                from kamcore.cli.output import render_json

                text = render_json(result.to_json_data())
            else:
                from kamcore.rollup.render import render

                text = render(result)
            data = (text + "\n").encode()
            _write(lambda stream: stream.write(data), output)
    if result.skipped:
        click.secho(f"warning: skipped {plural(len(result.skipped), 'bad fact row')}; the totals "
                    "leave them out:", fg="yellow", err=True)
        for problem in result.skipped:
            click.echo(f"  - {problem}", err=True)
    if output:
        click.echo(f"wrote {plural(len(result), 'row')} to {output}", err=True)


def _write(writer: Callable[[IO[bytes]], object], output: str | None) -> None:
    """Write to ``output`` atomically, or to stdout."""
    if output:
        from kamcore.atomic import atomic_open

        with atomic_open(output, "wb") as handle:
            writer(handle)
    else:
        stream = sys.stdout.buffer
        writer(stream)
        stream.flush()
