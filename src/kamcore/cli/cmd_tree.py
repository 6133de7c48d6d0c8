"""``kam tree``: the account tree (or the people tree) drawn in the terminal."""

from __future__ import annotations

import click

from kamcore.cli.options import workspace_argument


@click.command()
@workspace_argument
@click.option("--account", "account_id", metavar="ID", help="Start at this account.")
@click.option("--depth", type=click.IntRange(min=0), default=None,
              help="Levels to show below the start (0: just the start).")
@click.option("--people", is_flag=True, help="Draw the management tree instead.")
@click.pass_obj
def tree(kam: object, org: str, account_id: str | None, depth: int | None,
         people: bool) -> None:
    """Draw the account tree: tier, country, name, id and accountable manager.

    \b
    Examples:
      kam tree examples/acme
      kam tree examples/acme --account GLOBEX --depth 1
      kam tree examples/acme --people
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

    def label(aid: str) -> str:
        tier = loaded.accounts[aid].tier.value
        return click.style(account_label(loaded, aid), fg=TIER_STYLE[tier],
                           bold=tier in ("global", "national"))

    for line in draw(roots, loaded.children, label, depth=depth):
        click.echo(line)
