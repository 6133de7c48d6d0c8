"""The ``kam`` command group: built-in commands load lazily, plugins add theirs by hook.

``make_cli(pm)`` builds the group; nothing is loaded at import, so tests build a fresh CLI with
exactly the plugins they want and ``kam --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

import click

from kamcore.cli.context import KamContext
from kamcore.cli.errors import ExitCode, to_cli_error

if TYPE_CHECKING:
    from pathlib import Path

    import pluggy

    from kamcore.errors import PluginError
    from kamcore.settings import Settings

#: Built-in commands: name -> "module:attribute", imported only when used.
BUILTIN_COMMANDS: dict[str, str] = {
    "init": "kamcore.cli.cmd_init:init",
    "validate": "kamcore.cli.cmd_validate:validate",
    "tree": "kamcore.cli.cmd_tree:tree",
    "schema": "kamcore.cli.cmd_schema:schema",
    "plugins": "kamcore.cli.cmd_plugins:plugins",
    "move": "kamcore.cli.cmd_changes:move",
    "assign": "kamcore.cli.cmd_changes:assign",
    "handover": "kamcore.cli.cmd_changes:handover",
    "leave": "kamcore.cli.cmd_changes:leave",
    "hire": "kamcore.cli.cmd_changes:hire",
    "undo": "kamcore.cli.cmd_changes:undo",
    "log": "kamcore.cli.cmd_changes:log",
    "plan": "kamcore.cli.cmd_plan:plan",
    "history": "kamcore.cli.cmd_history:history",
    "diff": "kamcore.cli.cmd_diff:diff",
    "coverage": "kamcore.cli.cmd_coverage:coverage",
    "duties": "kamcore.cli.cmd_duties:duties",
    "rollup": "kamcore.cli.cmd_rollup:rollup",
    "import": "kamcore.cli.cmd_import:import_",
    "export": "kamcore.cli.cmd_export:export",
    "chart": "kamcore.cli.cmd_chart:chart",
    "contacts": "kamcore.cli.cmd_contacts:contacts",
    "territories": "kamcore.cli.cmd_territories:territories",
}


class KamGroup(click.Group):
    """A group whose built-in commands are imported on demand and whose plugins add more."""

    def __init__(self, *args: Any, pm_factory: Callable[[], pluggy.PluginManager] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pm_factory = pm_factory
        self._plugin_commands_loaded = False

    def make_kam_context(self, ctx: click.Context) -> KamContext:
        if ctx.obj is None:
            def factory() -> pluggy.PluginManager:
                if self._pm_factory is not None:
                    return self._pm_factory()
                from kamcore.plugins import get_plugin_manager

                no_plugins = bool(ctx.params.get("no_plugins"))
                return get_plugin_manager(load_entrypoints=not no_plugins)

            ctx.obj = KamContext(pm_factory=factory)
        return ctx.obj

    def _load_plugin_commands(self, ctx: click.Context) -> None:
        if self._plugin_commands_loaded:
            return
        self._plugin_commands_loaded = True
        from kamcore.errors import KamError

        kam = self.make_kam_context(ctx)
        pm: pluggy.PluginManager
        try:
            if self._pm_factory is None and kam._pm is None:
                # Only installed plugins add commands: a manager without the built-ins spares
                # `kam --help` their imports (pydantic, networkx); the command itself builds
                # the full one.
                if ctx.params.get("no_plugins"):
                    return
                from kamcore.plugins import get_plugin_manager

                pm = get_plugin_manager(defaults=False)
            else:
                pm = kam.pm
        except KamError as exc:
            click.secho(f"warning: {exc}", fg="yellow", err=True)
            return
        from kamcore.hookcall import call_hook

        problems: list[PluginError] = []
        cli = _PluginCli(self)
        before: dict[str, PluginCommands] = {}

        def begin(plugin: str) -> None:
            before[plugin] = cli.added.copy()
            cli.plugin = plugin

        def rollback(plugin: str) -> None:  # all of the plugin's commands, or none
            cli.added = before.pop(plugin, cli.added)

        call_hook(pm, "kam_add_commands", problems=problems, begin=begin, rollback=rollback,
                  cli=cli)
        # a contested name is not warned about here: its stand-in says it when run, and
        # `kam --help` marks it
        settle_commands(self, cli.added, kam.workspace_settings, kam.workspace)
        for problem in problems:
            click.secho(f"warning: {problem}", fg="yellow", err=True)

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        kam = self.make_kam_context(ctx)
        if not self._plugin_commands_loaded and kam._pm is None:
            kam.use_workspace(args[1:])  # before any hook: its hook_timeout applies to all
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands(ctx)
        return sorted(set(BUILTIN_COMMANDS) | set(self.commands))

    def _get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = BUILTIN_COMMANDS.get(cmd_name)
        if target is not None:
            module, _, attr = target.partition(":")
            command: click.Command = getattr(import_module(module), attr)
            return command
        self._load_plugin_commands(ctx)
        return self.commands.get(cmd_name)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self._get_command(ctx, cmd_name)
        guard = ctx.meta.get(_GUARD_KEY)
        if guard is not None and command is not None and cmd_name not in BUILTIN_COMMANDS:
            guard.release()  # a plugin's own command owns stdout
        return command

    def invoke(self, ctx: click.Context) -> Any:
        guard = _PluginStdoutGuard(sys.stdout, sys._getframe(), self.make_kam_context(ctx))
        ctx.meta[_GUARD_KEY] = guard
        sys.stdout = guard
        try:
            return self._invoke(ctx)
        finally:
            guard.release()
            if sys.stdout is guard:
                sys.stdout = guard.real
            self.make_kam_context(ctx).warn_plugin_problems()

    def _invoke(self, ctx: click.Context) -> Any:
        from kamcore.errors import KamError

        try:
            return super().invoke(ctx)
        except KamError as exc:
            raise to_cli_error(exc) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            sys.stderr.close()
            raise click.exceptions.Exit(0) from None
        except OSError as exc:
            from kamcore.atomic import SYSTEM_ERRNOS, write_failed

            if exc.errno not in SYSTEM_ERRNOS or os.environ.get("KAM_DEBUG"):
                self._report_bug(ctx, exc)
                raise  # only reached under KAM_DEBUG
            # A full disk or a read-only file is the user's to fix, wherever kam met it.
            raise to_cli_error(write_failed(exc.filename or ".", exc,
                                            action="read or write")) from None
        except Exception as exc:
            self._report_bug(ctx, exc)
            raise

    @staticmethod
    def _report_bug(ctx: click.Context, exc: Exception) -> None:
        """One line and exit 70 for an exception kamcore did not expect (KAM_DEBUG: re-raise)."""
        if not os.environ.get("KAM_DEBUG"):
            click.secho(f"Error: unexpected {type(exc).__name__}: {exc}", fg="red", err=True)
            click.echo("This is a bug in kamcore or a plugin: re-run with KAM_DEBUG=1 to see "
                       "the traceback, and report it.", err=True)
            ctx.exit(ExitCode.INTERNAL)


_GUARD_KEY = "kamcore.stdout_guard"


class _PluginStdoutGuard:
    """``sys.stdout`` while a built-in command runs: what a plugin prints (at import, in a hook,
    in a rule) goes to stderr, so it never corrupts ``--format json`` or CSV on stdout.

    Three ways out are covered. ``sys.stdout.write`` and ``sys.stdout.buffer.write``: a write
    is the plugin's when a frame of a plugin's package is on the stack between the write and
    the command's start; everything else reaches the real stdout untouched. File descriptor 1
    (``os.write(1, ...)``, C extensions, child processes): when stdout is fd 1, fd 1 points at
    stderr for the whole command and kamcore's own output goes through a duplicate of the
    original descriptor.
    """

    def __init__(self, real: Any, stop: Any, kam: KamContext) -> None:
        self.real = real
        self.active = True
        self._stop = stop
        self._kam = kam
        self._packages: frozenset[str] | None = None
        self._installed: set[str] | None = None
        self._original = real
        self._saved_fd: int | None = None
        self._divert_fd()

    def _divert_fd(self) -> None:
        try:
            fd = self.real.fileno()
        except (AttributeError, OSError, ValueError):
            return
        if fd != 1:
            return
        self.real.flush()
        self._saved_fd = os.dup(1)
        os.dup2(2, 1)
        self.real = io.TextIOWrapper(
            open(self._saved_fd, "wb", closefd=False),  # noqa: SIM115 (closed in release)
            encoding=self._original.encoding, errors=self._original.errors,
            line_buffering=self._original.line_buffering)

    def release(self) -> None:
        """Stop diverting: stdout (and fd 1) are the process's own again."""
        self.active = False
        if self._saved_fd is None:
            return
        saved, self._saved_fd = self._saved_fd, None
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing left to say
            self.real.close()  # flushes; the descriptor itself is closed below
        os.dup2(saved, 1)
        os.close(saved)
        self.real = self._original

    def write(self, text: str) -> int:
        if self.active and self._from_plugin():
            return sys.stderr.write(text)
        result: int = self.real.write(text)
        return result

    @property
    def buffer(self) -> Any:
        return _BufferGuard(self)

    def _from_plugin(self) -> bool:
        packages = self._plugin_packages()
        if not packages:
            return False
        frame = sys._getframe(2)
        while frame is not None and frame is not self._stop:
            name = frame.f_globals.get("__name__")
            if isinstance(name, str) and name.partition(".")[0] in packages:
                return True
            frame = frame.f_back  # type: ignore[assignment]
        return False

    def _plugin_packages(self) -> frozenset[str]:
        if self._packages is not None:
            return self._packages
        if self._installed is None:
            from kamcore.plugins import installed_entry_points

            self._installed = {ep.module.partition(".")[0] for ep in installed_entry_points()}
        names = set(self._installed)
        pm = self._kam._pm
        if pm is not None:
            for plugin in pm.get_plugins():
                module = (plugin.__name__ if isinstance(plugin, ModuleType)
                          else type(plugin).__module__)
                names.add(module.partition(".")[0])
        names.discard("kamcore")
        packages = frozenset(names)
        if pm is not None:
            self._packages = packages  # the manager is built once: its plugins stay
        return packages

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _BufferGuard:
    """``sys.stdout.buffer`` under the guard: a plugin's bytes go to ``sys.stderr.buffer``."""

    def __init__(self, guard: _PluginStdoutGuard) -> None:
        self._guard = guard

    def write(self, data: bytes) -> int:
        guard = self._guard
        if guard.active and guard._from_plugin():
            sys.stderr.flush()
            target = getattr(sys.stderr, "buffer", None)
            if target is None:
                return sys.stderr.write(bytes(data).decode(errors="replace"))
            written: int = target.write(data)
            target.flush()
            return written
        guard.real.flush()
        result: int = guard.real.buffer.write(data)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._guard.real.buffer, name)


