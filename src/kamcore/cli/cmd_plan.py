"""``kam plan check / apply / from-csv / balance``: reorganisations as plan files.

A thin shell over :mod:`kamcore.changes.batch` (a plan file as one change),
:mod:`kamcore.changes.impact` (what it does to each book) and :mod:`kamcore.changes.balance`
(a solver's proposal). Applying goes through the same ``apply`` as every single change: one
lock, one transaction, one journal entry, one ``kam undo``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kamcore.cli.options import output_option, workspace_argument
from kamcore.wording import plural

if TYPE_CHECKING:
    from kamcore.changes.impact import Impact
    from kamcore.changes.plan import Plan
    from kamcore.cli.context import KamContext

plan_argument = click.argument("plan_path", metavar="PLAN",
                               type=click.Path(dir_okay=False))


@click.group()
def plan() -> None:
    """Reorganisations as plan files: many changes reviewed as one, applied as one.

    \b
    Examples:
      kam plan check examples/acme examples/plans/acme-recut.yaml
      kam plan check examples/acme examples/plans/acme-recut.yaml --format md -o review.md
      cp -r examples/acme my-acme          change a copy, not the bundled example
      kam plan apply my-acme examples/plans/acme-recut.yaml --reason "2027 re-cut"
      kam plan from-csv examples/plans/new-managers.csv -o recut.yaml
      kam plan balance examples/acme --role am -o balance.yaml
    """


def make_file_plan(kam: KamContext, org: str, plan_path: str) -> Plan:
    """The plan of a plan file, the workspace read once (its findings from its own tables),
    as of the plan's effective day."""
    from kamcore.changes.batch import effective_of, plan_lines, read_lines
    from kamcore.workspace.objects import org_from_tables

    lines = read_lines(plan_path)
    tables = kam.read(org, as_of=effective_of(lines))  # the org as of the plan's day
    before = org_from_tables(tables, lazy=True)  # the lines touch few of the accounts
    before.as_of = tables.as_of
    return plan_lines(before, lines, source=plan_path, tables=tables)


@plan.command()
@workspace_argument
@plan_argument
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text",
              show_default=True, help="text for the terminal, md for a pull request, json for "
              "machines.")
@output_option
@click.pass_obj
def check(kam: KamContext, org: str, plan_path: str, fmt: str, output: str | None) -> None:
    """Check a plan file as one change and show its impact; writes nothing.

    Per person: accounts and revenue (reporting currency) before -> after and capacity used;
    per global account: the managers it gains and loses; the findings that appear and
    disappear. Exit 1 when the plan adds error findings, 2 when a line is bad (each named
    with its file and line).

    \b
    Examples:
      kam plan check examples/acme examples/plans/acme-recut.yaml
      kam plan check examples/acme examples/plans/acme-recut.yaml --format md -o review.md
      kam plan check examples/acme examples/plans/acme-recut.csv --format json
    """
    from kamcore.changes.impact import impact
    from kamcore.cli.output import emit
    from kamcore.perf import paused_gc

    # 100,000 records and a plan's thousands hold no cycles: no GC rescans (nor one at the end)
    with paused_gc(freeze=True):
        made = make_file_plan(kam, org, plan_path)
        effect = impact(made)
    emit(render_check(made, effect, fmt), output)
    if made.errors_added:
        raise click.exceptions.Exit(1)


@plan.command(name="apply")
@workspace_argument
@plan_argument
@click.option("--force", is_flag=True, help="Write even if the plan adds error findings.")
@click.option("--by", metavar="NAME", default=None,
              help="Who makes the change, for the journal (default $KAM_ACTOR or $USER).")
