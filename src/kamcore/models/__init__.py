"""The records of an org (pydantic) and the tiers and roles they use.

Names load on first use, so that importing an enum does not import pydantic.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_LAZY = {
    "ROLES_FOR_TIER": "kamcore.models.enums",
    "Role": "kamcore.models.enums",
    "Severity": "kamcore.models.enums",
    "Tier": "kamcore.models.enums",
    "Account": "kamcore.models.records",
    "Aggregation": "kamcore.models.records",
    "Finding": "kamcore.models.records",
    "MetricDef": "kamcore.models.records",
    "Person": "kamcore.models.records",
    "Contact": "kamcore.models.records",
    "Territory": "kamcore.models.records",
    "CONTACT_ROLES": "kamcore.models.enums",
    "Duty": "kamcore.declarations",
}

__all__ = [
    "CONTACT_ROLES",
    "ROLES_FOR_TIER",
    "Account",
    "Aggregation",
    "Contact",
    "Duty",
    "Finding",
    "MetricDef",
    "Person",
    "Role",
    "Severity",
    "Territory",
    "Tier",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kamcore.models' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from kamcore.declarations import Duty
    from kamcore.models.enums import CONTACT_ROLES, ROLES_FOR_TIER, Role, Severity, Tier
    from kamcore.models.records import (
        Account,
        Aggregation,
        Contact,
        Finding,
        MetricDef,
        Person,
        Territory,
    )
