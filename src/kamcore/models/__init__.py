"""Pydantic records of an org."""

from kamcore.models.enums import ROLES_FOR_TIER, Role, Severity, Tier
from kamcore.models.records import Account, Aggregation, Duty, Finding, MetricDef, Person

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
