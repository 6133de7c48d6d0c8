"""The core validation rules (KAM1xx), registered as a plugin like any other.

Each rule is a table-form rule, ``check(tables) -> Iterator[Violation | Violations]``: it runs
vectorised over the reader's tables (:mod:`kamcore.structure` links the rows), so checking a
million accounts builds no object per account; a rule that may name many rows names them in
one :class:`~kamcore.Violations`, its messages built as columns. The table at the bottom gives
each its stable code, name, default severity and one-line summary (``kam validate
--list-rules``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from kamcore.builtin.fact_rules import (
    facts_metrics_known,
    facts_readable,
    fx_rates_present,
    metric_in_facts_and_column,
    totals_in_range,
)
from kamcore.builtin.settings_rules import unknown_rule_codes
from kamcore.declarations import Violations
from kamcore.hookspecs import hookimpl
from kamcore.models import ROLES_FOR_TIER, Role, Tier
from kamcore.registry import Violation
from kamcore.structure import ROLE_ORDER, TIER_ORDER, AccountIndex, account_index
from kamcore.wording import plural

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.workspace.tables import RecordTable, WorkspaceTables

#: Violations of one rule that get a "did you mean" hint (each looks through every id).
SUGGESTIONS = 20


def _rows(mask: np.ndarray) -> list[int]:
    import numpy as np

    return [int(i) for i in np.flatnonzero(mask)]


def _say(table: RecordTable, row: int, column: str | None, message: str,
         hint: str | None, subject: str | None = None) -> Violation:
    return Violation(table.ids[row].as_py() if subject is None else subject, message, hint,
                     column=column, location=table.location(row, column) if table.path else None)


def _join(*parts: pa.Array | str) -> pa.Array:
    """Each row's parts (string arrays, or one text for every row) as one text."""
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(*parts, "")


def _reprs(ids: pa.Array) -> pa.Array:
    """Each id as ``{id!r}`` writes it in a message."""
    from kamcore.exporters.columns import py_reprs

    return py_reprs(ids)


def _named(names: list[str], codes: np.ndarray) -> pa.Array:
    """``names[code]`` for each code (a tier's or role's name by its number)."""
    import pyarrow as pa

    return pa.array(names, pa.string()).take(pa.array(codes))


def duplicate_ids(tables: WorkspaceTables) -> Iterator[Violation | Violations]:
    import numpy as np

    index = account_index(tables)
    for kind, table, first_row in (("account", tables.accounts, index.first_row),
                                   ("person", tables.people, index.person_first_row)):
        ids = table.ids
        rows = np.flatnonzero(first_row != np.arange(len(ids)))
        if len(rows):
            yield Violations(table, rows, _join(f"{kind} id ", _reprs(ids.take(rows)),
                                                " is used again", _first_at(table,
                                                                            first_row[rows])),
                             "give every record its own id; merge or rename the duplicate",
                             column="id")


def _first_at(table: RecordTable, rows: np.ndarray) -> pa.Array | str:
    """`` (first at FILE:LINE)`` of each row, as :class:`~kamcore.errors.Location` words it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.path is None:
        return ""
    path = str(table.path)
    lines = table.lines(rows).cast(pa.string())
    return _join(" (first at ", pc.binary_join_element_wise(path, lines, ":").fill_null(path),
                 ")")


def unknown_parents(tables: WorkspaceTables) -> Iterator[Violation | Violations]:
    import numpy as np

    index = account_index(tables)
    table = tables.accounts
    parents = table.text("parent")
    rows = np.flatnonzero(index.first & _valid(parents) & (index.parent < 0))
    if len(rows):
        wanted = parents.take(rows)
        yield Violations(table, rows, _join("parent ", _reprs(wanted), " is not an account here"),
                         _close_hints(wanted, table.ids, "fix the parent id or leave it empty "
                                      "for a root"), column="parent")


def account_cycles(tables: WorkspaceTables) -> Iterator[Violation]:
    yield from loop_violations(tables.accounts, account_index(tables).account_loops[1],
                               "parent", "accounts form a loop: ",
                               "one of these accounts must get another parent (or none)")


def people_cycles(tables: WorkspaceTables) -> Iterator[Violation]:
    yield from loop_violations(tables.people, account_index(tables).people_loops[1],
                               "reports_to", "people report to each other in a loop: ",
                               "one of them must report to someone outside the loop (or nobody)")


def loop_violations(table: RecordTable, loops: list[list[int]], column: str, message: str,
                    hint: str) -> Iterator[Violation]:
    """One violation per loop of a tree, its ids from the smallest round to it again."""
    for loop in loops:
        names, row = _rotate(table, loop)
        yield _say(table, row, column, message + " -> ".join([*names, names[0]]), hint)


def _rotate(table: RecordTable, loop: list[int]) -> tuple[list[str], int]:
    """A loop's ids starting at its smallest (each loop is reported the same way every run)."""
    names = [table.ids[row].as_py() for row in loop]
    start = names.index(min(names))
    return names[start:] + names[:start], loop[start]


