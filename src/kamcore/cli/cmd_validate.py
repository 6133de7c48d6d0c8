"""``kam validate``: findings grouped for people, JSON for machines, exit 1 on errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kamcore.cli.options import as_of_option, format_option
from kamcore.findings import SEVERITIES
from kamcore.wording import plural

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    import pyarrow as pa

    from kamcore.findings import FindingTable
    from kamcore.workspace.tables import WorkspaceTables

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
    cannot be read. ``--list-rules`` needs no ORG. The last line counts the accounts and
    people, and the contacts and territories when the workspace has them; the JSON report
    has them as ``accounts``, ``people``, ``contacts`` and ``territories`` (``null``: no
    such file), beside ``summary`` (findings by severity) and ``findings``.

    \b
    Examples:
      kam validate examples/acme
      kam validate examples/acme --format json | jq '.findings[].code'
      kam validate examples/broken --select KAM10 --group-by code    # exit 1: errors found
      kam validate --list-rules
    """
    from kamcore.cli.context import KamContext
    from kamcore.validation import validate_columns

    assert isinstance(kam, KamContext)
    kam.warn_problems = False  # they are KAM900 findings here
    if list_rules:
        _print_rules(kam)
        return
    if org is None:
        raise click.UsageError("Missing argument 'ORG' (only --list-rules runs without one).")
    tables = kam.read(org, as_of, history=False)  # bad history rows are findings here
    found = validate_columns(tables, select=list(select) or None)
    counts = _record_counts(tables)
    if fmt == "json":
        _print_json(tables.settings.name, counts, found)
    else:
        _print_text(tables.settings.name, counts, found, group_by)
    if found.has_errors():
        raise click.exceptions.Exit(1)


def _record_counts(tables: WorkspaceTables) -> dict[str, int | None]:
    """The records of each table by distinct id (``None``: the workspace has no such file),
    counted from the indexes the rules built: the contacts' reuses the reader's hash pass when
    no contact rule ran (``--select``), so three million contacts cost no second one."""
    from kamcore.structure import account_index, contact_index, first_rows

    index = account_index(tables)
    return {"accounts": int(index.first.sum()), "people": int(index.person_first.sum()),
            "contacts": (int(contact_index(tables).first.sum())
                         if tables.contacts is not None else None),
            "territories": (int(first_rows(tables.territories.ids).sum())
                            if tables.territories is not None else None)}


_NOUNS = {"accounts": "account", "people": "person", "contacts": "contact",
          "territories": "territory"}


def _print_text(org: str, records: dict[str, int | None], found: FindingTable,
                group_by: str) -> None:
    from kamcore.cli.output import echo_column, plain_output

    # plain output: echo_column writes the lines' bytes as they are, so they get no styles
    for head, chunks in _text_groups(found, group_by, styled=not plain_output()):
        click.echo(head)
        for lines in chunks:
            echo_column(lines)
        click.echo("")
    counts = found.counts()
    summary = (f"{plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}, "
               f"{counts['info']} info in {org!r}: " + ", ".join(
                   plural(n, _NOUNS[key]) for key, n in records.items() if n is not None))
    colour = "red" if counts["error"] else "yellow" if counts["warning"] else "green"
    prefix = "OK: " if not counts["error"] else ""
    click.secho(prefix + summary, fg=colour, bold=True)


def _print_json(org: str, records: dict[str, int | None], found: FindingTable) -> None:
    """The JSON report: what ``render_json`` writes for the findings' ``model_dump``s, each
    finding's line built from the columns. ``contacts`` and ``territories`` are
    ``null`` when the workspace has no such file."""
    from kamcore.cli.output import echo_column, render_json

    text = render_json({"org": org, **records, "summary": found.counts(), "findings": []})
    if not len(found):
        click.echo(text)
        return
    empty = "[]\n}"
    assert text.endswith(empty)
    click.echo(text[:-len(empty)] + "[")
    echo_column(_json_lines(found))
    click.echo("  ]\n}")


def _json_lines(found: FindingTable) -> pa.Array:
    """Each finding as ``render_json`` indents an item of a list at the second level: a
    compact object, ``, `` and ``: `` between items, a comma after all but the last."""
    import pyarrow as pa

    from kamcore.exporters.columns import json_literals
    from kamcore.findings import FIELDS

    parts: list[pa.Array | str] = []
    for i, name in enumerate(FIELDS):
        parts += [("    {" if i == 0 else ", ") + f'"{name}": ',
                  json_literals(found.column(name)).fill_null("null")]
    n = len(found)
    ends = pa.array(["},"] * (n - 1) + ["}"], pa.string())
    return _join(*parts, ends)


