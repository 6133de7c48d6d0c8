"""The one reader: accounts.csv and people.csv (or inline records), and the customer side's
contacts.csv and territories.csv when a workspace has them, as normalised Arrow tables.

Every command and API function reads records through :func:`read_workspace`, so every command
sees the same values: cells trimmed, empty cells null, tiers and roles lower case, country and
currency codes upper case and checked against ISO, numbers parsed, booleans read as true/false.
A cell that breaks a reading rule is a located problem (file, line, column); its record is left
out of the tables and the caller decides whether to go on (``kam validate`` and ``kamcore.load``
refuse with every problem listed).

The fast path hands the bytes to pyarrow's CSV reader (no Python object per row); anything it
cannot read exactly (a ragged row, broken quoting, a byte that is not UTF-8, UTF-16) goes through
the line-exact Python parser instead, so messages still name the line. Line numbers of the fast
path are worked out only when a message needs one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamcore.errors import KamError, Location, RecordErrors, WorkspaceError
from kamcore.models.codes import country_codes, currency_codes
from kamcore.models.enums import Role, Tier
from kamcore.settings import (
    ACCOUNTS_FILE,
    CONFIG_FILE,
    CONTACTS_FILE,
    CONTACTS_PARQUET,
    PEOPLE_FILE,
    TERRITORIES_FILE,
    Settings,
)
from kamcore.wording import plural
from kamcore.workspace.ahead import STREAM_FROM, file_identity, scan_for

if TYPE_CHECKING:
    from datetime import date

    import numpy as np
    import pluggy
    import pyarrow as pa

    from kamcore.models import MetricDef
    from kamcore.registry import Registry
    from kamcore.workspace.history import HistoryTable

ACCOUNT_COLUMNS = ("id", "name", "tier", "parent", "manager", "country", "industry", "currency")
PERSON_COLUMNS = ("id", "name", "role", "reports_to", "capacity", "email", "active", "specialty")
CONTACT_COLUMNS = ("id", "account", "name", "title", "role", "reports_to", "email", "phone",
                   "primary", "owner", "last_contact")
TERRITORY_COLUMNS = ("id", "name", "parent", "manager")
REQUIRED = {"account": ("id", "name", "tier"), "person": ("id", "name", "role"),
            "contact": ("id", "account", "name"), "territory": ("id", "name")}
#: Each kind's core columns (the rest are metrics, plugin fields or kept as they are).
CORE_COLUMNS = {"account": ACCOUNT_COLUMNS, "person": PERSON_COLUMNS,
                "contact": CONTACT_COLUMNS, "territory": TERRITORY_COLUMNS}
#: The optional tables of the customer side: name in ``WorkspaceTables`` -> (kind, file).
OPTIONAL_TABLES = {"contacts": ("contact", CONTACTS_FILE),
                   "territories": ("territory", TERRITORIES_FILE)}
#: The columnar form an optional table may take instead of its CSV file (one or the other).
PARQUET_FORMS = {"contacts": CONTACTS_PARQUET}
#: Columns whose cells are ids of records (an id column keeps its case, a role is folded).
LINK_COLUMNS = ("parent", "manager", "reports_to", "account", "owner")
DATE_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"

#: The reading rules, shared by the fast and the slow path.
ID_PATTERN = r"^[^\s,]([^,\n\r]*[^\s,])?$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
NUMBER_PATTERN = r"^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$"
NONFINITE_PATTERN = r"^[+-]?(nan|inf|infinity)$"
TRUE_WORDS = ("true", "yes", "1", "y")
FALSE_WORDS = ("false", "no", "0", "n")

_HINTS = {
    "tier": "tier is one of global, national, key, regular",
    "role": "role is one of vp, director, gam, nam, kam, am, support",
    "country": "use the two-letter ISO code, e.g. DE for Germany, GB for the UK",
    "currency": "use the three-letter ISO code, e.g. EUR, USD, GBP",
    "capacity": "capacity is a whole number of accounts, e.g. 12",
    "active": "active is true or false",
    "id": "every record needs a unique id",
    "name": "every record needs a name",
    "email": "write an address like ana@example.com, or leave the cell empty",
    "account": "every contact belongs to an account: its id from accounts.csv",
    "primary": "primary is true or false (empty: false)",
    "last_contact": "write the date as YYYY-MM-DD, e.g. 2026-03-31, or leave the cell empty",
}
#: How messages name a record of each kind.
NOUNS = {"account": "account", "person": "person", "contact": "contact",
         "territory": "territory"}
_NUMBER_HINT = "write a plain number like 1250000.50, or leave the cell empty"


def metric_defs(settings: Settings, registry: Registry | None) -> dict[str, MetricDef]:
    """Every metric known to a workspace: the plugins' (core included), then kam.yaml's own."""

    known = dict(registry.metrics) if registry is not None else {}
    for name, spec in settings.metrics.items():
        known.setdefault(name, spec.definition(name))
    return known


@dataclass
class RecordTable:
    """One kind of record (accounts, people, contacts, territories) as a normalised Arrow table.

    :ivar table: one row per usable record, file order; text columns are trimmed strings
        (null when empty), metric columns float64 (NaN when empty), ``capacity`` int64,
        ``active`` bool. Duplicate ids are kept (validation reports them).
    :ivar rows: for each table row, its index among the file's data rows (for lines).
    :ivar header: the columns as the file lists them (a save keeps this layout).
    :ivar metrics: the columns read as numbers.
    """

    kind: str
    table: pa.Table
    rows: np.ndarray
    header: list[str]
    metrics: list[str]
    path: Path | None
    line_of_row: Callable[[], Sequence[int | None]]
    #: the same lines as an int64 array, when the reader has them so (no Python int per row)
    line_numbers: Callable[[], np.ndarray] | None = None
    #: :func:`~kamcore.structure.link_codes` of the ids and a link column, by column, started
    #: by the reader on a second core (:meth:`early_codes`); not a field a copy keeps: a table
    #: made from this one (``dataclasses.replace``) starts without them
    _early: dict[str, Callable[[], np.ndarray]] = field(default_factory=dict, init=False,
                                                          repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def early_codes(self, link: str) -> np.ndarray | None:
        """The reader's hash pass over the ids and ``link`` (waited for), or ``None`` when it
        made none: the accounts' tree is linked while the reader goes on, as every command
        over a big org links it first."""
        job = self._early.get(link)
        return None if job is None else job()

    def __repr__(self) -> str:
        return f"RecordTable({self.kind!r}, {len(self)} rows, path={str(self.path)!r})"

    def column(self, name: str) -> pa.Array | None:
        """A column as one array, or ``None`` when the table has no such column (combined
        once: rules ask for the same column once per finding)."""
        cache = self._columns
        if name not in cache:
            table = self.table
            at = table.schema.get_field_index(name)
            if at < 0:
                return None
            chunks = table.column(at)
            cache[name] = combined = chunks.combine_chunks()
            if chunks.num_chunks > 1:  # the table holds the one array too: the chunks can go
                self.table = table.set_column(at, table.field(at), combined)
        return cache[name]

    @cached_property
    def _columns(self) -> dict[str, pa.Array]:
        return {}

    def text(self, name: str) -> pa.Array:
        """A text column; all nulls when the file has no such column."""
        column = self.column(name)
        if column is None:
            import pyarrow as pa

            column = self._columns[name] = pa.nulls(len(self), pa.string())
        return column

    @property
    def ids(self) -> pa.Array:
        return self.text("id")

    @cached_property
    def _lines(self) -> Sequence[int | None]:
        return self.line_of_row()

    def line(self, row: int) -> int | None:
        """The line where table row ``row`` starts (worked out on first use)."""
        data_row = int(self.rows[row])
        if self.line_numbers is not None:  # no list of a million lines for a few messages
            numbers = self._line_numbers
            return int(numbers[data_row]) if data_row < len(numbers) else None
        lines = self._lines
        return lines[data_row] if data_row < len(lines) else None

    @cached_property
    def _line_numbers(self) -> np.ndarray:
        assert self.line_numbers is not None
        return self.line_numbers()

    def lines(self, rows: np.ndarray) -> pa.Array:
        """:meth:`line` of many rows at once (int64; null where unknown)."""
        import numpy as np
        import pyarrow as pa

        known = self._line_array
        data_rows = self.rows[rows]
        outside = data_rows >= len(known)
        if not len(known):
            return pa.nulls(len(data_rows), pa.int64())
        return known.take(pa.array(np.where(outside, 0, data_rows), mask=outside))

    @cached_property
    def _line_array(self) -> pa.Array:
        import pyarrow as pa

        if self.line_numbers is not None:
            return pa.array(self._line_numbers, pa.int64())
        return pa.array(self._lines, pa.int64())

    def location(self, row: int, column: str | None = None) -> Location | None:
        if self.path is None:
            return None
        return Location(str(self.path), self.line(row), column)

    @property
    def extra_columns(self) -> list[str]:
        """Columns that are neither core columns nor metrics (plugin fields and the rest)."""
        core = CORE_COLUMNS[self.kind]
        return [c for c in self.table.column_names if c not in core and c not in self.metrics]


@dataclass
class WorkspaceTables:
    """A workspace as read: settings and the record tables, with every reading problem.

    ``folder`` is ``None`` for tables made from an org built in Python (no facts, no FX).
    ``contacts`` and ``territories`` are ``None`` when the workspace has no such file (or the
    caller did not ask for them): the rules about them then have nothing to check.
    """

    folder: Path | None
    settings: Settings
    raw_settings: dict[str, Any]
    storage: str
    accounts: RecordTable
    people: RecordTable
    metrics: dict[str, MetricDef]
    registry: Registry | None
    problems: list[KamError] = field(default_factory=list)
    #: history.csv as read (``None``: the workspace has none); see docs/time.md.
    history: HistoryTable | None = None
    #: The day the record tables show (history applied), or ``None`` for the files as written.
    as_of: date | None = None
    #: The record tables as the files hold them, before the history was applied.
    as_written: tuple[RecordTable, RecordTable] | None = None
    contacts: RecordTable | None = None
    territories: RecordTable | None = None

    def __repr__(self) -> str:
        return (f"WorkspaceTables({self.settings.name!r}, "
                f"{plural(len(self.accounts), 'account')}, "
                f"{plural(len(self.people), 'person')}, {plural(len(self.problems), 'problem')}, "
                f"folder={str(self.folder) if self.folder else None!r})")

    def require_readable(self, *, history: bool = True) -> None:
        """:raises RecordErrors: when any record could not be read (all are listed).
        :raises WorkspaceError: with ``history``, a history.csv row that cannot be read (kam
            validate lists them all as findings instead)."""
        if self.problems:
            raise RecordErrors(self.problems)
        if history and self.history is not None:
            self.history.require_readable()


def same_table(left: pa.Table, right: pa.Table) -> bool:
    """Equal columns, an empty number (NaN) equal to an empty number."""
    import numpy as np
    import pyarrow as pa

    if left.schema != right.schema or left.num_rows != right.num_rows:
        return False
    for name in left.column_names:
        a, b = left.column(name), right.column(name)
        if pa.types.is_floating(a.type):
            if not np.array_equal(a.to_numpy(), b.to_numpy(), equal_nan=True):
                return False
        elif not a.equals(b):
            return False
    return True


def same_records(left: RecordTable, right: RecordTable) -> bool:
    """The same rows read from the same lines of the same file, with the same header and
    metrics: whatever is made of one is made of the other."""
    import numpy as np

    return (left.kind == right.kind and left.path == right.path
            and left.header == right.header and left.metrics == right.metrics
            and np.array_equal(left.rows, right.rows) and same_table(left.table, right.table))


def as_written(tables: WorkspaceTables) -> WorkspaceTables:
    """``tables`` as the record files hold them, history not applied: what
    ``read_workspace(..., history=False)`` reads, without reading again."""
    import dataclasses

    if tables.as_written is None:
        return dataclasses.replace(tables, history=None, as_of=None)
    accounts, people = tables.as_written
    return dataclasses.replace(tables, accounts=accounts, people=people, history=None,
                               as_of=None, as_written=None)


def read_workspace(path: str | Path, *, pm: pluggy.PluginManager | None = None,
                   registry: Registry | None = None,
                   columns: Collection[str] | None = None,
                   as_of: date | str | None = None, history: bool = True,
                   contact_columns: Collection[str] | None = None,
                   optional: Collection[str] | None = None) -> WorkspaceTables:
    """Read a workspace's settings and records into normalised tables.

    :param path: the workspace folder, or its kam.yaml.
    :param pm: plugin manager whose plugins declare metrics (default: every installed plugin).
    :param registry: an already-built registry (overrides ``pm``).
    :param columns: read only the core columns, the metrics and these (a rollup by country
        needs no phone numbers); ``None`` reads every column. The rules are the same. The
        optional tables (``contacts``, ``territories``) are read when ``columns`` is ``None``
        or names them, and only from a workspace that has the file.
    :param as_of: the day the tables show (``2025-12-31``): history.csv applied as of then;
        default today, so a change dated in the future is in force from its date on.
    :param history: ``False`` reads the record files as written, history not applied.
    :param contact_columns: read only the ids and these columns of contacts.csv (coverage
        needs four of eleven: no names, emails or phone numbers of three million contacts);
        ``None`` reads every column. A column not read is not checked.
    :param optional: read only these optional tables (``()``: none; a tree of accounts needs
        no contacts, and three million of them take seconds to read and link); ``None``: as
        ``columns`` says. A table not read is ``None`` in the result, and not checked.
    :raises WorkspaceError: a file is missing or cannot be read at all; or ``as_of`` is given
        and history.csv has a bad row.
    """
    from kamcore.workspace.loader import resolve_workspace
    from kamcore.workspace.snapshot import read_committed

    folder = resolve_workspace(path)
    return read_committed(folder, lambda: _read_workspace(folder, pm, registry, columns, as_of,
                                                          history, contact_columns, optional))


def _read_workspace(folder: Path, pm: pluggy.PluginManager | None, registry: Registry | None,
                    columns: Collection[str] | None, as_of: date | str | None = None,
                    history: bool = True,
                    contact_columns: Collection[str] | None = None,
                    optional: Collection[str] | None = None) -> WorkspaceTables:
    from kamcore.hookcall import set_hook_timeout
    from kamcore.perf import paused_gc, started
    from kamcore.workspace.loader import check_weights, load_settings
    from kamcore.workspace.plugin_settings import check_plugin_settings, settle_conflicts

    settings, raw = load_settings(folder)
    set_hook_timeout(settings.hook_timeout)  # before this workspace's hooks run, its own
    if registry is None:
        from kamcore.registry import registry_for

        if pm is None:
            from kamcore.plugins import get_plugin_manager

            pm = get_plugin_manager()
        registry = registry_for(pm)
    registry = settle_conflicts(registry, settings, raw, folder / CONFIG_FILE)
    check_plugin_settings(registry, settings, raw, folder / CONFIG_FILE)
    metrics = metric_defs(settings, registry)
    check_weights(metrics, raw, folder / CONFIG_FILE, registry)
    problems: list[KamError] = []
    customer_side: list[KamError] = []  # the optional tables' problems, listed after the rest
    wanted_tables = [name for name in OPTIONAL_TABLES
                     if (name in optional if optional is not None
                         else columns is None or name in columns)]
    with paused_gc():
        # contacts.csv (three rows an account, five times accounts.csv's bytes) is read on a
        # second core while this one reads accounts and people: nothing in it depends on them
        optional_read = started(lambda: {
            name: read_optional(folder, name, customer_side,
                                contact_columns if name == "contacts" else None)
            for name in wanted_tables})
        if settings.accounts is not None or settings.people is not None:
            storage = "inline"
            config = folder / CONFIG_FILE
            raw_accounts = _inline_table(raw.get("accounts") or [], config)
            raw_people = _inline_table(raw.get("people") or [], config)
        else:
            storage = "csv"
            wanted = None if columns is None else {*ACCOUNT_COLUMNS, *metrics, *columns,
                                                   *_formula_fields(metrics)}
            raw_accounts = read_csv_file(folder / ACCOUNTS_FILE, REQUIRED["account"], wanted)
            raw_people = read_csv_file(folder / PEOPLE_FILE, REQUIRED["person"],
                                       None if columns is None else {*PERSON_COLUMNS, *columns})
        accounts = normalise("account", raw_accounts, set(metrics), problems)
        people = normalise("person", raw_people, set(), problems)
        optional = optional_read()
        problems += customer_side
    tables = WorkspaceTables(folder=folder, settings=settings, raw_settings=raw,
                             storage=storage, accounts=accounts, people=people, metrics=metrics,
                             registry=registry, problems=problems,
                             contacts=optional.get("contacts"),
                             territories=optional.get("territories"))
    if history:
        from kamcore.workspace.history import read_as_of

        tables = read_as_of(tables, as_of)
    return tables


def _formula_fields(metrics: dict[str, MetricDef]) -> list[str]:
    """The plugin fields derived metrics compute with (read even when ``columns`` is narrow)."""
    from kamcore.models.formula import field_names, formula_names

    return field_names(n for m in metrics.values() if m.derive
                       for n in formula_names(m.derive))


def read_optional(folder: Path, name: str, problems: list[KamError],
                  wanted: Collection[str] | None = None) -> RecordTable | None:
    """``contacts`` or ``territories`` of a workspace folder, by the same reading rules; ``None``
    when the file does not exist. Bad cells are added to ``problems``.

    :param wanted: only the ids and these columns (``None``: every column); a column not
        read is not checked, the required name included."""
    kind = OPTIONAL_TABLES[name][0]
    path = optional_file(folder, name)
    if path is None:
        return None
    columns = None if wanted is None else {"id", *wanted}
    read = read_parquet_file if path.suffix == ".parquet" else read_csv_file
    return normalise(kind, read(path, REQUIRED[kind], columns), set(), problems)


def optional_file(folder: Path, name: str) -> Path | None:
    """The file holding the optional table ``name`` (``contacts``, ``territories``): its CSV
    file or its Parquet form (:data:`PARQUET_FORMS`); ``None`` when the workspace has neither.

    :raises WorkspaceError: both forms are there (which one is the truth would be a guess).
    """
    found = [folder / file for file in (OPTIONAL_TABLES[name][1], PARQUET_FORMS.get(name))
             if file is not None and (folder / file).exists()]
    if len(found) > 1:
        raise WorkspaceError(f"the workspace has both {found[0].name} and {found[1].name}",
                             location=Location(str(found[1])),
                             hint=f"keep one of them: both hold the {name}")
    return found[0] if found else None


# -- raw text tables ------------------------------------------------------------------------


@dataclass
class RawTable:
    """Cells as written (strings, null for an empty cell), before any reading rule."""

    path: Path | None
    header: list[str]
    table: pa.Table
    line_of_row: Callable[[], Sequence[int | None]]
    problems: list[KamError] = field(default_factory=list)
    #: :attr:`RecordTable.line_numbers`
    line_numbers: Callable[[], np.ndarray] | None = None


def read_csv_file(path: Path, required: Sequence[str],
                  wanted: Collection[str] | None = None,
                  types: dict[str, pa.DataType] | None = None) -> RawTable:
    """A CSV file as text columns: pyarrow when it can read the file exactly, else Python's
    line-exact parser. :raises WorkspaceError: missing, unreadable, or a required column absent.

    :param types: columns pyarrow may convert while reading (dates of a million history rows
        parse in C++); when any cell does not convert, every column is read as text by the
        exact parser instead, so the caller's reading rules locate the bad cells.
    """
    raw = _streamed_csv(path, wanted, types)
    if raw is not None:
        missing = [name for name in required if name not in raw.header]
        if not missing:
            return raw
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise WorkspaceError(f"{path} does not exist",
                             hint=f"create it with a header line: {','.join(required)}") from None
    except IsADirectoryError:
        raise WorkspaceError(f"{path} is a folder, not a CSV file") from None
    except OSError as exc:
        raise WorkspaceError(f"cannot read {path}: {exc.strerror}") from None
    raw = _fast_csv(path, data, wanted, types)
    if raw is None:
        raw = _slow_csv(path, data)
        if wanted is not None:
            raw.table = raw.table.select([c for c in raw.header if c in wanted])
    missing = [name for name in required if name not in raw.header]
    if missing:
        raise WorkspaceError(
            f"missing column(s) {', '.join(missing)}; the header is {','.join(raw.header)}",
            location=Location(str(path), _header_line(data)),
            hint=f"the first line must name at least: {','.join(required)}")
    return raw


def read_parquet_file(path: Path, required: Sequence[str],
                      wanted: Collection[str] | None = None) -> RawTable:
    """A Parquet file as the same text columns a CSV file gives (the reading rules then run
    unchanged): names trimmed, numbers, flags and dates written as text (``true``,
    ``2026-03-31``), empty text null. A message's line is the row's number (1: the first).

    :raises WorkspaceError: unreadable, a column twice or of a type that is not text, a
        number, a flag or a date, or a required column absent.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
        names = [name.strip() for name in schema.names]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice or "" in names:
            raise WorkspaceError(f"{path.name} has " + (f"the column(s) {', '.join(twice)} "
                                 "more than once" if twice else "a column without a name"),
                                 location=Location(str(path)),
                                 hint="give every column its own name")
        missing = [name for name in required if name not in names]
        if missing:
            raise WorkspaceError(f"missing column(s) {', '.join(missing)}; the columns are "
                                 f"{','.join(names)}", location=Location(str(path)),
                                 hint=f"the file needs at least: {','.join(required)}")
        keep = [i for i, name in enumerate(names) if wanted is None or name in wanted]
        table = pq.read_table(path, columns=[schema.names[i] for i in keep],
                              read_dictionary=[schema.names[i] for i in keep
                                               if _few_values(meta, schema, i)])
    except (pa.ArrowInvalid, OSError) as exc:
        raise WorkspaceError(f"cannot read {path}: {exc}", location=Location(str(path)),
                             hint="write it as Parquet (pandas to_parquet, pyarrow), or keep "
                             "the CSV form") from None
    columns = {names[i]: _parquet_text(path, names[i], table.column(k))
               for k, i in enumerate(keep)}
    n = table.num_rows
    return RawTable(path, names, pa.table(columns) if columns else pa.table({}),
                    lambda: range(1, n + 1))


