"""``kam import facts``: deals from a CRM export -> the workspace's facts, with a report.

Each kept row (the map's ``filter``) names an account (by id, by a ``crm:`` id column an
account import kept, or by name), a date (made a month, quarter or year), a value (in the deal's
currency, converted to the account's with fx.csv when they differ), a metric and perhaps an
owner (a person, by id or name). Rows are summed per account, period, metric and owner, so a
fact is a total, never a single deal. Every facts row records the ``source`` it came from:
importing the same source again replaces exactly its rows and keeps every other row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.errors import KamError, WorkspaceError
from kamcore.importers.factmap import FactMap
from kamcore.importers.report import ImportReport
from kamcore.importers.rows import Row, Rows, name_key, parse_number, read_rows
from kamcore.rollup.periods import Period, parse_period
from kamcore.wording import plural

if TYPE_CHECKING:
    from kamcore.registry import Registry
    from kamcore.rollup.fx import FxTable
    from kamcore.workspace.tables import WorkspaceTables

#: The columns ``kam import facts`` writes (readers need only the first four).
WRITTEN_COLUMNS = ("account", "period", "metric", "value", "owner", "source")
Key = tuple[str, str, str, str]


@dataclass
class FactsReport(ImportReport):
    """An import report for deals: rows read, kept, summed into facts, and every problem."""

    rows_read: int = 0
    rows_filtered: int = 0
    facts: int = 0
    replaced: int = 0
    kept_from_others: int = 0

    def summary(self) -> str:
        lines = [f"imported {plural(self.facts, 'fact')} from "
                 f"{self.rows_read - self.rows_filtered:,} of {plural(self.rows_read, 'row')} of "
                 f"{self.source} into {self.output}"]
        problems = self.all_problems()
        details = [f"replaced {plural(self.replaced, 'row')} of an earlier import of this source",
                   f"kept {plural(self.kept_from_others, 'row')} of other sources"]
        if problems:
            details.append(f"{plural(len(problems), 'problem')}: rows left out, see the report")
        lines.append("  " + "; ".join(details))
        return "\n".join(lines)

    def to_markdown(self) -> str:
        out = [f"# Facts import report: {self.source}", ""]
        out += [f"- {kind}: `{path}`" for kind, path in self.files.items()]
        out += [f"- workspace: `{self.output}`",
                f"- rows read: {self.rows_read}; left out by the filter: {self.rows_filtered}",
                f"- facts written: {self.facts} (rows summed per account, period, metric and "
                "owner)",
                f"- replaced {plural(self.replaced, 'fact')} of an earlier import of this "
                f"source; kept "
                f"{self.kept_from_others} of other sources"]
        out += [f"- {note}" for note in self.notes]
        out.append("")
        out += self.problems_section("These rows were left out of the facts (`--strict` "
                                     "refuses instead).")
        out += ["## Columns", ""]
        out += [f"- `{h}` -> {t}" for t, h in self.mapped_columns.items()]
        out.append("")
        return "\n".join(out)


@dataclass
class FactsImport:
    """The facts file to write: its path, header and rows (this source's and the others')."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    report: FactsReport
    new: dict[Key, float] = field(default_factory=dict)


