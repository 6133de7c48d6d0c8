"""What every engine checks before it starts: Parquet facts, with the fact columns."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from kamcore.errors import EngineError
from kamcore.workspace.facts import FACT_COLUMNS

__all__ = ["EngineError", "first_line", "require_columns", "require_parquet"]


def require_parquet(path: Path) -> None:
    """:raises EngineError: the facts are not Parquet (the engines read nothing else)."""
    if path.suffix != ".parquet":
        raise EngineError(f"the duckdb and spark engines read Parquet facts; {path.name} is "
                          "not", hint="write the facts as facts.parquet (a file, or a folder "
                          "partitioned by period), or use --engine memory")


def require_columns(names: Collection[str], where: Path | str) -> bool:
    """Check the fact columns are there (``where``: the facts file, or words for a database
    table); ``True`` when an ``owner`` column is too.

    :raises EngineError: naming the missing columns.
    """
    missing = [c for c in FACT_COLUMNS if c not in names]
    if missing:
        name = where.name if isinstance(where, Path) else where
        raise EngineError(f"missing column(s) {', '.join(missing)} in {name}",
                          hint="facts need the columns account,period,metric,value")
    return "owner" in names


def first_line(exc: BaseException) -> str:
    """An engine's or driver's error in one line (they run to pages of plan and stack)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
