"""Building the plugin manager: entry points, then the built-in plugins, then checks.

Nothing happens at import. ``get_plugin_manager()`` builds a fresh manager each time; callers
pass it down (``make_cli(pm)``, ``load(path, pm=pm)``).

Environment:

- ``KAM_LOAD_PLUGINS=a,b`` loads only these entry-point plugins; an empty value loads none.
- ``KAM_DISABLE_PLUGINS=x,y`` blocks the named plugins (built-ins included, except ``core``).
- ``KAM_TRACE_PLUGINS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata

import pluggy

from kamcore import hookspecs
from kamcore.errors import PluginError

#: Built-in plugins, registered exactly like third-party ones (datasette's default_* modules).
DEFAULT_PLUGINS: tuple[str, ...] = (
    "kamcore.builtin.core_metrics",
    "kamcore.builtin.core_rules",
    "kamcore.builtin.core_duties",
)
#: Built-ins that cannot be blocked: without them the core means nothing.
ESSENTIAL_PLUGINS = frozenset({"core_metrics", "core_rules"})
ENTRY_POINT_GROUP = "kamcore"
#: What a plugin may raise that still stops kam: the user's Ctrl-C. Anything else a plugin
#: raises, ``SystemExit`` and other ``BaseException`` included, is that plugin's fault.
INTERRUPTS: tuple[type[BaseException], ...] = (KeyboardInterrupt,)


class PluginExited(Exception):
    """A plugin raised ``SystemExit`` (or another ``BaseException``): turned into an ordinary
    exception so that every place that isolates plugin failures catches it."""

    def __init__(self, exc: BaseException) -> None:
        self.original = exc
        super().__init__(f"{type(exc).__name__}({exc!s}) raised by a plugin; a plugin must "
                         "not end the process")


def as_plugin_fault(exc: BaseException) -> Exception:
    """``exc`` as an ordinary exception; re-raises a Ctrl-C (:data:`INTERRUPTS`).

    Use it in ``except BaseException`` around every call into plugin code.
    """
    if isinstance(exc, INTERRUPTS):
        raise exc
    return exc if isinstance(exc, Exception) else PluginExited(exc)


def describe_fault(exc: BaseException) -> str:
    """``Type: message`` of what a plugin raised (``SystemExit(3) raised by a plugin ...``)."""
    fault = as_plugin_fault(exc)
    if isinstance(fault, PluginExited):
        return str(fault)
    return f"{type(fault).__name__}: {fault}"


def _env_list(name: str) -> list[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


class KamPluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers which plugins failed to load and where each came from."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        #: Plugins that were found but could not be loaded; reported, never fatal.
        self.load_failures: list[PluginError] = []
        #: Entry-point plugin name -> (distribution name, version).
        self.distributions: dict[str, tuple[str, str]] = {}
        #: KAM_TRACE_PLUGINS: print hook calls, including those kamcore makes plugin by plugin.
        #: (Not ``trace``: pluggy's own tracer lives there and ``enable_tracing`` needs it.)
        self.trace_hooks = False

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin``; the cached registry is dropped so that it is rebuilt with it."""
        self.__dict__.pop("_kam_registry", None)
        return super().register(plugin, name)

    def unregister(self, plugin: object | None = None,
                   name: str | None = None) -> object | None:
        """Unregister a plugin (by object or name) and drop the cached registry."""
        self.__dict__.pop("_kam_registry", None)
        return super().unregister(plugin, name)


