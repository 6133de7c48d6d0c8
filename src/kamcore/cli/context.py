"""The object every command receives: the plugin manager and registry, built on first use."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date

    import pluggy

    from kamcore.org import Org
    from kamcore.registry import Registry
    from kamcore.workspace.tables import WorkspaceTables


@dataclass
class KamContext:
    """Shared state of one ``kam`` invocation (``ctx.obj``)."""

    pm_factory: Callable[[], pluggy.PluginManager]
    _pm: pluggy.PluginManager | None = field(default=None, repr=False)

    @property
    def pm(self) -> pluggy.PluginManager:
        if self._pm is None:
            self._pm = self.pm_factory()
        return self._pm

    @property
    def registry(self) -> Registry:
        from kamcore.registry import registry_for

        return registry_for(self.pm)

    def load(self, path: str | Path, as_of: date | str | None = None) -> Org:
        """Load a workspace with this invocation's plugins, as of a day (default today)."""
        from kamcore.hookcall import set_hook_timeout
        from kamcore.workspace import load

        org = load(path, registry=self.registry, as_of=as_of)
        set_hook_timeout(org.settings.hook_timeout)
        return org

    def read(self, path: str | Path, as_of: date | str | None = None, *,
             history: bool = True, contact_columns: Collection[str] | None = None
             ) -> WorkspaceTables:
        """Read a workspace into the reader's tables (no object per record), as of a day.

        :param history: ``False`` lets bad history.csv rows through (kam validate lists them).
        :param contact_columns: as :func:`~kamcore.workspace.tables.read_workspace`.
        :raises RecordErrors: records that cannot be read, all listed.
        """
        from kamcore.hookcall import set_hook_timeout
        from kamcore.workspace.tables import read_workspace

        tables = read_workspace(path, registry=self.registry, as_of=as_of,
                                contact_columns=contact_columns)
        tables.require_readable(history=history)
        set_hook_timeout(tables.settings.hook_timeout)
        return tables

    def warn_plugin_problems(self) -> None:
        """Plugins that failed to load or declare are shown on stderr, once."""
        import click

        for problem in self.registry.problems:
            click.secho(f"warning: {problem}", fg="yellow", err=True)
