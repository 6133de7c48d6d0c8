"""Where facts are totalled per account: in process (numpy), DuckDB, Spark or a SQL database.

The engines replace one step only: reading and checking the fact rows and totalling them per
account, period and metric (and owner) for the periods a rollup shows. What they return is the
same :class:`~kamcore.rollup.facts.Facts` the in-process reader gives, so FX, the periods'
combination and the tree rollup run in process afterwards, unchanged: one answer.

``auto`` (the default) keeps small facts in process and hands Parquet facts larger than
:data:`AUTO_BYTES` (a file, or a folder partitioned by period) to DuckDB, which reads them in
bounded memory and spills to disk when it must. A database named (``--database``, or
``warehouse.database`` in kam.yaml) holds the facts as a table: ``auto`` then means ``sql``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from kamcore.rollup.engines.sql import SqlFacts

ENGINES = ("auto", "memory", "duckdb", "spark", "sql")
#: Parquet facts above this size (bytes, the whole folder) go to DuckDB under ``auto``.
AUTO_BYTES = 256 << 20


def facts_size(path: Path) -> int:
    """Bytes of a facts file, or of every file below a facts folder."""
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def choose_engine(requested: str | None, path: Path | None, database: bool = False) -> str:
    """The engine a rollup uses: ``sql`` when asked for or (``auto``) when a ``database`` is
    named; ``memory`` without a facts file; else the one asked for, else (``auto``) DuckDB for
    Parquet facts above ``KAM_ENGINE_BYTES`` or :data:`AUTO_BYTES`."""
    engine = requested or os.environ.get("KAM_ENGINE") or "auto"
    if engine == "sql" or (database and engine == "auto"):
        return "sql"
    if path is None:
        return "memory"
    if engine != "auto":
        return engine
    limit = int(os.environ.get("KAM_ENGINE_BYTES") or AUTO_BYTES)
    if path.suffix == ".parquet" and facts_size(path) > limit:
        return "duckdb"
    return "memory"


def open_engine(engine: str, path: Path | None, account_ids: pa.Array, metric_names: list[str],
                *, skip_bad: bool = False, master: str | None = None,
                database: object = None, table: str | None = None, dialect: str | None = None,
                base: Path | None = None) -> SqlFacts:
    """The facts at ``path`` behind ``engine`` (``duckdb`` or ``spark``), or the facts table of
    ``database`` (``sql``: see :func:`~kamcore.rollup.engines.dbapi.open_runner`), ready for
    :meth:`~kamcore.rollup.engines.sql.SqlFacts.outline`; use it as a context manager.

    :raises EngineError: an unknown engine, one that is not installed or cannot start, a
        database with another engine or none with ``sql``.
    """
    from kamcore.rollup.engines.checks import EngineError
    from kamcore.rollup.engines.sql import Runner, SqlFacts

    runner: Runner
    if engine == "sql":
        from kamcore.rollup.engines.dbapi import open_runner

        if database is None:
            raise EngineError("--engine sql reads the facts from a database: none is named",
                              hint="add --database sqlite:///facts.db (or duckdb:///...), or "
                                   "warehouse: {database: ...} in kam.yaml")
        sql_runner, source = open_runner(database, table, dialect, base)
        return SqlFacts(sql_runner, source, account_ids, metric_names, skip_bad,
                        label=sql_runner.label)
    if database is not None:
        raise EngineError(f"--database is read by --engine sql, not {engine}",
                          hint="use --engine sql (or auto), or leave out --database")
    if path is None:
        raise EngineError(f"--engine {engine} reads facts.parquet: this workspace has none",
                          hint="write the facts as facts.parquet, or use --engine sql")
    if engine == "duckdb":
        from kamcore.rollup.engines.duck import DuckRunner

        runner = DuckRunner(path)
    elif engine == "spark":
        from kamcore.rollup.engines.spark import SparkRunner

        runner = SparkRunner(path, master)
    else:
        raise EngineError(f"unknown engine {engine!r}", hint="use " + ", ".join(ENGINES))
    return SqlFacts(runner, path, account_ids, metric_names, skip_bad)
