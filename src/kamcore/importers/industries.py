"""Industry cells spelled several ways ("Health Care", "HOSPITAL_HEALTH_CARE") -> one name.

The canonical name is, in order: the industry an installed plugin registered (its aliases
included), a built-in synonym for the industries kamcore's plugins cover, or the value itself in
lower case with words joined by hyphens ("Food & Beverage" -> "food-and-beverage"), so spellings
that differ only in case and punctuation fall together.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kamcore.registry import Registry

#: Spellings of the industries kamcore's plugins cover, as Salesforce, HubSpot, LinkedIn and
#: Dynamics export them (keys are slugs, see :func:`slug`).
SYNONYMS: dict[str, str] = {
    "health-care": "healthcare",
    "hospital-and-health-care": "healthcare",
    "hospital-health-care": "healthcare",
    "health-wellness-and-fitness": "healthcare",
    "medical-practice": "healthcare",
    "medical": "healthcare",
    "advertising-and-marketing": "advertising",
    "marketing-and-advertising": "advertising",
    "advertising-services": "advertising",
    "advertising-agency": "advertising",
    "ad-agency": "advertising",
    "retail-trade": "retail",
    "retailer": "retail",
    "retailing": "retail",
    "consumer-goods-retail": "retail",
    "manufacturer": "manufacturing",
    "industrial-manufacturing": "manufacturing",
    "machinery": "manufacturing",
    "government-administration": "government",
    "public-sector": "government",
    "government-agency": "government",
    "public-administration": "government",
    "information-technology-and-services": "it",
    "information-technology": "it",
    "information-technology-services": "it",
    "computer-software": "it",
    "software": "it",
    "technology": "it",
    "it-services": "it",
    "it-services-and-it-consulting": "it",
}


def slug(value: str) -> str:
    """``"Food & Beverage"`` -> ``"food-and-beverage"``; ``"FOOD_AND_BEVERAGE"`` likewise."""
    text = value.strip().lower().replace("&", " and ").replace("+", " and ")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def industry_normalizer(registry: Registry | None = None) -> Callable[[str], str | None]:
    """A cached function cell -> canonical industry (``None`` for an empty cell).

    >>> norm = industry_normalizer()
    >>> norm("Health Care"), norm("HOSPITAL_HEALTH_CARE"), norm("Food & Beverage")
    ('healthcare', 'healthcare', 'food-and-beverage')

    :param registry: the plugins' registry, whose industries and aliases win.
    """
    cache: dict[str, str | None] = {}

    def normalize(value: str) -> str | None:
        found = cache.get(value)
        if found is not None or value in cache:
            return found
        result: str | None
        if not value.strip():
            result = None
        else:
            result = registry.industry_of(value) if registry is not None else None
            if result is None:
                key = slug(value)
                result = SYNONYMS.get(key, key) or None
                if registry is not None and result is not None:
                    result = registry.industry_of(result) or result
        cache[value] = result
        return result

    return normalize
