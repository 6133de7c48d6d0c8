"""``kam move / assign / handover / leave / hire / undo / log``: thin shells over kamcore.changes.

Each change command prints its plan (a readable diff, or ``--format json``) and writes only with
``--apply`` (or ``--yes``). A plan that adds an error finding is refused (exit 1) unless
``--force``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kamcore.cli.options import effective_option, workspace_argument
from kamcore.wording import plural

if TYPE_CHECKING:
    from kamcore.changes.plan import Plan
    from kamcore.cli.context import KamContext

F = TypeVar("F", bound=Callable[..., Any])
ROLES = ("vp", "director", "gam", "nam", "kam", "am", "support")


def change_options(func: F) -> F:
    """--apply/--yes, --force, --by, --reason, --format: shared by every change command."""
    for option in reversed([
        click.option("--apply", "--yes", "-y", "do_apply", is_flag=True,
                     help="Write the change (without it, only the plan is shown)."),
        click.option("--force", is_flag=True,
                     help="Write even if the change adds error findings."),
        click.option("--by", metavar="NAME", default=None,
                     help="Who makes the change, for the journal (default $KAM_ACTOR or $USER)."),
        click.option("--reason", metavar="TEXT", default=None, help="Why, for the journal."),
        click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                     show_default=True, help="How to show the plan."),
    ]):
        func = option(func)
    return func


def brief_options(func: F) -> F:
    """--briefs DIR, --no-briefs, --notes FILE: for hand-overs."""
    for option in reversed([
        click.option("--briefs", "briefs_dir", type=click.Path(file_okay=False), default=None,
                     help="Folder for the hand-over briefs [default: ORG/handover/DATE-PERSON]."),
        click.option("--no-briefs", is_flag=True, help="Write no hand-over briefs."),
        click.option("--notes", "notes_file", type=click.Path(dir_okay=False), default=None,
                     help="The predecessor's notes (Markdown; '## ACCOUNT-ID' sections go to "
                     "that account)."),
        click.option("--balance", type=click.Choice(["count", "revenue"]), default="count",
                     show_default=True, help="With --spread or several --to: balance the "
                     "number of accounts or their revenue."),
    ]):
        func = option(func)
    return func


def run_plan(kam: KamContext, plan: Plan, *, do_apply: bool, force: bool, by: str | None,
             reason: str | None, fmt: str, briefs: str | None = None,
             notes: str | None = None) -> None:
    """Show ``plan``; refuse, stop at the dry run, or apply it."""
    from kamcore.cli.output import render_json
    from kamcore.errors import ChangeRefused

    refused = plan.refused_because
    if fmt == "text":
        click.echo(plan.diff())
        _say_effective(plan)
    if refused and not force:
        if fmt == "json":
            click.echo(render_json({"plan": plan.to_json(), "applied": None}))
        raise ChangeRefused(f"{plan.title}: refused, {refused}",
                            hint="fix the plan, or pass --force to write it anyway")
    if not do_apply:
        if fmt == "json":
            click.echo(render_json({"plan": plan.to_json(), "applied": None}))
        if not plan.is_empty:
            click.echo("Dry run: nothing written. Re-run with --apply to write it.", err=True)
        return
    apply_and_report(kam, plan, force=force, by=by, reason=reason, fmt=fmt, briefs=briefs,
                     notes=notes)


def apply_and_report(kam: KamContext, plan: Plan, *, force: bool, by: str | None,
                     reason: str | None, fmt: str, briefs: str | None = None,
                     notes: str | None = None, show: Callable[[Plan], str] | None = None,
                     extra: Callable[[Plan], dict[str, Any]] | None = None) -> None:
    """Apply ``plan`` and say what was written (stderr), or print it as JSON (stdout).

    :param show: how a re-made plan is shown (default: its diff).
    :param extra: more JSON keys for the applied plan (``kam plan apply``: its impact).
    """
    from kamcore.changes.apply import apply
    from kamcore.cli.output import render_json

    result = apply(plan, by=by, reason=reason, force=force, briefs=briefs, notes=notes,
                   pm=kam.pm)
    if result.replanned:
        click.secho("note: the workspace changed since this plan was made; applied instead:",
                    fg="yellow", err=True)
        click.echo((show or (lambda p: p.diff()))(result.plan), err=True)
    for warning in result.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if fmt == "json":
        click.echo(render_json({
            "plan": result.plan.to_json(), **(extra(result.plan) if extra else {}),
            "applied": None if result.entry is None else {
                "entry": result.entry["id"], "files": [str(f) for f in result.files],
                "briefs": [str(b) for b in result.briefs],
                "withdrawn": [str(b) for b in result.withdrawn],
                "replanned": result.replanned}}))
    if result.entry is None:
        click.echo("Nothing to change.", err=True)
        return
    names = ", ".join(f.name for f in result.files)
    click.echo(f"Applied: wrote {names}; journal entry {result.entry['id']}.", err=True)
    if result.briefs:
        click.echo(f"Hand-over briefs ({len(result.briefs)}) in {result.briefs[0].parent}/",
                   err=True)
    if result.withdrawn:
        click.echo(f"Hand-over briefs withdrawn ({len(result.withdrawn)}): "
                   + ", ".join(_as_typed(b) for b in result.withdrawn), err=True)
    if result.brief_error is not None:
        raise result.brief_error


def _as_typed(path: Path) -> str:
    """``path`` (resolved, as the undo checked it) relative to the current folder when inside
    it, as the briefs written are named (``my-acme/handover/...``), else whole."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _say_effective(plan: Plan) -> None:
    """A change dated another day than today says so (a later day: it is pending)."""
    from kamcore.workspace.history import today

    day, now = plan.before.as_of, today()
    if day is not None and day != now and not plan.is_empty:
        when = "pending until then" if day > now else "back-dated"
        click.echo(f"Effective {day.isoformat()} ({when}).")


