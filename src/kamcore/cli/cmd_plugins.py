"""``kam plugins``: what is installed, its version, hooks and industries."""

from __future__ import annotations

import click

from kamcore.cli.options import format_option


@click.command()
@click.option("--all", "include_builtin", is_flag=True, help="Include the built-in plugins.")
@click.option("--hook", default=None, metavar="NAME", help="Only plugins implementing this hook.")
@format_option("table", "json")
@click.pass_obj
def plugins(kam: object, include_builtin: bool, hook: str | None, fmt: str) -> None:
    """List loaded plugins with version, hooks and the industries they serve.

    \b
    Examples:
      kam plugins
      kam plugins --all --format json
      KAM_LOAD_PLUGINS=retail kam plugins
    """
    from dataclasses import asdict

    from kamcore.cli.context import KamContext
    from kamcore.cli.output import render_json, render_table
    from kamcore.plugins import list_plugins

    assert isinstance(kam, KamContext)
    kam.warn_problems = False  # listed below, as problems
    infos = list_plugins(kam.pm, include_builtin=include_builtin)
    if hook:
        infos = [i for i in infos if hook in i.hooks]
    problems = [{"plugin": p.plugin, "hook": p.hook, "error": p.message, "hint": p.hint}
                for p in kam.registry.problems]
    for problem in kam.registry.problems:  # on stderr in every format: stdout stays parseable
        click.secho(f"problem: {problem}", fg="red", err=True)  # with its hint
    if fmt == "json":
        click.echo(render_json({"plugins": [asdict(i) for i in infos], "problems": problems}))
        return
    if not infos:
        click.echo("No plugins loaded." + ("" if include_builtin else
                                           " (--all shows the built-in ones)"))
    else:
        rows = [{"name": i.name, "version": i.version or "", "source": i.source,
                 "industries": ", ".join(i.industries),
                 "hooks": ", ".join(h.removeprefix("kam_") for h in i.hooks)} for i in infos]
        click.echo(render_table(rows))