#: The commands plugins add: name -> plugin -> command (two plugins under one name: contested).
PluginCommands = dict[str, dict[str, click.Command]]


class _PluginCli:
    """What ``kam_add_commands`` receives: the group, minus the power to replace built-ins.

    Commands are collected per plugin (``added``) and put on the group once every plugin has
    had its turn (:func:`settle_commands`), so that a name two plugins add is decided by
    kam.yaml, never by which plugin came first.
    """

    def __init__(self, group: KamGroup) -> None:
        self._group = group
        self.plugin = ""
        self.added: PluginCommands = {}

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        from kamcore.errors import PluginConflict, PluginError

        name = name or cmd.name
        if not name:
            raise PluginError("a command needs a name", plugin=self.plugin)
        if name in BUILTIN_COMMANDS:
            raise PluginConflict(f"command {name!r} is already taken by a built-in command",
                                 plugin=self.plugin,
                                 hint="choose another command name")
        claims = self.added.get(name, {})
        if self.plugin in claims:
            raise PluginError(f"command {name!r} is added twice", plugin=self.plugin)
        self.added = {**self.added, name: {**claims, self.plugin: cmd}}

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]:
        def decorator(func: Callable[..., Any]) -> click.Command:
            cmd = click.command(*args, **kwargs)(func)
            self.add_command(cmd)
            return cmd

        return decorator

    def group(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Group]:
        def decorator(func: Callable[..., Any]) -> click.Group:
            grp = click.group(*args, **kwargs)(func)
            self.add_command(grp)
            return grp

        return decorator

    def __getattr__(self, name: str) -> Any:
        return getattr(self._group, name)


