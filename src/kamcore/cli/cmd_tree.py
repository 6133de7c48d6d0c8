"""``kam tree``: the account tree (or the people tree) drawn in the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kamcore.cli.options import workspace_argument

if TYPE_CHECKING:
    from kamcore.org import Org


@click.command()
@workspace_argument
@click.option("--account", "account_id", metavar="ID", help="Start at this account.")
@click.option("--depth", type=click.IntRange(min=0), default=None,
              help="Levels to show below the start (0: just the start).")
@click.option("--people", is_flag=True, help="Draw the management tree instead.")
@click.option("-m", "--metric", "metrics", multiple=True, metavar="NAME",
              help="Show this metric's subtree total in the reporting currency (repeatable; "
                   "latest period of facts.csv if there is one).")
@click.pass_obj
def tree(kam: object, org: str, account_id: str | None, depth: int | None,
         people: bool, metrics: tuple[str, ...]) -> None:
    """Draw the account tree: tier, country, name, id and accountable manager.

    \b
    Examples:
      kam tree examples/acme
      kam tree examples/acme --account GLOBEX --depth 1
      kam tree examples/acme --people
      kam tree examples/acme --metric revenue --depth 1
    """
    from kamcore.cli.context import KamContext
    from kamcore.cli.treeview import TIER_STYLE, account_label, draw

    assert isinstance(kam, KamContext)
    loaded = kam.load(org)
    if people:
        roots = [account_id] if account_id else loaded.top_people()
        if account_id:
            loaded.person(account_id)

        def person_label(pid: str) -> str:
            p = loaded.people[pid]
            inactive = "" if p.active else " (inactive)"
            spec = f" {p.specialty}" if p.specialty else ""
            return (f"{p.name} [{p.role.value.upper()}{spec}] {p.id} · "
                    f"{len(loaded.book(pid))} accounts{inactive}")

        for line in draw(roots, loaded.reports, person_label, depth=depth):
            click.echo(line)
        return
    roots = [account_id] if account_id else loaded.roots()
    if account_id:
        loaded.account(account_id)

    totals_text = _totals(loaded, metrics) if metrics else {}

    def label(aid: str) -> str:
        tier = loaded.accounts[aid].tier.value
        text = click.style(account_label(loaded, aid), fg=TIER_STYLE[tier],
                           bold=tier in ("global", "national"))
        return text + totals_text.get(aid, "")

    for line in draw(roots, loaded.children, label, depth=depth):
        click.echo(line)


def _totals(org: Org, metrics: tuple[str, ...]) -> dict[str, str]:
    """`` · revenue 1,234,567 EUR · orders 412`` per account (subtree totals)."""
    from kamcore.rollup.api import account_totals
    from kamcore.rollup.render import format_number

    totals = account_totals(org, metrics)
    defs = org.metrics
    currency = org.settings.currency
    out = {}
    for aid, values in totals.items():
        parts = []
        for name in metrics:
            money = defs[name].is_money
            number = format_number(values.get(name), "money" if money else "number")
            unit = f" {currency}" if money and name in values else ""
            parts.append(f"{name} {number}{unit}")
        out[aid] = click.style(" · " + " · ".join(parts), fg="cyan")
    return out
