"""``kam chart``: the org as one self-contained HTML file (inline CSS, JS and data; no network).

The page gets the org as one JSON blob of columns (names, tiers, parent indexes, totals) and
creates DOM nodes only when a branch is opened, so 10,000 accounts stay quick. The blob is built
from the one reader's tables (no object per account; an :class:`~kamcore.Org` is turned into
the same tables first), and the own values and totals come from one :func:`kamcore.rollup.rollup`
over those tables (facts and FX included), so the page shows what ``kam rollup`` prints; when
the rollup cannot run the page has no totals and says why.

Like the :class:`~kamcore.Org`, the page keeps the first record of a duplicated id. ``kam
chart`` writes the blob straight from the columns (Arrow joins the text; no list per column),
byte for byte what ``json.dumps`` makes of :func:`chart_data`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.org import Org
    from kamcore.settings import Settings
    from kamcore.workspace.tables import WorkspaceTables

def as_tables(source: Org | WorkspaceTables) -> WorkspaceTables:
    """The reader's tables of ``source`` (an Org is converted; tables are returned as given)."""
    from kamcore.org import Org

    if not isinstance(source, Org):
        return source
    from kamcore.workspace.objects import tables_from_org

    if source.registry is None:  # an Org built in Python: the built-in metrics at least
        from kamcore.plugins import get_plugin_manager
        from kamcore.registry import registry_for

        source.registry = registry_for(get_plugin_manager(load_entrypoints=False))
    return tables_from_org(source, customer_side=True)


def chart_metrics(source: Org | WorkspaceTables,
                  wanted: Sequence[str] | None = None) -> list[str]:
    """The metrics to show: those asked for, else the first three that have values in the
    order ``kam rollup`` shows them (the core's and the workspace's own first)."""
    if wanted:
        return list(wanted)
    return _default_metrics(as_tables(source))


def _default_metrics(tables: WorkspaceTables) -> list[str]:
    import numpy as np

    from kamcore.rollup.values import CORE_PLUGINS
    from kamcore.structure import account_index

    first = account_index(tables).first
    accounts = tables.accounts
    used = set()
    for name in accounts.metrics:
        column = accounts.column(name)
        if column is not None and (~np.isnan(column.to_numpy(zero_copy_only=False)[first])).any():
            used.add(name)
    known = tables.metrics
    order = list(known)
    ordered = sorted(used, key=lambda m: (
        not (m in known and known[m].plugin in CORE_PLUGINS),
        order.index(m) if m in known else len(order), m))
    return ordered[:3]


def account_values(source: Org | WorkspaceTables, metrics: Sequence[str]) -> tuple[
        dict[str, dict[str, float]], dict[str, dict[str, float]], str | None]:
    """Own values and subtree totals per account, from the rollup (facts, FX, each metric's
    aggregation): the chart shows the numbers ``kam rollup`` prints, never a second sum.

    :returns: ``(own, totals, problem)``; when the rollup cannot run, both are empty and
        ``problem`` says why (``kam validate`` names the cause with its code).
    """
    import math

    tables = as_tables(source)
    ids, own_cols, total_cols, problem = _rolled_up(tables, metrics)
    own: dict[str, dict[str, float]] = {}
    totals: dict[str, dict[str, float]] = {}
    id_list = ids.to_pylist() if ids is not None else []
    for metric, own_col, total_col in zip(metrics, own_cols, total_cols, strict=True):
        for target, values in ((own, own_col), (totals, total_col)):
            for account_id, value in zip(id_list, values.tolist(), strict=True):
                if not math.isnan(value):
                    target.setdefault(account_id, {})[metric] = value
    return own, totals, problem


