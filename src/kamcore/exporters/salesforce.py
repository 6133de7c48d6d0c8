"""Accounts as a Salesforce Account CSV that Data Loader accepts (API names as headers).

After a Salesforce import, the workspace's crm.yaml gives the original columns and order, and
each ``crm:<column>`` cell holds the original text of a mapped cell ("Germany" where kamcore
stores DE, a 15-character ParentId). The original is written back while it still means what the
account now holds; once the account changed (moved, re-assigned), kamcore's value is written.
So an untouched round trip gives back every cell, and an edited one exports the edits.

Written from the reader's tables a column at a time: whether an original still holds is
decided per distinct cell (countries, industries, tiers) or vectorised (Salesforce Ids, names,
numbers), with Python only for the few cells no pattern settles.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Any

from kamcore.exporters import columns as cols
from kamcore.exporters.tables import column_of, first_rows
from kamcore.importers.rows import RAW_PREFIX

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.org import Org
    from kamcore.workspace.tables import WorkspaceTables

#: Columns for a workspace that did not come from Salesforce: (header, field). Its ids are
#: not Salesforce Ids, so they go to an External ID field, ``KAM_Id__c``, and the parent is
#: referenced through it (``Parent.KAM_Id__c``, the Bulk API's relationship header): create
#: the custom fields, then *upsert* on KAM_Id__c. Owners are kamcore person ids
#: (``KAM_Owner__c``): a workspace's people have no Salesforce User Ids.
DEFAULT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("KAM_Id__c", "id"), ("Name", "name"), ("Parent.KAM_Id__c", "parent"),
    ("KAM_Owner__c", "manager"), ("Industry", "industry"), ("AnnualRevenue", "revenue"),
    ("NumberOfEmployees", "employees"), ("BillingCountry", "country"),
    ("CurrencyIsoCode", "currency"), ("KAM_Tier__c", "tier"))

_FIELDS = ("id", "name", "tier", "parent", "manager", "country", "industry", "currency")


def export_salesforce(org: Org, layout: Mapping[str, Any] | None = None, *,
                      safe: bool = True) -> str:
    """The Account CSV.

    :param layout: the workspace's crm.yaml (see :func:`kamcore.importers.read_layout`); used
        when it came from Salesforce, else Salesforce's standard columns are written, with
        other metrics as ``KAM_<Metric>__c`` and extra columns as they are.
    :param safe: neutralise formula-like cells (the default: the file is opened in a
        spreadsheet as often as it is loaded). Turn it off for a Data Loader round trip, which
        runs no formulas and would store the quote prefix in Salesforce.
    """
    from kamcore.exporters.tables import tables_of

    return salesforce_text(tables_of(org), layout, safe=safe)


def salesforce_text(tables: WorkspaceTables, layout: Mapping[str, Any] | None = None, *,
                    safe: bool = True) -> str:
    buffer = io.BytesIO()
    write_salesforce(tables, buffer, layout, safe=safe)
    return buffer.getvalue().decode("utf-8")


def write_salesforce(tables: WorkspaceTables, stream: IO[bytes],
                     layout: Mapping[str, Any] | None = None, *, safe: bool = True) -> None:
    """The Account CSV of ``tables`` (see :func:`export_salesforce`), written to ``stream``."""
    import pyarrow as pa

    tier_values: dict[str, str] = {}
    countries: dict[str, str] = {}
    decimal = "."
    view = _Accounts(tables)
    if layout and layout.get("source") == "salesforce":
        accounts_layout = layout.get("accounts") or {}
        columns = list(accounts_layout.get("columns") or [])
        tier_values = dict(accounts_layout.get("tier_values") or {})
        countries = {str(k).strip().lower(): str(v).upper()
                     for k, v in (layout.get("countries") or {}).items()}
        decimal = str(layout.get("decimal") or ".")
        order = None
    else:
        columns = _default_columns(view)
        order = _parents_first(view)
    still = _Meaning(view, tables, tier_values, countries, decimal)
    header = [c["header"] for c in columns]
    cells = []
    for column in columns:
        if "field" in column:
            cell = _field_cells(view, column["field"], column["header"], still)
        else:
            name = column["column"]
            source = view.column(name) if name in view.extra else None
            cell = cols.cell_text(source, view.n)
        cells.append(cell if order is None else cell.take(pa.array(order)))
    cols.write_csv(stream, header, cells, safe=safe)


class _Accounts:
    """The accounts an ``Org`` would hold (first row of each id), column by column."""

    def __init__(self, tables: WorkspaceTables) -> None:
        import pyarrow as pa

        from kamcore.structure import account_index

        self.index = account_index(tables)
        self.rows = first_rows(tables, False)
        data = tables.accounts.table
        self.data = data if len(self.rows) == data.num_rows else data.take(pa.array(self.rows))
        self.n = self.data.num_rows
        self.metrics = [m for m in tables.accounts.metrics if m in self.data.column_names]
        self.extra = [c for c in tables.accounts.extra_columns
                      if "." not in c and c in self.data.column_names]
        self._cache: dict[str, pa.Array | None] = {}

    def column(self, name: str) -> pa.Array | None:
        if name not in self._cache:
            self._cache[name] = column_of(self.data, name)
        return self._cache[name]

    def value(self, field: str) -> pa.Array | None:
        """What ``account.<field>`` (or its metric) holds; ``None``: never anything."""
        if field in _FIELDS:
            return self.column(field)
        if field in self.metrics:
            return self.column(field)
        return None

    @property
    def parent_row(self) -> np.ndarray:
        """Each account's parent as an index into these accounts (-1: none or unknown)."""
        import numpy as np

        position = np.full(len(self.index.first), -1, dtype=np.int64)
        position[self.rows] = np.arange(self.n)
        parent = self.index.parent[self.rows]
        return np.where(parent >= 0, position[np.maximum(parent, 0)], -1)


