"""The IT/software plugin's fields: ``it_software.<field>`` columns of accounts.csv.

Imported inside the ``kam_register_fields`` hook, so that loading the plugin stays cheap.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from kamcore import SemicolonList

Contract = Literal["subscription", "license", "support", "time-and-materials", "fixed-price"]
#: Contracts that bring recurring revenue (ARR).
RECURRING: frozenset[str] = frozenset({"subscription", "support"})


def _lower(value: object) -> object:
    if isinstance(value, str):
        return value.strip().lower().replace(" ", "-").replace("_", "-")
    return value


class ITSoftwareAccount(BaseModel):
    """A client of software or IT services: contract, service level, products, team."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    contract: Annotated[Contract | None, BeforeValidator(_lower)] = Field(
        None, description="subscription, license, support, time-and-materials or fixed-price.")
    sla: Annotated[Literal["basic", "standard", "premium", "enterprise"] | None,
                   BeforeValidator(_lower)] = Field(None, description="Service level agreed.")
    products: SemicolonList = Field(default_factory=list,
                                    description="Products or services used: 'ERP;Payroll'.")
    dev_team: str | None = Field(None, description="The development team building for them.")
    renewal_date: dt.date | None = Field(
        None, description="Next renewal of a subscription, YYYY-MM-DD (rule ITS101).")