def _rolled_up(tables: WorkspaceTables, metrics: Sequence[str]) -> tuple[
        Any, list[np.ndarray], list[np.ndarray], str | None]:
    """One rollup over ``tables``: its ids and, per metric, own values and totals as float64
    (NaN where there is none); or the reason it cannot run."""
    import numpy as np
    import pyarrow as pa

    from kamcore.errors import KamError

    if not metrics:
        return None, [], [], None
    try:
        from kamcore.rollup import rollup

        result = rollup(tables, list(metrics), own=True)
    except KamError as exc:
        return None, [], [], _first_line(exc)
    table = result.table
    n = table.num_rows

    def floats(key: str) -> np.ndarray:
        if key not in table.column_names:
            return np.full(n, np.nan)
        column = table.column(key).combine_chunks().cast(pa.float64()).fill_null(np.nan)
        return column.to_numpy(zero_copy_only=False)

    ids = table.column("id").combine_chunks()
    return (ids, [floats(m) for m in metrics], [floats(f"{m}_total") for m in metrics], None)


def _first_line(exc: Exception) -> str:
    """What the chart says when the rollup cannot run: the first problem, not a count."""
    problems = getattr(exc, "problems", None)
    if problems:
        text = str(problems[0]).strip().splitlines()
        first = text[0] if text else type(problems[0]).__name__
        return first + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@dataclass
class ChartColumns:
    """The page's data as columns, before any Python list is made.

    :ivar header: ``org``, ``currency``, ``totalsFrom``, ``totalsProblem``, ``metrics``.
    :ivar accounts: per key, a pyarrow string array (text), a numpy int64 array (tiers and
        indexes) or, for ``own`` and ``totals``, one float64 array per metric (NaN: none).
    :ivar people: the same for people.
    :ivar contacts: the same for contacts (the relationship maps): ``account``, ``owner`` and
        ``reportsTo`` are page indexes; no email or phone unless asked for.
    """

    header: dict[str, Any]
    accounts: dict[str, Any]
    people: dict[str, Any]
    contacts: dict[str, Any]

    @property
    def problem(self) -> str | None:
        """Why the page has no totals (``None`` when the rollup ran)."""
        problem: str | None = self.header["totalsProblem"]
        return problem

    def to_data(self) -> dict[str, Any]:
        """The blob as :func:`chart_data` returns it: plain lists."""
        return {**self.header,
                "accounts": {k: _as_list(v) for k, v in self.accounts.items()},
                "people": {k: _as_list(v) for k, v in self.people.items()},
                "contacts": {k: _as_list(v) for k, v in self.contacts.items()}}

    def json_pieces(self) -> Iterator[bytes]:
        """The blob as UTF-8 JSON, loops cut and ``<`` escaped, as the page embeds it."""
        head = json.dumps(self.header, ensure_ascii=False, separators=(",", ":"))
        yield _escape(head[:-1]).encode()
        for name, columns, up in (("accounts", self.accounts, "parent"),
                                  ("people", self.people, "reportsTo"),
                                  ("contacts", self.contacts, "reportsTo")):
            yield f',"{name}":{{'.encode()
            for i, (key, value) in enumerate(columns.items()):
                yield (("," if i else "") + json.dumps(key) + ":").encode()
                if key == up:
                    value = _cut_loops_array(value)
                if isinstance(value, list):
                    yield b"["
                    for j, column in enumerate(value):
                        if j:
                            yield b","
                        yield _json_floats(column)
                    yield b"]"
                else:
                    yield _json_array(value)
            yield b"}"
        yield b"}"