def import_facts(folder: str | Path, export: str | Path, fmap: FactMap, *,
                 source: str | None = None, registry: Registry | None = None,
                 parquet: bool = False) -> FactsImport:
    """Read a deal export against a workspace; nothing is written.

    :param folder: the workspace (its accounts, people, metrics and fx.csv).
    :param export: the CSV export (any separator and encoding ``kam import`` reads).
    :param source: the name this import's rows carry (default: the export's file name).
    :param parquet: start ``facts.parquet`` when the workspace has no facts file yet.
    :raises WorkspaceError: the workspace or the export cannot be read, a mapped column is
        missing, or the metric is not declared.
    """
    from kamcore.importers.rows import check_columns
    from kamcore.rollup.fx import read_fx
    from kamcore.workspace.facts import find_facts
    from kamcore.workspace.tables import read_workspace

    tables = read_workspace(folder, registry=registry)
    tables.require_readable()
    export = str(export)
    name = source or Path(export).name
    report = FactsReport(source=name)
    if fmap.metric_column is None and fmap.metric not in tables.metrics:
        raise _unknown_metric(fmap.metric or "", tables)
    for cell, metric in fmap.metric_values.items():
        if metric not in tables.metrics:
            raise _unknown_metric(metric, tables, f"metric_values: {cell!r}")
    table, decimal = read_rows(export, report, "deals")
    check_columns(table.header, fmap.columns(), export)
    report.mapped_columns = fmap.columns()
    assert tables.folder is not None
    fx = read_fx(tables.folder, tables.settings.currency)
    accounts, crm_keys = _account_rows(tables)
    people = _people_rows(tables, accounts.id_key)
    wanted = {col: {name_key(v) for v in values} for col, values in fmap.filter.items()}
    col = {h: i for i, h in enumerate(table.header)}
    totals: dict[Key, float] = {}
    for line, cells in table.rows:
        report.rows_read += 1
        if any(name_key(cells[col[c]]) not in ok for c, ok in wanted.items()):
            report.rows_filtered += 1
            continue
        fact = _fact(cells, col, line, fmap, report, export, accounts, crm_keys, people,
                     tables, fx, decimal)
        if fact is not None:
            key, value = fact
            totals[key] = totals.get(key, 0.0) + value
    path = find_facts(tables.folder) or tables.folder / (
        "facts.parquet" if parquet else "facts.csv")
    header, rows = _merge(path, name, totals, report)
    report.facts = len(totals)
    report.output = str(tables.folder)
    return FactsImport(path, header, rows, report, totals)


def _unknown_metric(metric: str, tables: WorkspaceTables, what: str = "metric") -> KamError:
    return WorkspaceError(f"{what}: {metric!r} is not a metric of this workspace",
                          hint="declare it under metrics: in kam.yaml, or use one of: "
                               + ", ".join(sorted(tables.metrics)))


def _account_rows(tables: WorkspaceTables) -> tuple[Rows, dict[str, Row]]:
    """The workspace's accounts by id and name, and by the CRM ids an import kept
    (``crm:Id``-like columns); Salesforce ids match in either their 15- or 18-character form."""
    from kamcore.importers import read_layout
    from kamcore.importers.mapping import ACCOUNT_HEADERS
    from kamcore.importers.rows import RAW_PREFIX
    from kamcore.importers.salesforce import id15

    layout = read_layout(tables.folder) if tables.folder else None
    salesforce = bool(layout and layout.get("source") == "salesforce")

    def key(text: str) -> str:
        if salesforce:
            try:
                return id15(text)
            except ValueError:
                pass
        return text.strip()

    acc = tables.accounts
    rows = Rows(file=str(acc.path or ""), id_key=key)
    ids, names = acc.ids.to_pylist(), acc.text("name").to_pylist()
    for i, (aid, aname) in enumerate(zip(ids, names, strict=True)):
        if aid is not None:
            rows.add(Row(i, aid, key(aid), aname or aid, {}))
    crm: dict[str, Row] = {}
    id_headers = {RAW_PREFIX + h.replace(".", "_") for h in ACCOUNT_HEADERS["id"]}
    for column in (c for c in acc.table.column_names if c in id_headers):
        for i, cell in enumerate(acc.text(column).to_pylist()):
            if cell and ids[i] is not None:
                crm.setdefault(key(cell), rows.by_key[key(ids[i])])
    return rows, crm