def _text_groups(found: FindingTable, group_by: str, *, chunk: int = 1 << 13,
                 styled: bool = True) -> Iterator[tuple[str, Iterator[pa.Array]]]:
    """Each group's heading and lines: the findings of one file (or one rule), in order, each
    a line and its hint below it. Built as columns (200,000 findings: no object each), a
    ``chunk`` of findings at a time (the lines of all of them at once held 200 MB more), on a
    thread per core: a few chunks are in flight, so they are small (32,768 at a time on two
    threads held 90 MB more than one after another; 8,192 about what one chunk did)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.perf import in_order

    if not len(found):
        return
    by_file = group_by == "file"
    table = found.table
    code, rule = found.column("code"), found.column("rule")
    if by_file:
        raw = found.column("file").fill_null("(plugins)")
        names = raw.unique().to_pylist()
    else:  # f"{code} {rule}".strip(), a group per distinct text
        raw = _join(code, "\n", rule.fill_null(""))
        names = [v.replace("\n", " ", 1).strip() for v in raw.unique().to_pylist()]
    number = {name: i for i, name in enumerate(dict.fromkeys(names))}  # first appearance
    keys = list(number)
    group = np.array([number[name] for name in names])[
        pc.index_in(raw, value_set=raw.unique()).to_numpy()]
    if (np.diff(group) < 0).any():  # groups apart: each one's findings together, in order
        order = np.argsort(group, kind="stable")
        table, group = table.take(pa.array(order)), group[order]
    bounds = np.searchsorted(group, np.arange(len(keys) + 1))
    digits = np.zeros(len(table), dtype=np.int64)  # the widest line number of each group
    if by_file:
        width = pc.utf8_length(_line_numbers(table.column("line").combine_chunks()).cast(
            pa.string()).fill_null("")).to_numpy(zero_copy_only=False)
        digits = np.maximum.reduceat(width, bounds[:-1])[group]

    def lines(start: int, stop: int) -> Iterator[pa.Array]:
        def render(first: int, last: int) -> pa.Array:
            at, size = start + first, last - first
            return _text_lines(table.slice(at, size), digits[at: at + size], by_file, styled)

        # the chunks' text is Arrow's work: built on both cores, echoed in order
        return in_order(render, stop - start, size=chunk)

    for i, key in enumerate(keys):
        yield click.style(key, bold=True), lines(int(bounds[i]), int(bounds[i + 1]))


def _line_numbers(line: pa.Array) -> pa.Array:
    """The lines a text report numbers (``line N``): given and not 0, else null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.if_else(pc.equal(line, 0), pa.scalar(None, pa.int64()), line)


def _text_lines(part: pa.Table, digits: np.ndarray, by_file: bool, styled: bool = True
                ) -> pa.Array:
    """The text of ``part``'s findings: a line each, and its hint's line below it (the
    severity coloured when ``styled``)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.exporters.columns import mask

    def col(name: str) -> pa.Array:
        return part.column(name).combine_chunks()

    def given(column: pa.Array) -> np.ndarray:  # neither null nor empty (a truthy value)
        return mask(pc.not_equal(column, ""))

    file, line = col("file"), col("line")
    at = pc.if_else(pc.is_null(line), file, _join(file, ":", line.cast(pa.string())))
    where = at.fill_null("")  # Finding.where
    if by_file:
        numbered = _line_numbers(line).cast(pa.string())
        given_line = mask(numbered.is_valid())
        width = pc.utf8_length(numbered.fill_null("")).to_numpy(zero_copy_only=False)
        pad = _spaces(np.where(given_line, digits - width, 0))
        where = pc.if_else(pa.array(given_line), _join("line ", pad, numbered), where)
        head = pc.if_else(pc.equal(where, ""), col("code"), _join(where, "  ", col("code")))
    else:
        head = where
    head = pc.utf8_rpad(head, width=14, padding=" ")
    labels = pa.array([click.style(f"{sev:<7}", fg=_COLOURS[sev]) if styled else f"{sev:<7}"
                       for sev in SEVERITIES])
    label = labels.take(pc.index_in(col("severity"), value_set=pa.array(SEVERITIES)))
    subject, column, hint = col("subject"), col("column"), col("hint")
    first = _join("  ", head, " ", label, " ",
                  pc.if_else(pa.array(given(subject)), _join(subject, ": "), ""),
                  col("message"),
                  pc.if_else(pa.array(given(column)), _join(" [", column, "]"), ""))
    hinted = given(hint)
    blank = _spaces(pc.utf8_length(head).to_numpy(zero_copy_only=False))
    second = _join("  ", blank, " " * 9, "hint: ", hint)
    n = len(part)
    both = pa.concat_arrays([first, second])
    pick = np.empty(2 * n, dtype=np.int64)
    pick[0::2], pick[1::2] = np.arange(n), np.arange(n, 2 * n)
    keep = np.ones(2 * n, dtype=bool)
    keep[1::2] = hinted
    return both.take(pa.array(pick[keep]))


def _join(*parts: pa.Array | str) -> pa.Array:
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(*parts, "")


def _spaces(counts: np.ndarray) -> pa.Array:
    """``" " * count`` for each count."""
    import numpy as np
    import pyarrow as pa

    most = int(counts.max()) if len(counts) else 0
    return pa.array([" " * k for k in range(most + 1)]).take(pa.array(np.asarray(counts)))


def _print_rules(kam: object) -> None:
    from kamcore.cli.context import KamContext
    from kamcore.cli.output import render_table

    assert isinstance(kam, KamContext)
    rows = [{"code": r.code, "name": r.name, "severity": r.severity.value, "plugin": r.plugin,
             "summary": r.summary} for r in sorted(kam.registry.rules.values(),
                                                   key=lambda r: r.code)]
    click.echo(render_table(rows))