def _parents_first(view: _Accounts) -> np.ndarray:
    """Accounts top down (a parent before its children), so a serial upsert finds every parent
    by its external id; file order within a parent. Accounts in loops come last, as they are."""
    import numpy as np

    parent = view.parent_row
    n = view.n
    below = np.flatnonzero(parent >= 0)
    by_parent = below[np.argsort(parent[below], kind="stable")]
    keys = parent[by_parent]
    level = np.flatnonzero(parent < 0)
    order = [level]
    reached = len(level)
    while len(level):
        lo = np.searchsorted(keys, level, "left")
        hi = np.searchsorted(keys, level, "right")
        sizes = hi - lo
        total = int(sizes.sum())
        if not total:
            break
        starts = np.repeat(lo - np.concatenate(([0], np.cumsum(sizes)[:-1])), sizes)
        level = by_parent[starts + np.arange(total)]
        order.append(level)
        reached += total
    out = np.concatenate(order)
    if reached < n:
        seen = np.zeros(n, dtype=bool)
        seen[out] = True
        out = np.concatenate((out, np.flatnonzero(~seen)))
    return out


def non_salesforce_ids(org: Org) -> list[str]:
    """Accounts whose id is not a Salesforce Id (created in kamcore after an import)."""
    from kamcore.exporters.tables import tables_of

    return table_non_salesforce_ids(tables_of(org))


def table_non_salesforce_ids(tables: WorkspaceTables) -> list[str]:
    """:func:`non_salesforce_ids` of the reader's tables."""
    import numpy as np

    view = _Accounts(tables)
    ids = view.column("id")
    if ids is None or not view.n:
        return []
    bad = np.flatnonzero(cols.mask(id15_keys(ids).is_null()))
    return [str(v) for v in ids.take(bad).to_pylist()]


