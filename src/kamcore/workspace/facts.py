"""Reading facts files: ``facts.parquet`` or ``facts.csv`` (``account,period,metric,value``).

Only the reading lives here (the workspace module alone touches files); the checks that make
fact rows safe to total are :mod:`kamcore.rollup.facts`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.errors import Location, WorkspaceError

if TYPE_CHECKING:
    import pyarrow as pa

FACT_COLUMNS = ("account", "period", "metric", "value")


def find_facts(folder: Path) -> Path | None:
    """``facts.parquet`` or ``facts.csv`` in the workspace (Parquet first), or ``None``."""
    for name in ("facts.parquet", "facts.csv"):
        if (folder / name).exists():
            return folder / name
    return None


def _raw_names(path: Path) -> dict[str, str]:
    """``{trimmed name: name as written}`` for the header of a CSV file."""
    import csv

    with path.open("rb") as handle:
        first = handle.readline(1 << 20).decode("utf-8-sig", errors="replace")
    lines = first.splitlines()  # a lone CR ends a line too
    try:
        return {name.strip(): name for name in next(csv.reader(lines[:1]), [])}
    except csv.Error:
        return {}  # pyarrow's read says what is wrong with the header


def read_facts_table(path: Path) -> pa.Table:
    """The four fact columns (and ``owner`` when the file has it): periods and metrics
    dictionary-encoded (few distinct values, so millions of rows stay small), account ids as
    text (looked up once with ``index_in``: cheaper than unifying per-block dictionaries of a
    million ids), values as float64 when every cell parses (else as text, to point at the
    bad cells)."""
    import pyarrow as pa

    text = pa.dictionary(pa.int32(), pa.string())
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            from pyarrow import csv as pacsv

            raw = _raw_names(path)  # header cells as written (a spreadsheet pads them)

            def read(value_type: pa.DataType) -> pa.Table:
                return pacsv.read_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 22),
                                      convert_options=pacsv.ConvertOptions(
                    column_types={raw.get("account", "account"): pa.string(),
                                  raw.get("period", "period"): text,
                                  raw.get("metric", "metric"): text,
                                  raw.get("value", "value"): value_type,
                                  raw.get("owner", "owner"): pa.string()},
                    null_values=[""], strings_can_be_null=True,
                    quoted_strings_can_be_null=True))

            try:
                table = read(pa.float64())
            except pa.ArrowInvalid:
                table = read(pa.string())
        # pyarrow takes header bytes as they are: decoding them is the first UTF-8 check
        table = table.rename_columns([name.strip() for name in table.column_names])
    except UnicodeDecodeError as exc:
        raise WorkspaceError(f"cannot read {path}: its header is not UTF-8 text ({exc.reason} "
                             f"at byte {exc.start})", location=Location(str(path), 1),
                             hint="save the file as CSV UTF-8") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise WorkspaceError(f"cannot read {path}: {exc}", location=Location(str(path)),
                             hint="facts need the columns account,period,metric,value") from None
    names = table.column_names
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise WorkspaceError(f"column(s) {', '.join(twice)} appear more than once in the header "
                             f"of {path.name}", location=Location(str(path), 1),
                             hint="keep one column of each name: account,period,metric,value")
    missing = [c for c in FACT_COLUMNS if c not in table.column_names]
    if missing:
        raise WorkspaceError(f"missing column(s) {', '.join(missing)} in {path.name}",
                             location=Location(str(path), 1),
                             hint="the header must be: account,period,metric,value")
    owner = ["owner"] if "owner" in table.column_names else []
    return table.select([*FACT_COLUMNS, *owner])


def fact_lines(path: Path, n: int) -> list[int]:
    """Line of each row (CSV), or its 1-based row number (Parquet); only for errors."""
    if path.suffix == ".parquet":
        return list(range(1, n + 1))
    from kamcore.workspace.tables import data_row_lines

    lines = list(data_row_lines(path, path.read_bytes()))
    return lines + list(range(len(lines) + 2, n + 2))


#: Optional columns: the person credited with a fact, and the import that wrote it.
OPTIONAL_FACT_COLUMNS = ("owner", "source")


def read_fact_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Every column of a facts file as text, with each row's line (Parquet: row number), for
    an import that replaces some rows and keeps the others as they are.

    :raises WorkspaceError: the file cannot be read.
    """
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise WorkspaceError(f"cannot read {path}: {exc}",
                                 location=Location(str(path))) from None
        from kamcore.workspace.csvio import format_cell

        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        rows = [(i + 1, [format_cell(c[i]) for c in columns]) for i in range(table.num_rows)]
        return [name.strip() for name in table.column_names], rows
    from kamcore.workspace.csvio import read_table

    parsed, problems = read_table(path, required=FACT_COLUMNS)
    if problems:
        raise problems[0]
    return parsed.header, parsed.rows


def write_fact_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """Write a facts file atomically: CSV through the one CSV writer, or Parquet (every
    column text except ``value``, a float), as ``path``'s suffix says."""
    from kamcore.atomic import atomic_open

    if path.suffix != ".parquet":
        from kamcore.workspace.csvio import render_csv

        with atomic_open(path, "wb") as handle:
            handle.write(render_csv(header, rows).encode("utf-8"))
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = {name: [r[i] or None for r in rows] for i, name in enumerate(header)}
    arrays = {name: pa.array([float(v) if v is not None else None for v in cells], pa.float64())
              if name == "value" else pa.array(cells, pa.string())
              for name, cells in data.items()}
    with atomic_open(path, "wb") as handle:
        pq.write_table(pa.table(arrays), handle)
