"""The one way kamcore calls a hook: ``pm.hook.<name>(...)``, each plugin's part guarded.

Every hook goes through :func:`call_hook`, which calls pluggy's own ``pm.hook.<name>`` (so
``tryfirst``, ``trylast`` and ``wrapper=True`` work as in any pluggy project). What makes a
plugin's failure local is a guard that :class:`~kamcore.plugins.KamPluginManager` puts around
each hook implementation when the plugin is registered (:func:`guard_plugin`). During a
:func:`call_hook` the guard:

- catches what the implementation raises (``SystemExit`` and every ``BaseException`` but a
  Ctrl-C included) and records it as a :class:`~kamcore.errors.PluginError` naming the plugin,
  the hook and the subject (an account), instead of letting it end the call;
- checks the result with the hook's checker, if it has one;
- applies the one bad-result policy: a plugin whose call raises or returns something unusable
  contributes **nothing** from that call (its result is dropped, and for the ``register`` hooks
  the declarations it made during the call are rolled back); the other plugins are unaffected;
- times the call: a watchdog thread reports on stderr, by name, a plugin whose call runs past
  the limit (``hook_timeout`` in the kam.yaml of the workspace being read or named on the
  command line, else ``KAM_HOOK_TIMEOUT``, default 60 s; :func:`set_hook_timeout`). The
  process is never killed: when the call comes back its result is dropped, the overrun is
  recorded like any other fault, and that plugin's hooks are skipped for the rest of the run.

Outside :func:`call_hook` (a plugin's own test calling ``pm.hook.x(...)``) the guard is
transparent: the implementation runs as written and its exceptions propagate.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Generator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kamcore.errors import PluginError, PluginExited

if TYPE_CHECKING:
    import pluggy

__all__ = ["DEFAULT_HOOK_TIMEOUT", "INTERRUPTS", "HookCall", "PluginExited", "as_plugin_fault",
           "call_hook", "describe_fault", "guard_plugin", "set_hook_timeout"]

#: What a plugin may raise that still stops kam: the user's Ctrl-C. Anything else a plugin
#: raises, ``SystemExit`` and other ``BaseException`` included, is that plugin's fault.
INTERRUPTS: tuple[type[BaseException], ...] = (KeyboardInterrupt,)
#: Seconds a single hook call may run before the watchdog names it (kam.yaml ``hook_timeout``).
DEFAULT_HOOK_TIMEOUT = 60.0


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
    if isinstance(fault, PluginError):
        return fault.detail
    if isinstance(fault, PluginExited):
        return str(fault)
    return f"{type(fault).__name__}: {fault}"


#: ``check(plugin, result) -> result``: the hook's result checker; raises ValueError to refuse.
Checker = Callable[[str, Any], Any]


@dataclass
class HookCall:
    """One :func:`call_hook` in progress: what the guards report into."""

    hook: str
    problems: list[PluginError]
    check: Checker | None = None
    subject: str = ""
    begin: Callable[[str], None] | None = None
    rollback: Callable[[str], None] | None = None
    hint: str | None = None

    def fail(self, plugin: str, message: str, hint: str | None = None) -> None:
        """Record ``plugin``'s fault and undo what it declared during this call."""
        prefix = f"{self.subject}: " if self.subject else ""
        self.problems.append(PluginError(
            prefix + message, plugin=plugin, hook=self.hook,
            hint=hint or self.hint or f"report it to the plugin's authors, or set "
            f"KAM_DISABLE_PLUGINS={plugin}"))
        if self.rollback is not None:
            self.rollback(plugin)


_CURRENT: ContextVar[HookCall | None] = ContextVar("kamcore_hook_call", default=None)


def call_hook(pm: pluggy.PluginManager, hook: str, *, problems: list[PluginError],
              check: Checker | None = None, subject: str = "",
              begin: Callable[[str], None] | None = None,
              rollback: Callable[[str], None] | None = None, hint: str | None = None,
              **kwargs: Any) -> list[Any]:
    """Call ``pm.hook.<hook>(**kwargs)`` with every plugin's failure isolated and named.

    :param pm: the plugin manager (a :class:`~kamcore.plugins.KamPluginManager`, whose
        plugins are guarded).
    :param hook: the hook name (``kam_account_duties``).
    :param problems: receives one :class:`PluginError` per plugin that failed.
    :param check: ``check(plugin, result)`` returns the result to keep or raises
        ``ValueError`` (the message says what is wrong) to refuse it; then nothing of that
        plugin's call is kept.
    :param subject: put before every message (``"account 'A1'"``).
    :param begin: called with the plugin's name before its implementation runs.
    :param rollback: called with the plugin's name when its call failed (undo its
        declarations).
    :param hint: the hint of every problem (default: report it, or disable the plugin).
    :returns: pluggy's result: the non-``None`` results, in pluggy's call order.
    """
    call = HookCall(hook, problems, check, subject, begin, rollback, hint)
    token = _CURRENT.set(call)
    try:
        result: list[Any] = getattr(pm.hook, hook)(**kwargs)
    finally:
        _CURRENT.reset(token)
    return result


def guard_plugin(pm: pluggy.PluginManager, plugin: object,
                 disabled: set[str]) -> None:
    """Put the guard around each of ``plugin``'s hook implementations (once)."""
    for caller in pm.get_hookcallers(plugin) or []:
        for impl in caller.get_hookimpls():
            if impl.plugin is not plugin or getattr(impl.function, "_kam_guarded", False):
                continue
            if impl.hookwrapper:
                continue  # old-style wrappers are not part of the hook API (see docs/hooks.md)
            guard = (_guard_wrapper if impl.wrapper else _guard_call)(
                impl.function, impl.plugin_name, disabled)
            guard._kam_guarded = True  # type: ignore[attr-defined]
            # pluggy types the attribute Final; replacing it is the one guarded entry point
            impl.function = guard  # type: ignore[misc]


