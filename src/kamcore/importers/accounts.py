"""Accounts from a CRM table: ids, parents, fields, tiers given by a column, records.

Split from :mod:`.engine`, which runs the whole import; this module knows one account row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kamcore.importers.countries import resolve_country
from kamcore.importers.industries import industry_normalizer
from kamcore.importers.mapping import AccountMap
from kamcore.importers.report import ImportReport
from kamcore.importers.rows import (
    ID_OK,
    Progress,
    Row,
    Rows,
    break_loops,
    make_id,
    parse_number,
    with_progress,
)
from kamcore.importers.tiers import tier_from_value
from kamcore.models import Tier
from kamcore.models.codes import currency_codes
from kamcore.workspace.csvio import Table

if TYPE_CHECKING:
    import numpy as np

    from kamcore.registry import Registry


def read_accounts(table: Table, amap: AccountMap, report: ImportReport,
                  id_key: Callable[[str], str], progress: Progress | None,
                  id_keys: Callable[[Sequence[str]], list[str | None]] | None = None) -> Rows:
    """The usable account rows, with parents resolved (by id, name or both) and loops cut.

    Rows without an id (or a name, when ids come from names), with an invalid or duplicate id
    are reported with their line and left out; a parent that cannot be found or that closes a
    loop is reported and the account becomes a top-level one.
    """
    file = str(table.path)
    accounts = Rows(file=file, id_key=id_key, header=list(table.header))
    taken: set[str] = set()
    keys: list[str | None] = []
    index = {h: i for i, h in enumerate(table.header)}
    id_at = index[amap.id] if amap.id else -1
    name_at = index[amap.name] if amap.name else -1
    parent_at = index[amap.parent] if amap.parent else -1
    if amap.id and id_keys is not None:
        keys = id_keys([values[id_at].strip() for _line, values in table.rows])
    for number, (line, values) in enumerate(with_progress(table.rows, "reading accounts",
                                                          progress)):
        name = values[name_at].strip() if name_at >= 0 else ""
        if amap.id:
            aid = values[id_at].strip()
            if not aid:
                report.problem("unusable", "account without an id; skipped", file=file,
                               line=line, record=name or None, hint="give it an id in the CRM")
                continue
            found = keys[number] if keys else None
            try:
                key = found if found is not None else id_key(aid)
            except ValueError as exc:
                report.problem("unusable", f"{aid!r} is not a valid id ({exc}); skipped",
                               file=file, line=line, record=name or None)
                continue
            # ID_OK on a stripped cell: no comma, no line break (a quick test first)
            if ("," in aid or "\n" in aid or "\r" in aid) and not ID_OK.match(aid):
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
        row = Row(line, aid, key, name or aid, {}, values=values)
        row.up_raw = values[parent_at].strip() if parent_at >= 0 else ""
        accounts.add(row)

    by_id = {r.id: r for r in accounts.rows}
    for row in accounts.rows:
        if not row.up_raw:
            continue
        target, why = accounts.resolve(row.up_raw, amap.parent_by)
        if target is None and row.up_raw.startswith("@"):  # a data tree's "@AccountRef9"
            why = "a dangling reference: no record of the tree has this referenceId"
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
    return accounts


def map_fields(accounts: Rows, amap: AccountMap, countries: Mapping[str, str],
               registry: Registry | None, report: ImportReport, decimal: str,
               progress: Progress | None) -> tuple[
                   dict[str, dict[str, Any]], list[str | None], np.ndarray, np.ndarray]:
    """Each account's record data (country, industry, currency, metrics), and the tiers a
    column gives; every value that cannot be used is reported.

    Column by column (a cell's meaning is worked out once per distinct text); the problems
    are reported in row order, as a row-by-row pass would.

    :returns: ``(data by account id, country, revenue, tier ranks a column fixes)``, the
        last three by row (revenue 0.0 and rank -1 where none).
    """
    import numpy as np

    rows = accounts.rows
    n = len(rows)
    file = accounts.file
    later: list[tuple[int, int, str, str, str | None]] = []  # row, slot, kind, message, hint
    records: list[dict[str, Any]] = [
        {"id": row.id, "name": row.name, "parent": row.up, "ext": {}}
        for row in with_progress(rows, "mapping accounts", progress)]
    codes: list[str | None] = (_countries(accounts, amap.country, countries, report)
                               if amap.country else [None] * n)
    for record, code in zip(records, codes, strict=True):
        record["country"] = code
    if amap.industry:
        for record, canonical in zip(records, _industries(accounts, amap.industry, registry,
                                                          report), strict=True):
            record["industry"] = canonical
    if amap.currency:
        currencies = currency_codes()
        for i, (cell, record) in enumerate(zip(accounts.column(amap.currency), records,
                                               strict=True)):
            text = cell.strip().upper()
            if text and text not in currencies:
                later.append((i, 0, "value", f"currency {text!r} is not an ISO 4217 code; "
                              "left empty", None))
                text = ""
            record["currency"] = text or None
    metrics: list[dict[str, float]] = [{} for _ in range(n)]
    for slot, (metric, column) in enumerate(amap.metrics.items(), start=1):
        factor = amap.scale.get(metric, 1.0)
        for i, cell in enumerate(accounts.column(column)):
            try:
                number = parse_number(cell, decimal)
            except ValueError:
                later.append((i, slot, "value", f"{column} {cell!r} is not a number; left "
                              "empty", None))
                continue
            if number is not None:
                metrics[i][metric] = number * factor
    for record, values in zip(records, metrics, strict=True):
        record["metrics"] = values
    for target, column in amap.fields.items():  # plugin fields: kept as written
        namespace, _, name = target.partition(".")
        for cell, record in zip(accounts.column(column), records, strict=True):
            text = cell.strip()
            if text:
                record["ext"].setdefault(namespace, {})[name] = text
    revenue = np.array([values.get("revenue", 0.0) for values in metrics], dtype=np.float64)
    fixed = np.full(n, -1, dtype=np.int8)
    if amap.tier:
        tiers: dict[str, Tier | None] = {}
        for i, text in enumerate(accounts.column(amap.tier)):
            if text not in tiers:
                tiers[text] = tier_from_value(text, amap.tier_values)
            tier = tiers[text]
            if tier is not None:
                fixed[i] = tier.rank
            elif text.strip():
                later.append((i, len(amap.metrics) + 1, "tier",
                              f"{amap.tier} {text.strip()!r} maps to no tier; inferred instead",
                              f"add --tier-map '{text.strip()}=TIER'"))
    later.sort(key=lambda p: (p[0], p[1]))
    for i, _slot, kind, message, hint in later:
        report.problem(kind, message, file=file, line=rows[i].line, record=rows[i].id,
                       hint=hint)
    data = {row.id: record for row, record in zip(rows, records, strict=True)}
    return data, codes, revenue, fixed


def _countries(accounts: Rows, column: str, countries: Mapping[str, str],
               report: ImportReport) -> list[str | None]:
    """Each row's country code; every cell that is not already a code is noted (with its
    lines) for the report, in the order the cells first appear."""
    overrides = {k.strip().lower(): v.strip().upper() for k, v in countries.items()}
    seen: dict[str, tuple[str | None, str, str | None, list[int] | None]] = {}
    out: list[str | None] = []
    for row, cell in zip(accounts.rows, accounts.column(column), strict=True):
        text = cell.strip()
        if not text:
            out.append(None)
            continue
        hit = seen.get(text)
        if hit is None:
            code = overrides.get(text.lower())
            if code is not None:
                hit = (code, "mapped", None, [])
            else:
                match = resolve_country(text)
                hit = (match.code, match.status, match.hint,
                       [] if match.status != "code" else None)
            seen[text] = hit
        if hit[3] is not None:
            hit[3].append(row.line)
        out.append(hit[0])
    for text, (code, status, hint, lines) in seen.items():
        if lines:
            report.country(text, code, status, hint, *lines)
    return out


def _industries(accounts: Rows, column: str, registry: Registry | None,
                report: ImportReport) -> list[str | None]:
    """Each row's canonical industry; the spellings of each are counted for the report."""
    industry_of = industry_normalizer(registry)
    texts = [cell.strip() for cell in accounts.column(column)]
    out = [industry_of(text) for text in texts]
    for (canonical, text), count in Counter(zip(out, texts, strict=True)).items():
        if canonical:
            spellings = report.industries.get(canonical)
            if spellings is None:
                spellings = report.industries[canonical] = Counter()
            spellings[text] += count
    return out
