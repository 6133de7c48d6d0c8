"""Property: random sequences of valid changes keep the org valid, and undoing them all gives
back the original files byte for byte."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import kamcore
from kamcore import changes
from kamcore.errors import ChangeRefused, KamError
from kamcore.validation import has_errors
from tests.test_changes_support import builtin_registry, save_small, snapshot

REGISTRY = builtin_registry()
ROLES = ("gam", "nam", "kam", "am")

step = st.tuples(st.sampled_from(["move", "assign", "handover", "spread", "leave", "hire"]),
                 st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 1000))


def _plan(org: kamcore.Org, op: str, i: int, j: int, k: int, hired: int):
    accounts = list(org.accounts)
    people = [p for p in org.people if org.people[p].active]
    account = accounts[i % len(accounts)]
    person = people[j % len(people)]
    if op == "move":
        # Mostly a plausible parent (same country, a tier above, or a regular one for a
        # regular account), sometimes anything at all (those are refused).
        me = org.accounts[account]
        fitting = [a.id for a in org.accounts.values() if a.country == me.country
                   and (a.tier.rank == me.tier.rank - 1 or a.tier == me.tier == "regular")]
        pool = fitting if fitting and k % 4 else [None, *accounts]
        return changes.move(org, account, to=pool[k % len(pool)])
    if op == "assign":
        return changes.assign(org, account, manager=person)
    if op == "handover":
        return changes.handover(org, person, to=[people[k % len(people)]])
    if op == "spread":
        return changes.handover(org, person, spread=True,
                                balance="revenue" if k % 2 else "count")
    if op == "leave":
        return changes.leave(org, person, spread=True)
    return changes.hire(org, id=f"H{hired}", name=f"Hire {hired}", role=ROLES[k % len(ROLES)],
                        reports_to=person, capacity=k % 5)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=8))
def test_valid_changes_keep_the_org_valid_and_undo_restores_every_byte(steps):
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_small(Path(tmp) / "org")
        original = snapshot(folder)
        applied = 0
        for number, (op, i, j, k) in enumerate(steps):
            org = kamcore.load(folder, registry=REGISTRY)
            try:
                plan = _plan(org, op, i, j, k, number)
            except KamError:
                continue  # refused up front (a loop, nobody to hand over ...): nothing to apply
            files = snapshot(folder)
            try:
                result = changes.apply(plan)
            except ChangeRefused:
                assert plan.errors_added, plan.diff()
                assert snapshot(folder) == files  # a refused change writes nothing
                continue
            if result.entry is None:
                continue
            applied += 1
            event(f"applied {op}")
            after = kamcore.load(folder, registry=REGISTRY)
            assert not has_errors(kamcore.validate(after)), plan.diff()
        for _ in range(applied):
            org = kamcore.load(folder, registry=REGISTRY)
            changes.apply(changes.undo_plan(org))
        assert snapshot(folder) == original
        entries = changes.read_journal(folder)
        assert len(entries) == 2 * applied
        assert changes.journal.undoable(entries) == []


_leaf = st.one_of(st.none(), st.integers(-3, 3), st.floats(allow_nan=False), st.text(max_size=2))
_record = st.recursive(_leaf, lambda inner: st.dictionaries(st.sampled_from("abcd"), inner,
                                                              max_size=4), max_leaves=12)


@given(st.dictionaries(st.sampled_from("abcde"), _record, max_size=5),
       st.dictionaries(st.sampled_from("abcde"), _record, max_size=5))
def test_changed_fields_quick_path_is_the_flattened_diff(before, after) -> None:
    """RecordChange.fields skips equal subtrees when both sides have the same keys; it gives
    exactly what comparing both records flattened gives (same fields, same order)."""
    from kamcore.changes.plan import RecordChange, _flatten

    old, new = _flatten(before), _flatten(after)
    keys = list(old) + [k for k in new if k not in old]
    want = [(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]
    assert RecordChange("account", "A", before, after).fields() == want


@given(st.dictionaries(st.sampled_from("abcde"), _record, max_size=5), st.data())
def test_changed_fields_of_records_with_the_same_keys(before, data) -> None:
    """The quick path itself: the same keys at every level, some leaves changed."""
    from kamcore.changes.plan import RecordChange, _flatten

    def edit(value):
        if isinstance(value, dict):
            return {k: edit(v) for k, v in value.items()}
        return data.draw(_leaf) if data.draw(st.booleans()) else value

    after = edit(before)
    old, new = _flatten(before), _flatten(after)
    assert RecordChange("account", "A", before, after).fields() == [
        (k, old[k], new[k]) for k in old if old[k] != new[k]]


@settings(max_examples=200, deadline=None)
@given(manager=st.one_of(st.none(), st.sampled_from(["P1", "P2"])),
       parent=st.one_of(st.none(), st.sampled_from(["A0", "B"])),
       tier=st.sampled_from(["global", "national", "key", "regular"]),
       revenue=st.one_of(st.none(), st.floats(0, 1e9)), name=st.sampled_from(["A", "Ä b"]),
       active=st.booleans(), capacity=st.one_of(st.none(), st.integers(0, 99)))
def test_a_changed_record_dumps_as_its_copy_dumps(manager, parent, tier, revenue, name,
                                                  active, capacity):
    """A plan dumps each changed record once and derives the dump of its edited copy
    (record_changes): the same dict as dumping the copy, whatever was set on it."""
    from kamcore.changes.plan import _dump_of_copy, dump
    from kamcore.models import Account, Person, Tier

    account = Account(id="A", name="A", tier="key", parent="A0", manager="P1",
                      metrics={"revenue": 5.0}, ext={"x": {"y": "1"}}, extra={"notes": "n"})
    update: dict = {"manager": manager, "parent": parent, "tier": Tier(tier), "name": name}
    if revenue is not None:
        update["metrics"] = {"revenue": revenue}
    for record, copy in ((account, account.model_copy(update=update)),
                         (account, Account.model_validate(dump(account) | {"manager": manager})),
                         (Person(id="P", name="P", role="kam", capacity=3),
                          Person(id="P", name="P", role="kam", capacity=3).model_copy(
                              update={"active": active, "capacity": capacity}))):
        assert _dump_of_copy(record, copy, dump(record)) == dump(copy)
