"""``kamcore.rollup(...)`` and ``account_totals(...)``: rollups for Python users.

A workspace path is read by the one reader into tables (no object per account); an
:class:`~kamcore.Org` already in memory is turned into the same columns. Both run the same
engine, so both give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kamcore.rollup.values import Inputs

if TYPE_CHECKING:
    from datetime import date

    import pluggy
    import pyarrow as pa

    from kamcore.org import Org
    from kamcore.registry import Registry
    from kamcore.rollup.columnar import Columns
    from kamcore.rollup.facts import Facts
    from kamcore.rollup.fx import FxTable
    from kamcore.rollup.restate import Hierarchy
    from kamcore.rollup.result import RollupResult
    from kamcore.settings import Settings
    from kamcore.workspace.tables import WorkspaceTables

Progress = Callable[[str], None]


def load_inputs(source: Org | WorkspaceTables | str | Path, *, registry: Registry | None = None,
                pm: pluggy.PluginManager | None = None, skip_bad: bool = False,
                people: bool = False, step: Progress | None = None,
                columns: Sequence[str] | None = None, linked: bool = True,
                facts: Facts | None = None,
                as_of: date | str | None = None, engine: str | None = None,
                master: str | None = None, territories: bool = False,
                database: object = None, facts_table: str | None = None,
                dialect: str | None = None, linking: list[Columns] | None = None) -> Inputs:
    """Read what a rollup needs: account columns, metric definitions, FX, facts.

    :param source: an Org, the reader's tables, or a workspace folder (read by the reader).
    :param people: also read people (manager rollups).
    :param columns: from a folder, read only these columns beside the core ones and the
        metrics (``None``: all).
    :param step: called with a label before each stage (progress display).
    :param linked: ``False``: the accounts are not linked into a tree (checks of values only;
        a broken tree is then no error).
    :param facts: facts already read for these accounts (else facts.csv is read here).
    :param as_of: from a folder, the trees of that day (history.csv applied; default today).
    :param territories: also read the territory tree and assign each account its territory
        (a workspace folder or its tables only).
    :param database: the facts are the table ``facts_table`` (default ``facts``) of this
        database: a ``sqlite:///`` or ``duckdb:///`` URL, or a DB-API connection with its
        sqlglot ``dialect``; default ``warehouse:`` in kam.yaml (see docs/warehouse.md).
    :param linking: from a folder or tables, link the account tree on another core while the
        caller goes on (:func:`~kamcore.rollup.columnar.columns_from_table`'s ``later``), and
        append the accounts here: the caller asks for their ``parent`` before any error of its
        own is raised, so that a broken tree is reported first, as when it is linked here.
    """
    import pyarrow as pa

    from kamcore.org import Org
    from kamcore.rollup.columnar import columns_from_table, from_org
    from kamcore.rollup.engines import choose_engine, open_engine
    from kamcore.rollup.facts import find_facts, read_facts
    from kamcore.rollup.fx import read_fx

    step = step or (lambda label: None)
    step("reading accounts")
    names: tuple[pa.Array, pa.Array] | None
    if isinstance(source, Org):
        settings, folder = source.settings, source.path
        if source.registry is None:  # an Org built in Python: the built-in metrics at least
            from kamcore.plugins import get_plugin_manager
            from kamcore.registry import registry_for

            source.registry = registry_for(get_plugin_manager(load_entrypoints=False))
        metrics = source.metrics
        accounts, people_cols = from_org(source, people=people)
        persons = list(source.people.values())
        names = (pa.array([p.id for p in persons], pa.string()),
                 pa.array([p.name for p in persons], pa.string()))
    else:
        from kamcore.workspace.tables import WorkspaceTables, read_workspace

        if isinstance(source, WorkspaceTables):
            tables = source
        else:
            tables = read_workspace(source, pm=pm, registry=registry, columns=columns,
                                    as_of=as_of)
        tables.require_readable()
        settings, folder, metrics = tables.settings, tables.folder, tables.metrics
        accounts = columns_from_table(tables.accounts, linked=linked,
                                      later=linking is not None)
        if linking is not None:
            linking.append(accounts)
        people_cols = (columns_from_table(tables.people, link_to="reports_to") if people
                       else None)
        names = (tables.people.ids, tables.people.text("name"))
    inputs = Inputs(accounts=accounts, metrics=metrics, currency=settings.currency,
                    fx=read_fx(folder, settings.currency) if folder else _no_fx(settings),
                    people=people_cols, folder=folder, name=settings.name,
                    person_names=names, registry=source.registry if not isinstance(
                        source, str | Path) else tables.registry)
    if territories and not isinstance(source, Org) and tables.territories is not None:
        import numpy as np

        from kamcore.territories import assign

        inputs.territories = columns_from_table(tables.territories, link_to="parent")
        placed = assign(tables).territory
        inputs.territory_codes = np.where(placed >= 0, placed, len(tables.territories))
    facts_path = find_facts(folder) if folder and facts is None else None
    inputs.facts = facts
    base = folder
    if database is None and facts is None and settings.warehouse.database:
        database, base = settings.warehouse.database, folder
        facts_table = facts_table or settings.warehouse.table
    elif isinstance(database, str):
        base = Path.cwd()  # a URL typed on the command line: relative to where it was typed
    chosen = choose_engine(engine, facts_path, database is not None)
    if chosen == "memory" and database is not None:
        from kamcore.errors import EngineError

        raise EngineError("--database is read by --engine sql, not memory",
                          hint="use --engine sql (or auto), or leave out --database")
    if facts_path is not None and chosen == "memory":
        step("reading facts")
        inputs.facts = read_facts(facts_path, accounts.ids, list(metrics), skip_bad=skip_bad)
    elif facts_path is not None or chosen == "sql":
        step(f"reading facts ({chosen})")
        inputs.fact_source = open_engine(chosen, facts_path, accounts.ids, list(metrics),
                                         skip_bad=skip_bad, master=master, database=database,
                                         table=facts_table, dialect=dialect, base=base)
        inputs.facts = inputs.fact_source.outline()
    return inputs


def _sources(inputs: Inputs, shown: Sequence[str]) -> dict[str, str]:
    """Which file each metric's values come from (facts win over an accounts.csv column)."""
    import numpy as np

    facts = inputs.facts
    in_facts = set() if facts is None else {facts.metrics[i] for i in
                                            np.unique(facts.metric).tolist()}
    out: dict[str, str] = {}
    for name in shown:
        if facts is not None and name in in_facts:
            out[name] = facts.path.name
        elif name in inputs.accounts.numbers:
            out[name] = "accounts.csv"
    return out


def _no_fx(settings: Settings) -> FxTable:
    """An org not read from a folder: only the reporting currency needs no rate."""
    from kamcore.rollup.fx import FxTable

    return FxTable(settings.currency)


def rollup(source: Org | WorkspaceTables | str | Path, metrics: Sequence[str] | None = None, *,
           by: str = "account", period: str | None = None, by_period: bool = False,
           depth: int | None = None, top: int | None = None, skip_bad: bool = False,
           own: bool = True, compact: bool = False, pm: pluggy.PluginManager | None = None,
           registry: Registry | None = None, step: Progress | None = None,
           credit: str = "account", as_of: date | str | None = None,
           hierarchy: str | None = None, reconcile: bool = False,
           engine: str | None = None, master: str | None = None, database: object = None,
           facts_table: str | None = None, dialect: str | None = None) -> RollupResult:
    """Roll metrics up the account tree, the management chain, or by a field.

    :param source: an :class:`~kamcore.Org`, a workspace folder, or its tables as
        :func:`kamcore.workspace.tables.read_workspace` gives them (read once, used by
        several commands).
    :param metrics: metric names; by default every metric that has values.
    :param by: ``account`` (subtree totals), ``manager`` (own book and team total), or a field
        to group accounts by: ``tier``, ``country``, ``industry``, ``currency``, a plugin field
        like ``retail.channels``, any other accounts.csv column. A person's *book* aggregates
        the **own** values of the accounts they manage, never subtree totals, so a manager of
        a parent and its child (or of accounts in two subtrees) counts each account once; the
        *team* total adds the books of everyone below them. Groups use own values too.
    :param period: with facts: ``2026Q3``, ``2026-07``, ``2026`` or a range
        ``2026Q1..2026Q4``; default the latest period in the facts.
    :param by_period: one column per period instead of one combined value.
    :param depth: keep rows at most this deep (account and manager views).
    :param top: keep the ``top`` rows with the largest first metric.
    :param skip_bad: leave bad fact rows out (listed in ``result.skipped``) instead of failing.
    :param own: include each account's own value beside its total (account view).
    :param compact: without ``metrics``, only the core's and the workspace's own metrics.
    :param credit: with ``by="manager"``: ``account`` (each person's book is the accounts
        they manage) or ``owner`` (the facts each person owns, see
        :mod:`kamcore.rollup.credit`).
    :param as_of: from a folder, roll up the trees of that day (history.csv applied; default
        today; see docs/time.md).
    :param hierarchy: over several periods, ``as-was`` rolls each period up the tree in force
        at its end; ``current`` (today's tree) or a date restates them all on one tree (the
        account view only).
    :param reconcile: with ``hierarchy="as-was"``: instead of the totals, what differs between
        the as-was trees and the restated one (``as_of``, default today): per period, each
        account whose parent differs, from where, to where, and its totals as it was.
    :param engine: who totals the facts per account: ``memory`` (numpy), ``duckdb``,
        ``spark``, ``sql`` (a database's facts table) or ``auto`` (default: ``sql`` when a
        database is named, DuckDB for large Parquet facts); the tree rollup runs in process
        on their totals, so every engine gives the same numbers.
    :param master: Spark master URL (default ``SPARK_MASTER``, else ``local[*]``).
    :param database: with ``sql``: a ``sqlite:///FILE`` or ``duckdb:///FILE`` URL, or a DB-API
        connection of any database (then name its sqlglot ``dialect``: ``postgres``,
        ``snowflake``, ``bigquery``, ...); default ``warehouse.database`` in kam.yaml.
    :param facts_table: the facts table there (default ``warehouse.table``, else ``facts``).
    :param dialect: the SQL dialect of a ``database`` connection.
    :returns: a :class:`~kamcore.rollup.result.RollupResult`; ``.rows`` are dicts.
    :raises KamError: unreadable or inconsistent input, with file and line.

    >>> import kamcore
    >>> result = kamcore.rollup("examples/acme", ["revenue"], by="tier")   # doctest: +SKIP
    >>> [(r["tier"], r["accounts"]) for r in result.rows]                   # doctest: +SKIP
    [('global', 4), ('national', 13), ('key', 26), ('regular', 51)]
    """
    from kamcore.rollup.periods import parse_selection
    from kamcore.rollup.values import own_values, resolve_metrics, select_periods, with_weights
    from kamcore.rollup.views import account_view, group_view, manager_view, territory_view

    selection = None
    if period is not None:
        try:
            selection = parse_selection(period)
        except ValueError as exc:
            from kamcore.errors import KamError

            raise KamError(str(exc), hint="e.g. --period 2026Q3 or 2026Q1..2026Q4") from None
    from kamcore.rollup.credit import CREDITS, owner_units
    from kamcore.rollup.facts import by_account

    if credit not in CREDITS or (credit == "owner" and by != "manager"):
        from kamcore.errors import KamError

        raise KamError(f"--credit {credit} works with --by manager only" if credit in CREDITS
                       else f"unknown credit {credit!r}", hint="--credit account or owner, "
                       "with --by manager")
    plan = _hierarchy(hierarchy, by, reconcile, source)
    if plan is not None:
        by_period = True  # one column per period, whichever tree they follow
        if plan.as_was:
            source = _tables(source, pm, registry, as_of)
        else:
            as_of = plan.day or as_of
        if reconcile:
            depth = top = None
    from kamcore.territories import COLUMNS as TERRITORY_COLUMNS

    # the account tree links on another core while the facts, the own values and the view's
    # other columns are made; a broken tree is still the error shown first
    linking: list[Columns] = []
    try:
        inputs = load_inputs(source, registry=registry, pm=pm, skip_bad=skip_bad,
                             people=by == "manager", step=step,
                             columns=() if by in ("account", "manager") else
                             TERRITORY_COLUMNS if by == "territory" else (by,), as_of=as_of,
                             engine=engine, master=master, territories=by == "territory",
                             database=database, facts_table=facts_table, dialect=dialect,
                             linking=linking)
        shown = None if credit == "owner" else resolve_metrics(inputs, metrics, compact=compact)
        selection, columns = select_periods(inputs, selection, by_period)
        if inputs.fact_source is not None:  # the engine totals the periods shown, nothing else
            with inputs.fact_source as engine_facts:
                inputs.facts = engine_facts.totals(columns)
        if credit == "owner":
            inputs = owner_units(inputs, columns)
            shown = resolve_metrics(inputs, metrics, compact=compact)
        elif inputs.facts is not None:
            inputs.facts = by_account(inputs.facts, {name: m.aggregation
                                                     for name, m in inputs.metrics.items()})
        assert shown is not None
        names = with_weights(inputs, shown)
        if step:
            step("rolling up")
        sources = _sources(inputs, shown)
        blocks = own_values(inputs, names, columns, by_period)
        skipped = ([*inputs.facts.skipped, *inputs.facts.unknown_metrics] if inputs.facts
                   else [])
        inputs.facts = None  # folded into the blocks: let millions of fact rows go
        parents = None
        if plan is not None and plan.as_was:
            from kamcore.rollup.restate import period_parents

            assert not isinstance(source, (str, Path))  # read once above
            parents = period_parents(source, inputs.accounts.ids,  # type: ignore[arg-type]
                                     [str(b.label) for b in blocks], inputs.accounts.parent)
        if by == "account":
            result = account_view(inputs, shown, names, blocks, depth=depth, top=top, own=own,
                                  parents=parents)
        elif by == "manager":
            result = manager_view(inputs, shown, names, blocks, depth=depth, top=top,
                                  credit=credit)
        elif by == "territory":
            result = territory_view(inputs, shown, names, blocks, depth=depth, top=top)
        else:
            result = group_view(inputs, by, shown, names, blocks, top=top)
    except BaseException:
        for tree in linking:
            tree.parent  # noqa: B018 - raises the tree's errors, if any, in place of this one
        raise
    for tree in linking:  # a view that never asked (groups) still refuses a broken tree
        tree.parent  # noqa: B018
    result.period = selection.label if selection is not None else None
    result.periods = [b.label for b in blocks if b.label]
    result.skipped = skipped
    result.sources = sources
    result.title = inputs.name
    if plan is not None:
        result.hierarchy = plan.label
    elif as_of is not None:
        from kamcore.workspace.history import parse_date

        result.hierarchy = f"tree as of {parse_date(as_of).isoformat()}"
    if reconcile and parents is not None:
        from kamcore.rollup.restate import reconciliation
        from kamcore.workspace.history import parse_date

        result = reconciliation(result, parents, inputs.accounts.parent, inputs.accounts.ids)
        result.hierarchy = "as was, against the tree of " + (
            parse_date(as_of).isoformat() if as_of is not None else "today")
    return result


def _hierarchy(text: str | None, by: str, reconcile: bool,
               source: object) -> Hierarchy | None:
    """The parsed ``hierarchy`` argument, checked against the rest of the call."""
    from kamcore.errors import KamError
    from kamcore.org import Org
    from kamcore.rollup.restate import parse_hierarchy

    if text is None:
        if reconcile:
            raise KamError("--reconcile compares --hierarchy as-was with the restated tree",
                           hint="add --hierarchy as-was")
        return None
    plan = parse_hierarchy(text)
    if by != "account":
        raise KamError("--hierarchy works with the account tree (--by account)",
                       hint="managers and groups follow each account's own records")
    if plan.as_was and isinstance(source, Org):
        raise KamError("--hierarchy as-was needs a workspace folder (its history.csv)",
                       hint="pass the folder instead of an Org")
    if reconcile and not plan.as_was:
        raise KamError("--reconcile compares --hierarchy as-was with the restated tree",
                       hint="use --hierarchy as-was --reconcile (and --as-of DATE to restate "
                       "on another day's tree)")
    return plan


def _tables(source: Org | WorkspaceTables | str | Path, pm: pluggy.PluginManager | None,
            registry: Registry | None, as_of: date | str | None) -> WorkspaceTables:
    """The workspace's tables, read once (the as-was trees come from their history)."""
    from kamcore.workspace.tables import WorkspaceTables, read_workspace

    if isinstance(source, WorkspaceTables):
        return source
    assert isinstance(source, (str, Path))
    tables = read_workspace(source, pm=pm, registry=registry, columns=(), as_of=as_of)
    tables.require_readable()
    return tables


def account_totals(org: Org, metrics: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    """Subtree total of each metric for every account, in the reporting currency.

    Uses the latest period of the workspace's facts file when there is one, else the metric
    columns of accounts.csv; each metric rolls up by its own aggregation. A metric with no
    value anywhere in an account's subtree is left out of that account's dict.

    :param org: a loaded org (``org.path`` locates facts.csv and fx.csv).
    :param metrics: metric names; default every metric that has values.
    :returns: ``{account_id: {metric: total}}``, accounts in file order.

    >>> import kamcore
    >>> from kamcore.rollup import account_totals
    >>> totals = account_totals(kamcore.load("examples/acme"), ["orders"])  # doctest: +SKIP
    >>> totals["ACME"]["orders"]                                             # doctest: +SKIP
    198.0
    """
    import math

    result = rollup(org, metrics, own=False)
    keys = [(c.key, c.metric) for c in result.columns if c.metric]
    out: dict[str, dict[str, float]] = {account_id: {} for account_id in org.accounts}
    for record in result.table.select(["id", *(k for k, _ in keys)]).to_pylist():
        values = out[record["id"]]
        for key, metric in keys:
            value = record[key]
            if value is not None and not math.isnan(value):
                values[metric] = float(value)
    return out