def chart_columns(source: Org | WorkspaceTables, metrics: Sequence[str] | None = None, *,
                  personal: bool = False) -> ChartColumns:
    """The page's data as columns, from the reader's tables and one rollup over them.

    :param personal: put the contacts' email and phone on the page (personal data: off by
        default).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.rollup.views import metric_kind, metric_label
    from kamcore.structure import account_index

    tables = as_tables(source)
    names = chart_metrics(tables, metrics)
    index = account_index(tables)
    accounts, people = tables.accounts, tables.people
    rows = np.flatnonzero(index.first)              # the Org's accounts: first of each id
    prows = np.flatnonzero(index.person_first)
    position = np.full(len(accounts), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    pposition = np.full(len(people), -1, dtype=np.int64)
    pposition[prows] = np.arange(len(prows))
    every = len(rows) == len(accounts), len(prows) == len(people)

    def text(table: Any, name: str, empty: str | None = None) -> pa.Array:
        column = table.text(name)
        if not every[table is people]:
            column = column.take(pa.array(rows if table is accounts else prows))
        return column.fill_null(empty) if empty is not None else column

    def via(linked: np.ndarray, where: np.ndarray) -> np.ndarray:
        """Rows of the tables -> positions on the page (-1 stays -1)."""
        if not len(where):
            return np.full(len(linked), -1, dtype=np.int64)
        return np.where(linked >= 0, where[np.maximum(linked, 0)], -1)

    def link(ups: np.ndarray, where: np.ndarray, own: np.ndarray) -> np.ndarray:
        linked = ups[own]
        found = via(linked, where)
        found[linked == own] = -1  # its own parent: a root
        return found

    ids, own_cols, total_cols, problem = _rolled_up(tables, names)
    account_ids = text(accounts, "id")
    if ids is not None:
        at = pc.index_in(account_ids, value_set=ids).fill_null(-1)
        at = at.to_numpy(zero_copy_only=False).astype(np.int64)
        found = at >= 0
        where = np.maximum(at, 0)

        def pick(column: np.ndarray) -> np.ndarray:
            if not len(column):
                return np.full(len(rows), np.nan)
            return np.where(found, column[where], np.nan)

        own_values = [pick(c) for c in own_cols]
        total_values = [pick(c) for c in total_cols]
    else:
        own_values = [np.full(len(rows), np.nan) for _ in names]
        total_values = [np.full(len(rows), np.nan) for _ in names]
    known = tables.metrics
    header = {
        "org": tables.settings.name,
        "currency": tables.settings.currency,
        "totalsFrom": "rollup" if problem is None and names else "none",
        "totalsProblem": problem,
        "metrics": [{"name": m, "label": metric_label(m, known.get(m)),
                     "kind": metric_kind(known.get(m)),
                     "money": bool(m in known and known[m].is_money)} for m in names],
    }
    return ChartColumns(header, {
        "id": account_ids,
        "name": text(accounts, "name"),
        "tier": index.tier[rows],
        "parent": link(index.parent, position, rows),
        "manager": via(index.manager[rows], pposition),
        "managerRaw": text(accounts, "manager", ""),
        "country": text(accounts, "country", ""),
        "industry": text(accounts, "industry", ""),
        "own": own_values,
        "totals": total_values,
    }, {
        "id": text(people, "id"),
        "name": text(people, "name"),
        "role": text(people, "role"),
        "reportsTo": link(index.boss, pposition, prows),
        "active": index.active[prows].astype(np.int64),
        "specialty": text(people, "specialty", ""),
    }, _contact_columns(tables, position, pposition, via, personal))


def _contact_columns(tables: WorkspaceTables, position: np.ndarray, pposition: np.ndarray,
                     via: Any, personal: bool) -> dict[str, Any]:
    """The contacts for the relationship maps (the first row of each id), linked by page
    index to their account, their owner and their boss; empty columns without contacts.csv."""
    import numpy as np
    import pyarrow as pa

    from kamcore.contacts import PERSONAL_COLUMNS
    from kamcore.structure import contact_index

    contacts = tables.contacts
    keys = ["id", "name", "title", "role", "account", "owner", "primary", "reportsTo"]
    keys += list(PERSONAL_COLUMNS) if personal else []
    if contacts is None or not len(contacts):
        return {k: np.zeros(0, dtype=np.int64) if k in ("account", "owner", "primary",
                                                          "reportsTo")
                else pa.array([], pa.string()) for k in keys}
    index = contact_index(tables)
    rows = np.flatnonzero(index.first)
    cposition = np.full(len(contacts), -1, dtype=np.int64)
    cposition[rows] = np.arange(len(rows))
    picked = pa.array(rows)
    out: dict[str, Any] = {
        name: contacts.text(name).take(picked).fill_null("")
        for name in ("id", "name", "title", "role")}
    boss = index.boss[rows]
    out["account"] = via(index.account[rows], position)
    out["owner"] = via(index.owner[rows], pposition)
    out["primary"] = index.primary[rows].astype(np.int64)
    out["reportsTo"] = np.where(boss == rows, -1, via(boss, cposition))
    for name in PERSONAL_COLUMNS if personal else ():
        out[name] = contacts.text(name).take(picked).fill_null("")
    return {k: out[k] for k in keys}


def chart_data(source: Org | WorkspaceTables,
               metrics: Sequence[str] | None = None) -> dict[str, Any]:
    """The JSON blob the page reads: columns, indexes instead of ids.

    :param source: the reader's tables (:func:`kamcore.workspace.tables.read_workspace`), or
        an :class:`~kamcore.Org` (turned into the same tables).
    :param metrics: metrics to total per account; default up to three that have values.
    """
    return chart_columns(source, metrics).to_data()


def render_chart(source: Org | WorkspaceTables, *, metrics: Sequence[str] | None = None,
                 title: str | None = None, data: dict[str, Any] | None = None) -> str:
    """The whole HTML page.

    :param source: an :class:`~kamcore.Org`, or the reader's tables.
    :param metrics: metrics to total per account; default up to three that have values.
    :param title: page title; default the org's name.
    :param data: :func:`chart_data` already computed (``metrics`` is then ignored).
    """
    if data is not None:
        blob = _escape(json.dumps(_parents_acyclic(data), ensure_ascii=False,
                                  separators=(",", ":")))
    else:
        blob = b"".join(chart_columns(source, metrics).json_pieces()).decode()
    before, after = _page(source.settings, title)
    return before + blob + after


def write_chart(stream: IO[bytes], settings: Settings, columns: ChartColumns,
                title: str | None = None) -> None:
    """Write the page to a binary stream, the blob column by column (no page-sized string)."""
    before, after = _page(settings, title)
    stream.write(before.encode())
    for piece in columns.json_pieces():
        stream.write(piece)
    stream.write(after.encode())


def _page(settings: Settings, title: str | None) -> tuple[str, str]:
    """The page before and after the data blob."""
    import kamcore

    package = resources.files("kamcore.chart")
    template = (package / "template.html").read_text(encoding="utf-8")
    parts = {
        "CSS": (package / "chart.css").read_text(encoding="utf-8"),
        "JS": (package / "chart.js").read_text(encoding="utf-8"),
        "TITLE": html.escape(title or settings.name),
        "CURRENCY": html.escape(settings.currency),
        "VERSION": html.escape(kamcore.__version__),
        "DATE": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    # One pass: text put in (a title, an account name) is never scanned for markers again.
    before, after = template.split("__DATA__", 1)
    return tuple(re.sub(r"__(CSS|JS|TITLE|CURRENCY|VERSION|DATE)__",  # type: ignore[return-value]
                        lambda m: parts[m.group(1)], half) for half in (before, after))


def _escape(text: str) -> str:
    """``<`` escaped so no cell can close the script element."""
    return text.replace("<", "\\u003c")


def _as_list(value: Any) -> list[Any]:
    import numpy as np

    if isinstance(value, list):
        return [_floats_list(column) for column in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value.to_pylist()


def _floats_list(column: np.ndarray) -> list[float | None]:
    import numpy as np

    shown = column.astype(object)
    shown[np.isnan(column)] = None
    return shown.tolist()


def _json_array(values: Any) -> bytes:
    """A text (pyarrow) or integer (numpy) column as a JSON array, as json.dumps writes it."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, np.ndarray):
        return _joined(pa.array(values, pa.int64()).cast(pa.string()))
    data = values.buffers()[2] if len(values) else None
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    # what json.dumps escapes when ensure_ascii is off (the buffer may hold more than the
    # array's cells: a false alarm only takes the slower path)
    if ((raw < 0x20) | (raw == 0x22) | (raw == 0x5C)).any():
        text = json.dumps(values.to_pylist(), ensure_ascii=False, separators=(",", ":"))
        return _escape(text).encode()
    kind = _text_type(values)
    quote = pa.scalar('"', kind)
    quoted = pc.binary_join_element_wise(quote, values.cast(kind), quote, pa.scalar("", kind))
    if (raw == 0x3C).any():
        quoted = pc.replace_substring(quoted, "<", "\\u003c")
    return _joined(quoted)