def _few_values(meta: Any, schema: pa.Schema, at: int) -> bool:
    """Whether text column ``at`` of a Parquet file is kept as a small dictionary in every row
    group (at most a byte a row, dictionary and pages included: a title or a role, not an id).
    Read as a dictionary, its values are decoded and checked once, not once a row (three
    million contacts: 0.15-0.2 s less CPU); a wrong guess only costs time."""
    import pyarrow as pa

    if not pa.types.is_string(schema.field(at).type) or meta.num_columns != len(schema.names):
        return False
    chunks = [meta.row_group(g).column(at) for g in range(meta.num_row_groups)]
    return bool(chunks) and all(c.has_dictionary_page and c.physical_type == "BYTE_ARRAY"
                                and c.total_uncompressed_size <= max(c.num_values, 1)
                                for c in chunks)


def _parquet_text(path: Path, name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A Parquet column as the text a CSV cell would hold (an empty text is an empty cell); a
    column of text read as a dictionary stays one (:func:`_few_values`)."""
    import pyarrow as pa

    if _text_dictionary(column):
        return _by_dictionary(column, _empty_as_null)
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    plain = (pa.types.is_string(kind) or pa.types.is_large_string(kind)
             or pa.types.is_boolean(kind) or pa.types.is_integer(kind)
             or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
             or pa.types.is_date(kind) or pa.types.is_null(kind))
    if not plain:
        raise WorkspaceError(f"column {name!r} of {path.name} holds {column.type}, not text",
                             location=Location(str(path), None, name),
                             hint="store it as text (or a number, flag or date)")
    text = column if column.type == pa.string() else column.cast(pa.string())
    return _empty_as_null(text)


def _empty_as_null(text: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    empty = pc.equal(pc.binary_length(text), 0)
    if pc.any(empty).as_py():
        text = pc.if_else(empty, pa.scalar(None, pa.string()), text)
    return text


def _text_dictionary(column: pa.ChunkedArray | pa.Array) -> bool:
    """Whether ``column`` is text kept as a dictionary (its few values, and a code a row)."""
    import pyarrow as pa

    return pa.types.is_dictionary(column.type) and column.type.value_type == pa.string()


def _by_dictionary(column: pa.ChunkedArray,
                   change: Callable[[pa.Array], pa.Array]) -> pa.ChunkedArray:
    """A dictionary column with ``change`` applied to each chunk's values (not to each row);
    a value it makes null makes its rows null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = []
    for chunk in column.chunks:
        values = change(chunk.dictionary)
        indices = chunk.indices
        if values.null_count:
            lost = pc.take(values.is_null(), indices).fill_null(False)
            indices = pc.if_else(lost, pa.scalar(None, indices.type), indices)
        chunks.append(pa.DictionaryArray.from_arrays(indices, values))
    return pa.chunked_array(chunks, type=column.type)


def _decoded(column: Any) -> Any:
    """A text dictionary column as plain text (other columns as they are)."""
    import pyarrow as pa

    return column.cast(pa.string()) if _text_dictionary(column) else column


def _header_line(data: bytes, start: int = 0) -> int:
    """The line the header is on: after any blank lines (from ``start``, past a BOM)."""
    import re

    blank = re.compile(rb"[\r\n\t ]*").match(data, start)
    return data.count(b"\n", start, blank.end() if blank else start) + 1


#: pyarrow's block size; tests shrink it so that blocks split inside quoted values
BLOCK_SIZE = 1 << 22


def _fast_csv(path: Path, data: bytes, wanted: Collection[str] | None,
              types: dict[str, pa.DataType] | None = None, *, delimiter: str = ",",
              plain: bool = False) -> RawTable | None:
    """pyarrow's reader, or ``None`` when the file needs the exact parser.

    :param plain: only a file whose quoting is plain (:meth:`_LineScan.plain_quotes`): where
        a lenient parser and pyarrow could read stray quotes differently, the caller's own.
    """
    import pyarrow as pa
    from pyarrow import csv as pacsv

    if not data or data.isspace() or b"\x00" in data or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None
    scan = _LineScan(data)
    if plain and not scan.plain_quotes(delimiter):
        return None
    try:
        header = _fast_header(data, delimiter)
        if header is None:
            return None
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(block_size=BLOCK_SIZE, column_names=header,
                                           skip_rows=_header_line(data),
                                           # threads pay off past one block; below, starting
                                           # them costs more than the read
                                           use_threads=len(data) > BLOCK_SIZE),
            # a reader that allows line breaks in values cannot split the file into blocks at
            # any line end: 2-3x slower than finding out first that no value spans lines
            # a row of the wrong width raises (no handler: pyarrow would decode the row for it
            # and print an "exception ignored" for one that is not UTF-8): the exact parser
            # then reads the file and locates the row
            parse_options=pacsv.ParseOptions(delimiter=delimiter,
                                             newlines_in_values=scan.values_span_lines),
            convert_options=_convert_options(header, wanted, types))
    except (pa.ArrowInvalid, UnicodeDecodeError, ValueError):
        return None
    # the parse's scratch goes back to the system, not kept for the next allocation: a peak
    # later (numpy's arrays, written text) would add to it
    pa.default_memory_pool().release_unused()
    lines = _plain_row_lines(scan)
    if lines is None:  # rows spanning lines: the exact parser numbers them, from the bytes
        return RawTable(path, header, table, lambda: data_row_lines(path, data, scan))
    # the line numbers (8 bytes a row) are all a message needs: the file's bytes can go
    return RawTable(path, header, table, lines.tolist, line_numbers=lambda: lines)


