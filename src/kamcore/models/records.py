"""The records of an org: accounts, people, findings, duties, metric definitions.

Records are plain frozen data. Where a record came from (file and line) is kept by the ``Org``,
not in the record, so that load -> save -> load compares equal.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kamcore.models.codes import country_codes, currency_codes
from kamcore.models.enums import Role, Severity, Tier

_ID = r"^[^\s,]([^,\n\r]*[^\s,])?$"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, data: Any) -> Any:
        """Empty cells mean "not given": one pass per record, cheaper than a validator per field."""
        if isinstance(data, dict):
            cleaned = {}
            for key, value in data.items():
                if isinstance(value, str):
                    value = value.strip()
                    if not value:
                        continue
                cleaned[key] = value
            return cleaned
        return data


class Account(_Record):
    """A customer with one accountable manager, somewhere in the account tree."""

    id: str = Field(pattern=_ID, description="Unique account id, e.g. ACME-DE.")
    name: str = Field(min_length=1)
    tier: Tier
    parent: str | None = Field(default=None, description="Parent account id; empty for a root.")
    manager: str | None = Field(default=None, description="Person id of the accountable manager.")
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 code, e.g. DE.")
    industry: str | None = None
    currency: str | None = Field(
        default=None, description="ISO 4217 code of the account's metrics.")
    metrics: dict[str, float] = Field(default_factory=dict)
    ext: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Plugin fields, by plugin namespace.")
    extra: dict[str, str] = Field(
        default_factory=dict, description="Unknown columns, kept as they were.")

    @field_validator("tier", mode="before")
    @classmethod
    def _tier(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.upper()
        if code not in country_codes():
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. DE, US)")
        return code

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.upper()
        if code not in currency_codes():
            raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. EUR, USD)")
        return code

    @field_validator("metrics")
    @classmethod
    def _finite(cls, value: dict[str, float]) -> dict[str, float]:
        for name, number in value.items():
            if not math.isfinite(number):
                raise ValueError(
                    f"metric {name!r} is {number}; use a finite number or leave it empty")
        return value


class _Someone(_Record):
    """A person, ours or the customer's: a role in any case, an email that is an address."""

    @field_validator("role", mode="before", check_fields=False)
    @classmethod
    def _role(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("email", check_fields=False)
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value


class Person(_Someone):
    """Someone in the management tree: a manager of accounts or a supporting team member."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    role: Role
    reports_to: str | None = None
    capacity: int | None = Field(
        default=None, ge=0, description="How many accounts they can carry.")
    email: str | None = None
    active: bool = True
    specialty: str | None = Field(
        default=None,
        description="For support staff: what they do (billing, customer-service, seo...).")
    ext: dict[str, dict[str, Any]] = Field(default_factory=dict)
    extra: dict[str, str] = Field(default_factory=dict)

    @field_validator("active", mode="before")
    @classmethod
    def _active(cls, value: Any) -> Any:
        if value is None:
            return True
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in {"true", "yes", "1", "y"}:
                return True
            if lowered in {"false", "no", "0", "n"}:
                return False
            raise ValueError(f"{value!r} is not true/false")
        return value


class Contact(_Someone):
    """One of the customer's people (contacts.csv): personal data, left out of exports unless
    asked for (``--with-personal-data``)."""

    id: str = Field(pattern=_ID, description="Unique contact id, e.g. C-ACME-1.")
    account: str = Field(description="The account (customer) the contact works for.")
    name: str = Field(min_length=1)
    title: str | None = Field(default=None, description="Job title at the customer.")
    role: str | None = Field(
        default=None, description="Role in the buying decision: decision-maker, influencer, "
        "champion, user, billing, procurement, or a plugin's own.")
    reports_to: str | None = Field(
        default=None, description="Contact id of their manager at the customer (same customer "
        "tree).")
    email: str | None = Field(default=None, description="Personal data.")
    phone: str | None = Field(default=None, description="Personal data.")
    primary: bool = Field(default=False, description="The customer's one point of contact.")
    owner: str | None = Field(
        default=None, description="Person id of ours who owns the relationship.")
    last_contact: date | None = Field(default=None, description="YYYY-MM-DD.")
    ext: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Plugin fields, by plugin namespace.")
    extra: dict[str, str] = Field(default_factory=dict)


class Territory(_Record):
    """A node of the territory tree (territories.csv): Americas > Northwest, with a manager."""

    id: str = Field(pattern=_ID, description="Unique territory id, e.g. AMER-NW.")
    name: str = Field(min_length=1)
    parent: str | None = Field(default=None, description="Parent territory id; empty: a root.")
    manager: str | None = Field(default=None, description="Person id of the territory's "
                                "manager.")
    extra: dict[str, str] = Field(default_factory=dict)


class Finding(BaseModel):
    """One result of a validation rule: stable code, severity, where, what, and how to fix it."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message: str
    hint: str | None = None
    subject: str | None = Field(
        default=None, description="Account or person id the finding is about.")
    file: str | None = None
    line: int | None = None
    column: str | None = None
    rule: str | None = Field(
        default=None, description="The rule's short name, e.g. unknown-parent.")
    plugin: str | None = Field(default=None, description="The plugin that owns the rule.")

    @property
    def where(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file


Aggregation = Literal["sum", "count", "min", "max", "mean", "wmean"]


#: How an account's facts over a period range combine into one value (``MetricDef.periods``).
PeriodCombine = Literal["sum", "last", "mean", "max", "min"]


class MetricDef(BaseModel):
    """How a metric rolls up. ``wmean`` needs ``weight``: another metric's name."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = ""
    unit: str = Field(
        default="", description="'money' converts with the FX table; else a plain unit.")
    aggregation: Aggregation = "sum"
    weight: str | None = None
    description: str = ""
    derive: str | None = Field(
        default=None, description="A formula over other metrics and plugins' number fields "
        "(names, <namespace>.<field>, numbers, + - * /): an account's own value is computed "
        "from its own values of those, e.g. 'mrr * 12' or 'mrr / telecom.lines'.")
    periods: PeriodCombine | None = Field(
        default=None, description="How an account's facts of several periods combine: sum, "
        "last (point-in-time: MRR, headcount, backlog), mean, max or min; by default as the "
        "aggregation says.")
    plugin: str = Field(default="core", description="The plugin (or 'workspace') that declared it.")

    @field_validator("derive")
    @classmethod
    def _formula(cls, value: str | None) -> str | None:
        if value is not None:
            from kamcore.models.formula import parse_formula

            parse_formula(value)
        return value

    @model_validator(mode="after")
    def _weight_for_wmean(self) -> MetricDef:
        if self.aggregation == "wmean" and not self.weight:
            raise ValueError(f"metric {self.name!r}: aggregation 'wmean' needs a weight metric")
        return self

    @property
    def is_money(self) -> bool:
        return self.unit == "money"