def tier_order(tables: WorkspaceTables) -> Iterator[Violation | Violations]:
    import numpy as np

    index = account_index(tables)
    parent = index.parent
    has_parent = parent >= 0
    mine = index.tier
    theirs = index.tier[parent]
    regular = TIER_ORDER.index(Tier.REGULAR.value)
    wrong = has_parent & (mine >= 0) & (mine <= theirs) & ~((mine == regular)
                                                           & (theirs == regular))
    table = tables.accounts
    rows = np.flatnonzero(wrong)
    if len(rows):
        yield Violations(table, rows, _join(
            "a ", _named(TIER_ORDER, mine[rows]), " account sits under ",
            _named(TIER_ORDER, theirs[rows]), " account ", _reprs(table.ids.take(parent[rows])),
            "; tiers descend global > national > key > regular"),
            "move it higher up, or correct one of the two tiers", column="tier")


def missing_managers(tables: WorkspaceTables) -> Iterator[Violation | Violations]:
    import numpy as np

    index = account_index(tables)
    table = tables.accounts
    regular = TIER_ORDER.index(Tier.REGULAR.value)
    rows = np.flatnonzero(index.first & ~_valid(table.text("manager")) & (index.tier != regular))
    if len(rows):
        yield Violations(table, rows, _join(_named(TIER_ORDER, index.tier[rows]),
                                            " account has no accountable manager"),
                         _join("assign one: kam assign ORG ", table.ids.take(rows),
                               " --manager PERSON"), column="manager")


def unknown_managers(tables: WorkspaceTables) -> Iterator[Violation | Violations]:
    import numpy as np

    index = account_index(tables)
    table = tables.accounts
    managers = table.text("manager")
    rows = np.flatnonzero(index.first & _valid(managers) & (index.manager < 0))
    if len(rows):
        wanted = managers.take(rows)
        yield Violations(table, rows, _join("manager ", _reprs(wanted), " is not in people.csv"),
                         _close_hints(wanted, tables.people.ids,
                                      "add the person to people.csv or fix the id"),
                         column="manager")


def _manager_roles(index: AccountIndex) -> np.ndarray:
    """The role code of each account's manager (-1: no known manager)."""
    import numpy as np

    if not len(index.role):  # no people: nobody manages anything
        return np.full(len(index.manager), -1)
    return np.where(index.manager >= 0, index.role[index.manager], -1)


def role_fits_tier(tables: WorkspaceTables) -> Iterator[Violation | Violations]:
    import numpy as np

    index = account_index(tables)
    table = tables.accounts
    roles = _manager_roles(index)
    support = ROLE_ORDER.index(Role.SUPPORT.value)
    fits = np.zeros((len(TIER_ORDER), len(ROLE_ORDER)), dtype=bool)
    for tier, allowed in ROLES_FOR_TIER.items():
        for role in allowed:
            fits[TIER_ORDER.index(tier.value), ROLE_ORDER.index(role.value)] = True
    known = index.first & (roles >= 0) & (roles != support) & (index.tier >= 0)
    wrong = known & ~fits[np.maximum(index.tier, 0), np.maximum(roles, 0)]
    rows = np.flatnonzero(wrong)
    if not len(rows):
        return
    needs = [", ".join(sorted(r.value.upper() for r in ROLES_FOR_TIER.get(Tier(tier), ())))
             for tier in TIER_ORDER]
    upper = [role.upper() for role in ROLE_ORDER]
    articles = ["an " if role[0] in "AEIOU" else "a " for role in upper]
    tiers, their_roles = index.tier[rows], roles[rows]
    yield Violations(table, rows, _join(
        _named(TIER_ORDER, tiers), " account is managed by ",
        _reprs(tables.people.ids.take(index.manager[rows])), ", ",
        _named(articles, their_roles), _named(upper, their_roles), "; it needs one of ",
        _named(needs, tiers)),
        "assign a manager of a fitting role, or change the tier", column="manager")


