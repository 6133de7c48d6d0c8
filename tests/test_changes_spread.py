"""The capacity-balancing hand-over (--spread): fit, capacity, closeness, balance, determinism."""

from __future__ import annotations

import pytest

from kamcore.changes import handover, spread_book
from kamcore.errors import ChangeRefused
from kamcore.models import Account, Person
from kamcore.org import Org
from tests.test_changes_support import small_org


def with_people(org: Org, **updates: dict) -> Org:
    people = dict(org.people)
    for pid, update in updates.items():
        people[pid] = people[pid].model_copy(update=update)
    return org.replace(people=people)


def test_peers_first():
    placed, unplaced = spread_book(small_org(), "KAM1")
    assert placed == {"K1": "KAM3", "K2": "KAM3"}
    assert unplaced == []


def test_capacity_is_respected_then_the_manager_team_takes_over():
    org = with_people(small_org(), KAM3={"capacity": 1})
    placed, _ = spread_book(org, "KAM1")
    assert placed == {"K1": "KAM3", "K2": "NAM1"}


def test_closeness_walks_up_the_chain_of_command():
    org = small_org()
    assert spread_book(org, "KAM2")[0] == {"K3": "NAM2"}
    # NAM2 is full: the next circle is GAM1's team, where KAM3 is the least loaded fit.
    full = with_people(org, NAM2={"capacity": 1})
    assert spread_book(full, "KAM2")[0] == {"K3": "KAM3"}


def test_inactive_and_support_people_never_receive():
    org = with_people(small_org(), KAM3={"active": False})
    placed, _ = spread_book(org, "KAM1")
    assert set(placed.values()) == {"NAM1"}  # KAM3 inactive, AM1 cannot hold key accounts


def test_impossible_accounts_are_listed_not_forced():
    org = with_people(small_org(), KAM3={"capacity": 0}, NAM1={"capacity": 1},
                      NAM2={"capacity": 1}, KAM2={"capacity": 1}, GAM1={"capacity": 1},
                      DIR={"capacity": 0})
    placed, unplaced = spread_book(org, "KAM1")
    assert placed == {}
    assert [(u.account, u.reason) for u in unplaced] == [
        ("K1", "every DIRECTOR/GAM/KAM/NAM/VP who could take a key account is at capacity "
               "(DIR 0/0, GAM1 1/1, KAM2 1/1, KAM3 0/0, ...)"),
        ("K2", "every DIRECTOR/GAM/KAM/NAM/VP who could take a key account is at capacity "
               "(DIR 0/0, GAM1 1/1, KAM2 1/1, KAM3 0/0, ...)"),
    ]


def _balance_org() -> Org:
    a, p = Account, Person
    return Org.build(
        [a(id="BIG", name="Big", tier="key", manager="OLD", metrics={"revenue": 40}),
         a(id="SMALL", name="Small", tier="key", manager="OLD", metrics={"revenue": 10}),
         a(id="X1", name="X1", tier="regular", manager="KB", metrics={"revenue": 3}),
         a(id="X2", name="X2", tier="regular", manager="KB", metrics={"revenue": 5}),
         a(id="Y1", name="Y1", tier="regular", manager="KA", metrics={"revenue": 50})],
        [p(id="N", name="N", role="nam"),
         p(id="OLD", name="Old", role="kam", reports_to="N"),
         p(id="KA", name="Ka", role="kam", reports_to="N"),
         p(id="KB", name="Kb", role="kam", reports_to="N")])


def test_balance_by_count_or_by_revenue():
    org = _balance_org()
    # By count: KA holds 1, KB 2; BIG goes to KA, then both hold 2 and the id decides.
    assert spread_book(org, "OLD", balance="count")[0] == {"BIG": "KA", "SMALL": "KA"}
    # By revenue (largest first): KB holds 8, KA 50; KB takes BIG (48) and, still below 50,
    # SMALL too.
    assert spread_book(org, "OLD", balance="revenue")[0] == {"BIG": "KB", "SMALL": "KB"}
    with pytest.raises(ChangeRefused, match="unknown balance"):
        spread_book(org, "OLD", balance="mood")


def test_deterministic_whatever_the_file_order():
    org = small_org()
    shuffled = org.replace(people=dict(reversed(list(org.people.items()))),
                           accounts=dict(reversed(list(org.accounts.items()))))
    for person in ("KAM1", "KAM2", "NAM1", "AM1"):
        assert spread_book(org, person) == spread_book(org, person)
        assert spread_book(org, person)[0] == spread_book(shuffled, person)[0]


def test_most_constrained_tiers_are_placed_first():
    a, p = Account, Person
    org = Org.build(
        [a(id="R", name="R", tier="regular", manager="OLD"),
         a(id="N", name="N", tier="national", manager="OLD")],
        [p(id="B", name="B", role="director"),
         p(id="OLD", name="Old", role="nam", reports_to="B"),
         p(id="NAM", name="Nam", role="nam", reports_to="B", capacity=1),
         p(id="AM", name="Am", role="am", reports_to="B", capacity=1)])
    # The national account claims the only NAM slot before the regular account could.
    assert spread_book(org, "OLD")[0] == {"R": "AM", "N": "NAM"}


def test_several_named_successors_are_balanced_among_themselves():
    org = with_people(small_org(), KAM3={"capacity": 1})
    plan = handover(org, "KAM1", to=["NAM2", "KAM3"])
    assert plan.receivers == {"KAM3": ["K1"], "NAM2": ["K2"]}
    assert plan.title == "handover --from KAM1 --to NAM2 --to KAM3"


def test_a_named_successor_who_cannot_receive_is_refused():
    org = with_people(small_org(), KAM3={"active": False})
    with pytest.raises(ChangeRefused, match="KAM3 cannot take over accounts: they are inactive"):
        handover(org, "KAM1", to=["KAM3", "NAM1"])