@click.option("--reason", metavar="TEXT", default=None,
              help="Why, for the journal (default: the plan file's reason).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="How to show the result.")
@click.option("--briefs", "briefs_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for the hand-over briefs [default: ORG/handover/DATE-plan-NAME].")
@click.option("--no-briefs", is_flag=True, help="Write no hand-over briefs.")
@click.option("--yes", "-y", "--apply", "_confirmed", is_flag=True,
              help="Accepted as by every change command; `kam plan apply` always writes "
              "(`kam plan check` is its dry run).")
@click.pass_obj
def apply_(kam: KamContext, org: str, plan_path: str, force: bool, by: str | None,
           reason: str | None, fmt: str, briefs_dir: str | None, no_briefs: bool,
           _confirmed: bool) -> None:
    """Apply a plan file: one transaction, one journal entry, undone by one `kam undo`.

    Every receiving manager gets one hand-over brief with every account they gain. A plan
    that adds error findings is refused (exit 1) unless --force; a bad line is refused with
    its file and line (exit 2). Nothing is written in either case.

    \b
    Examples:
      cp -r examples/acme my-acme          change a copy, not the bundled example
      kam plan apply my-acme examples/plans/acme-recut.yaml --reason "2027 re-cut"
      kam undo my-acme --apply             undoes the whole plan, briefs withdrawn
      kam plan apply my-acme examples/plans/acme-recut.csv --no-briefs --format json
    """
    from kamcore.perf import paused_gc

    with paused_gc(freeze=True):  # as in check; the write too (the files' tables, the briefs)
        _apply_file(kam, org, plan_path, force=force, by=by, reason=reason, fmt=fmt,
                    briefs_dir=briefs_dir, no_briefs=no_briefs)


def _apply_file(kam: KamContext, org: str, plan_path: str, *, force: bool, by: str | None,
                reason: str | None, fmt: str, briefs_dir: str | None, no_briefs: bool) -> None:
    """``kam plan apply``'s work (see there)."""
    from kamcore.changes.brief import default_brief_dir
    from kamcore.changes.impact import impact
    from kamcore.cli.cmd_changes import apply_and_report
    from kamcore.cli.output import render_json
    from kamcore.errors import ChangeRefused

    made = make_file_plan(kam, org, plan_path)
    refused = made.refused_because
    if fmt == "text":
        click.echo(render_check(made, impact(made), "text", footer=False))
    if refused and not force:
        if fmt == "json":
            click.echo(render_json({"plan": made.to_json(), "applied": None}))
        raise ChangeRefused(f"{made.title}: refused, {refused}",
                            hint="fix the plan (kam plan check shows why), or pass --force")
    briefs = None if no_briefs or not made.receivers else (
        briefs_dir or str(default_brief_dir(made)))
    apply_and_report(kam, made, force=force, by=by, reason=reason or _plan_reason(made),
                     fmt=fmt, briefs=briefs,
                     show=lambda p: render_check(p, impact(p), "text", footer=False),
                     extra=lambda p: {"impact": impact(p).to_json()})


@plan.command(name="from-csv")
@click.argument("sheet", type=click.Path(dir_okay=False))
@click.option("--org", "org_path", type=click.Path(), default=None,
              help="The org the plan is for: its ids are checked, and a second column that "
              "does not say what it holds is read row by row (a person: assign; an account: "
              "move).")
@click.option("--as", "kind", type=click.Choice(["auto", "assign", "move"]), default="auto",
              show_default=True, help="What the second column holds: new managers (assign) or "
              "new parents (move); auto reads its header (manager, owner ... or parent).")
@click.option("--reason", metavar="TEXT", default=None, help="The reason of every line.")
@click.option("--effective", metavar="DATE", default=None,
              help="The effective date of every line (YYYY-MM-DD).")
@output_option
@click.pass_obj
def from_csv(kam: KamContext, sheet: str, org_path: str | None, kind: str,
             reason: str | None, effective: str | None, output: str | None) -> None:
    """Turn a two-column sheet (account, new manager or new parent) into a plan file.

    The sheet is read as Excel saves it (UTF-8 or Windows-1252; comma, semicolon or tab).
    The plan is YAML, one line per row with the sheet's line as a comment, or the CSV form
    when -o names a .csv file. Bad rows are listed with their line (exit 2), nothing written.

    \b
    Examples:
      kam plan from-csv examples/plans/new-managers.csv --org examples/acme
      kam plan from-csv examples/plans/new-managers.csv --reason "2027 re-cut" -o recut.yaml
      kam plan check examples/acme recut.yaml
    """
    from kamcore.changes.planfile import render_plan_csv, render_plan_yaml
    from kamcore.changes.sheet import plan_from_sheet
    from kamcore.cli.output import emit

    org = kam.load(org_path) if org_path else None
    made = plan_from_sheet(sheet, kind=kind, org=org, reason=reason, effective=effective)
    if output and output.lower().endswith(".csv"):
        text = render_plan_csv(made.lines)
    else:
        name = Path(sheet).name
        text = render_plan_yaml(
            made.lines, sources=[f"{name}:{row}" for row in made.rows],
            comment=f"Plan from {name}: {plural(len(made.lines), 'line')}, the second column "
            f"read as {made.kind}.\nCheck it with: kam plan check ORG PLAN")
    emit(text.rstrip("\n"), output)


@plan.command(name="balance")
@workspace_argument
@click.option("--role", required=True, metavar="ROLE",
              help="Whose books to even out: kam, am, nam, gam ...")
@click.option("--within", type=click.Choice(["global", "national"]), default=None,
              help="Keep every account inside the team of its global (or national) account's "
              "manager.")
@click.option("--max-moves", type=click.IntRange(min=0), default=None,
              help="At most N accounts change hands.")
@click.option("--reason", metavar="TEXT", default=None, help="The reason of every line.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml",
              show_default=True, help="yaml: the plan file; json: the proposal with its scores.")
@output_option
@click.pass_obj
def balance_(kam: KamContext, org: str, role: str, within: str | None, max_moves: int | None,
             reason: str | None, fmt: str, output: str | None) -> None:
    """Propose a plan that evens out the books of one role, within capacity.

    A min-cost flow (networkx) minimises the sum of squared book sizes, plus one unit per
    account given to someone new to its global account, plus 0.01 per move; never over
    capacity, never moving an account out of its national account's team. The plan file
    states the objective and its value before and after; check and apply it like any plan.

    \b
    Examples:
      kam plan balance examples/acme --role am
      kam plan balance examples/acme --role kam --within global --max-moves 5 -o balance.yaml
      kam plan check examples/acme balance.yaml
    """
    from kamcore.changes.balance import OBJECTIVE, balance
    from kamcore.changes.planfile import PlanLine, render_plan_yaml
    from kamcore.cli.output import emit, render_json

    loaded = kam.load(org)
    proposal = balance(loaded, role=role, within=within, max_moves=max_moves)
    before, after = proposal.before, proposal.after
    summary = [
        f"kam plan balance --role {proposal.role}"
        + (f" --within {within}" if within else "")
        + (f" --max-moves {max_moves}" if max_moves is not None else ""),
        f"objective: {OBJECTIVE}",
        f"before: {before.value:g} (books {_spread(before.loads)})",
        f"after:  {after.value:g} (books {_spread(after.loads)}; {plural(after.moves, 'move')}, "
        f"{after.newcomers} to someone new to the global account)",
    ]
    if proposal.solves > 1:
        summary.append(f"--max-moves bound: a move priced at {proposal.move_price / 100:g} "
                       f"({proposal.solves} solves)")
    for line in summary[2:]:
        click.echo(line, err=True)
    if fmt == "json":
        emit(render_json(proposal.to_json()), output)
        return
    lines = [PlanLine.model_validate({"op": "assign", "id": m.account, "to": m.target,
                                     **({"reason": reason} if reason else {})})
             for m in proposal.moves]
    notes = [f"from {m.source} ({before.loads[m.source]} -> {after.loads[m.source]}) to "
             f"{m.target} ({before.loads[m.target]} -> {after.loads[m.target]})"
             for m in proposal.moves]
    emit(render_plan_yaml(lines, sources=notes, comment="\n".join(summary)).rstrip("\n"),
         output)


def _spread(loads: dict[str, int]) -> str:
    values = sorted(loads.values())
    if not values:
        return "none"
    return f"{values[0]}..{values[-1]} accounts, {plural(len(values), 'person')}"


def _plan_reason(made: Plan) -> str | None:
    """The plan's reason when every line gives the same one (the file's default)."""
    reasons = {line.get("reason") for line in made.args.get("lines", [])}
    return reasons.pop() if len(reasons) == 1 else None


# -- rendering --------------------------------------------------------------------------------


def render_check(made: Plan, effect: Impact, fmt: str, *, footer: bool = True) -> str:
    """The check report: text, Markdown or JSON."""
    if fmt == "json":
        from kamcore.cli.output import render_json

        return render_json({"plan": made.to_json(), "impact": effect.to_json(),
                            "errors_added": len(made.errors_added)})
    md = fmt == "md"
    out = _head(made, md)
    people = _people_rows(effect)
    out += _section(f"People ({len(people)})", people, md,
                    right=("accounts", "revenue", "capacity used"),
                    headers={"revenue": f"revenue ({effect.currency})"})
    rows = [{"global account": f"{g.name} ({g.id})", "gains": ", ".join(g.gains) or "-",
             "loses": ", ".join(g.loses) or "-", "managers": f"{len(g.managers_before)} -> "
             f"{len(g.managers_after)}"} for g in effect.globals]
    out += _section(f"Global accounts ({len(rows)})", rows, md)
    if effect.missing_rates:
        out += ["", f"Revenue leaves out accounts in {', '.join(effect.missing_rates)}: fx.csv "
                "has no undated (*) rate for them."]
    if made.unplaced:
        out += ["", f"Could not place {plural(len(made.unplaced), 'account')}:"]
        out += [f"  ! {u.account}: {u.reason}" for u in made.unplaced]
    out += ["", *_findings(made, md)]
    refused = made.refused_because
    if refused:
        out += ["", f"Refused unless --force: {refused}."]
    elif footer and not made.is_empty:
        out += ["", "Nothing written. Apply it with: kam plan apply ORG PLAN"]
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text) if md else text


