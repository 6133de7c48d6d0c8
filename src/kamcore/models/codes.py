"""ISO 3166 country and ISO 4217 currency codes, taken from pycountry (not a hand-typed subset)."""

from __future__ import annotations

from functools import cache


@cache
def country_codes() -> frozenset[str]:
    """All ISO 3166-1 alpha-2 codes."""
    import pycountry

    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def currency_codes() -> frozenset[str]:
    """All ISO 4217 alphabetic codes."""
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.currencies)


def country_name(code: str) -> str:
    """The English short name of an alpha-2 code, or the code itself when unknown."""
    import pycountry

    found = pycountry.countries.get(alpha_2=code)
    return found.name if found else code
