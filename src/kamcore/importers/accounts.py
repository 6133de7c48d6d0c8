"""Accounts from a CRM table: ids, parents, fields, tiers given by a column, records.

Split from :mod:`.engine`, which runs the whole import; this module knows one account row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

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
)
from kamcore.importers.tiers import tier_from_value
from kamcore.models.codes import currency_codes

_V = TypeVar("_V")

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.importers.csvread import ExportColumns
    from kamcore.registry import Registry


@dataclass
class AccountRows:
    """The usable account rows as columns, in file order (a million rows: no object each).

    :ivar id_column: each row's id; ``key_column`` its matching key; ``name_column`` its name.
    :ivar line_array: the line each row starts on.
    :ivar source: each usable row's row in the file's table (:meth:`column` reads through it).
    :ivar parent: each row's parent row (-1: a top-level account), loops cut.
    """

    file: str
    header: list[str]
    id_column: pa.Array
    key_column: pa.Array
    name_column: pa.Array
    line_array: np.ndarray
    parent: np.ndarray
    source: np.ndarray
    table: ExportColumns
    id_key: Callable[[str], str] = str
    _by_key: dict[str, int] | None = None
    _by_name: dict[str, list[int]] | None = None
    _stripped: dict[str, pa.Array] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.id_column)

    @cached_property
    def ids(self) -> list[str]:
        return self.id_column.to_pylist()

    @cached_property
    def names(self) -> list[str]:
        return self.name_column.to_pylist()

    @cached_property
    def lines(self) -> list[int]:
        return self.line_array.tolist()

    def cells(self, name: str) -> pa.Array:
        """One column's cells (null: empty), a cell per usable row."""
        import pyarrow as pa

        column = self.table.column(name)
        if len(self.source) == len(column):  # every row usable: the rows are the file's
            return column
        return column.take(pa.array(self.source))

    def stripped(self, name: str) -> pa.Array:
        """:meth:`cells` as Python's ``str.strip`` leaves them (null: empty), made once a
        column (the reading of the rows, their fields and accounts.csv all ask)."""
        from kamcore.textcolumns import py_stripped

        found = self._stripped.get(name)
        if found is None:
            found = self._stripped[name] = py_stripped(self.cells(name))
        return found

    def column(self, name: str) -> list[str]:
        """One column's cells as written ("" when empty), a cell per usable row."""
        return self.cells(name).fill_null("").to_pylist()

    def parent_ids(self) -> pa.Array:
        """Each row's parent's id (null: a top-level account)."""
        import pyarrow as pa

        return self.id_column.take(pa.array(self.parent, mask=self.parent < 0))

    def resolve(self, text: str, mode: str) -> tuple[int | None, str | None]:
        """The row ``text`` refers to (by id, name or either), or ``None`` and why."""
        if self._by_key is None:
            self._by_key = {key: row for row, key in enumerate(self.key_column.to_pylist())}
        return resolve_reference(text, mode, self._by_key, self._names_indexed, self.id_key,
                                 self.lines.__getitem__)

    def _names_indexed(self) -> dict[str, list[int]]:
        """The rows by :func:`~.rows.name_key` of their names (made on the first look-up)."""
        if self._by_name is None:
            self._by_name = {}
            for row, name in enumerate(self.names):
                self._by_name.setdefault(name_key(name), []).append(row)
        return self._by_name


