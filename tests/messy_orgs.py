"""Messy-but-valid workspaces for the agreement property test (issue 9, item 4).

A workspace is drawn in two steps:

1. :class:`Truth`: a valid org in its normalised form (ids and codes as the reading rules say
   they are: trimmed, tiers and roles lower case, countries and currencies upper case), with
   metric columns in accounts.csv, optional facts over several periods and FX rates for
   several currencies. Every generated org obeys the core rules: a global account with
   national accounts in at least two countries, each national account managed by a NAM who
   reports to the global account's GAM, key accounts managed by KAMs reporting to that NAM,
   regular accounts (some nested) managed by AMs reporting to that KAM, nobody over capacity
   and no account manager without an account: ``kam validate`` finds no error or warning.
2. :class:`MessyWorkspace`: the same org written as a spreadsheet might leave it: cells
   padded with spaces, case variants of tiers, roles, countries, currencies and booleans,
   a UTF-8 byte-order mark, CRLF line ends, every cell quoted, names with commas and quotes,
   columns in any order. Each kind of mess is switched on per column (or per file), so that
   hypothesis shrinks a failure to the one kind of mess that causes it.

:func:`messy_workspaces` draws valid workspaces; :func:`broken_workspaces` draws one with a
single defect that no reading rule can repair (an unknown tier, a parent that does not exist
even after trimming, a metric that is not a number), and says on which line it is.
"""

from __future__ import annotations

import copy
import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

COUNTRIES = ("DE", "FR", "US", "GB", "JP")
CURRENCIES = ("EUR", "USD", "GBP")
PERIODS = ("2026Q3", "2026Q4")
RATES = (0.5, 2.0, 1.25, 0.75, 4.0)
METRICS = ("revenue", "orders", "receivables")
MONEY = frozenset({"revenue", "receivables"})
NAMES = ("Globex", "Acme, Inc.", 'The "Big" One', "Société Générale", "Müller & Söhne, KG",
         "Nordwind 'North'", "Ørsted; Ltd")
ACCOUNT_COLUMNS = ("id", "name", "tier", "parent", "manager", "country", "currency", *METRICS)
PEOPLE_COLUMNS = ("id", "name", "role", "reports_to", "capacity", "email", "active",
                  "specialty")
FACT_COLUMNS = ("account", "period", "metric", "value")
FX_COLUMNS = ("currency", "period", "rate")

#: Padding around a cell: always some, trailing first (what spreadsheets leave most).
PADS = (("", " "), (" ", ""), (" ", "  "), ("  ", ""))
#: Non-canonical spellings, per kind of cell.
CASES = {
    "tier": (str.capitalize, str.upper),
    "role": (str.capitalize, str.upper),
    "country": (str.lower, str.capitalize),
    "currency": (str.lower, str.capitalize),
    "period": (str.lower,),
}
TRUE_WORDS = ("Yes", "", "TRUE", "yes", "1", "Y", "True")  # empty: active by default
FALSE_WORDS = ("FALSE", "No", "no", "0", "N", "False")


# ---------------------------------------------------------------------------------------------
# The truth: the org as every reader must understand it


@dataclass
class Acc:
    id: str
    name: str
    tier: str
    parent: str | None
    manager: str
    country: str
    currency: str | None
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class Per:
    id: str
    name: str
    role: str
    reports_to: str | None
    capacity: int | None = None
    active: bool = True
    specialty: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Fact:
    account: str
    period: str
    metric: str
    value: float