def settle_commands(group: click.Group, added: PluginCommands, settings: Settings | None,
                    workspace: Path | None) -> list[PluginError]:
    """Put the plugins' commands on ``group``; a name two plugins add runs the one kam.yaml's
    ``conflicts: {commands: {NAME: PLUGIN}}`` picks (the kam.yaml of the command's workspace,
    see :func:`kamcore.cli.context.workspace_of`), else neither: it fails naming both.

    :returns: the problems (a contested name, a choice of a plugin that does not add it).
    """
    from kamcore.errors import PluginConflict

    picks = settings.conflicts.commands if settings is not None else {}
    problems: list[PluginError] = []
    for name, claims in sorted(added.items()):
        if len(claims) == 1:
            group.add_command(next(iter(claims.values())), name)
            continue
        rivals = sorted(claims)
        both = ", ".join(map(repr, rivals[:-1])) + f" and {rivals[-1]!r}"
        pick = picks.get(name)
        if pick in claims:
            group.add_command(claims[pick], name)
            continue
        where = f"{workspace / 'kam.yaml'}: " if workspace is not None else ""
        hint = (f"add to the kam.yaml of the workspace you run it on: conflicts: {{commands: "
                f"{{{name}: {rivals[0]}}}}} (or another of them)")
        if pick is not None:
            hint = f"{where}conflicts.commands.{name} names {pick!r}; write one of: " + \
                ", ".join(rivals)
        problem = PluginConflict(f"command {name!r} is added by plugins {both}; none of them "
                                 "runs until kam.yaml says which wins",
                                 plugin=",".join(rivals), hook="kam_add_commands", hint=hint)
        problems.append(problem)
        group.add_command(contested_command(name, problem), name)
    return problems


