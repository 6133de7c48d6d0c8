"""ISO 3166 country and ISO 4217 currency codes, taken from pycountry (not a hand-typed subset)."""

from __future__ import annotations

from functools import cache


def _database_codes(standard: str, key: str) -> frozenset[str]:
    """One column of a pycountry database, read as plain JSON.

    Every command checks codes, and pycountry's objects (an indexed record per entry) cost a
    small command a tenth of its time; the codes alone come straight from the same file.
    """
    import json
    import os

    import pycountry

    path = os.path.join(pycountry.DATABASE_DIR, f"iso{standard}.json")
    try:
        with open(path, encoding="utf-8") as file:
            entries = json.load(file)[standard]
        return frozenset(entry[key] for entry in entries)
    except (OSError, ValueError, KeyError, TypeError):  # a pycountry that stores them elsewhere
        database = pycountry.countries if standard == "3166-1" else pycountry.currencies
        return frozenset(getattr(entry, key) for entry in database)


@cache
def country_codes() -> frozenset[str]:
    """All ISO 3166-1 alpha-2 codes."""
    return _database_codes("3166-1", "alpha_2")


@cache
def currency_codes() -> frozenset[str]:
    """All ISO 4217 alphabetic codes."""
    return _database_codes("4217", "alpha_3")


@cache
def country_name(code: str) -> str:
    """The English short name of an alpha-2 code, or the code itself when unknown."""
    import pycountry

    found = pycountry.countries.get(alpha_2=code)
    return found.name if found else code
