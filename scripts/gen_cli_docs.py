"""Write docs/cli.md from the commands' own help texts, so the reference never drifts.

    python scripts/gen_cli_docs.py          # rewrite docs/cli.md
    python scripts/gen_cli_docs.py --check  # exit 1 if docs/cli.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager

TARGET = Path(__file__).resolve().parent.parent / "docs" / "cli.md"

INTRO = """# `kam` command reference

Generated from the commands' help by `python scripts/gen_cli_docs.py`; a test fails when this file
is out of date. Plugins may add commands of their own (`kam --help` lists them).

Exit codes: 0 OK; 1 the command ran and found errors (or refused a change); 2 usage error or
unreadable input; 3 a plugin failed; 70 a bug (re-run with `KAM_DEBUG=1` for the traceback).

Environment: `KAM_LOAD_PLUGINS=a,b` loads only those plugins (empty: none), `KAM_DISABLE_PLUGINS=x`
blocks one, `KAM_TRACE_PLUGINS=1` prints hook calls, `KAM_DEBUG=1` shows tracebacks,
`KAM_TODAY=YYYY-MM-DD` sets the day kam takes as today: every `[default: today]` below, which
changes are pending, which contacts are stale (see [time.md](time.md#today)).

Tables fit the terminal: `COLUMNS` when set, else the terminal's width. Headers wrap, long names
are cut with `…` (an id in brackets is kept), and number columns that still do not fit continue
in a second block that repeats the row labels; a number is never cut. Piped without `COLUMNS`, or
written with `-o FILE`, a table is left whole; `--format csv` or `json` is the form for scripts.
"""


def render() -> str:
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    parts = [INTRO]

    def walk(command: click.Command, path: list[str], parent: click.Context | None) -> None:
        # The root gets kam's own context settings (-h as well as --help), as a real run does;
        # without them a command's help depends on whether a test invoked it first (click
        # caches each command's help option).
        settings = {**cli.context_settings, "max_content_width": 100} if parent is None else {}
        ctx = click.Context(command, info_name=path[-1], parent=parent, terminal_width=100,
                            **{"max_content_width": 100, **settings})
        title = " ".join(path)
        parts.append(f"\n## `{title}`\n\n```text\n{command.get_help(ctx).rstrip()}\n```\n")
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    walk(sub, [*path, name], ctx)

    walk(cli, ["kam"], None)
    return "".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python scripts/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
