"""Findings as columns: a rule's hundred thousand findings without an object each.

``kam validate`` collects what the rules find here (a table-form rule's
:class:`~kamcore.Violations` stay columns, one Arrow table per batch), sorts it once and prints
it from the columns; :meth:`FindingTable.findings` builds the :class:`~kamcore.Finding` objects
the Python API returns, the same ones in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pyarrow as pa

    from kamcore.declarations import Violations
    from kamcore.models import Finding, Severity

#: The columns of a :class:`FindingTable`: the fields of :class:`~kamcore.Finding`, in order.
FIELDS = ("code", "severity", "message", "hint", "subject", "file", "line", "column", "rule",
          "plugin")
#: Severities in the order findings are listed (errors first).
SEVERITIES = ("error", "warning", "info")


def _schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([(name, pa.int64() if name == "line" else pa.string())
                      for name in FIELDS])


@dataclass(frozen=True)
class FindingTable:
    """Findings as one Arrow table (columns :data:`FIELDS`, ``severity`` as its value)."""

    table: pa.Table

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def column(self, name: str) -> pa.Array:
        return self.table.column(name).combine_chunks()

    def counts(self) -> dict[str, int]:
        """How many findings of each severity (every severity named, 0 when none)."""
        import pyarrow.compute as pc

        counts = dict.fromkeys(SEVERITIES, 0)
        for item in pc.value_counts(self.column("severity")).to_pylist():
            counts[item["values"]] += item["counts"]
        return counts

    def has_errors(self) -> bool:
        return self.counts()["error"] > 0

    def sorted(self) -> FindingTable:
        """Errors first, then by file, line and code; ties keep the order the rules gave
        (as ``list.sort`` with that key would: Arrow's sort is stable, and UTF-8 bytes sort
        as code points)."""
        if len(self) < 2:
            return self
        return FindingTable(self.table.take(_order(self)))

    def findings(self) -> list[Finding]:
        """One :class:`~kamcore.Finding` per row, in the table's order."""
        from kamcore.models import Finding, Severity
        from kamcore.models.quick import new_record
        from kamcore.perf import paused_gc

        columns = [self.column(name).to_pylist() for name in FIELDS]
        severity: dict[str, Severity] = {s.value: s for s in Severity}
        columns[1] = [severity[value] for value in columns[1]]
        with paused_gc():
            return [new_record(Finding, dict(zip(FIELDS, values, strict=True)))
                    for values in zip(*columns, strict=True)]


class FindingCollector:
    """Findings in the order the rules give them: loose :class:`~kamcore.Finding` objects and
    column batches alike."""

    def __init__(self) -> None:
        self._parts: list[pa.Table] = []
        self._loose: list[Finding] = []

    def add(self, finding: Finding) -> None:
        self._loose.append(finding)

    def add_violations(self, batch: Violations, *, code: str, severity: Severity, rule: str,
                       plugin: str | None) -> None:
        """A rule's batch as columns, each row located in its table.

        :raises TypeError: a batch that is not what :class:`~kamcore.Violations` describes
            (the rule's fault: validation reports it as the plugin's failure).
        """
        self._flush()
        self._parts.append(_batch_columns(batch, code, severity.value, rule, plugin))

    def extend(self, other: FindingCollector) -> None:
        other._flush()
        self._flush()
        self._parts.extend(other._parts)

    def table(self) -> FindingTable:
        """Everything collected, in order (unsorted)."""
        import pyarrow as pa

        self._flush()
        schema = _schema()
        if not self._parts:
            return FindingTable(schema.empty_table())
        return FindingTable(pa.concat_tables(self._parts))

    def sorted_table(self) -> FindingTable:
        """:meth:`table` as :meth:`FindingTable.sorted` orders it, the collector emptied: a
        column is sorted, then its unsorted form let go (200,000 findings' texts held once
        and a column, not twice)."""
        import pyarrow as pa

        found = self.table()
        self._parts = []
        if len(found) < 2:
            return found
        order = _order(found)
        table, columns = found.table, []
        del found
        for name in FIELDS:
            columns.append(table.column(name).take(order))
            table = table.drop_columns([name])
        return FindingTable(pa.Table.from_arrays(columns, schema=_schema()))

    def _flush(self) -> None:
        if self._loose:
            self._parts.append(_finding_columns(self._loose))
            self._loose = []


def _order(found: FindingTable) -> pa.Array:
    """The rows of ``found`` as :meth:`FindingTable.sorted` orders them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = pa.table({
        "severity": pc.index_in(found.column("severity"), value_set=pa.array(SEVERITIES)),
        "file": found.column("file").fill_null(""),
        "line": found.column("line").fill_null(0),
        "code": found.column("code"),
    })
    return pc.sort_indices(keys, sort_keys=[(name, "ascending") for name in keys.column_names])


def _finding_columns(findings: Iterable[Finding]) -> pa.Table:
    import pyarrow as pa

    rows = [(f.code, f.severity.value, f.message, f.hint, f.subject, f.file, f.line, f.column,
             f.rule, f.plugin) for f in findings]
    columns = list(zip(*rows, strict=True))
    return pa.Table.from_arrays([pa.array(values, type=field.type) for values, field
                                 in zip(columns, _schema(), strict=True)], schema=_schema())


def _batch_columns(batch: Violations, code: str, severity: str, rule: str,
                   plugin: str | None) -> pa.Table:
    import numpy as np
    import pyarrow as pa

    table = batch.table
    try:
        rows = np.asarray(batch.rows, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Violations.rows must be row numbers, not {batch.rows!r}") from exc
    n = len(rows)
    if n and (int(rows.min()) < 0 or int(rows.max()) >= len(table)):
        raise TypeError(f"Violations.rows must be rows of {table!r} (0 to {len(table) - 1})")
    picked = pa.array(rows)
    subject = (table.ids.take(picked) if batch.subject is None
               else _texts(batch.subject, n, "subject"))
    if table.path is None:
        file, line = pa.nulls(n, pa.string()), pa.nulls(n, pa.int64())
    else:
        file, line = pa.repeat(pa.scalar(str(table.path)), n), table.lines(rows)

    def same(value: str | None) -> pa.Array:
        return pa.repeat(pa.scalar(value, pa.string()), n)

    message = _texts(batch.message, n, "message")
    if message.null_count:
        raise TypeError("Violations.message must give every row a message")
    columns = {"code": same(code), "severity": same(severity), "message": message,
               "hint": _texts(batch.hint, n, "hint"), "subject": subject, "file": file,
               "line": line, "column": same(batch.column), "rule": same(rule),
               "plugin": same(plugin)}
    return pa.Table.from_arrays([columns[name] for name in FIELDS], schema=_schema())


def _texts(value: object, n: int, what: str) -> pa.Array:
    """A batch's per-row text: a string array of ``n``, one text for all, or ``None``."""
    import pyarrow as pa

    if value is None or isinstance(value, str):
        return pa.repeat(pa.scalar(value, pa.string()), n)
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if (isinstance(value, pa.Array) and len(value) == n
            and (pa.types.is_string(value.type) or pa.types.is_large_string(value.type))):
        return value.cast(pa.string())
    raise TypeError(f"Violations.{what} must be a text or a string array of {n} (one per row), "
                    f"not {type(value).__name__}")
