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


def as_of_option(func: F) -> F:
    """``--as-of DATE``: the trees as they were (or will be) that day; see docs/time.md."""
    return click.option("--as-of", "as_of", metavar="DATE", default=None,
                        help="Show the org as it was (or will be) on DATE (YYYY-MM-DD), "
                        "history.csv applied [default: today].")(func)


def effective_option(func: F) -> F:
    """``--effective DATE``: the day a change takes effect (history.csv dates it)."""
    return click.option("--effective", metavar="DATE", default=None,
                        help="The day the change takes effect (YYYY-MM-DD) [default: today]; "
                        "a later day makes it pending (kam log --pending).")(func)