def _head(made: Plan, md: bool) -> list[str]:
    from kamcore.cli.output import md_escape

    accounts = sum(c.kind == "account" for c in made.changes)
    people = sum(c.kind == "person" for c in made.changes)
    contacts = len(made.changes) - accounts - people
    # the plan file's name: its title ("plan NAME", as the journal and `kam log` show it)
    # would read "Plan: plan NAME" here
    name = Path(str(made.args.get("file") or made.title)).name
    out = [f"# Plan: {md_escape(name)}" if md else f"Plan: {name}"]
    if md:
        out.append("")
    out += [f"{'- ' if md else '  '}{md_escape(n) if md else n}" for n in made.notes]
    out.append(f"{'- ' if md else '  '}records changed: {plural(accounts, 'account')}, "
               f"{plural(people, 'person')}"
               + (f", {plural(contacts, 'contact')} (relationship owners)" if contacts else ""))
    if made.receivers:
        out.append(f"{'- ' if md else '  '}hand-over briefs on apply: "
                   f"{plural(len(made.receivers), 'receiving manager')}")
    return out


def _people_rows(effect: Impact) -> list[dict[str, Any]]:
    rows = []
    for p in effect.people:
        used = p.capacity_used
        rows.append({
            "person": f"{p.name} ({p.id})" + ("" if p.active_after else " [leaves]"),
            "role": p.role.upper(),
            "accounts": f"{p.accounts_before} -> {p.accounts_after}",
            "revenue": f"{_money(p.revenue_before)} -> {_money(p.revenue_after)}",
            "capacity used": "-" if p.capacity is None else
            f"{p.accounts_after}/{p.capacity}" + (
                f" ({used:.0%})" if used is not None and used != float("inf") else "")
            + (" OVER" if used is not None and used > 1 else ""),
        })
    return rows


def _section(title: str, rows: list[dict[str, Any]], md: bool, *,
             right: tuple[str, ...] = (), headers: dict[str, str] | None = None) -> list[str]:
    from kamcore.cli.layout import terminal_width
    from kamcore.cli.output import render_markdown, render_table

    if not rows:
        return ["", f"{'## ' if md else ''}{title.split(' (')[0]}: none"]
    if md:
        return ["", f"## {title}", "", render_markdown(rows, headers=headers)]
    width = terminal_width()
    table = render_table(rows, align_right=right, headers=headers,
                         width=None if width is None else width - 2)
    return ["", f"{title}:"] + ["  " + line for line in table.splitlines()]


def _findings(made: Plan, md: bool) -> list[str]:
    from kamcore.changes.render import render_findings

    lines = render_findings(made.findings_added, made.findings_removed)
    if not md:
        return lines
    from kamcore.cli.output import md_escape

    out = []
    for line in lines:
        if line.startswith("  "):
            out.append(f"- `{line.strip()[:1]}` {md_escape(line.strip()[2:])}")
        else:
            out += ["", f"## {md_escape(line.rstrip(':'))}", ""]
    return out


def _money(value: float | None) -> str:
    return "?" if value is None else f"{value:,.0f}"
