"""What a plugin's own command needs, public and documented (docs/plugins.md, section 7).

The same helpers the built-in commands use: the ``ORG`` argument and ``--format`` / ``-o``
options, the renderers (terminal table, JSON, CSV with formula cells neutralised, and
``render(rows, fmt)`` for any of the three), ``emit``
(stdout, or the ``-o`` file written atomically), and :class:`KamContext`, the object a command
gets with ``@click.pass_obj`` (``kam.load(path)``, ``kam.read(path)``, ``kam.pm``).

A rollup's rows (``kamcore.rollup(...).rows``) are dicts keyed by each :class:`Column`'s
``key`` (:data:`ROLLUP_KEYS`): per view, the fixed keys, then the metric keys with ``{m}``
standing for each metric's name.

>>> from kamcore.commands import render_table
>>> print(render_table([{"carrier": "DHL", "accounts": 2}]))
carrier  accounts
-------  --------
DHL             2
"""

from __future__ import annotations

from kamcore.cli.context import KamContext
from kamcore.cli.options import format_option, output_option, workspace_argument
from kamcore.cli.output import emit, render, render_csv, render_json, render_table
from kamcore.rollup.result import Column, RollupResult

#: The keys of a rollup row, per view: fixed keys, then metric keys (``{m}``: the metric).
ROLLUP_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "account": (("id", "name", "tier", "manager", "manager_name", "parent", "depth"),
                ("{m}", "{m}_total")),
    "manager": (("id", "name", "role", "depth", "accounts", "team_accounts"),
                ("{m}_book", "{m}_team")),
    "group": (("<the field>", "accounts"), ("{m}",)),
}

__all__ = ["ROLLUP_KEYS", "Column", "KamContext", "RollupResult", "emit", "format_option",
           "output_option", "render", "render_csv", "render_json", "render_table",
           "workspace_argument"]
