"""Spark (pyspark): the same per-account totals on a cluster, or in local mode.

The master URL comes from ``--master``, else ``SPARK_MASTER``, else ``local[*]``. A standalone
master (``spark://host:port``) is checked with a plain connection first, so an unreachable
one is a clear error within seconds, not a minute of retries. One session per master is kept
for the process (tests share it). The SQL is :mod:`.sql`'s, transpiled by sqlglot.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.rollup.engines.checks import EngineError, first_line, require_columns, require_parquet

if TYPE_CHECKING:
    import pyarrow as pa

_SESSIONS: dict[str, Any] = {}


def check_master(master: str, timeout: float = 5.0) -> None:
    """:raises EngineError: a ``spark://host:port`` master that does not answer."""
    import socket
    from urllib.parse import urlsplit

    if not master.startswith("spark://"):
        return
    for hostport in master.removeprefix("spark://").split(","):
        parts = urlsplit("//" + hostport)
        try:
            with socket.create_connection((parts.hostname or "", parts.port or 7077),
                                          timeout=timeout):
                return
        except OSError as exc:
            reason = exc.strerror or str(exc)
    raise EngineError(f"cannot reach the Spark master {master}: {reason}",
                      hint="check --master or SPARK_MASTER (spark://host:7077), or run "
                           "without a cluster: --master 'local[*]'")


def session(master: str) -> Any:
    """The process's Spark session for ``master`` (started on first use).

    The JVM's own stderr (log4j's banner, hostname and native-library warnings) is kept out of
    the terminal: it is drained into a short buffer that an error shows if Spark does not
    start. ``KAM_DEBUG=1`` lets it through.

    :raises EngineError: pyspark or Java missing, or the master unreachable.
    """
    if master in _SESSIONS:
        return _SESSIONS[master]
    check_master(master)
    try:
        from pyspark import SparkConf, SparkContext
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("the spark engine needs pyspark",
                          hint="pip install 'kamcore[spark]' (and Java 17 or later)") from None
    conf = (SparkConf().setMaster(master).setAppName("kamcore")
            .set("spark.ui.enabled", "false")
            .set("spark.ui.showConsoleProgress", "false")
            .set("spark.sql.shuffle.partitions", os.environ.get("KAM_SPARK_PARTITIONS", "8")))
    jvm_log = _JvmLog()
    try:
        # a context another caller started (a test session, a notebook) is reused as is
        context = (SparkContext.getOrCreate(conf) if SparkContext._active_spark_context
                   else SparkContext(conf=conf, gateway=jvm_log.launch(conf)))
        spark = SparkSession(context)
    except Exception as exc:  # pyspark raises its own errors for a JVM that cannot start
        said = jvm_log.tail()
        raise EngineError(f"Spark did not start ({master}): {str(exc).splitlines()[0]}"
                          + (f"\nthe JVM said:\n{said}" if said else ""),
                          hint="Spark needs Java 17 or later (Debian: apt-get install "
                               "openjdk-17-jre-headless) and a reachable master") from None
    spark.sparkContext.setLogLevel("ERROR")
    _SESSIONS[master] = spark
    return spark


class _JvmLog:
    """The Spark JVM's stderr, kept in an unnamed temporary file (unless KAM_DEBUG).

    A file, not a pipe: a JVM that writes a lot while it starts can never block on it.
    """

    def __init__(self) -> None:
        self.file: Any = None

    def launch(self, conf: Any) -> Any:
        """Start the JVM gateway (pyspark's ``launch_gateway``) with its stderr in the file."""
        import tempfile

        from pyspark.java_gateway import launch_gateway

        if os.environ.get("KAM_DEBUG"):
            return launch_gateway(conf)
        # open for as long as the JVM writes to it: the process's lifetime
        self.file = tempfile.TemporaryFile()  # noqa: SIM115
        return launch_gateway(conf, popen_kwargs={"stderr": self.file})

    def tail(self, keep: int = 20) -> str:
        """The last lines the JVM wrote, indented for an error message."""
        if self.file is None:
            return ""
        self.file.seek(0)
        lines = self.file.read().decode("utf-8", "replace").splitlines()[-keep:]
        return "\n".join(f"  {line}" for line in lines)


class SparkRunner:
    """``kam_raw`` as a Spark temporary view over the Parquet facts."""

    dialect = "spark"
    source: str | None = None  # kam_raw is a view of the Parquet facts

    def __init__(self, path: Path, master: str | None = None) -> None:
        require_parquet(path)
        try:
            import sqlglot  # noqa: F401  (the dialect layer the queries go through)
        except ImportError:
            raise EngineError("the spark engine needs sqlglot",
                              hint="pip install 'kamcore[spark]'") from None
        self.spark = session(master or os.environ.get("SPARK_MASTER") or "local[*]")
        from pyspark.sql import functions as F

        try:
            frame = self.spark.read.parquet(str(path.resolve()))
        except Exception as exc:  # AnalysisException and friends: one line is enough
            raise _failed(exc, path) from None
        self.has_owner = require_columns(set(frame.columns), path)
        columns = ["account", "period", "metric", "value"] + (["owner"] if self.has_owner
                                                               else [])
        try:
            row_no = F.col("_metadata.row_index") + 1
            frame.select(row_no).limit(0).collect()
        except Exception:  # older Spark: locations name the file only
            row_no = F.lit(None).cast("long")
        frame.select(*columns, F.col("_metadata.file_path").alias("file"),
                     row_no.alias("row_no")).createOrReplaceTempView("kam_raw")

    def register(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def query(self, sql: str) -> pa.Table:
        try:
            return self.spark.sql(sql).toArrow()
        except Exception as exc:  # a failed job: say what Spark said, in one line
            raise _failed(exc, None) from None

    def close(self) -> None:
        """The session stays for the process (starting a JVM is the slow part)."""


def _failed(exc: Exception, path: Path | None) -> EngineError:
    first = first_line(exc)
    return EngineError(f"Spark could not {'read ' + str(path) if path else 'run the totals'}: "
                       f"{first}", hint="check the facts (facts.parquet: account, period, "
                       "metric, value) and the Spark master; or use --engine duckdb")