def _people_rows(tables: WorkspaceTables, key: Callable[[str], str]) -> Rows:
    """The workspace's people by id (matched like account ids) and by name."""
    people = tables.people
    rows = Rows(file=str(people.path or ""), id_key=key)
    for i, (pid, pname) in enumerate(zip(people.ids.to_pylist(),
                                         people.text("name").to_pylist(), strict=True)):
        if pid is not None:
            rows.add(Row(i, pid, key(pid), pname or pid, {}))
    return rows


def _fact(cells: list[str], col: dict[str, int], line: int, fmap: FactMap,
          report: FactsReport, export: str, accounts: Rows, crm_keys: dict[str, Row],
          people: Rows, tables: WorkspaceTables, fx: FxTable,
          decimal: str) -> tuple[Key, float] | None:
    """One kept row as a fact key and value, or ``None``: every bad cell of the row is in the
    report (a row with a bad account, date and value is three problems, not the first)."""
    left_out = False

    def problem(kind: str, message: str, hint: str, record: str | None = None, *,
                fatal: bool = True) -> None:
        nonlocal left_out
        left_out = left_out or fatal
        report.problem(kind, message, file=export, line=line, record=record, hint=hint)

    account_cell = cells[col[fmap.account]].strip()
    account = _resolve_account(account_cell, fmap.account_by, accounts, crm_keys)
    if isinstance(account, str):
        problem("account", f"account {account_cell!r}: {account}; row left out",
                "import the account first, or map the column that holds its id", account_cell)
    date_cell = cells[col[fmap.date]].strip()
    period = period_of(date_cell, fmap.period, fmap.date_format)
    if period is None:
        problem("date", f"date {date_cell!r} does not parse; row left out",
                "write 2026-07-15, or set date_format: in the facts map (e.g. '%d.%m.%Y')")
    value_cell = cells[col[fmap.value]].strip()
    try:
        value = parse_number(value_cell, decimal)
    except ValueError:
        value = None
    if value is None:
        problem("number", f"value {value_cell!r} is not a number; row left out",
                "write a plain number like 1250.50")
    metric = fmap.metric or ""
    if fmap.metric_column:
        cell = cells[col[fmap.metric_column]].strip()
        metric = fmap.metric_values.get(cell, cell.lower())
        if metric not in tables.metrics:
            problem("metric", f"{cell!r} names no metric; row left out",
                    "map it with metric_values: in the facts map")
    code = None
    if fmap.currency:
        cell = cells[col[fmap.currency]].strip()
        if cell:
            code = currency_code(cell)
            if code is None:
                problem("currency", f"currency {cell!r} is not an ISO 4217 code or name; row "
                        "left out", "write a code such as EUR or a name such as 'US Dollar'")
    owner = ""
    if fmap.owner:
        cell = cells[col[fmap.owner]].strip()
        if cell:
            person, why = people.resolve(cell, fmap.owner_by)
            if person is None:
                problem("owner", f"owner {cell!r}: {why}; the fact is kept without an owner",
                        "add the person to people.csv, or map the column with their id",
                        fatal=False)
            else:
                owner = person.id
    if left_out or isinstance(account, str) or period is None or value is None:
        return None
    # account rows carry their table row in ``line`` (see _account_rows)
    acc_currency = (tables.accounts.text("currency")[account.line].as_py()
                    or tables.settings.currency)
    if code is not None and code != acc_currency.upper():
        try:
            value *= (fx.rate(code, period) / fx.rate(acc_currency.upper(), period))
        except KamError as exc:
            problem("currency", f"{exc.message}; row left out", exc.hint or "")
            return None
    return (account.id, period.label, metric, owner), value


def _resolve_account(text: str, mode: str, accounts: Rows,
                     crm_keys: dict[str, Row]) -> Row | str:
    """The account a cell names, or why there is none."""
    if not text:
        return "empty cell"
    if mode in ("crm", "auto"):
        found = crm_keys.get(accounts.id_key(text))
        if found is not None:
            return found
        if mode == "crm":
            return "no account kept this CRM id (crm: columns)"
    row, why = accounts.resolve(text, "auto" if mode == "crm" else mode)
    return row if row is not None else why or "not found"