def _guard_call(function: Callable[..., Any], plugin: str,
                disabled: set[str]) -> Callable[..., Any]:
    def guarded(*args: Any) -> Any:
        call = _CURRENT.get()
        if call is None:
            return function(*args)
        if plugin in disabled:
            return None
        if call.begin is not None:
            call.begin(plugin)
        started = _WATCHDOG.enter(plugin, call.hook)
        try:
            result = function(*args)
        except BaseException as exc:  # SystemExit too; a Ctrl-C is re-raised
            _WATCHDOG.leave(started)
            call.fail(plugin, describe_fault(exc),
                      exc.hint if isinstance(exc, PluginError) else None)
            return None
        if _WATCHDOG.leave(started):
            _overran(call, plugin, disabled)
            return None
        if result is not None and call.check is not None:
            try:
                result = call.check(plugin, result)
            except ValueError as exc:
                call.fail(plugin, str(exc))
                return None
        return result

    return guarded


def _guard_wrapper(function: Callable[..., Any], plugin: str,
                   disabled: set[str]) -> Callable[..., Any]:
    """A ``wrapper=True`` implementation, guarded before and after its ``yield``."""
    def guarded(*args: Any) -> Generator[None, Any, Any]:
        call = _CURRENT.get()
        if call is None:
            return (yield from function(*args))
        if plugin in disabled:
            return (yield)
        try:
            gen = function(*args)
            next(gen)
        except BaseException as exc:  # set-up failed: the wrapper is skipped
            call.fail(plugin, describe_fault(exc))
            return (yield)
        result = yield
        try:
            gen.send(result)
        except StopIteration as stop:
            return stop.value
        except BaseException as exc:
            call.fail(plugin, describe_fault(exc))
            return result
        gen.close()
        call.fail(plugin, "a wrapper must yield exactly once")
        return result

    return guarded


def _overran(call: HookCall, plugin: str, disabled: set[str]) -> None:
    disabled.add(plugin)
    limit = _WATCHDOG.limit
    call.fail(plugin, f"ran longer than {limit:g} s ({_WATCHDOG.source}); its result is "
              "dropped and its hooks are skipped for the rest of this run")


def set_hook_timeout(seconds: float | None, *, source: str = "hook_timeout in kam.yaml"
                     ) -> None:
    """Set the watchdog's limit (``None``: ``KAM_HOOK_TIMEOUT`` or the default, 60 s).

    :param source: where the limit comes from, as messages name it (a user who sees the
        limit must find where to change it).
    """
    if seconds is None:
        raw = os.environ.get("KAM_HOOK_TIMEOUT", "")
        try:
            seconds = float(raw) if raw else DEFAULT_HOOK_TIMEOUT
            source = "KAM_HOOK_TIMEOUT" if raw else "the default; hook_timeout in kam.yaml"
        except ValueError:
            seconds = DEFAULT_HOOK_TIMEOUT
            source = "the default: KAM_HOOK_TIMEOUT is not a number"
    _WATCHDOG.source = source
    _WATCHDOG.limit = max(float(seconds), 0.001)


@dataclass
class _Watchdog:
    """Names, on stderr, a plugin whose hook call runs past the limit; never kills anything.

    Entering and leaving a call costs two clock reads and a list append, so every hook call
    can be watched; the thread starts with the first call and wakes a few times per limit.
    """

    _limit: float | None = None
    #: Where the limit comes from (see :func:`set_hook_timeout`).
    source: str = "the default; hook_timeout in kam.yaml"
    _running: list[tuple[str, str, float]] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _reported: set[tuple[str, str, float]] = field(default_factory=set)
    _wake: threading.Event = field(default_factory=threading.Event)

    @property
    def limit(self) -> float:
        if self._limit is None:
            set_hook_timeout(None)
        assert self._limit is not None
        return self._limit

    @limit.setter
    def limit(self, seconds: float) -> None:
        self._limit = seconds
        self._wake.set()  # a sleeping watchdog picks the new limit up now

    def enter(self, plugin: str, hook: str) -> float:
        started = time.monotonic()
        self._running.append((plugin, hook, started))
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="kam-hook-watchdog",
                                            daemon=True)
            self._thread.start()
        return started

    def leave(self, started: float) -> bool:
        """Forget the call; ``True`` when it ran past the limit."""
        if self._running:
            self._running.pop()
        return time.monotonic() - started > self.limit

    def _watch(self) -> None:
        while True:
            self._wake.wait(min(max(self.limit / 4, 0.01), 5.0))
            self._wake.clear()
            now = time.monotonic()
            for entry in list(self._running):
                plugin, hook, started = entry
                if now - started > self.limit and entry not in self._reported:
                    self._reported.add(entry)
                    _report_overrun(plugin, hook, now - started)


def _report_overrun(plugin: str, hook: str, seconds: float) -> None:
    try:
        sys.stderr.write(
            f"warning: plugin {plugin!r} in hook {hook} has run for {seconds:.3g} s, past the "
            f"{_WATCHDOG.limit:g} s limit ({_WATCHDOG.source}); it is still running. "
            f"Press Ctrl-C to stop, or set KAM_DISABLE_PLUGINS={plugin}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


_WATCHDOG = _Watchdog()
