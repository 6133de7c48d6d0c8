"""From CRM tables to an :class:`~kamcore.org.Org`, with a report of every decision.

One engine serves every CRM: the Salesforce and HubSpot importers only choose the columns (and
Salesforce its id matching). Nothing is lost: a column no field uses is kept per record in
``Account.extra``; a mapped cell whose text differs from what kamcore stores ("Germany" for DE,
a 15-character ParentId) is kept as ``crm:<column>``, so an export can write the original back
while it still means the same thing.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kamcore.errors import Location, WorkspaceError
from kamcore.importers.countries import resolve_country
from kamcore.importers.industries import industry_normalizer
from kamcore.importers.mapping import AccountMap, PersonMap, TeamMap, check_country_codes
from kamcore.importers.report import ImportReport, InferredTier
from kamcore.importers.rows import (
    ID_OK,
    Row,
    Rows,
    break_loops,
    make_id,
    parse_number,
    read_rows,
    with_progress,
)
from kamcore.importers.tiers import default_threshold, infer_tiers, tier_from_value
from kamcore.models import Account, Person, Tier
from kamcore.models.codes import currency_codes
from kamcore.workspace.csvio import format_cell
from kamcore.workspace.loader import ACCOUNT_COLUMNS, PERSON_COLUMNS

if TYPE_CHECKING:
    from kamcore.org import Org
    from kamcore.registry import Registry

Progress = Callable[[Iterable[Any], int, str], Iterable[Any]]
RAW_PREFIX = "crm:"


@dataclass
class ImportOptions:
    """Choices that are not about columns.

    :param source: shown in the report ("salesforce", "hubspot", "csv").
    :param name: the org's name in kam.yaml.
    :param currency: reporting currency; by default the accounts' most common one, else USD.
    :param key_revenue: revenue that makes a leaf account key when tiers are inferred; ``None``
        takes the top 10 % of accounts by revenue.
    :param countries: cell -> alpha-2 code, for names the importer cannot map by itself.
    :param id_key: turns an id cell into the key ids are matched by (Salesforce: 15-char form).
    """

    source: str = "csv"
    name: str | None = None
    currency: str | None = None
    key_revenue: float | None = None
    countries: dict[str, str] = field(default_factory=dict)
    id_key: Callable[[str], str] = str.strip
    validate: bool = True
    progress: Progress | None = None


@dataclass
class ImportResult:
    org: Org
    report: ImportReport
    #: The CRM's column layout, written to crm.yaml so an export can restore it.
    layout: dict[str, Any]


def check_columns(header: list[str], wanted: dict[str, str], path: str) -> None:
    """Every column a mapping names must be in the file. :raises WorkspaceError:"""
    import difflib

    for target, column in wanted.items():
        if column not in header:
            close = difflib.get_close_matches(column, header, n=1)
            hint = (f"did you mean {close[0]!r}?" if close else
                    "the header is: " + ", ".join(header[:20]))
            raise WorkspaceError(f"column {column!r} (for {target}) is not in the file",
                                 location=Location(path, 1), hint=hint)


def kept_column(header: str, metrics: Iterable[str]) -> str:
    """The workspace column for an unmapped CRM column (renamed only when it would clash)."""
    if header in ACCOUNT_COLUMNS or header in PERSON_COLUMNS or header in set(metrics) or (
            "." in header or header.startswith(RAW_PREFIX)):
        return RAW_PREFIX + header.replace(".", "_")
    return header


def build_org(accounts_path: str, amap: AccountMap, *, options: ImportOptions,
              registry: Registry | None = None, people_path: str | None = None,
              pmap: PersonMap | None = None, team_path: str | None = None,
              team_map: TeamMap | None = None) -> ImportResult:
    """Read CRM exports and build an org (nothing is written).

    :raises WorkspaceError: a file cannot be read or lacks a mapped column.
    """
    with paused_gc():
        return _build(accounts_path, amap, options=options, registry=registry,
                      people_path=people_path, pmap=pmap, team_path=team_path,
                      team_map=team_map)


@contextmanager
def paused_gc() -> Iterator[None]:
    """The import makes millions of small acyclic objects; Python's cycle collector would
    rescan the growing heap again and again (more than half the time at 100k accounts)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _build(accounts_path: str, amap: AccountMap, *, options: ImportOptions,
           registry: Registry | None, people_path: str | None, pmap: PersonMap | None,
           team_path: str | None, team_map: TeamMap | None) -> ImportResult:
    from kamcore.importers.people import add_team, assign_owners, read_people
    from kamcore.org import Org
    from kamcore.settings import Settings, WorkspaceMetric

    if options.currency and options.currency.strip().upper() not in currency_codes():
        raise WorkspaceError(f"--currency {options.currency!r} is not an ISO 4217 code",
                             hint="e.g. EUR, USD, GBP")
    report = ImportReport(source=options.source)
    table, decimal = read_rows(accounts_path, report, "accounts")
    cols = amap.columns()
    check_columns(table.header, cols, accounts_path)
    report.mapped_columns = dict(cols)
    metric_names = list(amap.metrics)
    kept = [h for h in table.header if h not in cols.values()]
    report.kept_columns = kept
    file = accounts_path

    accounts = Rows(file=file, id_key=options.id_key)
    taken: set[str] = set()
    for line, values in with_progress(table.rows, "reading accounts", options.progress):
        cells = dict(zip(table.header, values, strict=True))
        name = cells[amap.name].strip() if amap.name else ""
        if amap.id:
            aid = cells[amap.id].strip()
            if not aid:
                report.problem("unusable", "account without an id; skipped", file=file,
                               line=line, record=name or None, hint="give it an id in the CRM")
                continue
            try:
                key = options.id_key(aid)
            except ValueError as exc:
                report.problem("unusable", f"{aid!r} is not a valid id ({exc}); skipped",
                               file=file, line=line, record=name or None)
                continue
            if not ID_OK.match(aid):
                report.problem("unusable", f"{aid!r} cannot be an id (commas, line breaks); "
                               "skipped", file=file, line=line)
                continue
        elif name:
            aid = key = make_id(name, taken, "ACC", line)
        else:
            report.problem("unusable", "account without a name (ids are made from names); "
                           "skipped", file=file, line=line)
            continue
        if key in accounts.by_key:
            first = accounts.by_key[key]
            report.problem("unusable", f"id {aid!r} is already used on line {first.line}; "
                           "skipped", file=file, line=line, record=aid,
                           hint="merge the duplicates in the CRM")
            continue
        if not name:
            report.problem("value", "no name; the id is used as its name", file=file,
                           line=line, record=aid)
        row = Row(line, aid, key, name or aid, cells)
        row.up_raw = cells[amap.parent].strip() if amap.parent else ""
        accounts.add(row)

    by_id = {r.id: r for r in accounts.rows}
    for row in accounts.rows:
        if not row.up_raw:
            continue
        target, why = accounts.resolve(row.up_raw, amap.parent_by)
        if target is None:
            report.problem("parent", f"parent {row.up_raw!r} not found ({why}); imported as a "
                           "top-level account", file=file, line=row.line, record=row.id,
                           hint="fix the parent in the CRM or in accounts.csv")
        else:
            row.up = target.id
    for loop, cut in break_loops(accounts.rows, by_id):
        report.problem("loop", "parent loop " + " -> ".join([*loop, loop[0]])
                       + f"; {cut} imported as a top-level account", file=file,
                       line=by_id[cut].line, record=cut, hint="fix the parents in the CRM")

    # -- people ---------------------------------------------------------------------------
    people_rows = Rows(file=people_path or "", id_key=options.id_key)
    people_data: dict[str, dict[str, Any]] = {}
    people_kept: list[str] = []
    people_header: list[str] = []
    if people_path and pmap is not None:
        people_rows, people_data, people_header = read_people(
            people_path, pmap, report, options.id_key, check_columns)
        people_kept = [h for h in people_header if h not in pmap.columns().values()]

    # -- fields ---------------------------------------------------------------------------
    try:
        check_country_codes(options.countries)
    except ValueError as exc:
        raise WorkspaceError(f"--country {exc}", hint="write VALUE=CODE, e.g. "
                             "'Phillippines=PH'") from None
    overrides = {k.strip().lower(): v.strip().upper() for k, v in options.countries.items()}
    industry_of = industry_normalizer(registry)
    currencies = currency_codes()
    fixed: dict[str, Tier] = {}
    data: dict[str, dict[str, Any]] = {}
    country: dict[str, str | None] = {}
    revenue: dict[str, float] = {}
    for row in with_progress(accounts.rows, "mapping accounts", options.progress):
        cells = row.cells
        record: dict[str, Any] = {"id": row.id, "name": row.name, "parent": row.up, "ext": {}}
        code = None
        if amap.country:
            text = cells[amap.country].strip()
            if text:
                code = overrides.get(text.lower())
                if code is not None:
                    report.country(text, code, "mapped", None, row.line)
                else:
                    match = resolve_country(text)
                    code = match.code
                    if match.status != "code":
                        report.country(text, code, match.status, match.hint, row.line)
        record["country"] = country[row.id] = code
        if amap.industry:
            text = cells[amap.industry].strip()
            canonical = industry_of(text)
            if canonical:
                spellings = report.industries.get(canonical)
                if spellings is None:
                    spellings = report.industries[canonical] = Counter()
                spellings[text] += 1
            record["industry"] = canonical
        if amap.currency:
            text = cells[amap.currency].strip().upper()
            if text and text not in currencies:
                report.problem("value", f"currency {text!r} is not an ISO 4217 code; left "
                               "empty", file=file, line=row.line, record=row.id)
                text = ""
            record["currency"] = text or None
        metrics: dict[str, float] = {}
        for metric, column in amap.metrics.items():
            try:
                number = parse_number(cells[column], decimal)
            except ValueError:
                report.problem("value", f"{column} {cells[column]!r} is not a number; left "
                               "empty", file=file, line=row.line, record=row.id)
                continue
            if number is not None:
                metrics[metric] = number
        record["metrics"] = metrics
        revenue[row.id] = metrics.get("revenue", 0.0)
        if amap.tier:
            text = cells[amap.tier]
            tier = tier_from_value(text, amap.tier_values)
            if tier is not None:
                fixed[row.id] = tier
            elif text.strip():
                report.problem("tier", f"{amap.tier} {text.strip()!r} maps to no tier; "
                               "inferred instead", file=file, line=row.line, record=row.id,
                               hint=f"add --tier-map '{text.strip()}=TIER'")
        data[row.id] = record

    threshold = options.key_revenue
    if threshold is None:
        threshold = default_threshold(list(revenue.values()))
    guesses = infer_tiers([r.id for r in accounts.rows], {r.id: r.up for r in accounts.rows},
                          country, revenue, threshold=threshold, fixed=fixed)
    report.tier_source = (f"from column {amap.tier!r}, inferred where it names no tier"
                          if amap.tier else "inferred from the account tree")
    report.key_revenue = threshold
    for row in accounts.rows:
        guess = guesses[row.id]
        data[row.id]["tier"] = guess.tier
        if row.id not in fixed:
            report.tiers.append(InferredTier(row.id, row.name, guess.tier, guess.reason,
                                             row.line))

    # -- owners ---------------------------------------------------------------------------
    owners = [(row.id, row.line, row.cells[amap.manager].strip() if amap.manager else "")
              for row in accounts.rows]
    assign_owners(owners, amap.manager_by, data, people_rows, people_data, report,
                  options.id_key, has_people_file=bool(people_path))

    if team_path and team_map is not None:
        add_team(team_path, team_map, report, accounts, people_rows, people_data, data)

    # -- records --------------------------------------------------------------------------
    reserved = set(metric_names) | (set(registry.metrics) if registry is not None else
                                    {"revenue", "orders", "receivables"})
    kept_as = [(h, kept_column(h, reserved)) for h in kept]
    raw_as = [(target, column, RAW_PREFIX + column.replace(".", "_"))
              for target, column in cols.items()]
    built: dict[str, Account] = {}
    for row in with_progress(accounts.rows, "building accounts", options.progress):
        record = data[row.id]
        cells = row.cells
        extra = {name: value for h, name in kept_as if (value := cells[h].strip())}
        for target, column, name in raw_as:
            raw = cells[column].strip()
            if raw and raw != _canonical(record, target):
                extra[name] = raw
        record["extra"] = extra
        # Every field was checked above (id pattern, ISO codes, finite numbers, tier), so the
        # record is built without a second validation: a third of the time at 100k accounts.
        # kamcore.load validates the written workspace in full (tested to give equal records).
        built[row.id] = Account.model_construct(**record)
    people: dict[str, Person] = {}
    pcols = pmap.columns() if pmap is not None else {}
    for pid, record in people_data.items():
        prow = _row_of(people_rows, pid)
        if prow is not None:
            extra = {kept_column(h, ()): prow.cells[h] for h in people_kept if prow.cells[h]}
            for target, column in pcols.items():
                raw = prow.cells[column].strip()
                if raw and raw != _canonical(record, target):
                    extra[RAW_PREFIX + column.replace(".", "_")] = raw
            record["extra"] = extra
        try:
            people[pid] = Person.model_validate(record)
        except ValidationError as exc:
            err = exc.errors()[0]
            report.problem("unusable", f"{'.'.join(map(str, err['loc']))}: {err['msg']}; "
                           "skipped", file=people_path, line=prow.line if prow else None,
                           record=pid)

    currency = (options.currency or _most_common(a.currency for a in built.values())
                or "USD").strip().upper()
    known = set(registry.metrics) if registry is not None else {"revenue", "orders",
                                                                "receivables"}
    settings = Settings(
        name=options.name or f"Imported from {options.source}", currency=currency,
        metrics={m: WorkspaceMetric(label=m.replace("_", " ").capitalize(), aggregation="sum")
                 for m in metric_names if m not in known})
    org = Org(settings=settings, accounts=built, people=people, registry=registry)
    org.layout["accounts"] = _layout(ACCOUNT_COLUMNS, metric_names, kept, cols, built,
                                     reserved)
    org.layout["people"] = _layout(PERSON_COLUMNS, [], people_kept, pcols, people)
    report.accounts, report.people = len(built), len(people)
    layout = {
        "source": options.source,
        "accounts": {"file": accounts_path, "columns": _crm_columns(table.header, cols,
                                                                     reserved),
                     "tier_values": {k: v.value for k, v in amap.tier_values.items()},
                     "parent_by": amap.parent_by},
        "countries": dict(options.countries),
        "decimal": decimal,
    }
    if people_path and pmap is not None:
        layout["people"] = {"file": people_path,
                            "columns": _crm_columns(people_header, pcols, [])}
    if options.validate:
        from kamcore.validation import validate

        counts = Counter(f.severity.value for f in validate(org))
        report.findings = {k: counts.get(k, 0) for k in ("error", "warning", "info")}
    return ImportResult(org, report, layout)