def _text_type(values: pa.Array) -> pa.DataType:
    """``string`` while the joined column stays below Arrow's 2 GiB, else ``large_string``."""
    import pyarrow as pa

    small = values.nbytes + 16 * len(values) < 2 ** 31 - 1
    return pa.string() if small else pa.large_string()


def _json_floats(column: np.ndarray) -> bytes:
    """Floats as json.dumps writes them (``repr``; NaN as null): whole numbers below 1e16
    (``1234.0``) through Arrow, the rest through ``repr``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    missing = np.isnan(column)
    if np.isinf(column).any():
        return json.dumps(_floats_list(column), separators=(",", ":")).encode()
    whole = (~missing & (np.abs(column) < 1e16) & (column == np.round(column))
             & ~((column == 0) & np.signbit(column)))
    ints = pa.array(np.where(whole, column, 0).astype(np.int64)).cast(pa.string())
    text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(ints, ".0", ""), "null")
    rest = ~whole & ~missing
    if rest.any():
        text = pc.replace_with_mask(text, pa.array(rest),
                                    pa.array([repr(v) for v in column[rest].tolist()],
                                             pa.string()))
    return _joined(text)


def _joined(text: pa.Array) -> bytes:
    """Cells (no nulls but those written ``null``) joined with commas inside brackets."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = _text_type(text)
    cells = text.cast(kind).fill_null("null")
    lists = pa.ListArray if kind == pa.string() else pa.LargeListArray
    one = lists.from_arrays(pa.array([0, len(cells)], pa.int32() if kind == pa.string()
                                     else pa.int64()), cells)
    joined = pc.binary_join(one, pa.scalar(",", kind))[0]
    return b"[" + joined.as_buffer().to_pybytes() + b"]"