def _briefs(plan: Plan, briefs_dir: str | None, no_briefs: bool) -> str | None:
    from kamcore.changes.brief import default_brief_dir

    if no_briefs or not plan.receivers:
        return None
    return briefs_dir or str(default_brief_dir(plan))


def _notes(path: str | None) -> str | None:
    if path is None:
        return None
    from pathlib import Path

    from kamcore.errors import WorkspaceError

    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"cannot read the notes file {path}: {exc}",
                             hint="pass a UTF-8 text or Markdown file") from None


@click.command()
@workspace_argument
@click.argument("account")
@click.option("--to", "to", metavar="PARENT", default=None, help="The new parent account.")
@click.option("--root", is_flag=True, help="Make the account a root (no parent).")
@change_options
@effective_option
@click.pass_obj
def move(kam: KamContext, org: str, account: str, to: str | None, root: bool,
         effective: str | None, **opts: Any) -> None:
    """Move ACCOUNT, with everything below it, under another parent account.

    \b
    Examples:
      kam move examples/acme ACME-DE-BER-01 --to ACME-DE-MUN
      cp -r examples/acme my-acme          change a copy, not the bundled example
      kam move my-acme ACME-DE-BER-01 --to ACME-DE-MUN --apply --reason "site merged"
      kam move my-acme NOVA-US-CHI --root --yes
    """
    from kamcore import changes

    if (to is None) == (not root):
        raise click.UsageError("pass either --to PARENT or --root")
    run_plan(kam, changes.move(kam.load(org, effective), account, to=to), **opts)


@click.command()
@workspace_argument
@click.argument("account")
@click.option("--manager", required=True, metavar="PERSON", help="The new accountable manager.")
@change_options
@effective_option
@click.pass_obj
def assign(kam: KamContext, org: str, account: str, manager: str, effective: str | None,
           **opts: Any) -> None:
    """Make PERSON the accountable manager of ACCOUNT.

    \b
    Examples:
      kam assign examples/acme ACME-DE-BER --manager KAM-DE
      cp -r examples/acme my-acme          change a copy, not the bundled example
      kam assign my-acme ACME-DE-BER --manager KAM-DE --apply --by ana
    """
    from kamcore import changes

    run_plan(kam, changes.assign(kam.load(org, effective), account, manager=manager), **opts)