#: The start of a streamed file read first: the header line must end in it
_HEAD = 1 << 20


def _streamed_csv(path: Path, wanted: Collection[str] | None,
                  types: dict[str, pa.DataType] | None = None) -> RawTable | None:
    """:func:`_fast_csv` of a big file without its bytes in memory: pyarrow reads the file
    while a thread reads it again, a few megabytes at a time into one buffer, for what
    :class:`_LineScan` finds (a second read from the page cache costs less than holding a
    215 MB copy beside the table, and the scan runs on the second core during the parse).

    pyarrow reads as if no value spans lines; ``None`` (the caller reads the bytes and takes
    the usual way) when the scan says one may, when the scan or the parse finds anything else
    the usual way handles (a NUL byte, a file of blanks, a bad row, a header past the first
    megabyte), when the file is small, or when it changed while it was read.
    """
    import os
    import stat
    import threading

    import pyarrow as pa
    from pyarrow import csv as pacsv

    try:
        handle = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below, after the thread
    except OSError:
        return None
    with handle:
        try:
            before = os.fstat(handle.fileno())
            if not stat.S_ISREG(before.st_mode) or before.st_size < max(STREAM_FROM, 1):
                return None
            head = handle.read(_HEAD)
        except OSError:
            return None
        header = _stream_header(head)
        if header is None:
            return None
        stop = threading.Event()
        ahead = scan_for(path, file_identity(before))  # kam's main may have started the scan
        if ahead is None:
            fresh = _StreamScan(head)
            scan: _StreamScan | None = fresh
            thread = threading.Thread(target=fresh.read_rest, args=(handle, stop), daemon=True)
            thread.start()
        else:
            thread = ahead.thread
        try:
            table = pacsv.read_csv(
                pa.OSFile(str(path)),
                read_options=pacsv.ReadOptions(block_size=BLOCK_SIZE, column_names=header,
                                               skip_rows=_header_line(head),
                                               use_threads=before.st_size > BLOCK_SIZE),
                parse_options=pacsv.ParseOptions(newlines_in_values=False),
                convert_options=_convert_options(header, wanted, types))
        except (pa.ArrowInvalid, UnicodeDecodeError, ValueError, OSError):
            return None
        finally:
            stop.set()  # a parse that failed does not wait for the rest of the scan
            thread.join()
        try:
            after, now = os.fstat(handle.fileno()), os.stat(path)
        except OSError:
            return None
    if ahead is not None:
        scan = ahead.result()
    same = all(file_identity(s) == file_identity(before) for s in (after, now))
    if scan is None or not same or not scan.done(before.st_size) or scan.values_span_lines:
        return None
    pa.default_memory_pool().release_unused()  # as _fast_csv
    lines = _plain_row_lines(scan)
    if lines is None:  # pragma: no cover - values_span_lines covers what makes it None
        return None
    return RawTable(path, header, table, lines.tolist, line_numbers=lambda: lines)


