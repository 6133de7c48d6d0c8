"""Property tests over random forests: valid orgs stay valid, saves round-trip exactly,
injected cycles and orphans are found, and the fast record path agrees with pydantic."""

from __future__ import annotations

import tempfile
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kamcore
from kamcore import Account, Org, Person
from kamcore.models.quick import quick_account, quick_person
from kamcore.validation import has_errors
from tests.orgkit import registry

TIERS = ["global", "national", "key", "regular"]
ROLE_FOR = {"global": "gam", "national": "nam", "key": "kam", "regular": "am"}
COUNTRIES = ["DE", "FR", "US", "JP", "BR"]
text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12) \
    .map(str.strip).filter(bool)
# any finite float whose totals fit (KAM154 rightly refuses two values near 1.8e308)
numbers = st.one_of(st.integers(-10**12, 10**12).map(float),
                    st.floats(allow_nan=False, allow_infinity=False, width=64,
                              min_value=-1e300, max_value=1e300))


@st.composite
def valid_orgs(draw: Any) -> Org:
    n = draw(st.integers(1, 25))
    parents: list[int | None] = [None]
    for i in range(1, n):
        parents.append(draw(st.one_of(st.none(), st.integers(0, i - 1))))
    accounts: list[Account] = []
    people = [Person(id=f"P-{t}", name=f"Boss {t}", role=ROLE_FOR[t]) for t in TIERS]
    tiers: list[str] = []
    countries: list[str] = []
    for i, parent in enumerate(parents):
        if parent is None:
            tier = draw(st.sampled_from(TIERS))
            country = draw(st.sampled_from(COUNTRIES))
        else:
            above = TIERS.index(tiers[parent])
            tier = draw(st.sampled_from(TIERS[min(above + 1, 3):]))
            country = countries[parent]
            if tiers[parent] == "global":
                country = draw(st.sampled_from(COUNTRIES))
        tiers.append(tier)
        countries.append(country)
        metrics = draw(st.dictionaries(st.sampled_from(["revenue", "orders", "receivables"]),
                                       numbers, max_size=3))
        ext = draw(st.dictionaries(st.sampled_from(["acme", "zeta"]),
                                   st.dictionaries(st.sampled_from(["a", "b"]), text,
                                                   min_size=1, max_size=2), max_size=1))
        extra = draw(st.dictionaries(st.sampled_from(["crm_note", "Region"]), text, max_size=2))
        accounts.append(Account(
            id=f"A{i}", name=draw(text), tier=tier,
            parent=None if parent is None else f"A{parent}", manager=f"P-{tier}",
            # values in another currency than the org's (USD) need an FX rate, which an org
            # built in Python has not: validate (KAM151) and rollup both refuse those
            country=country, currency=draw(st.sampled_from(
                ["USD", None] if metrics else ["EUR", "USD", None])),
            industry=draw(st.sampled_from(["retail", None])), metrics=metrics, ext=ext,
            extra=extra))
    return Org.build(accounts, people, registry=registry())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_orgs())
def test_generated_orgs_have_no_errors(org):
    assert not has_errors([f for f in kamcore.validate(org) if f.code != "KAM130"])


@settings(max_examples=60, deadline=None)
@given(valid_orgs())
def test_save_load_round_trips_exactly(org):
    with tempfile.TemporaryDirectory() as folder:
        kamcore.save(org, folder)
        again = kamcore.load(folder, registry=org.registry)
        assert list(again.accounts.values()) == list(org.accounts.values())
        assert list(again.people.values()) == list(org.people.values())
        first = {p.name: p.read_bytes() for p in again.path.iterdir()}
        kamcore.save(again)
        assert {p.name: p.read_bytes() for p in again.path.iterdir()} == first


@settings(max_examples=60, deadline=None)
@given(valid_orgs(), st.data())
def test_injected_cycle_is_found(org, data):
    ids = list(org.accounts)
    victim = data.draw(st.sampled_from(ids))
    below = org.subtree(victim)
    new_parent = data.draw(st.sampled_from(below))
    accounts = dict(org.accounts)
    accounts[victim] = accounts[victim].model_copy(update={"parent": new_parent})
    codes = {f.code for f in kamcore.validate(org.replace(accounts=accounts))}
    assert "KAM103" in codes


@settings(max_examples=60, deadline=None)
@given(valid_orgs(), st.data())
def test_injected_orphan_is_found(org, data):
    victim = data.draw(st.sampled_from(list(org.accounts)))
    accounts = dict(org.accounts)
    accounts[victim] = accounts[victim].model_copy(update={"parent": "MISSING-PARENT"})
    found = [(f.code, f.subject) for f in kamcore.validate(org.replace(accounts=accounts))]
    assert ("KAM102", victim) in found


cells = st.one_of(st.just(""), st.just(" "), text,
                  st.sampled_from(["DE", "de", "XX", "EUR", "usd", "EURO", "key", "Global",
                                   "gold", "gam", "AM", "12", "-3", "1.5", "true", "No", "maybe",
                                   "a@b.co", "not-an-email", " A1 ", "has,comma", "A B"]))


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({k: cells for k in ("id", "name", "tier", "parent", "manager",
                                                  "country", "industry", "currency")}))
def test_quick_account_agrees_with_pydantic(data):
    fast = quick_account(data, {}, {}, {})
    try:
        full = Account.model_validate({k: v for k, v in data.items()})
    except Exception:
        full = None
    if fast is not None:
        assert full == fast


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({k: cells for k in ("id", "name", "role", "reports_to",
                                                  "capacity", "email", "active", "specialty")}))
def test_quick_person_agrees_with_pydantic(data):
    fast = quick_person(data, {}, {}, {})
    try:
        full = Person.model_validate(dict(data))
    except Exception:
        full = None
    if fast is not None:
        assert full == fast