@dataclass
class Truth:
    """A valid org, normalised; accounts and people in file order (parents first)."""

    name: str
    currency: str
    accounts: dict[str, Acc]
    people: dict[str, Per]
    facts: list[Fact] = field(default_factory=list)
    #: (currency, period or "*") -> reporting-currency units per 1 unit.
    fx: dict[tuple[str, str], float] = field(default_factory=dict)

    # -- the account tree -------------------------------------------------------------------
    def children(self, aid: str | None) -> list[str]:
        return [a.id for a in self.accounts.values() if a.parent == aid]

    def subtree(self, aid: str) -> list[str]:
        out = [aid]
        for child in self.children(aid):
            out.extend(self.subtree(child))
        return out

    def depth(self, aid: str) -> int:
        parent = self.accounts[aid].parent
        return 0 if parent is None else 1 + self.depth(parent)

    # -- the management tree ----------------------------------------------------------------
    def reports(self, pid: str | None) -> list[str]:
        return [p.id for p in self.people.values() if p.reports_to == pid]

    def team(self, pid: str) -> list[str]:
        """The person and everyone below them."""
        out = [pid]
        for report in self.reports(pid):
            out.extend(self.team(report))
        return out

    def chain(self, pid: str) -> list[str]:
        """The person's bosses, nearest first."""
        out = []
        boss = self.people[pid].reports_to
        while boss is not None:
            out.append(boss)
            boss = self.people[boss].reports_to
        return out

    def book(self, pid: str) -> list[str]:
        return [a.id for a in self.accounts.values() if a.manager == pid]

    def delegate(self, manager: str, specialty: str) -> str | None:
        """The nearest active support person with ``specialty`` for ``manager``."""
        for boss in (manager, *self.chain(manager)):
            for pid in self.reports(boss):
                p = self.people[pid]
                if p.role == "support" and p.active and p.specialty == specialty:
                    return pid
        return None

    # -- values -----------------------------------------------------------------------------
    @property
    def fact_metrics(self) -> set[str]:
        return {f.metric for f in self.facts}

    @property
    def fact_periods(self) -> list[str]:
        return sorted({f.period for f in self.facts})

    def default_periods(self) -> list[str] | None:
        """What a rollup without --period uses: the latest fact period (None: no facts)."""
        return [self.fact_periods[-1]] if self.facts else None

    def rate(self, currency: str | None, period: str | None) -> float:
        if currency is None or currency == self.currency:
            return 1.0
        if period is not None and (currency, period) in self.fx:
            return self.fx[(currency, period)]
        return self.fx[(currency, "*")]

    def own(self, aid: str, metric: str, periods: list[str] | None) -> float | None:
        """An account's own value in the reporting currency: from the facts of ``periods`` for
        a metric that has facts, else from its accounts.csv column at the undated rate."""
        account = self.accounts[aid]
        money = metric in MONEY
        if periods is not None and metric in self.fact_metrics:
            values = [f.value * (self.rate(account.currency, f.period) if money else 1.0)
                      for f in self.facts
                      if f.account == aid and f.metric == metric and f.period in periods]
            return math.fsum(values) if values else None
        value = account.metrics.get(metric)
        if value is None:
            return None
        return value * (self.rate(account.currency, None) if money else 1.0)

    def total(self, ids: list[str], metric: str, periods: list[str] | None) -> float | None:
        values = [v for v in (self.own(a, metric, periods) for a in ids) if v is not None]
        return math.fsum(values) if values else None


# ---------------------------------------------------------------------------------------------
# Drawing the truth


def _number(low: int, high: int, step: float = 1.0) -> st.SearchStrategy[float | None]:
    return st.one_of(st.none(), st.integers(low, high).map(lambda x: x * step))


#: What is drawn for one account before its id is known: name, currency, accounts.csv metrics.
_account_bits = st.tuples(
    st.sampled_from(NAMES), st.sampled_from((*CURRENCIES, None)),
    st.tuples(_number(0, 400_000, 0.25), _number(0, 60), _number(0, 400_000, 0.25)))
#: ... and for one person: name, and capacity as none or their accounts plus 0-2 spare.
_person_bits = st.tuples(st.sampled_from(NAMES), st.one_of(st.none(), st.integers(0, 2)))
#: A key account with its KAM, 0-2 regular accounts with their AM, maybe one nested below.
_key_shape = st.tuples(_account_bits, _person_bits, st.lists(_account_bits, max_size=2),
                       _person_bits, st.one_of(st.none(), _account_bits))
#: A national account (country, account, NAM) and its key accounts.
_national_shape = st.tuples(st.sampled_from(COUNTRIES), _account_bits, _person_bits,
                            st.lists(_key_shape, max_size=2))
#: A global customer (account, GAM) in 2-3 countries; the last number picks its own country.
_customer_shape = st.tuples(_account_bits, _person_bits,
                            st.lists(_national_shape, min_size=2, max_size=3,
                                     unique_by=lambda national: national[0]),
                            st.integers(0, 2))


