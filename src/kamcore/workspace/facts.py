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
    return {name.strip(): name for name in next(csv.reader([first]), [])}


def read_facts_table(path: Path) -> pa.Table:
    """The four fact columns: periods and metrics dictionary-encoded (few distinct values, so
    millions of rows stay small), account ids as text (looked up once with ``index_in``:
    cheaper than unifying per-block dictionaries of a million ids), values as float64 when
    every cell parses (else as text, to point at the bad cells)."""
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
                                  raw.get("value", "value"): value_type},
                    null_values=[""], strings_can_be_null=True,
                    quoted_strings_can_be_null=True))

            try:
                table = read(pa.float64())
            except pa.ArrowInvalid:
                table = read(pa.string())
    except (pa.ArrowInvalid, OSError) as exc:
        raise WorkspaceError(f"cannot read {path}: {exc}", location=Location(str(path)),
                             hint="facts need the columns account,period,metric,value") from None
    table = table.rename_columns([name.strip() for name in table.column_names])
    missing = [c for c in FACT_COLUMNS if c not in table.column_names]
    if missing:
        raise WorkspaceError(f"missing column(s) {', '.join(missing)} in {path.name}",
                             location=Location(str(path), 1),
                             hint="the header must be: account,period,metric,value")
    return table.select(list(FACT_COLUMNS))


def fact_lines(path: Path, n: int) -> list[int]:
    """Line of each row (CSV), or its 1-based row number (Parquet); only for errors."""
    if path.suffix == ".parquet":
        return list(range(1, n + 1))
    from kamcore.workspace.tables import data_row_lines

    lines = list(data_row_lines(path, path.read_bytes()))
    return lines + list(range(len(lines) + 2, n + 2))