def _default_columns(view: _Accounts) -> list[dict[str, str]]:
    import numpy as np

    used_metrics = set()
    for metric in view.metrics:
        values = view.column(metric)
        if values is not None and not np.isnan(
                values.fill_null(np.nan).to_numpy(zero_copy_only=False)).all():
            used_metrics.add(metric)
    columns = [{"header": h, "field": f} for h, f in DEFAULT_COLUMNS
               if f != "employees" or "employees" in used_metrics]
    for metric in sorted(used_metrics - {"revenue", "employees"}):
        columns.append({"header": f"KAM_{metric.title().replace('_', '')}__c",
                        "field": metric})
    firsts = []
    for position, name in enumerate(view.extra):
        if name.startswith(RAW_PREFIX):
            continue
        values = view.column(name)
        if values is None:
            continue
        given = np.flatnonzero(cols.mask(values.is_valid()))
        if len(given):
            firsts.append((int(given[0]), position, name))
    taken = {c["header"] for c in columns}
    columns += [{"header": k, "column": k} for _, _, k in sorted(firsts) if k not in taken]
    return columns


def _field_cells(view: _Accounts, field: str, header: str, still: _Meaning) -> pa.Array:
    """The cells of one mapped column: the original where it still holds, else kamcore's."""
    import numpy as np
    import pyarrow as pa

    value = view.value(field)
    text = cols.cell_text(value, view.n)
    raw_name = RAW_PREFIX + header.replace(".", "_")
    raw = view.column(raw_name) if raw_name in view.extra else None
    if raw is None or field == "id" or raw.null_count == len(raw):
        return text
    raw = raw.cast(pa.string())
    given = np.flatnonzero(cols.mask(raw.is_valid()))
    means = still.means(field, raw.take(pa.array(given)),
                        None if value is None else value.take(pa.array(given)), given)
    keep = np.zeros(view.n, dtype=bool)
    keep[given[means]] = True
    return cols._if_else(pa.array(keep), raw, text)


