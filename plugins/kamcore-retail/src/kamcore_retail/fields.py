"""The retail plugin's fields: ``retail.<field>`` columns of accounts.csv.

Imported inside the ``kam_register_fields`` hook, so that loading the plugin stays cheap.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from kamcore import SemicolonList

Channel = Literal["online", "stores", "marketplace", "wholesale"]


def _channels(value: object) -> object:
    if isinstance(value, str):
        value = [part for part in value.split(";") if part.strip()]
    if isinstance(value, list):
        return [str(part).strip().lower() for part in value]
    return value


class RetailAccount(BaseModel):
    """A retailer (or retail chain) that sells the firm's products."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    gln: str | None = Field(
        None, pattern=r"^\d{13}$",
        description="GS1 Global Location Number of the retailer's head office: 13 digits, the "
        "last one a check digit (rule RTL101).")
    channels: Annotated[list[Channel], BeforeValidator(_channels)] = Field(
        default_factory=list, description="Where the retailer sells: online;stores;marketplace;"
        "wholesale.")
    categories: SemicolonList = Field(
        default_factory=list, description="Product categories the retailer carries.")
