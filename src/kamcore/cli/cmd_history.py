"""``kam history``: the dated values of history.csv, and dating hand edits of the files."""

from __future__ import annotations

from typing import Any

import click

from kamcore.cli.options import format_option, workspace_argument
from kamcore.wording import plural


@click.command()
@workspace_argument
@click.option("--record", "record", metavar="ID", default=None,
              help="Only this account's or person's rows.")
@click.option("--date-edits", is_flag=True,
              help="Date the hand edits of accounts.csv / people.csv (rule KAM186).")
@click.option("--effective", metavar="DATE", default=None,
              help="With --date-edits: the day the edits took effect [default: today].")
@click.option("--apply", "--yes", "-y", "do_apply", is_flag=True,
              help="With --date-edits: write history.csv (without it, only list the edits).")
@click.option("--by", metavar="NAME", default=None, help="Who, for the journal.")
@click.option("--reason", metavar="TEXT", default=None, help="Why, for the journal.")
@format_option("table", "csv", "json")
@click.pass_obj
def history(kam: Any, org: str, record: str | None, date_edits: bool, effective: str | None,
            do_apply: bool, by: str | None, reason: str | None, fmt: str) -> None:
    """List history.csv: when each parent, manager, tier, role, capacity and active flag held.

    With --date-edits, list the values someone changed in accounts.csv or people.csv by hand,
    which no history row dates, and (with --apply) date them: each holds from --effective on.

    \b
    Examples:
      kam history examples/acme --record ACME-DE-BER-01
      kam history examples/acme --format csv
      cp -r examples/acme my-acme          change a copy, not the bundled example
      kam history my-acme --date-edits --effective 2026-06-01 --apply
    """
    from kamcore.cli.output import render_csv, render_json, render_table
    from kamcore.workspace import resolve_workspace

    folder = resolve_workspace(org)
    if date_edits:
        from kamcore.changes.dated import date_edits as run

        edits, entry = run(folder, effective, by=by, reason=reason, write=do_apply,
                           registry=kam.registry)
        rows = [{"kind": e.kind, "record": e.record, "field": e.field, "in_file": e.written,
                 "history_said": e.dated} for e in edits]
        if fmt == "json":
            click.echo(render_json({"edits": rows, "entry": entry["id"] if entry else None}))
        elif fmt == "csv":
            click.echo(render_csv(rows, ["kind", "record", "field", "in_file", "history_said"]),
                       nl=False)
        elif rows:
            click.echo(render_table(rows))
        if not rows:
            click.echo("No undated edits.", err=True)
        elif entry is not None:
            click.echo(f"Dated {plural(len(rows), 'edit')} from {entry['effective']}; "
                       f"journal entry {entry['id']}.", err=True)
        else:
            click.echo("Dry run: nothing written. Re-run with --apply to date them.", err=True)
        return
    from kamcore.changes.dated import history_rows
    from kamcore.workspace.history import day_text, read_history

    table = read_history(folder)
    if table is not None:
        table.require_readable()
    shown = [{"record": r.record, "field": r.field, "value": r.value,
              "valid_from": day_text(r.valid_from), "valid_to": day_text(r.valid_to),
              "entry": r.entry} for r in history_rows(table)
             if record is None or r.record == record]
    if fmt == "json":
        click.echo(render_json(shown))
    elif fmt == "csv":
        columns = ["record", "field", "value", "valid_from", "valid_to", "entry"]
        click.echo(render_csv(shown, columns), nl=False)
    elif shown:
        click.echo(render_table(shown))
    else:
        click.echo("No history rows." if table is not None else "No history.csv yet.")
