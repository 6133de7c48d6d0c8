"""Opening a workspace folder: its settings, and its records as an :class:`~kamcore.org.Org`.

Every problem is reported with file, line, record and column, all of them at once
(:class:`~kamcore.errors.RecordErrors`), never as a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kamcore.errors import Location, WorkspaceError
from kamcore.settings import CONFIG_FILE, Settings
from kamcore.workspace.tables import ACCOUNT_COLUMNS, PERSON_COLUMNS
from kamcore.workspace.yamlio import line_of as _line_of
from kamcore.workspace.yamlio import read_yaml, strip_lines

if TYPE_CHECKING:
    from datetime import date

    import pluggy

    from kamcore.org import Org
    from kamcore.registry import Registry

__all__ = ["ACCOUNT_COLUMNS", "PERSON_COLUMNS", "as_org", "load", "load_settings",
           "load_settings_only", "resolve_workspace"]


def resolve_workspace(path: str | Path) -> Path:
    """The workspace folder for ``path`` (a folder, or its kam.yaml)."""
    target = Path(path)
    if target.is_file() and target.name == CONFIG_FILE:
        return target.parent
    if not target.exists():
        raise WorkspaceError(f"{target} does not exist",
                             hint=f"create a workspace with `kam init {target}`")
    if not target.is_dir():
        raise WorkspaceError(f"{target} is not a workspace folder",
                             hint="pass the folder that holds kam.yaml")
    return target


def load_settings(folder: Path) -> tuple[Settings, dict[str, Any]]:
    """Read ``kam.yaml``; returns the settings and the raw mapping (with line numbers)."""
    path = folder / CONFIG_FILE
    raw = read_yaml(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise WorkspaceError("kam.yaml must be a mapping of settings (name: ..., currency: ...)",
                             location=Location(str(path), 1))
    try:
        settings = Settings.model_validate(strip_lines(raw))
    except ValidationError as exc:
        err = exc.errors()[0]
        key = err["loc"][0] if err["loc"] else None
        line = _line_of(raw, err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise WorkspaceError(f"setting {'.'.join(map(str, err['loc']))}: {message}",
                             location=Location(str(path), line),
                             hint=_settings_hint(key)) from None
    _check_metrics(settings, raw, path)
    return settings, raw


_AGGREGATION_HINT = ("aggregation is one of sum, count, min, max, mean, wmean; wmean also "
                     "needs weight: OTHER_METRIC; periods (how periods combine) is one of "
                     "sum, last, mean, max, min; derive is a formula over other metrics "
                     "and plugins' number fields (names, <namespace>.<field>, numbers, "
                     "+ - * /)")


def _check_metrics(settings: Settings, raw: dict[str, Any], path: Path) -> None:
    """The workspace's own metrics must be metric definitions every command can use."""

    for name, spec in settings.metrics.items():
        try:
            spec.definition(name)
        except ValidationError as exc:
            err = exc.errors()[0]
            message = str(err["msg"]).removeprefix("Value error, ").removeprefix(
                f"metric {name!r}: ")
            key = ".".join(str(part) for part in err["loc"])
            where = f"{key}: " if key else ""
            raise WorkspaceError(f"metric {name!r}: {where}{message}",
                                 location=Location(str(path), _line_of(
                                     raw, ("metrics", name, *err["loc"]))),
                                 hint=_AGGREGATION_HINT) from None


def check_weights(metrics: dict[str, Any], raw: dict[str, Any], path: Path,
                  registry: Registry | None = None) -> None:
    """A workspace metric weighted by a metric nobody declares, or derived from a name no
    metric and no number field of ``registry``'s plugins has, is refused by every command.

    :raises WorkspaceError: naming the kam.yaml line.
    """
    for name, metric in metrics.items():
        if metric.plugin == "workspace" and metric.weight and metric.weight not in metrics:
            raise WorkspaceError(
                f"metric {name!r} is weighted by {metric.weight!r}, which no plugin and no "
                "metrics: entry declares", location=Location(
                    str(path), _line_of(raw, ("metrics", name))),
                hint="declare the weight metric too, or load the plugin that does")
    from kamcore.fieldvalues import field_kinds
    from kamcore.models.formula import derive_problems

    numbers, others = field_kinds(registry) if registry is not None else (set(), set())
    problems = derive_problems({name: m.derive for name, m in metrics.items()
                                if m.plugin == "workspace"}, {*metrics, *numbers},
                               text_fields=others)
    for name, message in problems.items():
        raise WorkspaceError(message, location=Location(str(path), _line_of(
            raw, ("metrics", name, "derive"))), hint="derive from declared metrics and "
            "plugins' number fields (<namespace>.<field>) only, without a loop")


def _settings_hint(key: object) -> str:
    if key in Settings.model_fields:
        return f"see the comments kam init writes for {key!r}, or docs/workspace.md"
    return ("known settings: " + ", ".join(Settings.model_fields)
            + "; plugin settings go under 'plugins:'")


def load(path: str | Path, *, pm: pluggy.PluginManager | None = None,
         registry: Registry | None = None, as_of: date | str | None = None) -> Org:
    """Load the workspace at ``path`` (a folder with kam.yaml, accounts.csv, people.csv).

    The records are read by the one reader (:func:`kamcore.workspace.tables.read_workspace`)
    and built from its tables, so the objects hold exactly what every command sees.

    :param path: the workspace folder, or its kam.yaml.
    :param pm: the plugin manager whose plugins declare fields and metrics; by default
        :func:`kamcore.get_plugin_manager` with every installed plugin.
    :param registry: an already-built registry (overrides ``pm``).
    :param as_of: the day the trees show (``"2025-12-31"`` or a ``date``): history.csv applied
        as of then (default today; see docs/time.md). ``org.as_of`` says which day it is.
    :returns: the org, with every record's file and line.
    :raises WorkspaceError: a file is missing or unreadable.
    :raises RecordErrors: records could not be parsed (all of them are listed).
    """
    from kamcore.workspace.objects import org_from_tables
    from kamcore.workspace.tables import read_workspace

    tables = read_workspace(path, pm=pm, registry=registry, as_of=as_of)
    tables.require_readable()
    org = org_from_tables(tables)
    org.as_of = tables.as_of
    return org


def as_org(source: Org | str | os.PathLike[str], *, pm: pluggy.PluginManager | None = None
           ) -> Org:
    """``source`` itself when it is an :class:`~kamcore.org.Org`, else the workspace loaded
    from that path: so every public function takes either.

    :raises TypeError: ``source`` is neither (naming what it is).
    :raises WorkspaceError: the path is not a readable workspace.
    """
    from kamcore.org import Org

    if isinstance(source, Org):
        return source
    if isinstance(source, str | os.PathLike):
        return load(Path(source), pm=pm)
    raise TypeError(f"expected an Org or the path of a workspace folder, not "
                    f"{type(source).__name__}: pass kamcore.load(PATH) or the path itself")


def load_settings_only(path: str | Path) -> Settings:
    """Just the settings of a workspace (for commands that read facts, not records)."""
    return load_settings(resolve_workspace(path))[0]


