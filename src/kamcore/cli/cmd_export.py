"""``kam export``: accounts or people as CSV, JSON, Mermaid, DOT or a Salesforce Account CSV;
the account tree as warehouse tables (closure, levels, edges) in CSV or Parquet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

import click

from kamcore.cli.options import as_of_option, output_option, workspace_argument
from kamcore.wording import plural

if TYPE_CHECKING:
    from datetime import date

    from kamcore.workspace.tables import WorkspaceTables


@click.command()
@workspace_argument
@click.option("--format", "fmt", required=True, metavar="FORMAT",
              help="csv/json: every field; mermaid/dot: the tree; salesforce: Data Loader CSV; "
                   "closure/levels/edges: the account tree for a warehouse (edges with validity "
                   "dates; docs/warehouse.md); "
                   "or a format a plugin adds (kam plugins --hook kam_register_exporters).")
@click.option("--parquet", is_flag=True,
              help="closure, levels, edges: write Parquet (the default when -o ends in "
                   ".parquet).")
@click.option("--people", is_flag=True,
              help="The people (management tree) instead of the accounts (csv, mermaid, dot).")
@click.option("--safe/--verbatim", "safe", default=None,
              help="Neutralise cells a spreadsheet would run as formulas (= + - @ tab CR); "
                   "the default. --verbatim writes them as they are (a Data Loader round "
                   "trip).")
@output_option
@as_of_option
@click.pass_obj
def export(kam: Any, org: str, fmt: str, parquet: bool, people: bool, safe: bool | None,
           output: str | None, as_of: str | None) -> None:
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
      kam import salesforce examples/crm/salesforce/Account.csv -o sf-org
      kam export sf-org --format salesforce --verbatim -o Account.csv
      kam export examples/acme --format closure -o closure.parquet
    """
    from kamcore.cli.context import KamContext

    assert isinstance(kam, KamContext)
    plugin_format = _check_format(kam, fmt)
    if plugin_format is not None:
        _plugin_export(kam, org, plugin_format, output)
        return
    if people and fmt == "salesforce":
        raise click.UsageError("--people is not available for --format salesforce "
                               "(it writes the Account object)")
    from kamcore.exporters.warehouse import WAREHOUSE_FORMATS

    parquet = parquet or (fmt in WAREHOUSE_FORMATS and bool(output)
                          and str(output).endswith(".parquet"))
    if parquet and fmt not in WAREHOUSE_FORMATS:
        raise click.UsageError("--parquet is for --format " + ", ".join(WAREHOUSE_FORMATS))
    if people and fmt in WAREHOUSE_FORMATS:
        raise click.UsageError(f"--people is not available for --format {fmt} (it writes the "
                               "account tree)")
    tables = kam.read(org, as_of)  # no object per record: written from the reader's columns
    day = tables.as_of if as_of is not None else None  # edges: every dated link without one
    layout = None
    if fmt == "salesforce" and tables.folder:
        from kamcore.importers import read_layout  # the importers load only for this format

        layout = read_layout(tables.folder)
    if layout and layout.get("source") == "salesforce":
        from kamcore.exporters.salesforce import table_non_salesforce_ids

        new = table_non_salesforce_ids(tables)
        if new:
            have = "has" if len(new) == 1 else "have"
            click.secho(f"warning: {plural(len(new), 'account')} {have} no Salesforce Id (e.g. "
                        f"{new[0]}): Data Loader cannot update them; insert them first",
                        fg="yellow", err=True)
    if output:
        from kamcore.atomic import atomic_open

        with atomic_open(output, "wb") as handle:
            _write(tables, fmt, handle, people, safe, layout, parquet, day)
        click.echo(f"wrote {output}", err=True)
    else:
        import sys

        sys.stdout.flush()
        _write(tables, fmt, sys.stdout.buffer, people, safe, layout, parquet, day)
        sys.stdout.buffer.flush()


BUILTIN_FORMATS = ("csv", "json", "mermaid", "dot", "salesforce", "closure", "levels", "edges")


def _check_format(kam: Any, fmt: str) -> Any:
    """``None`` for a built-in format, the plugin's exporter for a plugin's; else a usage
    error with a did-you-mean."""
    import difflib

    if fmt in BUILTIN_FORMATS:
        return None
    registry = kam.settled
    exporters = registry.exporters
    if fmt in exporters:
        return exporters[fmt]
    contested = registry.conflict("exporters", fmt)
    if contested is not None:
        raise contested  # both plugins named; kam.yaml's conflicts: settles it
    known = [*BUILTIN_FORMATS, *sorted(exporters)]
    close = difflib.get_close_matches(fmt, known, n=1)
    raise click.BadParameter(
        f"{fmt!r} is not a format" + (f"; did you mean {close[0]!r}?" if close else "")
        + f" (formats: {', '.join(known)})", param_hint="'--format'")


def _plugin_export(kam: Any, org: str, exporter: Any, output: str | None) -> None:
    """A plugin's format: its ``render(tables)`` text or bytes, to stdout or ``-o``
    atomically; a render that fails or returns something else is the plugin's error."""
    import sys

    from kamcore.errors import PluginError
    from kamcore.hookcall import describe_fault

    tables = kam.read(org)
    try:
        data = exporter.render(tables)
    except BaseException as exc:  # SystemExit too: the plugin's fault; a Ctrl-C goes through
        raise PluginError(f"export format {exporter.name!r}: {describe_fault(exc)}",
                          plugin=exporter.plugin, hook="kam_register_exporters") from None
    if not isinstance(data, str | bytes):
        raise PluginError(f"export format {exporter.name!r} returned "
                          f"{type(data).__name__}, expected text or bytes",
                          plugin=exporter.plugin, hook="kam_register_exporters")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if output:
        from kamcore.atomic import atomic_open

        with atomic_open(output, "wb") as handle:
            handle.write(payload)
        click.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()


def _write(tables: WorkspaceTables, fmt: str, stream: IO[bytes], people: bool,
           safe: bool | None, layout: Mapping[str, Any] | None, parquet: bool,
           as_of: date | None = None) -> None:
    """The export, ending in exactly one line feed (as every kam output does)."""
    import io

    from kamcore.exporters import write_export

    if fmt in ("mermaid", "dot"):
        buffer = io.BytesIO()
        write_export(tables, fmt, buffer, people=people, safe=safe, layout=layout)
        stream.write(buffer.getvalue().rstrip(b"\n") + b"\n")
        return
    write_export(tables, fmt, stream, people=people, safe=safe, layout=layout, parquet=parquet,
                 as_of=as_of)
