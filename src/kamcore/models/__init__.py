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
    "Duty": "kamcore.declarations",
}

__all__ = [
    "ROLES_FOR_TIER",
    "Account",
    "Aggregation",
    "Duty",
    "Finding",
    "MetricDef",
    "Person",
    "Role",
    "Severity",
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
    from kamcore.models.enums import ROLES_FOR_TIER, Role, Severity, Tier
    from kamcore.models.records import Account, Aggregation, Finding, MetricDef, Person
