"""Building the plugin manager: entry points, then the built-in plugins, then checks.

Nothing happens at import. ``get_plugin_manager()`` builds a fresh manager each time; callers
pass it down (``make_cli(pm)``, ``load(path, pm=pm)``).

Environment:

- ``KAM_LOAD_PLUGINS=a,b`` loads only these entry-point plugins; an empty value loads none.
- ``KAM_DISABLE_PLUGINS=x,y`` blocks the named plugins (built-ins included, except ``core``).
- ``KAM_TRACE_PLUGINS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata

import pluggy

from kamcore import hookspecs
from kamcore.errors import PluginError
from kamcore.hookcall import (  # re-exported: they lived here in 0.1
    INTERRUPTS,
    PluginExited,
    as_plugin_fault,
    describe_fault,
    guard_plugin,
)

__all__ = ["DEFAULT_PLUGINS", "ENTRY_POINT_GROUP", "ESSENTIAL_PLUGINS", "INTERRUPTS",
           "KamPluginManager", "PluginExited", "PluginInfo", "as_plugin_fault", "describe_fault",
           "get_plugin_manager", "installed_entry_points", "list_plugins"]

#: Built-in plugins, registered exactly like third-party ones (datasette's default_* modules).
DEFAULT_PLUGINS: tuple[str, ...] = (
    "kamcore.builtin.core_metrics",
    "kamcore.builtin.core_rules",
    "kamcore.builtin.core_duties",
)
#: Built-ins that cannot be blocked: without them the core means nothing.
ESSENTIAL_PLUGINS = frozenset({"core_metrics", "core_rules"})
ENTRY_POINT_GROUP = "kamcore"
def _env_list(name: str) -> list[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


class KamPluginManager(pluggy.PluginManager):
    """A pluggy manager that guards its plugins and remembers which failed and where each came
    from.

    :meth:`register` never lets one plugin break the others: an implementation of a hook that
    does not exist (a misspelt ``kam_register_rule``) or with arguments its hook does not have
    is recorded in :attr:`load_failures` (with a did-you-mean) and the plugin is not kept; a
    kept plugin's implementations are guarded (:mod:`kamcore.hookcall`).
    """

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        #: Plugins that were found but could not be loaded; reported, never fatal.
        self.load_failures: list[PluginError] = []
        #: Entry-point plugin name -> (distribution name, version).
        self.distributions: dict[str, tuple[str, str]] = {}
        #: Plugins whose hooks are skipped for the rest of the run (a hook ran past the limit).
        self.disabled: set[str] = set()

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register and guard ``plugin``; the cached registry is dropped so that it is rebuilt.

        :returns: the plugin's name, or ``None`` when it was refused (see :attr:`load_failures`)
            or is blocked.
        :raises ValueError: the plugin or its name is already registered (pluggy's rule).
        """
        self.__dict__.pop("_kam_registry", None)
        label = name or self.get_canonical_name(plugin)
        too_new = _requires_newer_api(plugin)
        if too_new:
            self.load_failures.append(PluginError(
                f"needs hook API {too_new} or newer; this kamcore has "
                f"{hookspecs.HOOK_API_VERSION}", plugin=label,
                hint="upgrade kamcore (pip install -U kamcore), or use an older release of "
                "the plugin"))
            return None
        try:
            registered = super().register(plugin, name)
        except pluggy.PluginValidationError as exc:
            self.load_failures.append(PluginError(
                str(exc).removeprefix(f"Plugin {label!r}\n").replace("\n", " "), plugin=label,
                hint="the hook's arguments are listed in the kamcore docs (hooks.md); set "
                f"KAM_DISABLE_PLUGINS={label} to skip the plugin meanwhile"))
            return None
        if registered is None:
            return None
        unknown = self._unknown_hooks(plugin)
        if unknown:
            super().unregister(plugin)
            self.load_failures.append(_misspelt(label, unknown))
            return None
        guard_plugin(self, plugin, self.disabled)
        return registered

    def _unknown_hooks(self, plugin: object) -> list[str]:
        return [caller.name for caller in self.get_hookcallers(plugin) or []
                if caller.spec is None and not all(
                    impl.optionalhook for impl in caller.get_hookimpls()
                    if impl.plugin is plugin)]

    def unregister(self, plugin: object | None = None,
                   name: str | None = None) -> object | None:
        """Unregister a plugin (by object or name) and drop the cached registry."""
        self.__dict__.pop("_kam_registry", None)
        return super().unregister(plugin, name)


def _requires_newer_api(plugin: object) -> str | None:
    """The API version a plugin requires when it is newer than ours (``REQUIRES_HOOK_API``)."""
    wanted = getattr(plugin, "REQUIRES_HOOK_API", None)
    if wanted is None:
        return None
    try:
        needed = tuple(int(part) for part in str(wanted).split("."))
    except ValueError:
        return str(wanted)
    have = tuple(int(part) for part in hookspecs.HOOK_API_VERSION.split("."))
    return str(wanted) if needed > have else None


def _misspelt(plugin: str, names: list[str]) -> PluginError:
    """The error for hooks that do not exist, each with its closest real hook."""
    specs = hookspecs.all_spec_names()
    parts = []
    for name in names:
        close = difflib.get_close_matches(name, specs, n=1, cutoff=0.6)
        parts.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return PluginError(
        f"implements {'a hook' if len(names) == 1 else 'hooks'} that kamcore does not have: "
        f"{', '.join(parts)}; the plugin is not loaded",
        plugin=plugin, hook=names[0] if len(names) == 1 else None,
        hint=f"rename it; the hooks are {', '.join(specs)}")


def get_plugin_manager(*, load_entrypoints: bool = True,
                       defaults: bool = True) -> KamPluginManager:
    """A new plugin manager: entry-point plugins, then the defaults, then ``check_pending``.

    :param load_entrypoints: discover plugins in the ``kamcore`` entry-point group.
    :param defaults: register the built-in plugins (tests of a single hook may switch them off).
    :returns: the manager; plugins that could not be loaded are in ``pm.load_failures``.
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
    pm.check_pending()  # register() refused every plugin it would refuse
    if os.environ.get("KAM_TRACE_PLUGINS"):
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
            registered = pm.register(plugin, name=ep.name)
        except ValueError as exc:
            pm.load_failures.append(PluginError(str(exc), plugin=ep.name))
            continue
        if registered is None:
            continue
        if ep.dist is not None:
            pm.distributions[ep.name] = (ep.dist.metadata["Name"], ep.dist.version)


def _dist_name(ep: metadata.EntryPoint) -> str | None:
    return ep.dist.metadata["Name"] if ep.dist is not None else None


def trace_call(pm: pluggy.PluginManager, hook: str, plugin: str) -> None:
    """Deprecated since 1.0 (removed in 2.0): every call goes through ``pm.hook``, which
    ``KAM_TRACE_PLUGINS=1`` traces."""
    from kamcore.deprecated import warn_deprecated

    warn_deprecated("kamcore.plugins.trace_call", "KAM_TRACE_PLUGINS=1")
    if isinstance(pm, KamPluginManager) and os.environ.get("KAM_TRACE_PLUGINS"):
        print(f"[kam trace] {hook} -> {plugin}", file=sys.stderr)


def _trace(pm: pluggy.PluginManager) -> None:
    def before(hook_name: str, impls: Sequence[pluggy.HookImpl],
               kwargs: Mapping[str, object]) -> None:
        for impl in reversed(impls):  # pluggy calls the last registered first
            print(f"[kam trace] {hook_name} -> {impl.plugin_name}", file=sys.stderr)

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
