"""The three shapes of a rollup: the account tree, the management chain, groups of accounts.

No double counting, by construction: a person's *book* sums the **own** values of the accounts
they manage (never subtree totals), so a manager of a parent and of its child, or of accounts in
two subtrees, counts each account once. A *team* total is the person's book plus the books of
everyone below them in the management tree. Groups (tier, country, ...) also sum own values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from kamcore.errors import KamError
from kamcore.rollup.result import Column, RollupResult

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from kamcore.models.records import MetricDef
    from kamcore.rollup.columnar import Columns
    from kamcore.rollup.compile import CompiledTree
    from kamcore.rollup.engine import Spec
    from kamcore.rollup.values import Inputs, PeriodValues

TIER_ORDER = ("global", "national", "key", "regular")
#: ``--by`` values that are views of their own; any other names a field to group by.
TREE_VIEWS = ("account", "manager", "territory")
#: Units shown as percentages in the terminal (values are fractions, 0.104 -> 10.4%).
RATIO_UNITS = ("ratio", "share", "fraction")


def specs_for(inputs: Inputs, names: Sequence[str]) -> list[Spec]:
    """The engine's spec for each metric row (weights point at rows of ``names``)."""
    from kamcore.rollup.engine import Spec

    out = []
    for name in names:
        mdef = inputs.metrics[name]
        weight = names.index(mdef.weight) if mdef.aggregation == "wmean" and mdef.weight \
            else None
        out.append(Spec(mdef.aggregation, weight))
    return out


def compiled(cols: Columns) -> CompiledTree:
    """Compile a table's tree; a cycle becomes an error with file and line."""
    from kamcore.rollup.columnar import cycle_error
    from kamcore.rollup.compile import CycleFound, compile_tree

    try:
        return compile_tree(cols.parent)
    except CycleFound as exc:
        raise cycle_error(cols, exc.nodes) from None


def metric_label(name: str, mdef: MetricDef | None) -> str:
    """A metric's label in headers: its own, else its name (``claim_rate`` -> ``Claim rate``)."""
    return (mdef.label if mdef is not None and mdef.label else None) or \
        name.replace("_", " ").capitalize()


def metric_kind(mdef: MetricDef | None) -> str:
    """How a metric's values are written (:func:`kamcore.rollup.render.format_number`):
    ``money``, ``ratio``, ``number`` (means) or ``int`` (counts and sums)."""
    if mdef is None:
        return "number"
    return "money" if mdef.is_money else "ratio" if mdef.unit in RATIO_UNITS else (
        "number" if mdef.aggregation in ("mean", "wmean") else "int")


def _metric_columns(inputs: Inputs, shown: Sequence[str], blocks: Sequence[PeriodValues],
                    parts: Sequence[tuple[str, str]]) -> list[tuple[Column, int, str]]:
    """Metric columns with the block (period) and part (suffix) each one shows."""
    cols = []
    for name in shown:
        mdef = inputs.metrics[name]
        label, kind = metric_label(name, mdef), metric_kind(mdef)
        for b, block in enumerate(blocks):
            for suffix, prefix in parts:
                key = name + suffix + (f"_{block.label}" if block.label else "")
                head = (prefix + label + (f" {block.label}" if block.label else "")).strip()
                if mdef.is_money:
                    head += f" ({inputs.currency})"
                cols.append((Column(key, head, kind, name), b, suffix))
    return cols


def _put(data: dict[str, pa.Array], col: Column, values: np.ndarray) -> Column:
    """Store a metric column; an "int" column with fractions becomes a "number" column."""
    from dataclasses import replace

    import pyarrow as pa

    data[col.key] = _num(values, col.kind)
    if col.kind == "int" and pa.types.is_floating(data[col.key].type):
        return replace(col, kind="number")
    return col


def _num(values: np.ndarray, kind: str = "number") -> pa.Array:
    """Missing (NaN) becomes null; whole-number columns (counts, orders) become int64."""
    import numpy as np
    import pyarrow as pa

    missing = np.isnan(values)
    if kind == "int" and np.array_equal(values[~missing], np.round(values[~missing])) \
            and (np.abs(values[~missing]) < 2 ** 53).all():
        return pa.array(np.where(missing, 0, values).astype(np.int64),
                        mask=missing if missing.any() else None)
    return pa.array(values, pa.float64(), mask=missing if missing.any() else None)


