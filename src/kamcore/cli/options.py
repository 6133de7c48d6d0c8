"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

workspace_argument = click.argument(
    "org", metavar="ORG", type=click.Path(file_okay=True, dir_okay=True))


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    """``--format`` with the given choices (table is for people, json for machines)."""
    return click.option("--format", "fmt", type=click.Choice(choices), default=default,
                        show_default=True, help="Output format.")


def output_option(func: F) -> F:
    """``-o FILE``: write the result atomically instead of to stdout."""
    return click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
                        help="Write to FILE (atomically) instead of stdout.")(func)
