"""Who a fact counts for in a manager rollup: the account's manager, or the deal's owner.

``credit="account"`` (the default) gives each person the book of the accounts they manage.
``credit="owner"`` gives each person the facts they own (the ``owner`` column that
``kam import facts`` writes), wherever the account sits: the units rolled up are then the
distinct (account, owner) pairs of the facts, each "managed" by its owner, and the existing
manager view totals them up the people tree unchanged. Facts without an owner land in the
``(unassigned)`` row; accounts.csv columns, which name no owner, do not take part.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kamcore.errors import KamError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kamcore.rollup.periods import Period
    from kamcore.rollup.values import Inputs

CREDITS = ("account", "owner")


def owner_units(inputs: Inputs, periods: Sequence[Period]) -> Inputs:
    """``inputs`` with the (account, owner) pairs of the facts of ``periods`` (the periods
    the rollup shows: a person's accounts are those they own facts on there) as its accounts.

    :raises KamError: the workspace has no facts with an ``owner`` column.
    """
    import numpy as np
    import pyarrow as pa

    from kamcore.rollup.columnar import Columns

    facts = inputs.facts
    if facts is None or facts.owner is None:
        raise KamError("--credit owner needs facts with an owner column",
                       hint="kam import facts ORG FILE --map facts.yaml with owner: COLUMN "
                            "(docs/facts.md), or use --credit account")
    if periods:  # no periods: facts without any period shown; keep the (empty) outline
        keep = np.isin(facts.period, [facts.periods.index(p) for p in periods])
        facts = replace(facts, account=facts.account[keep], period=facts.period[keep],
                        metric=facts.metric[keep], value=facts.value[keep],
                        owner=facts.owner[keep])
    assert facts.owner is not None
    width = len(facts.owners) + 1
    key = facts.account.astype(np.int64) * width + facts.owner + 1
    pairs, inverse = np.unique(key, return_inverse=True)
    account, owner = np.divmod(pairs, width)
    acc = inputs.accounts
    take = pa.array(account)
    names = pa.array([*facts.owners, None], pa.string())
    owner_ids = names.take(pa.array(np.where(owner > 0, owner - 1, width - 1)))
    currency = acc.column("currency")
    text = pa.table({
        "id": acc.ids.take(take),
        "name": (acc.column("name") or pa.nulls(len(acc), pa.string())).take(take),
        "manager": owner_ids,
        "currency": (currency if currency is not None
                     else pa.nulls(len(acc), pa.string())).take(take)})
    units = Columns(ids=text.column("id").combine_chunks(),
                    parent=np.full(len(pairs), -1, dtype=np.int64), text=text,
                    path=acc.path)
    return replace(inputs, accounts=units,
                   facts=replace(facts, account=inverse.astype(np.int32), owner=None,
                                 owners=[]))