def account_view(inputs: Inputs, shown: Sequence[str], names: Sequence[str],
                 blocks: Sequence[PeriodValues], *, depth: int | None = None,
                 top: int | None = None, own: bool = True,
                 parents: Sequence[np.ndarray] | None = None) -> RollupResult:
    """Own value and subtree total of each metric, per account, in tree (pre-)order.

    :param parents: one parent array per block: each period's totals follow its own tree (the
        rows, their order and depth follow the accounts' own tree).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from kamcore.rollup.engine import rollup

    acc = inputs.accounts
    # each account's manager's row in people, looked up first: the tree's link may still be
    # running on another core (see load_inputs)
    person = None
    if "manager" in acc.text.column_names and inputs.person_names is not None:
        person = pc.index_in(acc.text.column("manager"), value_set=inputs.person_names[0])
    plain = _plain_columns(inputs)  # the CSV writer's questions, answered meanwhile too
    tree = compiled(acc)
    trees = [tree] * len(blocks) if parents is None else [
        compiled(replace(acc, parent=parent)) for parent in parents]
    specs = specs_for(inputs, names)
    # totals stay in level order: gathering the output rows from there saves a permutation
    totals = [rollup(t, t.to_level(b.values), specs, consume=True)
              for t, b in zip(trees, blocks, strict=True)]
    order = tree.preorder()
    level = tree.depth[tree.position]
    first = totals[0][0][trees[0].position] if len(shown) and top is not None else None
    order = _trim(order, level, first, depth, top)
    # a file written in tree order (as kam writes it) gives its rows as they are: no copies
    same = len(order) == len(acc) and bool((order == np.arange(len(order))).all())
    take = None if same else pa.array(order)

    def rows(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        return column if take is None else column.take(take)

    data: dict[str, pa.Array | pa.ChunkedArray] = {"id": rows(acc.ids)}
    for name in ("name", "tier", "parent", "manager"):  # as read, in the reader's chunks
        data[name] = (rows(acc.text.column(name)) if name in acc.text.column_names
                      else pa.nulls(len(order), pa.string()))
    data["depth"] = pa.array(level if same else level[order])
    columns = [Column("id", "Id"), Column("name", "Account"), Column("tier", "Tier"),
               Column("manager", "Manager id"), Column("parent", "Parent"),
               Column("depth", "Depth", "int")]
    if inputs.person_names is not None:
        data["manager_name"] = manager_names(data["manager"], *inputs.person_names,
                                             rows=None if person is None else rows(person))
        columns.insert(4, Column("manager_name", "Manager"))
    parts = ([("", "Own "), ("_total", "")] if own else [("_total", "")])
    metric_cols = _metric_columns(inputs, shown, blocks, parts)
    for col, b, part in metric_cols:
        i = names.index(col.metric or "")
        values = (totals[b][i][trees[b].position if same else trees[b].position[order]]
                  if part == "_total" else blocks[b].values[i] if same
                  else blocks[b].values[i][order])
        columns.append(_put(data, col, values))
    result = RollupResult("account", columns, pa.table(data), inputs.currency, list(shown))
    result.plain = plain
    return result


def _plain_columns(inputs: Inputs) -> frozenset[str]:
    """The account view's text columns whose every cell is written as it is
    (:func:`~kamcore.rollup.render.plain_text`): asked of the columns as read, so the answer
    holds for any order and any subset of their rows. A manager's name is a person's name or,
    for a manager people.csv does not know, the manager's id."""
    from kamcore.rollup.render import plain_text

    acc = inputs.accounts
    plain = {name for name in ("id", "name", "tier", "parent", "manager")
             if name not in acc.text.column_names or plain_text(acc.text.column(name))}
    if "manager" in plain and inputs.person_names is not None \
            and plain_text(inputs.person_names[1]):
        plain.add("manager_name")
    return frozenset(plain)