def get_plugin_manager(*, load_entrypoints: bool = True,
                       defaults: bool = True) -> KamPluginManager:
    """A new plugin manager: entry-point plugins, then the defaults, then ``check_pending``.

    :param load_entrypoints: discover plugins in the ``kamcore`` entry-point group.
    :param defaults: register the built-in plugins (tests of a single hook may switch them off).
    :returns: the manager.
    :raises PluginError: a plugin cannot be imported or implements a hook that does not exist.
    """
    import importlib

    pm = KamPluginManager()
    for name in _env_list("KAM_DISABLE_PLUGINS") or []:
        if name.removeprefix("kamcore.builtin.") not in ESSENTIAL_PLUGINS:
            pm.set_blocked(name)
    if load_entrypoints:
        _load_entrypoints(pm, only=_env_list("KAM_LOAD_PLUGINS"))
    if defaults:
        for dotted in DEFAULT_PLUGINS:
            short = dotted.rsplit(".", 1)[-1]
            if pm.is_blocked(short):
                continue
            pm.register(importlib.import_module(dotted), name=short)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc), plugin=getattr(exc.plugin, "__name__", str(exc.plugin)),
                          hint="check the hook name against docs/hooks.md") from exc
    if os.environ.get("KAM_TRACE_PLUGINS"):
        pm.trace_hooks = True
        _trace(pm)
    return pm


def installed_entry_points(group: str = ENTRY_POINT_GROUP) -> list[metadata.EntryPoint]:
    """The installed entry points of ``group``; one seam, so tests can pretend plugins exist."""
    return list(metadata.entry_points(group=group))


def _load_entrypoints(pm: KamPluginManager, only: list[str] | None) -> None:
    for ep in installed_entry_points(ENTRY_POINT_GROUP):
        if only is not None and ep.name not in only and _dist_name(ep) not in only:
            continue
        if pm.is_blocked(ep.name) or pm.has_plugin(ep.name):
            continue
        try:
            plugin = ep.load()
        except BaseException as exc:  # a broken plugin must not take kamcore down with it
            pm.load_failures.append(PluginError(
                f"cannot be imported: {describe_fault(exc)}", plugin=ep.name,
                hint=f"reinstall it, or set KAM_DISABLE_PLUGINS={ep.name}"))
            continue
        try:
            pm.register(plugin, name=ep.name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            pm.load_failures.append(PluginError(str(exc), plugin=ep.name))
            continue
        if ep.dist is not None:
            pm.distributions[ep.name] = (ep.dist.metadata["Name"], ep.dist.version)


def _dist_name(ep: metadata.EntryPoint) -> str | None:
    return ep.dist.metadata["Name"] if ep.dist is not None else None


def trace_call(pm: pluggy.PluginManager, hook: str, plugin: str) -> None:
    """With KAM_TRACE_PLUGINS, report a hook called on one plugin (kamcore's isolated calls)."""
    if getattr(pm, "trace_hooks", False):
        print(f"[kam trace] {hook} -> {plugin}", file=sys.stderr)


def _trace(pm: pluggy.PluginManager) -> None:
    def before(hook_name: str, impls: Sequence[pluggy.HookImpl],
               kwargs: Mapping[str, object]) -> None:
        names = ", ".join(impl.plugin_name for impl in impls)
        print(f"[kam trace] {hook_name} -> {names}", file=sys.stderr)

    def after(*_: object) -> None:
        return None

    pm.add_hookcall_monitoring(before, after)


@dataclass
class PluginInfo:
    """What ``kam plugins`` shows for one plugin."""

    name: str
    version: str | None
    hooks: list[str]
    source: str
    distribution: str | None = None
    industries: list[str] = field(default_factory=list)


def list_plugins(pm: pluggy.PluginManager, *, include_builtin: bool = False) -> list[PluginInfo]:
    """Every registered plugin with version, hooks and source, sorted by name."""
    from kamcore.registry import registry_for

    dists = getattr(pm, "distributions", {})
    industries: dict[str, list[str]] = {}
    for industry in registry_for(pm).industries.values():
        industries.setdefault(industry.plugin, []).append(industry.name)
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        builtin = getattr(plugin, "__name__", "").startswith("kamcore.builtin.")
        if builtin and not include_builtin:
            continue
        dist_name, version = dists.get(name, (None, None))
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        infos.append(PluginInfo(
            name=name,
            version=version if dist_name else _kamcore_version() if builtin else None,
            hooks=hooks,
            source="builtin" if builtin else "entry point" if dist_name else "registered",
            distribution=dist_name,
            industries=sorted(industries.get(name, [])),
        ))
    return sorted(infos, key=lambda info: (info.source != "entry point", info.name))


def _kamcore_version() -> str:
    from kamcore import __version__

    return __version__
