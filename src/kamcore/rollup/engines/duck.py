"""DuckDB, embedded: Parquet facts (one file or a folder partitioned by period) read out of
core. DuckDB streams the Parquet row groups through the checks and the hash aggregation and
spills to a temporary folder beyond ``KAM_DUCKDB_MEMORY`` (default 2GB), so the facts never
have to fit in memory; only the totals of the periods shown come back."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.rollup.engines.checks import EngineError, first_line, require_columns, require_parquet

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DuckRunner", "EngineError", "parquet_source"]


def parquet_source(path: Path) -> str:
    """The glob of the Parquet files of ``path`` (a file, or a folder of ``*.parquet``)."""
    if path.is_dir():
        return str(path / "**" / "*.parquet")
    return str(path)


def _string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class DuckRunner:
    """A DuckDB connection holding ``kam_raw`` over the facts."""

    dialect = "duckdb"
    source: str | None = None  # kam_raw is a view of the Parquet facts

    def __init__(self, path: Path) -> None:
        require_parquet(path)
        try:
            import duckdb
        except ImportError:
            raise EngineError("the duckdb engine needs the duckdb package",
                              hint="pip install duckdb") from None
        self._tmp = tempfile.TemporaryDirectory(prefix="kam-duckdb-")
        self.con: Any = duckdb.connect(config={
            "memory_limit": os.environ.get("KAM_DUCKDB_MEMORY", "2GB"),
            "temp_directory": self._tmp.name, "preserve_insertion_order": False})
        path = path.resolve()
        source = parquet_source(path)
        hive = "true" if path.is_dir() else "false"
        try:
            columns = self.con.execute(
                f"SELECT name FROM parquet_schema({_string(source)})").fetchall()
        except duckdb.Error as exc:
            first = first_line(exc)
            raise EngineError(f"DuckDB cannot read {path}: {first}",
                              hint="facts.parquet must be Parquet (a file, or a folder of "
                                   "them)") from None
        names = {str(c[0]) for c in columns}
        if path.is_dir():
            names |= {part.split("=", 1)[0] for f in path.rglob("*.parquet")
                      for part in f.relative_to(path).parts[:-1] if "=" in part}
        self.has_owner = require_columns(names, path)
        owner = ", owner" if self.has_owner else ""
        self.con.execute(
            f"CREATE VIEW kam_raw AS SELECT account, period, metric, value{owner}, "
            f"filename AS file, file_row_number + 1 AS row_no FROM read_parquet("
            f"{_string(source)}, hive_partitioning = {hive}, filename = true, "
            f"file_row_number = true, union_by_name = true)")

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def query(self, sql: str) -> pa.Table:
        import duckdb

        try:
            result = self.con.sql(sql)
            fetch = getattr(result, "to_arrow_table", None) or result.arrow
            return fetch()
        except duckdb.Error as exc:  # e.g. a Parquet file that is not one, a full temp disk
            first = first_line(exc)
            raise EngineError(f"DuckDB could not total the facts: {first}",
                              hint="check facts.parquet (account, period, metric, value) and "
                                   "the free space of the temporary folder") from None

    def close(self) -> None:
        self.con.close()
        self._tmp.cleanup()
