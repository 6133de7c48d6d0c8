"""Accounts from a CRM table: ids, parents, fields, tiers given by a column, records.

Split from :mod:`.engine`, which runs the whole import; this module knows one account row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kamcore.importers.countries import resolve_country
from kamcore.importers.industries import industry_normalizer
from kamcore.importers.mapping import AccountMap
from kamcore.importers.report import ImportReport
from kamcore.importers.rows import (
    ID_OK,
    Progress,
    cut_loops,
    make_id,
    name_key,
    parse_number,
    resolve_reference,
    with_progress,
)
from kamcore.importers.tiers import tier_from_value
from kamcore.models import Tier
from kamcore.models.codes import currency_codes

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.importers.csvread import ExportColumns
    from kamcore.registry import Registry


@dataclass
class AccountRows:
    """The usable account rows as columns, in file order (a million rows: no object each).

    :ivar source: each usable row's row in the file's table (:meth:`column` reads through it).
    :ivar parent: each row's parent row (-1: a top-level account), loops cut.
    """

    file: str
    header: list[str]
    ids: list[str]
    keys: list[str]
    names: list[str]
    lines: list[int]
    parent: np.ndarray
    source: np.ndarray
    table: ExportColumns
    id_key: Callable[[str], str] = str
    _by_key: dict[str, int] | None = None
    _by_name: dict[str, list[int]] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def cells(self, name: str) -> pa.Array:
        """One column's cells (null: empty), a cell per usable row."""
        import pyarrow as pa

        return self.table.column(name).take(pa.array(self.source))

    def column(self, name: str) -> list[str]:
        """One column's cells as written ("" when empty), a cell per usable row."""
        return self.cells(name).fill_null("").to_pylist()

    @property
    def parent_ids(self) -> list[str | None]:
        return [None if up < 0 else self.ids[up] for up in self.parent.tolist()]

    def resolve(self, text: str, mode: str) -> tuple[int | None, str | None]:
        """The row ``text`` refers to (by id, name or either), or ``None`` and why."""
        if self._by_key is None:
            self._by_key = {key: row for row, key in enumerate(self.keys)}
        if self._by_name is None and mode != "id":
            self._by_name = {}
            for row, name in enumerate(self.names):
                self._by_name.setdefault(name_key(name), []).append(row)
        by_name: dict[str, list[int]] = self._by_name or {}
        return resolve_reference(text, mode, self._by_key, by_name, self.id_key,
                                 self.lines.__getitem__)