@st.composite
def truths(draw: st.DrawFn) -> Truth:
    """A valid org with 1-2 global customers, each in 2-3 countries.

    The shape is drawn as nested lists (customers, countries, key accounts, regular accounts)
    so that hypothesis shrinks a failure by dropping whole branches.
    """
    reporting = draw(st.sampled_from(("EUR", "USD")))
    accounts: dict[str, Acc] = {}
    people: dict[str, Per] = {}
    numbers = iter(range(1, 10_000))
    slack: dict[str, int] = {}

    def account(aid: str, tier: str, parent: str | None, manager: str, country: str,
                bits: tuple[str, str | None, tuple[float | None, ...]]) -> None:
        base, currency, values = bits
        metrics = {m: float(v) for m, v in zip(METRICS, values, strict=True) if v is not None}
        accounts[aid] = Acc(aid, f"{base} {next(numbers)}", tier, parent, manager, country,
                            currency, metrics)

    def person(pid: str, role: str, boss: str | None, bits: tuple[str, int | None],
               **kw: Any) -> None:
        base, spare = bits
        people[pid] = Per(pid, f"{base} {next(numbers)}", role, boss, **kw)
        if spare is not None and role != "support":
            slack[pid] = spare

    person("VP1", "vp", None, draw(_person_bits))
    for g, (gbits, gambits, nationals, own) in enumerate(
            draw(st.lists(_customer_shape, min_size=1, max_size=2))):
        gam, gid = f"GAM{g}", f"G{g}"
        person(gam, "gam", "VP1", gambits)
        account(gid, "global", None, gam, nationals[own % len(nationals)][0], gbits)
        for c, nbits, nambits, keys in nationals:
            nam, nid = f"NAM-{g}-{c}", f"{gid}-{c}"
            person(nam, "nam", gam, nambits)
            account(nid, "national", gid, nam, c, nbits)
            for k, (kbits, kambits, regulars, ambits, nested) in enumerate(keys):
                kam, kid = f"KAM-{g}-{c}-{k}", f"{nid}-K{k}"
                person(kam, "kam", nam, kambits)
                account(kid, "key", nid, kam, c, kbits)
                if regulars:
                    am = f"AM-{g}-{c}-{k}"
                    person(am, "am", kam, ambits)
                    for r, rbits in enumerate(regulars):
                        account(f"{kid}-R{r}", "regular", kid, am, c, rbits)
                    if nested is not None:  # regular accounts may nest
                        account(f"{kid}-R0-S", "regular", f"{kid}-R0", am, c, nested)
    bosses = [p for p in people if p != "VP1"]
    if draw(st.booleans()):  # support staff take the billing duties of their bosses' accounts
        person("SUP-BILL", "support", draw(st.sampled_from(bosses)), draw(_person_bits),
               specialty="billing", email="billing@example.com")
    if draw(st.booleans()):  # departed people own nothing and take no duties
        person("SUP-GONE", "support", draw(st.sampled_from(bosses)), draw(_person_bits),
               specialty="billing", active=False)
    if draw(st.booleans()):
        person("AM-GONE", "am", draw(st.sampled_from(bosses)), (draw(_person_bits)[0], None),
               active=False)
    for pid, spare in slack.items():
        people[pid].capacity = len([a for a in accounts.values() if a.manager == pid]) + spare
    in_use = sorted({a.currency for a in accounts.values()} - {None, reporting})
    fx: dict[tuple[str, str], float] = {}
    for cur in in_use:
        fx[(cur, "*")] = draw(st.sampled_from(RATES))
        for period in PERIODS:
            if draw(st.booleans()):
                fx[(cur, period)] = draw(st.sampled_from(RATES))
    facts: list[Fact] = []
    if draw(st.booleans()):
        # revenue and orders may have facts; receivables stays a column of accounts.csv
        rows = draw(st.lists(
            st.tuples(st.sampled_from(list(accounts)), st.sampled_from(PERIODS),
                      st.sampled_from(("revenue", "orders")), st.integers(0, 5000)),
            min_size=1, max_size=16, unique_by=lambda row: row[:3]))
        facts = [Fact(aid, period, metric, float(value)) for aid, period, metric, value in rows]
    org_name = draw(st.sampled_from(("Messy org", "Ärger, GmbH")))
    return Truth(org_name, reporting, accounts, people, facts, fx)


# ---------------------------------------------------------------------------------------------
# Writing it messily


