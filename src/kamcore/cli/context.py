"""The object every command receives: the plugin manager and registry, built on first use."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date

    import pluggy

    from kamcore.org import Org
    from kamcore.registry import Registry
    from kamcore.settings import Settings
    from kamcore.workspace.tables import WorkspaceTables


def workspace_of(args: Sequence[str]) -> Path | None:
    """The workspace a command line is about, found before any plugin hook runs.

    The first argument that is a workspace folder (one holding kam.yaml) or a kam.yaml file;
    else the current folder when it holds kam.yaml; else ``None``. Its kam.yaml's
    ``hook_timeout`` and ``conflicts.commands`` apply to the whole invocation.
    """
    from kamcore.filenames import CONFIG_FILE

    for arg in args:
        if not arg or arg.startswith("-"):
            continue
        path = Path(arg)
        try:
            if path.is_dir() and (path / CONFIG_FILE).is_file():
                return path
            if path.name == CONFIG_FILE and path.is_file():
                return path.parent
        except (OSError, ValueError):  # a name too long for the system, a NUL: no workspace
            continue
    return Path(".") if Path(CONFIG_FILE).is_file() else None


@dataclass
class KamContext:
    """Shared state of one ``kam`` invocation (``ctx.obj``)."""

    pm_factory: Callable[[], pluggy.PluginManager]
    _pm: pluggy.PluginManager | None = field(default=None, repr=False)
    #: The workspace the command line names (:func:`workspace_of`), and its settings when
    #: its kam.yaml reads cleanly (the command's own read reports a broken one).
    workspace: Path | None = None
    workspace_settings: Settings | None = field(default=None, repr=False)

    def use_workspace(self, args: Sequence[str]) -> None:
        """Find the invocation's workspace in ``args`` and apply its ``hook_timeout`` before
        any hook runs (the declarations and ``kam_add_commands`` included)."""
        from kamcore.errors import KamError
        from kamcore.hookcall import set_hook_timeout
        from kamcore.workspace.loader import load_settings_only

        self.workspace = workspace_of(args)
        self.workspace_settings = None
        if self.workspace is not None:
            # a broken kam.yaml: the command reads the workspace itself and reports why
            with contextlib.suppress(KamError):
                self.workspace_settings = load_settings_only(self.workspace)
        set_hook_timeout(self.workspace_settings.hook_timeout if self.workspace_settings
                         else None)

    @property
    def pm(self) -> pluggy.PluginManager:
        if self._pm is None:
            self._pm = self.pm_factory()
        return self._pm

    #: Whether the plugins' problems are shown as warnings when the command ends (``kam
    #: validate`` and ``kam plugins`` show them in their own output instead).
    warn_problems: bool = True
    _registry_used: bool = field(default=False, repr=False)

    @property
    def registry(self) -> Registry:
        from kamcore.registry import registry_for

        self._registry_used = True
        return registry_for(self.pm)

    def load(self, path: str | Path, as_of: date | str | None = None) -> Org:
        """Load a workspace with this invocation's plugins, as of a day (default today)."""
        from kamcore.workspace import load

        return load(path, registry=self.registry, as_of=as_of)

    def read(self, path: str | Path, as_of: date | str | None = None, *,
             history: bool = True, contact_columns: Collection[str] | None = None,
             optional: Collection[str] | None = None) -> WorkspaceTables:
        """Read a workspace into the reader's tables (no object per record), as of a day.

        :param history: ``False`` lets bad history.csv rows through (kam validate lists them).
        :param contact_columns: as :func:`~kamcore.workspace.tables.read_workspace`.
        :param optional: as :func:`~kamcore.workspace.tables.read_workspace`.
        :raises RecordErrors: records that cannot be read, all listed.
        """
        from kamcore.workspace.tables import read_workspace

        tables = read_workspace(path, registry=self.registry, as_of=as_of,
                                contact_columns=contact_columns, optional=optional)
        tables.require_readable(history=history)
        return tables

    @property
    def settled(self) -> Registry:
        """The registry as the kam.yaml of the invocation's workspace settles it
        (``conflicts:``): what a command that picks a plugin's declaration by name before
        reading the workspace (an export format, an import source) must look in."""
        from kamcore.errors import ConflictChoiceError

        registry = self.registry
        if self.workspace_settings is not None:
            with contextlib.suppress(ConflictChoiceError):  # the workspace's read reports it
                registry = registry.settle(self.workspace_settings.conflicts.choices())
        return registry

    def warn_plugin_problems(self) -> None:
        """Plugins that failed to load or declare are shown on stderr: called once, when a
        command that used the plugins' declarations ends.

        A name two plugins claim that the workspace's kam.yaml settles is no problem here.
        """
        import click

        if not (self._registry_used and self.warn_problems):
            return
        for problem in self.settled.problems:
            click.secho(f"warning: {problem}", fg="yellow", err=True)