def read_accounts(table: ExportColumns, amap: AccountMap, report: ImportReport,
                  id_key: Callable[[str], str], progress: Progress | None,
                  id_keys: Callable[[Sequence[str]], list[str | None]] | None = None
                  ) -> AccountRows:
    """The usable account rows, with parents resolved (by id, name or both) and loops cut.

    Rows without an id (or a name, when ids come from names), with an invalid or duplicate id
    are reported with their line and left out; a parent that cannot be found or that closes a
    loop is reported and the account becomes a top-level one. Column by column: only the rows
    with something to report are looked at one by one, and the problems are reported in row
    order, as a row-by-row pass would.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.exporters.columns import mask
    from kamcore.structure import row_of
    from kamcore.textcolumns import py_stripped

    file = str(table.path)
    n = len(table)
    lines_of_all = [line or 0 for line in table.line_of_row()]
    names_all = (py_stripped(table.column(amap.name)).fill_null("").to_pylist() if amap.name
                 else [""] * n)
    later: list[tuple[int, str, str, str | None, str | None]] = []  # row, kind, text, record, hint
    if amap.id:
        aids = py_stripped(table.column(amap.id)).fill_null("").to_pylist()
        keys: list[str | None] = id_keys(aids) if id_keys is not None else (
            list(aids) if id_key is str.strip else [None] * n)
        usable = np.ones(n, dtype=bool)
        for i in [i for i, (aid, key) in enumerate(zip(aids, keys, strict=True))
                  if key is None or not aid]:
            aid = aids[i]
            if not aid:
                later.append((i, "unusable", "account without an id; skipped",
                              names_all[i] or None, "give it an id in the CRM"))
                usable[i] = False
                continue
            try:
                keys[i] = id_key(aid)
            except ValueError as exc:
                later.append((i, "unusable", f"{aid!r} is not a valid id ({exc}); skipped",
                              names_all[i] or None, None))
                usable[i] = False
        breaks = mask(pc.match_substring_regex(pa.array(aids, pa.string()), "[,\\n\\r]"))
        for i in np.flatnonzero(usable & breaks).tolist():
            if not ID_OK.match(aids[i]):  # ID_OK on a stripped cell: no comma, no line break
                later.append((i, "unusable", f"{aids[i]!r} cannot be an id (commas, line "
                              "breaks); skipped", None, None))
                usable[i] = False
        rows = np.flatnonzero(usable)
        found = pa.array([keys[i] for i in rows.tolist()], pa.string())
        first = row_of(found, found)
        for at in np.flatnonzero(first != np.arange(len(rows))).tolist():
            i, was = int(rows[at]), int(rows[first[at]])
            later.append((i, "unusable", f"id {aids[i]!r} is already used on line "
                          f"{lines_of_all[was]}; skipped", aids[i],
                          "merge the duplicates in the CRM"))
            usable[i] = False
        source = np.flatnonzero(usable)
        ids = [aids[i] for i in source.tolist()]
        key_list = [keys[i] for i in source.tolist()]
    else:
        taken: set[str] = set()
        kept: list[int] = []
        ids = []
        for i, name in enumerate(names_all):
            if not name:
                later.append((i, "unusable", "account without a name (ids are made from "
                              "names); skipped", None, None))
                continue
            kept.append(i)
            ids.append(make_id(name, taken, "ACC", lines_of_all[i]))
        source = np.array(kept, dtype=np.int64)
        key_list = list(ids)
    names = []
    for i, aid in zip(source.tolist(), ids, strict=True):
        name = names_all[i]
        if not name:
            later.append((i, "value", "no name; the id is used as its name", aid, None))
        names.append(name or aid)
    later.sort(key=lambda p: p[0])
    for i, kind, message, record, hint in later:
        report.problem(kind, message, file=file, line=lines_of_all[i], record=record,
                       hint=hint)
    lines = [lines_of_all[i] for i in source.tolist()]
    accounts = AccountRows(file, list(table.header), ids, key_list,  # type: ignore[arg-type]
                           names, lines, np.full(len(ids), -1, dtype=np.int64),
                           source.astype(np.int64), table, id_key)
    if amap.parent:
        _parents(accounts, amap, report, id_keys)
    for loop, cut in cut_loops(accounts.parent, lines):
        report.problem("loop", "parent loop " + " -> ".join([ids[r] for r in [*loop, loop[0]]])
                       + f"; {ids[cut]} imported as a top-level account", file=file,
                       line=lines[cut], record=ids[cut], hint="fix the parents in the CRM")
    return accounts


def _parents(accounts: AccountRows, amap: AccountMap, report: ImportReport,
             id_keys: Callable[[Sequence[str]], list[str | None]] | None) -> None:
    """Each account's parent row, by id through one hash look-up for the whole column; by
    name, and every parent that is not found, one at a time."""
    import numpy as np
    import pyarrow as pa

    from kamcore.structure import row_of
    from kamcore.textcolumns import py_stripped

    assert amap.parent
    ups = py_stripped(accounts.cells(amap.parent)).fill_null("").to_pylist()
    found = np.full(len(ups), -1, dtype=np.int64)
    if amap.parent_by in ("id", "auto"):
        if id_keys is not None:
            keys = id_keys(ups)
        elif accounts.id_key is str.strip:
            keys = list(ups)
        else:
            keys = [None] * len(ups)
        found = row_of(pa.array(accounts.keys, pa.string()),
                       pa.array([k or None for k in keys], pa.string()))
    for i in [i for i, up in enumerate(ups) if up and found[i] < 0]:
        target, why = accounts.resolve(ups[i], amap.parent_by)
        if target is None and ups[i].startswith("@"):  # a data tree's "@AccountRef9"
            why = "a dangling reference: no record of the tree has this referenceId"
        if target is None:
            report.problem("parent", f"parent {ups[i]!r} not found ({why}); imported as a "
                           "top-level account", file=accounts.file, line=accounts.lines[i],
                           record=accounts.ids[i],
                           hint="fix the parent in the CRM or in accounts.csv")
        else:
            found[i] = target
    accounts.parent[:] = found


def map_fields(accounts: AccountRows, amap: AccountMap, countries: Mapping[str, str],
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

    n = len(accounts)
    file = accounts.file
    later: list[tuple[int, int, str, str, str | None]] = []  # row, slot, kind, message, hint
    records: list[dict[str, Any]] = [
        {"id": aid, "name": name, "parent": up, "ext": {}}
        for aid, name, up in with_progress(list(zip(accounts.ids, accounts.names,
                                                     accounts.parent_ids, strict=True)),
                                           "mapping accounts", progress)]
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
        report.problem(kind, message, file=file, line=accounts.lines[i],
                       record=accounts.ids[i], hint=hint)
    data = dict(zip(accounts.ids, records, strict=True))
    return data, codes, revenue, fixed


def _countries(accounts: AccountRows, column: str, countries: Mapping[str, str],
               report: ImportReport) -> list[str | None]:
    """Each row's country code; every cell that is not already a code is noted (with its
    lines) for the report, in the order the cells first appear."""
    overrides = {k.strip().lower(): v.strip().upper() for k, v in countries.items()}
    seen: dict[str, tuple[str | None, str, str | None, list[int] | None]] = {}
    out: list[str | None] = []
    for line, cell in zip(accounts.lines, accounts.column(column), strict=True):
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
            hit[3].append(line)
        out.append(hit[0])
    for text, (code, status, hint, lines) in seen.items():
        if lines:
            report.country(text, code, status, hint, *lines)
    return out


def _industries(accounts: AccountRows, column: str, registry: Registry | None,
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
