"""A SQL database or warehouse, through DB-API 2: the facts are a table there, and the same
per-account aggregation the other engines run (:mod:`.sql`, transpiled by sqlglot into the
database's dialect) runs there; only the totals of the periods shown come back.

Built in, opened read-only from a URL: ``sqlite:///facts.db`` (the standard library's sqlite3,
sqlite dialect) and ``duckdb:///facts.duckdb`` (DuckDB's DB-API). Any other database (Postgres,
Snowflake, BigQuery, ...) is a DB-API connection and a sqlglot dialect name handed over from
Python: that is the seam, and the SQL for it can be printed with :func:`.sql.transpile`.

What the engine needs of the database: read access to the facts table, and temporary tables
(three small lookups: the accounts, metrics and periods kamcore knows). It writes nothing else
and drops its temporary tables when it is done.
"""

from __future__ import annotations

import contextlib
import importlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.rollup.engines.checks import EngineError, first_line, require_columns

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DbapiRunner", "connect", "database_path", "number", "open_runner"]

#: URL schemes kam opens itself, with their sqlglot dialect.
SCHEMES = {"sqlite": "sqlite", "duckdb": "duckdb"}
#: A table name: one to three dotted plain identifiers (never quoted, so the database's own
#: case rules apply: Snowflake's FACTS is ``facts``).
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")
#: The result columns of the engine's queries with their types (a cursor's rows carry none).
_TYPES = {"reason": "int64", "acc": "int64", "per": "int64", "met": "int64", "n": "int64",
          "total": "float64", "row_no": "int64", "code": "int64", "idx": "int64"}
_BATCH = 400  # rows per INSERT: 800 parameters, below every driver's limit
_HINT = ("write sqlite:///facts.db or duckdb:///facts.duckdb (relative to the workspace in "
         "kam.yaml, else to the current folder; four slashes for an absolute path); other "
         "databases: pass a DB-API connection from Python (docs/warehouse.md)")