def _row_of(rows: Rows, pid: str) -> Row | None:
    try:
        row = rows.by_key.get(rows.id_key(pid))
    except ValueError:
        return None
    return row if row is not None and row.id == pid else None


def _canonical(record: dict[str, Any], target: str) -> str:
    """The text kamcore stores for a field, to compare with the CRM's cell."""
    value = record[target] if target in record else record.get("metrics", {}).get(target)
    if value.__class__ is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return ""
    if isinstance(value, Tier):
        return value.value
    return format_cell(value)


def _most_common(values: Iterable[str | None]) -> str | None:
    counts = Counter(v for v in values if v)
    return counts.most_common(1)[0][0] if counts else None


def _layout(core: tuple[str, ...], metrics: list[str], kept: list[str], cols: dict[str, str],
            records: dict[str, Any], reserved: Iterable[str] = ()) -> list[str]:
    reserved = set(reserved) | set(metrics)
    out = list(core) + metrics + [kept_column(h, reserved) for h in kept]
    raw = [RAW_PREFIX + c.replace(".", "_") for c in cols.values()]
    used = {k for r in records.values() for k in r.extra}
    return out + [c for c in raw if c in used]


def _crm_columns(header: list[str], cols: dict[str, str], metrics: Iterable[str]) -> list[
        dict[str, str]]:
    by_header = {h: f for f, h in cols.items()}
    out = []
    for h in header:
        if h in by_header:
            out.append({"header": h, "field": by_header[h]})
        else:
            out.append({"header": h, "column": kept_column(h, metrics)})
    return out