def scan_rest(handle: Any) -> _StreamScan | None:
    """:func:`_streamed_csv`'s scan of a whole file from its start, ``handle`` open at the
    start (:mod:`kamcore.workspace.ahead` runs it while ``kam`` starts up); ``None`` when the
    file's header is not one a streamed read takes."""
    import threading

    head = handle.read(_HEAD)
    if _stream_header(head) is None:
        return None
    scan = _StreamScan(head)
    scan.read_rest(handle, threading.Event())
    return scan


def _stream_header(head: bytes) -> list[str] | None:
    """:func:`_fast_header` of a file's first megabyte, when its leading blanks and its header
    line end in it and it is neither UTF-16 nor holds a NUL byte there."""
    import re

    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head:
        return None
    blank = re.compile(rb"[\r\n\t ]*").match(head)
    if head.find(b"\n", blank.end() if blank else 0) < 0:
        return None
    try:
        return _fast_header(head)
    except (UnicodeDecodeError, ValueError):  # as _fast_csv: the exact parser words it
        return None


def _convert_options(header: list[str], wanted: Collection[str] | None,
                     types: dict[str, pa.DataType] | None) -> Any:
    """Every column as text (``types`` excepted), an empty cell null, only ``wanted``."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    return pacsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()) | (types or {}),
        null_values=[""],
        include_columns=[c for c in header if wanted is None or c in wanted],
        strings_can_be_null=True, quoted_strings_can_be_null=True)


class _StreamScan:
    """:class:`_LineScan`'s answers for a file read a piece at a time (:func:`_streamed_csv`):
    the quotes counted and the line ends kept as the pieces go by, the bytes let go."""

    def __init__(self, head: bytes) -> None:
        self.head = head
        self.bom = 3 if head[:3] == b"\xef\xbb\xbf" else 0
        self.size = 0  # bytes after the BOM
        self.read = 0  # bytes of the file, BOM included
        self.quotes = 0
        self.odd_line = False
        self.crs = 0
        self.nul = False
        self.blank = True  # only whitespace so far (a file of blanks is the exact parser's)
        self.last = -1  # the byte before the next piece
        self.failed = False
        self._ends: list[np.ndarray] = []
        self._cr_before: list[np.ndarray | None] = []
        self.feed(head, len(head))

    def read_rest(self, handle: Any, stop: Any) -> None:
        """Read and feed the file from where the head ended, into one buffer (a thread)."""
        buffer = bytearray(BLOCK_SIZE)
        try:
            while not stop.is_set():
                got = handle.readinto(buffer)
                if not got:
                    return
                self.feed(buffer, got)
        except OSError:
            self.failed = True

    def done(self, size: int) -> bool:
        """Whether the whole file (``size`` bytes) went by, and nothing sends it the usual way."""
        return (not self.failed and self.read == size and not self.nul and not self.blank)

    def feed(self, data: bytes | bytearray, stop: int) -> None:
        """The next ``data[:stop]`` of the file, a megabyte at a time (the comparisons stay in
        cache); a byte search first, so a file without quotes or CRs is not compared for them."""
        import numpy as np

        start = self.bom if self.read == 0 else 0
        self.read += stop
        if self.blank and start < stop:
            self.blank = data[start:stop].isspace()
        if data.find(b"\x00", start, stop) >= 0:
            self.nul = True
        raw = np.frombuffer(data, dtype=np.uint8, count=stop)
        step = 1 << 20
        for at in range(start, stop, step):
            end = min(at + step, stop)
            self._piece(raw[at:end], data.find(b'"', at, end) >= 0,
                        data.find(b"\r", at, end) >= 0)

    def _piece(self, raw: np.ndarray, quoted: bool, cr: bool) -> None:
        import numpy as np

        newlines = np.flatnonzero(raw == 10)
        if quoted or self.quotes % 2:  # an odd count so far makes every line end odd
            quotes = np.flatnonzero(raw == 34) if quoted else newlines[:0]
            if not self.odd_line and len(newlines) and (
                    (np.searchsorted(quotes, newlines) + self.quotes) % 2).any():
                self.odd_line = True
            self.quotes += len(quotes)
        if cr or self.last == 13:  # is each line end a CRLF's LF?
            before = np.full(len(newlines), self.last == 13)
            inside = newlines > 0
            before[inside] = raw[newlines[inside] - 1] == 13
            self._cr_before.append(before)
            self.crs += int(np.count_nonzero(raw == 13)) if cr else 0
        else:
            self._cr_before.append(None)
        self._ends.append(newlines + self.size)
        self.size += len(raw)
        if len(raw):
            self.last = int(raw[-1])

    # -- what _plain_row_lines asks, as _LineScan answers it

    @cached_property
    def ends(self) -> np.ndarray:
        import numpy as np

        return np.concatenate(self._ends) if self._ends else np.zeros(0, np.intp)

    @property
    def quoted(self) -> bool:
        """Whether the file holds a quote (``b'"' in data``)."""
        return self.quotes > 0

    @property
    def odd_quotes(self) -> bool:
        return self.quoted and (self.odd_line or self.quotes % 2 == 1)

    @property
    def lone_cr(self) -> bool:
        import numpy as np

        before = self.cr_before()
        return self.crs > (int(np.count_nonzero(before)) if before is not None else 0)

    @property
    def values_span_lines(self) -> bool:
        return self.quoted and (self.lone_cr or self.odd_quotes)

    @property
    def header(self) -> int:
        return _header_line(self.head, self.bom)

    @property
    def last_cr(self) -> bool:
        return self.last == 13

    @cached_property
    def _cr_flags(self) -> np.ndarray | None:
        import numpy as np

        if not self.crs:
            return None
        return np.concatenate([np.zeros(len(ends), dtype=bool) if flags is None else flags
                               for ends, flags in zip(self._ends, self._cr_before,
                                                      strict=True)])

    def cr_before(self) -> np.ndarray | None:
        """For each line end, whether a CR comes before it (``None``: the file has no CR)."""
        return self._cr_flags


class _LineScan:
    """Where a file's lines end, found once with numpy and shared by the reader's two questions:
    may a quoted value span lines (pyarrow's slower mode), and on which line does each row start
    (for messages)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.bom = 3 if data[:3] == b"\xef\xbb\xbf" else 0

    @cached_property
    def raw(self) -> np.ndarray:
        import numpy as np

        return np.frombuffer(self.data, dtype=np.uint8, offset=self.bom)

    @cached_property
    def ends(self) -> np.ndarray:
        """Offsets of the LFs, found a megabyte at a time (the comparisons stay in cache: a
        file-sized temporary costs more than the comparing)."""
        import numpy as np

        raw, step = self.raw, 1 << 20
        parts = [np.flatnonzero(raw[start: start + step] == 10) + start
                 for start in range(0, len(raw), step)]
        return np.concatenate(parts) if parts else np.zeros(0, np.intp)

    @cached_property
    def lone_cr(self) -> bool:
        """A CR not followed by LF: a line end of its own to some readers, not to others."""
        data = self.data
        return b"\r" in data and data.count(b"\r") > data.count(b"\r\n")

    @cached_property
    def odd_quotes(self) -> bool:
        """Some line holds an odd number of quotes: a quoted value goes on past its end.

        The first odd line is the first line end with an odd number of quotes before it (or
        an odd total), so a megabyte at a time the quotes are counted, not kept: a Data
        Loader export quotes every cell (50 million quotes in 3 million contacts, whose
        offsets took 400 MB and 3 s of CPU to gather and sort into lines). The line ends
        found on the way are kept when every line is even (the line numbers use them).
        """
        import numpy as np

        if b'"' not in self.data:
            return False
        raw, step = self.raw, 1 << 20
        ends: list[np.ndarray] = []
        seen = 0  # quotes before the piece
        for start in range(0, len(raw), step):
            piece = raw[start: start + step]
            quotes = np.flatnonzero(piece == 34)
            newlines = np.flatnonzero(piece == 10)
            if ((np.searchsorted(quotes, newlines) + seen) % 2).any():
                return True
            ends.append(newlines + start)
            seen += len(quotes)
        self.__dict__.setdefault("ends", np.concatenate(ends) if ends
                                 else np.zeros(0, np.intp))
        return seen % 2 == 1

    def plain_quotes(self, delimiter: str) -> bool:
        """Whether every quoted cell is quoted plainly: it opens at the cell's start, doubles
        the quotes it holds and closes at the cell's end, on one line; and no other cell holds
        a quote. Every CSV reader reads such a file alike; a stray quote (``ab"c``,
        ``"ab"c``) is read differently by lenient parsers, so the caller's own reads it.

        The quotes are counted a megabyte at a time, as :attr:`odd_quotes` does: the even
        ones (from the start) open a quoted cell, the odd ones close it; an opening quote
        must follow a separator, a line end or another quote (a doubled one), a closing quote
        must come before one of those.
        """
        import numpy as np

        if b'"' not in self.data:
            return True
        if self.values_span_lines:
            return False
        raw, step = self.raw, 1 << 20
        edge = np.zeros(256, dtype=bool)
        edge[[ord(delimiter), 10, 34]] = True
        after = edge.copy()
        after[13] = True  # CRLF: no lone CR here (values_span_lines)
        seen = 0
        for start in range(0, len(raw), step):
            quotes = np.flatnonzero(raw[start: start + step] == 34) + start
            if not len(quotes):
                continue
            opening = (np.arange(seen, seen + len(quotes)) % 2) == 0
            before = raw[np.maximum(quotes - 1, 0)]
            ok_before = edge[before] | (quotes == 0)
            nxt = raw[np.minimum(quotes + 1, len(raw) - 1)]
            ok_after = after[nxt] | (quotes == len(raw) - 1)
            if not np.where(opening, ok_before, ok_after).all():
                return False
            seen += len(quotes)
        return True

    @property
    def values_span_lines(self) -> bool:
        """Whether a quoted value may hold a line break (never a false "no")."""
        return b'"' in self.data and (self.lone_cr or self.odd_quotes)

    @property
    def size(self) -> int:
        """Bytes after the BOM."""
        return len(self.data) - self.bom

    @property
    def header(self) -> int:
        """The header's line (:func:`_header_line`)."""
        return _header_line(self.data, self.bom)

    @property
    def last_cr(self) -> bool:
        return self.data[-1:] == b"\r" and self.size > 0

    def cr_before(self) -> np.ndarray | None:
        """For each line end, whether a CR comes before it (``None``: the file has no CR)."""
        import numpy as np

        if b"\r" not in self.data:
            return None
        ends = self.ends
        return (ends > 0) & (self.raw[np.maximum(ends - 1, 0)] == 13)


def _fast_header(data: bytes, delimiter: str = ",") -> list[str] | None:
    """The header's names (trimmed), or ``None`` when it is not a plain single line."""
    import csv
    import re

    blank = re.compile(rb"[\r\n\t ]*").match(data)
    start = blank.end() if blank else 0
    end = data.find(b"\n", start)
    line = data[start: end if end >= 0 else len(data)]
    # a quoted header ("id","name": Data Loader quotes every cell) reads here too; an odd
    # number of quotes means a name spans lines: the exact parser words that
    if line.count(b'"') % 2 or b"\r" in line.rstrip(b"\r"):
        return None
    text = line.decode("utf-8-sig", errors="strict").rstrip("\r")
    header = [name.strip() for name in next(csv.reader([text], delimiter=delimiter))]
    if len(set(header)) != len(header) or "" in header:
        return None  # the exact parser words these errors
    return header


def data_row_lines(path: Path | None, data: bytes,
                   scan: _LineScan | None = None) -> Sequence[int]:
    """The line each data row starts on, as the exact parser counts them (only for messages).

    When no quoted cell spans lines (every line holds an even number of quotes) and lines end
    in LF or CRLF, the rows are the non-empty lines after the header: found with numpy in one
    pass over the bytes. Anything else asks the exact parser.
    """
    lines = _plain_row_lines(scan or _LineScan(data))
    if lines is not None:
        return lines.tolist()
    table, _ = _parse_exact(path or Path("?"), data)
    return [line for line, _ in table.rows]


def _plain_row_lines(scan: _LineScan | _StreamScan) -> np.ndarray | None:
    """The 1-based line each data row starts on when every row is one line, else ``None``."""
    import numpy as np

    if scan.lone_cr or scan.odd_quotes:
        return None  # a quoted cell holds a line break, or some lines end in a lone CR
    ends, size, header = scan.ends, scan.size, scan.header
    cr_before = scan.cr_before()
    if cr_before is None:  # LF only (as kam writes): a line is empty when it is its LF
        last = len(ends) + 1 if size > (int(ends[-1]) + 1 if len(ends) else 0) else None
        empty = np.diff(ends, prepend=-1) == 1
        lines = (np.arange(header + 1, len(ends) + 1) if not empty[header:].any()
                 else np.flatnonzero(~empty) + 1)
        if last is not None:
            lines = np.append(lines, last)
        return lines[lines > header]
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [size]))
    length = stops - starts
    crlf = (length > 0) & np.append(cr_before, scan.last_cr)
    filled = np.flatnonzero((length - crlf) > 0) + 1  # 1-based numbers of non-empty lines
    return filled[filled > header]