def database_path(url: str, base: Path | None = None) -> tuple[str, Path]:
    """The scheme and file of a ``sqlite:`` or ``duckdb:`` URL (SQLAlchemy's form: three
    slashes for a relative path, resolved against ``base``; four for an absolute one).

    :raises EngineError: another scheme, or no path.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        known = ", ".join(f"{s}:///FILE" for s in SCHEMES)
        raise EngineError(f"cannot open the database {url!r}: kam opens {known} itself",
                          hint=_HINT)
    path = rest[1:] if rest.startswith("/") else rest
    if not path:
        raise EngineError(f"the database URL {url!r} names no file", hint=_HINT)
    file = Path(path)
    if not file.is_absolute() and base is not None:
        file = base / file
    return scheme.lower(), file


def connect(url: str, base: Path | None = None) -> tuple[Any, str, Path]:
    """A read-only DB-API connection for ``url``, its dialect and its file.

    :raises EngineError: a scheme kam does not open, a missing file, one the driver refuses.
    """
    scheme, file = database_path(url, base)
    if not file.is_file():
        raise EngineError(f"cannot open the database {url}: {file} does not exist",
                          hint=_HINT)
    try:
        if scheme == "sqlite":
            import sqlite3

            con: Any = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
            con.execute("SELECT count(*) FROM sqlite_master").fetchall()  # is it SQLite?
        else:
            import duckdb

            con = duckdb.connect(str(file), read_only=True, config={  # never the network
                "autoinstall_known_extensions": False, "autoload_known_extensions": False})
    except Exception as exc:  # each driver's own error classes: one line is enough
        raise EngineError(f"cannot open the database {url}: {first_line(exc)}",
                          hint=f"is {file.name} a {scheme} database, and not locked by a "
                               "program writing to it?") from None
    return con, SCHEMES[scheme], file


def number(value: object) -> float | None:
    """SQLite's stand-in for ``TRY_CAST(value AS DOUBLE)`` (``kam_number``): a number cell,
    or text the in-process reader takes for a number, as a float; else ``None``. Text that is
    no finite number (``nan``, ``inf``, ``1e999``) gives inf, which the range check refuses
    (SQLite cannot hold NaN)."""
    from kamcore.rollup.facts import NONFINITE, NUMBER

    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if value == value else float("inf")
    if not isinstance(value, str):
        return None
    if re.match(NUMBER, value, re.ASCII):
        return float(value.strip())
    if re.match(NONFINITE, value, re.IGNORECASE | re.ASCII):
        return float("inf")
    return None


class DbapiRunner:
    """The facts table of a DB-API connection as ``kam_raw`` (a common table expression)."""

    def __init__(self, connection: Any, dialect: str, table: str, where: str, *,
                 owned: bool = True) -> None:
        self.con, self.dialect, self.owned = connection, dialect, owned
        #: Where refused rows are said to be: the database and the table.
        self.label = f"{where} (table {table})"
        self._temp: list[str] = []
        self._cursor: Any = None
        if not _TABLE.match(table):
            self.close()
            raise EngineError(f"{table!r} is not a table name",
                              hint="name the facts table like facts or schema.facts")
        if dialect == "sqlite" and hasattr(connection, "create_function"):
            connection.create_function("kam_number", 1, number, deterministic=True)
        try:
            names = [str(d[0]).lower() for d in self._execute(
                f"SELECT * FROM {table} WHERE 1 = 0").description]
        except EngineError as exc:
            self.close()
            raise EngineError(f"cannot read the table {table} of {where}: "
                              f"{exc.message.split(': ', 1)[-1]}",
                              hint="name the facts table with --facts-table or warehouse.table "
                                   "in kam.yaml; it needs the columns account, period, "
                                   "metric, value") from None
        try:
            self.has_owner = require_columns(names, f"the table {table} of {where}")
        except EngineError:
            self.close()
            raise
        owner = ", owner" if self.has_owner else ""
        self.source: str | None = (
            f"SELECT account, period, metric, value{owner}, CAST(NULL AS VARCHAR) AS file, "
            f"CAST(NULL AS BIGINT) AS row_no FROM {table}")

    def _execute(self, sql: str, params: list[object] | None = None) -> Any:
        if self._cursor is None:  # one cursor: DuckDB's cursors are sessions of their own,
            self._cursor = self.con.cursor()  # each with its own temporary tables
        cursor = self._cursor
        try:
            cursor.execute(sql, params) if params else cursor.execute(sql)
        except Exception as exc:  # the driver's own error classes
            raise EngineError(f"the database {self.label} refused a query: "
                              f"{first_line(exc)}", hint="check the facts table's columns "
                              "(account, period, metric, value) and the connection") from None
        return cursor

    def register(self, name: str, table: pa.Table) -> None:
        """``table`` as a temporary table ``name``, inserted in batches of rows."""
        import pyarrow as pa

        from kamcore.rollup.engines.sql import transpile

        types = ", ".join(f"{field.name} "
                          f"{'BIGINT' if pa.types.is_integer(field.type) else 'VARCHAR'}"
                          for field in table.schema)
        self._execute(transpile(f"CREATE TEMPORARY TABLE {name} ({types})", self.dialect))
        self._temp.append(name)
        mark = _placeholder(self.con)
        width = table.num_columns
        rows = list(zip(*(c.to_pylist() for c in table.columns), strict=True))
        for start in range(0, len(rows), _BATCH):
            batch = rows[start:start + _BATCH]
            values = ", ".join("(" + ", ".join(mark for _ in range(width)) + ")" for _ in batch)
            self._execute(f"INSERT INTO {name} VALUES {values}",
                          [cell for row in batch for cell in row])

    def query(self, sql: str) -> pa.Table:
        import pyarrow as pa

        cursor = self._execute(sql)
        fetch = getattr(cursor, "fetch_arrow_table", None)  # ADBC drivers hand over Arrow
        if fetch is not None:
            return fetch()
        names = [str(d[0]).lower() for d in cursor.description]
        columns: list[list[object]] = [[] for _ in names]
        while batch := cursor.fetchmany(100_000):
            for i, column in enumerate(zip(*batch, strict=True)):
                columns[i].extend(column)
        return pa.table({name: pa.array(column, _TYPES.get(name, "string"))
                         for name, column in zip(names, columns, strict=True)})

    def close(self) -> None:
        """Drop the temporary tables; close the connection if kam opened it."""
        for name in self._temp:
            with contextlib.suppress(EngineError):  # it goes with the session anyway
                self._execute(f"DROP TABLE {name}")
        self._temp.clear()
        if self.owned:
            self.con.close()


def _placeholder(connection: Any) -> str:
    """The parameter marker of the connection's driver: the ``paramstyle`` of the nearest
    module above its class (``snowflake.connector`` for Snowflake's connection).

    :raises EngineError: a driver that only takes named parameters.
    """
    parts = type(connection).__module__.split(".")
    style = "qmark"
    for end in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:end]))
        except ImportError:
            continue
        if hasattr(module, "paramstyle"):
            style = str(module.paramstyle)
            break
    marks = {"qmark": "?", "format": "%s", "pyformat": "%s"}
    if style not in marks:
        raise EngineError(f"the database driver takes {style} parameters",
                          hint="use a driver with qmark, format or pyformat parameters")
    return marks[style]


def open_runner(database: object, table: str | None = None, dialect: str | None = None,
                base: Path | None = None) -> tuple[DbapiRunner, Path]:
    """The runner over the facts table of ``database`` (a URL kam opens, or a DB-API
    connection, whose ``dialect`` must then be named) and the path the facts are said to come
    from (the database file, or the table's name).

    :raises EngineError: as :func:`connect`, a connection without a dialect, a bad table.
    """
    table = table or "facts"
    if isinstance(database, str | Path):
        con, dialect, file = connect(str(database), base)
        return DbapiRunner(con, dialect, table, str(file)), file
    if not dialect:
        raise EngineError("a database connection needs its SQL dialect",
                          hint="pass dialect='postgres' (or snowflake, bigquery, ...: "
                               "sqlglot's dialect names)")
    runner = DbapiRunner(database, dialect, table, f"the {dialect} database", owned=False)
    return runner, Path(table)