@click.command()
@workspace_argument
@click.option("--from", "person", required=True, metavar="PERSON",
              help="Whose book is handed over.")
@click.option("--to", "to", multiple=True, metavar="PERSON",
              help="Successor (repeatable: several are balanced within capacity).")
@click.option("--spread", is_flag=True, help="Spread the book over fitting colleagues.")
@brief_options
@change_options
@effective_option
@click.pass_obj
def handover(kam: KamContext, org: str, person: str, to: tuple[str, ...], spread: bool,
             balance: str, briefs_dir: str | None, no_briefs: bool, notes_file: str | None,
             effective: str | None, **opts: Any) -> None:
    """Hand a manager's book of accounts to successors, with a Markdown brief for each.

    \b
    Examples:
      kam handover examples/acme --from KAM-ACME-DE --to KAM-DE
      kam handover examples/acme --from KAM-ACME-DE --spread --balance revenue
      cp -r examples/acme my-acme          change a copy, not the bundled example
      kam handover my-acme --from KAM-ACME-DE --spread --apply \\
          --notes examples/notes/KAM-ACME-DE.md
    """
    from kamcore import changes

    plan = changes.handover(kam.load(org, effective), person, to=to, spread=spread, balance=balance)
    run_plan(kam, plan, briefs=_briefs(plan, briefs_dir, no_briefs), notes=_notes(notes_file),
             **opts)


@click.command()
@workspace_argument
@click.argument("person")
@click.option("--to", "to", multiple=True, metavar="PERSON",
              help="Successor (repeatable: several are balanced within capacity).")
@click.option("--spread", is_flag=True, help="Spread the book over fitting colleagues.")
@click.option("--reports-to", metavar="PERSON", default=None,
              help="Whom their direct reports report to now [default: the leaver's manager].")
@brief_options
@change_options
@effective_option
@click.pass_obj
def leave(kam: KamContext, org: str, person: str, to: tuple[str, ...], spread: bool,
          reports_to: str | None, balance: str, briefs_dir: str | None, no_briefs: bool,
          notes_file: str | None, effective: str | None, **opts: Any) -> None:
    """PERSON leaves: hand over their book and mark them inactive.

    \b
    Examples:
      kam leave examples/acme KAM-ACME-DE --spread
      cp -r examples/acme my-acme          change a copy, not the bundled example
      kam leave my-acme KAM-ACME-DE --to KAM-DE --apply --reason "resigned"
    """
    from kamcore import changes

    plan = changes.leave(kam.load(org, effective), person, to=to, spread=spread, balance=balance,
                         reports_to=reports_to)
    run_plan(kam, plan, briefs=_briefs(plan, briefs_dir, no_briefs), notes=_notes(notes_file),
             **opts)


@click.command()
@workspace_argument
@click.option("--id", "person_id", required=True, help="The new person's id.")
@click.option("--name", required=True, help="Their name.")
@click.option("--role", required=True, type=click.Choice(ROLES, case_sensitive=False))
@click.option("--reports-to", metavar="PERSON", default=None, help="Their manager.")
@click.option("--capacity", type=click.IntRange(min=0), default=None,
              help="How many accounts they can carry.")
@click.option("--email", default=None)
@click.option("--specialty", default=None, help="For support staff: billing, logistics, ...")
@change_options
@effective_option
@click.pass_obj
def hire(kam: KamContext, org: str, person_id: str, name: str, role: str,
         reports_to: str | None, capacity: int | None, email: str | None,
         specialty: str | None, effective: str | None, **opts: Any) -> None:
    """Add a person to the people tree.

    \b
    Examples:
      kam hire examples/acme --id KAM-DE-2 --name "Ana Roth" --role kam --reports-to NAM-ACME-DE
      cp -r examples/acme my-acme          change a copy, not the bundled example
      kam hire my-acme --id KAM-DE-2 --name "Ana Roth" --role kam --capacity 4 --yes
    """
    from kamcore import changes

    plan = changes.hire(kam.load(org, effective), id=person_id, name=name, role=role.lower(),
                        reports_to=reports_to, capacity=capacity, email=email,
                        specialty=specialty)
    run_plan(kam, plan, **opts)


