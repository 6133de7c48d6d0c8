"""The government plugin's fields: ``government.<field>`` columns of accounts.csv.

Imported inside the ``kam_register_fields`` hook, so that loading the plugin stays cheap.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from kamcore import SemicolonList

Procurement = Literal["open-tender", "restricted", "negotiated", "framework", "direct-award"]
#: Procedures that always produce a published contract or framework reference.
REFERENCED: frozenset[str] = frozenset({"open-tender", "restricted", "framework"})


def _lower(value: object) -> object:
    if isinstance(value, str):
        return value.strip().lower().replace(" ", "-").replace("_", "-")
    return value


class GovernmentAccount(BaseModel):
    """A public body: its level, how it buys, its budget, and the contractors on the work."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    level: Annotated[
        Literal["supranational", "national", "federal", "state", "regional", "municipal"]
        | None, BeforeValidator(_lower)] = Field(None, description="Level of government.")
    procurement: Annotated[Procurement | None, BeforeValidator(_lower)] = Field(
        None, description="Procurement procedure of the current contract.")
    contract_ref: str | None = Field(None, description="Tender or contract reference.")
    budget_ceiling: float | None = Field(
        None, ge=0, description="Budget approved for the contract, account currency (GOV101).")
    fiscal_year_end: str | None = Field(
        None, description="Last day of the body's fiscal year, MM-DD (e.g. 09-30).")
    contractors: SemicolonList = Field(default_factory=list,
                                       description="Contractors delivering the work.")
    standards: SemicolonList = Field(
        default_factory=list, description="Standards and regulations the work must meet.")

    @field_validator("fiscal_year_end")
    @classmethod
    def _month_day(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            dt.date.fromisoformat(f"2024-{value}")  # a leap year, so 02-29 is accepted
        except ValueError:
            raise ValueError(f"{value!r} is not a month-day like 12-31") from None
        return value