def _parse_exact(path: Path, data: bytes) -> tuple[Any, list[WorkspaceError]]:
    from kamcore.workspace.csvio import parse_table

    return parse_table(decode_bytes(data, path), path,
                       empty_hint="it needs at least a header line")


def decode_bytes(data: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with its BOM; a bad byte names its line."""
    from kamcore.workspace.yamlio import decode_text

    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise WorkspaceError(f"{path} starts like UTF-16 but is not",
                                 location=Location(str(path)),
                                 hint="save the file as UTF-8") from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise WorkspaceError("the file contains a NUL byte", location=Location(str(path), line),
                             hint="save the file as UTF-8 text (CSV UTF-8)")
    return decode_text(data, path)


def _slow_csv(path: Path, data: bytes) -> RawTable:
    import pyarrow as pa

    parsed, problems = _parse_exact(path, data)
    lines = [line for line, _ in parsed.rows]
    columns = {name: pa.array([row[i] or None for _, row in parsed.rows], pa.string())
               for i, name in enumerate(parsed.header)}
    table = pa.table(columns) if columns else pa.table({})
    return RawTable(path, list(parsed.header), table, lambda: lines, list(problems))


def _inline_table(records: Any, config: Path) -> RawTable:
    """Inline YAML records (kam.yaml ``accounts:`` / ``people:``) as the same text columns."""
    import pyarrow as pa

    from kamcore.workspace.csvio import format_cell
    from kamcore.workspace.yamlio import LINE_KEY, strip_lines

    if not isinstance(records, list):
        raise WorkspaceError("inline records must be a list of mappings",
                             location=Location(str(config)), hint="write '- {id: ..., name: ...}'")
    flat_rows: list[dict[str, Any]] = []
    lines: list[int | None] = []
    for record in records:
        if not isinstance(record, dict):
            raise WorkspaceError(f"inline record {record!r} is not a mapping",
                                 location=Location(str(config)))
        lines.append(record.get(LINE_KEY))
        flat: dict[str, Any] = {}
        for key, value in strip_lines(record).items():
            if key == "metrics" and isinstance(value, dict):
                flat.update(value)
            elif isinstance(value, dict):
                flat.update({f"{key}.{k}": v for k, v in value.items()})
            else:
                flat[str(key)] = value
        flat_rows.append(flat)
    header: list[str] = []
    for flat in flat_rows:
        header += [k for k in flat if k not in header]
    columns = {name: pa.array([_inline_cell(r.get(name), format_cell) for r in flat_rows],
                              pa.string()) for name in header}
    return RawTable(config, header, pa.table(columns) if columns else pa.table({}),
                    lambda: lines)


def _inline_cell(value: Any, format_cell: Callable[[object], str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        text = format_cell(value)
    else:
        text = repr(value) if isinstance(value, float) else str(value)
    return text or None


# -- the reading rules ------------------------------------------------------------------------


def normalise(kind: str, raw: RawTable, metric_names: set[str],
              problems: list[KamError]) -> RecordTable:
    """Apply the reading rules to raw text columns; bad cells become located problems."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc


    problems.extend(raw.problems)
    table = raw.table
    n = table.num_rows
    # columns stay in the reader's chunks: combining copies every cell, and most columns are
    # never asked for as one array (RecordTable.column combines the ones rules look at)
    columns: dict[str, pa.Array | pa.ChunkedArray] = dict(zip(
        table.column_names, _each(_trimmed, table.columns, threads=n >= THREADS_FROM),
        strict=True))
    # a Parquet file's columns of few values come as dictionaries, trimmed above value by
    # value; flags are read value by value too, the rest is plain text from here on
    flags = {"person": "active", "contact": "primary"}.get(kind)
    columns = {name: col if name == flags else _decoded(col) for name, col in columns.items()}
    early = _start_link(kind, columns) if n >= THREADS_FROM else None
    # rows left blank by a spreadsheet (every cell empty) are not records; a column without
    # an empty cell settles it for every row
    filled = np.zeros(n, dtype=bool)
    if any(col.null_count == 0 for col in columns.values()):
        filled[:] = True
    for col in columns.values() if not filled.all() else ():
        filled |= _mask(col.is_valid())
    bad = np.zeros(n, dtype=bool)
    report = _Reporter(kind, raw, columns, problems)
    metrics = [m for m in raw.header if m in metric_names] if kind == "account" else []
    core = CORE_COLUMNS[kind]

    def null() -> pa.Array:
        return pa.nulls(n, pa.string())

    ids = columns.get("id", null())
    bad |= report(filled & ~_mask(ids.is_valid()), "id", "is missing a value")
    if _may_be_bad_id(ids):
        bad |= report(_mask(ids.is_valid()) & ~_mask(pc.match_substring_regex(ids, ID_PATTERN)),
                      "id", "{value!r} is not a valid id (no commas, no line breaks)")
    if "name" in columns or "name" not in raw.header:  # a column not read is not checked
        name_col = columns.get("name", null())
        bad |= report(filled & ~_mask(name_col.is_valid()), "name", "is missing a value")
    if kind == "account":
        columns["tier"], wrong = _enum(columns.get("tier", null()), [t.value for t in Tier],
                                       pc.utf8_lower)
        bad |= report(filled & wrong, "tier", "{value!r} is not a tier",
                      missing="is missing a value")
        for name, codes, noun in (
                ("country", country_codes(), "an ISO 3166-1 alpha-2 country code (e.g. DE, US)"),
                ("currency", currency_codes(), "an ISO 4217 currency code (e.g. EUR, USD)")):
            if name in columns:
                columns[name], wrong = _enum(columns[name], sorted(codes), pc.utf8_upper)
                given = _mask(columns[name].is_valid())
                bad |= report(wrong & given, name,
                              f"{{value!r}} is not {noun}")
        read = _each(_numbers, [columns[name] for name in metrics],
                     threads=n >= THREADS_FROM)  # each metric on its own core
        for name, (columns[name], wrong_cells, nonfinite) in zip(metrics, read, strict=True):
            bad |= report(wrong_cells, name, "{value!r} is not a number", hint=_NUMBER_HINT)
            bad |= report(nonfinite, name, "{value!r} is not a finite number",
                          hint="use a finite number, or leave the cell empty")
    elif kind == "person":
        columns["role"], wrong = _enum(columns.get("role", null()), [r.value for r in Role],
                                       pc.utf8_lower)
        bad |= report(filled & wrong, "role", "{value!r} is not a role",
                      missing="is missing a value")
        capacity = columns.get("capacity", null())
        digits = _mask(pc.match_substring_regex(capacity, r"^\d{1,15}$"))
        bad |= report(_mask(capacity.is_valid()) & ~digits, "capacity",
                      "{value!r} is not a whole number of accounts")
        columns["capacity"] = pc.if_else(pa.array(digits), capacity, None).cast(pa.int64())
        bad |= _email(columns, report)
        columns["active"], wrong = _flag(columns.get("active", null()), default=True)
        bad |= report(wrong, "active", "{value!r} is not true/false")
    elif kind == "contact":
        if "account" in columns or "account" not in raw.header:  # read: checked
            bad |= report(filled & ~_mask(columns.get("account", null()).is_valid()),
                          "account", "is missing a value")
        if "role" in columns:  # plugins add roles: the rule KAM162 checks them
            columns["role"] = _folded(columns["role"], pc.utf8_lower)
        bad |= _email(columns, report)
        columns["primary"], wrong = _flag(columns.get("primary", null()), default=False)
        bad |= report(wrong, "primary", "{value!r} is not true/false")
        if "last_contact" in columns:
            columns["last_contact"], wrong = _dates(columns["last_contact"])
            bad |= report(wrong, "last_contact", "{value!r} is not a date (YYYY-MM-DD)")
    keep = filled & ~bad
    ordered = [c for c in core if c in columns or c in LINK_COLUMNS]
    ordered += [c for c in raw.header if c not in ordered and c in columns]
    out = {c: columns.get(c, null()) for c in ordered}
    result = pa.table(out)
    rows = np.flatnonzero(keep)
    if len(rows) != n:
        result = result.take(pa.array(rows))
    pa.default_memory_pool().release_unused()  # the rules' scratch columns (see _fast_csv)
    records = RecordTable(kind=kind, table=result, rows=rows, header=list(raw.header),
                          metrics=metrics, path=raw.path, line_of_row=raw.line_of_row,
                          line_numbers=raw.line_numbers)
    if early is not None and len(rows) == n:  # rows left out: the codes are of other rows
        records._early[PARENT_LINKS[kind]] = early
    return records


#: The column that links each kind of record into its own tree, hashed with the ids early
#: (a contact's reports_to: the customer's org chart, which validate links first)
PARENT_LINKS = {"account": "parent", "contact": "reports_to"}


def _start_link(kind: str, columns: dict[str, pa.Array | pa.ChunkedArray]
                ) -> Callable[[], np.ndarray] | None:
    """The hash pass over the trimmed ids and parents of a big table, started on a thread
    while the reading rules go on: every command over a million accounts links the tree
    first, and this takes a core's 0.1-0.15 s."""
    link = PARENT_LINKS.get(kind)
    if link is None or "id" not in columns or link not in columns:
        return None
    from kamcore.perf import started
    from kamcore.structure import link_codes

    ids, parents = columns["id"], columns[link]
    return started(lambda: link_codes(ids, parents))


#: Tables from this many rows on have their columns checked for spaces, and their metrics read,
#: on a thread per core
THREADS_FROM = 100_000


def _each(work: Callable[[Any], Any], items: Sequence[Any], *, threads: bool) -> list[Any]:
    """``[work(item) for item in items]``, on a thread per core when ``threads`` (Arrow's
    kernels and numpy's loops let go of the GIL: the columns of a million rows are checked
    on both cores)."""
    import os

    workers = min(os.cpu_count() or 1, len(items), 8)
    if not threads or workers < 2:
        return [work(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(work, items))


def _trimmed(col: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """A raw text column trimmed, a cell of only spaces empty (null); itself when no cell
    needs it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if _text_dictionary(col):  # the few values, not every row
        return _by_dictionary(col, _trimmed)
    if col.null_count < len(col) and _may_need_trim(col):
        col = _trim(col)
        if pc.any(pc.equal(col, "")).as_py():  # a cell of only spaces is an empty cell
            col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
    return col


def _email(columns: dict[str, pa.Array], report: _Reporter) -> np.ndarray:
    """The mask of rows whose email cell is given but not an address (and reports them)."""
    import pyarrow as pa

    email = columns.get("email")
    if email is None:
        email = pa.nulls(report.raw.table.num_rows, pa.string())
    return report(_mask(email.is_valid()) & ~_matches(email, EMAIL_PATTERN),
                  "email", "{value!r} is not an email address")


def _matches(col: pa.Array | pa.ChunkedArray, pattern: str) -> np.ndarray:
    """The mask of cells that ``pattern`` matches (an empty cell: no), a big column's slices
    on a thread per core: the pattern runs cell by cell (three million emails: 0.18 s of
    one core, while the other often waits for this table)."""
    import numpy as np
    import pyarrow.compute as pc

    from kamcore.perf import chunks

    n = len(col)
    if n < THREADS_FROM:
        return _mask(pc.match_substring_regex(col, pattern))
    parts = _each(lambda span: _mask(pc.match_substring_regex(
        col.slice(span[0], span[1] - span[0]), pattern)),
                  list(chunks(n, -(-n // 4))), threads=True)
    return np.concatenate(parts)


def _flag(col: pa.Array | pa.ChunkedArray, *, default: bool) -> tuple[pa.Array, np.ndarray]:
    """A true/false column (``default`` when empty), and the mask of cells that are neither.

    Each distinct value is read once (three million cells hold two or three): one hash
    pass, or none for a column that comes as a dictionary (Parquet's)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(col)
    chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    yes = np.zeros(len(col), dtype=bool)
    no = np.zeros(len(col), dtype=bool)
    at = 0
    for chunk in chunks:
        values = pc.utf8_lower(chunk.dictionary)
        # a code per row, -1 for an empty cell: the last entry of each lookup (neither)
        codes = chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        for found, words in ((yes, TRUE_WORDS), (no, FALSE_WORDS)):
            known = np.append(_mask(pc.is_in(values, pa.array(words))), False)
            found[at: at + len(chunk)] = known[codes]
        at += len(chunk)
    given = _mask(col.is_valid())
    return pa.array(yes | (default & ~no & ~given)), given & ~yes & ~no


def _dates(col: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """ISO dates (YYYY-MM-DD) as date32, and the mask of cells that are not one (2026-02-30
    too)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if col.null_count == len(col):  # an empty column (no one filled it in) parses to nulls
        return pa.nulls(len(col), pa.date32()), np.zeros(len(col), dtype=bool)
    shaped = pc.if_else(pc.match_substring_regex(col, DATE_PATTERN), col,
                        pa.scalar(None, pa.string()))
    parsed = pc.strptime(shaped, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2026-02-30 over to March: a date is real when it prints back the same
    real = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), shaped)
    dates = pc.if_else(real, parsed, pa.scalar(None, parsed.type)).cast(pa.date32())
    return dates, _mask(col.is_valid()) & ~_mask(dates.is_valid())


#: first bytes of whitespace: ASCII's, and the lead bytes of Unicode's (U+0085, U+00A0,
#: U+1680, U+2000-U+205F, U+3000)
_SPACE_FIRST = bytes([9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 0xC2, 0xE1, 0xE2, 0xE3])


def _may_need_trim(col: pa.Array | pa.ChunkedArray) -> bool:
    """Whether any cell may start or end with whitespace, from its first and last bytes alone.

    Trimming copies the whole column; most columns have nothing to trim. A cell is suspect
    when its first byte is whitespace or starts a multi-byte space, or its last byte is
    whitespace or ends any non-ASCII character: never a false "no".
    """
    import pyarrow as pa

    from kamcore.textcolumns import edge_bytes, table_of

    space = table_of(_SPACE_FIRST)
    for chunk in col.chunks if isinstance(col, pa.ChunkedArray) else [col]:
        edges = edge_bytes(chunk)
        if edges is None:
            return True
        first, last = edges
        if space[first].any() or space[last].any() or (last >= 0x80).any():
            return True
    return False


def _may_be_bad_id(ids: pa.Array | pa.ChunkedArray) -> bool:
    """Whether :data:`ID_PATTERN` could fail on some id of a trimmed column: only a comma or
    a line break can make it fail once no cell starts or ends with whitespace, and a byte
    search finds those without running the pattern over three million ids."""
    from kamcore.textcolumns import any_byte_of

    return any_byte_of(ids, b",\r\n")


def _folded(col: pa.Array | pa.ChunkedArray,
            case: Callable[[pa.Array], pa.Array]) -> pa.Array | pa.ChunkedArray:
    """``case(col)`` (lower or upper case), or ``col`` itself when that changes none of its
    distinct values: three million roles hold a handful, already written in lower case."""
    import pyarrow.compute as pc

    distinct = pc.unique(col)
    if pc.all(pc.equal(case(distinct), distinct)).as_py() is False:
        return case(col)
    return col


def _trim(col: pa.Array) -> pa.Array:
    """Whitespace off both ends, Unicode's (a no-break space) included; the ASCII kernel, 10x
    faster, gives the same result when every cell is ASCII."""
    import pyarrow.compute as pc

    if pc.all(pc.string_is_ascii(col)).as_py() is not False:
        return pc.ascii_trim_whitespace(col)
    return pc.utf8_trim_whitespace(col)


def _mask(arr: pa.Array) -> np.ndarray:
    """A pyarrow boolean array as numpy (null as False)."""
    return arr.fill_null(False).to_numpy(zero_copy_only=False)


def _enum(col: pa.Array, allowed: Iterable[str],
          case: Callable[[pa.Array], pa.Array]) -> tuple[pa.Array, np.ndarray]:
    """Case-folded values and the mask of cells that are not one of ``allowed``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    folded = _folded(col, case)
    known = _mask(pc.is_in(folded, pa.array(list(allowed), pa.string())))
    return folded, ~known


#: The bytes of a plain number (NUMBER_PATTERN); "inf" and "nan" take letters besides.
_NUMBER_BYTES = b"0123456789.eE+-"


def _numbers(col: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Text cells as float64 (NaN when empty), and the masks of cells that are not numbers and
    of cells that are not finite (``inf``, ``nan``, ``1e999``)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.textcolumns import only_bytes_of

    given = _mask(col.is_valid())
    if only_bytes_of(col, _NUMBER_BYTES):  # the usual column: pyarrow's parse, if it takes all
        try:
            numbers = col.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            pass  # a cell like "1.2.3": the pattern finds which
        else:  # each cell pyarrow reads from these bytes matches NUMBER_PATTERN (tested)
            nonfinite = given & ~np.isfinite(numbers)  # 1e999 parses as inf
            return pa.array(numbers, pa.float64()), np.zeros(len(col), dtype=bool), nonfinite
    plain = _mask(pc.match_substring_regex(col, NUMBER_PATTERN))
    wrong = given & ~plain
    clean = pc.if_else(pa.array(plain), col, pa.scalar(None, pa.string()))
    values = clean.cast(pa.float64()).fill_null(np.nan)
    numbers = values.to_numpy(zero_copy_only=False)
    nonfinite = given & ((plain & ~np.isfinite(numbers))  # 1e999 parses as inf
                         | _mask(pc.match_substring_regex(col, NONFINITE_PATTERN,
                                                          ignore_case=True)))
    return pa.array(numbers, pa.float64()), wrong & ~nonfinite, nonfinite


class _Reporter:
    """Turns a mask of bad cells into located problems (lines looked up only then)."""

    def __init__(self, kind: str, raw: RawTable, columns: dict[str, pa.Array],
                 problems: list[KamError]) -> None:
        self.kind, self.raw, self.columns, self.problems = kind, raw, columns, problems
        self._lines: Sequence[int | None] | None = None

    def __call__(self, mask: np.ndarray, column: str, message: str, *,
                 missing: str | None = None, hint: str | None = None) -> np.ndarray:
        import numpy as np

        rows = np.flatnonzero(mask)
        if not len(rows):
            return mask
        if self._lines is None:
            self._lines = self.raw.line_of_row()
        cells = self.raw.table.column(column) if column in self.raw.table.column_names else None
        ids = self.columns.get("id")
        for row in rows[:200].tolist():
            value = cells[row].as_py() if cells is not None else None
            text = value.strip() if isinstance(value, str) else value
            if isinstance(text, str) and len(text) > 60:  # a 50 MB cell stays out of messages
                text = text[:40] + f"... ({len(text):,} characters)"
            what = missing if (missing and not text) else message.format(value=text)
            record = ids[row].as_py() if ids is not None else None
            noun = NOUNS[self.kind]
            who = f"{noun} {record!r}: " if record else f"{noun} without id: "
            line = self._lines[row] if row < len(self._lines) else None
            self.problems.append(KamError(
                who + what, location=Location(str(self.raw.path), line, column)
                if self.raw.path else None, hint=hint or _HINTS.get(column)))
        if len(rows) > 200:
            self.problems.append(KamError(
                f"... and {len(rows) - 200} more bad {column!r} cells",
                location=Location(str(self.raw.path)) if self.raw.path else None))
        return mask

