"""``kam coverage``: accounts nobody active manages, overloaded and idle managers, broken lines."""

from __future__ import annotations

from collections.abc import Sequence

import click

from kamcore.cli.options import as_of_option, format_option, workspace_argument
from kamcore.wording import plural


@click.command()
@workspace_argument
@format_option("table", "json")
@click.option("--strict", is_flag=True, help="Exit 1 when there is any gap.")
@as_of_option
@click.pass_obj
def coverage(kam: object, org: str, fmt: str, strict: bool, as_of: str | None) -> None:
    """Report coverage gaps between the account tree and the people tree.

    Accounts without an active manager, managers over capacity, GAMs/NAMs/KAMs/AMs without
    accounts, and managers who do not report (through their chain) to the manager of the
    account above theirs. With contacts.csv: key-or-above accounts without a decision-maker
    relationship (no decision-maker contact, or none owned by an active person of ours).

    \b
    Examples:
      kam coverage examples/acme
      kam coverage examples/acme --format json
      kam coverage examples/acme --strict    # exit 1 when a gap exists (CI)
    """
    from kamcore.changes.coverage import coverage as find_gaps
    from kamcore.cli.context import KamContext
    from kamcore.cli.output import render_json, render_table

    assert isinstance(kam, KamContext)
    from kamcore.contacts import COVERAGE_COLUMNS

    tables = kam.read(org, as_of, contact_columns=COVERAGE_COLUMNS)
    report = find_gaps(tables)
    if fmt == "json":
        click.echo(render_json(report.to_json()))
    else:
        sections: list[tuple[str, Sequence[object], list[str]]] = [
            ("Accounts without an active manager", report.unmanaged,
             ["account", "tier", "manager", "reason"]),
            ("Managers over capacity", report.over_capacity,
             ["person", "role", "accounts", "capacity"]),
            ("Account managers without accounts", report.idle, ["person", "role", "reports_to"]),
            ("Lines that do not match the account tree", report.line_mismatches,
             ["account", "tier", "manager", "above", "above_manager"]),
        ]
        if tables.contacts is not None:
            sections.append(("Accounts without a decision-maker relationship",
                             report.no_decision_maker,
                             ["account", "tier", "manager", "reason"]))
        for title, items, columns in sections:
            click.echo(f"{title}: {len(items) or 'none'}")
            if items:
                rows = [{c: getattr(item, c) for c in columns} for item in items]
                click.echo(render_table(rows, columns))
            click.echo("")
        click.echo(f"{plural(report.gaps, 'gap')}.")
    if strict and report.gaps:
        raise click.exceptions.Exit(1)