def national_one_country(tables: WorkspaceTables) -> Iterator[Violation | Violations]:
    import numpy as np

    index = account_index(tables)
    table = tables.accounts
    national = TIER_ORDER.index(Tier.NATIONAL.value)
    countries = table.text("country")
    has_country = _valid(countries)
    rows = np.flatnonzero(index.first & (index.tier == national) & ~has_country)
    if len(rows):
        yield Violations(table, rows, "national account has no country",
                         "set its ISO country code", column="country")
    home = index.national
    code = index.country[1]  # one small integer per country
    under = (home >= 0) & (home != np.arange(len(home)))
    home_code = code[np.maximum(home, 0)]
    rows = np.flatnonzero(under & has_country & (home_code >= 0) & (code != home_code))
    if len(rows):
        up = home[rows]
        yield Violations(table, rows, _join(
            "account is in ", countries.take(rows), " but sits under national account ",
            _reprs(table.ids.take(up)), " (", countries.take(up), ")"),
            "move it under the national account of its own country", column="country")


def global_spans_countries(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np

    index = account_index(tables)
    table = tables.accounts
    distinct, code = index.country
    top = index.top
    # an account without a country adds none: it does not make a global account span two
    counted = (top >= 0) & (code >= 0) & _valid(table.text("country"))
    tops, codes = top[counted], code[counted]
    # a global account spans two countries or more when an account below it is in another
    # country than the one written for it last: no sort of a million (top, country) pairs
    one = np.full(len(top), -1, dtype=np.int64)
    one[tops] = codes
    spans = np.zeros(len(top), dtype=np.int64)
    spans[tops] = 1
    spans[tops[codes != one[tops]]] = 2
    glob = TIER_ORDER.index(Tier.GLOBAL.value)
    for row in _rows(index.first & (index.tier == glob) & (spans < 2)):
        count = int(spans[row])
        only = f" (only {distinct[int(one[row])].as_py()})" if count == 1 else ""
        yield _say(table, row, None, f"global account spans {count} "
                   f"countr{'y' if count == 1 else 'ies'}{only}; a global account spans at "
                   "least two", "make it a national account, or add its accounts in other "
                   "countries")


def nam_reports_to_gam(tables: WorkspaceTables) -> Iterator[Violation]:
    index = account_index(tables)
    table, people = tables.accounts, tables.people
    roles = _manager_roles(index)
    national = TIER_ORDER.index(Tier.NATIONAL.value)
    nam = ROLE_ORDER.index(Role.NAM.value)
    candidates = index.first & (index.tier == national) & (roles == nam) & (index.top >= 0)
    boss = index.boss
    for row in _rows(candidates):
        nam_row = int(index.manager[row])
        top = int(index.top[row])
        gam_row = int(index.manager[top])
        if gam_row < 0 or gam_row == nam_row:
            continue
        seen = {nam_row}
        current = int(boss[nam_row])
        while current >= 0 and current not in seen and current != gam_row:
            seen.add(current)
            current = int(boss[current])
        if current != gam_row:
            nam_id, gam_id = people.ids[nam_row].as_py(), people.ids[gam_row].as_py()
            yield _say(table, row, "manager", f"NAM {nam_id!r} of this national account does "
                       f"not report to {gam_id!r}, the GAM of global account "
                       f"{table.ids[top].as_py()!r}",
                       f"set reports_to of {nam_id!r} to {gam_id!r} (or someone below)")


def over_capacity(tables: WorkspaceTables) -> Iterator[Violation]:
    import numpy as np

    index = account_index(tables)
    people = tables.people
    managed = index.manager[index.first & (index.manager >= 0)]
    load = np.bincount(managed, minlength=len(people))
    capacity = people.column("capacity")
    if capacity is None:
        return
    cap = capacity.fill_null(-1).to_numpy(zero_copy_only=False)
    for row in _rows(index.person_first & (cap >= 0) & (load > cap)):
        person_id = people.ids[row].as_py()
        carries = plural(int(load[row]), "account")
        yield _say(people, row, "capacity", f"carries {carries}, over a capacity of {cap[row]}",
                   f"hand some over: kam handover ORG --from {person_id} --spread")


def support_not_accountable(tables: WorkspaceTables) -> Iterator[Violation | Violations]:
    import numpy as np

    index = account_index(tables)
    support = ROLE_ORDER.index(Role.SUPPORT.value)
    rows = np.flatnonzero(index.first & (_manager_roles(index) == support))
    if len(rows):
        yield Violations(tables.accounts, rows, _join(
            "support staff ", _reprs(tables.people.ids.take(index.manager[rows])),
            " cannot be the accountable manager"),
            "assign an account manager; support staff are supervised by one", column="manager")


def departed_own_nothing(tables: WorkspaceTables) -> Iterator[Violation | Violations]:
    import numpy as np

    index = account_index(tables)
    people = tables.people
    known = index.manager >= 0
    departed = known & ~index.active[index.manager.clip(min=0)] if len(people) else known
    rows = np.flatnonzero(index.first & departed)
    if len(rows):
        person = people.ids.take(index.manager[rows])
        yield Violations(tables.accounts, rows, _join("manager ", _reprs(person),
                                                      " is inactive (departed)"),
                         _join("hand the book over: kam handover ORG --from ", person,
                               " --spread"), column="manager")


def unknown_reports_to(tables: WorkspaceTables) -> Iterator[Violation | Violations]:
    import numpy as np

    index = account_index(tables)
    people = tables.people
    bosses = people.text("reports_to")
    rows = np.flatnonzero(index.person_first & _valid(bosses) & (index.boss < 0))
    if len(rows):
        wanted = bosses.take(rows)
        yield Violations(people, rows, _join("reports_to ", _reprs(wanted),
                                             " is not in people.csv"),
                         _close_hints(wanted, people.ids,
                                      "fix the id, or leave it empty at the top"),
                         column="reports_to")


def _namespaced(table: RecordTable) -> dict[str, list[str]]:
    """Plugin-field columns (``namespace.field``) by namespace, in header order."""
    out: dict[str, list[str]] = {}
    for column in table.extra_columns:
        namespace, dot, name = column.partition(".")
        if dot and name:
            out.setdefault(namespace, []).append(column)
    return out


def _filled(table: RecordTable, columns: list[str]) -> np.ndarray:
    """Rows with a value in any of ``columns``."""
    import numpy as np

    mask = np.zeros(len(table), dtype=bool)
    for column in columns:
        mask |= _valid(table.text(column))
    return mask


def unknown_plugin_columns(tables: WorkspaceTables) -> Iterator[Violation]:
    known = set(tables.registry.fields) if tables.registry is not None else set()
    reported: set[str] = set()
    for table in _record_tables(tables):
        for namespace, columns in _namespaced(table).items():
            if namespace in known or namespace in reported:
                continue
            rows = _rows(_filled(table, columns))
            if not rows:
                continue
            reported.add(namespace)
            row = rows[0]
            column = next(c for c in columns if table.text(c)[row].is_valid)
            yield _say(table, row, column, *_why_unknown(tables, namespace))


def _why_unknown(tables: WorkspaceTables, namespace: str) -> tuple[str, str]:
    """Why a namespace's columns have no plugin in this run, and what to do: two plugins
    claim it, its plugin is installed but not loaded, or it is not installed."""
    contested = (tables.registry.contested.get("fields", {}).get(namespace)
                 if tables.registry is not None else None)
    kept = "; they are kept as they are"
    if contested:
        plugins = " and ".join(repr(p) for p in sorted(contested))
        return (f"columns '{namespace}.*' are claimed by plugins {plugins}, so neither checks "
                f"them{kept}", f"say which wins in kam.yaml: conflicts: {{fields: {{{namespace}: "
                f"{sorted(contested)[0]}}}}}")
    from kamcore.plugins import installed_entry_points

    dist = f"kamcore-{namespace.replace('_', '-')}"
    for ep in installed_entry_points():
        if ep.name == namespace or (ep.dist is not None and ep.dist.metadata["Name"] == dist):
            return (f"columns '{namespace}.*' belong to plugin {ep.name!r}, which is installed "
                    f"but not loaded in this run{kept}", "it is left out by KAM_LOAD_PLUGINS, "
                    "KAM_DISABLE_PLUGINS or --no-plugins; load it to check them")
    return (f"columns '{namespace}.*' belong to plugin {namespace!r}, which is not installed"
            f"{kept}", f"pip install {dist} (or ignore: nothing is dropped on save)")


def plugin_fields_valid(tables: WorkspaceTables) -> Iterator[Violation]:
    """Each plugin's field model over the rows that have its fields (and only those)."""
    from pydantic import ValidationError

    if tables.registry is None:
        return
    for namespace, fieldset in tables.registry.fields.items():
        for table, model in ((tables.accounts, fieldset.account),
                             (tables.people, fieldset.person),
                             (tables.contacts, fieldset.contact)):
            columns = _namespaced(table).get(namespace) if table is not None else None
            if model is None or not columns or table is None:
                continue
            first = _first_rows(tables, table)
            rows = _rows(_filled(table, columns) & first)
            if not rows:
                continue
            import pyarrow as pa

            picked = pa.array(rows)
            values = {c.partition(".")[2]: table.text(c).take(picked).to_pylist()
                      for c in columns}
            for i, row in enumerate(rows):
                data = {name: cells[i] for name, cells in values.items() if cells[i] is not None}
                try:
                    model.model_validate(data)
                except ValidationError as exc:
                    for err in exc.errors():
                        field = str(err["loc"][0]) if err["loc"] else "?"
                        msg = str(err["msg"]).removeprefix("Value error, ")
                        yield _say(table, row, f"{namespace}.{field}", f"{namespace}.{field}: "
                                   f"{msg} (plugin {fieldset.plugin!r})", f"see the {namespace} "
                                   "plugin's docs for this field")
                except Exception as exc:  # a buggy model must not stop other plugins' checks
                    yield _say(table, row, namespace, f"the field model of plugin "
                               f"{fieldset.plugin!r} failed on '{namespace}.*': "
                               f"{type(exc).__name__}: {exc}", "report it to the plugin's "
                               "authors")


def _record_tables(tables: WorkspaceTables) -> list[RecordTable]:
    """The tables that may hold plugin fields: accounts, people and (when read) contacts."""
    return [t for t in (tables.accounts, tables.people, tables.contacts) if t is not None]


def _first_rows(tables: WorkspaceTables, table: RecordTable) -> np.ndarray:
    """The first row of each id in ``table`` (later rows are duplicates, reported apart)."""
    from kamcore.structure import contact_index

    index = account_index(tables)
    if table.kind == "contact":
        return contact_index(tables).first
    return index.first if table.kind == "account" else index.person_first


def _valid(column: object) -> np.ndarray:
    import pyarrow as pa

    assert isinstance(column, (pa.Array, pa.ChunkedArray))
    return column.is_valid().to_numpy(zero_copy_only=False)


def _close_hints(wanted: pa.Array, known: pa.Array, default: str) -> pa.Array:
    """:func:`_close_hint` of each of ``wanted``, the ids read once."""
    import pyarrow as pa

    from kamcore.errors import did_you_mean

    head = wanted.slice(0, SUGGESTIONS).to_pylist()
    candidates = known.to_pylist()
    hints = pa.array([did_you_mean(w, candidates, n=1) or default for w in head], pa.string())
    rest = pa.repeat(pa.scalar(default, pa.string()), len(wanted) - len(head))
    return pa.concat_arrays([hints, rest])


def _close_hint(wanted: str, known: pa.Array, default: str, n: int = 0) -> str:
    """'did you mean ...?' for the first few violations (each one reads every id)."""
    from kamcore.errors import did_you_mean

    if n >= SUGGESTIONS:
        return default
    return did_you_mean(wanted, known.to_pylist(), n=1) or default


TableCheck = Callable[["WorkspaceTables"], Iterator[Violation | Violations]]

#: code, name, check, severity, summary. Codes are stable and never reused.
CORE_RULES: tuple[tuple[str, str, TableCheck, str, str], ...] = (
    ("KAM101", "duplicate-id", duplicate_ids, "error", "Every account and person id is unique."),
    ("KAM102", "unknown-parent", unknown_parents, "error", "An account's parent exists."),
    ("KAM103", "account-cycle", account_cycles, "error", "The account tree has no loops."),
    ("KAM104", "tier-order", tier_order, "error",
     "Tiers descend: global > national > key > regular (regular may nest)."),
    ("KAM105", "missing-manager", missing_managers, "error",
     "Every account above regular has an accountable manager."),
    ("KAM106", "unknown-manager", unknown_managers, "error", "An account's manager exists."),
    ("KAM107", "role-fits-tier", role_fits_tier, "error",
     "Global -> GAM; national -> NAM or above; key -> KAM or above."),
    ("KAM108", "national-one-country", national_one_country, "error",
     "A national account and everything below it stay in one country."),
    ("KAM109", "global-spans-countries", global_spans_countries, "warning",
     "A global account spans at least two countries."),
    ("KAM110", "nam-reports-to-gam", nam_reports_to_gam, "warning",
     "A NAM inside a global account reports (transitively) to its GAM."),
    ("KAM111", "over-capacity", over_capacity, "warning",
     "Nobody carries more accounts than their capacity."),
    ("KAM112", "support-not-accountable", support_not_accountable, "error",
     "Support staff are never the accountable manager."),
    ("KAM113", "departed-own-nothing", departed_own_nothing, "error",
     "Inactive (departed) people own no accounts."),
    ("KAM121", "unknown-reports-to", unknown_reports_to, "error",
     "A person's reports_to exists."),
    ("KAM122", "people-cycle", people_cycles, "error", "The management tree has no loops."),
    ("KAM130", "unknown-plugin-columns", unknown_plugin_columns, "warning",
     "Namespaced columns belong to an installed plugin (they are kept either way)."),
    ("KAM131", "unknown-rule-code", unknown_rule_codes, "warning",
     "kam.yaml's rules: disable: and severity: name loaded rules (a typo turns nothing off)."),
    ("KAM140", "plugin-field-invalid", plugin_fields_valid, "error",
     "Plugin fields fit the plugin's model."),
    ("KAM150", "fact-row-invalid", facts_readable, "error",
     "Every fact row names a known account, metric and period and holds a finite number."),
    ("KAM151", "fx-rate-missing", fx_rates_present, "error",
     "Every currency in use has an FX rate for every period in use (and fx.csv reads)."),
    ("KAM152", "metric-in-facts-and-column", metric_in_facts_and_column, "info",
     "A metric comes from facts or from an accounts.csv column, not both (facts win)."),
    ("KAM153", "fact-metric-unknown", facts_metrics_known, "warning",
     "Fact rows name metrics that a loaded plugin or kam.yaml declares (else they are left "
     "out)."),
    ("KAM154", "total-overflow", totals_in_range, "error",
     "Values add up to totals a rollup can hold (below about 1.8e308)."),
)


@hookimpl
def kam_register_rules(register: Callable[..., None]) -> None:
    from kamcore.builtin.contact_rules import CONTACT_RULES
    from kamcore.builtin.history_rules import HISTORY_RULES
    from kamcore.builtin.territory_rules import TERRITORY_RULES

    for code, name, check, severity, summary in (*CORE_RULES, *CONTACT_RULES,
                                                 *HISTORY_RULES, *TERRITORY_RULES):
        register(code, name, check, severity=severity, summary=summary, form="tables")