@click.command()
@workspace_argument
@click.option("--entry", metavar="ID", default=None,
              help="Undo this journal entry [default: the last change not undone yet].")
@change_options
@click.pass_obj
def undo(kam: KamContext, org: str, entry: str | None, **opts: Any) -> None:
    """Reverse the last change (shows the reverse plan; writes with --apply).

    \b
    Examples:
      cp -r examples/acme my-acme          change a copy, not the bundled example
      kam leave my-acme KAM-ACME-DE --to KAM-DE --yes
      kam undo my-acme                     the plan that reverses it (nothing written yet)
      kam undo my-acme --apply --reason "wrong person"
    """
    from kamcore import changes
    from kamcore.changes.dated import undo_day
    from kamcore.workspace import resolve_workspace

    day = undo_day(resolve_workspace(org), entry)  # the org as of the change being undone
    run_plan(kam, changes.undo_plan(kam.load(org, day), entry=entry), **opts)


@click.command()
@workspace_argument
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Only the last N entries.")
@click.option("--pending", is_flag=True,
              help="Only changes dated after today (planned, not in force yet).")
@click.pass_obj
def log(kam: KamContext, org: str, fmt: str, limit: int | None, pending: bool) -> None:
    """Show the journal of applied changes, oldest first.

    \b
    Examples:
      kam log examples/acme
      kam log examples/acme --limit 5 --format json
      kam log examples/acme --pending
    """
    from kamcore.changes.journal import load_journal
    from kamcore.cli.errors import ExitCode
    from kamcore.workspace import resolve_workspace

    journal = load_journal(resolve_workspace(org))  # bad lines are set aside, not fatal
    if pending:
        from kamcore.changes.dated import pending as dated_later

        later = dated_later(journal.entries)
        if fmt == "text" and not later:
            click.echo("No pending changes.")
        else:
            _log_entries(later, limit, fmt)
    else:
        _log_entries(journal.entries, limit, fmt)
    if journal.problems:
        for problem in journal.problems:
            click.secho(f"warning: {problem}", fg="yellow", err=True)
        they = "it is" if len(journal.problems) == 1 else "they are"
        click.echo(f"{plural(len(journal.problems), 'journal line')} could not be read and "
                   f"{they} not shown; `kam undo` refuses to undo across them.", err=True)
        raise click.exceptions.Exit(ExitCode.FINDINGS)


def _log_entries(entries: list[dict[str, Any]], limit: int | None, fmt: str) -> None:
    """Print the sound entries of the journal (the last ``limit``)."""
    from kamcore.changes.plan import RecordChange
    from kamcore.changes.render import render_change
    from kamcore.cli.output import render_json

    first = max(len(entries) - limit, 0) if limit else 0
    shown = entries[first:]
    if fmt == "json":
        click.echo(render_json(shown))
        return
    if not entries:
        click.echo("No changes journalled yet.")
        return
    undone = {e.get("undoes") for e in entries if e.get("undoes")}
    for number, entry in enumerate(shown, start=first + 1):
        mark = " (undone)" if entry["id"] in undone else ""
        day = entry.get("effective")  # shown when the change is dated another day
        effective = f"  effective {day}" if day and day != entry["time"][:10] else ""
        click.echo(f"#{number} {entry['id']}  {entry['time']}  {entry.get('actor') or '?'}  "
                   f"{entry['command']}{mark}{effective}")
        if entry.get("reason"):
            click.echo(f"    reason: {entry['reason']}")
        for raw in entry["changes"]:
            for line in render_change(RecordChange.from_json(raw)):
                click.echo(f"    {line}")
