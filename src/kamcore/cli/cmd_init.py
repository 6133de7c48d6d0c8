"""``kam init``: a new workspace with a commented kam.yaml and empty tables."""

from __future__ import annotations

import click


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--name", default=None, help="The org's name (default: the folder's name).")
@click.option("--currency", default="USD", show_default=True,
              help="Reporting currency, ISO 4217.")
@click.option("--force", is_flag=True, help="Overwrite an existing kam.yaml.")
def init(directory: str, name: str | None, currency: str, force: bool) -> None:
    """Create a workspace in DIRECTORY.

    \b
    Example:
      kam init my-org --name "Acme Corp" --currency EUR
    """
    from pathlib import Path

    from kamcore.workspace import init_workspace

    target = init_workspace(directory, name=name or Path(directory).resolve().name,
                            currency=currency, force=force)
    click.echo(f"Created workspace {target}/ (kam.yaml, accounts.csv, people.csv, .gitignore).")
    click.echo(f"Next: add accounts and people, then run `kam validate {directory}`.")