class _Meaning:
    """Does an original cell still say what the account holds now? (one column at a time)"""

    def __init__(self, view: _Accounts, tables: WorkspaceTables, tier_values: dict[str, str],
                 countries: dict[str, str], decimal: str = ".") -> None:
        from kamcore.importers.industries import industry_normalizer

        self.view = view
        self.tables = tables
        self.decimal = decimal
        self.tier_values = tier_values
        self.countries = countries
        self.industry: Callable[[str], str | None] = industry_normalizer(tables.registry)

    def means(self, field: str, raw: pa.Array, value: pa.Array | None,
              rows: np.ndarray) -> np.ndarray:
        """For each given original cell (of accounts ``rows``), whether it still holds."""
        import numpy as np
        import pyarrow as pa

        if value is None:
            value = pa.nulls(len(raw), pa.string())
        if field in ("parent", "manager"):
            return self._ref(field, raw, value, rows)
        if field in ("country", "industry", "currency", "tier"):
            return self._by_distinct(field, raw, value)
        if field == "name":
            return self._name(raw, value)
        if pa.types.is_floating(value.type) or value.null_count == len(value):
            return self._number(raw, value)
        return np.array([self._python(field, r, v) for r, v in
                         zip(raw.to_pylist(), value.to_pylist(), strict=True)], dtype=bool)

    def _python(self, field: str, raw: str, value: Any) -> bool:
        from kamcore.importers.rows import parse_number

        try:
            return parse_number(raw, self.decimal) == value
        except ValueError:
            return value is None

    # -- references ----------------------------------------------------------------------------

    def _ref(self, field: str, raw: pa.Array, value: pa.Array, rows: np.ndarray) -> np.ndarray:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        view = self.view
        if field == "parent":
            ids, names = view.column("id"), view.column("name")
        else:
            people = self.tables.people
            keep = first_rows(self.tables, True)
            ids = people.ids.take(pa.array(keep))
            names = people.text("name").take(pa.array(keep))
        assert ids is not None and names is not None
        out = np.zeros(len(raw), dtype=bool)
        absent = cols.mask(value.is_null())
        present = ~absent
        if absent.any():
            where = np.flatnonzero(absent)
            target = _lookup(raw.take(pa.array(where)), ids)
            found = target >= 0
            out[where[~found]] = True
            if field == "parent" and found.any():
                parent = view.parent_row
                for i, t in zip(where[found].tolist(), target[found].tolist(), strict=True):
                    out[i] = _below(parent, int(rows[i]), t)
        if present.any():
            where = np.flatnonzero(present)
            r = raw.take(pa.array(where))
            v = value.take(pa.array(where))
            kr, kv = id15_keys(r), id15_keys(v)
            both = pc.and_(kr.is_valid(), kv.is_valid())
            same = pc.if_else(both, pc.equal(kr, kv),
                              pc.equal(_py_strip(r), _py_strip(v)))
            same_mask = cols.mask(same)
            out[where[same_mask]] = True
            rest = np.flatnonzero(~same_mask)
            if len(rest):
                record = cols.mask(pc.is_in(v.take(pa.array(rest)), value_set=ids)) if len(
                    ids) else np.zeros(len(rest), dtype=bool)
                rest = rest[record]
                if len(rest):
                    at = pc.index_in(v.take(pa.array(rest)), value_set=ids)
                    their = names.take(at).to_pylist()
                    from kamcore.importers.rows import name_key

                    for i, cell, name in zip(rest.tolist(), r.take(pa.array(rest)).to_pylist(),
                                             their, strict=True):
                        out[where[i]] = name is not None and name_key(name) == name_key(cell)
        return out

    # -- codes, words and numbers ---------------------------------------------------------------

    def _by_distinct(self, field: str, raw: pa.Array, value: pa.Array) -> np.ndarray:
        """Decided once per distinct original cell and value."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        pairs = pc.binary_join_element_wise(raw, value.cast(pa.string()).fill_null("\x00"),
                                            "\x01")
        encoded = pairs.dictionary_encode()
        keys = encoded.dictionary.to_pylist()
        answers = []
        for key in keys:
            cell, _, given = key.partition("\x01")
            answers.append(self._one(field, cell, None if given == "\x00" else given))
        return np.array(answers, dtype=bool)[
            encoded.indices.to_numpy(zero_copy_only=False)] if keys else np.zeros(0, bool)

    def _one(self, field: str, raw: str, value: str | None) -> bool:
        from kamcore.importers.countries import resolve_country
        from kamcore.importers.tiers import tier_from_value

        if field == "country":
            code = self.countries.get(raw.strip().lower()) or resolve_country(raw).code
            return code == value
        if field == "industry":
            return self.industry(raw) == value
        if field == "currency":
            return raw.strip().upper() == (value or "")
        tier = tier_from_value(raw, self.tier_values)
        return tier == value or tier is None

    def _name(self, raw: pa.Array, value: pa.Array) -> np.ndarray:
        import numpy as np
        import pyarrow.compute as pc

        equal = cols.mask(pc.equal(raw, value))
        edged = cols.mask(pc.match_substring_regex(raw, f"^{cols.PY_SPACE}|{cols.PY_SPACE}$"))
        out = equal & ~edged
        check = np.flatnonzero(~equal | edged)
        if len(check):
            rs = raw.take(check).to_pylist()
            vs = value.take(check).to_pylist()
            out[check] = [r.strip() == v for r, v in zip(rs, vs, strict=True)]
        return out

    def _number(self, raw: pa.Array, value: pa.Array) -> np.ndarray:
        """``parse_number(raw) == value`` (an unreadable cell holds while the value is empty):
        plain numbers parsed by Arrow (correctly rounded, as ``float()``), the rest by
        :func:`~kamcore.importers.rows.parse_number`."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        numbers = value.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        out = np.zeros(len(raw), dtype=bool)
        plain = np.zeros(len(raw), dtype=bool)
        if self.decimal == ".":
            plain = cols.mask(pc.match_substring_regex(
                raw, r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$"))
            if plain.any():
                at = np.flatnonzero(plain)
                parsed = raw.take(at).cast(pa.float64()).to_numpy(zero_copy_only=False)
                # float() of 1e999 is inf, which parse_number refuses: holds while empty
                out[at] = np.where(np.isfinite(parsed), parsed == numbers[at],
                                   np.isnan(numbers[at]))
        rest = np.flatnonzero(~plain)
        if len(rest):
            cells = raw.take(rest).to_pylist()
            given = numbers[rest]
            out[rest] = [self._python("", c, None if np.isnan(v) else float(v))
                         for c, v in zip(cells, given.tolist(), strict=True)]
        return out


def _below(parent: np.ndarray, row: int, target: int) -> bool:
    """Is ``target`` a descendant of ``row`` (``row`` a proper ancestor of it)?"""
    seen: set[int] = set()
    current = int(parent[target])
    while current >= 0 and current not in seen:
        if current == row:
            return True
        seen.add(current)
        current = int(parent[current])
    return False


def _py_strip(arr: pa.Array) -> pa.Array:
    """``str.strip()`` of every cell (Arrow's trim where no edge is exotic)."""
    import numpy as np
    import pyarrow.compute as pc

    edged = np.flatnonzero(cols.mask(pc.match_substring_regex(
        arr, f"^{cols.PY_SPACE}|{cols.PY_SPACE}$")))
    if not len(edged):
        return arr
    return cols.patched(arr, edged, [v.strip() for v in arr.take(edged).to_pylist()])


def _lookup(raw: pa.Array, ids: pa.Array) -> np.ndarray:
    """For each cell, the first of ``ids`` that is the same Id (Salesforce's two forms
    compared as one), or -1."""
    import pyarrow.compute as pc

    def key(arr: pa.Array) -> pa.Array:
        valid = id15_keys(arr)
        return pc.if_else(valid.is_valid(), valid,
                          pc.binary_join_element_wise("~", _py_strip(arr), ""))

    if not len(ids):
        import numpy as np

        return np.full(len(raw), -1, dtype=np.int64)
    found = pc.index_in(key(raw), value_set=key(ids)).fill_null(-1)
    return found.to_numpy(zero_copy_only=False).astype("int64")


_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id15_keys(values: pa.Array) -> pa.Array:
    """:func:`kamcore.importers.salesforce.id15` of every cell, null where it raises: the
    checksum of 18-character Ids decoded with numpy."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text = _py_strip(values.cast(pa.string()))
    shaped = cols.mask(pc.match_substring_regex(text, r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$"))
    lengths = pc.utf8_length(text).fill_null(0).to_numpy(zero_copy_only=False)
    out = pc.if_else(pa.array(shaped & (lengths == 15)), text, pa.scalar(None, pa.string()))
    long = np.flatnonzero(shaped & (lengths == 18))
    if not len(long):
        return out
    chars = np.frombuffer(cols.text_buffer(text.take(pa.array(long))), dtype=np.uint8)
    chars = chars.reshape(len(long), 18)
    lower = chars[:, :15].copy()
    upper_letter = (lower >= 65) & (lower <= 90)
    lower[upper_letter] += 32
    suffix = chars[:, 15:].copy()
    small = (suffix >= 97) & (suffix <= 122)
    suffix[small] -= 32
    code = np.full(256, -1, dtype=np.int64)
    code[np.frombuffer(_ALPHABET, dtype=np.uint8)] = np.arange(32)
    bits = code[suffix]  # (n, 3)
    ok = (bits >= 0).all(axis=1)
    bits = np.maximum(bits, 0)
    alpha = (lower >= 97) & (lower <= 122)
    for chunk in range(3):
        for i in range(5):
            pos = chunk * 5 + i
            wanted = (bits[:, chunk] >> i) & 1 == 1
            ok &= ~wanted | alpha[:, pos]
            lower[wanted & alpha[:, pos], pos] -= 32
    keys = pa.Array.from_buffers(pa.string(), len(long), [
        None, pa.py_buffer((np.arange(len(long) + 1, dtype=np.int32) * 15).tobytes()),
        pa.py_buffer(lower.tobytes())])
    keys = pc.if_else(pa.array(ok), keys, pa.scalar(None, pa.string()))
    return cols.patched(out, long, keys)