def read_accounts(table: ExportColumns, amap: AccountMap, report: ImportReport,
                  id_key: Callable[[str], str], progress: Progress | None,
                  id_keys: Callable[[Sequence[str]], list[str | None]] | None = None,
                  id_key_column: Callable[[pa.Array], pa.Array] | None = None
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

    from kamcore.exporters.columns import mask, patched
    from kamcore.structure import linked_rows
    from kamcore.textcolumns import any_byte_of, py_stripped

    file = str(table.path)
    n = len(table)
    lines_of_all = np.array([line or 0 for line in table.line_of_row()], dtype=np.int64)
    stripped = {c: py_stripped(table.column(c)) for c in (amap.name, amap.id, amap.parent) if c}
    names_all = (stripped[amap.name].fill_null("") if amap.name
                 else pa.array([""] * n, pa.string()))
    later: list[tuple[int, str, str, str | None, str | None]] = []  # row, kind, text, record, hint
    parent_rows: np.ndarray | None = None  # each usable row's parent row by id (-1: not found)
    if amap.id:
        aids = stripped[amap.id].fill_null("")
        keys = _key_column(aids, id_key, id_keys, id_key_column)
        usable = np.ones(n, dtype=bool)
        asked: list[int] = []
        answers: list[str] = []
        for i in np.flatnonzero(mask(pc.equal(aids, "")) | ~mask(pc.is_valid(keys))).tolist():
            aid, name = aids[i].as_py(), names_all[i].as_py()
            if not aid:
                later.append((i, "unusable", "account without an id; skipped", name or None,
                              "give it an id in the CRM"))
                usable[i] = False
                continue
            try:
                answers.append(id_key(aid))
                asked.append(i)
            except ValueError as exc:
                later.append((i, "unusable", f"{aid!r} is not a valid id ({exc}); skipped",
                              name or None, None))
                usable[i] = False
        keys = patched(keys, np.array(asked, dtype=np.int64), answers)
        breaks = (mask(pc.match_substring_regex(aids, "[,\\n\\r]"))
                  if any_byte_of(aids, b",\n\r") else np.zeros(n, dtype=bool))
        for i in np.flatnonzero(usable & breaks).tolist():
            aid = aids[i].as_py()
            if not ID_OK.match(aid):  # ID_OK on a stripped cell: no comma, no line break
                later.append((i, "unusable", f"{aid!r} cannot be an id (commas, line "
                              "breaks); skipped", None, None))
                usable[i] = False
        rows = np.flatnonzero(usable)
        found = _at(keys, rows)
        # parents by id: linked in the same hash pass as the ids (a duplicate's first row is
        # kept, so a parent's row is a usable one)
        ups = (_at(_key_column(stripped[amap.parent].fill_null(""), id_key, id_keys,
                               id_key_column), rows)
               if amap.parent and amap.parent_by in ("id", "auto") else None)
        first, links = linked_rows(found, *([ups] if ups is not None else []))
        for at in np.flatnonzero(first != np.arange(len(rows))).tolist():
            i, was = int(rows[at]), int(rows[first[at]])
            aid = aids[i].as_py()
            later.append((i, "unusable", f"id {aid!r} is already used on line "
                          f"{lines_of_all[was]}; skipped", aid, "merge the duplicates in the CRM"))
            usable[i] = False
        source = np.flatnonzero(usable)
        if links:
            stays = usable[rows]
            at_source = np.cumsum(stays) - 1  # each of ``rows``' place among the usable ones
            parent_rows = np.where(links[0] >= 0, at_source[np.maximum(links[0], 0)], -1)[stays]
        ids = _at(aids, source)
        key_column = _at(keys, source)
    else:
        taken: set[str] = set()
        kept: list[int] = []
        made: list[str] = []
        for i, name in enumerate(names_all.to_pylist()):
            if not name:
                later.append((i, "unusable", "account without a name (ids are made from "
                              "names); skipped", None, None))
                continue
            kept.append(i)
            made.append(make_id(name, taken, "ACC", int(lines_of_all[i])))
        source = np.array(kept, dtype=np.int64)
        ids = key_column = pa.array(made, pa.string())
    names = _at(names_all, source)
    unnamed = mask(pc.equal(names, ""))
    for at in np.flatnonzero(unnamed).tolist():
        later.append((int(source[at]), "value", "no name; the id is used as its name",
                      ids[at].as_py(), None))
    if unnamed.any():
        names = pc.if_else(pa.array(unnamed), ids, names)
    later.sort(key=lambda p: p[0])
    for i, kind, message, record, hint in later:
        report.problem(kind, message, file=file, line=int(lines_of_all[i]), record=record,
                       hint=hint)
    lines = lines_of_all[source]
    accounts = AccountRows(file, list(table.header), ids, key_column, names, lines,
                           np.full(len(ids), -1, dtype=np.int64), source.astype(np.int64),
                           table, id_key)
    if len(source) == n:  # every row usable: the columns stripped here are the rows'
        accounts._stripped.update(stripped)
    if amap.parent:
        _parents(accounts, amap, report, id_keys, id_key_column, parent_rows)
    for loop, cut in cut_loops(accounts.parent, accounts.line_array):
        named = [ids[r].as_py() for r in [*loop, loop[0]]]
        report.problem("loop", "parent loop " + " -> ".join(named) + f"; {ids[cut].as_py()} "
                       "imported as a top-level account", file=file, line=int(lines[cut]),
                       record=ids[cut].as_py(), hint="fix the parents in the CRM")
    return accounts


def _at(column: pa.Array, rows: np.ndarray) -> pa.Array:
    """``column``'s cells at ``rows`` (ascending); the column itself when they are all."""
    import pyarrow as pa

    return column if len(rows) == len(column) else column.take(pa.array(rows))


def _key_column(texts: pa.Array, id_key: Callable[[str], str],
                id_keys: Callable[[Sequence[str]], list[str | None]] | None,
                id_key_column: Callable[[pa.Array], pa.Array] | None) -> pa.Array:
    """Each stripped cell's id key, for the whole column at once where the importer can;
    null where the caller must ask ``id_key`` cell by cell (or the cell is empty)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if id_key_column is not None:
        keys = id_key_column(texts)
    elif id_keys is not None:
        keys = pa.array(id_keys(texts.to_pylist()), pa.string())
    elif id_key is str.strip:  # the cells are stripped already
        keys = texts
    else:
        return pa.nulls(len(texts), pa.string())
    return pc.if_else(pc.equal(texts, ""), pa.scalar(None, pa.string()), keys)


def _parents(accounts: AccountRows, amap: AccountMap, report: ImportReport,
             id_keys: Callable[[Sequence[str]], list[str | None]] | None,
             id_key_column: Callable[[pa.Array], pa.Array] | None,
             by_id: np.ndarray | None = None) -> None:
    """Each account's parent row, by id through one hash look-up for the whole column; by
    name, and every parent that is not found, one at a time.

    :param by_id: each row's parent row by id (-1: not found) when the caller linked them.
    """
    import numpy as np
    import pyarrow.compute as pc

    from kamcore.exporters.columns import mask
    from kamcore.structure import row_of

    assert amap.parent
    ups = accounts.stripped(amap.parent).fill_null("")
    found = np.full(len(ups), -1, dtype=np.int64)
    if by_id is not None:
        found = by_id
    elif amap.parent_by in ("id", "auto"):
        found = row_of(accounts.key_column,
                       _key_column(ups, accounts.id_key, id_keys, id_key_column))
    for i in np.flatnonzero(mask(pc.not_equal(ups, "")) & (found < 0)).tolist():
        up = ups[i].as_py()
        target, why = accounts.resolve(up, amap.parent_by)
        if target is None and up.startswith("@"):  # a data tree's "@AccountRef9"
            why = "a dangling reference: no record of the tree has this referenceId"
        if target is None:
            report.problem("parent", f"parent {up!r} not found ({why}); imported as a "
                           "top-level account", file=accounts.file,
                           line=int(accounts.line_array[i]),
                           record=accounts.id_column[i].as_py(),
                           hint="fix the parent in the CRM or in accounts.csv")
        else:
            found[i] = target
    accounts.parent[:] = found


@dataclass
class MappedFields:
    """The accounts' field values by row, as :func:`map_fields` worked them out.

    :ivar text: text columns by field (country, industry, currency and the plugin fields'
        ``namespace.name``), null where a row has none.
    :ivar metrics: each metric's numbers (null: none), scaled.
    :ivar country: each row's country code, for tier inference.
    :ivar revenue: each row's revenue (0.0: none).
    :ivar fixed: each row's tier rank as a column gives it (-1: none, inferred).
    """

    text: dict[str, pa.Array]
    metrics: dict[str, pa.Array]
    country: pa.Array
    revenue: np.ndarray
    fixed: np.ndarray


def map_fields(accounts: AccountRows, amap: AccountMap, countries: Mapping[str, str],
               registry: Registry | None, report: ImportReport, decimal: str,
               progress: Progress | None) -> MappedFields:
    """Each account's field values (country, industry, currency, metrics, plugin fields), and
    the tiers a column gives; every value that cannot be used is reported.

    Column by column (a cell's meaning is worked out once per distinct text); the problems
    are reported in row order, as a row-by-row pass would.
    """
    import numpy as np
    import pyarrow as pa


    n = len(accounts)
    file = accounts.file
    later: list[tuple[int, int, str, str, str | None]] = []  # row, slot, kind, message, hint
    none = pa.nulls(n, pa.string())
    text: dict[str, pa.Array] = {}
    text["country"] = (_countries(accounts, amap.country, countries, report) if amap.country
                       else none)
    if amap.industry:
        text["industry"] = _industries(accounts, amap.industry, registry, report)
    if amap.currency:
        currencies = currency_codes()
        cells = accounts.stripped(amap.currency).fill_null("")

        def currency(cell: str) -> str | None:
            return (cell.upper() or None) if cell.upper() in currencies else None

        codes, found = _per_distinct(cells, currency)
        wrong = np.flatnonzero([bool(c.upper()) and f is None for c, f in zip(
            cells.dictionary_encode().dictionary.to_pylist(), found, strict=True)])
        for i in np.flatnonzero(np.isin(codes, wrong)).tolist():
            later.append((i, 0, "value", f"currency {cells[i].as_py().upper()!r} is not an "
                          "ISO 4217 code; left empty", None))
        text["currency"] = _taken(found, codes)
    metrics: dict[str, pa.Array] = {}
    for slot, (metric, column) in enumerate(amap.metrics.items(), start=1):
        numbers, bad = _numbers(accounts.cells(column), decimal)
        for i, cell in bad:
            later.append((i, slot, "value", f"{column} {cell!r} is not a number; left "
                          "empty", None))
        factor = amap.scale.get(metric, 1.0)
        metrics[metric] = numbers if factor == 1.0 else pa.array(
            numbers.to_numpy(zero_copy_only=False) * factor, from_pandas=True)
    for target, column in amap.fields.items():  # plugin fields: kept as written
        cells = accounts.stripped(column)
        text[target] = _empty_as_null(cells)
    revenue = (metrics["revenue"].fill_null(0.0).to_numpy(zero_copy_only=False).astype(
        np.float64) if "revenue" in metrics else np.zeros(n, dtype=np.float64))
    fixed = np.full(n, -1, dtype=np.int8)
    if amap.tier:
        cells = accounts.cells(amap.tier).fill_null("")
        codes, tiers = _per_distinct(cells, lambda v: tier_from_value(v, amap.tier_values))
        ranks = np.array([-1 if t is None else t.rank for t in tiers], dtype=np.int8)
        fixed = ranks[codes] if n else fixed
        words = cells.dictionary_encode().dictionary.to_pylist()
        for i in np.flatnonzero(fixed < 0).tolist():
            word = words[codes[i]].strip()
            if word:
                later.append((i, len(amap.metrics) + 1, "tier",
                              f"{amap.tier} {word!r} maps to no tier; inferred instead",
                              f"add --tier-map '{word}=TIER'"))
    later.sort(key=lambda p: (p[0], p[1]))
    for i, _slot, kind, message, hint in later:
        report.problem(kind, message, file=file, line=int(accounts.line_array[i]),
                       record=accounts.id_column[i].as_py(), hint=hint)
    return MappedFields(text, metrics, text["country"], revenue, fixed)


def _empty_as_null(cells: pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.if_else(pc.equal(cells, ""), pa.scalar(None, pa.string()), cells)


def _per_distinct(cells: pa.Array, meaning: Callable[[str], _V]) -> tuple[np.ndarray, list[_V]]:
    """What each distinct cell means (worked out once each, in order of first appearance),
    and each row's index into those."""
    import numpy as np

    encoded = cells.dictionary_encode()
    values = [meaning(v) for v in encoded.dictionary.to_pylist()]
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), values


#: A number pyarrow converts exactly as ``float()`` does (both round correctly).
_PLAIN = "^-?[0-9]+(\\.[0-9]+)?([eE][+-]?[0-9]+)?$"


def _numbers(cells: pa.Array, decimal: str) -> tuple[pa.Array, list[tuple[int, str]]]:
    """Each cell's number (:func:`parse_number`; null: empty) and the cells that are not
    numbers; plain numbers are converted for the whole column, the rest one by one."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.exporters.columns import mask

    n = len(cells)
    out = np.full(n, np.nan)
    plain = (mask(pc.match_substring_regex(cells, _PLAIN)) if decimal == "."
             else np.zeros(n, dtype=bool))
    if plain.any():
        at = np.flatnonzero(plain)
        picked = cells if len(at) == n else cells.take(pa.array(at))  # all: no copy
        out[at] = pc.cast(picked, pa.float64()).to_numpy(zero_copy_only=False)
        plain[at[~np.isfinite(out[at])]] = False  # overflow: parse_number says what
    given = plain.copy()
    bad: list[tuple[int, str]] = []
    rest = np.flatnonzero(~plain & mask(pc.is_valid(cells)))
    for i, cell in zip(rest.tolist(), cells.take(pa.array(rest)).to_pylist(), strict=True):
        try:
            number = parse_number(cell, decimal)
        except ValueError:
            bad.append((i, cell))
            continue
        if number is not None:
            out[i], given[i] = number, True
    return pa.array(out, mask=~given), bad


def _countries(accounts: AccountRows, column: str, countries: Mapping[str, str],
               report: ImportReport) -> pa.Array:
    """Each row's country code; every cell that is not already a code is noted (with its
    lines) for the report, in the order the cells first appear."""
    import numpy as np

    from kamcore.structure import stable_order

    overrides = {k.strip().lower(): v.strip().upper() for k, v in countries.items()}

    def meaning(text: str) -> tuple[str | None, str, str | None]:
        if not text:
            return None, "code", None
        code = overrides.get(text.lower())
        if code is not None:
            return code, "mapped", None
        match = resolve_country(text)
        return match.code, match.status, match.hint

    cells = accounts.stripped(column).fill_null("")
    codes, found = _per_distinct(cells, meaning)
    noted = [d for d, (_code, status, _hint) in enumerate(found) if status != "code"]
    if noted:
        order = stable_order(codes, len(found))
        starts = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=len(found)))))
        lines = accounts.line_array
        words = cells.dictionary_encode().dictionary.to_pylist()
        for d in noted:
            code, status, hint = found[d]
            report.country(words[d], code, status, hint,
                           *lines[order[starts[d]: starts[d + 1]]].tolist())
    return _taken([code for code, _status, _hint in found], codes)


def _taken(values: list[str | None], codes: np.ndarray) -> pa.Array:
    """``values[code]`` for each row's code, as a string column (null: none or empty)."""
    import pyarrow as pa

    return pa.array([v or None for v in values], pa.string()).take(pa.array(codes))


def _industries(accounts: AccountRows, column: str, registry: Registry | None,
                report: ImportReport) -> pa.Array:
    """Each row's canonical industry; the spellings of each are counted for the report."""
    import numpy as np


    industry_of = industry_normalizer(registry)
    cells = accounts.stripped(column).fill_null("")
    codes, found = _per_distinct(cells, industry_of)
    counts = np.bincount(codes, minlength=len(found)).tolist()
    for text, canonical, count in zip(cells.dictionary_encode().dictionary.to_pylist(), found,
                                      counts, strict=True):
        if canonical:
            spellings = report.industries.get(canonical)
            if spellings is None:
                spellings = report.industries[canonical] = Counter()
            spellings[text] += count
    return _taken(found, codes)
