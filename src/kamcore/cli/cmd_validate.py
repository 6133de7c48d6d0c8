"""``kam validate``: findings grouped for people, JSON for machines, exit 1 on errors."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import click

from kamcore.cli.options import as_of_option, format_option
from kamcore.wording import plural

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kamcore.models import Finding

_COLOURS = {"error": "red", "warning": "yellow", "info": "blue"}


@click.command()
@click.argument("org", metavar="ORG", required=False,
                type=click.Path(file_okay=True, dir_okay=True))
@format_option("text", "json", default="text")
@click.option("--group-by", type=click.Choice(["file", "code"]), default="file",
              show_default=True, help="How to group findings in text output.")
@click.option("--select", multiple=True, metavar="CODE",
              help="Only these rule codes or prefixes (repeatable), e.g. --select KAM1.")
@click.option("--list-rules", is_flag=True, help="List every rule with its code and exit.")
@as_of_option
@click.pass_obj
def validate(kam: object, org: str | None, fmt: str, group_by: str, select: tuple[str, ...],
             list_rules: bool, as_of: str | None) -> None:
    """Check an org's accounts and people against every rule.

    Exit 0 when clean (warnings allowed), 1 when an error remains, 2 when the workspace
    cannot be read. ``--list-rules`` needs no ORG.

    \b
    Examples:
      kam validate examples/acme
      kam validate examples/acme --format json | jq '.findings[].code'
      kam validate examples/broken --select KAM10 --group-by code    # exit 1: errors found
      kam validate --list-rules
    """
    from kamcore.cli.context import KamContext
    from kamcore.structure import account_index
    from kamcore.validation import has_errors, validate_tables

    assert isinstance(kam, KamContext)
    kam.warn_problems = False  # they are KAM900 findings here
    if list_rules:
        _print_rules(kam)
        return
    if org is None:
        raise click.UsageError("Missing argument 'ORG' (only --list-rules runs without one).")
    tables = kam.read(org, as_of, history=False)  # bad history rows are findings here
    findings = validate_tables(tables, select=list(select) or None)
    index = account_index(tables)
    counts = (tables.settings.name, int(index.first.sum()), int(index.person_first.sum()))
    if fmt == "json":
        from kamcore.cli.output import render_json

        click.echo(render_json({
            "org": counts[0],
            "accounts": counts[1],
            "people": counts[2],
            "summary": _counts(findings),
            "findings": [f.model_dump(mode="json") for f in findings],
        }))
    else:
        _print_text(counts, findings, group_by)
    if has_errors(findings):
        raise click.exceptions.Exit(1)


def _counts(findings: list[Finding]) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in findings:
        counts[finding.severity.value] += 1
    return counts


def _print_text(org: tuple[str, int, int], findings: list[Finding], group_by: str) -> None:
    groups: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        key = (finding.file or "(plugins)") if group_by == "file" else (
            f"{finding.code} {finding.rule or ''}".strip())
        groups[key].append(finding)
    from kamcore.cli.output import echo_lines
    from kamcore.models import Severity

    labels = {sev: click.style(f"{sev.value:<7}", fg=_COLOURS[sev.value]) for sev in Severity}

    def lines() -> Iterator[str]:
        for key, items in groups.items():
            yield click.style(key, bold=True)
            digits = max(len(str(f.line or "")) for f in items)
            for f in items:
                where = (f"line {f.line:>{digits}}" if (group_by == "file" and f.line)
                         else (f.where or ""))
                code = f.code if group_by == "file" else ""
                subject = f"{f.subject}: " if f.subject else ""
                column = f" [{f.column}]" if f.column else ""
                head = f"{'  '.join(part for part in (where, code) if part):<14}"
                yield f"  {head} {labels[f.severity]} {subject}{f.message}{column}"
                if f.hint:
                    yield f"  {'':<{len(head)}} {'':<7} hint: {f.hint}"
            yield ""

    echo_lines(lines())
    counts = _counts(findings)
    summary = (f"{plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}, "
               f"{counts['info']} info in {org[0]!r}: {plural(org[1], 'account')}, "
               f"{plural(org[2], 'person')}")
    colour = "red" if counts["error"] else "yellow" if counts["warning"] else "green"
    prefix = "OK: " if not counts["error"] else ""
    click.secho(prefix + summary, fg=colour, bold=True)


def _print_rules(kam: object) -> None:
    from kamcore.cli.context import KamContext
    from kamcore.cli.output import render_table

    assert isinstance(kam, KamContext)
    rows = [{"code": r.code, "name": r.name, "severity": r.severity.value, "plugin": r.plugin,
             "summary": r.summary} for r in sorted(kam.registry.rules.values(),
                                                   key=lambda r: r.code)]
    click.echo(render_table(rows))
