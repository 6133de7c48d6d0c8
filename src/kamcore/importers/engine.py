"""From CRM tables to an :class:`~kamcore.org.Org`, with a report of every decision.

One engine serves every CRM: the Salesforce and HubSpot importers only choose the columns (and
Salesforce its id matching). Nothing is lost: a column no field uses is kept per record in
``Account.extra``; a mapped cell whose text differs from what kamcore stores ("Germany" for DE,
a 15-character ParentId) is kept as ``crm:<column>``, so an export can write the original back
while it still means the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kamcore.errors import WorkspaceError
from kamcore.importers.accounts import AccountRows, map_fields, read_accounts
from kamcore.importers.finish import (
    AccountColumns,
    account_columns,
    extend_layout,
    import_tables,
    people_org,
)
from kamcore.importers.mapping import AccountMap, PersonMap, TeamMap, check_country_codes
from kamcore.importers.people import add_team, assign_owners, read_people
from kamcore.importers.report import ImportReport, InferredTiers, LazyLines
from kamcore.importers.rows import (
    RAW_PREFIX,
    Progress,
    Row,
    Rows,
    canonical_text,
    check_columns,
    kept_column,
    read_columns,
)
from kamcore.importers.tiers import TIERS, default_threshold, infer_tier_columns
from kamcore.models import Person
from kamcore.models.codes import currency_codes
from kamcore.perf import paused_gc
from kamcore.workspace.loader import PERSON_COLUMNS

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.findings import FindingTable
    from kamcore.importers.accounts import AccountRows
    from kamcore.org import Org
    from kamcore.registry import Registry
    from kamcore.workspace.tables import WorkspaceTables



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
    #: ``id_key`` of many stripped cells at once, ``None`` where it raises (optional: speed).
    id_keys: Callable[[Sequence[str]], list[str | None]] | None = None
    #: ``id_keys`` of a column of stripped cells, as a column (null where it raises; speed).
    id_key_column: Callable[[pa.Array], pa.Array] | None = None
    validate: bool = True
    progress: Progress | None = None


@dataclass
class ImportResult:
    """What an import made, nothing written yet.

    The accounts are kept as columns (:attr:`accounts`) and as the tables ``kam validate``
    reads (:attr:`tables`); :attr:`org` builds the object model from those tables on first
    use. Once it is built, :func:`~kamcore.importers.write_import` writes the org (with any
    change a caller made to it); until then it writes the columns.
    """

    report: ImportReport
    #: The CRM's column layout, written to crm.yaml so an export can restore it.
    layout: dict[str, Any]
    #: The accounts and people as the reader gives them from the files to be written.
    tables: WorkspaceTables
    #: The accounts' cells as accounts.csv will hold them.
    accounts: AccountColumns
    #: The people, as records (few), with their layout.
    people: Org
    _org: Org | None = field(default=None, repr=False)

    @property
    def org(self) -> Org:
        """The imported org as objects (built from :attr:`tables` the first time)."""
        if self._org is None:
            from kamcore.workspace.objects import org_from_tables

            org = org_from_tables(self.tables)
            org.layout["accounts"] = list(self.accounts.layout)
            org.layout["people"] = list(self.people.layout["people"])
            self._org = org
        return self._org

    @property
    def org_built(self) -> bool:
        """Whether :attr:`org` was asked for (and so may have been changed)."""
        return self._org is not None


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


def _build(accounts_path: str, amap: AccountMap, *, options: ImportOptions,
           registry: Registry | None, people_path: str | None, pmap: PersonMap | None,
           team_path: str | None, team_map: TeamMap | None) -> ImportResult:
    import numpy as np
    import pyarrow as pa

    from kamcore.settings import Settings, WorkspaceMetric

    if options.currency and options.currency.strip().upper() not in currency_codes():
        raise WorkspaceError(f"--currency {options.currency!r} is not an ISO 4217 code",
                             hint="e.g. EUR, USD, GBP")
    try:
        check_country_codes(options.countries)
    except ValueError as exc:
        raise WorkspaceError(f"--country {exc}", hint="write VALUE=CODE, e.g. "
                             "'Phillippines=PH'") from None
    report = ImportReport(source=options.source)
    table, decimal = read_columns(accounts_path, report, "accounts")
    amap = amap.with_plugin_columns(table.header, registry)
    cols = amap.columns()
    check_columns(table.header, cols, accounts_path)
    report.mapped_columns = dict(cols)
    metric_names = list(amap.metrics)
    kept = [h for h in table.header if h not in cols.values()]
    report.kept_columns = kept
    accounts = read_accounts(table, amap, report, options.id_key, options.progress,
                             options.id_keys, options.id_key_column)

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
    fields = map_fields(accounts, amap, options.countries, registry, report, decimal,
                        options.progress)
    header_currency = _currency_of_amounts(amap, options, report)

    threshold = options.key_revenue
    if threshold is None:
        threshold = default_threshold(fields.revenue)
    ids = accounts.id_column
    guesses = infer_tier_columns(ids, accounts.parent, fields.country, fields.revenue,
                                 threshold=threshold, fixed=fields.fixed)
    report.tier_source = (f"from column {amap.tier!r}, inferred where it names no tier"
                          if amap.tier else "inferred from the account tree")
    report.key_revenue = threshold
    free = np.flatnonzero(fields.fixed < 0)
    inferred = pa.array(free)

    def of_inferred(column: pa.Array) -> pa.Array:  # every account's tier inferred: all
        return column if len(free) == len(column) else column.take(inferred)

    tiers = pa.array([t.value for t in TIERS], pa.string()).take(pa.array(guesses.tier))
    report.tiers = InferredTiers(
        of_inferred(ids), of_inferred(accounts.name_column), of_inferred(tiers),
        of_inferred(guesses.reason), accounts.line_array[free])

    # -- owners ---------------------------------------------------------------------------

    owners = (accounts.stripped(amap.manager) if amap.manager
              else pa.nulls(len(accounts), pa.string()))
    managers = assign_owners(owners, accounts.line_array, guesses.tier, amap.manager_by,
                             people_rows, people_data, report, options.id_key,
                             has_people_file=bool(people_path),
                             id_key_column=options.id_key_column)

    if team_path and team_map is not None:
        add_team(team_path, team_map, report, accounts, people_rows, people_data, managers)

    # -- records --------------------------------------------------------------------------
    reserved = set(metric_names) | (set(registry.metrics) if registry is not None else
                                    {"revenue", "orders", "receivables"})
    kept_as = [(h, kept_column(h, reserved)) for h in kept]
    raw_as = [(target, column, RAW_PREFIX + column.replace(".", "_"))
              for target, column in cols.items()]
    pcols = pmap.columns() if pmap is not None else {}
    columns = account_columns(accounts, fields, tiers, managers, header_currency, kept_as,
                              raw_as, metric_names, kept, cols, reserved)
    people = _build_people(people_data, people_rows, pmap, people_kept, report, people_path)
    _tier_role_conflicts(report, of_inferred(managers), guesses.tier[free], people,
                         accounts_path)

    currency = (options.currency or _most_common(columns.cells["currency"])
                or header_currency or "USD").strip().upper()
    known = set(registry.metrics) if registry is not None else {"revenue", "orders",
                                                                "receivables"}
    settings = Settings(
        name=options.name or f"Imported from {options.source}", currency=currency,
        metrics={m: WorkspaceMetric(label=m.replace("_", " ").capitalize(), aggregation="sum")
                 for m in metric_names if m not in known})
    used = {k for p in people.values() for k in p.extra}
    staff = people_org(settings, people, extend_layout(PERSON_COLUMNS, [], people_kept, pcols,
                                                       used), registry)
    tables = import_tables(settings, columns, staff, registry)
    _link_parents(tables, accounts, columns.cells["parent"])
    report.accounts, report.people = len(columns), len(people)
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
        from kamcore.findings import FindingTable
        from kamcore.validation import validate_columns

        found = validate_columns(tables)
        report.findings = found.counts()
        report.finding_codes = _code_counts(found)

        def lines(rows: Sequence[int]) -> list[str]:  # made when read: Markdown shows 50
            chosen = FindingTable(found.table.take(pa.array(rows, pa.int64()))).findings()
            names = _names_of(chosen, people, accounts)
            return [_named_finding(names, f) for f in chosen]

        report.finding_lines = LazyLines(len(found), lambda i: lines([i])[0], lines)
    return ImportResult(report, layout, tables, columns, staff)


def _link_parents(tables: WorkspaceTables, accounts: AccountRows, parent_ids: pa.Array) -> None:
    """The rules link each account to its parent by hashing the ids; the import linked them
    reading the export. They are handed over when the reading rules left the accounts as the
    import made them (every row, no id or parent cell changed): the same links, one hash
    pass fewer."""
    from kamcore.structure import link_accounts

    table = tables.accounts
    if (len(table) == len(accounts) and tables.contacts is None
            and table.ids.equals(accounts.id_column) and table.text("parent").equals(parent_ids)):
        link_accounts(tables, accounts.parent)


#: Currency signs a header may use instead of a code.
_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY"}


def _currency_of_amounts(amap: AccountMap, options: ImportOptions, report: ImportReport
                         ) -> str | None:
    """The currency the amounts are in when no currency column says it: the one code the
    metric headers name ("Annual Revenue (EUR)", "revenue in USD millions"), else ``--currency``.
    Said at the top of the report either way; with neither, the USD assumption is said there.
    """
    if amap.currency:
        return None
    codes = currency_codes()
    named: dict[str, str] = {}
    for column in amap.metrics.values():
        words = re.findall(r"(?<![A-Za-z])([A-Z]{3})(?![A-Za-z])", column)
        found = {w for w in words if w in codes} | {c for s, c in _SIGNS.items() if s in column}
        if len(found) == 1:
            named.setdefault(found.pop(), column)
    given = options.currency.strip().upper() if options.currency else None
    if len(named) == 1:
        code, column = next(iter(named.items()))
        if given and given != code:
            report.problem("currency", f"the header {column!r} names {code}, but --currency "
                           f"is {given}: amounts are read as {code} and not converted",
                           file=report.files.get("accounts"),
                           hint="check which is right; kam rollup converts with fx.csv")
        report.notes.append(f"currency: amounts are in {code}, as the header {column!r} says")
        return code
    if len(named) > 1:
        report.problem("currency", "the headers name several currencies ("
                       + ", ".join(f"{c} in {h!r}" for c, h in named.items())
                       + "); amounts are not converted", file=report.files.get("accounts"),
                       hint="map a currency column, or import each currency's columns apart")
    if given:
        report.notes.append(f"currency: amounts are in {given} (--currency)")
        return given
    if amap.metrics:
        report.notes.append("currency: no currency column, none named in the headers and no "
                            "--currency: amounts are taken as USD (pass --currency CODE if "
                            "they are not)")
    return None


def _tier_role_conflicts(report: ImportReport, managers: pa.Array, ranks: np.ndarray,
                         people: dict[str, Person], path: str) -> None:
    """An inferred tier whose owner's role cannot hold it (a national account owned by an
    AM) is a problem the report explains now, rather than a bare KAM107 after the import.

    :param managers: the manager of each account of ``report.tiers``, in its order;
        ``ranks``: the tier rank of each (:data:`~.tiers.TIERS`).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.models import ROLES_FOR_TIER, Role

    tiers = report.tiers
    if not isinstance(tiers, InferredTiers) or not len(tiers):
        return
    # Whether a role can hold a tier is judged once per (role, tier); each account's owner
    # gives its role (-1: no owner, or not a person).
    roles = list(Role)
    unfit = np.array([[role is not Role.SUPPORT and role not in ROLES_FOR_TIER[tier]
                       for tier in TIERS] for role in roles], dtype=bool)
    owner = pc.dictionary_encode(managers)
    owner_ids = owner.dictionary.to_pylist()
    role_of = np.array([roles.index(people[pid].role) if pid in people else -1
                        for pid in owner_ids], dtype=np.int64)
    codes = owner.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    role = np.where(codes >= 0, role_of[np.maximum(codes, 0)] if len(role_of) else -1, -1)
    rows = np.flatnonzero((role >= 0) & unfit[np.maximum(role, 0), ranks])
    if not len(rows):
        return
    # the texts are made per (tier, role) and per owner: 30,000 problems at 1M accounts
    messages = [[f"tier {tier.value} inferred, but the owner is {r.value.upper()}: rule "
                 "KAM107 will flag it" for r in roles] for tier in TIERS]
    hints = ["give tiers with --tier-from COLUMN (or a tier: column in the map), or make the "
             "owner a " + " or ".join(sorted(r.value.upper() for r in ROLES_FOR_TIER[tier]))
             for tier in TIERS]
    owner_names = [people[pid].name if pid in people else "" for pid in owner_ids]
    index = pa.array(rows)
    for record, name, rank, line, code, their in zip(
            tiers.record.take(index).to_pylist(), tiers.name.take(index).to_pylist(),
            ranks[rows].tolist(), tiers.line[rows].tolist(), codes[rows].tolist(),
            role[rows].tolist(), strict=True):
        report.problem("tier", messages[rank][their], file=path, line=line or None,
                       record=f"{record} ({name}, owner {owner_names[code]})", hint=hints[rank])


