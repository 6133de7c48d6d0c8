"""Fact totals in SQL: the queries are written once, in DuckDB's dialect, and transpiled by
sqlglot for Spark (or any warehouse sqlglot speaks).

Why sqlglot rather than ibis: the job is three fixed queries, not dataframe code. sqlglot is a
pure-Python transpiler with no engine dependencies (ibis pulls in a backend per engine and its
own expression language), the SQL stays readable and testable as SQL, and the same text a
warehouse user can inspect is what DuckDB runs.

Every engine exposes the facts as a view ``kam_raw`` (``account, period, metric, value``, maybe
``owner``, plus ``file`` and ``row_no`` for locations) and three small lookup tables:
``kam_accounts(id, idx)``, ``kam_metrics(name, code)``, ``kam_periods(label, code)``. The checks
are the in-process reader's (:func:`kamcore.rollup.facts.read_facts`), in the same order, so a
row is refused for the same reason. An engine reads only the rows of the periods a rollup shows
(the filter is on the raw period column, so other row groups and partitions stay unread) plus
the rows whose period cell is no period: those are the rows it checks. The in-process reader
checks the whole file; ``kam validate`` does too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kamcore.errors import KamError, Location
from kamcore.rollup.periods import Period, parse_period

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot.expressions import Expression as Expr

    from kamcore.rollup.facts import Facts

#: The largest finite double: ``NOT BETWEEN`` its negative and it catches inf and NaN alike
#: (DuckDB and Spark both sort NaN above every number).
_MAX = "1.7976931348623157e308"

_REASONS = ("", "unknown account {account!r}", "unknown metric {metric!r}",
            "{period!r} is not a period", "value {value!r} is not a number",
            "value {value!r} is not finite", "", "missing account, period, metric or value")
_HINTS = ("", "add the account to accounts.csv or fix the id", "",
          "write 2026, 2026Q3 or 2026-07", "write a plain number like 1250.50",
          "use a finite number, or drop the row", "", "fill every cell")


def _text(column: str) -> str:
    return f"NULLIF(TRIM(CAST(r.{column} AS VARCHAR)), '')"


def checked_sql(owner: bool, labels: Sequence[str] | None = None) -> str:
    """Every fact row with its account row, period code, metric code, value and the reason it
    is refused (0: fine), as the in-process reader decides.

    :param labels: read only the rows whose period cell is one of these (or empty): the filter
        is on the raw column, so Parquet row groups and partitions of other periods are
        skipped unread.
    """
    own = f", {_text('owner')} AS own" if owner else ""
    return f"""
SELECT a.idx AS acc, p.code AS per, m.code AS met, TRY_CAST(r.value AS DOUBLE) AS v{own},
  r.file AS file, r.row_no AS row_no, {_text('account')} AS account_text,
  {_text('period')} AS period_text, LOWER({_text('metric')}) AS metric_text,
  CAST(r.value AS VARCHAR) AS value_text,
  CASE
    WHEN {_text('account')} IS NULL OR {_text('period')} IS NULL OR {_text('metric')} IS NULL
      OR r.value IS NULL THEN 7
    WHEN a.idx IS NULL THEN 1
    WHEN m.code IS NULL THEN 2
    WHEN p.code IS NULL THEN 3
    WHEN TRY_CAST(r.value AS DOUBLE) IS NULL THEN 4
    WHEN NOT (TRY_CAST(r.value AS DOUBLE) BETWEEN -{_MAX} AND {_MAX}) THEN 5
    ELSE 0
  END AS reason
