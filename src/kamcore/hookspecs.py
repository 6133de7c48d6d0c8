"""The hook API: every hook a kamcore plugin can implement, in the order kamcore calls them.

A plugin is a module (or object) with functions marked ``@kamcore.hookimpl`` whose names match the
specs below. Plugins are discovered through the entry-point group ``kamcore``::

    [project.entry-points.kamcore]
    retail = "kamcore_retail.plugin"

Hooks that declare things take a ``register`` callable instead of returning collections, so that
kamcore can attribute every registration to its plugin, reject conflicts (two plugins claiming one
name) naming both, and keep going when one plugin fails. A hook that raises or registers garbage is
reported with the plugin's name; the other plugins are unaffected.

Keep plugin modules light at import time (import pydantic models inside the hook) so that
``kam --help`` stays fast.

The user-facing reference with examples is ``docs/hooks.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from kamcore.models import Account, Duty
    from kamcore.org import Org

PROJECT = "kamcore"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# -------------------------------------------------------------------------------------------------
# Declarations: called once per plugin manager, when kamcore first needs the registry.
# -------------------------------------------------------------------------------------------------


@hookspec
def kam_register_industries(register: Callable[..., None]) -> None:
    """Declare the industries this plugin serves.

    Called once when the registry is built. An account belongs to an industry when its
    ``industry`` cell matches the name or one of the aliases (case-insensitive).

    :param register: ``register(name, *, aliases=(), description="")``.
    :returns: nothing; results are collected through ``register``.

    .. versionadded:: 0.1
    """


@hookspec
def kam_register_fields(register: Callable[..., None]) -> None:
    """Declare the plugin's own fields on accounts and people, as pydantic models.

    Called once when the registry is built. The fields live under the namespace: CSV columns
    ``<namespace>.<field>`` and the ``<namespace>:`` mapping in inline YAML. Values are kept as
    written and validated against the model by ``kam validate`` (rule KAM140), so a plugin's
    mistakes never make a workspace unreadable.

    :param register: ``register(namespace, *, account=Model | None, person=Model | None)``.
        Two plugins registering one namespace is a :class:`~kamcore.errors.PluginConflict`.
    :returns: nothing; results are collected through ``register``.

    .. versionadded:: 0.1
    """


@hookspec
def kam_register_metrics(register: Callable[..., None]) -> None:
    """Declare metrics: name, unit and how they aggregate up the trees.

    Called once when the registry is built. A metric's per-account value comes from the
    ``accounts.csv`` column of the same name, or from the facts table.

    :param register: ``register(name, *, label="", unit="", aggregation="sum", weight=None,
        description="")`` where ``aggregation`` is one of sum, count, min, max, mean, wmean
        (``wmean`` needs ``weight``, another metric's name) and ``unit="money"`` converts
        with the workspace FX table.
    :returns: nothing; results are collected through ``register``.

    .. versionadded:: 0.1
    """


@hookspec
def kam_register_rules(register: Callable[..., None]) -> None:
    """Declare validation rules.

    Called once when the registry is built. ``check(org)`` is called by ``kam validate`` and
    yields :class:`kamcore.Violation` objects; kamcore adds the code, the severity (which users
    may override in ``kam.yaml``), and the file and line of the subject.

    :param register: ``register(code, name, check, *, severity="error", summary="")``. Codes
        are stable: a prefix per plugin (``HC101``) and never reused.
    :returns: nothing; results are collected through ``register``.

    .. versionadded:: 0.1
    """


# -------------------------------------------------------------------------------------------------
# Per-account questions: called while commands run.
# -------------------------------------------------------------------------------------------------


@hookspec
def kam_account_duties(account: Account, org: Org) -> list[Duty] | None:
    """Return the duties the accountable manager has for ``account``.

    Called for every account listed by ``kam duties`` and the hand-over brief. Results from all
    plugins are concatenated (core duties first). Return ``None`` or ``[]`` for accounts outside
    the plugin's industries; :func:`kamcore.serves` tests that.

    :param account: the account.
    :param org: the whole org, for context (parents, people, support staff).
    :returns: a list of :class:`kamcore.Duty`, or ``None``.

    .. versionadded:: 0.1
    """


# -------------------------------------------------------------------------------------------------
# Command line: called when ``kam`` builds its command group.
# -------------------------------------------------------------------------------------------------


@hookspec
def kam_add_commands(cli: click.Group) -> None:
    """Add commands to the ``kam`` command line.

    Called once when the CLI is built. Add with ``cli.add_command(cmd)`` or the
    ``@cli.command()`` decorator. A name taken by a built-in command is refused with an error
    naming the plugin.

    :param cli: the ``kam`` click group.
    :returns: nothing.

    .. versionadded:: 0.1
    """


def all_spec_names() -> list[str]:
    """Names of every hook spec in this module, in lifecycle order."""
    return [name for name, value in globals().items()
            if name.startswith("kam_") and callable(value)]


__all__ = ["PROJECT", "all_spec_names", "hookimpl", "hookspec"]