def _cut_loops_array(ups: np.ndarray) -> np.ndarray:
    """A copy of ``ups`` with loops cut; only an org with a loop is walked record by record."""
    import numpy as np

    from kamcore.structure import cycles

    if not cycles(np.asarray(ups, dtype=np.int64))[0].any():
        return ups
    cut = ups.tolist()
    _cut_loops(cut)
    return np.asarray(cut, dtype=np.int64)


def _parents_acyclic(data: dict[str, Any]) -> dict[str, Any]:
    """Cut parent and manager loops (an invalid org still draws; validate reports the loop)."""
    import numpy as np

    from kamcore.structure import cycles

    for table, key in (("accounts", "parent"), ("people", "reportsTo"),
                       ("contacts", "reportsTo")):
        if table not in data:
            continue
        ups: list[int] = data[table][key]
        if cycles(np.asarray(ups, dtype=np.int64))[0].any():
            _cut_loops(ups)
    return data


def _cut_loops(ups: list[int]) -> None:
    """Walk from each record up; where a walk meets itself, that record's link is cut."""
    state = [0] * len(ups)
    for start in range(len(ups)):
        path = []
        node = start
        while node >= 0 and state[node] == 0:
            state[node] = 1
            path.append(node)
            node = ups[node]
        if node >= 0 and state[node] == 1:
            ups[node] = -1
        for visited in path:
            state[visited] = 2
