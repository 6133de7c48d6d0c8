"""Rendering rows for people (aligned tables) and machines (JSON, CSV)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from kamcore.cli.layout import Width, layout

if TYPE_CHECKING:
    import pyarrow as pa


def render_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *,
                 align_right: Iterable[str] = (), headers: Mapping[str, str] | None = None,
                 width: Width = "terminal") -> str:
    """An aligned text table; numbers right-aligned, fitted to ``width`` (see :func:`layout`;
    pass ``terminal_width(output)`` when the table may go to a file)."""
    if not rows:
        return ""
    columns = list(columns or rows[0].keys())
    right = set(align_right)
    names = [(headers or {}).get(c, c) for c in columns]
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    for column in columns:
        if all(isinstance(row.get(column), (int, float)) or row.get(column) is None
               for row in rows):
            right.add(column)
    return layout(names, cells, [c in right for c in columns], width=width)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}" if not value.is_integer() else f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def render_markdown(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *,
                    headers: Mapping[str, str] | None = None) -> str:
    """A Markdown table (for a pull request); cells escaped so that no id or name from a file
    becomes markup, a link or HTML."""
    if not rows:
        return ""
    columns = list(columns or rows[0].keys())
    numeric = {c for c in columns if all(isinstance(r.get(c), (int, float)) or r.get(c) is None
                                         for r in rows)}
    out = ["| " + " | ".join(md_escape((headers or {}).get(c, c)) for c in columns) + " |",
           "| " + " | ".join("---:" if c in numeric else "---" for c in columns) + " |"]
    out += ["| " + " | ".join(md_escape(_cell(r.get(c))) for c in columns) + " |"
            for r in rows]
    return "\n".join(out)


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|~"} | {
    "<": "&lt;", "&": "&amp;", "\n": " ", "\r": " "})


def md_escape(text: str) -> str:
    """``text`` as literal Markdown text: no emphasis, link, table cell break or HTML."""
    return text.translate(_MD_SPECIAL)


def render_json(data: Any) -> str:
    """Indented JSON that stays fast at any size.

    ``json.dumps(indent=2)`` runs Python's pure-Python encoder: 200,000 findings took 18 s.
    Here the outer two levels are indented as ``indent=2`` would, and anything deeper (a
    finding, a row, a record) is one compact line from the C encoder: as easy to read and to
    ``grep``, and about ten times faster.
    """
    return _indented(data, 0)


_COMPACT = json.JSONEncoder(ensure_ascii=False, default=str, separators=(", ", ": ")).encode


def _indented(value: Any, level: int) -> str:
    inner = "  " * (level + 1)
    if level < 2 and isinstance(value, dict) and value and all(isinstance(k, str)
                                                                 for k in value):
        items = [f"{inner}{_COMPACT(k)}: {_indented(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    if level < 2 and isinstance(value, (list, tuple)) and value:
        items = [inner + _indented(v, level + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + "  " * level + "]"
    return _COMPACT(value)


def render_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *,
               safe: bool = True) -> str:
    """CSV of ``rows`` for spreadsheets: formula cells neutralised unless ``safe`` is off
    (through :func:`kamcore.workspace.csvio.render_csv`, the one CSV writer)."""
    from kamcore.workspace.csvio import render_csv as _render

    columns = list(columns or (rows[0].keys() if rows else []))
    return _render(columns, ([row.get(c) for c in columns] for row in rows), safe=safe)


#: The formats :func:`render` knows, as ``--format`` offers them.
FORMATS = ("table", "json", "csv")


def render(rows: Sequence[Mapping[str, Any]], fmt: str) -> str:
    """``rows`` as ``fmt`` says: ``table`` (:func:`render_table`), ``json`` or ``csv``.

    One typed call for a command's ``--format`` (a dict of the three renderers has no type a
    checker can call).

    :raises ValueError: an unknown format.
    """
    if fmt == "table":
        return render_table(rows)
    if fmt == "json":
        return render_json(list(rows))
    if fmt == "csv":
        return render_csv(rows)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def emit(text: str, output: str | None = None) -> None:
    """Print to stdout, or write ``output`` atomically, ending in exactly one newline
    (``render_csv`` ends its last line; a table does not: both come out the same)."""
    text = text if text.endswith("\n") else text + "\n"
    if output:
        from kamcore.atomic import atomic_write_text

        atomic_write_text(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


def echo_lines(lines: Iterable[str], *, batch: int = 5000) -> None:
    """Echo many lines a few thousand at a time: one ``click.echo`` per line (each through the
    plugin-output guard) cost validate half its time at 400,000 lines."""
    pending: list[str] = []
    for line in lines:
        pending.append(line)
        if len(pending) >= batch:
            click.echo("\n".join(pending))
            pending.clear()
    if pending:
        click.echo("\n".join(pending))


def plain_output() -> bool:
    """Whether stdout gets plain UTF-8: click strips styles from what goes there (not a
    terminal, colour not forced) and it encodes text as UTF-8. A command printing many lines
    then builds them without styles, and :func:`echo_column` writes their bytes as they are:
    click's pass that strips styles took 0.3 s of ``kam validate``'s 400,000 lines."""
    import codecs
    import sys

    from click.globals import resolve_color_default

    stream = sys.stdout
    try:
        utf8 = codecs.lookup(getattr(stream, "encoding", None) or "?").name == "utf-8"
    except LookupError:
        utf8 = False
    color = resolve_color_default()
    if color is not None:
        return utf8 and not color
    try:
        terminal = bool(stream.isatty())
    except (AttributeError, ValueError):
        terminal = False
    return utf8 and not terminal


def echo_column(lines: pa.Array, *, batch: int = 1 << 16) -> None:
    """Echo a string array's lines (no nulls), a batch at a time as one text each: the
    lines' own bytes, never a Python string per line. When :func:`plain_output`, the bytes go
    out as they are (the lines then hold no styles)."""
    import pyarrow.compute as pc

    from kamcore.exporters.columns import text_buffer

    plain = plain_output()
    for start in range(0, len(lines), batch):
        part = pc.binary_join_element_wise(lines.slice(start, batch), "\n", "")
        text = text_buffer(part).to_pybytes()
        click.echo(text if plain else text.decode("utf-8"), nl=False)
