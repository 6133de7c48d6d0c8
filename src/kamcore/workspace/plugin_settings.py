"""kam.yaml's plugin parts: the typed ``plugins.<name>`` sections and the ``conflicts:`` choices.

Both need the registry (which plugins are loaded, their settings models, the names they
contest), so they are checked right after kam.yaml is read and the registry is built, with the
kam.yaml line in every error.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from kamcore.errors import ConflictChoiceError, Location, WorkspaceError
from kamcore.settings import Settings
from kamcore.workspace.yamlio import line_of, strip_lines

if TYPE_CHECKING:
    from kamcore.registry import Registry


def settle_conflicts(registry: Registry, settings: Settings, raw: dict[str, Any],
                     path: Path) -> Registry:
    """The registry with the contests kam.yaml's ``conflicts:`` settles settled.

    :raises WorkspaceError: a choice names a plugin that does not claim that name (kam.yaml
        line, and the plugins that do).
    """
    try:
        return registry.settle(settings.conflicts.choices())
    except ConflictChoiceError as exc:
        raise WorkspaceError(f"conflicts.{exc.kind}.{exc.name}: {exc.message}",
                             location=Location(str(path), line_of(
                                 raw, ("conflicts", exc.kind, exc.name))),
                             hint=exc.hint) from None


def check_plugin_settings(registry: Registry, settings: Settings, raw: dict[str, Any],
                          path: Path) -> None:
    """Validate each ``plugins.<name>`` section against its plugin's settings model.

    A valid section is replaced by the model instance (read it with
    :func:`kamcore.plugin_settings`). A section for a loaded plugin without a model is kept as
    written (0.1 plugins). A name that is no loaded plugin but close to one is a typo.

    :raises WorkspaceError: with the kam.yaml line, what is wrong and how to fix it.
    """
    loaded = set(registry.plugins) | set(registry.settings)
    for name, value in list(settings.plugins.items()):
        model = registry.settings.get(name)
        where = ("plugins", name)
        if model is None:
            close = difflib.get_close_matches(name, sorted(loaded), n=1, cutoff=0.75)
            if name not in loaded and close:
                raise _error(raw, path, where, f"no plugin named {name!r} is loaded",
                             f"did you mean {close[0]!r}?")
            continue
        settings.plugins[name] = validate_section(model, name, value, raw, path)


def validate_section(model: type[BaseModel], name: str, value: Any, raw: dict[str, Any],
                     path: Path) -> BaseModel:
    """One plugin's section as its model; unknown keys are errors with a did-you-mean."""
    where = ("plugins", name)
    data = strip_lines(value) if value is not None else {}
    if not isinstance(data, Mapping):
        raise _error(raw, path, where, f"plugins.{name} must be a mapping of settings, not "
                     f"{type(data).__name__} {data!r}",
                     "known settings: " + (", ".join(model.model_fields) or "none"))
    for key in data:
        if key not in model.model_fields:
            close = difflib.get_close_matches(str(key), list(model.model_fields), n=1)
            raise _error(raw, path, (*where, key), f"plugins.{name}: unknown setting {key!r}",
                         f"did you mean {close[0]!r}?" if close else
                         "known settings: " + (", ".join(model.model_fields) or "none"))
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise _error(raw, path, (*where, *loc),
                     f"plugins.{name}.{'.'.join(map(str, loc))}: {message}",
                     f"see the settings of plugin {name!r} in its documentation") from None


def _error(raw: dict[str, Any], path: Path, loc: tuple[Any, ...], message: str,
           hint: str) -> WorkspaceError:
    return WorkspaceError(message, location=Location(str(path), line_of(raw, loc)), hint=hint)