def _code_counts(found: FindingTable) -> dict[str, int]:
    """How many findings of each code, in the order the codes first appear."""
    import pyarrow.compute as pc

    counted = pc.value_counts(found.column("code"))  # in order of first appearance
    return dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(),
                    strict=True))


def _named_finding(names: dict[str, str], finding: Any) -> str:
    """A finding for the import report, with the account's or person's name beside its id
    (CRM ids such as 001Dn000003IFA say nothing to a reader)."""
    subject = finding.subject or ""
    name = names.get(subject)
    who = f"{subject} ({name})" if name is not None and name != subject else subject
    message = finding.message
    if "'" in message:  # ids the message quotes ('005Dn00000Ux013IAB') get their names too
        message = _QUOTED_ID.sub(lambda m: _with_name(names, m), message)
    return f"{finding.code} {finding.severity.value} {who}: {message}".replace("  ", " ")


_QUOTED_ID = re.compile(r"'([^'\s]+)'")


def _names_of(findings: Sequence[Any], people: dict[str, Person],
              accounts: AccountRows) -> dict[str, str]:
    """The names of the people and accounts ``findings`` name (their subjects and the ids their
    messages quote): one lookup in the id column, not a dict of a million accounts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = {f.subject for f in findings if f.subject}
    for finding in findings:
        if "'" in finding.message:
            wanted.update(_QUOTED_ID.findall(finding.message))
    names = {pid: people[pid].name for pid in wanted if pid in people}
    if wanted:
        rows = pc.indices_nonzero(pc.is_in(accounts.id_column,
                                           value_set=pa.array(sorted(wanted), pa.string())))
        names.update(zip(accounts.id_column.take(rows).to_pylist(),
                         accounts.name_column.take(rows).to_pylist(), strict=True))
    return names


def _with_name(names: dict[str, str], match: re.Match[str]) -> str:
    name = names.get(match.group(1))
    return f"{match.group(0)} ({name})" if name is not None and name != match.group(1) \
        else match.group(0)


def _build_people(people_data: dict[str, dict[str, Any]], people_rows: Rows,
                  pmap: PersonMap | None, people_kept: list[str], report: ImportReport,
                  people_path: str | None) -> dict[str, Person]:
    """Person records (validated: few, and their values come from free-form cells)."""
    people: dict[str, Person] = {}
    pcols = pmap.columns() if pmap is not None else {}
    kept_as = [(kept_column(h, ()), h) for h in people_kept]  # worked out once, not per person
    raw_as = [(target, column, RAW_PREFIX + column.replace(".", "_"))
              for target, column in pcols.items()]
    for pid, record in people_data.items():
        prow = _row_of(people_rows, pid)
        if prow is not None:
            cells = prow.cells
            extra = {name: cells[h] for name, h in kept_as if cells[h]}
            for target, column, name in raw_as:
                raw = cells[column].strip()
                if raw and raw != canonical_text(record, target):
                    extra[name] = raw
            record["extra"] = extra
        try:
            people[pid] = Person.model_validate(record)
        except ValidationError as exc:
            for err in exc.errors():  # every bad cell, not only the first
                report.problem("unusable", f"{'.'.join(map(str, err['loc']))}: {err['msg']}; "
                               "skipped", file=people_path, line=prow.line if prow else None,
                               record=pid)
    return people


def _row_of(rows: Rows, pid: str) -> Row | None:
    try:
        row = rows.by_key.get(rows.id_key(pid))
    except ValueError:
        return None
    # Line 0: a placeholder the import made (a manager without a row), no cells of its own.
    return row if row is not None and row.id == pid and row.line else None


def _most_common(values: pa.Array) -> str | None:
    """The most common non-empty value (the first to appear of the most common ones)."""
    import pyarrow.compute as pc

    found = pc.value_counts(values.drop_null())
    best: str | None = None
    top = 0
    for value, count in zip(found.field("values").to_pylist(),
                            found.field("counts").to_pylist(), strict=True):
        if value and count > top:
            best, top = value, count
    return best


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