FROM {_rows(labels)} AS r
LEFT JOIN kam_accounts AS a ON a.id = {_text('account')}
LEFT JOIN kam_metrics AS m ON m.name = LOWER({_text('metric')})
LEFT JOIN kam_periods AS p ON p.label = {_text('period')}"""


def _rows(labels: Sequence[str] | None) -> str:
    if labels is None:
        return "kam_raw"
    listed = ", ".join("'" + label.replace("'", "''") + "'" for label in labels) or "NULL"
    return f"(SELECT * FROM kam_raw WHERE period IN ({listed}) OR period IS NULL)"


def labels_sql() -> str:
    """The distinct period cells (as written) and metrics of the facts (a cheap first pass:
    two dictionary-encoded columns, or the partition folders' names)."""
    return ("SELECT DISTINCT CAST(period AS VARCHAR) AS raw, "
            "LOWER(NULLIF(TRIM(CAST(metric AS VARCHAR)), '')) AS metric FROM kam_raw")


def totals_sql(owner: bool, chosen: Sequence[int], labels: Sequence[str] | None = None) -> str:
    """Totals per account, period, metric (and owner) of the chosen period codes, plus one
    count per reason (and per unknown metric) for the refused rows: one pass over the rows of
    the period cells ``labels`` (all rows when ``None``)."""
    good_own = ", CASE WHEN reason = 0 THEN own END AS own" if owner else ""
    periods = ", ".join(str(int(c)) for c in chosen) or "-1"
    return f"""
WITH checked AS ({checked_sql(owner, labels)})
SELECT reason, CASE WHEN reason = 0 THEN acc END AS acc, CASE WHEN reason = 0 THEN per END AS per,
  CASE WHEN reason = 0 THEN met END AS met{good_own},
  CASE WHEN reason = 2 THEN metric_text END AS bad_metric,
  COUNT(*) AS n, SUM(CASE WHEN reason = 0 THEN v END) AS total
FROM checked
WHERE reason <> 0 OR per IN ({periods})
GROUP BY {", ".join(str(i) for i in range(1, 7 if owner else 6))}"""


def problems_sql(owner: bool, labels: Sequence[str] | None = None, limit: int = 200) -> str:
    """The first refused rows with their file and row (only run when there are some)."""
    return f"""
WITH checked AS ({checked_sql(owner, labels)})
SELECT file, row_no, reason, account_text, period_text, metric_text, value_text
FROM checked WHERE reason NOT IN (0, 2)
ORDER BY file, row_no, account_text, period_text, metric_text LIMIT {int(limit)}"""


def transpile(sql: str, dialect: str) -> str:
    """``sql`` (DuckDB's dialect) in another dialect (``spark``, ``snowflake``, ...), with the
    value check (``TRY_CAST(value AS DOUBLE)``: a number, else NULL) kept where sqlglot alone
    would turn it into a ``CAST`` that fails the whole query, or reads 'abc' as 0.0:

    - SQLite has no ``TRY_CAST``: ``kam_number(value)``, the in-process reader's rule, which
      the engine registers on the connection (:func:`kamcore.rollup.engines.dbapi.number`);
    - Snowflake's ``TRY_CAST`` takes text only: the value is cast to text first;
    - Postgres has none: the text is matched against the reader's number pattern first.
    """
    if dialect == "duckdb":
        return sql
    import sqlglot

    tree = sqlglot.parse_one(sql, read="duckdb")
    if dialect in ("sqlite", "snowflake", "postgres"):
        tree = tree.transform(lambda node: _try_number(node, dialect))
    return tree.sql(dialect=dialect)


def _try_number(node: Expr, dialect: str) -> Expr:
    """``node`` for ``dialect`` if it is a ``TRY_CAST`` (see :func:`transpile`)."""
    from sqlglot import exp

    from kamcore.rollup.facts import NONFINITE, NUMBER

    if not isinstance(node, exp.TryCast):
        return node
    value = node.this
    if dialect == "sqlite":
        return exp.Anonymous(this="kam_number", expressions=[value])
    text = exp.cast(value.copy(), "VARCHAR")
    if dialect == "snowflake":
        return exp.TryCast(this=text, to=node.args["to"])
    return exp.Case(ifs=[
        exp.If(this=exp.RegexpLike(this=text, expression=exp.Literal.string(NUMBER)),
               true=exp.cast(value, "DOUBLE")),
        exp.If(this=exp.RegexpLike(this=exp.Lower(this=text.copy()),
                                   expression=exp.Literal.string(NONFINITE)),
               true=exp.cast(exp.Literal.string("Infinity"), "DOUBLE"))])


def with_raw(sql: str, source: str | None) -> str:
    """``sql`` reading ``kam_raw`` as a common table expression over ``source`` (a SELECT),
    for a database where it is a table of its own rather than a view kam made."""
    if source is None:
        return sql
    text = sql.lstrip()
    head = f"WITH kam_raw AS ({source})"
    if text[:5].upper() == "WITH ":
        return f"{head}, {text[5:]}"
    return f"{head} {text}"


class Runner(Protocol):
    """An engine: it holds ``kam_raw`` and runs SQL of its dialect."""

    dialect: str
    has_owner: bool
    #: The SELECT ``kam_raw`` stands for where the engine made no view of it (a database
    #: table read through DB-API); ``None`` where it did.
    source: str | None

    def register(self, name: str, table: pa.Table) -> None: ...

    def query(self, sql: str) -> pa.Table: ...

    def close(self) -> None: ...


@dataclass
class SqlFacts:
    """The facts behind an engine: labels first, then the totals of the periods shown."""

    runner: Runner
    path: Path
    account_ids: pa.Array
    metric_names: list[str]
    skip_bad: bool = False
    #: Where refused rows are said to be when the engine knows no file (a database table).
    label: str | None = None

    def __post_init__(self) -> None:
        import numpy as np
        import pyarrow as pa

        self._run = lambda sql: self.runner.query(transpile(with_raw(sql, self.runner.source),
                                                            self.runner.dialect))
        self.runner.register("kam_accounts", pa.table({
            "id": self.account_ids.cast(pa.string()),
            "idx": pa.array(np.arange(len(self.account_ids), dtype=np.int64))}))
        self.runner.register("kam_metrics", pa.table({
            "name": pa.array(self.metric_names, pa.string()),
            "code": pa.array(range(len(self.metric_names)), pa.int64())}))

    def __enter__(self) -> SqlFacts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.runner.close()

    def outline(self) -> Facts:
        """Facts without rows: every period of the file, and one row per metric it holds
        (what choosing the metrics and the periods needs)."""
        import numpy as np
        import pyarrow as pa

        from kamcore.rollup.facts import Facts

        labels = self._run(labels_sql())
        self.raw_labels = sorted({p for p in labels.column("raw").to_pylist() if p is not None})
        raw = sorted({p.strip() for p in self.raw_labels if p.strip()})
        parsed = {label: parse_period(label) for label in raw}
        self.periods = sorted({p for p in parsed.values() if p is not None})
        rank = {p.label: i for i, p in enumerate(self.periods)}
        good = [(label, rank[p.label]) for label, p in parsed.items() if p is not None]
        self.runner.register("kam_periods", pa.table({
            "label": pa.array([g[0] for g in good], pa.string()),
            "code": pa.array([g[1] for g in good], pa.int64())}))
        present = {m for m in labels.column("metric").to_pylist() if m in self.metric_names}
        codes = np.array(sorted(self.metric_names.index(m) for m in present), dtype=np.int32)
        empty = np.zeros(len(codes), dtype=np.int32)
        return Facts(self.path, empty, empty, codes, np.zeros(len(codes)), self.periods,
                     list(self.metric_names))

    def totals(self, chosen: Sequence[Period]) -> Facts:
        """The facts of the ``chosen`` periods, totalled per account, period, metric (and
        owner); the refused rows listed (or, with ``skip_bad``, left out) as the reader does.

        :raises BadFacts: refused rows, with file and row.
        """
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        from kamcore.rollup.facts import BadFacts, Facts

        owner = self.runner.has_owner
        # the rows of the periods shown, and of every cell that is no period (to refuse them)
        wanted = {p.label for p in chosen}
        parsed = {raw: parse_period(raw) for raw in self.raw_labels}
        self.labels = [raw for raw, period in parsed.items()
                       if period is None or period.label in wanted]
        result = self._run(totals_sql(owner, [self.periods.index(p) for p in chosen],
                                      self.labels))
        reason = result.column("reason").to_numpy()
        n = result.column("n").to_numpy()
        ok = reason == 0
        dup = ok & (n > 1)
        problems: list[KamError] = []
        unknown: list[KamError] = []
        where = self.label or str(self.path)
        for row in np.flatnonzero(reason == 2).tolist():
            name = result.column("bad_metric")[row].as_py()
            unknown.append(KamError(
                f"fact: unknown metric {name!r} ({int(n[row])} rows)", location=Location(where),
                hint="no loaded plugin and no `metrics:` entry in kam.yaml declares it: load the "
                     "plugin that does (see `kam plugins`), declare it in kam.yaml, or fix the "
                     "name; known: " + ", ".join(self.metric_names)))
        if ((reason != 0) & (reason != 2)).any():
            problems += self._located(owner)
        good = result.filter(pa.array(ok & ~dup))
        for row in np.flatnonzero(dup)[:200].tolist():
            acc = self.account_ids[int(result.column("acc")[row].as_py())].as_py()
            period = self.periods[int(result.column("per")[row].as_py())].label
            metric = self.metric_names[int(result.column("met")[row].as_py())]
            problems.append(KamError(
                f"fact: {int(n[row])} rows for {acc!r}, {period}, {metric}",
                location=Location(where), hint="keep one row per account, period and metric "
                "(and owner); with --skip-bad the engines leave all of them out"))
        if problems and not self.skip_bad:
            raise BadFacts(problems)

        def ints(name: str) -> np.ndarray:
            return good.column(name).to_numpy().astype(np.int32)

        owners: list[str] = []
        owner_codes = None
        if owner:
            enc = pc.dictionary_encode(good.column("own").combine_chunks())
            owners = [str(o) for o in enc.dictionary.to_pylist()]
            owner_codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(
                np.int32)
        return Facts(self.path, ints("acc"), ints("per"), ints("met"),
                     good.column("total").to_numpy().astype(np.float64), self.periods,
                     list(self.metric_names), problems if self.skip_bad else [], unknown,
                     owner_codes, owners)

    def _located(self, owner: bool) -> list[KamError]:
        """The first refused rows, each with its file and row."""
        out: list[KamError] = []
        for rec in self._run(problems_sql(owner, self.labels)).to_pylist():
            code = int(rec["reason"])
            message = _REASONS[code].format(account=rec["account_text"],
                                            metric=rec["metric_text"],
                                            period=rec["period_text"], value=rec["value_text"])
            row = rec["row_no"]
            out.append(KamError(f"fact: {message}", location=Location(
                str(rec["file"] or self.label or self.path),
                int(row) if row is not None else None),
                hint=_HINTS[code]))
        return out