def contested_command(name: str, problem: PluginError) -> click.Command:
    """A stand-in for a name two plugins claim: listed in ``--help``, fails naming both."""
    def refuse() -> None:
        raise problem

    return click.Command(name, callback=refuse, help=f"(contested) {problem.detail}.",
                         short_help="(contested: see kam.yaml conflicts)",
                         context_settings={"ignore_unknown_options": True,
                                           "allow_extra_args": True})


HELP = """Key, national and global account hierarchies: validate, roll up, hand over.

\b
Examples:
  kam init my-org                      start a workspace
  kam validate examples/acme           check it (exit 1 on errors)
  kam tree examples/acme --depth 2     show the account tree
  kam plugins                          list installed industry plugins

Set KAM_LOAD_PLUGINS=a,b to load only some plugins (empty: none), KAM_DISABLE_PLUGINS=x to
block one, KAM_DEBUG=1 for tracebacks, KAM_TODAY=YYYY-MM-DD to fix the day kam takes as today
(reproducible reports and tests).
"""


def make_cli(pm: pluggy.PluginManager | None = None) -> click.Group:
    """The ``kam`` group; with ``pm`` it uses exactly that plugin manager (tests)."""
    factory = (lambda: pm) if pm is not None else None

    @click.group(cls=KamGroup, pm_factory=factory, help=HELP,
                 context_settings={"help_option_names": ["-h", "--help"],
                                   "max_content_width": 100})
    @click.version_option(package_name="kamcore", prog_name="kam",
                          message="%(prog)s (kamcore) %(version)s")
    @click.option("--no-plugins", is_flag=True, help="Load no installed plugins (built-ins only).")
    @click.pass_context
    def cli(ctx: click.Context, no_plugins: bool) -> None:
        group = ctx.command
        assert isinstance(group, KamGroup)
        group.make_kam_context(ctx)

    return cli


def main() -> None:
    """Console-script entry point: runs the command line and ends the process (see
    :func:`_leave`). To run kam inside a Python process, invoke :func:`make_cli`'s group."""
    import gc

    # kam does no linear algebra: numpy's OpenBLAS starting a thread per core costs 0.07 s of
    # CPU on the core that the scan below and the reader's threads want
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from kamcore.cli.context import workspace_of
    from kamcore.workspace.ahead import scan_ahead

    scan_ahead(workspace_of(sys.argv[1:]))  # a big accounts.csv, on the second core meanwhile
    cli = make_cli()
    # one short-lived process: what is imported by now lives to the end; frozen, the cyclic
    # collector stops rescanning it on every collection (a quarter of a small command's time)
    gc.freeze()
    try:
        cli.main(prog_name="kam")
    except SystemExit as done:
        _leave(done.code)
        raise


def _leave(code: object) -> None:
    """End the process as the interpreter's exit would for all that anyone sees (atexit
    handlers run, stdout and stderr flushed, the same status) without first freeing every
    module and object one by one: 0.06-0.09 s of CPU after every command, small or large.

    Returns, and the interpreter exits as usual, when a thread of the command still runs
    (that exit waits for it), a stream cannot be flushed, the status is not a number, or a
    profiler or tracer (cProfile, coverage) is watching: it writes its results afterwards."""
    import atexit
    import threading

    if not (code is None or isinstance(code, int)):
        return
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return  # a profiler or coverage tool writes its results after main() returns
    main_thread = threading.main_thread()
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not main_thread):
        return
    atexit._run_exitfuncs()
    atexit._clear()  # should the usual exit still happen below, they do not run twice
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None and not stream.closed:  # a broken pipe closes stderr
                stream.flush()
    except (OSError, ValueError):
        return
    os._exit(code or 0)