def manager_names(managers: pa.Array | pa.ChunkedArray, ids: pa.Array, names: pa.Array, *,
                  rows: pa.Array | pa.ChunkedArray | None = None) -> pa.Array | pa.ChunkedArray:
    """Each manager id's person name; the id itself where people.csv has no such person.

    :param rows: each manager's row in ``ids`` (``pc.index_in``), when already looked up.
    """
    import pyarrow.compute as pc

    named = names.take(pc.index_in(managers, value_set=ids) if rows is None else rows)
    # with ids and names all given, an empty manager cell is the only other null: when the
    # counts agree, every manager was found and there is nothing to fill in
    if ids.null_count or names.null_count or named.null_count != managers.null_count:
        named = pc.coalesce(named, managers)
    return named


def _trim(order: np.ndarray, level: np.ndarray, first_total: np.ndarray | None,
          depth: int | None, top: int | None) -> np.ndarray:
    import numpy as np

    if depth is not None:
        order = order[level[order] <= depth]
    if top is not None and first_total is not None:
        keyed = np.nan_to_num(first_total[order], nan=-np.inf)
        order = order[np.argsort(-keyed, kind="stable")][:top]
    elif top is not None:
        order = order[:top]
    return order


def manager_view(inputs: Inputs, shown: Sequence[str], names: Sequence[str],
                 blocks: Sequence[PeriodValues], *, depth: int | None = None,
                 top: int | None = None, credit: str = "account") -> RollupResult:
    """Each person's own book and their team's total, in management-tree order.

    Accounts without a manager, or whose manager is not in people.csv, are gathered in a
    last row, ``(unassigned)``, so that the top of the chain plus it add up to the org.
    With ``credit="owner"`` the "accounts" are (account, owner) pairs of the facts
    (:func:`kamcore.rollup.credit.owner_units`) and a book is what a person owns.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    people = inputs.people
    if people is None:
        raise KamError("a manager rollup needs people.csv")
    codes = pc.index_in(inputs.accounts.column("manager") or pa.nulls(len(inputs.accounts),
                                                                      pa.string()),
                        value_set=people.ids).fill_null(len(people)).to_numpy(
                            zero_copy_only=False)
    last = f"no or unknown {'owner' if credit == 'owner' else 'manager'}"
    result = tree_view(inputs, people, codes, shown, names, blocks, depth=depth, top=top,
                       view="manager", text=(("name", "Person", last), ("role", "Role", "")),
                       parts=(("_book", "Book "), ("_team", "Team ")),
                       counts=("Own accts", "Team accts"))
    result.credit = credit
    return result


def territory_view(inputs: Inputs, shown: Sequence[str], names: Sequence[str],
                   blocks: Sequence[PeriodValues], *, depth: int | None = None,
                   top: int | None = None) -> RollupResult:
    """Each territory's own accounts and the total of its subtree, in territory-tree order;
    accounts in no territory in a last row, ``(unassigned)``."""
    territories, codes = inputs.territories, inputs.territory_codes
    if territories is None or codes is None:
        raise KamError("a territory rollup needs territories.csv in the workspace",
                       hint="see docs/territories.md")
    return tree_view(inputs, territories, codes, shown, names, blocks, depth=depth, top=top,
                     view="territory", text=(("name", "Territory", "in no territory"),
                                             ("manager", "Manager", "")),
                     parts=(("_own", "Own "), ("_total", "Total ")),
                     counts=("Own accts", "Total accts"))


def tree_view(inputs: Inputs, tree_cols: Columns, codes: np.ndarray, shown: Sequence[str],
              names: Sequence[str], blocks: Sequence[PeriodValues], *, depth: int | None,
              top: int | None, view: str, text: Sequence[tuple[str, str, str]],
              parts: Sequence[tuple[str, str]], counts: tuple[str, str]) -> RollupResult:
    """Accounts grouped on the nodes of another tree (people, territories): each node's own
    group and its subtree's total, in tree order, and a last ``(unassigned)`` row for the
    accounts of no node (``codes`` == the number of nodes).

    :param codes: per account (or unit), the row of its node; ``len(tree_cols)``: none.
    :param text: ``(column, header, value in the unassigned row)`` for each text column.
    :param parts: the (key suffix, header prefix) of the own and the total metric columns.
    :param counts: headers of the own and the total account counts.
    """
    import numpy as np
    import pyarrow as pa

    from kamcore.rollup.compile import compile_tree
    from kamcore.rollup.engine import aggregate, group_fold, rollup_extreme, rollup_sums

    p = len(tree_cols)
    compiled(tree_cols)  # a readable error for a cycle in the tree
    tree = compile_tree(np.append(tree_cols.parent, -1))
    specs = specs_for(inputs, names)
    group_sums, group_extreme = group_fold(codes, p + 1)

    def team_sums(rows: np.ndarray) -> np.ndarray:
        return tree.to_original(rollup_sums(tree, tree.to_level(group_sums(rows)),
                                            inplace=True))

    def team_extreme(row: np.ndarray, kind: str) -> np.ndarray:
        return tree.to_original(rollup_extreme(tree, tree.to_level(group_extreme(row, kind)),
                                               kind))

    books = [aggregate(b.values, specs, group_sums, group_extreme) for b in blocks]
    teams = [aggregate(b.values, specs, team_sums, team_extreme) for b in blocks]
    count = np.bincount(codes, minlength=p + 1).astype(np.float64)
    team_count = tree.to_original(rollup_sums(tree, tree.to_level(count[None, :])))[0]
    order = tree.preorder()
    if count[p] == 0:
        order = order[order != p]
    level = tree.depth[tree.position]
    order = _trim(order, level, teams[0][0] if len(shown) else None, depth, top)
    take = pa.array(order)
    ids = pa.concat_arrays([tree_cols.ids, pa.array(["(unassigned)"])])
    data: dict[str, pa.Array] = {"id": ids.take(take)}
    columns = [Column("id", "Id")]
    for name, header, last in text:
        col = tree_cols.column(name)
        base = col if col is not None else pa.nulls(p, pa.string())
        data[name] = pa.concat_arrays([base, pa.array([last])]).take(take)
        columns.append(Column(name, header))
    own_key, total_key = ("accounts", "team_accounts") if view == "manager" else (
        "accounts", "total_accounts")
    data["depth"] = pa.array(level[order])
    data[own_key] = pa.array(count[order].astype(np.int64))
    data[total_key] = pa.array(team_count[order].astype(np.int64))
    columns += [Column("depth", "Depth", "int"), Column(own_key, counts[0], "int"),
                Column(total_key, counts[1], "int")]
    metric_cols = _metric_columns(inputs, shown, blocks, parts)
    for col, b, part in metric_cols:
        i = names.index(col.metric or "")
        source = teams[b] if part == parts[1][0] else books[b]
        columns.append(_put(data, col, source[i][order]))
    return RollupResult(view, columns, pa.table(data), inputs.currency, list(shown))


def _normalised_keys(inputs: Inputs, field: str, values: list[object]
                     ) -> tuple[list[str], np.ndarray]:
    """The group keys of a field's distinct values, and each value's group.

    A plugin field's value is normalised by the plugin's field model (``Gold`` and ``gold``
    are one group when the model makes them one value); a value the model refuses keeps its
    text (``kam validate`` reports it as KAM140). The last group is ``(none)``.
    """
    import numpy as np

    normal = [_normalise(inputs, field, value) for value in values]
    keys = list(dict.fromkeys(normal))
    index = {key: i for i, key in enumerate(keys)}
    remap = np.array([index[key] for key in normal] + [len(keys)], dtype=np.intp)
    return [*keys, "(none)"], remap


def _normalise(inputs: Inputs, field: str, value: object) -> str:
    from kamcore.fieldvalues import field_of, normal_value

    found = field_of(inputs.registry, field)
    if found is None:
        return str(value)
    try:
        normal = normal_value(*found, value)
    except ValueError:  # the model refuses it: KAM140's to report, the text stays
        return str(value)
    if isinstance(normal, list | tuple):
        normal = ";".join(map(str, normal))
    return str(normal)


def _unknown_group(acc: Columns, field: str) -> KamError:
    """``--by contry``: the choices ``--by`` has in this workspace, the closest first."""
    from kamcore.errors import did_you_mean

    header = acc.source.header if acc.source is not None else acc.text.column_names
    fields = [c for c in dict.fromkeys(header)
              if c not in ("id", "name", "parent", *TREE_VIEWS, *acc.numbers)]
    choices = (f"--by takes a view ({', '.join(TREE_VIEWS)}) or a field of accounts to group "
               f"by ({', '.join(fields) or 'none'})")
    close = did_you_mean(field, [*TREE_VIEWS, *fields], n=1)
    return KamError(f"cannot group by {field!r}: it is no view and accounts have no such "
                    "field", hint=f"{close} {choices}" if close else choices)


def group_view(inputs: Inputs, field: str, shown: Sequence[str], names: Sequence[str],
               blocks: Sequence[PeriodValues], *, top: int | None = None) -> RollupResult:
    """Accounts grouped by a field (tier, country, industry, a plugin field ``ns.field``...)."""
    import numpy as np
    import pyarrow as pa

    from kamcore.rollup.engine import aggregate, group_fold

    acc = inputs.accounts
    column = acc.column(field)
    if column is None:
        raise _unknown_group(acc, field)
    enc = column.dictionary_encode()
    keys, remap = _normalised_keys(inputs, field, enc.dictionary.to_pylist())
    codes = remap[enc.indices.fill_null(len(remap) - 1).to_numpy(zero_copy_only=False)]
    g = len(keys)
    sums, extreme = group_fold(codes, g)
    folded = [aggregate(b.values, specs_for(inputs, names), sums, extreme) for b in blocks]
    count = np.bincount(codes, minlength=g)
    order = np.flatnonzero(count)
    if field == "tier":
        rank = {t: i for i, t in enumerate(TIER_ORDER)}
        order = np.array(sorted(order, key=lambda i: (rank.get(keys[i], 9), keys[i])),
                         dtype=np.int64)
    elif len(shown):  # largest first metric first, ties by key, "(none)" last
        first = np.nan_to_num(folded[0][0][order], nan=-np.inf)
        order = order[np.lexsort((np.array(keys, dtype=object)[order].astype(str), -first,
                                  order == g - 1))]
    cut = top is not None and top < len(order)
    if top is not None:
        order = order[:top]
    data: dict[str, pa.Array] = {
        field: pa.array([keys[i] for i in order], pa.string()),
        "accounts": pa.array(count[order])}
    columns = [Column(field, field.capitalize()), Column("accounts", "Accounts", "int")]
    metric_cols = _metric_columns(inputs, shown, blocks, [("", "")])
    # one fold, two groups: 0 the accounts of the groups shown (under --top), 1 the others
    part = np.isin(codes, order, invert=True).astype(np.intp) if cut else \
        np.zeros(len(codes), dtype=np.intp)
    parts = group_fold(part, 2)
    overall = [aggregate(b.values, specs_for(inputs, names), *parts) for b in blocks]
    everyone = group_fold(np.zeros(len(codes), dtype=np.intp), 1)
    whole = [aggregate(b.values, specs_for(inputs, names), *everyone) for b in blocks] if cut \
        else [o[:, :1] for o in overall]
    total: dict[str, object] = {field: "(all)", "accounts": int(count.sum())}
    shown_total: dict[str, object] = {field: "(shown)", "accounts": int(count[order].sum())}
    for col, b, _ in metric_cols:
        row = names.index(col.metric or "")
        columns.append(_put(data, col, folded[b][row][order]))
        total[col.key] = _total_cell(float(whole[b][row][0]), col.kind)
        shown_total[col.key] = _total_cell(float(overall[b][row][0]), col.kind)
    result = RollupResult(field, columns, pa.table(data), inputs.currency, list(shown))
    result.total = total
    result.shown_total = shown_total if cut else None
    return result


def _total_cell(value: float, kind: str) -> int | float | None:
    """A total as the records show it: ``None`` for missing, whole numbers as ``int``."""
    import math

    if math.isnan(value):
        return None
    whole = value.is_integer() and abs(value) < 2 ** 53 and kind != "number"
    return int(value) if whole else value