@dataclass
class CsvFile:
    """Cells as they will be written (mess included); ``columns`` are the canonical names."""

    columns: list[str]
    rows: list[list[str]]
    header: list[str]
    bom: bool = False
    crlf: bool = False
    quote_all: bool = False

    def render(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n" if self.crlf else "\n",
                            quoting=csv.QUOTE_ALL if self.quote_all else csv.QUOTE_MINIMAL)
        writer.writerow(self.header)
        writer.writerows(self.rows)
        return ("\ufeff" if self.bom else "").encode() + buffer.getvalue().encode("utf-8")

    def line_of(self, column: str, value: str) -> int:
        """The line of the first row whose (trimmed) ``column`` cell is ``value``."""
        i = self.columns.index(column)
        for number, row in enumerate(self.rows):
            if row[i].strip() == value:
                return number + 2  # the header is line 1; no cell holds a line break
        raise KeyError(value)

    def set(self, key_column: str, key: str, column: str, cell: str) -> None:
        row = self.rows[self.line_of(key_column, key) - 2]
        row[self.columns.index(column)] = cell


@dataclass
class MessyWorkspace:
    truth: Truth
    yaml: str
    files: dict[str, CsvFile]
    #: The same files without any mess: what the messy ones must read as.
    plain_files: dict[str, CsvFile] = field(default_factory=dict, repr=False)

    def plain(self) -> MessyWorkspace:
        """The same org written plainly (canonical cells, LF, no BOM, the usual columns)."""
        yaml = f'name: "{self.truth.name}"\ncurrency: {self.truth.currency}\n'
        return MessyWorkspace(self.truth, yaml, self.plain_files, self.plain_files)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "kam.yaml").write_text(self.yaml, encoding="utf-8")
        for name, table in self.files.items():
            (folder / name).write_bytes(table.render())
        return folder

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How hypothesis shows a falsifying example: the files, not the dataclass."""
        printer.text(repr(self))

    def __repr__(self) -> str:
        """Every file as written, one line each, ``|`` marking the end (trailing spaces)."""
        parts = ["MessyWorkspace(", "--- kam.yaml", *(f"{line}|" for line in
                                                        self.yaml.splitlines())]
        for name, table in self.files.items():
            flags = ", ".join(f for f, on in (("BOM", table.bom), ("CRLF", table.crlf),
                                               ("quoted", table.quote_all)) if on)
            parts.append(f"--- {name}" + (f" ({flags})" if flags else ""))
            text = table.render().decode("utf-8-sig")
            parts += [f"{line}|" for line in text.replace("\r\n", "\n").splitlines()]
        return "\n".join([*parts, ")"])


def _fmt(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _plain(columns: tuple[str, ...], rows: list[dict[str, str]]) -> CsvFile:
    return CsvFile(list(columns), [[row.get(c, "") for c in columns] for row in rows],
                   list(columns))


@st.composite
def _table(draw: st.DrawFn, columns: tuple[str, ...], rows: list[dict[str, str]],
           pad_ok: tuple[str, ...], case_ok: tuple[str, ...],
           bools: tuple[str, ...] = ()) -> CsvFile:
    """Rows of canonical cells written with the mess this draw switches on."""
    order = list(draw(st.permutations(columns))) if draw(st.booleans()) else list(columns)
    padded = draw(st.sets(st.sampled_from(pad_ok))) if pad_ok else set()
    cased = draw(st.sets(st.sampled_from(case_ok))) if case_ok else set()
    out: list[list[str]] = []
    for row in rows:
        cells = []
        for column in order:
            cell = row.get(column, "")
            if column in bools:
                truthy = cell == "true"
                if column in cased:
                    cell = draw(st.sampled_from(TRUE_WORDS if truthy else FALSE_WORDS))
            elif cell and column in cased:
                cell = draw(st.sampled_from(CASES[column]))(cell)
            if cell and column in padded:
                left, right = draw(st.sampled_from(PADS))
                cell = left + cell + right
            cells.append(cell)
        out.append(cells)
    # a header cell padded too (rarely: it hides a whole column from a reader that does not trim)
    pad_header = draw(st.integers(0, 3)) == 3
    header = [f" {c} " if pad_header else c for c in order]
    return CsvFile(order, out, header, bom=draw(st.booleans()), crlf=draw(st.booleans()),
                   quote_all=draw(st.booleans()))


@st.composite
def messy_workspaces(draw: st.DrawFn) -> MessyWorkspace:
    """A valid org (see :func:`truths`) written messily."""
    truth = draw(truths())
    account_rows = [{
        "id": a.id, "name": a.name, "tier": a.tier, "parent": a.parent or "",
        "manager": a.manager, "country": a.country, "currency": a.currency or "",
        **{m: _fmt(v) for m, v in a.metrics.items()}} for a in truth.accounts.values()]
    people_rows = [{
        "id": p.id, "name": p.name, "role": p.role, "reports_to": p.reports_to or "",
        "capacity": "" if p.capacity is None else str(p.capacity), "email": p.email or "",
        "active": "true" if p.active else "false",
        "specialty": p.specialty or ""} for p in truth.people.values()]
    files = {
        "accounts.csv": draw(_table(
            ACCOUNT_COLUMNS, account_rows,
            pad_ok=("name", "tier", "parent", "manager", "country", "currency", *METRICS),
            case_ok=("tier", "country", "currency"))),
        "people.csv": draw(_table(
            PEOPLE_COLUMNS, people_rows,
            pad_ok=("name", "role", "reports_to", "capacity", "email", "active", "specialty"),
            case_ok=("role", "active"), bools=("active",))),
    }
    if truth.facts:
        fact_rows = [{"account": f.account, "period": f.period, "metric": f.metric,
                      "value": _fmt(f.value)} for f in truth.facts]
        files["facts.csv"] = draw(_table(FACT_COLUMNS, fact_rows,
                                         pad_ok=("account", "period", "metric", "value"),
                                         case_ok=("period",)))
    if truth.fx:
        fx_rows = [{"currency": cur, "period": period, "rate": _fmt(rate)}
                   for (cur, period), rate in truth.fx.items()]
        files["fx.csv"] = draw(_table(FX_COLUMNS, fx_rows,
                                      pad_ok=("currency", "period", "rate"),
                                      case_ok=("currency", "period")))
    plain = {"accounts.csv": _plain(ACCOUNT_COLUMNS, account_rows),
             "people.csv": _plain(PEOPLE_COLUMNS, people_rows)}
    if truth.facts:
        plain["facts.csv"] = _plain(FACT_COLUMNS, fact_rows)
    if truth.fx:
        plain["fx.csv"] = _plain(FX_COLUMNS, fx_rows)
    currency = truth.currency
    if draw(st.booleans()):
        currency = draw(st.sampled_from(CASES["currency"]))(currency)
    yaml = f'name: "{truth.name}"\ncurrency: {currency}\n'
    return MessyWorkspace(truth, yaml, files, plain)


# ---------------------------------------------------------------------------------------------
# One defect no reading rule can repair


@dataclass
class Broken:
    """A messy workspace with one defect in accounts.csv, at ``line`` in ``column``."""

    workspace: MessyWorkspace
    kind: str
    account: str
    column: str
    cell: str
    line: int

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def __repr__(self) -> str:
        return (f"Broken({self.kind}: accounts.csv line {self.line}, account {self.account!r}, "
                f"{self.column}={self.cell!r},\n{self.workspace!r})")


@st.composite
def broken_workspaces(draw: st.DrawFn) -> Broken:
    workspace = copy.deepcopy(draw(messy_workspaces()))
    truth = workspace.truth
    kind = draw(st.sampled_from(("unknown tier", "unknown parent", "metric not a number")))
    if kind == "unknown parent":
        aid = draw(st.sampled_from([a for a, acc in truth.accounts.items() if acc.parent]))
        column = "parent"
        cell = draw(st.sampled_from((" G9-XX ", "NOPE", f"{truth.accounts[aid].parent}-X ")))
    elif kind == "unknown tier":
        aid = draw(st.sampled_from(list(truth.accounts)))
        column = "tier"
        cell = draw(st.sampled_from(("nationall", "Nationall ", " KEYY", "gold")))
    else:
        aid = draw(st.sampled_from(list(truth.accounts)))
        column = draw(st.sampled_from(METRICS))
        cell = draw(st.sampled_from(("n/a", "12abc", " 1.2.3 ", "ten")))
    table = workspace.files["accounts.csv"]
    table.set("id", aid, column, cell)
    return Broken(workspace, kind, aid, column, cell, table.line_of("id", aid))
