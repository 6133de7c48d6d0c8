"""A small valid org for the core tests, and a way to break one thing at a time."""

from __future__ import annotations

from typing import Any

from kamcore import Account, Org, Person
from kamcore.plugins import get_plugin_manager
from kamcore.registry import registry_for
from kamcore.settings import Settings

PEOPLE: list[dict[str, Any]] = [
    dict(id="VP", name="Vera", role="vp"),
    dict(id="GAM", name="Gina", role="gam", reports_to="VP", capacity=3),
    dict(id="NAM-DE", name="Nils", role="nam", reports_to="GAM", capacity=3),
    dict(id="NAM-FR", name="Nora", role="nam", reports_to="GAM", capacity=3),
    dict(id="KAM", name="Kai", role="kam", reports_to="NAM-DE", capacity=3),
    dict(id="AM", name="Ann", role="am", reports_to="KAM", capacity=5),
    dict(id="SUP", name="Sam", role="support", reports_to="KAM", specialty="billing"),
]
ACCOUNTS: list[dict[str, Any]] = [
    dict(id="G", name="Globex", tier="global", manager="GAM", country="DE", currency="EUR"),
    dict(id="G-DE", name="Globex DE", tier="national", parent="G", manager="NAM-DE",
         country="DE", currency="EUR", metrics={"revenue": 100.0}),
    dict(id="G-FR", name="Globex FR", tier="national", parent="G", manager="NAM-FR",
         country="FR", currency="EUR", metrics={"revenue": 50.0}),
    dict(id="G-DE-BER", name="Globex Berlin", tier="key", parent="G-DE", manager="KAM",
         country="DE", currency="EUR", metrics={"revenue": 30.0, "orders": 3}),
    dict(id="G-DE-BER-1", name="Globex Berlin Depot", tier="regular", parent="G-DE-BER",
         manager="AM", country="DE", metrics={"revenue": 10.0}),
    dict(id="G-DE-BER-1a", name="Globex Berlin Depot Annex", tier="regular",
         parent="G-DE-BER-1", manager="AM", country="DE"),
]


def registry():
    return registry_for(get_plugin_manager(load_entrypoints=False))


def make_org(accounts: list[dict[str, Any]] | None = None,
             people: list[dict[str, Any]] | None = None, *,
             change: dict[str, dict[str, Any]] | None = None,
             add_accounts: list[dict[str, Any]] = (),  # type: ignore[assignment]
             add_people: list[dict[str, Any]] = ()) -> Org:  # type: ignore[assignment]
    """The base org, with ``change`` = {record id: {field: value}} applied."""
    change = change or {}
    accounts = [dict(a, **change.get(a["id"], {})) for a in (accounts or ACCOUNTS)]
    people = [dict(p, **change.get(p["id"], {})) for p in (people or PEOPLE)]
    return Org.build([Account(**a) for a in [*accounts, *add_accounts]],
                     [Person(**p) for p in [*people, *add_people]],
                     settings=Settings(currency="EUR"), registry=registry())