#: Date formats tried when the map names none: ISO first, then CRM report styles.
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d")


def period_of(text: str, grain: str, fmt: str | None = None) -> Period | None:
    """The month, quarter or year a date falls in (``None`` when it does not parse).

    >>> period_of("2026-07-15", "quarter").label, period_of("7/15/2026", "month").label
    ('2026Q3', '2026-07')
    """
    day: date | None = None
    if fmt:
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            return None
    else:
        try:
            day = datetime.fromisoformat(text).date()
        except ValueError:
            for candidate in DATE_FORMATS[1:]:
                try:
                    day = datetime.strptime(text, candidate).date()
                    break
                except ValueError:
                    continue
    if day is None:
        return None
    label = {"month": f"{day.year:04d}-{day.month:02d}",
             "quarter": f"{day.year:04d}Q{(day.month - 1) // 3 + 1}",
             "year": f"{day.year:04d}"}[grain]
    return parse_period(label)


def currency_code(text: str) -> str | None:
    """An ISO 4217 code from a code (``usd``) or an English name (``US Dollar``), else None.

    >>> currency_code("US Dollar"), currency_code("eur"), currency_code("Dragon gold")
    ('USD', 'EUR', None)
    """
    from kamcore.models.codes import currency_codes

    if text.strip().upper() in currency_codes():
        return text.strip().upper()
    import pycountry

    try:
        found = pycountry.currencies.lookup(text.strip())
    except LookupError:
        return None
    return str(found.alpha_3)


def _merge(path: Path, source: str, totals: dict[Key, float],
           report: FactsReport) -> tuple[list[str], list[list[str]]]:
    """The facts file after this import: other sources' rows as they were, then ours."""
    from kamcore.workspace.csvio import format_cell
    from kamcore.workspace.facts import read_fact_rows

    header, old = (read_fact_rows(path) if path.exists() else (list(WRITTEN_COLUMNS), []))
    header = header + [c for c in WRITTEN_COLUMNS if c not in header]
    at = {name: i for i, name in enumerate(header)}
    kept: list[list[str]] = []
    for line, cells in old:
        cells = cells + [""] * (len(header) - len(cells))
        if cells[at["source"]].strip() == source:
            report.replaced += 1
            continue
        kept.append(cells)
        key = (cells[at["account"]].strip(), cells[at["period"]].strip(),
               cells[at["metric"]].strip().lower(), cells[at["owner"]].strip())
        if key in totals:
            report.problem("duplicate", f"{key[2]} of {key[0]} in {key[1]} is also in the "
                           f"facts from {cells[at['source']] or 'another source'!r}: a rollup "
                           "refuses two rows for one account, period, metric and owner",
                           file=str(path), line=line, record=key[0],
                           hint="remove one of them, or give this import's rows an owner")
    report.kept_from_others = len(kept)
    for (account, period, metric, owner), value in totals.items():
        row = [""] * len(header)
        row[at["account"]], row[at["period"]], row[at["metric"]] = account, period, metric
        row[at["value"]], row[at["owner"]], row[at["source"]] = format_cell(value), owner, source
        kept.append(row)
    return header, kept


def write_facts_import(result: FactsImport, *, report_format: str = "md") -> Path:
    """Write the facts file and the report beside it, each atomically.

    :returns: the report's path.
    """
    from kamcore.atomic import atomic_write_text
    from kamcore.workspace.facts import write_fact_rows

    write_fact_rows(result.path, result.header, result.rows)
    folder = result.path.parent
    report = result.report
    name = "facts-import-report." + ("json" if report_format == "json" else "md")
    atomic_write_text(folder / name, report.to_json() if report_format == "json"
                      else report.to_markdown())
    return folder / name


__all__ = ["FactsImport", "FactsReport", "currency_code", "import_facts", "period_of",
           "write_facts_import"]
